"""What every table, view and column means, for analysts: one source for the SQL page's schema
panel, the schema section of docs/analysts.md (written by scripts/gen_docs.py) and the test that
checks both against a migrated database."""

from __future__ import annotations

from dataclasses import dataclass

_ANNOTATION_COLUMNS: dict[str, str] = {
    "annotation_id": "unique id of this row (hex uuid)",
    "transcript_id": "the transcript judged (transcripts.transcript_id)",
    "annotator": "reviewer name as entered in the app, or --user for imports",
    "kind": "label, adjudication (settles a disagreement), retraction (undoes `retracts`) or skip",
    "primary_label": "category key of the primary failure mode (categories.key); NULL for skip/retraction",
    "secondary_labels": "further category keys (VARCHAR[])",
    "context_present": "was the needed information in the model's context: yes, no or unknown",
    "severity": "low, medium or high",
    "failure_turn": "0-based index into messages of the turn where it first went wrong",
    "ideal_response": "for behavior failures: what the assistant should have said (tuning seed)",
    "note": "free-text note (open coding)",
    "queue": "queue that served the transcript: random, low_confidence, filtered or adjudication; NULL for imported labels",
    "sample_id": "sample the transcript was served from (samples.sample_id)",
    "prelabel_visible": "whether the pre-label was shown before the reviewer chose",
    "duration_ms": "time the reviewer spent on the transcript, in milliseconds",
    "taxonomy_name": "taxonomy the label belongs to (categories.taxonomy_name)",
    "taxonomy_version": "content hash of that taxonomy file (categories.taxonomy_version)",
    "created_at": "when the row was written (UTC)",
    "retracts": "for a retraction: the annotation_id it undoes",
    "origin": "where the row came from: app, import or demo",
}


@dataclass(frozen=True)
class Relation:
    """A documented table or view: what one row is, and each column's meaning."""

    name: str
    kind: str  # table | view
    row: str
    columns: dict[str, str]


