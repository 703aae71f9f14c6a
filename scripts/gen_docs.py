"""The README's CLI reference, generated from the parsers so it cannot drift from --help.
`python -m scripts.gen_docs` rewrites the block in README.md; a test checks it is current."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from core.cli.main import build_parser

START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _walk(parser: argparse.ArgumentParser, name: str) -> list[tuple[str, str]]:
    out = [(name, parser.format_help().rstrip())]
    for sub_name, sub in _subparsers(parser).items():
        out.extend(_walk(sub, f"{name} {sub_name}"))
    return out


def render_reference() -> str:
    """Markdown: one heading and one --help block per command and subcommand."""
    os.environ["COLUMNS"] = "100"  # stable wrapping, whatever the terminal
    parts = [START]
    for name, text in _walk(build_parser(), "triage"):
        parts.append(f"#### `{name}`\n\n```text\n{text}\n```\n")
    parts.append(END)
    return "\n".join(parts)


def _replace_block(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"README: no {start} … {end} block")
    return pattern.sub(lambda _: f"{start}\n{body}{end}", text)


def update_readme(path: Path) -> bool:
    """Rewrite every generated block (CLI reference, schema, example queries); returns whether
    the file changed."""
    from core.analysts.schema_docs import render_example_queries, render_markdown

    text = path.read_text(encoding="utf-8")
    new = _replace_block(text, "cli-reference", render_reference()[len(START) + 1:-len(END)])
    new = _replace_block(new, "schema-docs", render_markdown())
    new = _replace_block(new, "example-queries", render_example_queries())
    path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    print("updated" if update_readme(readme) else "up to date")
