"""Planning a pre-label run: which transcripts, which labeler, what it will cost."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.config import Settings
from core.prelabel.budget import count_tokens
from core.prelabel.crossfit import fit_identity
from core.prelabel.llm import make_client
from core.prelabel.offline import FEATURES_VERSION, OfflineModel, train_offline
from core.prelabel.prompt import PromptSpec, build_messages, make_spec, pick_few_shot
from core.prelabel.redact import compile_patterns
from core.store.connection import Database
from core.store.population import Fit, fit_transcripts, latest_fit
from core.store.prelabels import done_hashes, human_final_labels, prelabel_candidates
from core.store.settings import get_setting
from core.store.transcripts import Transcript, content_hashes, get_transcripts
from core.taxonomy import Taxonomy

EST_TOKENS_OUT = 120  # a JSON answer with a two-sentence rationale and a quote
NO_LLM_NOTICE = ("no OPENAI_API_KEY and no TRIAGE_LLM_BASE_URL: using the offline labeler "
                 "(set one of them, or pass --base-url, for LLM pre-labels)")


@dataclass(frozen=True)
class RunOptions:
    """What to pre-label and how (the CLI flags and the page's widgets)."""

    offline: bool = False
    limit: int | None = None
    concurrency: int = 4
    only_unlabeled: bool = False
    sample_id: str | None = None
    max_cost: float | None = None
    few_shot: int = 4
    max_transcript_tokens: int = 12000


@dataclass(frozen=True)
class PlanItem:
    """One transcript to send, with its prepared request and estimated tokens. An offline item
    names its transcript only (a run loads them chunk by chunk) and what it needs: the main
    model's suggestion, the cross-fit's fold predictions, or both."""

    transcript: Transcript | None
    messages: list[dict] | None
    truncated: bool
    est_tokens_in: int
    est_cost: float
    transcript_id: str = ""
    main: bool = True
    folds: bool = False


@dataclass
class RunPlan:
    """The run before it starts: the estimate the user confirms."""

    labeler: str  # llm | offline
    model: str
    prompt_version: str
    taxonomy_version: str
    items: list[PlanItem]
    cached: int
    price: dict | None = None
    notices: list[str] = field(default_factory=list)
    spec: PromptSpec | None = None
    offline_model: OfflineModel | None = None
    offline_labeled: list[tuple[Transcript, str]] = field(default_factory=list)
    fit: Fit | None = None  # the cross-fit this run extends (new unless `fit_stored`)
    fit_stored: bool = False

    @property
    def est_tokens_in(self) -> int:
        return sum(i.est_tokens_in for i in self.items)

    @property
    def est_tokens_out(self) -> int:
        return EST_TOKENS_OUT * len(self.items) if self.labeler == "llm" else 0

    @property
    def est_cost(self) -> float:
        return sum(i.est_cost for i in self.items)


def cost_of(price: dict | None, tokens_in: int, tokens_out: int) -> float:
    """USD for tokens at a price_table entry ({input_per_mtok, output_per_mtok}); 0 without one."""
    if not price:
        return 0.0
    return (tokens_in * float(price.get("input_per_mtok", 0))
            + tokens_out * float(price.get("output_per_mtok", 0))) / 1e6


def _labeled_transcripts(db: Database, pairs: list[tuple[str, str]]) -> list[tuple[Transcript, str]]:
    by_id = {t.transcript_id: t for t in get_transcripts(db, [i for i, _ in pairs])}
    return [(by_id[i], lab) for i, lab in pairs if i in by_id]


def _candidates(db: Database, options: RunOptions, exclude: set[str]) -> list[Transcript]:
    ids = prelabel_candidates(db, only_unlabeled=options.only_unlabeled,
                              sample_id=options.sample_id)
    ids = [i for i in ids if i not in exclude]
    if options.limit is not None:
        ids = ids[: options.limit]
    return get_transcripts(db, ids)


def plan_offline(db: Database, taxonomy: Taxonomy, options: RunOptions,
                 notices: list[str] | None = None) -> RunPlan:
    """Train the offline model on the reviewer labels so far and list what it has not labeled,
    and what the cross-fit (the population estimate's fold predictions) still lacks."""
    labeled = _labeled_transcripts(db, human_final_labels(db))
    model = train_offline(taxonomy, labeled)
    fit = fit_identity(model, [lab for _, lab in labeled if lab in taxonomy.keys], taxonomy)
    stored = latest_fit(db)
    fit_stored = stored is not None and stored.fit_id == fit.fit_id
    with_folds = fit_transcripts(db, fit.fit_id) if fit_stored else set()
    ids = prelabel_candidates(db, only_unlabeled=options.only_unlabeled, sample_id=options.sample_id)
    ids = ids[: options.limit] if options.limit is not None else ids
    hashes = content_hashes(db, ids)
    done = done_hashes(db, model.version, FEATURES_VERSION, taxonomy.version)
    items = []
    for tid in ids:
        main, folds = hashes[tid] not in done, fit.k >= 2 and tid not in with_folds
        if main or folds:
            items.append(PlanItem(None, None, False, 0, 0.0, tid, main, folds))
    return RunPlan("offline", model.version, FEATURES_VERSION, taxonomy.version, items,
                   len(ids) - len(items), None, list(notices or []), None, model, labeled, fit,
                   fit_stored)


def _spec(db: Database, taxonomy: Taxonomy, options: RunOptions) -> PromptSpec:
    labeled = human_final_labels(db)
    shots = pick_few_shot(labeled, taxonomy, options.few_shot)
    return make_spec(taxonomy, _labeled_transcripts(db, shots),
                     metadata_allowlist=list(get_setting(db, "metadata_allowlist")),
                     redact_patterns=compile_patterns(get_setting(db, "redact_patterns")),
                     redact_pii=bool(get_setting(db, "redact_pii")),
                     max_transcript_tokens=options.max_transcript_tokens)


def plan_llm(db: Database, settings: Settings, taxonomy: Taxonomy, options: RunOptions) -> RunPlan:
    """Freeze the prompt (few-shot examples included), skip cached work, estimate the cost."""
    spec = _spec(db, taxonomy, options)
    shot_ids = {s.transcript_id for s in spec.few_shot}
    todo = _candidates(db, options, shot_ids)
    done = done_hashes(db, settings.llm_model, spec.version, taxonomy.version)
    price = get_setting(db, "price_table").get(settings.llm_model)
    notices = [] if price else [f"no price for model {settings.llm_model!r} in the price_table "
                                "setting: cost counted as $0"]
    items = []
    for t in todo:
        if t.content_hash in done:
            continue
        messages, truncated = build_messages(spec, t)
        n_in = sum(count_tokens(m["content"]) + 4 for m in messages)
        items.append(PlanItem(t, messages, truncated, n_in, cost_of(price, n_in, EST_TOKENS_OUT)))
    return RunPlan("llm", settings.llm_model, spec.version, taxonomy.version, items,
                   len(todo) - len(items), price, notices, spec)


def plan_run(db: Database, settings: Settings, taxonomy: Taxonomy, options: RunOptions) -> RunPlan:
    """The LLM plan, or the offline one when asked or when no LLM is configured."""
    if options.offline:
        return plan_offline(db, taxonomy, options)
    if make_client(settings) is None:
        return plan_offline(db, taxonomy, options, [NO_LLM_NOTICE])
    return plan_llm(db, settings, taxonomy, options)
