"""`triage plan`: how many human labels reach a target interval half-width."""

from __future__ import annotations

import argparse
import dataclasses
import json

from core.cli.common import add_command, reading_database
from core.config import Settings
from core.errors import UsageError
from core.report.label_plan import plan_labels
from core.report.population import FIX_CLASSES


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "plan", "How many human labels reach a target interval half-width on a "
                    "fix class's share of failures: human-only, and with the pre-labels on every "
                    "transcript (from their measured agreement with the random human sample).",
                    "triage plan --half-width 0.05")
    p.add_argument("--half-width", type=float, default=0.05, metavar="H",
                   help="target half-width of the 95%% interval, as a share (default 0.05: ±5 points)")
    p.add_argument("--class", dest="fix_class", choices=FIX_CLASSES,
                   help="which share (default: the leading fix class)")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Read the database (or its snapshot) and print the plan."""
    if not 0 < args.half_width < 0.5:
        raise UsageError("--half-width must be between 0 and 0.5 (e.g. 0.05 for ±5 points)")
    plan = plan_labels(reading_database(settings), args.half_width, args.fix_class)
    if args.json:
        print(json.dumps({**dataclasses.asdict(plan), "more": plan.more}, indent=2))
    else:
        print("\n".join(plan.lines()))
    return 0
