"""``lti-tool credits convert``: what a credential's rule gives for some contact time."""

from __future__ import annotations

from typing import Any

import click

from lti_tool.cli.activity_options import activity_from, activity_options
from lti_tool.cli.context import emit, pass_runtime
from lti_tool.credits import api
from lti_tool.credits.registry import UnknownCredential
from lti_tool.runtime import Runtime


@click.group()
def credits() -> None:
    """Convert contact time into credit."""


@credits.command("convert")
@click.option("--credential", required=True, help="Credential id, e.g. acmss-cmss.")
@click.option("--minutes", type=click.IntRange(min=0), required=True, help="Contact minutes.")
@activity_options
@click.option("--json", "as_json", is_flag=True)
@pass_runtime
def convert(rt: Runtime, credential: str, minutes: int, facts: dict[str, Any], as_json: bool) -> None:
    """Print the credit one activity earns toward one credential."""
    try:
        rule = rt.rulebook.get(credential)
    except UnknownCredential as exc:
        raise click.UsageError(str(exc)) from None
    activity = activity_from(minutes, facts)
    result = rule.convert(activity)
    award = result if isinstance(result, api.Award) else None
    refused = award is None
    data = {
        "credential": credential,
        "amount": str(award.amount) if award else "0",
        "unit": rule.unit,
        "refused": refused,
        "reason": result.reason,
        "index_number": award.index_number if award else None,
        "category": award.category if award else None,
        "rule_version": rule.rule_version,
    }
    emit(data, as_json, lambda d: (f"{credential}: refused: {d['reason']}" if refused
                                   else f"{credential}: {d['amount']} {d['unit']} ({d['reason']})"))
