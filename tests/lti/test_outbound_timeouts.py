"""Every outbound HTTP call of the tool has a timeout: read from the source, so a new call without
one fails here. pylti1p3's modules that fetch over HTTP without a timeout (message_launch,
service_connector, the contrib views) are not used."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "lti_tool"
HTTP_CALLS = {("requests", v) for v in ("get", "post", "put", "patch", "delete", "head", "request")}
HTTP_CALLS |= {("request", "urlopen"), ("urllib.request", "urlopen")}
PYLTI1P3_WITHOUT_HTTP = {
    "pylti1p3.deep_link", "pylti1p3.deep_link_resource", "pylti1p3.deployment", "pylti1p3.exception",
    "pylti1p3.message_validators", "pylti1p3.registration", "pylti1p3.tool_config.abstract",
}


def modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(PACKAGE.rglob("*.py"))]


def dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted(node.value)}.{node.attr}"
    return ""


def test_every_outbound_http_call_has_a_timeout() -> None:
    calls, missing = 0, []
    for path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner, name = dotted(node.func.value), node.func.attr
                if (owner, name) in HTTP_CALLS or (owner.endswith("request") and name == "urlopen"):
                    calls += 1
                    if not any(k.arg == "timeout" for k in node.keywords):
                        missing.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert calls >= 4  # the JWKS cache, dynamic registration (2), the HTTPS destination, ...
    assert missing == []


def test_only_pylti1p3_modules_that_make_no_http_calls_are_imported() -> None:
    imported = set()
    for _, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pylti1p3"):
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("pylti1p3")}
    assert imported and imported <= PYLTI1P3_WITHOUT_HTTP, imported - PYLTI1P3_WITHOUT_HTTP
