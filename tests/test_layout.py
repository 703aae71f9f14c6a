"""The layout's rules (issue 13), read from the source with `ast`:
1. SQL only in core/store/: nothing else calls .execute/.executemany/.sql, reaches for a raw
   connection (`.con`), or imports duckdb.
3. Streamlit only in pages/, triage_app.py and core/ui.py; every page file stays short.
4. No import cycles, between modules or between parts, and one direction:
   cli / pages → parts → store → the base modules (config, errors, logs, stats, taxonomy).
Imports under `if TYPE_CHECKING:` do not count; imports inside functions do."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = {"core.config", "core.errors", "core.logs", "core.stats", "core.taxonomy"}
SQL_CALLS = {"execute", "executemany", "sql"}
PAGE_MAX_LINES = 150


def product_files() -> dict[str, Path]:
    """Module name → file, for core/, pages/ and triage_app.py."""
    files = {"triage_app": ROOT / "triage_app.py"}
    for top in ("core", "pages"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            files[name] = path
    return files


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _nodes(tree: ast.AST):
    """Every node, leaving out `if TYPE_CHECKING:` blocks."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules (of `known`, or external top-level names) that `module` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in _nodes(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node, path.name == "__init__.py")
            for alias in node.names:  # `from core.store import queues` imports core.store.queues
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
    return out


@cache
def graph() -> dict[str, set[str]]:
    files = product_files()
    known = set(files)
    return {m: imports_of(m, p, known) for m, p in files.items()}


def layer(module: str) -> str:
    if module in BASE:
        return "base"
    if module.startswith("core.store"):
        return "store"
    if module.startswith("core.cli") and module != "core.cli.app_server":
        return "cli"
    # core.cli.app_server is the server process of `triage app`: an entry point like
    # triage_app.py, it takes the database and then starts Streamlit through core.ui.
    if module.startswith("pages") or module in ("triage_app", "core.cli.app_server"):
        return "pages"
    if module == "core.ui":
        return "ui"
    return "part"


# Which layer may import which (besides itself).
ALLOWED = {
    "base": {"base"},
    "store": {"store", "base"},
    "part": {"part", "store", "base"},
    "ui": {"part", "store", "base"},
    "cli": {"cli", "part", "store", "base"},
    "pages": {"pages", "ui", "part", "store", "base"},
}


def part_of(module: str) -> str:
    """The package a module belongs to: core.labels.queues → core.labels; core.home → core.home."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "core" else parts[0]


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as a list of nodes, or None."""
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        path.append(n)
        for m in sorted(edges.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state and (found := visit(m)):
                return found
        state[n] = 2
        path.pop()
        return None

    for n in sorted(edges):
        if n not in state and (found := visit(n)):
            return found
    return None


def internal_graph() -> dict[str, set[str]]:
    g = graph()
    return {m: {d for d in deps if d in g and d != m} for m, deps in g.items()}


def test_sql_only_in_the_store():
    offenders = []
    for module, path in product_files().items():
        if module.startswith("core.store"):
            continue
        for node in _nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in SQL_CALLS:
                offenders.append(f"{module}:{node.lineno} .{node.func.attr}(")
            elif isinstance(node, ast.Attribute) and node.attr == "con":
                offenders.append(f"{module}:{node.lineno} .con")
        if "duckdb" in graph()[module]:
            offenders.append(f"{module} imports duckdb")
    assert offenders == []


def test_streamlit_only_in_pages_and_the_ui_module():
    offenders = [m for m, deps in graph().items()
                 if "streamlit" in {d.split(".")[0] for d in deps}
                 and layer(m) not in ("pages", "ui")]
    assert offenders == []


def test_pages_are_short():
    long = {p.name: n for p in [ROOT / "triage_app.py", *(ROOT / "pages").glob("*.py")]
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > PAGE_MAX_LINES}
    assert long == {}


def test_no_import_cycle_between_modules():
    cycle = find_cycle(internal_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_no_import_cycle_between_parts():
    edges: dict[str, set[str]] = {}
    for m, deps in internal_graph().items():
        edges.setdefault(part_of(m), set()).update(part_of(d) for d in deps if part_of(d) != part_of(m))
    cycle = find_cycle(edges)
    assert cycle is None, "parts depend on each other: " + " → ".join(cycle or [])


def test_imports_point_one_way():
    wrong = [f"{m} ({layer(m)}) imports {d} ({layer(d)})"
             for m, deps in internal_graph().items() for d in deps
             if layer(d) not in ALLOWED[layer(m)]]
    assert wrong == []


def test_the_rules_catch_what_they_forbid(tmp_path):
    """The checks themselves: a cycle and a forbidden import are found and named."""
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    src = tmp_path / "x.py"
    src.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import duckdb\n"
                   "def f():\n    import streamlit\n")
    assert imports_of("core.x", src, set()) == {"typing", "streamlit"}
    assert "store" not in ALLOWED["base"] and "part" not in ALLOWED["store"]
