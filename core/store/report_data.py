"""What the report reads: final labels of the transcripts in scope (active ones; the bundled
demo's left out of a database that also holds the team's: core/store/demo_rows.py), the current
labels behind them (agreement, context present, ideal responses, queues), samples, metadata
slices and example transcripts. Only human annotations (labels and adjudications) are read here;
machine pre-labels live in `prelabels` and enter only as an example's evidence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from core.store.connection import Database
from core.store.demo_rows import IN_SCOPE, left_out_counts
from core.store.transcripts import Transcript, field_sql, get_transcripts
from core.store.visibility import Viewer, hiding, row_filter

# The report's inputs are materialised once per build in connection-local temp tables (the
# final_labels view is costly to evaluate repeatedly). report_current: current labels of the
# transcripts in scope. report_active_final: the final labels of the active transcripts, read from
# the view once (the population census counts over it too, core/store/population.py).
# report_included: those in scope the report covers; `random_only` keeps those whose every
# current label was served by the random queue (the unbiased sample); a NULL queue (e.g. an
# imported label) does not count as random. Counts are grouped in SQL, ordered by their first
# row (rowid: the order the view gave the rows), so ties between equal counts keep the order
# counting row by row gave them.
ACTIVE_FINAL = "report_active_final"
_PREPARE = (
    """CREATE OR REPLACE TEMP TABLE report_active_final AS
    SELECT f.* FROM final_labels f JOIN transcripts t USING (transcript_id) WHERE NOT t.archived""",
    """CREATE OR REPLACE TEMP TABLE report_current AS
    SELECT c.transcript_id, c.annotation_id, c.annotator, c.kind, c.primary_label,
           c.context_present, c.ideal_response, c.queue, c.sample_id, c.created_at,
           c.failure_turn, c.note, c.taxonomy_name, c.taxonomy_version
    FROM current_labels c JOIN transcripts t USING (transcript_id) WHERE """ + IN_SCOPE,
    """CREATE OR REPLACE TEMP TABLE report_included AS
    SELECT f.* FROM report_active_final f JOIN transcripts t USING (transcript_id) WHERE """ + IN_SCOPE + """
    AND (NOT {random_only} OR f.transcript_id NOT IN (
        SELECT transcript_id FROM report_current
        WHERE kind = 'label' AND queue IS DISTINCT FROM 'random'))""",
)

# Included final labels counted by what the report tells apart: label, fix class, status, and
# the context_present and ideal responses "of the final label": among the transcript's current
# labels that chose the final primary label, an answer (yes / no) before none (unset or
# unknown), then the adjudication if there is one, else the latest.
_LABEL_COUNTS = """
WITH per AS (
    SELECT c.transcript_id,
           arg_max_null(c.context_present, struct_pack(
               answered := coalesce(c.context_present IN ('yes', 'no'), false),
               adj := c.kind = 'adjudication', at := c.created_at, id := c.annotation_id))
               AS context_present,
           bool_or(coalesce(trim(c.ideal_response), '') <> '') AS has_ideal
    FROM report_current c JOIN report_included i
      ON i.transcript_id = c.transcript_id AND c.primary_label = i.primary_label
    GROUP BY 1
)
SELECT i.primary_label, i.fix_class, i.status, per.context_present,
       coalesce(per.has_ideal, false), count(*)
FROM report_included i LEFT JOIN per USING (transcript_id)
GROUP BY ALL ORDER BY min(i.rowid)
"""


class LabelCount(NamedTuple):
    """How many included transcripts share one final label, fix class, status, context answer
    and ideal-response presence. primary_label is None when open."""

    primary_label: str | None
    fix_class: str | None
    status: str
    context_present: str | None
    has_ideal_response: bool
    n: int


class FinalLabel(NamedTuple):
    """One transcript's final label and its status."""

    transcript_id: str
    primary_label: str | None
    status: str


class SliceCount(NamedTuple):
    """How many included transcripts with one value of a slicing field (None: absent) share one
    final label and fix class."""

    value: str | None
    primary_label: str | None
    fix_class: str | None
    n: int


@dataclass(frozen=True)
class Example:
    """A transcript shown as an example of its category, with what the reviewers (or the
    pre-labeler) said about where it fails. Raw text: renderers escape it."""

    transcript: Transcript
    category: str
    failure_turn: int | None  # index in messages, from a reviewer who chose the final label
    note: str | None  # that reviewer's note
    evidence: str | None  # the quote of a pre-label that agrees with the final label


