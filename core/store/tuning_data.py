"""What the report's "before you tune" section reads: the transcripts' own timestamps and model
names (the team's volume and API model), a sample of transcripts to measure tokens on, when each
included transcript was labeled, and the taxonomy versions (with their definitions) used in the
labeling window. The label reads use the report's temp tables: call them after
report_data.read_report_data on the same thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import numpy as np

from core.store.connection import Database
from core.store.transcripts import field_sql

# Metadata keys that commonly hold when a conversation happened, and which model served it.
TIME_FIELDS = ("created_at", "timestamp", "started_at", "start_time", "time", "date", "ts")
MODEL_FIELDS = ("model", "agent_model", "llm_model", "model_name")


@dataclass(frozen=True)
class Timestamps:
    """How many active transcripts carry a readable time in one metadata field, and its span."""

    field: str
    n_with: int
    n_active: int
    first: datetime | None
    last: datetime | None


class LabelTimes(NamedTuple):
    """The included transcripts of one final label and recorded fix class: when each was first
    labeled and when it happened (epoch seconds, UTC; 0 when the transcript carries no time)."""

    primary_label: str
    fix_class: str | None
    labeled_at: np.ndarray
    happened_at: np.ndarray


@dataclass(frozen=True)
class VersionWindow:
    """A taxonomy version used by the included labels, and when it was first and last used."""

    taxonomy_name: str
    taxonomy_version: str
    first: datetime
    last: datetime
    n_labels: int


def _time_sql(field: str) -> str:
    """A metadata field as a timestamp: ISO text (an offset is ignored, hours do not matter
    over a month), or epoch seconds / milliseconds as a number."""
    text = field_sql(field, "t")
    return (f"coalesce(try_cast({text} AS TIMESTAMP), CASE WHEN try_cast({text} AS DOUBLE) > 1e11 "
            f"THEN to_timestamp(try_cast({text} AS DOUBLE) / 1000)::TIMESTAMP "
            f"WHEN try_cast({text} AS DOUBLE) > 1e8 THEN to_timestamp(try_cast({text} AS DOUBLE))"
            "::TIMESTAMP END)")


def transcript_timestamps(db: Database, fields: tuple[str, ...] = TIME_FIELDS) -> Timestamps | None:
    """The timestamp field most active transcripts carry (None when none carries any)."""
    parts = ", ".join(f"count({_time_sql(f)}), min({_time_sql(f)}), max({_time_sql(f)})"
                      for f in fields)
    row = db.con.execute(f"SELECT count(*), {parts} FROM transcripts t WHERE NOT t.archived"
                         ).fetchone()  # one scan for every field
    best = None
    for i, field in enumerate(fields):
        n_with, first, last = row[1 + 3 * i: 4 + 3 * i]
        if n_with and (best is None or n_with > best.n_with):
            best = Timestamps(field, n_with, row[0], first, last)
    return best


def model_counts(db: Database, fields: tuple[str, ...] = MODEL_FIELDS) -> tuple[str, list[tuple[str, int]]] | None:
    """(field, [(model, transcripts)] most used first) for the first model field that active
    transcripts carry, or None."""
    for field in fields:
        rows = db.con.execute(
            f"SELECT {field_sql(field, 't')} AS m, count(*) FROM transcripts t "
            "WHERE NOT t.archived AND m IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        if rows:
            return field, [(m, n) for m, n in rows]
    return None


def sample_transcript_ids(db: Database, n: int, seed: int = 0) -> tuple[list[tuple[str, str]], int]:
    """Up to n active transcripts as (id, content_hash), drawn by a seeded hash order, and how
    many active transcripts there are."""
    total = db.con.execute("SELECT count(*) FROM transcripts WHERE NOT archived").fetchone()[0]
    rows = db.con.execute(
        "SELECT transcript_id, content_hash FROM transcripts WHERE NOT archived "
        "ORDER BY hash(transcript_id || ?::VARCHAR), transcript_id LIMIT ?", [seed, n]).fetchall()
    return [(r[0], r[1]) for r in rows], total


def label_times(db: Database, time_field: str | None) -> list[LabelTimes]:
    """Per final label and fix class of the included transcripts: when each was first labeled
    (a second opinion made later does not move it) and (with `time_field`) when the transcript
    itself happened. The times are read as numpy columns, one row per transcript numbered by
    its group (100k Python floats through lists took a quarter of a second), and split."""
    happened, join = ((f"coalesce(epoch({_time_sql(time_field)}), 0)",
                       "JOIN transcripts t USING (transcript_id)") if time_field else ("0.0", ""))
    con = db.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _label_times AS SELECT i.primary_label, i.fix_class, "
        f"epoch(c.first_at) AS labeled_at, {happened}::DOUBLE AS happened_at "
        "FROM report_included i "
        "JOIN (SELECT transcript_id, min(created_at) AS first_at FROM report_current GROUP BY 1) c "
        f"USING (transcript_id) {join} WHERE i.primary_label IS NOT NULL")
    try:
        groups = con.execute("SELECT DISTINCT primary_label, fix_class FROM _label_times "
                             "ORDER BY 1, 2").fetchall()
        got = con.execute(
            "SELECT dense_rank() OVER (ORDER BY primary_label, fix_class) - 1 AS g, labeled_at, "
            "happened_at FROM _label_times ORDER BY g").fetchnumpy()
    finally:
        con.execute("DROP TABLE IF EXISTS _label_times")
    if not groups:
        return []
    code = np.asarray(got["g"], dtype=np.int64)
    cuts = np.searchsorted(code, np.arange(1, len(groups)))
    at = np.split(np.asarray(got["labeled_at"], dtype=np.float64), cuts)
    happened_at = np.split(np.asarray(got["happened_at"], dtype=np.float64), cuts)
    return [LabelTimes(label, fix, a, h)
            for (label, fix), a, h in zip(groups, at, happened_at, strict=True)]


def version_windows(db: Database) -> list[VersionWindow]:
    """The taxonomy versions of the included transcripts' current labels, by first use."""
    rows = db.con.execute(
        "SELECT taxonomy_name, taxonomy_version, min(created_at), max(created_at), count(*) "
        "FROM report_current WHERE transcript_id IN (SELECT transcript_id FROM report_included) "
        "AND taxonomy_version IS NOT NULL GROUP BY 1, 2 ORDER BY 3, 2").fetchall()
    return [VersionWindow(*r) for r in rows]


def category_definitions(db: Database, name: str, version: str) -> dict[str, tuple[str, str, str]]:
    """key → (fix_class, definition, not_this_when) of one registered taxonomy version."""
    rows = db.con.execute(
        "SELECT key, fix_class, definition, not_this_when FROM categories "
        "WHERE taxonomy_name = ? AND taxonomy_version = ? ORDER BY position", [name, version]).fetchall()
    return {k: (f, d or "", n or "") for k, f, d, n in rows}
