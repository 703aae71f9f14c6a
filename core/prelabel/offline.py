"""The offline pre-labeler: no key, no network. A transparent rule-based cold start until there
are enough reviewer labels, then TF-IDF + structural features with logistic regression."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from core.prelabel.features import FEATURE_NAMES, Signals, extract_signals
from core.prelabel.transcript_text import render_transcript
from core.store.transcripts import Transcript
from core.taxonomy import Taxonomy

MIN_TRAINING_LABELS = 20  # below this (or with one class) the cold-start rules answer
MIN_PER_CLASS_CALIBRATED = 10  # every class this often → calibrated probabilities
MAX_TEXT_CHARS = 20000  # start and end of long transcripts, as the LLM budget keeps them
FEATURES_VERSION = "features-v1"


@dataclass(frozen=True)
class Suggestion:
    """One offline pre-label before it is stored."""

    label: str
    confidence: float
    rationale: str
    evidence: str


# (rule name, signal test, category key, confidence, what the rule says). Checked in order.
RULES = (
    ("bad_json", lambda s: s.bad_json, "schema_format", 0.6,
     "JSON was asked for and the last assistant answer does not parse as JSON"),
    ("tool_never_called", lambda s: s.tool_never_called, "missed_tool_call", 0.55,
     "tools were offered and none was called"),
    ("escalation", lambda s: s.escalation, "escalation", 0.45,
     "the assistant transferred or escalated to a human"),
    ("low_context_overlap",
     lambda s: s.context_overlap is not None and s.context_overlap < 0.2, "wrong_retrieval", 0.4,
     "the answer shares under 20% of its words with the retrieved context"),
    ("abstain", lambda s: s.abstain, "missing_knowledge", 0.4,
     "the assistant said it does not know or could not find the information"),
    ("tool_error", lambda s: s.tool_error, "reasoning", 0.3,
     "a tool returned an error and the assistant carried on"),
)


def cold_start(signals: Signals, taxonomy: Taxonomy, n_labels: int) -> Suggestion:
    """The first rule that fires names the label; no rule → the taxonomy's none category."""
    for name, test, key, confidence, says in RULES:
        if key in taxonomy.keys and test(signals):
            return Suggestion(key, confidence, f"rule {name}: {says} (cold start: {n_labels} of "
                              f"{MIN_TRAINING_LABELS} reviewer labels needed to train)",
                              signals.quotes.get(name, ""))
    fallback = taxonomy.none_key if taxonomy.none_key in taxonomy.keys else taxonomy.keys[0]
    return Suggestion(fallback, 0.2, f"rule none: no structural rule fired (cold start: {n_labels} "
                      f"of {MIN_TRAINING_LABELS} reviewer labels needed to train)", "")


def model_text(t: Transcript) -> str:
    """What TF-IDF reads: the rendered transcript, its start and end when long."""
    text = render_transcript(t)
    if len(text) <= MAX_TEXT_CHARS:
        return text
    half = MAX_TEXT_CHARS // 2
    return text[:half] + "\n" + text[-half:]


def training_version(pairs: list[tuple[str, str]]) -> str:
    """Training-set size and hash: 'n=300:1a2b3c4d'."""
    digest = hashlib.sha256("\n".join(f"{i}\t{lab}" for i, lab in sorted(pairs)).encode()).hexdigest()
    return f"n={len(pairs)}:{digest[:8]}"



def quote_around(text: str, pos: int, length: int, reach: int = 160) -> str:
    """The sentence (or line) of `text` holding text[pos:pos+length], never cut mid-word and at
    most about `reach` characters either side: a quote a reviewer can find in the transcript."""
    found = [(text.rfind(sep, 0, pos), sep) for sep in ("\n", ". ", "? ", "! ")]
    start = max([i + len(sep) for i, sep in found if i >= 0] or [0])
    if pos - start > reach:
        start = text.find(" ", pos - reach) + 1
    ends = [text.find(sep, pos + length) for sep in ("\n", ". ", "? ", "! ")]
    end = min([e + 1 for e in ends if e >= 0] or [len(text)])
    if end - (pos + length) > reach:
        cut = text.rfind(" ", pos + length, pos + length + reach)
        end = cut if cut > 0 else pos + length + reach
    return text[start:end].strip()