@dataclass(frozen=True)
class ReportData:
    """Everything the pure report builder needs, read in one go."""

    n_transcripts: int
    counts: tuple[LabelCount, ...]  # the included final labels, counted
    rows: tuple[FinalLabel, ...]  # the final labels of the transcripts whose reviewers split
    label_triples: tuple[tuple[str, str, str], ...]  # (transcript, annotator, label)
    queues: dict[str, int]  # queue ('' when not recorded) -> labels, over all active labels
    n_excluded_random_only: int
    samples: tuple[dict[str, Any], ...]
    reviewers: dict[str, int]
    taxonomy_versions: tuple[tuple[str, str, int], ...]
    first_label_at: datetime | None
    last_label_at: datetime | None
    n_demo_left_out: int = 0  # the bundled demo's transcripts, in a database also holding yours
    n_archived_left_out: int = 0


def prepare_report_tables(db: Database, random_only: bool = False) -> None:
    """Materialise this connection's report tables; slice_values and example_transcripts read
    them (read_report_data calls this first)."""
    for statement in _PREPARE:
        db.con.execute(statement.format(random_only="true" if random_only else "false"))


_DOUBLE = ("SELECT c.transcript_id, c.annotator, c.primary_label FROM report_current c "
           "JOIN report_included i USING (transcript_id) WHERE c.kind = 'label' "
           "AND i.n_annotators >= 2")


