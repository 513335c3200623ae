"""Commands and routes own transactions but do not query: they call services (and the page logic
in ``lti_tool/web/views``). The import contracts themselves are import-linter's (``make test``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lti_tool"
ENTRY_POINTS = sorted([*(PACKAGE / "cli").glob("*.py"), *(PACKAGE / "web" / "lti").glob("*.py"),
                       PACKAGE / "web" / "events.py", PACKAGE / "web" / "app.py"])


@pytest.mark.parametrize("path", ENTRY_POINTS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_command_or_route_builds_no_query(path: Path) -> None:
    tree = ast.parse(path.read_text())
    from_sqlalchemy = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                       and (node.module or "").split(".")[0] == "sqlalchemy" for alias in node.names}
    assert from_sqlalchemy <= {"Session"}, from_sqlalchemy
    gets = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr == "get" and node.args
            and isinstance(node.args[0], ast.Attribute) and isinstance(node.args[0].value, ast.Name)
            and node.args[0].value.id == "models"]
    assert gets == [], f"session.get(models.…) on lines {gets}"


def test_no_import_cycle_in_web() -> None:
    import grimp  # import-linter's graph builder (the test extras)

    graph = grimp.build_graph("lti_tool")
    web = sorted(m for m in graph.modules if m.startswith("lti_tool.web"))
    cycles = [(a, b) for i, a in enumerate(web) for b in web[i + 1:]
              if graph.chain_exists(a, b) and graph.chain_exists(b, a)]
    assert cycles == []
