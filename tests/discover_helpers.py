"""Helpers for the discovery tests: the public notes, a database with notes on labels."""

from __future__ import annotations

from pathlib import Path

from core.discover.notes import Note, read_notes_file
from core.store.connection import Database
from core.taxonomy import Taxonomy
from tests.conftest import add_transcripts, make_record
from tests.seed_helpers import label

NOTES_FILE = "whowhen_failure_notes.csv"
# Notes as reviewers write them: four failure modes, several phrasings each.
MODES = {
    "wrong_retrieval": ["Retrieved the retired Classic pricing page.",
                        "Old 2023 pricing page retrieved instead of the current one.",
                        "Search returned the outdated pricing page again.",
                        "The retired pricing page came back from retrieval."],
    "missed_tool_call": ["Should have called get_order instead of guessing.",
                         "Never called get_order, guessed the delivery date.",
                         "get_order was available and not called.",
                         "Answered from memory; get_order never called."],
    "tone_policy": ["Promised a refund only a supervisor may grant.",
                    "Offered a refund against the refund policy.",
                    "Granted a refund it is not allowed to promise.",
                    "Promised a supervisor-only refund to the customer."],
    "schema_format": ["JSON output invalid, the priority field is missing.",
                      "Returned prose instead of JSON with the priority field.",
                      "Broken JSON: priority field absent.",
                      "Invalid JSON again, no priority field."],
}


def public_notes(shared_data: Path) -> list[Note]:
    return read_notes_file(shared_data / NOTES_FILE).notes


def notes_db(db: Database, taxonomy: Taxonomy, per_mode: int = 3, other: bool = False) -> list[str]:
    """Transcripts t0.. each labeled once with a note from MODES (label `other` when asked)."""
    records, notes = [], []
    for mode, phrasings in MODES.items():
        for i in range(per_mode * len(phrasings)):
            records.append(make_record(len(records)))
            notes.append((mode, phrasings[i % len(phrasings)]))  # reviewers repeat themselves
    ids = add_transcripts(db, records)
    for n, (tid, (mode, text)) in enumerate(zip(ids, notes, strict=True)):
        label(db, taxonomy, tid, "ann", "other" if other else mode, n, note=text)
    return ids
