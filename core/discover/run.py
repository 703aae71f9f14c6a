"""One discovery run: notes → vectors (TF-IDF offline, or embeddings) → groups → described
(and named by the chat model when one is configured) → saturation curve."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import numpy as np

from core.discover import llm as llm_path
from core.discover.cluster import OUTLIER, ClusterParams, group
from core.discover.describe import describe_groups
from core.discover.model import Cluster, Discovery
from core.discover.name import PROMPT_VERSION, name_cluster
from core.discover.notes import Note
from core.discover.saturation import DEFAULT_STEPS, saturation_curve, saturation_sentence
from core.discover.vectors import reduce, reduced_dims, term_space
from core.errors import UsageError


@dataclass(frozen=True)
class DiscoverOptions:
    """How to group: the clustering's bounds, the seed, the saturation steps (0: none)."""

    params: ClusterParams = ClusterParams()
    seed: int = 0
    saturation_steps: int = DEFAULT_STEPS


def _method(options: DiscoverOptions, n: int, dims: int, ctx: llm_path.LLMContext | None,
            labels: np.ndarray) -> dict:
    p = options.params
    method = {
        "name": f"{ctx.settings.embedding_model}+hdbscan" if ctx else "tfidf+hdbscan",
        "representation": (f"embeddings ({ctx.settings.embedding_model}) → PCA" if ctx else
                           "TF-IDF (words and word pairs, numbers/URLs/ids normalised, "
                           "sublinear) → TruncatedSVD"),
        "dimensions": dims, "clustering": "HDBSCAN (sklearn), merged to max_clusters by "
        "average-linkage cosine, near outliers absorbed", "min_size": p.resolved_min_size(n),
        "max_clusters": p.max_clusters, "max_outlier_share": p.max_outlier_share,
        "seed": options.seed, "n_clusters": int(labels.max()) + 1 if (labels >= 0).any() else 0,
        "outlier_share": round(float((labels == OUTLIER).mean()), 4) if n else 0.0,
        "naming": "top terms"}
    if ctx is not None:
        method.update(naming=f"chat model {ctx.settings.llm_model} (prompt {PROMPT_VERSION})",
                      requests=ctx.requests, cached=ctx.cached, tokens_in=ctx.tokens_in,
                      tokens_out=ctx.tokens_out, cost_usd=round(ctx.cost_usd, 6))
    return method


def _slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40].rstrip("_") or "group"
    return s if s[0].isalpha() else f"c_{s}"


def _named(ctx: llm_path.LLMContext, clusters: list[Cluster], notes: list[Note]) -> list[Cluster]:
    """Every cluster through the chat model; keys follow the new names, kept unique."""
    texts = {n.note_id: n.text for n in notes}
    out, taken = [], set()
    for c in clusters:
        named = name_cluster(ctx, c, list(dict.fromkeys(texts[i] for i in c.member_ids)))
        key = _slug(named.name) if named.naming_error is None else named.key
        base, i = key, 2
        while key in taken:
            key, i = f"{base}_{i}", i + 1
        taken.add(key)
        out.append(dataclasses.replace(named, key=key))
    return out


def vectors_for(notes: list[Note], seed: int, ctx: llm_path.LLMContext | None) -> np.ndarray:
    """Unit vectors in few dimensions, one per note, in the notes' order."""
    texts = [n.text for n in notes]
    raw = llm_path.embed(ctx, texts) if ctx is not None else term_space(texts).matrix
    return reduce(raw, seed, reduced_dims(len(notes)))


def discover(notes: list[Note], options: DiscoverOptions = DiscoverOptions(),
             ctx: llm_path.LLMContext | None = None) -> Discovery:
    """Group the notes (in time order: the saturation curve reads them in that order)."""
    options.params.check()
    if not notes:
        raise UsageError("no notes to group: write notes on labels (Annotate) or pass --input FILE")
    vectors = vectors_for(notes, options.seed, ctx)
    labels = group(vectors, options.params)
    clusters = describe_groups(notes, vectors, labels, term_space([n.text for n in notes]))
    if ctx is not None:
        clusters = _named(ctx, clusters, notes)
    curve = saturation_curve(vectors, options.params, options.saturation_steps)
    return Discovery(
        clusters=tuple(clusters),
        outliers=tuple(notes[i].note_id for i in np.flatnonzero(labels == OUTLIER)),
        method=_method(options, len(notes), vectors.shape[1], ctx, labels),
        saturation=tuple(curve), saturation_sentence=saturation_sentence(curve) if curve else "",
        n_notes=len(notes), texts={n.note_id: n.text for n in notes},
        labels={n.note_id: n.label for n in notes if n.label},
        transcripts={n.note_id: n.transcript_id for n in notes if n.transcript_id})
