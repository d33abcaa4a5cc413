"""One store: every database table is described in one module of the project only, the others import it.

A description is a declarative model's `__tablename__ = "x"` or a SQLAlchemy `Table("x", …)`, read from the
sources with `ast`.
"""

from __future__ import annotations

import ast
from collections import defaultdict

from tests.test_architecture import ROOT, project_sources


def table_descriptions() -> dict[str, list[str]]:
    """Each table name, with where it is described ("store/tables.py:36")."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in project_sources():
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), where)):
            name = None
            if isinstance(node, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == "__tablename__" for target in node.targets
            ):
                name = node.value
            elif (
                isinstance(node, ast.Call)
                and (node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)) == "Table"
                and len(node.args) >= 2
                and "metadata" in ast.unparse(node.args[1]).lower()  # not a rich.table.Table
            ):
                name = node.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found[name.value].append(f"{where}:{node.lineno}")
    return found


def test_the_tables_are_found() -> None:
    tables = table_descriptions()
    assert {"events", "handover_requests", "studio_inbox_decisions", "kb_version"} <= set(tables)


def test_every_table_is_described_in_one_module_only() -> None:
    twice = {
        name: places
        for name, places in sorted(table_descriptions().items())
        if len({place.rsplit(":", 1)[0] for place in places}) > 1
    }
    assert not twice, "a table is described in one module, the others import it:\n" + "\n".join(
        f"  {name}: {', '.join(places)}" for name, places in twice.items()
    )
