"""What each group of notes is about: its distinctive terms, a name and key from them, its
most central notes as examples, the existing category its members were labeled with."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from core.discover.model import Cluster, NearestCategory
from core.discover.notes import Note
from core.discover.vectors import TermSpace

N_TERMS = 6
N_EXAMPLES = 3
_PLACEHOLDERS = {"num", "url"}


def top_terms(space: TermSpace, members: np.ndarray, n: int = N_TERMS) -> list[str]:
    """Terms weighing most in the group against the whole set (mean TF-IDF inside minus
    outside); a word pair hides the single words it contains. Terms holding a placeholder
    ("num", "url") are left out: "total num" names nothing a reader sees in the notes."""
    inside = np.asarray(space.matrix[members].mean(axis=0)).ravel()
    mask = np.ones(space.matrix.shape[0], dtype=bool)
    mask[members] = False
    outside = np.asarray(space.matrix[mask].mean(axis=0)).ravel() if mask.any() else 0
    score = inside - outside
    if not (score > 0).any():  # the group's words are everyone's: name it by its own weights
        score = inside
    picked: list[str] = []
    for i in np.argsort(-score, kind="stable"):
        term = str(space.terms[i])
        if score[i] <= 0 or len(picked) == n:
            break
        words = set(term.split())
        if words & _PLACEHOLDERS or any(words <= set(p.split()) for p in picked):
            continue
        picked = [p for p in picked if not set(p.split()) <= words] + [term]
    return picked[:n]


def name_from_terms(terms: list[str]) -> str:
    """'wrong · search results · code' from the top three terms; 'Unnamed group' without any."""
    if not terms:
        return "Unnamed group"
    name = " · ".join(terms[:3])
    return name[0].upper() + name[1:]


def key_from_terms(terms: list[str], taken: set[str]) -> str:
    """A taxonomy key (`^[a-z][a-z0-9_]*$`) from the first two terms, unique among `taken`."""
    base = "_".join(re.sub(r"[^a-z0-9]+", "_", t.lower()).strip("_") for t in terms[:2])
    base = re.sub(r"_+", "_", base).strip("_") or "group"
    if not base[0].isalpha():
        base = f"c_{base}"
    base = base[:40].rstrip("_")
    key, i = base, 2
    while key in taken:
        key, i = f"{base}_{i}", i + 1
    taken.add(key)
    return key


def central_order(vectors: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Members sorted by similarity to their centroid, most central first (stable)."""
    centre = vectors[members].mean(axis=0)
    centre = centre / (np.linalg.norm(centre) or 1.0)
    return members[np.argsort(-(vectors[members] @ centre), kind="stable")]


def examples_of(notes: list[Note], ordered: np.ndarray, n: int = N_EXAMPLES) -> list[str]:
    """The first `n` distinct texts among the members, in the order given."""
    out: list[str] = []
    for i in ordered:
        if notes[i].text not in out:
            out.append(notes[i].text)
        if len(out) == n:
            break
    return out


def nearest_category(notes: list[Note], members: np.ndarray) -> NearestCategory | None:
    """The category most labeled members carry, its share of the labeled members."""
    labels = Counter(notes[i].label for i in members if notes[i].label)
    if not labels:
        return None
    key, count = labels.most_common(1)[0]
    n = sum(labels.values())
    return NearestCategory(key, round(count / n, 4), n)


def describe_groups(notes: list[Note], vectors: np.ndarray, labels: np.ndarray,
                    space: TermSpace) -> list[Cluster]:
    """One Cluster per group number, largest first."""
    taken: set[str] = set()
    out = []
    for c in range(int(labels.max()) + 1 if len(labels) else 0):
        members = np.flatnonzero(labels == c)
        ordered = central_order(vectors, members)
        terms = top_terms(space, members)
        out.append(Cluster(
            key=key_from_terms(terms, taken), name=name_from_terms(terms), size=len(members),
            member_ids=tuple(notes[i].note_id for i in ordered),
            examples=tuple(examples_of(notes, ordered)), top_terms=tuple(terms),
            nearest_category=nearest_category(notes, members)))
    return out
