"""What a discovery run returns: candidate categories, outliers, the method, saturation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class NearestCategory:
    """The existing category most of a cluster's labeled members carry, and its share."""

    key: str
    share: float
    n_labeled: int


@dataclass(frozen=True)
class Cluster:
    """One candidate category: its members (most central first), names and evidence."""

    key: str
    name: str
    size: int
    member_ids: tuple[str, ...]
    examples: tuple[str, ...]
    top_terms: tuple[str, ...]
    nearest_category: NearestCategory | None
    definition: str = ""
    not_this_when: str = ""
    fix_class: str = "unknown"
    named_by: str = "top terms"  # or the chat model's name
    naming_error: str | None = None


@dataclass(frozen=True)
class SaturationPoint:
    """Categories found when the first `notes` notes (in time order) are clustered."""

    notes: int
    clusters: int


@dataclass(frozen=True)
class Discovery:
    """The result of `triage discover` (its JSON with `--format json` is `to_json`)."""

    clusters: tuple[Cluster, ...]
    outliers: tuple[str, ...]
    method: dict[str, Any]
    saturation: tuple[SaturationPoint, ...] = ()
    saturation_sentence: str = ""
    n_notes: int = 0
    texts: dict[str, str] = field(default_factory=dict, repr=False)  # note id → text
    labels: dict[str, str] = field(default_factory=dict, repr=False)  # note id → its category
    transcripts: dict[str, str] = field(default_factory=dict, repr=False)  # note id → transcript

    def cluster(self, key: str) -> Cluster:
        """The cluster with this key (KeyError when there is none)."""
        for c in self.clusters:
            if c.key == key:
                return c
        raise KeyError(key)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON shape: clusters, outliers, method, saturation."""
        return {
            "n_notes": self.n_notes,
            "clusters": [asdict(c) | {"member_ids": list(c.member_ids),
                                      "examples": list(c.examples),
                                      "top_terms": list(c.top_terms)} for c in self.clusters],
            "outliers": list(self.outliers),
            "method": self.method,
            "saturation": [asdict(p) for p in self.saturation],
            "saturation_sentence": self.saturation_sentence,
        }
