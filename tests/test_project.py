"""Project hygiene: packaging, layering rules, CLI help (the docs: tests/test_docs.py)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from core.cli.main import build_parser

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0] if node.level == 0 else node.module)
    return names


def test_pages_hold_no_sql_duckdb_or_openai():
    for page in [ROOT / "triage_app.py", *(ROOT / "pages").glob("*.py")]:
        mods = imported_modules(page)
        assert not {"duckdb", "openai"} & mods, page.name
        assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\s", page.read_text()), page.name


def test_every_page_bootstraps_itself():
    for page in (ROOT / "pages").glob("*.py"):
        if page.name.startswith("_"):
            continue
        assert "bootstrap(" in page.read_text(encoding="utf-8"), page.name


def test_cli_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--db PATH" in out and "config" in out


@pytest.mark.slow
def test_wheel_installs_into_fresh_venv_and_runs_help(tmp_path):
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheel_dir), str(ROOT)], check=True, capture_output=True)
    wheel = next(wheel_dir.glob("triage-*.whl"))
    names = subprocess.run([sys.executable, "-m", "zipfile", "-l", str(wheel)],
                           check=True, capture_output=True, text=True).stdout
    for needed in ["triage_app.py", "taxonomies/default.toml", "pages/annotate.py",
                   "core/cli/main.py", "core/demo/transcripts.jsonl"]:
        assert needed in names, needed
    assert "gen_docs" not in names, "scripts/ are developer tools, not part of the product"
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run([str(env_dir / "bin" / "pip"), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True)
    # The dependencies come from this environment through a plain path entry (its .pth files,
    # such as an editable install of this project, are not processed): the project itself
    # can only come from the wheel.
    site = subprocess.run([str(env_dir / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    deps = next(p for p in sys.path if p.endswith("site-packages"))
    Path(site, "deps.pth").write_text(deps + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run([str(env_dir / "bin" / "triage"), "--help"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "COMMAND" in out.stdout
    where = subprocess.run([str(env_dir / "bin" / "python"), "-c", "import core; print(core.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True).stdout
    assert where.startswith(str(env_dir)), where
