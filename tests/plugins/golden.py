"""Reading the golden case tables that sit beside each plugin (``cases.csv``).

A row: ``credential, case, minutes, facts, credit, index_number, category, tags, reason_has``.
``facts`` is ``key=value`` pairs separated by ``;`` (``activity=presentation; first_time=no``);
``credit`` is an amount or ``refused``; ``tags`` are space-separated; ``reason_has`` is words the
one-line reason must contain.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from lti_tool.credits.api import Activity, CreditRule

YES = {"yes": True, "no": False}
FACT_NAMES = {"interaction": "offers_interaction"}


@dataclass(frozen=True)
class GoldenCase:
    credential: str
    case: str
    activity: Activity
    credit: str
    index_number: str | None
    category: str | None
    tags: frozenset[str]
    reason_has: str


def cases_file(rule: type[CreditRule]) -> str | None:
    package = rule.__module__
    path = resources.files(package) / "cases.csv"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def parse_activity(minutes: str, facts: str) -> Activity:
    values: dict[str, object] = {"minutes": int(minutes)}
    for pair in filter(None, (p.strip() for p in facts.split(";"))):
        key, _, raw = (s.strip() for s in pair.partition("="))
        key = FACT_NAMES.get(key, key)
        if key == "activity":
            values["type"] = raw
        elif key == "approved_by":
            values[key] = frozenset(raw.upper().split())
        elif key in ("pilot_minutes", "own_minutes", "staffed_minutes"):
            values[key] = int(raw)
        elif key == "hours":
            values[key] = Decimal(raw)
        elif raw in YES:
            values[key] = YES[raw]
        else:
            values[key] = raw
    return Activity(**values)  # type: ignore[arg-type]


def read_cases(text: str) -> list[GoldenCase]:
    return [
        GoldenCase(
            credential=row["credential"], case=row["case"],
            activity=parse_activity(row["minutes"], row["facts"]), credit=row["credit"],
            index_number=row["index_number"] or None, category=row["category"] or None,
            tags=frozenset(row["tags"].split()), reason_has=row["reason_has"],
        )
        for row in csv.DictReader(io.StringIO(text))
    ]
