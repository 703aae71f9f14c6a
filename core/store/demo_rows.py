"""The bundled demo's rows: how many a database holds, which rows the team's figures leave out,
and deleting them all in one transaction (`triage demo --remove`).

A demo row is a transcript of the source `demo` (the demo loader's, reserved for it) and every
row that hangs on one: labels, pre-labels, sample items, its import batch; plus the settings and
admin-log rows the demo wrote (`set_by` / `done_by` = 'demo'). Since the demo lives in a database
of its own, a database holds both demo and team transcripts only when an earlier version of
Triage made it; until the demo is removed, the report, agreement, the offline pre-labeler's
training and its evaluation read only the team's rows (`IN_SCOPE`)."""

from __future__ import annotations

from dataclasses import dataclass

from core.store.connection import Database

DEMO_SOURCE = "demo"
DEMO_ACTOR = "demo"  # imported_by / set_by / done_by of what the demo loader writes

# The transcripts the team's figures cover, for a query over `transcripts t`: active ones, and
# demo ones only in a database that holds nothing else (the demo's own database). An
# uncorrelated EXISTS: DuckDB evaluates it once per query.
IN_SCOPE = (
    "(NOT t.archived AND (t.source <> 'demo' OR NOT EXISTS "
    "(SELECT 1 FROM transcripts o WHERE o.source <> 'demo')))")


@dataclass(frozen=True)
class DemoCounts:
    """How many transcripts of the demo and of anything else a database holds (archived
    included), and the demo's labels."""

    demo: int
    other: int
    demo_labels: int

    @property
    def state(self) -> str:
        """'empty', 'demo' (the demo's own database), 'mixed' (an earlier version's database
        holding both) or 'team' (no demo row)."""
        if self.demo and self.other:
            return "mixed"
        if self.demo:
            return "demo"
        return "team" if self.other else "empty"


def demo_counts(db: Database) -> DemoCounts:
    """Demo and other transcripts (archived included) and the labels on demo transcripts."""
    demo, other = db.con.execute(
        "SELECT count(*) FILTER (WHERE source = 'demo'), count(*) FILTER (WHERE source <> 'demo') "
        "FROM transcripts").fetchone()
    labels = 0
    if demo:
        labels = db.con.execute(
            "SELECT count(*) FROM annotations a JOIN transcripts t USING (transcript_id) "
            "WHERE t.source = 'demo' AND a.kind IN ('label', 'adjudication')").fetchone()[0]
    return DemoCounts(demo, other, labels)


def holds_anything(db: Database) -> bool:
    """Whether anyone has used this database: a transcript, a setting or an admin action
    (a database made on purpose and not yet imported into counts as used)."""
    return bool(db.con.execute(
        "SELECT EXISTS (SELECT 1 FROM transcripts) OR EXISTS (SELECT 1 FROM settings) "
        "OR EXISTS (SELECT 1 FROM admin_log)").fetchone()[0])


def left_out_counts(db: Database) -> tuple[int, int]:
    """(demo transcripts, archived transcripts) that IN_SCOPE leaves out; a demo transcript
    that is also archived counts as archived."""
    return db.con.execute(
        "SELECT count(*) FILTER (WHERE NOT t.archived AND NOT " + IN_SCOPE + "), "
        "count(*) FILTER (WHERE t.archived) FROM transcripts t").fetchone()


@dataclass(frozen=True)
class DemoRemoval:
    """What `remove_demo_rows` deleted, table by table."""

    transcripts: int
    annotations: int
    prelabels: int
    sample_items: int
    samples: int
    batches: int
    settings: int
    admin_log: int
    stale_offline_prelabels: int

    def message(self, path: str) -> str:
        """One paragraph for the CLI."""
        if not self.transcripts:
            return f"{path} holds no demo rows; nothing removed."
        text = (f"Removed the demo from {path}: {self.transcripts} transcripts, "
                f"{self.annotations} annotations, {self.prelabels} pre-labels, "
                f"{self.sample_items} sample items, {self.samples} samples drawn from it alone, "
                f"{self.batches} import batch(es), {self.settings} settings rows and "
                f"{self.admin_log} admin-log rows, in one transaction.")
        if self.stale_offline_prelabels:
            text += (f" Also removed {self.stale_offline_prelabels} offline pre-labels of your "
                     "transcripts made by a model that may have learned from the demo's labels; "
                     "`triage prelabel --offline` makes new ones from your labels alone.")
        return text


# Order matters: rows that name demo transcripts go before the transcripts themselves.
_DELETES = (
    ("annotations", "DELETE FROM annotations WHERE origin = 'demo' OR transcript_id IN "
                    "(SELECT transcript_id FROM _demo_ids)"),
    ("prelabels", "DELETE FROM prelabels WHERE transcript_id IN (SELECT transcript_id FROM _demo_ids)"),
    # Offline models trained while the demo's labels were in the database may have learned from
    # them (earlier versions trained on every label); they are free to make again.
    ("stale_offline_prelabels", "DELETE FROM prelabels WHERE labeler = 'offline' "
                                "AND model LIKE 'offline-tfidf-logreg:%'"),
    ("sample_items", "DELETE FROM sample_items WHERE transcript_id IN "
                     "(SELECT transcript_id FROM _demo_ids)"),
    ("samples", "DELETE FROM samples WHERE sample_id IN (SELECT sample_id FROM _demo_samples)"),
    ("transcripts", "DELETE FROM transcripts WHERE transcript_id IN "
                    "(SELECT transcript_id FROM _demo_ids)"),
    ("batches", "DELETE FROM import_batches WHERE batch_id IN (SELECT batch_id FROM _demo_batches)"),
    ("settings", "DELETE FROM settings WHERE set_by = 'demo'"),
    ("admin_log", "DELETE FROM admin_log WHERE done_by = 'demo' OR target IN "
                  "(SELECT batch_id FROM _demo_batches)"),
)


def remove_demo_rows(db: Database) -> DemoRemoval:
    """Delete every demo row (see the module docstring) in one transaction: all or nothing."""
    con = db.con
    counts: dict[str, int] = {}
    with db.transaction():
        con.execute("CREATE OR REPLACE TEMP TABLE _demo_ids AS "
                    "SELECT transcript_id FROM transcripts WHERE source = 'demo'")
        con.execute("CREATE OR REPLACE TEMP TABLE _demo_batches AS SELECT batch_id FROM "
                    "import_batches WHERE source = 'demo' AND imported_by = 'demo' "
                    "AND batch_id NOT IN (SELECT batch_id FROM transcripts "
                    "WHERE source <> 'demo' AND batch_id IS NOT NULL)")
        # Samples drawn from demo transcripts only: nothing of them is left.
        con.execute("CREATE OR REPLACE TEMP TABLE _demo_samples AS SELECT sample_id FROM "
                    "sample_items GROUP BY sample_id HAVING bool_and(transcript_id IN "
                    "(SELECT transcript_id FROM _demo_ids))")
        demo = con.execute("SELECT count(*) FROM _demo_ids").fetchone()[0]
        for name, sql in _DELETES:
            if name == "stale_offline_prelabels" and not demo:
                counts[name] = 0
                continue
            counts[name] = con.execute(sql).fetchone()[0]
        for temp in ("_demo_ids", "_demo_batches", "_demo_samples"):
            con.execute(f"DROP TABLE {temp}")
    return DemoRemoval(**counts)
