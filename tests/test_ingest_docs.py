"""The README's reference for import, annotations import and sample stays in step with --help."""

from __future__ import annotations

import argparse

import pytest

from core.cli.main import build_parser
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subparser(parser: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = action.choices[name]
    return parser


@pytest.mark.parametrize("command", [("import",), ("annotations", "import"), ("sample",)])
def test_readme_documents_every_option(command):
    parser = _subparser(build_parser(), *command)
    section = README.split(f"### triage {' '.join(command)}\n", 1)[1].split("\n### ", 1)[0]
    for action in parser._actions:
        for option in action.option_strings:
            if option not in ("-h", "--help"):
                assert option in section, f"README's `triage {' '.join(command)}` lacks {option}"
    assert parser.epilog.split("\n", 1)[1].strip().split()[0] == "triage"
