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
    ("m021_discover_embeddings", _sql(M021_DISCOVER_EMBEDDINGS)),
    ("m022_discover_names", _sql(M022_DISCOVER_NAMES)),
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
