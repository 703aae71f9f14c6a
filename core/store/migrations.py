"""DuckDB schema as ordered, append-only migrations. Never edit a migration that has shipped:
add a new one. Applied migrations are recorded in `_migrations`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import duckdb

M001_TABLES = """
CREATE TABLE import_batches (
    batch_id VARCHAR PRIMARY KEY,
    file_name VARCHAR,
    format VARCHAR,
    source VARCHAR,
    rows_read BIGINT,
    rows_imported BIGINT,
    rows_duplicate BIGINT,
    rows_rejected BIGINT,
    rejects_path VARCHAR,
    imported_by VARCHAR,
    imported_at TIMESTAMP
);
CREATE TABLE transcripts (
    transcript_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    messages JSON NOT NULL,
    context JSON,
    tools JSON,
    metadata JSON,
    content_hash VARCHAR NOT NULL,
    batch_id VARCHAR,
    imported_at TIMESTAMP,
    n_messages INTEGER,
    has_tool_calls BOOLEAN,
    n_chars BIGINT,
    archived BOOLEAN DEFAULT false
);
CREATE INDEX transcripts_hash ON transcripts(content_hash);
CREATE TABLE categories (
    taxonomy_name VARCHAR,
    taxonomy_version VARCHAR,
    key VARCHAR,
    name VARCHAR,
    fix_class VARCHAR,
    definition VARCHAR,
    not_this_when VARCHAR,
    typical_fix VARCHAR,
    shortcut VARCHAR,
    position INTEGER,
    PRIMARY KEY (taxonomy_name, taxonomy_version, key)
);
CREATE TABLE samples (
    sample_id VARCHAR PRIMARY KEY,
    method VARCHAR,
    seed BIGINT,
    n INTEGER,
    filter JSON,
    stratify_by VARCHAR,
    created_by VARCHAR,
    created_at TIMESTAMP
);
CREATE TABLE sample_items (
    sample_id VARCHAR,
    transcript_id VARCHAR,
    position INTEGER
);
CREATE TABLE annotations (
    annotation_id VARCHAR PRIMARY KEY,
    transcript_id VARCHAR NOT NULL,
    annotator VARCHAR NOT NULL,
    kind VARCHAR NOT NULL CHECK (kind IN ('label', 'adjudication', 'retraction', 'skip')),
    primary_label VARCHAR,
    secondary_labels VARCHAR[],
    context_present VARCHAR CHECK (context_present IN ('yes', 'no', 'unknown')),
    severity VARCHAR CHECK (severity IN ('low', 'medium', 'high')),
    failure_turn INTEGER,
    ideal_response VARCHAR,
    note VARCHAR,
    queue VARCHAR,
    sample_id VARCHAR,
    prelabel_visible BOOLEAN,
    duration_ms BIGINT,
    taxonomy_name VARCHAR,
    taxonomy_version VARCHAR,
    created_at TIMESTAMP NOT NULL,
    retracts VARCHAR,
    origin VARCHAR DEFAULT 'app'
);
CREATE INDEX annotations_transcript ON annotations(transcript_id);
CREATE TABLE prelabels (
    prelabel_id VARCHAR PRIMARY KEY,
    transcript_id VARCHAR NOT NULL,
    content_hash VARCHAR,
    labeler VARCHAR,
    model VARCHAR,
    prompt_version VARCHAR,
    taxonomy_version VARCHAR,
    status VARCHAR CHECK (status IN ('ok', 'failed')),
    primary_label VARCHAR,
    secondary_labels VARCHAR[],
    confidence DOUBLE,
    rationale VARCHAR,
    evidence VARCHAR,
    error VARCHAR,
    truncated BOOLEAN,
    latency_ms BIGINT,
    tokens_in BIGINT,
    tokens_out BIGINT,
    cost_usd DOUBLE,
    created_at TIMESTAMP
);
CREATE INDEX prelabels_transcript ON prelabels(transcript_id);
CREATE TABLE settings (
    key VARCHAR NOT NULL,
    value JSON,
    set_by VARCHAR,
    set_at TIMESTAMP
);
"""

# current_labels: per (transcript, annotator) the latest label or adjudication that no
# retraction points at. final_labels: the adjudication if one exists, else agreement status.
M002_VIEWS = """
CREATE VIEW current_labels AS
WITH live AS (
    SELECT a.* FROM annotations a
    WHERE a.kind IN ('label', 'adjudication')
      AND a.annotation_id NOT IN (
          SELECT retracts FROM annotations WHERE kind = 'retraction' AND retracts IS NOT NULL)
)
SELECT * EXCLUDE (rn) FROM (
    SELECT live.*, row_number() OVER (
        PARTITION BY transcript_id, annotator ORDER BY created_at DESC, annotation_id DESC) AS rn
    FROM live)
