from core.store.connection import connect
from core.store.migrations import MIGRATIONS, applied_migrations

EXPECTED_TABLES = {
    "transcripts": ["transcript_id", "source", "messages", "context", "tools", "metadata",
                    "content_hash", "batch_id", "imported_at", "n_messages", "has_tool_calls",
                    "n_chars", "archived"],
    "import_batches": ["batch_id", "file_name", "format", "source", "rows_read", "rows_imported",
                       "rows_duplicate", "rows_rejected", "rejects_path", "imported_by", "imported_at"],
    "categories": ["taxonomy_name", "taxonomy_version", "key", "name", "fix_class", "definition"],
    "samples": ["sample_id", "method", "seed", "n", "filter", "stratify_by", "created_by", "created_at"],
    "sample_items": ["sample_id", "transcript_id", "position"],
    "annotations": ["annotation_id", "transcript_id", "annotator", "kind", "primary_label",
                    "secondary_labels", "context_present", "severity", "failure_turn",
                    "ideal_response", "note", "queue", "sample_id", "prelabel_visible",
                    "duration_ms", "taxonomy_name", "taxonomy_version", "created_at"],
    "final_labels": ["transcript_id", "primary_label", "fix_class", "status", "n_annotators"],
    "prelabels": ["prelabel_id", "transcript_id", "content_hash", "labeler", "model",
                  "prompt_version", "taxonomy_version", "status", "primary_label",
                  "secondary_labels", "confidence", "rationale", "evidence", "error", "truncated",
                  "latency_ms", "tokens_in", "tokens_out", "cost_usd", "created_at", "evidence_verified",
                  "evidence_unverified"],
    "settings": ["key", "value", "set_by", "set_at"],
    "ppi_inputs": ["transcript_id", "human_fix_class", "predicted_fix_class", "model", "fold"],
    "prelabel_folds": ["fit_id", "transcript_id", "content_hash", "model", "fold", "primary_label",
                       "confidence", "created_at"],
}


def columns(con, table):
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [table]).fetchall()]


def test_migrate_blank_file_has_contract_columns_in_order(db_path):
    db = connect(db_path)
    for table, expected in EXPECTED_TABLES.items():
        assert columns(db.con, table)[: len(expected)] == expected, table
    assert "current_labels" in {r[0] for r in db.con.execute(
        "SELECT table_name FROM information_schema.tables").fetchall()}


def test_migrate_is_idempotent_and_recorded(db_path):
    connect(db_path).close()
    db = connect(db_path)
    assert applied_migrations(db.con) == [name for name, _ in MIGRATIONS]


def test_record_ids_migration_keeps_existing_transcripts(db_path):
    # A database made before m005: its transcripts get record_id = transcript_id.
    import duckdb

    from core.store.migrations import migrate

    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    for name, migration in MIGRATIONS[:4]:
        migration(con)
        con.execute("INSERT INTO _migrations VALUES (?, now())", [name])
    con.execute("INSERT INTO transcripts (transcript_id, source, messages, content_hash) "
                "VALUES ('t1', 'old', '[]', 'h')")
    assert migrate(con) == [name for name, _ in MIGRATIONS[4:]]
    assert con.execute("SELECT record_id FROM transcripts").fetchall() == [("t1",)]
    con.execute("UPDATE transcripts SET archived = true")  # the unique index allows updates
    con.close()


def test_live_annotations_migration_keeps_current_labels(db_path):
    # A database made before m010: current_labels, redefined on live_annotations, reads the same.
    import duckdb

    from core.store.migrations import migrate

    con = duckdb.connect(str(db_path))
    con.execute("CREATE TABLE _migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)")
    for name, migration in MIGRATIONS[:6]:
        migration(con)
        con.execute("INSERT INTO _migrations VALUES (?, now())", [name])
    con.execute(
        "INSERT INTO annotations (annotation_id, transcript_id, annotator, kind, primary_label, "
        "retracts, created_at) VALUES ('a1', 't1', 'ann', 'label', 'x', NULL, '2026-01-01 09:00'),"
        "('a2', 't1', 'ann', 'label', 'y', NULL, '2026-01-01 09:01'),"
        "('a3', 't1', 'ann', 'retraction', NULL, 'a2', '2026-01-01 09:02'),"
        "('a4', 't1', 'bob', 'adjudication', 'z', NULL, '2026-01-01 09:03'),"
        "('a5', 't2', 'ann', 'skip', NULL, NULL, '2026-01-01 09:04')")
    query = "SELECT * FROM current_labels ORDER BY annotation_id"
    before = con.execute(query).fetchall()
    assert migrate(con)[0] == "m010_live_annotations"
    assert con.execute(query).fetchall() == before and [r[0] for r in before] == ["a1", "a4"]
    assert con.execute("SELECT annotation_id FROM live_annotations ORDER BY 1").fetchall() == [
        ("a1",), ("a4",)]
    assert con.execute("SELECT status FROM final_labels").fetchall() == [("adjudicated",)]
    con.close()
def test_batch_tables_have_their_columns(db_path):
    con = connect(db_path).con
    cols = {t: [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position", [t]).fetchall()]
        for t in ("prelabel_batch_runs", "prelabel_batch_items", "prelabel_batch_events")}
    assert cols == {
        "prelabel_batch_runs": ["run_id", "model", "base_url", "prompt_version", "taxonomy_version",
                                "n_requests", "n_parts", "price", "full_price", "est_cost_usd",
                                "max_cost_usd", "created_by", "created_at"],
        "prelabel_batch_items": ["run_id", "part", "custom_id", "transcript_id", "content_hash",
                                 "truncated", "est_tokens_in"],
        "prelabel_batch_events": ["event_no", "run_id", "part", "state", "file_path",
                                  "input_file_id", "batch_id", "remote_status", "n_completed",
                                  "n_failed", "output_file_id", "error_file_id", "detail",
                                  "recorded_at"]}
def test_discover_cache_tables(db_path):
    db = connect(db_path)
    assert columns(db.con, "discover_embeddings") == ["model", "text_hash", "vector", "tokens",
                                                      "created_at"]
    assert columns(db.con, "discover_names") == ["model", "prompt_version", "cluster_hash",
                                                 "answer", "tokens_in", "tokens_out", "cost_usd",
                                                 "created_at"]
