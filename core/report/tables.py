"""The report's tables as plain text cells, rendered by both the HTML and the Markdown export
(each escapes cells its own way)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.prelabel.describe import evaluation_tables
from core.report.model import Report, Share, SliceRow
from core.report.text import METHOD_NAMES, VERDICT_TITLES, cell, interval, num, pct
from core.taxonomy import Taxonomy


@dataclass(frozen=True)
class Table:
    """A titled table of text cells (raw text: the renderer escapes)."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame of its text cells (what a page hands to st.dataframe)."""
        return pd.DataFrame(list(self.rows), columns=list(self.headers))


def _name(taxonomy: Taxonomy, key: str | None) -> str:
    if key is None:
        return "–"
    return taxonomy.name_of(key)


def _share_cells(s: Share) -> tuple[str, str, str]:
    return str(s.count), pct(s.share, 1), interval(s).removeprefix("95% CI ")


def fix_class_table(r: Report) -> Table:
    """Failures per fix class with share and interval."""
    rows = tuple((c, *_share_cells(s)) for c, s in r.fix_classes.items())
    return Table("Fix classes", ("Fix class", "Failures", "Share", "95% CI"), rows)


def category_table(r: Report, t: Taxonomy) -> Table:
    """Failures per category; no_failure as a share of all labeled transcripts."""
    rows = [(_name(t, k), t.fix_class(k) if k in t.keys else "?", *_share_cells(s))
            for k, s in r.categories.items()]
    rows.append((f"{_name(t, t.none_key)} (share of all {r.n_labeled} labeled)", "none",
                 *_share_cells(r.no_failure)))
    return Table("Categories", ("Category", "Fix class", "Count", "Share", "95% CI"), tuple(rows))


def _figure(value: float | None, check: str) -> str:
    if value is None:
        return "not measured"
    if check == "min_examples_per_tuned_category":
        return f"{value:.0f}"
    return num(value) if check == "min_alpha" else pct(value, 1)


def readiness_table(r: Report) -> Table:
    """The checklist: figure, threshold, pass/fail, detail."""
    rows = tuple(
        (c.label, _figure(c.value, c.check), _figure(c.threshold, c.check),
         "pass" if c.passed else "FAIL", c.detail) for c in r.readiness)
    return Table("Readiness for fine-tuning",
                 ("Check", "Figure", "Threshold", "Result", "Detail"), rows)


def next_actions_table(r: Report) -> Table:
    """The categories that drive the verdict, with their typical fix."""
    rows = tuple(
        (a.name, a.fix_class, str(a.count), pct(a.share, 1), a.typical_fix,
         "n/a" if a.ideal_responses is None else str(a.ideal_responses)) for a in r.next_actions)
    return Table("Next actions", ("Category", "Fix class", "Failures", "Share", "Typical fix",
                                  "Ideal responses written"), rows)


def slice_table(field: str, rows: tuple[SliceRow, ...], t: Taxonomy) -> Table:
    """One metadata field: n per value, fix-class shares, the top category; small slices flagged."""
    out = tuple(
        (s.value, str(s.n_labeled), str(s.n_failures),
         *(pct(s.fix_classes[c].share) for c in ("pipeline", "behavior", "model")),
         _name(t, s.top_category), "fewer than 20 failures" if s.small else "") for s in rows)
    return Table(f"Slice by {field}", (field, "Labeled", "Failures", "Pipeline", "Behavior",
                                       "Model", "Top category", "Note"), out)


def agreement_tables(r: Report, t: Taxonomy) -> list[Table]:
    """Pairwise kappa, per-category agreement, and the disagreements."""
    a = r.agreement
    kappa = Table("Pairwise Cohen's kappa", ("Annotator A", "Annotator B", "Shared", "Kappa"),
                  tuple((p.a, p.b, str(p.n), num(p.kappa)) for p in a.pairwise_kappa))
    per_cat = Table("Agreement per category", ("Category", "Double-labeled with it", "All agree"),
                    tuple((_name(t, k), str(v["n"]), pct(v["agreement"]))
                          for k, v in a.per_category.items()))
    dis = Table(f"Disagreements ({a.n_disagreements}, first {len(a.disagreements)} listed)",
                ("Transcript", "Labels", "Status", "Final label"),
                tuple((d.transcript_id, "; ".join(f"{who}: {_name(t, lab)}" for who, lab in d.labels.items()),
                       "open" if d.status == "disagreement" else d.status,
                       _name(t, d.final_label) if d.final_label else "none yet")
                      for d in a.disagreements))
    return [kappa, per_cat, dis]