RELATIONS: tuple[Relation, ...] = (
    Relation("transcripts", "table", "one imported conversation", {
        "transcript_id": "the key every other table uses: the record's id, or `<source>/<id>` "
                         "when another source already used that id",
        "source": "the --source name given at import (`default` when none was given)",
        "messages": "JSON list of chat messages (OpenAI format: role, content, tool_calls, …)",
        "context": "JSON list of retrieved documents {source, text}, or NULL",
        "tools": "JSON list of tool definitions the model had, or NULL",
        "metadata": "JSON object of metadata fields (model, channel, customer tier, …)",
        "content_hash": "sha256 of messages + context + tools: same content, same hash",
        "batch_id": "import batch that brought it (import_batches.batch_id)",
        "imported_at": "when it was imported (UTC)",
        "n_messages": "number of messages",
        "has_tool_calls": "true when any message carries tool calls",
        "n_chars": "characters of message content",
        "archived": "true when its batch was archived (left out of queues and the report)",
        "record_id": "the id as written in the imported record; unique per source",
    }),
    Relation("import_batches", "table", "one import run", {
        "batch_id": "unique id of the import",
        "file_name": "file imported",
        "format": "jsonl, csv or parquet",
        "source": "the --source name",
        "rows_read": "rows read from the file",
        "rows_imported": "rows added",
        "rows_duplicate": "rows skipped as duplicates (same content already present)",
        "rows_rejected": "rows rejected (invalid, or same id with different content)",
        "rejects_path": "file listing the rejected rows and why",
        "imported_by": "who imported",
        "imported_at": "when (UTC)",
    }),
    Relation("categories", "table", "one category of one taxonomy version", {
        "taxonomy_name": "taxonomy file name (taxonomies/<name>.toml)",
        "taxonomy_version": "content hash of the taxonomy file",
        "key": "category key used in labels (e.g. missed_tool_call)",
        "name": "display name",
        "fix_class": "pipeline, behavior, model, unknown (not decided yet: neither pipeline nor behavior) or none",
        "definition": "one-paragraph definition",
        "not_this_when": "when not to use this category",
        "typical_fix": "the usual fix",
        "shortcut": "keyboard key in the Annotate page",
        "position": "order in the taxonomy file",
    }),
    Relation("samples", "table", "one drawn sample of transcripts", {
        "sample_id": "unique id",
        "method": "random, stratified or filtered",
        "seed": "random seed",
        "n": "size requested",
        "filter": "JSON filter used, or NULL",
        "stratify_by": "metadata field stratified on, or NULL",
        "created_by": "who drew it",
        "created_at": "when (UTC)",
    }),
    Relation("sample_items", "table", "one transcript in a sample", {
        "sample_id": "samples.sample_id",
        "transcript_id": "transcripts.transcript_id",
        "position": "order in the sample's queue",
    }),
    Relation("annotations", "table",
             "one human judgement, append-only: a change, undo or adjudication is a new row",
             _ANNOTATION_COLUMNS),
    Relation("prelabels", "table", "one machine suggestion (never a human label)", {
        "prelabel_id": "unique id",
        "transcript_id": "transcripts.transcript_id",
        "content_hash": "content hash of the transcript when it was pre-labeled",
        "labeler": "llm, offline, or discover (a new category suggested for an \"Other\" label from its note's cluster)",
        "model": "model name",
        "prompt_version": "version of the prompt used",
        "taxonomy_version": "taxonomy version the labels belong to",
        "status": "ok or failed",
        "primary_label": "suggested category key",
        "secondary_labels": "suggested further keys (VARCHAR[])",
        "confidence": "0–1 confidence of the suggestion",
        "rationale": "short reason given",
        "evidence": "quote from the transcript, only when found in it (NFKC, whitespace normalised); NULL otherwise",
        "error": "why it failed (status = failed)",
        "truncated": "true when the transcript was shortened to fit",
        "latency_ms": "call time in milliseconds",
        "tokens_in": "prompt tokens",
        "tokens_out": "completion tokens",
        "cost_usd": "estimated cost from the price table",
        "created_at": "when (UTC)",
        "evidence_verified": "true: the quote was found in the transcript; false: not found (see evidence_unverified); NULL: no quote, or an LLM row from before the check",
        "evidence_unverified": "the model's quote when it was not found in the transcript: never shown as evidence",
    }),
    Relation("settings", "table", "one settings change, append-only; the latest row per key wins", {
        "key": "setting name (see `triage config list`)",
        "value": "JSON value",
        "set_by": "who changed it",
        "set_at": "when (UTC)",
    }),
    Relation("prelabel_prompts", "table", "one LLM prompt version and what went into it", {
        "prompt_version": "hash of the template, the few-shot ids and the metadata allow-list",
        "few_shot_ids": "transcripts shown as few-shot examples (left out of the evaluation)",
        "metadata_allowlist": "metadata fields sent with each transcript",
        "created_at": "when (UTC)",
    }),
    Relation("prelabel_batch_runs", "table",
             "one `triage prelabel --batch` (Batch API pre-labels): what it sent, where, at what price", {
        "run_id": "the run's id (in each batch's metadata)",
        "model": "model the requests name",
        "base_url": "OpenAI-compatible base URL (NULL: api.openai.com); checked with the same one",
        "prompt_version": "prompt version of every request",
        "taxonomy_version": "taxonomy version of every request",
        "n_requests": "requests sent",
        "n_parts": "input files (batches) they were split into",
        "price": "JSON: batch price per million input/output tokens",
        "full_price": "JSON: price_table entry, for synchronous retries",
        "est_cost_usd": "estimated cost at batch prices, shown before sending",
        "max_cost_usd": "spend cap (NULL: none)",
        "created_by": "who sent it",
        "created_at": "when (UTC)",
    }),
    Relation("prelabel_batch_items", "table", "one request of a Batch API run", {
        "run_id": "its run",
        "part": "its input file / batch (1, 2, …)",
        "custom_id": "`<prompt_version>:<transcript_id>`, the line's id in the batch",
        "transcript_id": "the transcript asked about",
        "content_hash": "its content hash when sent (the cache key)",
        "truncated": "whether it was cut to the token budget",
        "est_tokens_in": "estimated input tokens",
    }),
    Relation("prelabel_batch_events", "table",
             "what happened to each part, append-only; the latest event is its state", {
        "event_no": "order of events",
        "run_id": "the run",
        "part": "the part",
        "state": "prepared, uploaded, submitted, downloaded, collected or abandoned",
        "file_path": "the request file beside the database (deleted once collected)",
        "input_file_id": "the uploaded file's id",
        "batch_id": "the batch's id",
        "remote_status": "the batch's status when polled (validating, in_progress, completed, expired, …)",
        "n_completed": "requests completed, when polled",
        "n_failed": "requests failed, when polled",
        "output_file_id": "the output file's id",
        "error_file_id": "the error file's id",
        "detail": "JSON: stored, retried, not_processed counts, the lines to retry",
        "recorded_at": "when (UTC)",
    }),
    Relation("admin_log", "table", "one admin action, append-only", {
        "action": "archive, restore (a batch) or switch_taxonomy",
        "target": "the batch_id, or the taxonomy name",
        "detail": "JSON: {\"transcripts\": n} changed, or {\"from\": …, \"version\": …}",
        "done_by": "the admin who did it",
        "done_at": "when (UTC)",
    }),
    Relation("pull_watermarks", "table",
             "how far each live pull (`triage import --from`) has read; append-only, the latest "
             "row per (system, scope, source) wins", {
        "system": "langfuse or langsmith",
        "scope": "JSON: where (host, project) and the filters of the pull",
        "source": "the Triage source the traces went to",
        "newest_trace_at": "start (UTC) of the newest trace stored; the next pull asks from here",
        "traces_stored": "traces imported or found already stored by that pull",
        "batch_id": "import_batches.batch_id of that pull",
        "pulled_by": "who ran it",
        "pulled_at": "when (UTC)",
    }),
    Relation("discover_embeddings", "table",
             "one note text embedded by one model (the cache of `triage discover`)", {
        "model": "embedding model",
        "text_hash": "hash of the (redacted) text sent",
        "vector": "the embedding (FLOAT[])",
        "tokens": "its estimated tokens (the API reports usage per batch, not per text)",
        "created_at": "when (UTC)",
    }),
    Relation("discover_names", "table",
             "one cluster named by the chat model (the naming cache of `triage discover`)", {
        "model": "chat model",
        "prompt_version": "version of the naming prompt",
        "cluster_hash": "hash of the request: the examples and top terms shown",
        "answer": "JSON: name, definition, not_this_when, fix_class",
        "tokens_in": "prompt tokens",
        "tokens_out": "completion tokens",
        "cost_usd": "cost from the price table",
        "created_at": "when (UTC)",
    }),
    Relation("_migrations", "table", "one applied schema migration", {
        "name": "migration name (m001_tables, …)",
        "applied_at": "when it was applied",
    }),
    Relation("live_annotations", "view",
             "every label or adjudication that no retraction names (the live-label rule); "
             "same columns as annotations", _ANNOTATION_COLUMNS),
    Relation("prelabel_fits", "table",
             "one cross-fit of the offline labeler for the population estimate (the newest counts)", {
        "fit_id": "hash of the model version, K, features and taxonomy version",
        "model": "the offline model version the fit belongs to",
        "features_version": "feature set version",
        "taxonomy_version": "taxonomy version of the labels",
        "k": "number of folds (K)",
        "n_train": "human labels it was trained on",
        "created_at": "when (UTC)",
    }),
    Relation("prelabel_folds", "table",
             "one fold model's prediction for one transcript (cross-PPI); replaced by the next fit", {
        "fit_id": "prelabel_fits.fit_id",
        "transcript_id": "transcripts.transcript_id",
        "content_hash": "content hash of the transcript when predicted",
        "model": "fold-k: the model trained without fold k",
        "fold": "the fold a training transcript was held out of; NULL for the others (K rows)",
        "primary_label": "predicted category key",
        "confidence": "0–1 probability of that category",
        "created_at": "when (UTC)",
    }),
    Relation("current_labels", "view",
             "per (transcript, annotator) the latest label or adjudication, retractions applied; "
             "same columns as annotations", _ANNOTATION_COLUMNS),
    Relation("final_labels", "view", "one row per labeled transcript: the label that counts", {
        "transcript_id": "transcripts.transcript_id",
        "primary_label": "the adjudicated or agreed label; NULL for an open disagreement",
        "fix_class": "fix class of primary_label (categories.fix_class)",
        "status": "adjudicated, agreed, single or disagreement",
        "n_annotators": "number of reviewers with a live label",
        "taxonomy_name": "taxonomy of the label",
        "taxonomy_version": "taxonomy version of the label",
    }),
    Relation("ppi_scope", "view",
             "the sample whose filter is the population (the population_scope setting): one row, "
             "or none for all active transcripts", {
        "sample_id": "samples.sample_id (a random sample drawn with --where)",
        "filter": "its filter: field → accepted values",
    }),
    Relation("ppi_population", "view",
             "the population the estimate is about: the active transcripts in scope", {
        "transcript_id": "transcripts.transcript_id",
    }),
    Relation("ppi_random_sample", "view",
             "transcripts in scope of a uniform random sample (no strata; no filter, or the "
             "scope's own; or the random queue)", {
        "transcript_id": "transcripts.transcript_id",
    }),
    Relation("ppi_llm_latest", "view", "per active transcript, its newest successful LLM pre-label", {
        "transcript_id": "transcripts.transcript_id",
        "model": "LLM model",
        "prompt_version": "prompt version",
        "taxonomy_version": "taxonomy version of the suggestion",
        "primary_label": "suggested category key",
    }),
    Relation("ppi_inputs", "view",
             "what the population estimate uses: one row per (transcript, prediction)", {
        "transcript_id": "transcripts.transcript_id",
        "human_fix_class": "the final label's fix class (none for no_failure) when the transcript "
                           "is in the uniform random human sample; NULL otherwise",
        "predicted_fix_class": "the prediction's fix class (unknown for a key not in the taxonomy)",
        "model": "all (an LLM labeler) or fold-k (the offline model that left fold k out)",
        "fold": "a labeled transcript's held-out fold; NULL for the others",
        "human_label": "the final label's category key (with human_fix_class)",
        "predicted_label": "the predicted category key",
        "labeler": "llm or offline",
        "labeler_model": "the LLM model, or the offline model version",
        "prompt_version": "the LLM prompt version, or the offline feature set",
    }),
)


