"""The modules of actions/ import each other without a cycle (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

ACTIONS = Path(__file__).resolve().parent.parent / "actions"


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """The modules of actions/ that the module at `path` imports, anywhere in its code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = ".".join(filter(None, ["actions", node.module])) if node.level == 1 else node.module or ""
            # `from actions import records` imports a module; `from actions.base import Events` a name of one.
            names = [f"{module}.{alias.name}" for alias in node.names] if module == "actions" else [module]
        else:
            continue
        found |= {name.split(".")[1] for name in names if name.startswith("actions.") and name.split(".")[1] in modules}
    return found - {path.stem}


def import_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (its modules in import order, the first repeated at the end), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        if module in path:
            return path[path.index(module):] + [module]
        if module in done:
            return None
        path.append(module)
        for imported in sorted(graph[module]):
            cycle = visit(imported)
            if cycle:
                return cycle
        path.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        cycle = visit(module)
        if cycle:
            return cycle
    return None


def test_action_modules_import_each_other_without_a_cycle():
    modules = {path.stem for path in ACTIONS.glob("*.py")}
    graph = {path.stem: imported_modules(path, modules) for path in ACTIONS.glob("*.py")}
    assert graph["articles"], "the import graph of actions/ was not read"
    cycle = import_cycle(graph)
    assert cycle is None, f"actions/ modules import each other in a cycle: {' → '.join(cycle or [])}"


def test_a_cycle_is_named():
    assert import_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert import_cycle({"a": {"b"}, "b": set()}) is None
