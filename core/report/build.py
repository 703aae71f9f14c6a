"""The decision: shares with Wilson intervals, the verdict, the readiness checklist, how many
more failures would decide, next actions and slices (PRODUCT.md "The decision (report)").
`compose_report` is pure; `build_report` reads storage and calls it."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.labels.agreement import Agreement, measure_agreement
from core.prelabel.evaluate import evaluate_prelabels
from core.report.examples import example_items
from core.report.failures import Failures, category_counts, failure_rows, fix_class_of, n_failures
from core.report.model import (
    Check,
    ExampleItem,
    NextAction,
    Report,
    Sampling,
    Share,
    SliceRow,
    TaxonomyInfo,
    share_of,
)
from core.report.population import HumanSide, estimate_population
from core.report.population_inputs import CLASSES, PopulationInputs, inputs_from_rows
from core.report.text import population_sentence, verdict_sentence
from core.report.tuning import (
    TuningData,
    assess,
    notes_scatter,
    proposed_for_tuning,
    read_tuning_data,
)
from core.stats import more_needed_to_clear
from core.store import report_data
from core.store.connection import Database
from core.store.population import (
    FINAL,
    Census,
    PpiSummary,
    human_only_reads,
    population_census,
    read_ppi_rows,
)
from core.store.report_data import ReportData, SliceCount
from core.store.settings import get_setting
from core.store.visibility import Viewer, hidden_among
from core.taxonomy import Taxonomy

FAILURE_CLASSES = ("pipeline", "behavior", "model")
# Failures whose category has no fix class yet ("Other", a discovered category): counted in n,
# listed beside the three classes when there are any, never as pipeline or behavior.
UNKNOWN_CLASS = "unknown"
SMALL_SLICE = 20  # slices with fewer failures than this are flagged
NON_RANDOM_WARN = 0.10  # warn when more of the labels than this came from non-random queues


def class_shares(failures: Failures) -> dict[str, Share]:
    """Share of failures per fix class (pipeline, behavior, model, then unknown when any
    failure has it), with intervals. Unknown failures stay in the denominator: they are
    failures, and counting them as neither pipeline nor behavior is the honest reading."""
    counts: Counter = Counter()
    for g, cls in failures:
        counts[cls] += g.n
    n = n_failures(failures)
    classes = FAILURE_CLASSES + ((UNKNOWN_CLASS,) if counts[UNKNOWN_CLASS] else ())
    return {c: share_of(counts[c], n) for c in classes}


def unknown_class_warning(classes: dict[str, Share]) -> str | None:
    """The sentence the report shows when some failures have fix class unknown."""
    s = classes.get(UNKNOWN_CLASS)
    if s is None or not s.count:
        return None
    return (f"{s.count} failures ({s.share:.0%}) have fix class unknown (\"Other\" or a discovered "
            "category without a fix class): they count as failures but as neither pipeline nor "
            "behavior, so they can only delay a verdict. Group their notes with `triage discover` "
            "and choose a fix class for each new category.")


def category_shares(failures: Failures, taxonomy: Taxonomy) -> dict[str, Share]:
    """Share of failures per failure category, in taxonomy order (then any older keys)."""
    counts = category_counts(failures)
    keys = [c.key for c in taxonomy.categories if c.fix_class != "none"]
    keys += sorted(k for k in counts if k not in keys)
    return {k: share_of(counts[k], n_failures(failures)) for k in keys}


def decide(classes: dict[str, Share], checks: Sequence[Check], flags: Sequence = ()) -> str:
    """pipeline_first | tuning_justified | behavior_not_ready | inconclusive. Tuning is never
    justified while a red flag is raised or unanswered."""
    def clears(c: str) -> bool:
        low = classes[c].ci_low
        return low is not None and low > 0.5

    if clears("pipeline"):
        return "pipeline_first"
    if clears("behavior"):
        ready = all(c.passed for c in checks) and not any(f.blocks_tuning for f in flags)
        return "tuning_justified" if ready else "behavior_not_ready"
    return "inconclusive"


def leading_class(classes: dict[str, Share]) -> str | None:
    """The fix class with the most failures (None without failures; ties: the first listed)."""
    best = max(classes, key=lambda c: classes[c].count)
    return best if classes[best].count else None


def more_failures(classes: dict[str, Share], n_failures: int) -> tuple[int | None, str]:
    """Further labeled failures needed for the leading class's interval to clear 50% at its
    current share, and why when that number is 0 or does not exist."""
    lead = leading_class(classes)
    if lead is None:
        return None, "no labeled failures yet: label a random sample of failing transcripts"
    share = classes[lead]
    if lead == UNKNOWN_CLASS:
        return None, ("failures of unknown fix class lead: more labels cannot decide until their "
                      "categories have a fix class (`triage discover`, then a new taxonomy)")
    if lead == "model":
        return None, ("model-class failures lead: more labels at this share would show they "
                      "dominate, which decides neither pipeline work nor tuning")
    needed = more_needed_to_clear(share.count, n_failures)
    if needed is None:
        return None, (f"the leading class ({lead}) holds {share.share:.0%} of failures, not more "
                      "than 50%: more data at this share never decides")
    if needed == 0:
        return 0, f"decided: the {lead} share's lower bound already exceeds 50%"
    return needed, (f"at the {lead} share of {share.share:.1%}, {needed:,} more labeled failures "
                    "would lift its lower bound above 50%")


def readiness_checks(failures: Failures, agreement: Agreement,
                     decision: dict[str, float]) -> tuple[Check, ...]:
    """The checklist that decides between tuning justified and not ready yet."""
    n = n_failures(failures)
    behavior = category_counts(failures, "behavior")
    n_behavior = sum(behavior.values())
    min_share = decision["tuned_category_min_share"]
    tuned = proposed_for_tuning(behavior, n, min_share)
    top_share = max(behavior.values()) / n if behavior else None
    min_examples = decision["min_examples_per_tuned_category"]
    fewest = min(tuned.values()) if tuned else None
    top = max(behavior.values()) / n_behavior if n_behavior else None
    listing = ", ".join(f"{k} {c}" for k, c in sorted(tuned.items(), key=lambda kv: -kv[1]))
    return (
        Check("tuned_category_min_share", "a behavior category holds enough of the failures to tune for",
              top_share, min_share, top_share is not None and top_share >= min_share,
              f"proposed for tuning: {listing}" if tuned else "no behavior category reaches the share"),
        Check("min_examples_per_tuned_category", "enough labeled examples of each proposed category",
              fewest, min_examples, fewest is not None and fewest >= min_examples,
              f"labeled examples: {listing}" if tuned else "no category proposed for tuning"),
        _alpha_check(agreement, decision),
        _context_check(failures, n_behavior, decision),
        Check("min_top_behavior_share", "the task is narrow: one behavior category dominates",
              top, decision["min_top_behavior_share"],
              top is not None and top >= decision["min_top_behavior_share"],
              f"top behavior category holds {max(behavior.values(), default=0)} of {n_behavior}"),
    )


def _context_check(failures: Failures, n_behavior: int,
                   decision: dict[str, float]) -> Check:
    """The share of behavior failures with the needed information in context, over those whose
    reviewer answered (yes or no; unset is unknown, never "no"). When fewer than
    `min_context_answered_share` of them are answered, the share is not told: null, not passed."""
    said: Counter = Counter()
    for g, cls in failures:
        if cls == "behavior":
            said[g.context_present] += g.n
    answered, yes = said["yes"] + said["no"], said["yes"]
    need, min_answered = decision["min_context_present_share"], decision["min_context_answered_share"]
    label = "failures persist with the right context present"
    told = f"answered for {answered} of {n_behavior} behavior failures"
    if not n_behavior:
        return Check("min_context_present_share", label, None, need, False,
                     "no behavior failures labeled yet")
    if answered < min_answered * n_behavior:
        return Check("min_context_present_share", label, None, need, False,
                     f"not measured: {told}, at least {min_answered:.0%} needed (the rest are "
                     "unknown: set Y / N on Annotate)")
    share = yes / answered
    return Check("min_context_present_share", label, share, need, share >= need,
                 f"context present = yes in {yes} of {answered}; {told}")


def _alpha_check(agreement: Agreement, decision: dict[str, float]) -> Check:
    alpha, n_items = agreement.krippendorff_alpha, agreement.n_items
    need = int(decision["min_double_labeled"])
    label = "annotators agree (Krippendorff's alpha, nominal)"
    if n_items < need:
        return Check("min_alpha", label, None, decision["min_alpha"], False,
                     f"not measured: {n_items} double-labeled transcripts, at least {need} needed")
    ci = ("" if agreement.ci_low is None
          else f" (95% CI {agreement.ci_low:.2f}–{agreement.ci_high:.2f})")
    shown = "undefined" if alpha is None else f"{alpha:.2f}"
    return Check("min_alpha", label, alpha, decision["min_alpha"],
                 alpha is not None and alpha >= decision["min_alpha"],
                 f"alpha {shown}{ci} on {n_items} double-labeled transcripts")


def next_actions(verdict: str, failures: Failures,
                 taxonomy: Taxonomy) -> tuple[NextAction, ...]:
    """The categories that drive the verdict, ranked by count, with their typical fix."""
    driving = {"pipeline_first": {"pipeline"}, "tuning_justified": {"behavior"},
               "behavior_not_ready": {"behavior"}}.get(verdict, set(FAILURE_CLASSES))
    counts: Counter = Counter()
    ideal: Counter = Counter()
    for g, cls in failures:
        if cls in driving:
            counts[(g.primary_label, cls)] += g.n
        if cls == "behavior" and g.has_ideal_response:
            ideal[g.primary_label] += g.n
    n = n_failures(failures)
    out = []
    for (key, cls), count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0])):
        cat = taxonomy.category(key) if key in taxonomy.keys else None
        out.append(NextAction(
            key, taxonomy.name_of(key), cls, count, count / n,
            cat.typical_fix if cat else "", ideal[key] if cls == "behavior" else None))
    return tuple(out)


def compute_slices(counts: Sequence[SliceCount], taxonomy: Taxonomy) -> tuple[SliceRow, ...]:
    """Per value of one metadata field: n labeled, n failures, fix-class shares, top category.
    Slices with fewer than SMALL_SLICE failures are flagged `small`."""
    labeled: Counter = Counter()
    classes: dict[str, Counter] = defaultdict(Counter)
    categories: dict[str, Counter] = defaultdict(Counter)
    for g in counts:
        if g.primary_label is None:
            continue
        value = "(missing)" if g.value is None else g.value
        labeled[value] += g.n
        cls = g.fix_class or fix_class_of(g, taxonomy)
        if cls not in (None, "none"):
            classes[value][cls] += g.n
            categories[value][g.primary_label] += g.n
    out = []
    for value, n in labeled.items():
        n_fail = sum(classes[value].values())
        top = categories[value].most_common(1)
        out.append(SliceRow(value, n, n_fail, n_fail < SMALL_SLICE,
                            {c: share_of(classes[value][c], n_fail) for c in FAILURE_CLASSES},
                            top[0][0] if top else None))
    return tuple(sorted(out, key=lambda s: (-s.n_labeled, s.value)))


def sampling_section(data: ReportData, random_only: bool) -> Sampling:
    """Samples, labels per queue, the non-random share (warned above 10%)."""
    n = sum(data.queues.values())
    non_random = sum(c for q, c in data.queues.items() if q not in ("random", ""))
    share = non_random / n if n else None
    warning = None
    if share is not None and share > NON_RANDOM_WARN:
        warning = (f"{share:.0%} of labels came from non-random queues (lowest confidence first, "
                   "filters): shares may not generalise; see the random-only view")
    return Sampling(random_only, data.samples, dict(data.queues), n, share,
                    data.queues.get("", 0) / n if n else None, data.n_excluded_random_only, warning)


def taxonomy_info(data: ReportData, taxonomy: Taxonomy) -> TaxonomyInfo:
    """The taxonomy in use, the versions labels were made with, a warning when they differ."""
    versions = tuple({"name": n, "version": v, "n": c} for n, v, c in data.taxonomy_versions)
    mixed = {(v["name"], v["version"]) for v in versions} - {(taxonomy.name, taxonomy.version)}
    warning = None
    if len(versions) > 1 or mixed:
        warning = ("labels were made with more than one taxonomy version: "
                   + ", ".join(f"{v['name']}@{v['version']} ({v['n']})" for v in versions))
    return TaxonomyInfo(taxonomy.name, taxonomy.version, versions, warning)


def compose_report(data: ReportData, taxonomy: Taxonomy, agreement: Agreement,
                   prelabeler: dict[str, Any] | None, generated_at: datetime,
                   slices: dict[str, tuple[SliceCount, ...]] | None = None,
                   examples: Sequence[ExampleItem] = (), random_only: bool = False,
                   population: PopulationData | None = None,
                   population_enabled: bool = True, tuning: TuningData | None = None) -> Report:
    """The whole report from plain data. `slices` maps a metadata field to its counts;
    `population` is the census and the coded ppi_inputs rows (None: no population block);
    `tuning` feeds the cost panel and the red flags (None: neither)."""
    labeled = [g for g in data.counts if g.primary_label is not None]
    n_labeled = sum(g.n for g in labeled)
    failures = failure_rows(labeled, taxonomy)
    classes = class_shares(failures)
    checks = readiness_checks(failures, agreement, taxonomy.decision)
    cost, flags = (None, ()) if tuning is None else assess(
        tuning, failures, agreement, taxonomy, classes["behavior"])
    verdict = decide(classes, checks, flags)
    needed, reason = more_failures(classes, n_failures(failures))
    sampling, tax = sampling_section(data, random_only), taxonomy_info(data, taxonomy)
    unknown = [f for f, v in (slices or {}).items() if v and all(g.value is None for g in v)]
    warnings = tuple(w for w in (demo_warning(data.n_demo_left_out), sampling.warning,
                                 tax.warning, unknown_class_warning(classes)) if w) + tuple(
        f"slice {f!r}: no transcript in the report has this field (a metadata key or `source`); "
        "check its spelling" for f in unknown)
    pop = None if population is None else estimate_population(
        population.census, population.inputs, taxonomy,
        HumanSide(verdict, classes, n_labeled, checks, tuple(flags)), population_enabled)
    basis = "population" if pop is not None and pop.method != "human-only" else "human-only"
    sentence = (population_sentence(pop) if basis == "population"
                else verdict_sentence(verdict, classes, n_failures(failures), checks, needed, flags))
    return Report(
        verdict=pop.verdict if basis == "population" else verdict,
        verdict_sentence=sentence, population=pop, verdict_basis=basis, human_verdict=verdict,
        leading_class=leading_class(classes), n_transcripts=data.n_transcripts,
        n_labeled=n_labeled, n_failures=n_failures(failures),
        n_open_disagreements=sum(g.n for g in data.counts) - n_labeled, fix_classes=classes,
        categories=category_shares(failures, taxonomy),
        no_failure=share_of(n_labeled - n_failures(failures), n_labeled), readiness=checks,
        more_failures_needed=needed, more_failures_reason=reason, agreement=agreement,
        prelabeler=prelabeler, sampling=sampling,
        next_actions=next_actions(verdict, failures, taxonomy),
        slices={f: compute_slices(v, taxonomy) for f, v in (slices or {}).items()},
        examples=tuple(examples), taxonomy=tax, reviewers=dict(data.reviewers),
        date_range={"first_label": _iso(data.first_label_at), "last_label": _iso(data.last_label_at)},
        warnings=warnings, generated_at=_iso(generated_at) or "", cost=cost, red_flags=flags,
        left_out={"demo": data.n_demo_left_out, "archived": data.n_archived_left_out})


def demo_warning(n_demo: int) -> str | None:
    """What the report says when it leaves the bundled demo out of a database that also holds
    the team's transcripts (made by an earlier version of Triage)."""
    if not n_demo:
        return None
    return (f"this database also holds the bundled demo ({n_demo} transcripts with synthetic "
            "labels): this report, its agreement figures and the pre-labeler's evaluation "
            "leave them out. `triage demo --remove` deletes them.")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


