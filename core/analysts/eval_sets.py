"""Exports built from final labels: a stratified dev/test evaluation set, and the tuning seed
(behavior failures with an ideal response, as OpenAI fine-tuning JSONL)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from core.analysts.files import ExportResult, write_jsonl
from core.errors import UsageError
from core.store.connection import Database
from core.store.exports import LabeledRecord, labeled_records, tuning_sources
from core.store.visibility import Viewer


def _record(row: LabeledRecord) -> dict[str, Any]:
    r = row.record
    rec: dict[str, Any] = {"id": r.transcript_id, "messages": json.loads(r.messages),
                           "metadata": json.loads(r.metadata) if r.metadata else {}}
    if r.context is not None:
        rec["context"] = json.loads(r.context)
    if r.tools is not None:
        rec["tools"] = json.loads(r.tools)
    rec.update(label=row.label, fix_class=row.fix_class, label_status=row.status)
    return rec


def split_eval(records: list[dict[str, Any]], test_size: float, seed: int
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Stratified dev/test split by label. Labels with fewer than 2 items cannot be
    stratified: they go to test, and a warning names them."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise UsageError(f"--test-size must be between 0 and 1, got {test_size}")
    counts = Counter(r["label"] for r in records)
    rare = sorted(k for k, n in counts.items() if n < 2)
    splittable = [r for r in records if counts[r["label"]] >= 2]
    forced = [r for r in records if counts[r["label"]] < 2]
    notes = [f"labels with fewer than 2 items go to test only: {', '.join(rare)}"] if rare else []
    if not splittable:
        return [], forced, notes
    try:
        dev, test = train_test_split(splittable, test_size=test_size, random_state=seed,
                                     stratify=[r["label"] for r in splittable])
    except ValueError as e:
        raise UsageError(f"cannot split {len(splittable)} items over {len(counts) - len(rare)} "
                         f"labels with --test-size {test_size}: {e}") from e
    key = {r["id"]: i for i, r in enumerate(records)}
    return (sorted(dev, key=lambda r: key[r["id"]]),
            sorted(test + forced, key=lambda r: key[r["id"]]), notes)


def export_eval_set(db: Database, folder: Path, test_size: float = 0.5, seed: int = 0,
                    viewer: Viewer | None = None) -> ExportResult:
    """Labeled transcripts with their final label → `dev.jsonl` and `test.jsonl` in `folder`
    (those whose labels `viewer` may read; None: all)."""
    records = [_record(r) for r in labeled_records(db, viewer)]
    if not records:
        raise UsageError("no transcript has a final label yet: label some first")
    dev, test, notes = split_eval(records, test_size, seed)
    folder.mkdir(parents=True, exist_ok=True)
    files = {str(folder / "dev.jsonl"): write_jsonl(dev, folder / "dev.jsonl"),
             str(folder / "test.jsonl"): write_jsonl(test, folder / "test.jsonl")}
    return ExportResult(files, tuple(notes))


def cut_point(messages: list[dict[str, Any]], failure_turn: int | None) -> int | None:
    """Index of the assistant message that went wrong: the first assistant message at or after
    `failure_turn` (a 0-based message index), else the last assistant message."""
    assistants = [i for i, m in enumerate(messages) if m.get("role") == "assistant"]
    if failure_turn is not None:
        later = [i for i in assistants if i >= failure_turn]
        if later:
            return later[0]
    return assistants[-1] if assistants else None


def tuning_example(messages: list[dict[str, Any]], tools: list | None, ideal: str,
                   failure_turn: int | None) -> dict[str, Any]:
    """One fine-tuning example: the conversation before the wrong turn (system prompt kept),
    then the ideal response in place of the wrong assistant message."""
    cut = cut_point(messages, failure_turn)
    prefix = messages if cut is None else messages[:cut]
    example: dict[str, Any] = {
        "messages": [*prefix, {"role": "assistant", "content": ideal}]}
    if tools:
        example["tools"] = tools
    return example


def export_tuning_seed(db: Database, path: Path, viewer: Viewer | None = None) -> ExportResult:
    """Behavior failures that have an ideal response → OpenAI fine-tuning JSONL at `path`
    (those whose labels `viewer` may read; None: all)."""
    examples = [tuning_example(json.loads(s.messages), json.loads(s.tools) if s.tools else None,
                               s.ideal_response, s.failure_turn) for s in tuning_sources(db, viewer)]
    notes = () if examples else (
        "no behavior failure has an ideal response yet: the file is empty",)
    path.parent.mkdir(parents=True, exist_ok=True)
    return ExportResult({str(path): write_jsonl(examples, path)}, notes)
