"""Populations for the population-estimate tests and benchmark, through real storage: N
transcripts, a uniform random sample drawn by `draw_sample` and labeled from the random queue,
and pre-labels on everything (an LLM labeler's, stored as `prelabels` rows)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import replace

from core.ingest.pipeline import import_file
from core.labels.samples import draw_sample
from core.store.connection import Database
from core.store.prelabels import Prelabel, save_prelabels
from core.taxonomy import Taxonomy
from tests.conftest import make_record
from tests.report_helpers import ann, insert_annotations

# A population where pipeline failures lead: category → share of transcripts.
MIX = {"wrong_retrieval": 0.30, "missing_knowledge": 0.14, "tone_policy": 0.16,
       "escalation": 0.08, "reasoning": 0.12, "no_failure": 0.20}


def true_labels(n: int, seed: int = 0, mix: dict[str, float] | None = None) -> list[str]:
    """n category keys drawn from `mix`, seeded."""
    mix = mix or MIX
    rng = random.Random(seed)
    return rng.choices(list(mix), weights=list(mix.values()), k=n)


def noisy(labels: Sequence[str], accuracy: float, keys: Sequence[str], seed: int) -> list[str]:
    """Each label kept with probability `accuracy`, else replaced by a uniformly random key."""
    rng = random.Random(seed)
    return [lab if rng.random() < accuracy else rng.choice(list(keys)) for lab in labels]


def import_records(db: Database, records: list[dict], source: str = "test") -> list[str]:
    """Import records through the real import pipeline (a JSONL file beside the database:
    the fast path, 100k in seconds); returns their ids."""
    path = db.path.with_name(f"{db.path.stem}-{source}-{len(records)}.jsonl")
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = import_file(db, path, source=source, imported_by="test")
    assert result.rows_imported == len(records), result.summary()
    path.unlink()
    return [str(r["id"]) for r in records]


def add_population(db: Database, n_transcripts: int, seed: int = 0, start: int = 0,
                   mix: dict[str, float] | None = None) -> tuple[list[str], dict[str, str]]:
    """Import n transcripts; returns their ids and each one's true category."""
    ids = import_records(db, [make_record(start + i) for i in range(n_transcripts)])
    return ids, dict(zip(ids, true_labels(n_transcripts, seed, mix), strict=True))


def label_random_sample(db: Database, taxonomy: Taxonomy, truth: dict[str, str], n: int,
                        seed: int = 1, **extra) -> list[str]:
    """Draw a uniform random sample of n (recorded like `triage sample --n`) and label each
    with its true category from the random queue; returns the sampled ids."""
    sample = draw_sample(db, n, seed, created_by="test")
    ids = list(sample.transcript_ids)
    insert_annotations(db, [replace(ann(taxonomy, tid, "ann", truth[tid], i),
                                    sample_id=sample.sample_id, **extra)
                            for i, tid in enumerate(ids)])
    return ids


def llm_prelabels(db: Database, taxonomy: Taxonomy, predictions: dict[str, str],
                  model: str = "sim-model", prompt_version: str = "p1") -> None:
    """Store one LLM pre-label per transcript (status ok)."""
    save_prelabels(db, [Prelabel(
        transcript_id=tid, content_hash=None, labeler="llm", model=model,
        prompt_version=prompt_version, taxonomy_version=taxonomy.version, status="ok",
        primary_label=lab, confidence=0.9) for tid, lab in predictions.items()])


def distinct_synthetic(taxonomy: Taxonomy, n: int, seed: int, prefix: str = "syn") -> list[dict]:
    """synthetic_records (labels exact) whose user turn also carries a word of its own
    (`ref<i>`): no two have the same content, and a model can memorise each one."""
    from tests.prelabel_helpers import synthetic_records

    records = []
    for i, (rec, _) in enumerate(synthetic_records(taxonomy, n, noise=0.0, seed=seed, prefix=prefix)):
        rec["messages"][1]["content"] += f" ref{prefix}{i}"
        records.append(rec)
    return records