def read_report_data(db: Database, random_only: bool = False) -> ReportData:
    """Read the report's inputs; `random_only` restricts to random-queue transcripts."""
    prepare_report_tables(db, random_only)
    con = db.con
    triples = tuple(con.execute(_DOUBLE).fetchall())
    split = con.execute(
        "SELECT i.transcript_id, i.primary_label, i.status FROM report_included i WHERE "
        f"transcript_id IN (SELECT transcript_id FROM ({_DOUBLE}) GROUP BY 1 "
        "HAVING count(DISTINCT primary_label) > 1)").fetchall()
    first, last = con.execute(
        "SELECT min(created_at), max(created_at) FROM report_current "
        "WHERE transcript_id IN (SELECT transcript_id FROM report_included)").fetchone()
    demo_out, archived_out = left_out_counts(db)
    return ReportData(
        n_transcripts=con.execute(f"SELECT count(*) FROM transcripts t WHERE {IN_SCOPE}").fetchone()[0],
        counts=tuple(map(LabelCount._make, con.execute(_LABEL_COUNTS).fetchall())),
        rows=tuple(map(FinalLabel._make, split)), label_triples=triples, queues=_queue_counts(db),
        n_excluded_random_only=_excluded_count(db) if random_only else 0,
        samples=_samples(db), reviewers=dict(con.execute(
            "SELECT annotator, count(*) FROM report_current WHERE transcript_id IN "
            "(SELECT transcript_id FROM report_included) GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()),
        taxonomy_versions=tuple(con.execute(
            "SELECT taxonomy_name, taxonomy_version, count(*) FROM report_included "
            "GROUP BY 1, 2 ORDER BY 3 DESC, 2").fetchall()),
        first_label_at=first, last_label_at=last, n_demo_left_out=demo_out,
        n_archived_left_out=archived_out)


def _queue_counts(db: Database) -> dict[str, int]:
    return dict(db.con.execute(
        "SELECT coalesce(queue, ''), count(*) FROM report_current WHERE kind = 'label' "
        "GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())


def _excluded_count(db: Database) -> int:
    return db.con.execute(
        "SELECT count(*) - (SELECT count(*) FROM report_included) FROM report_active_final f "
        f"JOIN transcripts t USING (transcript_id) WHERE {IN_SCOPE}").fetchone()[0]


def _samples(db: Database) -> tuple[dict[str, Any], ...]:
    """The samples the included labels were drawn from, with how many labels each gave."""
    rows = db.con.execute(
        "SELECT s.sample_id, s.method, s.seed, s.n, s.filter, s.stratify_by, s.created_at, "
        "count(c.annotation_id) FROM samples s JOIN report_current c ON c.sample_id = s.sample_id "
        "WHERE c.transcript_id IN (SELECT transcript_id FROM report_included) "
        "GROUP BY ALL ORDER BY s.created_at, s.sample_id").fetchall()
    keys = ("sample_id", "method", "seed", "n", "filter", "stratify_by", "created_at", "n_labels")
    out = []
    for r in rows:
        item = dict(zip(keys, r, strict=True))
        item["filter"] = json.loads(item["filter"]) if item["filter"] else None
        item["created_at"] = item["created_at"].isoformat() if item["created_at"] else None
        out.append(item)
    return tuple(out)


def inputs_version(db: Database) -> tuple:
    """A cheap fingerprint of what the report reads (rows appended to its tables, the newest
    setting): with Database.generation it tells a cached report is still current, even when
    another connection of this process wrote."""
    return db.con.execute(
        "SELECT (SELECT count(*) FROM transcripts), (SELECT count(*) FROM transcripts WHERE archived), "
        "(SELECT count(*) FROM annotations), (SELECT count(*) FROM prelabels), "
        "(SELECT count(*) FROM samples), (SELECT count(*) FROM categories), "
        "(SELECT count(*) FROM settings), (SELECT max(set_at) FROM settings)").fetchone()


def metadata_fields(db: Database) -> list[str]:
    """Top-level metadata keys of the transcripts in scope, for slicing."""
    return [r[0] for r in db.con.execute(
        "SELECT DISTINCT unnest(json_keys(t.metadata)) AS k FROM transcripts t "
        f"WHERE {IN_SCOPE} AND json_type(t.metadata) = 'OBJECT' ORDER BY k").fetchall()]


def slice_values(db: Database, field: str) -> tuple[SliceCount, ...]:
    """The included transcripts counted by the field's text (`source`, else metadata[field];
    None when absent), final label and fix class, in the order of each group's first row
    (after prepare_report_tables / read_report_data on this thread)."""
    return tuple(map(SliceCount._make, db.con.execute(
        f"SELECT {field_sql(field, 't')}, i.primary_label, i.fix_class, count(*) "
        "FROM report_included i JOIN transcripts t USING (transcript_id) "
        "GROUP BY ALL ORDER BY min(i.rowid)").fetchall()))


# Per included transcript of the asked categories: the failure turn and note of the reviewers
# who chose the final label (one that has them first, then an adjudication, then the latest),
# and the evidence of the newest pre-label that agrees with it. Informative examples first:
# with a failure turn, with a note, with evidence; then by id (reproducible).
_EXAMPLES = """
WITH agreeing AS (
    SELECT c.transcript_id, i.primary_label,
           arg_max_null(c.failure_turn, struct_pack(has := c.failure_turn IS NOT NULL,
               adj := c.kind = 'adjudication', at := c.created_at)) AS failure_turn,
           arg_max_null(c.note, struct_pack(has := coalesce(trim(c.note), '') <> '',
               adj := c.kind = 'adjudication', at := c.created_at)) AS note
    FROM report_current c JOIN report_included i
      ON i.transcript_id = c.transcript_id AND c.primary_label = i.primary_label
    WHERE i.primary_label IN (SELECT unnest($categories)) {visible_labels}
    GROUP BY 1, 2
),
evidence AS (
    SELECT p.transcript_id, arg_max(p.evidence, p.created_at) AS evidence
    FROM prelabels p JOIN agreeing a
      ON a.transcript_id = p.transcript_id AND a.primary_label = p.primary_label
    WHERE p.status = 'ok' AND coalesce(trim(p.evidence), '') <> '' AND p.evidence_verified IS NOT FALSE
      {visible_prelabels}
    GROUP BY 1
)
SELECT a.transcript_id, a.primary_label, a.failure_turn, a.note, e.evidence
FROM agreeing a LEFT JOIN evidence e USING (transcript_id)
QUALIFY row_number() OVER (PARTITION BY a.primary_label ORDER BY a.failure_turn IS NULL,
    coalesce(trim(a.note), '') = '', e.evidence IS NULL, a.transcript_id) <= $per_category
"""


def example_transcripts(db: Database, categories: list[str], per_category: int = 3,
                        viewer: Viewer | None = None) -> list[Example]:
    """A few included transcripts per category, the most informative first (a reviewer's
    failure turn, note, an agreeing pre-label's evidence), in the order of `categories`
    (after prepare_report_tables / read_report_data on this thread). With `viewer`: none whose
    label the visibility rule hides from them, and no evidence from a pre-label it hides."""
    if not categories:
        return []
    args = {"categories": categories, "per_category": per_category}
    if viewer is None:
        sql = _EXAMPLES.format(visible_labels="", visible_prelabels="")
    else:
        sql, rule = hiding(viewer, _EXAMPLES.format(
            visible_labels="AND " + row_filter("final_labels", column="c.transcript_id"),
            visible_prelabels="AND " + row_filter("prelabels", column="p.transcript_id")))
        args |= rule
    picked = db.con.execute(sql, args).fetchall()
    by_id = {t.transcript_id: t for t in get_transcripts(db, [r[0] for r in picked])}
    order = {c: i for i, c in enumerate(categories)}
    return sorted((Example(by_id[tid], cat, turn, note, evidence)
                   for tid, cat, turn, note, evidence in picked if tid in by_id),
                  key=lambda e: (order[e.category], e.failure_turn is None, not e.note,
                                 e.evidence is None, e.transcript.transcript_id))
