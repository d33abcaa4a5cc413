"""The imports between Accueil's top-level packages: `core` is the ground, `accueil` the roof, and no circle.

Every import counts, at any depth (a function's own `import` too), read from the sources with `ast`.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("accueil", "actions", "analytics", "bot", "core", "kb_sync", "store", "studio", "voice_gateway", "web")

# Edges the next steps of issue 19 remove; the test fails once one is gone, so that it leaves this list too.
ALLOWED: dict[tuple[str, str], str] = {}

Edge = tuple[str, str]


def project_sources() -> list[Path]:
    """Every Python source of the project's packages (the widget's npm packages left out)."""
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "node_modules" not in path.parts
    ]


def imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    """The absolute modules a source imports, with their lines: `import x.y`, `from x.y import z`,
    `importlib.import_module("x.y")` (relative imports stay inside their package)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, node.lineno))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, (ast.Attribute, ast.Name))
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, node.lineno))
    return found


def package_graph() -> dict[Edge, list[str]]:
    """Each edge between two packages, with where it is made ("studio/views/pipeline.py:15")."""
    edges: dict[Edge, list[str]] = defaultdict(list)
    for path in project_sources():
        package, where = path.relative_to(ROOT).parts[0], path.relative_to(ROOT).as_posix()
        for module, line in imported_modules(ast.parse(path.read_text(encoding="utf-8"), where)):
            target = module.split(".")[0]
            if target in PACKAGES and target != package:
                edges[(package, target)].append(f"{where}:{line}")
    return edges


def cycle(edges: set[Edge]) -> list[str] | None:
    """A circle of packages, as [a, b, …, a], or None."""
    following: dict[str, list[str]] = defaultdict(list)
    for source, target in sorted(edges):
        following[source].append(target)
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(package: str, path: list[str]) -> list[str] | None:
        state[package] = "open"
        for target in following[package]:
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state:
                found = visit(target, path + [target])
                if found:
                    return found
        state[package] = "done"
        return None

    for package in PACKAGES:
        if package not in state:
            found = visit(package, [package])
            if found:
                return found
    return None


def described(edges: dict[Edge, list[str]], wanted: list[Edge]) -> str:
    return "\n".join(f"  {source} -> {target}: {', '.join(edges[(source, target)])}" for source, target in wanted)


def test_core_imports_nothing_of_the_project() -> None:
    edges = package_graph()
    outgoing = sorted(edge for edge in edges if edge[0] == "core")
    assert not outgoing, "core is the ground and imports no other package of the project:\n" + described(edges, outgoing)


def test_only_the_allowed_packages_import_accueil() -> None:
    edges = package_graph()
    extra = sorted(edge for edge in edges if edge[1] == "accueil" and edge not in ALLOWED)
    assert not extra, "accueil is the roof: nothing imports it (move what is shared to core):\n" + described(edges, extra)


def test_every_allowed_edge_is_still_there() -> None:
    gone = sorted(edge for edge in ALLOWED if edge not in package_graph())
    assert not gone, f"these edges are gone, take them out of ALLOWED in {Path(__file__).name}: {gone}"


def test_the_packages_make_no_circle() -> None:
    edges = package_graph()
    circle = cycle({edge for edge in edges if edge not in ALLOWED})
    assert circle is None, "the packages import each other in a circle:\n" + described(edges, list(zip(circle, circle[1:])))
