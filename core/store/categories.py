"""The `categories` table: every taxonomy version that labels were made with."""

from __future__ import annotations

from core.store.connection import Database
from core.taxonomy import Taxonomy


def register_taxonomy(db: Database, taxonomy: Taxonomy) -> None:
    """Record this taxonomy version's categories (once per version), so views can map
    labels to fix classes even after the file changes."""
    exists = db.con.execute(
        "SELECT 1 FROM categories WHERE taxonomy_name = ? AND taxonomy_version = ? LIMIT 1",
        [taxonomy.name, taxonomy.version],
    ).fetchone()
    if exists:
        return
    rows = [
        (taxonomy.name, taxonomy.version, c.key, c.name, c.fix_class, c.definition,
         c.not_this_when, c.typical_fix, c.shortcut, i)
        for i, c in enumerate(taxonomy.categories)
    ]
    con = db.con
    with db.transaction():
        con.executemany("INSERT INTO categories VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def taxonomy_versions_in_use(db: Database) -> list[tuple[str, str, int]]:
    """(taxonomy_name, taxonomy_version, n labels) over current labels, most used first."""
    return db.con.execute(
        "SELECT taxonomy_name, taxonomy_version, count(*) FROM current_labels "
        "GROUP BY ALL ORDER BY 3 DESC"
    ).fetchall()
