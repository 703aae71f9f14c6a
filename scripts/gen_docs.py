"""Write the generated parts of docs/ from the code, so they cannot drift from it:

- docs/cli.md, between `<!-- cli-reference:start/end -->`: every command's `--help`;
- docs/analysts.md, between `<!-- schema-docs:start/end -->` and
  `<!-- example-queries:start/end -->`: every table, view and column, and the saved queries
  (from core/analysts/schema_docs.py).

    python scripts/gen_docs.py           rewrite what is stale
    python scripts/gen_docs.py --check   list what is stale and exit 1 (the tests do the same)

A new generated part is one more entry in BLOCKS and a marker pair in its docs file.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable as a plain script from a checkout, without an install

from core.analysts.schema_docs import EXAMPLE_QUERIES, RELATIONS  # noqa: E402
from core.cli.main import build_parser  # noqa: E402

COMMAND = "python scripts/gen_docs.py"


@dataclass(frozen=True)
class Block:
    """One generated part: the docs file, its marker name, the function that writes its body."""

    path: str
    name: str
    render: Callable[[], str]

    @property
    def markers(self) -> tuple[str, str]:
        return f"<!-- {self.name}:start -->", f"<!-- {self.name}:end -->"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def command_parsers(parser: argparse.ArgumentParser, name: str
                    ) -> list[tuple[str, argparse.ArgumentParser]]:
    """(`triage x y`, its parser) for the parser and every subcommand below it, depth first."""
    out = [(name, parser)]
    for sub_name, sub in _subparsers(parser).items():
        out.extend(command_parsers(sub, f"{name} {sub_name}"))
    return out


@contextmanager
def _columns(width: int) -> Iterator[None]:
    """argparse wraps help to $COLUMNS: fix it so the reference is the same on every terminal."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = before


def render_cli_reference() -> str:
    """One heading and one --help block per command and subcommand."""
    with _columns(100):
        helps = [(name, p.format_help().rstrip())
                 for name, p in command_parsers(build_parser(), "triage")]
    return "".join(f"### `{name}`\n\n```text\n{text}\n```\n\n" for name, text in helps)


def render_schema_docs() -> str:
    """Every table and view: what one row is, then each column and its meaning."""
    out: list[str] = []
    for r in RELATIONS:
        out += [f"### `{r.name}` ({r.kind})", "", f"One row: {r.row}.", "",
                "| column | meaning |", "|---|---|"]
        out += [f"| `{col}` | {meaning} |" for col, meaning in r.columns.items()]
        out.append("")
    return "\n".join(out)


def render_example_queries() -> str:
    """The saved queries of the SQL page, each a titled ```sql block."""
    out: list[str] = []
    for q in EXAMPLE_QUERIES:
        out += [f"**{q.title}**", "", "```sql", q.sql + ";", "```", ""]
    return "\n".join(out)


BLOCKS: tuple[Block, ...] = (
    Block("docs/cli.md", "cli-reference", render_cli_reference),
    Block("docs/analysts.md", "schema-docs", render_schema_docs),
    Block("docs/analysts.md", "example-queries", render_example_queries),
)


def current_body(text: str, block: Block) -> str:
    """What a docs file holds between the block's markers (a clear error when they are missing)."""
    start, end = block.markers
    m = re.search(re.escape(start) + r"\n(.*?)" + re.escape(end), text, re.S)
    if not m:
        raise SystemExit(f"{block.path}: no {start} … {end} pair to write between")
    return m.group(1)


def _with_body(text: str, block: Block, body: str) -> str:
    start, end = block.markers
    pattern = re.compile(re.escape(start) + r"\n.*?" + re.escape(end), re.S)
    return pattern.sub(lambda _: f"{start}\n{body}{end}", text)


def stale_blocks(root: Path = ROOT) -> list[str]:
    """`path (name)` of every generated part that differs from what the code gives now."""
    return [f"{b.path} ({b.name})" for b in BLOCKS
            if current_body((root / b.path).read_text(encoding="utf-8"), b) != b.render()]


def write_blocks(root: Path = ROOT) -> list[str]:
    """Rewrite every stale generated part in place; returns the ones that changed."""
    changed = []
    for block in BLOCKS:
        path = root / block.path
        text = path.read_text(encoding="utf-8")
        if current_body(text, block) != (body := block.render()):
            path.write_text(_with_body(text, block, body), encoding="utf-8")
            changed.append(f"{block.path} ({block.name})")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only list the stale parts (exit 1 when there are any)")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_blocks()
        for name in stale:
            print(f"stale: {name}")
        print(f"run {COMMAND}" if stale else "docs are up to date")
        return 1 if stale else 0
    changed = write_blocks()
    print("\n".join(f"updated {name}" for name in changed) or "docs are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
