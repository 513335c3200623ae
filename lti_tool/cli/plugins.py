"""``lti-tool plugins list``: the credit rules this deployment found, with their numbers."""

from __future__ import annotations

from typing import Any

import click

from lti_tool.cli.context import emit, pass_runtime
from lti_tool.credits.rule import CreditRule
from lti_tool.runtime import Runtime

RETAKES = {"cycle": "once per cycle", "ever": "never (counts once)", "calendar_year": "once per calendar year"}


@click.group()
def plugins() -> None:
    """Provider plugins (one per credential)."""


def describe(rule: CreditRule, verbose: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "credential": rule.credential,
        "body": rule.body,
        "title": rule.title,
        "unit": rule.unit,
        "rule_version": rule.rule_version,
        "cycle": rule.describe_cycle(),
        "requirements": [
            {"id": r.id, "label": r.label, "kind": r.kind, "amount": str(r.amount)} for r in rule.requirements()
        ],
        "renewal_items": [
            {"id": i.id, "title": i.title, "kind": i.kind, "amount": None if i.amount is None else str(i.amount)}
            for i in rule.renewal_items()
        ],
        "retakes": rule.effective_repeat_policy(),
        "learner_fields": list(rule.learner_fields),
        "export_format": rule.export_format,
        "plugin": f"{type(rule).__module__}:{type(rule).__qualname__}",
    }
    if verbose:
        data["source"] = rule.source
        data["interpretations"] = list(rule.interpretations)
        data["settings"] = rule.settings_snapshot()
    return data


def _text(rows: list[dict[str, Any]]) -> str:
    lines = []
    for row in rows:
        needs = "; ".join(
            f"{'at most' if r['kind'] == 'cap' else 'at least'} {r['amount']} {r['label']}"
            for r in row["requirements"]
        ) or "no renewal requirement"
        lines.append(f"{row['credential']}  {row['body']}  {row['title']}")
        lines.append(f"    unit: {row['unit']}; cycle: {row['cycle']}; needs: {needs}")
        if row["renewal_items"]:
            lines.append("    also: " + "; ".join(i["title"] for i in row["renewal_items"]))
        lines.append(f"    a course earns again: {RETAKES[row['retakes']]}")
        for interpretation in row.get("interpretations", []):
            lines.append(f"    - {interpretation}")
        if "settings" in row:
            lines.append("    settings: " + ", ".join(f"{k}={v}" for k, v in row["settings"].items()))
    return "\n".join(lines)


@plugins.command("list")
@click.option("--verbose", is_flag=True, help="Also the source, every interpretation and the settings.")
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def list_plugins(rt: Runtime, verbose: bool, as_json: bool) -> None:
    """Every credential's rule: body, unit, cycle, requirements (and with --verbose, how it reads
    the body's rule)."""
    emit([describe(rule, verbose) for rule in rt.rulebook], as_json, _text)
