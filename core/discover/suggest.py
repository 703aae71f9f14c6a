"""Back to labels: once a taxonomy made from discovery is active, each "Other" label whose
note fell in a cluster gets that cluster's new category as a suggestion, stored in `prelabels`
under the labeler DISCOVER_LABELER: never a human label, never in a population estimate."""

from __future__ import annotations

from dataclasses import dataclass

from core.discover.axial import Draft
from core.discover.model import Discovery
from core.store import discover as store
from core.store.connection import Database
from core.store.prelabels import Prelabel, done_hashes, save_prelabels
from core.taxonomy import OTHER_KEY, Taxonomy

DISCOVER_LABELER = "discover"
PROMPT_VERSION = "discover-v1"  # the rule "the note's cluster's category", not an LLM prompt


@dataclass(frozen=True)
class SuggestResult:
    """How many "Other" labels got a suggestion, and how many could not."""

    suggested: int
    no_cluster: int  # their note fell in no kept cluster (an outlier, or a dropped one)
    no_note: int  # settled "Other" labels with no note discovery saw


def assignments_from_drafts(drafts: list[Draft], taxonomy: Taxonomy) -> dict[str, str]:
    """note id → category key, for drafts whose key the taxonomy has (the page's path)."""
    return {m: d.key for d in drafts if d.key in taxonomy.keys for m in d.member_ids}


def assignments_by_examples(discovery: Discovery, taxonomy: Taxonomy) -> dict[str, str]:
    """note id → category key by matching each cluster to the category whose examples are
    its notes (a taxonomy saved from discovery quotes its clusters' notes; the CLI's path)."""
    by_text: dict[str, str] = {}
    for c in taxonomy.categories:
        for e in c.examples:
            by_text.setdefault(" ".join(e.split()), c.key)
    out = {}
    for cl in discovery.clusters:
        hits = [by_text.get(" ".join(discovery.texts[m].split())[:400]) for m in cl.member_ids]
        keys = [k for k in hits if k and k != OTHER_KEY]
        if keys:
            key = max(set(keys), key=keys.count)
            out.update({m: key for m in cl.member_ids})
    return out


def suggest_for_other(db: Database, discovery: Discovery, assignments: dict[str, str],
                      taxonomy: Taxonomy, method: str) -> SuggestResult:
    """Store one suggestion per settled "Other" transcript whose note has a category."""
    other = store.final_label_ids(db, OTHER_KEY)
    by_transcript: dict[str, str] = {}
    for note_id, tid in discovery.transcripts.items():
        if tid in other and note_id in assignments:
            by_transcript[tid] = assignments[note_id]  # later notes win: notes are time-ordered
    seen = {tid for tid in discovery.transcripts.values() if tid in other}
    hashes = store.transcript_hashes(db, sorted(by_transcript))
    done = done_hashes(db, method, PROMPT_VERSION, taxonomy.version)  # a re-run adds nothing
    rows = [Prelabel(transcript_id=tid, content_hash=hashes.get(tid), labeler=DISCOVER_LABELER,
                     model=method, prompt_version=PROMPT_VERSION,
                     taxonomy_version=taxonomy.version, status="ok", primary_label=key,
                     rationale=f"its “Other” note fell in the discovered cluster now called "
                               f"{taxonomy.category(key).name!r}")
            for tid, key in sorted(by_transcript.items()) if hashes.get(tid) not in done]
    save_prelabels(db, rows)
    return SuggestResult(len(rows), len(seen) - len(by_transcript), len(other - seen))
