"""The docs (README.md and docs/*.md) stay true to the code: generated parts current, every
command, setting and environment variable documented, links resolving, code fences closed."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.main import build_parser
from core.config import ENV_VARS
from core.store.settings import SETTINGS
from scripts.gen_docs import BLOCKS, COMMAND, command_parsers, stale_blocks, write_blocks

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]
CLI_DOCS = ROOT / "docs" / "cli.md"
CONFIG_DOCS = ROOT / "docs" / "configuration.md"


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _without_code(text: str) -> str:
    """The text outside ``` fences and `inline code`, line numbers kept."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
            line = ""
        out.append("" if inside else re.sub(r"`[^`\n]*`", "", line))
    return "\n".join(out)


def _headings(text: str) -> list[str]:
    """Markdown headings outside code fences, as written (`## triage import` → `triage import`)."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif not inside and (m := re.match(r"#{1,6} (.+)$", line)):
            out.append(m.group(1).strip())
    return out


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to
    hyphens, `-1`, `-2`, … on repeats."""
    seen: dict[str, int] = {}
    anchors = set()
    for heading in _headings(path.read_text(encoding="utf-8")):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        anchors.add(f"{slug}-{seen[slug]}" if slug in seen else slug)
        seen[slug] = seen.get(slug, 0) + 1
    return anchors


def _links(path: Path) -> list[str]:
    """Every link and image target in a page, outside code."""
    return re.findall(r"\]\(([^)\s]+)\)", _without_code(path.read_text(encoding="utf-8")))


def test_generated_docs_are_current():
    stale = stale_blocks()
    assert stale == [], f"generated docs are stale: {', '.join(stale)}; run `{COMMAND}`"


def test_gen_docs_rewrites_a_stale_block_and_check_reports_it(tmp_path):
    for block in BLOCKS:
        (tmp_path / block.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / block.path, tmp_path / block.path)
    analysts = tmp_path / "docs" / "analysts.md"
    analysts.write_text(analysts.read_text().replace("| `annotator` |", "| `reviewer` |"))
    assert stale_blocks(tmp_path) == ["docs/analysts.md (schema-docs)"]
    assert write_blocks(tmp_path) == ["docs/analysts.md (schema-docs)"]
    assert stale_blocks(tmp_path) == []
    assert analysts.read_text() == (ROOT / "docs" / "analysts.md").read_text()


def test_gen_docs_runs_as_a_script_from_the_repository_root():
    out = subprocess.run([sys.executable, "scripts/gen_docs.py", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert (out.returncode, out.stdout.strip()) == (0, "docs are up to date"), out.stderr


def test_help_renders_for_every_command_and_subcommand():
    names = [name for name, _ in command_parsers(build_parser(), "triage")]
    assert {"triage", "triage import", "triage annotations import", "triage config set"} <= set(names)


def test_every_command_has_an_example_and_a_section_in_the_cli_docs():
    sections = set(_headings(CLI_DOCS.read_text(encoding="utf-8")))
    top = [(name, parser) for name, parser in command_parsers(build_parser(), "triage")
           if name.count(" ") == 1]
    assert top, "no commands registered"
    for name, parser in top:
        assert "example" in parser.format_help(), f"`{name} --help` has no example"
        assert any(s == name or s.startswith(f"{name} ") for s in sections), (
            f"docs/cli.md has no `## {name}` section: describe what it does, its options and "
            "exit codes there (the generated --help alone is not enough)")


def test_every_setting_and_env_var_has_a_row_in_the_configuration_docs():
    rows = set(re.findall(r"^\| `([\w.]+)` \|", CONFIG_DOCS.read_text(encoding="utf-8"), re.M))
    missing = [key for key in [*SETTINGS, *ENV_VARS] if key not in rows]
    assert missing == [], (f"docs/configuration.md has no table row for {', '.join(missing)}: add "
                           "`| `NAME` | default | meaning |` to its Settings or Environment table")


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_code_fences_are_closed_before_each_heading(page):
    inside = False
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            inside = not inside
        heading = line.startswith(("## ", "### ", "#### "))  # "# x" is also a shell comment
        assert not (inside and heading), f"{_name(page)} line {number}: heading inside a code block"
    assert not inside, f"{_name(page)} ends inside a code block"


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_relative_links_point_at_existing_files_and_headings(page):
    broken = []
    for target in _links(page):
        if re.match(r"[a-z]+:", target):  # https:, mailto: — not ours to check offline
            continue
        file_part, _, anchor = target.partition("#")
        dest = (page.parent / file_part).resolve() if file_part else page
        if not dest.exists():
            broken.append(f"{target} (no file {file_part})")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{target} (no heading #{anchor} in {_name(dest)})")
    assert broken == [], f"{_name(page)}: broken links: {'; '.join(broken)}"


def test_readme_links_every_docs_page():
    linked = {(ROOT / t.partition("#")[0]).resolve() for t in _links(ROOT / "README.md")}
    assert [_name(p) for p in DOCS if p.resolve() not in linked] == []


def test_readme_stays_a_five_minute_read():
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= 180, f"README.md has {lines} lines: move reference material into docs/"
