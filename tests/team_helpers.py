"""A team's own database on real data: the tau-bench airline transcripts from ../shared/data,
imported as a user would (the import pipeline), and labeled by two reviewers through the store's
one insert path, with failure turns and notes as the Annotate page records them."""

from __future__ import annotations

import json
import random
from pathlib import Path

from core.ingest.pipeline import import_file
from core.store.annotations import NewAnnotation, add_annotations
from core.store.categories import register_taxonomy
from core.store.connection import connect
from core.store.transcripts import get_transcripts
from core.taxonomy import load_taxonomy

TAU = "taubench_airline_gpt4o.jsonl"
WHOWHEN = "whowhen_multiagent.jsonl"
# Keys of the tau-bench records that give the answer away, and keys that do not.
TAU_OUTCOME_KEYS = ("reward", "r_actions", "expected_actions", "expected_outputs")
TAU_SHOWN_KEYS = ("dataset", "domain", "agent_model", "task_id", "trial", "user_instruction")
CATEGORIES = ("missed_tool_call", "reasoning", "escalation", "schema_format", "wrong_retrieval",
              "tone_policy", "no_failure", "missing_knowledge", "noisy_context")


def failure_turn(messages: list[dict]) -> int:
    """A plausible "first went wrong at": the first assistant message that calls a tool, else
    the last assistant message."""
    assistant = [i for i, m in enumerate(messages) if m.get("role") == "assistant"]
    calls = [i for i in assistant if messages[i].get("tool_calls")]
    if calls:
        return calls[0]
    return assistant[-1] if assistant else 0


def team_database(path: Path, data: Path, n_labels: int = 60, seed: int = 0,
                  non_random_share: float = 0.0) -> list[str]:
    """Import the 200 tau-bench transcripts into `path` and label the first `n_labels` (by id)
    with a seeded mix of categories; every fourth one gets a second reviewer (agreeing three
    times in four). Returns the labeled ids."""
    taxonomy = load_taxonomy("default")
    rng = random.Random(seed)
    db = connect(path)
    try:
        register_taxonomy(db, taxonomy)
        import_file(db, data / TAU, source="tau2", imported_by="ayla")
        ids = sorted(record_ids(data / TAU))[:n_labels]
        rows = []
        for i, t in enumerate(get_transcripts(db, ids)):
            key = rng.choice(CATEGORIES)
            queue = "low_confidence" if rng.random() < non_random_share else "random"
            rows.append(_label(taxonomy, t, "ayla", key, queue, i))
            if i % 4 == 0:
                second = key if rng.random() < 0.75 else rng.choice(CATEGORIES)
                rows.append(_label(taxonomy, t, "bo", second, queue, i + 1000))
        add_annotations(db, rows, taxonomy.keys)
        return ids
    finally:
        db.close()


def record_ids(path: Path) -> list[str]:
    """The ids of a JSONL file's records (imported first into a database, they are its
    transcript ids)."""
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _label(taxonomy, t, who: str, key: str, queue: str, n: int) -> NewAnnotation:
    turn = failure_turn(t.messages) if key != "no_failure" else None
    note = (f"{who}: the agent {key.replace('_', ' ')} around message #{turn}; the customer "
            "had asked twice and the policy says to confirm before booking") if turn else None
    return NewAnnotation(
        transcript_id=t.transcript_id, annotator=who, primary_label=key, queue=queue,
        failure_turn=turn, note=note, context_present="yes" if n % 3 else "no",
        taxonomy_name=taxonomy.name, taxonomy_version=taxonomy.version,
        annotation_id=f"{t.transcript_id}-{who}")
