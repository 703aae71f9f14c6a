"""The report's exports: one self-contained, printable HTML file (Plotly inlined once, no
network), and Markdown for a wiki or PR (charts as tables). Every text that comes from data
(transcripts, metadata, names) is escaped."""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterable

import plotly.offline

from core.report.charts import category_figure, fix_class_figure, population_figure, width_figure
from core.report.cost_view import (
    cost_figure,
    cost_inputs_table,
    cost_outputs_table,
    cost_sentence,
    red_flags_table,
)
from core.report.examples import clip
from core.report.model import ExampleItem, Report
from core.report.tables import (
    Table,
    agreement_tables,
    category_table,
    fix_class_table,
    next_actions_table,
    population_facts,
    population_table,
    prelabeler_tables,
    readiness_table,
    sampling_tables,
    slice_table,
)
from core.report.text import (
    VERDICT_TITLES,
    basis_line,
    labeler_phrase,
    more_line,
    num,
    pct,
    population_intro,
)
from core.taxonomy import Taxonomy

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: #1a202c;
       max-width: 720px; margin: 24px auto; padding: 0 12px; font-size: 14px; line-height: 1.45; }
h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 26px;
  border-bottom: 1px solid #e2e8f0; padding-bottom: 3px; } h3 { font-size: 14px; margin-bottom: 4px; }