@dataclass(frozen=True)
class PopulationData:
    """The population block's inputs: the validity census and the coded ppi_inputs rows."""

    census: Census
    inputs: PopulationInputs | PpiSummary | None  # a summary when the block is off


def read_population(db: Database, enabled: bool = True,
                    final: str = FINAL) -> PopulationData:
    """Read the census and the ppi_inputs view (no model is fit: the fit is stored). Turned
    off, the block is human-only: only what it shows is read (no coverage, no coded rows).
    `final`: where the census reads the final labels (build_report: its materialised copy)."""
    if not enabled:
        return PopulationData(*human_only_reads(db, CLASSES, final))
    census = population_census(db, final)
    # No pre-label in scope (no coverage): the view is empty, so it is not evaluated.
    return PopulationData(census, inputs_from_rows(read_ppi_rows(db, CLASSES))
                          if census.coverage else None)


def build_report(db: Database, taxonomy: Taxonomy, random_only: bool = False,
                 slice_fields: Sequence[str] = (), generated_at: datetime | None = None,
                 seed: int = 0, examples_per_category: int = 3,
                 population: bool | None = None, viewer: Viewer | None = None) -> Report:
    """Read storage and build the report. `generated_at` is injectable for reproducible exports;
    `seed` seeds the agreement bootstrap. `population`: None (auto: estimated when every
    transcript in scope has a pre-label from one labeler, else the block says why not), True
    (the same; the CLI says why when it cannot), False (off). `viewer`: the examples as they may
    read them (as_seen_by); the counts are the same for everyone."""
    data = report_data.read_report_data(db, random_only)
    final = {r.transcript_id: (r.primary_label, r.status) for r in data.rows}
    agreement = measure_agreement(data.label_triples, final, seed=seed)
    tuning = read_tuning_data(db, notes_scatter(db))
    slices = {f: report_data.slice_values(db, f) for f in slice_fields}
    when = generated_at or datetime.now(UTC).replace(tzinfo=None)
    report = compose_report(data, taxonomy, agreement, evaluate_prelabels(db, taxonomy), when,
                            slices, random_only=random_only,
                            population=read_population(db, population is not False,
                                                       report_data.ACTIVE_FINAL),
                            population_enabled=population is not False, tuning=tuning)
    return dataclasses.replace(report, examples=_examples(db, report, examples_per_category,
                                                          viewer))