def prelabeler_tables(p: dict[str, Any], t: Taxonomy) -> list[Table]:
    """The pre-labeler's evaluation tables (their content is core/prelabel's) as text cells."""
    return [Table(x.title, x.headers,
                  tuple(tuple(cell(v, k) for v, k in zip(row, x.kinds, strict=True)) for row in x.rows))
            for x in evaluation_tables(p, t)]


def sampling_tables(r: Report) -> list[Table]:
    """How the sample was drawn (samples) and which queues served the labels."""
    s = r.sampling
    samples = Table("Samples", ("Sample", "Method", "Seed", "n", "Filter", "Stratified by", "Labels"),
                    tuple((str(x["sample_id"]), str(x["method"]), str(x["seed"]), str(x["n"]),
                           json.dumps(x["filter"]) if x["filter"] else "–",
                           str(x["stratify_by"] or "–"), str(x["n_labels"])) for x in s.samples))
    queues = Table("Labels by queue", ("Queue", "Labels", "Share"),
                   tuple((q or "(not recorded)", str(c), pct(c / s.n_labels if s.n_labels else None))
                         for q, c in s.queues.items()))
    reviewers = Table("Reviewers", ("Reviewer", "Current labels"),
                      tuple((who, str(n)) for who, n in r.reviewers.items()))
    return [samples, queues, reviewers]


def _estimate_cells(e) -> tuple[str, str]:
    if e is None or e.estimate is None:
        return "–", "–"
    return pct(e.estimate, 1), f"{pct(e.ci_low, 1)}–{pct(e.ci_high, 1)}"


def population_table(r: Report) -> Table:
    """Human-only beside the population estimate, per fix class (shares of failures) and for
    no failure (a share of all)."""
    p = r.population
    rows = [(c, *_share_cells(s)[1:], *_estimate_cells(p.fix_classes.get(c) if p.method != "human-only" else None))
            for c, s in r.fix_classes.items()]
    rows.append(("no failure (share of all)", *_share_cells(r.no_failure)[1:],
                 *_estimate_cells(p.no_failure)))
    return Table("Human-only and population estimates",
                 ("Fix class", "Human-only share", "Human-only 95% CI", "Population share",
                  "Population 95% CI"), tuple(rows))


def population_facts(r: Report) -> Table:
    """How the population estimate was made: method, N, n, λ, exclusions, verdicts."""
    p = r.population
    lam = "–" if p.lam is None else num(p.lam, 3)
    z = p.verdict_statistic
    stat = "–" if z.estimate is None else f"{num(z.estimate, 3)} ({num(z.ci_low, 3)} to {num(z.ci_high, 3)})"
    who = p.labeler or "–"
    if p.labeler_model:
        who += f" · {p.labeler_model}" + (f" · prompt {p.prompt_version}" if p.labeler == "llm" else "")
    rows = [("Method", METHOD_NAMES.get(p.method, p.method)), ("Population (N)", f"{p.N:,}"),
            ("Random human sample (n)", str(p.n)), ("Labeler", who), ("λ (power tuning)", lam),
            ("Folds (cross-fit)", str(p.folds or "–")),
            ("Verdict statistic (pipeline − other failures)", stat),
            ("Effective sample size", "–" if p.effective_n is None else f"{p.effective_n:,}"),
            ("Labels left out: not from a uniform random sample", str(p.n_excluded_nonrandom)),
            ("Labels left out: few-shot examples / open disagreements",
             f"{p.n_excluded_few_shot} / {p.n_excluded_open}"),
            ("Verdict, population", VERDICT_TITLES[p.verdict] if p.method != "human-only" else "–"),
            ("Verdict, human-only", VERDICT_TITLES[r.human_verdict or r.verdict])]
    return Table("How the population estimate was made", ("", "Value"), tuple(rows))
