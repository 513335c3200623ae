"""Every outbound HTTP call of the tool goes through lti_tool.outbound (total deadline, size cap,
address policy): read from the source, so a new direct call, or a call without a deadline, fails
here. pylti1p3's modules that fetch over HTTP (message_launch, service_connector, the contrib
views) are not used."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "lti_tool"
HTTP_MODULES = {"requests", "urllib.request", "http.client", "urllib3", "httpx", "aiohttp"}
OWN_SERVER_ONLY = {PACKAGE / "demo.py", PACKAGE / "demo_lms.py"}
"""The demo alone: it polls the tool's own server on 127.0.0.1 at start-up, and its stand-in LMS posts sample
completions to it (calls to its own processes, not remote calls)."""
PYLTI1P3_WITHOUT_HTTP = {
    "pylti1p3.deep_link", "pylti1p3.deep_link_resource", "pylti1p3.deployment", "pylti1p3.exception",
    "pylti1p3.message_validators", "pylti1p3.registration", "pylti1p3.tool_config.abstract",
}


def modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(PACKAGE.rglob("*.py"))]


def imported_modules(tree: ast.Module) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_only_the_outbound_module_imports_an_http_client() -> None:
    direct = {str(path.relative_to(REPO)): sorted(imported_modules(tree) & HTTP_MODULES)
              for path, tree in modules()
              if path not in OWN_SERVER_ONLY | {PACKAGE / "outbound.py"}
              and imported_modules(tree) & HTTP_MODULES}
    assert direct == {}


def test_every_outbound_call_names_its_deadline() -> None:
    calls, missing = 0, []
    for path, tree in modules():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "outbound"
                    and node.func.attr == "request"):
                calls += 1
                if not any(k.arg == "deadline" for k in node.keywords):
                    missing.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert calls >= 3  # dynamic registration, the JWKS cache, the HTTPS destination, ...
    assert missing == []


def test_only_pylti1p3_modules_that_make_no_http_calls_are_imported() -> None:
    imported = set()
    for _, tree in modules():
        imported |= {m for m in imported_modules(tree) if m.startswith("pylti1p3")}
    assert imported and imported <= PYLTI1P3_WITHOUT_HTTP, imported - PYLTI1P3_WITHOUT_HTTP