class OfflineModel:
    """A fitted offline labeler (rules or a trained classifier) that suggests for any transcript."""

    def __init__(self, taxonomy: Taxonomy, pairs: list[tuple[str, str]]) -> None:
        self.taxonomy = taxonomy
        self.n_labels = len(pairs)
        self.kind = "rules"
        self.calibrated = False
        self.version = f"offline-rules:{training_version(pairs)}"
        self._vectorizer: TfidfVectorizer | None = None
        self._clf = None

    def _matrix(self, texts: list[str], signals: list[Signals], fit: bool = False):
        vec = self._vectorizer
        words = vec.fit_transform(texts) if fit else vec.transform(texts)
        struct = sparse.csr_matrix(np.array([s.vector() for s in signals], dtype=float))
        return sparse.hstack([words, struct], format="csr")

    def fit(self, transcripts: list[Transcript], labels: list[str], version: str) -> OfflineModel:
        """Train on reviewer labels: TF-IDF (1–2 grams) + structural features."""
        self._vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1 if len(labels) < 50 else 2,
                                           max_features=20000, sublinear_tf=True, stop_words="english")
        X = self._matrix([model_text(t) for t in transcripts],
                         [extract_signals(t) for t in transcripts], fit=True)
        self._clf, self.calibrated = fit_classifier(X, labels)
        self.kind = "tfidf-logreg"
        self.version = f"offline-tfidf-logreg:{version}"
        return self

    def _linear(self) -> LogisticRegression:
        if self.calibrated:
            return self._clf.calibrated_classifiers_[0].estimator
        return self._clf

    def _top_signals(self, X, chosen: list[str]) -> list[list[str]]:
        """Per row of X, the (at most 3) features that pushed hardest towards its chosen class:
        value × that class's coefficient, the largest first (ties in column order), positive
        only. One pass over the whole chunk's non-zeros (a row slice per transcript was most of
        the offline run's time)."""
        lin = self._linear()
        names = self._vectorizer.get_feature_names_out()
        X = sparse.csr_matrix(X)
        n, counts = X.shape[0], np.diff(X.indptr)
        if X.nnz == 0:
            return [[] for _ in range(n)]
        if lin.coef_.shape[0] > 1:
            where = {c: k for k, c in enumerate(lin.classes_)}
            coef_row = np.array([where[c] for c in chosen], dtype=np.intp)
        else:
            coef_row = np.zeros(n, dtype=np.intp)
        row = np.repeat(np.arange(n), counts)
        value = X.data * lin.coef_[coef_row[row], X.indices]
        order = np.lexsort((-value, row))  # by row, then the largest contribution; stable
        rank = np.arange(3)
        valid = rank[None, :] < counts[:, None]
        pick = order[np.where(valid, X.indptr[:-1, None] + rank[None, :], 0)]
        keep = (valid & (value[pick] > 0)).tolist()
        n_words = len(names)
        cols = X.indices[pick].tolist()
        return [[str(names[j]) if j < n_words else FEATURE_NAMES[j - n_words]
                 for j, k in zip(cs, ks, strict=True) if k] for cs, ks in zip(cols, keep, strict=True)]

    def _explain(self, top: list[str], text: str, signals: Signals) -> tuple[str, str]:
        evidence, lower = "", None
        for name in top:
            if name in signals.quotes:
                evidence = signals.quotes[name]
                break
            lower = text.lower() if lower is None else lower
            pos = lower.find(name)
            if pos >= 0:
                evidence = quote_around(text, pos, len(name))
                break
        how = "calibrated" if self.calibrated else "uncalibrated (too few labels per class)"
        return (f"model trained on {self.n_labels} reviewer labels ({how}); strongest signals: "
                f"{', '.join(top) or 'none'}"), evidence

    def features(self, transcripts: list[Transcript]) -> Features:
        """What the model reads, computed once per transcript: the fold models of a cross-fit
        share it (the features are fit without labels, so sharing them leaks none)."""
        signals = [extract_signals(t) for t in transcripts]
        if self._vectorizer is None:
            return Features(signals, [], None)
        texts = [model_text(t) for t in transcripts]
        return Features(signals, texts, self._matrix(texts, signals))

    @property
    def trained(self) -> bool:
        """Whether a classifier answers (else the cold-start rules)."""
        return self._clf is not None

    def suggest(self, f: Features) -> list[Suggestion]:
        """A suggestion for every transcript of `f`."""
        if self._clf is None:
            return [cold_start(s, self.taxonomy, self.n_labels) for s in f.signals]
        with threadpool_limits(1):
            proba = self._clf.predict_proba(f.matrix)
        classes = list(self._clf.classes_)
        best = np.argmax(proba, axis=1).tolist()
        tops = self._top_signals(f.matrix, [classes[j] for j in best])
        out = []
        for i, j in enumerate(best):
            rationale, evidence = self._explain(tops[i], f.texts[i], f.signals[i])
            out.append(Suggestion(classes[j], float(proba[i, j]), rationale, evidence[:300]))
        return out

    def predict(self, transcripts: list[Transcript]) -> list[Suggestion]:
        """A suggestion for every transcript."""
        return self.suggest(self.features(transcripts))


@dataclass(frozen=True)
class Features:
    """Signals, model texts and the feature matrix of a list of transcripts (matrix None for
    the cold-start rules, which read the signals only)."""

    signals: list[Signals]
    texts: list[str]
    matrix: sparse.csr_matrix | None

    def subset(self, rows: list[int]) -> Features:
        """The features of these rows only."""
        return Features([self.signals[i] for i in rows], [self.texts[i] for i in rows] if self.texts else [],
                        None if self.matrix is None else self.matrix[rows])


def fit_classifier(X, labels: list[str]):
    """The classifier on a feature matrix: balanced logistic regression, calibrated (sigmoid,
    3-fold) when every class has at least MIN_PER_CLASS_CALIBRATED labels. → (fitted, calibrated)."""
    base = LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced")
    calibrated = min(Counter(labels).values()) >= MIN_PER_CLASS_CALIBRATED
    clf = CalibratedClassifierCV(base, method="sigmoid", cv=3) if calibrated else base
    with threadpool_limits(1):  # small problems: threads only contend (5× slower on 2 busy cores)
        clf.fit(X, labels)
    return clf, calibrated


def train_offline(taxonomy: Taxonomy, labeled: list[tuple[Transcript, str]]) -> OfflineModel:
    """Fit on reviewer labels within the taxonomy; rules when there are too few or one class."""
    labeled = [(t, lab) for t, lab in labeled if lab in taxonomy.keys]
    pairs = [(t.transcript_id, lab) for t, lab in labeled]
    model = OfflineModel(taxonomy, pairs)
    if len(labeled) < MIN_TRAINING_LABELS or len({lab for _, lab in labeled}) < 2:
        return model
    return model.fit([t for t, _ in labeled], [lab for _, lab in labeled], training_version(pairs))