WHERE rn = 1;

CREATE VIEW final_labels AS
WITH adjudicated AS (
    SELECT * EXCLUDE (rn) FROM (
        SELECT c.*, row_number() OVER (
            PARTITION BY transcript_id ORDER BY created_at DESC, annotation_id DESC) AS rn
        FROM current_labels c WHERE kind = 'adjudication')
    WHERE rn = 1
),
labels AS (
    SELECT transcript_id,
           count(DISTINCT annotator) AS n_annotators,
           count(DISTINCT primary_label) AS n_distinct,
           arg_max(primary_label, created_at) AS latest_label,
           arg_max(taxonomy_name, created_at) AS taxonomy_name,
           arg_max(taxonomy_version, created_at) AS taxonomy_version
    FROM current_labels WHERE kind = 'label'
    GROUP BY transcript_id
),
merged AS (
    SELECT coalesce(adj.transcript_id, l.transcript_id) AS transcript_id,
           CASE WHEN adj.transcript_id IS NOT NULL THEN adj.primary_label
                WHEN l.n_distinct = 1 THEN l.latest_label END AS primary_label,
           CASE WHEN adj.transcript_id IS NOT NULL THEN 'adjudicated'
                WHEN l.n_annotators = 1 THEN 'single'
                WHEN l.n_distinct = 1 THEN 'agreed'
                ELSE 'disagreement' END AS status,
           coalesce(l.n_annotators, 0) AS n_annotators,
           coalesce(adj.taxonomy_name, l.taxonomy_name) AS taxonomy_name,
           coalesce(adj.taxonomy_version, l.taxonomy_version) AS taxonomy_version
    FROM labels l FULL OUTER JOIN adjudicated adj USING (transcript_id)
)
SELECT m.transcript_id, m.primary_label, c.fix_class, m.status, m.n_annotators,
       m.taxonomy_name, m.taxonomy_version
FROM merged m
LEFT JOIN categories c
  ON c.taxonomy_name = m.taxonomy_name AND c.taxonomy_version = m.taxonomy_version
 AND c.key = m.primary_label;
