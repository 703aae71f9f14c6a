"""The notes discovery groups: from the database (reviewers' notes on their labels) or from a
CSV/JSONL file with `id` and `text` columns (notes kept elsewhere)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import UsageError
from core.store import discover as store
from core.store.connection import Database

SCOPES = ("all", "other", "sample")
# Optional columns of a notes file: the category the note's transcript was labeled with (for
# `nearest_category`) and when it was written (for the saturation curve's time order).
LABEL_COLUMNS = ("category", "label", "primary_label")


@dataclass(frozen=True)
class Note:
    """One free-text note: what a reviewer wrote about one transcript."""

    note_id: str
    text: str
    transcript_id: str | None = None
    label: str | None = None  # the category its annotation has (None: unlabeled / unknown)
    annotator: str | None = None


@dataclass(frozen=True)
class NotesFile:
    """The notes read from a file, and the rows left out (each with its line and reason)."""

    notes: list[Note]
    rejected: list[str]


def notes_from_db(db: Database, scope: str = "all", sample_id: str | None = None,
                  label: str | None = None) -> list[Note]:
    """Notes on current labels, oldest first: all of them, only those on "Other" labels, or
    only those on one sample's transcripts; `label` keeps those on one category's labels."""
    if scope not in SCOPES:
        raise UsageError(f"unknown notes scope {scope!r}; use one of {', '.join(SCOPES)}")
    if scope == "sample" and not sample_id:
        raise UsageError("scope 'sample' needs a sample id (--sample ID)")
    rows = store.label_notes(db, only_label="other" if scope == "other" else label,
                             sample_id=sample_id if scope == "sample" else None)
    return [Note(r.annotation_id, r.note, r.transcript_id, r.primary_label, r.annotator)
            for r in rows]


def _csv_rows(path: Path) -> list[tuple[int, dict]]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"id", "text"} <= set(reader.fieldnames):
            raise UsageError(f"{path.name}: a notes CSV needs a header with `id` and `text` "
                             f"columns; found {', '.join(reader.fieldnames or []) or 'none'}")
        return [(i + 1, row) for i, row in enumerate(reader)]  # header excluded, as import counts


def _jsonl_rows(path: Path) -> list[tuple[int, dict]]:
    out = []
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as e:
                raise UsageError(f"{path.name} line {number}: not JSON ({e.msg}); nothing was "
                                 "read (fix the line and run again)") from e
            if not isinstance(value, dict):
                raise UsageError(f"{path.name} line {number}: expected an object with `id` and "
                                 f"`text`, got {type(value).__name__}")
            out.append((number, value))
    return out


def _note_of(row: dict, number: int, unit: str, seen: set[str]) -> Note | str:
    """A Note, or the reason the row is left out."""
    note_id = str(row.get("id") or "").strip()
    text = row.get("text")
    if not note_id:
        return f"{unit} {number}: `id` is empty"
    if note_id in seen:
        return f"{unit} {number}: id {note_id!r} appears twice (the first is kept)"
    if not isinstance(text, str) or not text.strip():
        return f"{unit} {number}: `text` is empty or not a string"
    seen.add(note_id)
    label = next((str(row[c]) for c in LABEL_COLUMNS if row.get(c)), None)
    return Note(note_id, text.strip(), label=label)


def read_notes_file(path: Path) -> NotesFile:
    """Notes from a CSV or JSONL file (by extension; `.json`/`.ndjson` read as JSONL). A row
    without an id or a text is left out and named; a line that is not JSON stops the read."""
    if not path.is_file():
        raise UsageError(f"no notes file at {path}")
    is_csv = path.suffix.lower() == ".csv"
    rows = _csv_rows(path) if is_csv else _jsonl_rows(path)
    unit = "row" if is_csv else "line"
    notes, rejected, seen = [], [], set()
    for number, row in rows:
        got = _note_of(row, number, unit, seen)
        (notes if isinstance(got, Note) else rejected).append(got)
    if not notes:
        raise UsageError(f"{path.name}: no usable notes"
                         + (f" ({'; '.join(rejected[:3])})" if rejected else " (the file is empty)"))
    return NotesFile(notes, rejected)
