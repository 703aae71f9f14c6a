"""Loading the bundled demo into a database: transcripts (through the import pipeline, as any
file), their import batch and the synthetic reviewers' labels, in one transaction. Loading
twice does nothing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import DatabaseError, ImportFailed, UsageError
from core.ingest.pipeline import ImportResult, import_rows
from core.ingest.readers import read_rows
from core.store.annotations import NewAnnotation, add_annotations
from core.store.categories import register_taxonomy
from core.store.connection import Database
from core.store.demo_rows import DEMO_ACTOR, DEMO_SOURCE, demo_counts
from core.store.transcripts import count_transcripts, has_source
from core.taxonomy import Taxonomy

DEMO_DIR = Path(__file__).resolve().parent
TRANSCRIPTS_PATH = DEMO_DIR / "transcripts.jsonl"
ANNOTATIONS_PATH = DEMO_DIR / "annotations.jsonl"
BATCH_FILE_NAME = "demo/transcripts.jsonl"


@dataclass(frozen=True)
class DemoSummary:
    """What load_demo did."""

    loaded: bool
    transcripts: int = 0
    labels: int = 0
    adjudications: int = 0
    batch_id: str | None = None
    prelabels: int = 0

    def message(self) -> str:
        """One line for the CLI."""
        if not self.loaded:
            return "The demo is already loaded; nothing to do."
        return (f"Loaded the demo: {self.transcripts} transcripts of the Ledgerly support copilot, "
                f"{self.labels} labels by two synthetic reviewers and {self.adjudications} "
                f"adjudications (marked origin='demo'), and offline pre-labels for "
                f"{self.prelabels} transcripts.")


def demo_present(db: Database) -> bool:
    """Whether the demo's transcripts are in the database."""
    return has_source(db, DEMO_SOURCE)


def is_empty(db: Database) -> bool:
    """True when the database holds no transcripts at all (archived ones count)."""
    return count_transcripts(db, include_archived=True) == 0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The rows of a bundled JSONL file."""
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    except (OSError, ValueError) as e:
        raise DatabaseError(f"the bundled demo file {path} is unreadable ({e}); reinstall Triage") from e


def demo_annotation(row: dict[str, Any], taxonomy: Taxonomy) -> NewAnnotation:
    """One row of annotations.jsonl as an annotation of the given taxonomy version."""
    fields = {k: v for k, v in row.items() if k not in ("secondary_labels", "created_at")}
    return NewAnnotation(**fields, secondary_labels=tuple(row.get("secondary_labels") or ()),
                         created_at=datetime.fromisoformat(row["created_at"]), origin="demo",
                         taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version)


def _import_transcripts(db: Database, batch_id: str) -> ImportResult:
    """The bundled transcripts through the import pipeline, as the batch `batch_id`. Every
    one must go in under its own id (the labels name them): ImportFailed, rolling the demo
    back, when the database already holds one of them."""
    try:
        result = import_rows(db, read_rows(TRANSCRIPTS_PATH, "jsonl"), file_name=BATCH_FILE_NAME,
                             fmt="jsonl", source=DEMO_SOURCE, batch_id=batch_id,
                             imported_by=DEMO_ACTOR, bundled_demo=True)
    except OSError as e:
        raise DatabaseError(f"the bundled demo file {TRANSCRIPTS_PATH} is unreadable ({e}); "
                            "reinstall Triage") from e
    if result.rows_rejected:
        raise DatabaseError(f"the bundled demo file {TRANSCRIPTS_PATH} has invalid rows "
                            f"({result.errors[0]}); reinstall Triage")
    if result.rows_duplicate or result.ids_qualified:
        raise ImportFailed(
            f"{db.path} already holds {result.rows_duplicate + result.ids_qualified} of the "
            "demo's transcripts (same id or same content, from another source); load the demo "
            "into a new database (triage --db demo.duckdb demo)")
    return result


def load_demo(db: Database, taxonomy: Taxonomy) -> DemoSummary:
    """Insert the demo's transcripts, batch row and labels in one transaction, unless the demo
    is already there. Labels carry the given taxonomy's name and version (its content hash at
    load time); UnknownLabel if the taxonomy lacks one of the demo's keys; UsageError when the
    database holds other transcripts (the demo lives apart)."""
    counts = demo_counts(db)
    if counts.demo:
        return DemoSummary(loaded=False)
    if counts.other:
        raise UsageError(
            f"{db.path} already holds {counts.other} other transcripts: the demo's synthetic "
            "labels would mix with them. The demo lives in a database of its own: `triage demo` "
            "(without --db) loads it into triage-demo.duckdb.")
    labels = [demo_annotation(r, taxonomy) for r in read_jsonl(ANNOTATIONS_PATH)]
    digest = hashlib.sha256(TRANSCRIPTS_PATH.read_bytes()).hexdigest()[:12]
    register_taxonomy(db, taxonomy)
    with db.transaction():
        imported = _import_transcripts(db, f"demo-{digest}")
        add_annotations(db, labels, taxonomy.keys)
    # Suggestions too, so the Annotate page, the evaluation and the report show them at once.
    # Imported here: the pre-labeler pulls scikit-learn and openai, which the app's pages that
    # only import this module (through core.demo.apart) must not pay for at start.
    from core.prelabel.run import prelabel_offline_all

    suggested = prelabel_offline_all(db, taxonomy)
    n_adjudications = sum(a.kind == "adjudication" for a in labels)
    return DemoSummary(True, imported.rows_imported, len(labels) - n_adjudications,
                       n_adjudications, imported.batch_id, suggested.done)