"""

# Who archived or restored which batch, and when (admin actions). Append-only like
# `settings`, but keyed by action and target rather than by setting name.
M003_ADMIN_LOG = """
CREATE TABLE admin_log (
    action VARCHAR NOT NULL,
    target VARCHAR NOT NULL,
    detail JSON,
    done_by VARCHAR NOT NULL,
    done_at TIMESTAMP NOT NULL
);
"""

# The prompt behind each LLM prompt_version: which reviewer-labeled transcripts were shown as
# few-shot examples (the evaluation leaves them out) and which metadata fields were sent.
M004_PRELABEL_PROMPTS = """
CREATE TABLE prelabel_prompts (
    prompt_version VARCHAR PRIMARY KEY,
    few_shot_ids VARCHAR[],
    metadata_allowlist VARCHAR[],
    created_at TIMESTAMP
);
"""

# Ids are unique per source (PRODUCT.md), while every other table refers to a transcript by
# `transcript_id` alone. So `transcript_id` stays the database-wide key, and the id as written in
# the record is kept in `record_id`, unique within its source. The two are equal unless another
# source already used that id; then the importer makes transcript_id `<source>/<id>`.
M005_RECORD_IDS = """
ALTER TABLE transcripts ADD COLUMN record_id VARCHAR;
UPDATE transcripts SET record_id = transcript_id;
"""
# Its own migration: DuckDB cannot create an index in the transaction that updated the table.
M006_RECORD_ID_INDEX = """
CREATE UNIQUE INDEX transcripts_source_record ON transcripts(source, record_id);
"""

# The live-label rule, in one place: a label or adjudication is live unless a retraction names
# it. current_labels (the latest live row per transcript and annotator) is redefined on it, with
# the same columns; the queues read live_annotations for who holds a label on what.
M010_LIVE_ANNOTATIONS = """
CREATE VIEW live_annotations AS
SELECT a.* FROM annotations a
WHERE a.kind IN ('label', 'adjudication')
  AND a.annotation_id NOT IN (
      SELECT retracts FROM annotations WHERE kind = 'retraction' AND retracts IS NOT NULL);

CREATE OR REPLACE VIEW current_labels AS
SELECT * EXCLUDE (rn) FROM (
    SELECT live.*, row_number() OVER (
        PARTITION BY transcript_id, annotator ORDER BY created_at DESC, annotation_id DESC) AS rn
    FROM live_annotations live)
