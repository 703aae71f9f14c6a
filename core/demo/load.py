"""Loading the bundled demo into a database: transcripts, their import batch and the
synthetic reviewers' labels, in one transaction. Loading twice does nothing."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.errors import DatabaseError
from core.prelabel.run import prelabel_offline_all
from core.store.annotations import NewAnnotation, annotation_params, check_annotation
from core.store.categories import register_taxonomy
from core.store.connection import Database, utcnow
from core.store.demo import DEMO_SOURCE, demo_present, insert_annotation_rows, insert_demo_batch
from core.store.transcripts import count_transcripts, insert_transcript_rows, transcript_row
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
    a = NewAnnotation(**fields, secondary_labels=tuple(row.get("secondary_labels") or ()),
                      created_at=datetime.fromisoformat(row["created_at"]), origin="demo",
                      taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version)
    check_annotation(a, taxonomy.keys)
    return a


def load_demo(db: Database, taxonomy: Taxonomy) -> DemoSummary:
    """Insert the demo's transcripts, batch row and labels in one transaction, unless the demo
    is already there. Labels carry the given taxonomy's name and version (its content hash at
    load time); UnknownLabel if the taxonomy lacks one of the demo's keys."""
    if demo_present(db):
        return DemoSummary(loaded=False)
    records = read_jsonl(TRANSCRIPTS_PATH)
    annotations = [demo_annotation(r, taxonomy) for r in read_jsonl(ANNOTATIONS_PATH)]
    digest = hashlib.sha256(TRANSCRIPTS_PATH.read_bytes()).hexdigest()[:12]
    batch_id, now = f"demo-{digest}", utcnow()
    register_taxonomy(db, taxonomy)
    rows = [transcript_row(r, DEMO_SOURCE, batch_id, now) for r in records]
    with db.transaction() as con:
        insert_demo_batch(con, batch_id, BATCH_FILE_NAME, len(rows), now)
        insert_transcript_rows(con, rows)
        insert_annotation_rows(con, [annotation_params(a) for a in annotations])
    # Suggestions too, so the Annotate page, the evaluation and the report show them at once.
    suggested = prelabel_offline_all(db, taxonomy)
    n_adjudications = sum(a.kind == "adjudication" for a in annotations)
    return DemoSummary(True, len(rows), len(annotations) - n_adjudications, n_adjudications,
                       batch_id, suggested.done)