@dataclass(frozen=True)
class ExampleQuery:
    """A saved query: offered on the SQL page, listed in docs/analysts.md, run by a test."""

    title: str
    sql: str


EXAMPLE_QUERIES: tuple[ExampleQuery, ...] = (
    ExampleQuery("Failures by category per week", """\
SELECT date_trunc('week', a.created_at) AS week, f.primary_label, f.fix_class,
       count(*) AS failures
FROM final_labels f
JOIN (SELECT transcript_id, max(created_at) AS created_at
      FROM current_labels GROUP BY transcript_id) a USING (transcript_id)
WHERE f.fix_class IS DISTINCT FROM 'none' AND f.primary_label IS NOT NULL
GROUP BY ALL
ORDER BY week, failures DESC, f.primary_label"""),
    ExampleQuery("Agreement pairs", """\
SELECT a.annotator AS annotator_a, b.annotator AS annotator_b,
       count(*) AS both_labeled,
       count(*) FILTER (WHERE a.primary_label = b.primary_label) AS agreed,
       round(agreed / both_labeled, 3) AS raw_agreement
FROM current_labels a
JOIN current_labels b
  ON a.transcript_id = b.transcript_id AND a.annotator < b.annotator
WHERE a.kind = 'label' AND b.kind = 'label'
GROUP BY ALL
ORDER BY both_labeled DESC, annotator_a, annotator_b"""),
    ExampleQuery("Pre-label vs human confusion", """\
WITH latest AS (
    SELECT transcript_id, arg_max(primary_label, created_at) AS prelabel
    FROM prelabels WHERE status = 'ok'
    GROUP BY transcript_id)
SELECT f.primary_label AS human, l.prelabel, count(*) AS n
FROM final_labels f JOIN latest l USING (transcript_id)
WHERE f.primary_label IS NOT NULL
GROUP BY ALL
ORDER BY human, n DESC, l.prelabel"""),
    ExampleQuery("Slices by a metadata field", """\
SELECT coalesce(t.metadata->>'channel', '(none)') AS channel,
       count(*) AS labeled,
       count(*) FILTER (WHERE f.fix_class = 'pipeline') AS pipeline,
       count(*) FILTER (WHERE f.fix_class = 'behavior') AS behavior,
       round(pipeline / labeled, 3) AS pipeline_share
FROM final_labels f JOIN transcripts t USING (transcript_id)
WHERE f.primary_label IS NOT NULL
GROUP BY ALL
ORDER BY labeled DESC, channel"""),
    ExampleQuery("Transcripts with a tool call labeled missed_tool_call", """\
SELECT t.transcript_id, t.source, t.n_messages, f.status, t.metadata
FROM final_labels f JOIN transcripts t USING (transcript_id)
WHERE f.primary_label = 'missed_tool_call' AND t.has_tool_calls
ORDER BY t.transcript_id"""),
)


def relation(name: str) -> Relation:
    """The documentation of one table or view."""
    return next(r for r in RELATIONS if r.name == name)
