"""Note texts → unit vectors: TF-IDF with text normalisation (offline), or embeddings from the
LLM endpoint; then a reduction to a few dozen dimensions for the clustering."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy.sparse import spmatrix
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

_URL = re.compile(r"https?://\S+|www\.\S+")
_CODE_ID = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")  # tool and field names: get_order → get order
_NUMBER = re.compile(r"[$€£]?\d+(?:[.,:/-]\d+)*%?")
_QUOTED = re.compile(r"['\"“”‘’`]")


def normalise_text(text: str) -> str:
    """Lower case; URLs, numbers, amounts and dates become placeholders (a note about "$7,565"
    and one about "$12" say the same thing); identifiers split into words; quotes dropped."""
    t = _URL.sub(" url ", text.lower())
    t = _CODE_ID.sub(lambda m: m.group(0).replace("_", " "), t)
    t = _NUMBER.sub(" num ", t)
    return _QUOTED.sub(" ", t)


@dataclass(frozen=True)
class TermSpace:
    """The TF-IDF matrix of the notes and its vocabulary: top terms and names come from here
    whichever vectors the clustering used."""

    matrix: spmatrix
    terms: np.ndarray


def term_space(texts: list[str]) -> TermSpace:
    """TF-IDF over words and word pairs, English stop words out, sublinear counts; terms in
    fewer than two notes are dropped (they cannot characterise a group), unless the set is tiny."""
    min_df = 2 if len(texts) >= 20 else 1
    vectorizer = TfidfVectorizer(preprocessor=normalise_text, stop_words="english",
                                 sublinear_tf=True, ngram_range=(1, 2), min_df=min_df,
                                 token_pattern=r"(?u)\b[^\W\d_][^\W\d_]+\b")
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # every word a stop word or placeholder: no vocabulary at all
        vectorizer = TfidfVectorizer(preprocessor=normalise_text, token_pattern=r"(?u)\b\w+\b")
        matrix = vectorizer.fit_transform(texts)
    return TermSpace(matrix, vectorizer.get_feature_names_out())


def reduced_dims(n: int) -> int:
    """Dimensions kept: few for few notes (a density clustering needs them), at most 30."""
    return int(min(30, max(10, n // 10)))


def reduce(vectors: np.ndarray | spmatrix, seed: int, dims: int) -> np.ndarray:
    """Unit vectors in `dims` dimensions (TruncatedSVD for sparse TF-IDF, PCA for dense
    embeddings), so that Euclidean distance orders pairs as cosine similarity does."""
    n, width = vectors.shape
    dims = max(1, min(dims, width - 1, n - 1))
    if isinstance(vectors, np.ndarray):
        if width <= dims:
            return normalize(vectors)
        reduced = PCA(dims, random_state=seed).fit_transform(normalize(vectors))
    else:
        reduced = TruncatedSVD(dims, random_state=seed, n_iter=7).fit_transform(vectors)
    return normalize(reduced)