.meta { color: #4a5568; font-size: 12px; }
.verdict { border-radius: 6px; padding: 12px 16px; margin: 14px 0; border-left: 6px solid; }
.v-pipeline_first { background: #ebf4ff; border-color: #2b6cb0; }
.v-tuning_justified { background: #fffaf0; border-color: #c05621; }
.v-behavior_not_ready { background: #fefcbf; border-color: #b7791f; }
.v-inconclusive { background: #f7fafc; border-color: #718096; }
.verdict .title { font-size: 18px; font-weight: 700; }
.warning { background: #fff5f5; border: 1px solid #feb2b2; padding: 6px 10px; border-radius: 4px;
           margin: 6px 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 12.5px; }
th, td { border: 1px solid #e2e8f0; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f7fafc; }
.figures { display: flex; gap: 8px; }
.figure { flex: 1; border: 1px solid #e2e8f0; padding: 6px 10px; border-radius: 4px; font-size: 12px; }
.figure b { display: block; font-size: 18px; }
.pass { color: #276749; font-weight: 600; } .fail { color: #c53030; font-weight: 600; }
blockquote { margin: 4px 0 10px; padding: 6px 10px; background: #f7fafc;
             border-left: 3px solid #cbd5e0; white-space: pre-wrap; word-break: break-word; }
.chart { width: 660px; margin: 8px 0; }
.tid { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; color: #4a5568;
       overflow-wrap: anywhere; }
.example { margin: 10px 0 16px; }
.example h3 { margin: 0 0 2px; overflow-wrap: anywhere; }
.note { margin: 4px 0; overflow-wrap: anywhere; }
.fields { font-size: 12px; color: #4a5568; overflow-wrap: anywhere; }
.appendix, .details { break-before: page; }
.keep { break-inside: avoid; }  /* a heading never ends a page without its table */

@page { size: A4; margin: 14mm; }
@media print { body { margin: 0; max-width: none; font-size: 12.5px; line-height: 1.35; }
  h2 { break-after: avoid; margin-top: 16px; font-size: 16px; } h1 { margin-top: 0; }
  .verdict { padding: 8px 12px; margin: 10px 0; } .verdict p { margin: 6px 0; }
  table { font-size: 11px; margin: 4px 0 8px; } th, td { padding: 2px 5px; }
  tr, .chart, .verdict, blockquote, .figures { break-inside: avoid; } }
"""

e = html.escape


def json_text(value: object) -> str:
    """A metadata value as text: strings as they are, anything else as compact JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _table_html(t: Table, note: str | None = None, titled: bool = True) -> str:
    title = f"<h3>{e(t.title)}</h3>" if titled else ""
    if not t.rows:
        return f"{title}<p class='meta'>{e(note or 'none')}</p>"
    head = "".join(f"<th>{e(h)}</th>" for h in t.headers)
    body = "".join(
        "<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in t.rows)
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(text: str) -> str:
    if text in ("pass", "FAIL", "RAISED"):
        return f"<td class='{'pass' if text == 'pass' else 'fail'}'>{e(text)}</td>"
    return f"<td>{e(text)}</td>"


def _figure_html(fig, div_id: str) -> str:
    # A fixed div id (Plotly's default is random) keeps exports of the same data identical.
    body = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displayModeBar": False, "responsive": False})
    return f"<div class='chart'>{body}</div>"


def _section(title: str, parts: Iterable[str], css: str = "") -> str:
    cls = f" class='{css}'" if css else ""
    return f"<section{cls}><h2>{e(title)}</h2>{''.join(parts)}</section>"


def _head(r: Report) -> str:
    figures = [("Transcripts", r.n_transcripts), ("Labeled", r.n_labeled),
               ("Failures", r.n_failures), ("Open disagreements", r.n_open_disagreements),
               ("No failure", f"{pct(r.no_failure.share)} of labeled")]
    boxes = "".join(f"<div class='figure'><b>{e(f'{v:,}' if isinstance(v, int) else str(v))}</b>"
                    f"{e(k)}</div>" for k, v in figures)
    more = ""
    if r.verdict == "inconclusive":
        more = f"<p>{e(more_line(r))}</p>"
    warnings = "".join(f"<div class='warning'>⚠ {e(w)}</div>" for w in r.warnings)
    basis = f"<p class='meta'>{e(basis_line(r))}</p>" if r.population else ""
    return (f"<div class='verdict v-{e(r.verdict)}'><div class='title'>"
            f"{e(VERDICT_TITLES[r.verdict])}</div><p>{e(r.verdict_sentence)}</p>{more}{basis}</div>"
            f"{warnings}<div class='figures'>{boxes}</div>")


def _population_html(r: Report) -> str:
    if r.population is None:
        return ""
    charts = [] if r.population.method == "human-only" else [
        _figure_html(population_figure(r), "chart-population")]
    if r.population.width_by_n:
        charts.append(_figure_html(width_figure(r), "chart-population-width"))
    return _section("Population estimate", [
        f"<p>{e(population_intro(r.population))}</p>", *charts,
        _table_html(population_table(r), titled=False), _table_html(population_facts(r))])
def _red_flags_summary_html(r: Report) -> str:
    """The summary names every red flag but lists only the open ones (raised, unanswered, not
    assessed) with what to do: the whole table, with each flag's evidence, is in the details."""
    if not r.red_flags:
        return ""
    table = red_flags_table(r)
    open_rows = tuple((row[0], row[1], row[3]) for row, f in zip(table.rows, r.red_flags, strict=True)
                      if f.status != "clear")
    clear = [f.title for f in r.red_flags if f.status == "clear"]
    parts = ["<p>Red flags make tuning fail; tuning is never called justified while one is raised "
             "or unanswered." + (f" Clear: {e(', '.join(clear))} (evidence in the details)."
                                 if clear else "") + "</p>"]
    if open_rows:
        headers = (table.headers[0], table.headers[1], table.headers[3])
        parts.append(_table_html(dataclasses.replace(table, headers=headers, rows=open_rows)))
    return "".join(parts)


def _red_flags_html(r: Report) -> str:
    if not r.red_flags:
        return ""
    return _section("Before you tune: red flags", [_table_html(red_flags_table(r), titled=False)])


def _cost_html(r: Report) -> str:
    """The cost panel: a self-contained section (placed by the layout)."""
    if r.cost is None:
        return ""
    return _section("What tuning would cost", [
        f"<p>{e(cost_sentence(r.cost))}</p>", _figure_html(cost_figure(r.cost), "chart-cost"),
        _table_html(cost_outputs_table(r.cost), titled=False), _table_html(cost_inputs_table(r.cost))])


def _agreement_html(r: Report, t: Taxonomy) -> str:
    a = r.agreement
    if a.n_items == 0:
        return _section("Annotator agreement", ["<p>No transcript is double-labeled yet.</p>"])
    ci = "" if a.ci_low is None else f" (bootstrap 95% CI {num(a.ci_low)}–{num(a.ci_high)})"
    intro = (f"<p>Krippendorff's alpha (nominal): <b>{e(num(a.krippendorff_alpha))}</b>{e(ci)} "
             f"on {a.n_items} double-labeled transcripts; raw agreement "
             f"{e(pct(a.raw_agreement))}.</p>")
    return _section("Annotator agreement", [intro, *(_table_html(x) for x in agreement_tables(r, t))])


def _prelabeler_html(r: Report, t: Taxonomy) -> str:
    p = r.prelabeler
    if not p:
        return _section("Pre-labeler quality", ["<p>No pre-labels to compare with human labels.</p>"])
    intro = (f"<p>{e(labeler_phrase(p).capitalize())} on {e(str(p.get('n')))} "
             f"human-labeled transcripts: accuracy <b>{e(pct(p.get('accuracy')))}</b>, Cohen's kappa "
             f"<b>{e(num(p.get('kappa')))}</b>. High accuracy can hide poor recall on rare "
             "categories: read recall per category.</p>")
    return _section("Pre-labeler quality", [intro, *(_table_html(x) for x in prelabeler_tables(p, t))])


def _example_html(ex: ExampleItem, t: Taxonomy) -> str:
    fields = "; ".join(f"{k}: {clip(json_text(v), 160)}" for k, v in ex.metadata.items())
    parts = [f"<h3>{e(t.category(ex.category).name if ex.category in t.keys else ex.category)} · "
             f"<span class='tid' title='{e(ex.transcript_id, quote=True)}'>{e(ex.short_id)}</span></h3>",
             f"<p class='meta'>{e(ex.snippet_from)}</p><blockquote>{e(ex.snippet)}</blockquote>"]
    if ex.note:
        parts.append(f"<p class='note'><b>Reviewer's note:</b> {e(ex.note)}</p>")
    if fields:
        parts.append(f"<p class='fields'>{e(fields)}</p>")
    return f"<div class='example'>{''.join(parts)}</div>"


def _examples_html(r: Report, t: Taxonomy) -> str:
    if not r.examples:
        return ""
    intro = ("<p class='meta'>Up to three transcripts of each of the top categories, the most "
             "informative first: the message where a reviewer marked the failure (else the "
             "pre-labeler's evidence, else the last assistant message) and the reviewer's note. "
             "Hover an id for the full one.</p>")
    return ("<section class='appendix'><h2>Appendix: examples from the top categories</h2>"
            + intro + "".join(_example_html(ex, t) for ex in r.examples) + "</section>")


def _sampling_html(r: Report) -> str:
    s = r.sampling
    view = ("random-only view: transcripts whose labels all came from the random queue "
            f"({s.n_excluded_by_random_only} labeled transcripts left out)"
            if s.random_only else "all labels")
    intro = (f"<p>This report covers {e(view)}. Labels from non-random queues: "
             f"<b>{e(pct(s.non_random_share, 1))}</b>; queue not recorded: "
             f"{e(pct(s.unrecorded_queue_share, 1))}.</p>")
    warn = f"<div class='warning'>⚠ {e(s.warning)}</div>" if s.warning else ""
    tables = sampling_tables(r)
    return _section("How the sample was drawn", [
        intro, warn, _table_html(tables[0], "no recorded sample: labels were not drawn from a "
                                 "recorded sample"), *(_table_html(x) for x in tables[1:])])


def render_html(report: Report, taxonomy: Taxonomy) -> str:
    """The report as one self-contained HTML page (Plotly inlined, no network), printable."""
    r, t = report, taxonomy
    versions = ", ".join(f"{v['name']}@{v['version']} ({v['n']})" for v in r.taxonomy.versions)
    meta = (f"Taxonomy {r.taxonomy.name} version {r.taxonomy.version} · labels made with: "
            f"{versions or 'none'} · labels from {r.date_range['first_label'] or '–'} to "
            f"{r.date_range['last_label'] or '–'} · generated {r.generated_at}")
    slices = [_table_html(slice_table(f, rows, t), "no labeled transcripts")
              for f, rows in r.slices.items()]
    body = [
        f"<h1>Triage report</h1><p class='meta'>{e(meta)}</p>", _head(r),
        _section("Fix classes", [_figure_html(fix_class_figure(r), 'chart-fix-classes')]),
        _section("Categories", [_figure_html(category_figure(r, t), 'chart-categories')]),
        _section("Readiness for fine-tuning", [
            "<p>Decides between tuning justified and not ready yet when behavior failures "
            "dominate. Thresholds come from the taxonomy's [decision] table.</p>",
            _table_html(readiness_table(r), titled=False), _red_flags_summary_html(r)], "keep"),
        _section("Next actions", [_table_html(next_actions_table(r), "no failures yet", titled=False)]),
        # Details from a new page: the summary above fits the first two pages of the PDF.
        "<div class='details'>",
        _section("In numbers", [_table_html(fix_class_table(r)), _table_html(category_table(r, t))]),
        _red_flags_html(r), _population_html(r), _cost_html(r),
        _section("Slices", slices) if slices else "",
        _agreement_html(r, t), _prelabeler_html(r, t), _sampling_html(r), "</div>",
        _examples_html(r, t),
    ]
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Triage report · {e(VERDICT_TITLES[r.verdict])}</title><style>{_CSS}</style>"
            f"<script type='text/javascript'>{plotly.offline.get_plotlyjs()}</script></head>"
            f"<body>{''.join(body)}</body></html>")


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def _table_md(t: Table) -> str:
    if not t.rows:
        return f"**{t.title}**: none\n"
    lines = [f"**{_md_cell(t.title)}**", "", "| " + " | ".join(map(_md_cell, t.headers)) + " |",
             "|" + "---|" * len(t.headers)]
    lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in t.rows]
    return "\n".join(lines) + "\n"


def _cost_md(r: Report) -> list[str]:
    if r.cost is None:
        return []
    return ["## What tuning would cost", "", _md_cell(cost_sentence(r.cost)), "",
            _table_md(cost_outputs_table(r.cost)), _table_md(cost_inputs_table(r.cost))]


def render_markdown(report: Report, taxonomy: Taxonomy) -> str:
    """The report as Markdown: the verdict, then every chart as a table."""
    r, t = report, taxonomy
    out = [f"# Triage report: {VERDICT_TITLES[r.verdict]}", "", _md_cell(r.verdict_sentence), ""]
    if r.verdict == "inconclusive":
        out += [_md_cell(more_line(r)), ""]
    if r.population:
        out += [_md_cell(basis_line(r)), ""]
    out += [f"> ⚠ {_md_cell(w)}" for w in r.warnings] + [""]
    out += [f"{r.n_transcripts} transcripts · {r.n_labeled} labeled · {r.n_failures} failures · "
            f"{r.n_open_disagreements} open disagreements · no failure {pct(r.no_failure.share)} "
            f"of labeled · taxonomy {r.taxonomy.name}@{r.taxonomy.version} · generated "
            f"{r.generated_at}", ""]
    if r.population:
        out += ["## Population estimate", "", _md_cell(population_intro(r.population)), "",
                _table_md(population_table(r)), _table_md(population_facts(r))]
    tables = [fix_class_table(r), category_table(r, t), readiness_table(r),
              *([red_flags_table(r)] if r.red_flags else [])]
    out += [_table_md(x) for x in tables] + _cost_md(r)
    tables = [next_actions_table(r), *(slice_table(f, rows, t) for f, rows in r.slices.items())]
    a = r.agreement
    out += [_table_md(x) for x in tables]
    out += ["## Annotator agreement", "",
            f"Krippendorff's alpha (nominal) {num(a.krippendorff_alpha)} (95% CI {num(a.ci_low)}–"
            f"{num(a.ci_high)}) on {a.n_items} double-labeled transcripts; raw agreement "
            f"{pct(a.raw_agreement)}.", ""]
    out += [_table_md(x) for x in agreement_tables(r, t)]
    if r.prelabeler:
        p = r.prelabeler
        out += ["## Pre-labeler quality", "",
                f"{_md_cell(labeler_phrase(p).capitalize())}, n = {p.get('n')}: "
                f"accuracy {pct(p.get('accuracy'))}, kappa {num(p.get('kappa'))}.", ""]
        out += [_table_md(x) for x in prelabeler_tables(p, t)]
    out += ["## How the sample was drawn", "",
            f"{'Random-only view. ' if r.sampling.random_only else ''}Labels from non-random "
            f"queues: {pct(r.sampling.non_random_share, 1)}.", ""]
    out += [_table_md(x) for x in sampling_tables(r)]
    out += _examples_md(r, t)
    return "\n".join(out)


def _examples_md(r: Report, t: Taxonomy) -> list[str]:
    if not r.examples:
        return []
    out = ["## Appendix: examples from the top categories", ""]
    for ex in r.examples:
        name = t.name_of(ex.category)
        out += [f"### {_md_cell(name)} · `{ex.transcript_id.replace('`', '')}`", "",
                f"*{_md_cell(ex.snippet_from)}*", "", f"> {_md_cell(ex.snippet)}", ""]
        if ex.note:
            out += [f"**Reviewer's note:** {_md_cell(ex.note)}", ""]
        if ex.metadata:
            out += ["; ".join(f"{_md_cell(str(k))}: {_md_cell(clip(json_text(v), 160))}"
                              for k, v in ex.metadata.items()), ""]
    return out