def _examples(db: Database, report: Report, per_category: int,
              viewer: Viewer | None) -> tuple[ExampleItem, ...]:
    """The examples of the top three categories (after the report tables are prepared)."""
    ranked = sorted((k for k, s in report.categories.items() if s.count),
                    key=lambda k: -report.categories[k].count)[:3]
    return example_items(report_data.example_transcripts(db, ranked, per_category, viewer),
                         get_setting(db, "report_fields"))


def as_seen_by(db: Database, report: Report, viewer: Viewer,
               examples_per_category: int = 3) -> Report:
    """The report as `viewer` may read it (the visibility rule): the same counts, which are
    aggregates, but no example whose label (or whose quoted pre-label evidence) is hidden from
    them; such examples are picked again without them. The report itself is built once for
    everyone (the Report page caches it)."""
    if not hidden_among(db, viewer, [e.transcript_id for e in report.examples]):
        return report
    report_data.prepare_report_tables(db, report.sampling.random_only)
    return dataclasses.replace(report, examples=_examples(db, report, examples_per_category,
                                                          viewer))


def report_slices(db: Database, taxonomy: Taxonomy, field: str,
                  random_only: bool = False) -> tuple[SliceRow, ...]:
    """One metadata field's slices over the report's transcripts (for the interactive page)."""
    report_data.prepare_report_tables(db, random_only)
    return compute_slices(report_data.slice_values(db, field), taxonomy)