WHERE rn = 1;
"""

# The offline labeler's cross-fitted predictions (issue 17, cross-PPI): one fit = K models, each
# trained without one fold of the human labels. A training transcript has the one prediction of
# the model that left its fold out (`fold` set); every other transcript has K rows (`fold` NULL).
# A cache, replaced by the next fit: `triage report` reads it and never refits.
M012_PRELABEL_FOLDS = """
CREATE TABLE prelabel_fits (
    fit_id VARCHAR PRIMARY KEY,
    model VARCHAR NOT NULL,
    features_version VARCHAR,
    taxonomy_version VARCHAR,
    k INTEGER NOT NULL,
    n_train INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE prelabel_folds (
    fit_id VARCHAR NOT NULL,
    transcript_id VARCHAR NOT NULL,
    content_hash VARCHAR,
    model VARCHAR NOT NULL,
    fold INTEGER,
    primary_label VARCHAR,
    confidence DOUBLE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX prelabel_folds_fit ON prelabel_folds(fit_id, transcript_id);
"""

# What the population estimate uses (issue 17). Two helper views and `ppi_inputs`, one row
# per (transcript, prediction). ppi_random_sample: transcripts in a uniform random sample (drawn
# without a filter or strata, or served by the random queue over one or over everything).
# ppi_llm_latest: per active transcript, its newest successful LLM pre-label. The labeler: the
# LLM when one model and prompt version covers every active transcript (its few-shot examples
# aside), else the latest offline fit, else whatever LLM pre-labels there are (the report then
# says why it cannot estimate). human_fix_class: the final label's fix class for a transcript of
# the random sample, NULL otherwise; an LLM's few-shot examples never count.
M013_PPI_INPUTS = """
CREATE VIEW ppi_random_sample AS
WITH uniform AS (
    SELECT sample_id FROM samples
    WHERE method = 'random' AND filter IS NULL AND stratify_by IS NULL
)
SELECT transcript_id FROM sample_items WHERE sample_id IN (SELECT sample_id FROM uniform)
UNION
SELECT transcript_id FROM current_labels
WHERE queue = 'random' AND (sample_id IS NULL OR sample_id IN (SELECT sample_id FROM uniform));

CREATE VIEW ppi_llm_latest AS
SELECT p.transcript_id, p.model, p.prompt_version, p.taxonomy_version, p.primary_label
FROM prelabels p JOIN transcripts t USING (transcript_id)
WHERE p.status = 'ok' AND p.labeler = 'llm' AND NOT t.archived
QUALIFY row_number() OVER (PARTITION BY p.transcript_id
                           ORDER BY p.created_at DESC, p.prelabel_id DESC) = 1;

CREATE VIEW ppi_inputs AS
WITH active AS (SELECT transcript_id FROM transcripts WHERE NOT archived),
few_shot AS (
    SELECT DISTINCT unnest(few_shot_ids) AS transcript_id FROM prelabel_prompts
    WHERE prompt_version IN (SELECT prompt_version FROM ppi_llm_latest)
),
llm_whole AS (
    SELECT count(*) > 0 AND count(DISTINCT (model, prompt_version)) = 1 AND NOT EXISTS (
        SELECT 1 FROM active a
        WHERE a.transcript_id NOT IN (SELECT transcript_id FROM ppi_llm_latest)
          AND a.transcript_id NOT IN (SELECT transcript_id FROM few_shot)) AS whole
    FROM ppi_llm_latest
),
fit AS (SELECT * FROM prelabel_fits ORDER BY created_at DESC, fit_id DESC LIMIT 1),
chosen AS (
    SELECT CASE WHEN (SELECT whole FROM llm_whole) THEN 'llm'
                WHEN EXISTS (SELECT 1 FROM fit) THEN 'offline'
                WHEN EXISTS (SELECT 1 FROM ppi_llm_latest) THEN 'llm' END AS labeler
),
human AS (
    SELECT f.transcript_id, f.primary_label, coalesce(f.fix_class, 'unknown') AS fix_class
    FROM final_labels f
    WHERE f.primary_label IS NOT NULL
      AND f.transcript_id IN (SELECT transcript_id FROM ppi_random_sample)
      AND ((SELECT labeler FROM chosen) IS DISTINCT FROM 'llm'
           OR f.transcript_id NOT IN (SELECT transcript_id FROM few_shot))
),
preds AS (
    SELECT transcript_id, 'all' AS model, NULL::INTEGER AS fold, primary_label,
           taxonomy_version, 'llm' AS labeler, model AS labeler_model, prompt_version
    FROM ppi_llm_latest WHERE (SELECT labeler FROM chosen) = 'llm'
    UNION ALL
    SELECT f.transcript_id, f.model, f.fold, f.primary_label, fit.taxonomy_version,
           'offline', fit.model, fit.features_version
    FROM prelabel_folds f JOIN fit USING (fit_id) JOIN active USING (transcript_id)
    WHERE (SELECT labeler FROM chosen) = 'offline'
),
classes AS (
    SELECT taxonomy_version, key, any_value(fix_class) AS fix_class FROM categories GROUP BY ALL
)
SELECT p.transcript_id, h.fix_class AS human_fix_class,
       coalesce(c.fix_class, 'unknown') AS predicted_fix_class, p.model, p.fold,
       h.primary_label AS human_label, p.primary_label AS predicted_label, p.labeler,
       p.labeler_model, p.prompt_version
FROM preds p
LEFT JOIN human h USING (transcript_id)
LEFT JOIN classes c ON c.taxonomy_version = p.taxonomy_version AND c.key = p.primary_label;
"""

# Live pulls (`triage import --from langfuse|langsmith`) remember the newest trace time they
# stored, per system, where (host and project), filters and Triage source, so the next pull
# asks only for newer traces. Append-only like `settings`: the latest row per key wins.
M015_PULL_WATERMARKS = """
CREATE TABLE pull_watermarks (
    system VARCHAR NOT NULL,
    scope VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    newest_trace_at TIMESTAMP NOT NULL,
    traces_stored BIGINT,
    batch_id VARCHAR,
    pulled_by VARCHAR,
    pulled_at TIMESTAMP NOT NULL
);
"""

# Pre-labels through OpenAI's Batch API (issue 20). A run is one `triage prelabel --batch`; its
# requests are split into parts (one input file and one batch each). What happened to a part is
# an append-only list of events (prepared → uploaded → submitted → downloaded → collected, or
# abandoned), each recorded as soon as it is true, so a process killed at any point resumes
# from the database: the latest event per part is its state.
M023_PRELABEL_BATCHES = """
CREATE TABLE prelabel_batch_runs (
    run_id VARCHAR PRIMARY KEY,
    model VARCHAR NOT NULL,
    base_url VARCHAR,
    prompt_version VARCHAR NOT NULL,
    taxonomy_version VARCHAR NOT NULL,
    n_requests INTEGER,
    n_parts INTEGER,
    price JSON,
    full_price JSON,
    est_cost_usd DOUBLE,
    max_cost_usd DOUBLE,
    created_by VARCHAR,
    created_at TIMESTAMP
);
CREATE TABLE prelabel_batch_items (
    run_id VARCHAR NOT NULL,
    part INTEGER NOT NULL,
    custom_id VARCHAR NOT NULL,
    transcript_id VARCHAR NOT NULL,
    content_hash VARCHAR,
    truncated BOOLEAN,
    est_tokens_in INTEGER
);
CREATE SEQUENCE prelabel_batch_event_no;
CREATE TABLE prelabel_batch_events (
    event_no BIGINT DEFAULT nextval('prelabel_batch_event_no'),
    run_id VARCHAR NOT NULL,
    part INTEGER NOT NULL,
    state VARCHAR NOT NULL CHECK (state IN ('prepared', 'uploaded', 'submitted', 'downloaded',
                                            'collected', 'abandoned')),
    file_path VARCHAR,
    input_file_id VARCHAR,
    batch_id VARCHAR,
    remote_status VARCHAR,
    n_completed INTEGER,
    n_failed INTEGER,
    output_file_id VARCHAR,
    error_file_id VARCHAR,
    detail JSON,
    recorded_at TIMESTAMP NOT NULL
);
"""

# Discovery (issue 19): embeddings of note texts from /v1/embeddings, per model, so a re-run
# sends no request for a text it has seen. `tokens` is the batch's usage per text (for costs).
M021_DISCOVER_EMBEDDINGS = """
CREATE TABLE discover_embeddings (
    model VARCHAR NOT NULL,
    text_hash VARCHAR NOT NULL,
    vector FLOAT[] NOT NULL,
    tokens INTEGER,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (model, text_hash)
);
"""
# The chat model's name, definition, "not this when" and fix class for one cluster, keyed by a
# hash of the examples it was shown: the same cluster under the same model and prompt is never
# asked twice (like pre-labels' cache).
M022_DISCOVER_NAMES = """
CREATE TABLE discover_names (
    model VARCHAR NOT NULL,
    prompt_version VARCHAR NOT NULL,
    cluster_hash VARCHAR NOT NULL,
    answer JSON NOT NULL,
    tokens_in INTEGER,
    tokens_out INTEGER,
    cost_usd DOUBLE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (model, prompt_version, cluster_hash)
);
"""

# Issue 15 (prompt hygiene): a pre-label's evidence quote is checked against the text the model
# was sent. `evidence` holds only a quote found there; a quote not found is kept in
# `evidence_unverified` (never shown as evidence); `evidence_verified` is true (found), false (not
# found) or NULL (no quote, or a row from before the check).
M038_EVIDENCE_CHECK = """
ALTER TABLE prelabels ADD COLUMN evidence_verified BOOLEAN;
ALTER TABLE prelabels ADD COLUMN evidence_unverified VARCHAR;
"""
# Rows from before the check: an LLM quote was never checked, so it leaves `evidence` (kept in
# `evidence_unverified`; re-running the pre-labels checks it); the offline labeler's quote is cut
# from the transcript itself, so it stands. Its own migration: an UPDATE after an ALTER of a table
# with an index must be in a later transaction.
M039_EVIDENCE_BACKFILL = """
UPDATE prelabels SET evidence_unverified = evidence, evidence = NULL
WHERE labeler = 'llm' AND coalesce(trim(evidence), '') <> '';
UPDATE prelabels SET evidence_verified = true
WHERE labeler = 'offline' AND coalesce(trim(evidence), '') <> '';
"""

# The population's scope (issue 17): the `population_scope` setting names `all` (every active
# transcript) or a random sample drawn with --where (no strata). ppi_scope: that sample and its
# filter, one row, or none for `all` (and for a setting naming anything else: the report says
# so). ppi_population: the active transcripts in scope, those matching every field of the
# filter (any of its values; `source` the column, any other field a metadata key, as
# `triage sample --where` drew them). A uniform random sample of the scope is one drawn with
# no filter (its items in scope are uniform among them) or with the scope's own filter; the
# random queue as before. ppi_inputs reads the scope's transcripts only.
M045_POPULATION_SCOPE = """
CREATE OR REPLACE VIEW ppi_scope AS
WITH setting AS (
    SELECT value ->> '$' AS sample_id FROM settings WHERE key = 'population_scope'
    ORDER BY set_at DESC LIMIT 1
)
SELECT s.sample_id, s.filter FROM samples s JOIN setting USING (sample_id)
WHERE s.method = 'random' AND s.stratify_by IS NULL AND s.filter IS NOT NULL;

CREATE OR REPLACE VIEW ppi_population AS
SELECT t.transcript_id FROM transcripts t
WHERE NOT t.archived AND NOT EXISTS (
    SELECT 1 FROM ppi_scope sc, unnest(json_keys(sc.filter)) AS k(field)
    WHERE NOT coalesce(list_contains(
        CAST(json_extract(sc.filter, '$."' || k.field || '"') AS VARCHAR[]),
        CASE WHEN k.field = 'source' THEN t.source
             ELSE json_extract_string(t.metadata, '$."' || k.field || '"') END), false));

CREATE OR REPLACE VIEW ppi_random_sample AS
WITH uniform AS (
    SELECT sample_id FROM samples
    WHERE method = 'random' AND stratify_by IS NULL
      AND (filter IS NULL OR CAST(filter AS VARCHAR) IN (SELECT CAST(filter AS VARCHAR) FROM ppi_scope))
),
population AS (SELECT transcript_id FROM ppi_population)
SELECT transcript_id FROM sample_items
WHERE sample_id IN (SELECT sample_id FROM uniform)
  AND transcript_id IN (SELECT transcript_id FROM population)
UNION
SELECT transcript_id FROM current_labels
WHERE queue = 'random' AND (sample_id IS NULL OR sample_id IN (SELECT sample_id FROM uniform))
  AND transcript_id IN (SELECT transcript_id FROM population);

CREATE OR REPLACE VIEW ppi_inputs AS
WITH active AS (SELECT transcript_id FROM ppi_population),
latest AS (SELECT * FROM ppi_llm_latest WHERE transcript_id IN (SELECT transcript_id FROM active)),
few_shot AS (
    SELECT DISTINCT unnest(few_shot_ids) AS transcript_id FROM prelabel_prompts
    WHERE prompt_version IN (SELECT prompt_version FROM latest)
),
llm_whole AS (
    SELECT count(*) > 0 AND count(DISTINCT (model, prompt_version)) = 1 AND NOT EXISTS (
        SELECT 1 FROM active a
        WHERE a.transcript_id NOT IN (SELECT transcript_id FROM latest)
          AND a.transcript_id NOT IN (SELECT transcript_id FROM few_shot)) AS whole
    FROM latest
),
fit AS (SELECT * FROM prelabel_fits ORDER BY created_at DESC, fit_id DESC LIMIT 1),
chosen AS (
    SELECT CASE WHEN (SELECT whole FROM llm_whole) THEN 'llm'
                WHEN EXISTS (SELECT 1 FROM fit) THEN 'offline'
                WHEN EXISTS (SELECT 1 FROM latest) THEN 'llm' END AS labeler
),
human AS (
    SELECT f.transcript_id, f.primary_label, coalesce(f.fix_class, 'unknown') AS fix_class
    FROM final_labels f
    WHERE f.primary_label IS NOT NULL
      AND f.transcript_id IN (SELECT transcript_id FROM ppi_random_sample)
      AND ((SELECT labeler FROM chosen) IS DISTINCT FROM 'llm'
           OR f.transcript_id NOT IN (SELECT transcript_id FROM few_shot))
),
preds AS (
    SELECT transcript_id, 'all' AS model, NULL::INTEGER AS fold, primary_label,
           taxonomy_version, 'llm' AS labeler, model AS labeler_model, prompt_version
    FROM latest WHERE (SELECT labeler FROM chosen) = 'llm'
    UNION ALL
    SELECT f.transcript_id, f.model, f.fold, f.primary_label, fit.taxonomy_version,
           'offline', fit.model, fit.features_version
    FROM prelabel_folds f JOIN fit USING (fit_id) JOIN active USING (transcript_id)
    WHERE (SELECT labeler FROM chosen) = 'offline'
),
classes AS (
    SELECT taxonomy_version, key, any_value(fix_class) AS fix_class FROM categories GROUP BY ALL
)
SELECT p.transcript_id, h.fix_class AS human_fix_class,
       coalesce(c.fix_class, 'unknown') AS predicted_fix_class, p.model, p.fold,
       h.primary_label AS human_label, p.primary_label AS predicted_label, p.labeler,
       p.labeler_model, p.prompt_version
FROM preds p
LEFT JOIN human h USING (transcript_id)
LEFT JOIN classes c ON c.taxonomy_version = p.taxonomy_version AND c.key = p.primary_label;
"""

Migration = Callable[[duckdb.DuckDBPyConnection], None]


def _sql(script: str) -> Migration:
    def run(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(script)

    return run


# Ordered and append-only: (name, migration). Add new ones at the end.
MIGRATIONS: list[tuple[str, Migration]] = [
    ("m001_tables", _sql(M001_TABLES)),
    ("m002_label_views", _sql(M002_VIEWS)),
    ("m003_part2_admin_log", _sql(M003_ADMIN_LOG)),
    ("m004_prelabel_prompts", _sql(M004_PRELABEL_PROMPTS)),
    ("m005_record_ids", _sql(M005_RECORD_IDS)),
    ("m006_record_id_index", _sql(M006_RECORD_ID_INDEX)),
    ("m010_live_annotations", _sql(M010_LIVE_ANNOTATIONS)),
    ("m012_prelabel_folds", _sql(M012_PRELABEL_FOLDS)),
    ("m013_ppi_inputs", _sql(M013_PPI_INPUTS)),
    ("m015_pull_watermarks", _sql(M015_PULL_WATERMARKS)),
    ("m021_discover_embeddings", _sql(M021_DISCOVER_EMBEDDINGS)),
    ("m022_discover_names", _sql(M022_DISCOVER_NAMES)),
    ("m023_prelabel_batches", _sql(M023_PRELABEL_BATCHES)),
    ("m038_evidence_check", _sql(M038_EVIDENCE_CHECK)),
    ("m039_evidence_backfill", _sql(M039_EVIDENCE_BACKFILL)),
    ("m045_population_scope", _sql(M045_POPULATION_SCOPE)),
]


def applied_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names of the migrations already applied to this database, in order."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)"
    )
    return [r[0] for r in con.execute("SELECT name FROM _migrations ORDER BY applied_at, name").fetchall()]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply every migration not yet applied, each in its own transaction. Returns those applied."""
    done = set(applied_migrations(con))
    applied = []
    for name, migration in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            migration(con)
            con.execute("INSERT INTO _migrations VALUES (?, ?)", [name, datetime.now(UTC)])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
