"""Plain-text views of a plan, a run summary and an evaluation (CLI output; the page reuses the
same words)."""

from __future__ import annotations

import pandas as pd

from core.prelabel.plan import RunOptions, RunPlan
from core.prelabel.run import RunSummary
from core.report.tables import prelabeler_tables
from core.taxonomy import Taxonomy


def describe_plan(plan: RunPlan, options: RunOptions) -> list[str]:
    """What will be sent and what it is estimated to cost."""
    lines = list(f"note: {n}" for n in plan.notices)
    lines.append(f"labeler: {plan.labeler} · model {plan.model} · prompt {plan.prompt_version} · "
                 f"taxonomy {plan.taxonomy_version[:12]}")
    lines.append(f"{len(plan.items)} transcript(s) to pre-label, {plan.cached} already done "
                 "(cached, no request)")
    if plan.labeler == "llm" and plan.items:
        truncated = sum(i.truncated for i in plan.items)
        lines.append(f"estimated: {plan.est_tokens_in:,} input + {plan.est_tokens_out:,} output "
                     f"tokens, ${plan.est_cost:.4f}"
                     + (f" ({truncated} long transcript(s) cut to the token budget)" if truncated else ""))
        if options.max_cost is not None:
            lines.append(f"spend cap: ${options.max_cost:g}")
    return lines


def summary_lines(s: RunSummary) -> list[str]:
    """After a run: done, cached, failed by reason, cost and tokens, and why it stopped early."""
    lines = [f"done: {s.done} labeled, {s.cached} cached, {s.n_failed} failed"
             + (f", {s.planned - s.finished} not started" if s.planned > s.finished else "")]
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


def _category_name(taxonomy: Taxonomy, key: str) -> str:
    return taxonomy.category(key).name if key in taxonomy.keys else key


def evaluation_frames(r: dict, taxonomy: Taxonomy) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The evaluation as tables for the page, as the Report page shows it (category names,
    figures rounded): per category, confusion (rows: human label), confidence buckets."""
    per_cat, _, buckets = (pd.DataFrame(list(t.rows), columns=list(t.headers))
                           for t in prelabeler_tables(r, taxonomy))
    names = [_category_name(taxonomy, k) for k in r["confusion"]["labels"]]
    confusion = pd.DataFrame(r["confusion"]["matrix"], index=[f"human: {n}" for n in names],
                             columns=names)
    return per_cat, confusion, buckets


def evaluation_caption(r: dict) -> str:
    """One line under the page's headline: which labeler, how it was measured, what was left out
    (the offline model's name already says it is offline; it has no few-shot examples)."""
    who = (f"LLM pre-labels from {r['model']}" if r["labeler"] == "llm"
           else f"Offline labeler {r['model'].removeprefix('offline ')}")
    left_out = f"{r['n_excluded_shown']} labeled with the pre-label shown"
    if r["labeler"] == "llm":
        left_out += f", {r['n_excluded_few_shot']} few-shot examples"
    return f"{who} · {r['method']} · left out: {left_out}"
