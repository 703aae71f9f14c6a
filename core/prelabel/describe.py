"""Views of a plan, a run summary and an evaluation: the lines the CLI prints (the page reuses
the same words), and the evaluation as tables of values, which the report and the page format
(number formatting is the report's, core/report/text.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from core.taxonomy import Taxonomy

if TYPE_CHECKING:  # annotations only: the Report page's tables need none of the run's imports (openai)
    from core.prelabel.plan import RunOptions, RunPlan
    from core.prelabel.run import RunSummary


def transcripts(n: int) -> str:
    """'1 transcript', '12 transcripts'."""
    return f"{n:,} transcript{'' if n == 1 else 's'}"


def describe_plan(plan: RunPlan, options: RunOptions) -> list[str]:
    """What will be sent and what it is estimated to cost."""
    lines = list(f"note: {n}" for n in plan.notices)
    lines.append(f"labeler: {plan.labeler} · model {plan.model} · prompt {plan.prompt_version} · "
                 f"taxonomy {plan.taxonomy_version[:12]}")
    lines.append(f"{transcripts(len(plan.items))} to pre-label, {plan.cached} already done "
                 "(cached, no request)")
    if plan.labeler == "llm" and plan.items:
        truncated = sum(i.truncated for i in plan.items)
        lines.append(f"estimated: {plan.est_tokens_in:,} input + {plan.est_tokens_out:,} output "
                     f"tokens, ${plan.est_cost:.4f}"
                     + (f" ({truncated} long {transcripts(truncated).split(' ', 1)[1]} cut to the "
                        "token budget)" if truncated else ""))
        if options.max_cost is not None:
            lines.append(f"spend cap: ${options.max_cost:g}")
    return lines


def summary_lines(s: RunSummary) -> list[str]:
    """After a run: done, cached, failed by reason, cost and tokens, and why it stopped early
    (after a Batch API submission or check: its batch_lines)."""
    if hasattr(s, "parts"):
        return batch_lines(s)
    lines = [f"done: {s.done} labeled, {s.cached} cached, {s.n_failed} failed"
             + (f", {s.planned - s.processed} not started" if s.planned > s.processed else "")]
    for reason, n in s.failed.most_common():
        lines.append(f"  failed ×{n}: {reason}")
    if s.fold_predictions:
        lines.append(f"cross-fit: {s.fold_predictions:,} fold-model predictions stored for the "
                     "population estimate (`triage report` reads them, no refit)")
    if s.labeler == "llm":
        lines.append(f"cost: ${s.cost_usd:.4f} · tokens {s.tokens_in:,} in, {s.tokens_out:,} out")
    if s.stopped:
        lines.append(f"ended early: {s.stopped}; run again to resume (finished work is cached)")
    return lines


def batch_lines(s: Any) -> list[str]:
    """After --batch or --batch-status: notes, the status of every batch, what this check
    stored and why it stopped early."""
    lines = [f"note: {n}" for n in s.notes]
    lines += list(s.parts) or ["no Batch API runs recorded for this model and base URL"]
    if s.checking:
        lines.append(f"this check: {s.done} pre-labels stored, {s.n_failed} failed · "
                     f"cost ${s.cost_usd:.4f} · tokens {s.tokens_in:,} in, {s.tokens_out:,} out")
        lines += [f"  failed ×{n}: {reason}" for reason, n in s.failed.most_common()]
    if s.stopped:
        lines.append(f"ended early: {s.stopped}; run again to resume (the database keeps every step)")
    return lines


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def evaluation_table(r: dict) -> str:
    """The evaluation as aligned text: headline, per category, confusion, confidence buckets."""
    out = [f"{r['labeler']} pre-labels ({r['model']}) against blind human labels: n = {r['n']}",
           f"accuracy {_fmt(r['accuracy'])} · Cohen's kappa {_fmt(r['kappa'])}",
           f"left out: {r.get('n_excluded_shown', 0)} labeled with the pre-label shown, "
           f"{r.get('n_excluded_few_shot', 0)} few-shot examples",
           f"method: {r.get('method', '')}", "", f"{'category':<20} {'precision':>9} {'recall':>7} {'n':>5}"]
    for key, m in r["per_category"].items():
        out.append(f"{key:<20} {_fmt(m['precision']):>9} {_fmt(m['recall']):>7} {m['support']:>5}")
    labels = r["confusion"]["labels"]
    out += ["", "confusion (rows: human, columns: pre-label)",
            " " * 20 + " ".join(f"{i:>4}" for i in range(len(labels)))]
    for i, (key, row) in enumerate(zip(labels, r["confusion"]["matrix"], strict=True)):
        out.append(f"{i:>2} {key:<17}" + " ".join(f"{v:>4}" for v in row))
    out += ["", f"{'confidence':<12} {'n':>5} {'accuracy':>9}"]
    for b in r["by_confidence"]:
        out.append(f"{b['bucket']:<12} {b['n']:>5} {_fmt(b['accuracy']):>9}")
    return "\n".join(out)


@dataclass(frozen=True)
class EvaluationTable:
    """A titled table of an evaluation. Cells are values; `kinds` says how each column reads:
    "text", "count", "ratio" (a figure such as precision) or "share" (a percentage)."""

    title: str
    headers: tuple[str, ...]
    kinds: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


def evaluation_tables(r: dict, taxonomy: Taxonomy) -> list[EvaluationTable]:
    """Per-category precision and recall with support, the confusion matrix (rows: human
    label, columns: pre-label, by category name) and accuracy by confidence bucket."""
    per_cat = EvaluationTable(
        "Pre-labeler per category", ("Category", "Precision", "Recall", "Support"),
        ("text", "ratio", "ratio", "count"),
        tuple((taxonomy.name_of(k), v.get("precision"), v.get("recall"), v.get("support", ""))
              for k, v in r.get("per_category", {}).items()))
    conf = r.get("confusion") or {"labels": [], "matrix": []}
    labels = [taxonomy.name_of(str(x)) for x in conf.get("labels", [])]
    matrix = EvaluationTable(
        "Confusion matrix (rows: human label, columns: pre-label)", ("human \\ pre-label", *labels),
        ("text", *("count" for _ in labels)),
        tuple((lab, *row) for lab, row in zip(labels, conf.get("matrix", []), strict=False)))
    buckets = EvaluationTable(
        "Accuracy by confidence", ("Confidence", "n", "Accuracy"), ("text", "count", "share"),
        tuple((b.get("bucket"), b.get("n"), b.get("accuracy")) for b in r.get("by_confidence", [])))
    return [per_cat, matrix, buckets]


def confusion_frame(r: dict, taxonomy: Taxonomy) -> pd.DataFrame:
    """The confusion matrix by category name, rows marked as the human label (the page's view)."""
    names = [taxonomy.name_of(k) for k in r["confusion"]["labels"]]
    return pd.DataFrame(r["confusion"]["matrix"], index=[f"human: {n}" for n in names],
                        columns=names)


def evaluation_caption(r: dict) -> str:
    """One line under the page's headline: which labeler, how it was measured, what was left out
    (the offline model's name already says it is offline; it has no few-shot examples)."""
    who = (f"LLM pre-labels from {r['model']}" if r["labeler"] == "llm"
           else f"Offline labeler {r['model'].removeprefix('offline ')}")
    left_out = f"{r['n_excluded_shown']} labeled with the pre-label shown"
    if r["labeler"] == "llm":
        left_out += f", {r['n_excluded_few_shot']} few-shot examples"
    return f"{who} · {r['method']} · left out: {left_out}"
