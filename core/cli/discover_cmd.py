"""`triage discover`: group free-text notes into candidate categories (offline by default, with
embeddings and LLM names when an LLM is configured), saturation, `--save` a taxonomy file,
`--suggest` new categories for "Other" labels."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.admin import require_admin
from core.cli.common import acting_user, add_command, reading_database
from core.config import Settings
from core.discover.axial import drafts_from
from core.discover.cluster import DEFAULT_MAX_CLUSTERS, ClusterParams
from core.discover.describe import N_EXAMPLES
from core.discover.llm import LLMContext, estimate
from core.discover.model import Discovery
from core.discover.notes import SCOPES, Note, notes_from_db, read_notes_file
from core.discover.run import DiscoverOptions, discover
from core.discover.save import save_taxonomy, taxonomy_toml
from core.discover.suggest import assignments_by_examples, suggest_for_other
from core.errors import DatabaseLocked, UsageError
from core.prelabel.llm import make_client
from core.store.connection import Database, connect
from core.store.settings import get_setting
from core.taxonomy import check_taxonomy, load_taxonomy


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "discover", "Group free-text notes into candidate failure categories.",
                    "triage discover --input notes.csv --format json --save found.toml")
    p.add_argument("--input", metavar="FILE", type=Path,
                   help="CSV or JSONL with `id` and `text` (optional `category`); no database needed")
    p.add_argument("--scope", choices=SCOPES, default="all",
                   help="notes in the database: all (default), only on Other labels, or one sample's")
    p.add_argument("--sample", metavar="ID", help="with --scope sample: the sample")
    p.add_argument("--min-size", type=int, metavar="N", help="smallest cluster (default: from the number of notes)")
    p.add_argument("--max-clusters", type=int, default=DEFAULT_MAX_CLUSTERS, metavar="N",
                   help=f"most clusters (default {DEFAULT_MAX_CLUSTERS})")
    p.add_argument("--seed", type=int, default=0, help="seed: the same seed gives the same result (default 0)")
    p.add_argument("--saturation-steps", type=int, default=10, metavar="N",
                   help="re-cluster the first notes at N steps for the saturation curve (0: skip)")
    p.add_argument("--offline", action="store_true", help="TF-IDF and top-term names even with an LLM configured")
    p.add_argument("--yes", action="store_true", help="do not ask before spending on the LLM")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output on stdout")
    p.add_argument("--save", metavar="FILE.toml", type=Path,
                   help="write the clusters as a taxonomy file (fix class unknown until chosen)")
    p.add_argument("--suggest", action="store_true",
                   help="admins: suggest the active taxonomy's categories for \"Other\" labels "
                        "(labeler 'discover')")
    p.set_defaults(func=run)


def _notes(args: argparse.Namespace, db: Database | None) -> tuple[list[Note], list[str]]:
    if args.input is not None:
        got = read_notes_file(args.input)
        return got.notes, got.rejected
    return notes_from_db(db, args.scope, args.sample), []


def _cache_db(args: argparse.Namespace, settings: Settings) -> Database | None:
    """The database the LLM path caches in (None: --input without a database file)."""
    if args.input is not None and not settings.db_path.exists():
        print(f"note: no database at {settings.db_path}: embeddings and names are not cached",
              file=sys.stderr)
        return None
    try:
        return connect(settings.db_path)
    except DatabaseLocked as e:
        raise UsageError(f"{e} The LLM path caches in the database; run with --offline, or "
                         "use the Discover page of the running app.") from e


def _confirmed(cost: float, yes: bool) -> bool:
    if cost <= 0 or yes:
        return True
    if not sys.stdin.isatty():
        print(f"error: this discovery would cost up to ${cost:.4f}; no terminal to ask: re-run "
              "with --yes, or --offline", file=sys.stderr)
        return False
    return input(f"Spend up to ${cost:.4f}? [y/N] ").strip().lower() in ("y", "yes")


def print_text(d: Discovery) -> None:
    """The clusters as a readable list (stdout)."""
    m = d.method
    print(f"{d.n_notes} notes → {len(d.clusters)} clusters, {len(d.outliers)} outliers "
          f"({m['outlier_share']:.0%}); {m['representation']}; min size {m['min_size']}, "
          f"seed {m['seed']}")
    for i, c in enumerate(d.clusters, 1):
        near = (f"{c.nearest_category.key} {c.nearest_category.share:.0%} of "
                f"{c.nearest_category.n_labeled}" if c.nearest_category else "–")
        print(f"\n{i:>2}. {c.name}  [{c.key}]  {c.size} notes · nearest category: {near}")
        print(f"    terms: {', '.join(c.top_terms)}")
        for e in c.examples[:N_EXAMPLES]:
            print(f"    - {e[:160]}")
        if c.naming_error:
            print(f"    (LLM naming failed: {c.naming_error}; named by top terms)")
    if d.saturation:
        print("\nsaturation: " + ", ".join(f"{p.notes}→{p.clusters}" for p in d.saturation))
        print(d.saturation_sentence)


def _save(args: argparse.Namespace, d: Discovery, db: Database | None) -> None:
    base = load_taxonomy(get_setting(db, "active_taxonomy") if db is not None else "default")
    name = args.save.stem.lower().replace(" ", "_")
    text = taxonomy_toml(drafts_from(d), d.texts, base, name, n_notes=d.n_notes,
                         method=d.method["name"])
    path = save_taxonomy(args.save, text)
    check = check_taxonomy(path)
    for line in (*check.errors, *check.warnings):
        print(f"{args.save.name}: {line}", file=sys.stderr)
    print(f"saved {len(d.clusters)} categories (+ other, no_failure) to {path}", file=sys.stderr)


def _suggest(d: Discovery, settings: Settings) -> None:
    with connect(settings.db_path) as db:
        require_admin(db, acting_user(settings), "store suggestions for Other labels")
        taxonomy = load_taxonomy(get_setting(db, "active_taxonomy"))
        got = suggest_for_other(db, d, assignments_by_examples(d, taxonomy), taxonomy,
                                d.method["name"])
    print(f"suggested a category for {got.suggested} Other labels ({got.no_cluster} fell in no "
          f"category of {taxonomy.name}, {got.no_note} have no note)", file=sys.stderr)


def _open_for(args: argparse.Namespace, settings: Settings, llm: bool) -> Database | None:
    if llm:
        return _cache_db(args, settings)
    return None if args.input is not None else reading_database(settings)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Read notes, estimate and confirm any spend, group, print, save, suggest."""
    if args.suggest and args.input is not None:
        raise UsageError("--suggest works on the database's notes, not on --input")
    options = DiscoverOptions(ClusterParams(args.min_size, args.max_clusters), args.seed,
                              max(0, args.saturation_steps))
    options.params.check()
    client = None if args.offline else make_client(settings)
    db = _open_for(args, settings, client is not None)
    notes, rejected = _notes(args, db)
    for line in rejected:
        print(f"{args.input.name}: {line} (left out)", file=sys.stderr)
    ctx = LLMContext.build(client, settings, db) if client is not None else None
    if ctx is not None:
        est = estimate(ctx, [n.text for n in notes], options.params.max_clusters)
        for line in est.lines():
            print(line, file=sys.stderr)
        if not _confirmed(est.est_cost, args.yes):
            return 2
    d = discover(notes, options, ctx)
    if args.format == "json":
        print(json.dumps(d.to_json(), ensure_ascii=False, indent=2))
    else:
        print_text(d)
    if args.save is not None:
        _save(args, d, db)
    if args.suggest:
        if db is not None:
            db.close()
        _suggest(d, settings)
    return 1 if rejected else 0
