"""The checks every provider plugin passes, for the built-in ones and for yours, with one call.

A plugin author tests a rule the way the built-in plugins are tested::

    from lti_tool.credits.testing import check_plugin
    from acme_rules import AcmeRule

    def test_acme_rule_keeps_the_plugin_contract_and_its_golden_cases():
        check_plugin(AcmeRule)

:func:`check_plugin` runs the contract checks (the interface is declared, the module imports
neither Flask nor SQLAlchemy, conversion is deterministic, in :class:`~decimal.Decimal` and
explained, the never-credited activity types are refused, progress is a pure function of awards,
bad settings are refused naming the key) and every golden case of the ``cases.csv`` beside the
rule's module. Each check raises :class:`AssertionError` naming what failed (plain ``raise``, so
the checks hold under ``python -O`` and any test runner).

A golden case row: ``credential, case, minutes, facts, credit, index_number, category, tags,
reason_has``. ``facts`` is ``key=value`` pairs separated by ``;`` (``activity=presentation;
first_time=no``); ``credit`` is an amount or ``refused``; ``tags`` are space-separated;
``reason_has`` is words the one-line reason must contain.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from importlib.abc import Traversable
from itertools import product
from pathlib import Path

from lti_tool.credits.facts import ACTIVITY_TYPES, Activity, Award, EarnedCredit, Holding, Progress, Refusal
from lti_tool.credits.rule import CreditRule
from lti_tool.credits.settings import RuleSettingsError, with_overrides

__all__ = [
    "GoldenCase", "activity_grid", "cases_file", "check_bad_settings_refused", "check_conversion",
    "check_golden_case", "check_golden_cases", "check_interface", "check_never_credited",
    "check_plugin", "check_progress", "check_pure", "golden_cases", "parse_activity", "read_cases",
]

YES = {"yes": True, "no": False}
FACT_NAMES = {"interaction": "offers_interaction"}
NEVER_CREDITED_TYPES = ("informal_discussion", "opening_remarks", "business_meeting", "committee_meeting",
                        "orientation")
IMPURE_MODULES = ("flask", "sqlalchemy", "requests")


def _expect(condition: object, message: str) -> None:
    if not condition:
        raise AssertionError(message)


# Golden cases -------------------------------------------------------------------------------------

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
    """The text of the ``cases.csv`` beside the rule's module (in its package, or its directory for
    a single-file module), if there is one."""
    module = sys.modules[rule.__module__]
    if hasattr(module, "__path__"):
        path: Traversable = resources.files(module) / "cases.csv"
    else:
        path = Path(module.__file__ or ".").parent / "cases.csv"
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


def golden_cases(rule: type[CreditRule]) -> list[GoldenCase]:
    """The rule's own golden cases (the rows of its module's table that name its credential)."""
    text = cases_file(rule)
    return [c for c in read_cases(text) if c.credential == rule.credential] if text else []


def check_golden_case(rule: CreditRule, case: GoldenCase) -> None:
    """The rule gives exactly what the row says: credit or refusal, amount in its plain form, index
    number, category, tags and the words of the reason."""
    label = f"{case.credential}: {case.case}"
    result = rule.convert(case.activity)
    _expect(case.reason_has in result.reason, f"{label}: reason {result.reason!r} lacks {case.reason_has!r}")
    if case.credit == "refused":
        _expect(isinstance(result, Refusal), f"{label}: expected a refusal, got {result!r}")
        return
    _expect(isinstance(result, Award), f"{label}: expected an award, got {result!r}")
    assert isinstance(result, Award)
    _expect(isinstance(result.amount, Decimal), f"{label}: the amount is not a Decimal")
    _expect(result.amount == Decimal(case.credit), f"{label}: credit {result.amount}, expected {case.credit}")
    _expect(str(result.amount) == case.credit, f"{label}: {result.amount!s} is not in its plain form")
    _expect((result.index_number, result.category) == (case.index_number, case.category),
            f"{label}: index number and category {(result.index_number, result.category)!r}")
    _expect(result.tags == case.tags, f"{label}: tags {sorted(result.tags)!r}")
    _expect(result.unit == rule.unit and result.credential == case.credential, f"{label}: unit or credential")


def check_golden_cases(cls: type[CreditRule], *, minimum: int = 3) -> None:
    """At least ``minimum`` golden cases, a refusal among them, and every one holds."""
    cases = golden_cases(cls)
    _expect(len(cases) >= minimum, f"{cls.credential} has {len(cases)} golden cases (cases.csv beside "
                                   f"{cls.__module__}); at least {minimum} are needed")
    _expect(any(c.credit == "refused" for c in cases), f"{cls.credential} has no refusal case")
    rule = cls()
    for case in cases:
        check_golden_case(rule, case)


# The contract ------------------------------------------------------------------------------------

def activity_grid() -> list[Activity]:
    """A grid of activities touching every type and the facts that change results."""
    grid = [Activity(minutes=minutes, type=kind, first_time=first)
            for kind, minutes, first in product(ACTIVITY_TYPES, (0, 14, 29, 30, 49, 50, 61, 121, 600), (True, False))]
    grid += [
        Activity(minutes=60, type="distance", pilot_minutes=90, offers_interaction=True, structured=True),
        Activity(minutes=0, type="college", hours=Decimal("3.5")),
        Activity(minutes=0, type="college", hours=Decimal("0.1")),
        Activity(minutes=0, type="authorship", hours=Decimal("7.3")),
        Activity(minutes=0, type="authorship", hours=Decimal(12)),
        Activity(minutes=90, category="clinical", approved_by=frozenset({"AAMA"}), live=True, sponsor="MGMA"),
        Activity(minutes=90, category="core", index_number="X-1", approved_by=frozenset({"AAPC", "PAHCOM"})),
        Activity(minutes=30, cpr_card=True),
    ]
    return grid


def check_interface(cls: type[CreditRule]) -> None:
    _expect(issubclass(cls, CreditRule) and not getattr(cls, "__abstractmethods__", None),
            f"{cls.__name__} is not a concrete CreditRule")
    for attribute in CreditRule.REQUIRED_ATTRIBUTES:
        _expect(getattr(cls, attribute, None), f"{cls.__name__} leaves {attribute} empty")
    _expect(cls.interpretations, f"{cls.credential} states no interpretation")
    _expect(cls.cycle_kind in ("fixed", "certification", "none"), f"{cls.credential}: cycle_kind {cls.cycle_kind!r}")


def check_pure(cls: type[CreditRule]) -> None:
    """Importing the rule's module (in a fresh interpreter) imports neither Flask nor SQLAlchemy."""
    code = (f"import sys, {cls.__module__}; print(','.join(m for m in {IMPURE_MODULES!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    _expect(out.stdout.strip() == "", f"{cls.__module__} imports {out.stdout.strip()}")


def check_conversion(cls: type[CreditRule]) -> None:
    """Deterministic, in Decimal, explained, and both awards and refusals over the grid."""
    rule, other = cls(), cls()
    awarded = refused = 0
    for activity in activity_grid():
        result = rule.convert(activity)
        _expect(result == other.convert(activity) == rule.convert(activity), f"{activity!r}: not deterministic")
        _expect(result.credential == cls.credential, f"{activity!r}: names credential {result.credential!r}")
        _expect(isinstance(result.reason, str) and result.reason.strip(), f"{activity!r}: no reason")
        if isinstance(result, Award):
            awarded += 1
            _expect(isinstance(result.amount, Decimal) and result.amount > 0, f"{activity!r}: amount {result.amount!r}")
            _expect(result.unit == rule.unit, f"{activity!r}: unit {result.unit!r}")
            _expect(result.category is None or result.category in rule.categories,
                    f"{activity!r}: category {result.category!r} is not one of the rule's")
        else:
            _expect(isinstance(result, Refusal), f"{activity!r}: {result!r} is neither Award nor Refusal")
            refused += 1
    _expect(awarded and refused, f"{cls.credential}: {awarded} awards and {refused} refusals over the grid")


def check_never_credited(cls: type[CreditRule]) -> None:
    rule = cls()
    for kind in NEVER_CREDITED_TYPES:
        result = rule.convert(Activity(minutes=120, type=kind))
        _expect(isinstance(result, Refusal) and "no credit" in result.reason,
                f"{cls.credential}: {kind} is not refused with 'no credit'")


def check_progress(cls: type[CreditRule]) -> None:
    """Progress is a pure function of the awards; another credential's never count."""
    rule = cls()
    earned = [EarnedCredit(cls.credential, Decimal("1.5"), date(2026, 3, 1), "c1"),
              EarnedCredit("someone-else", Decimal(99), date(2026, 3, 1), "c2")]
    holding = Holding(cls.credential, certified_on=date(2025, 6, 1))
    first = rule.progress(earned, holding, date(2026, 4, 1))
    _expect(first == rule.progress(list(earned), holding, date(2026, 4, 1)), f"{cls.credential}: progress varies")
    _expect(isinstance(first, Progress) and isinstance(first.earned, Decimal), f"{cls.credential}: {first!r}")
    _expect(first.earned == Decimal("1.5"), f"{cls.credential}: another credential's award counted")
    requirements = rule.requirements()
    if rule.cycle_kind == "none":
        _expect(requirements == () and first.cycle_start is None, f"{cls.credential}: a cycle without cycle_kind")
    else:
        _expect(requirements and requirements[0].id == "total", f"{cls.credential}: the total is not first")
        _expect(first.cycle_start is not None and first.cycle_end is not None
                and first.cycle_start <= date(2026, 4, 1) <= first.cycle_end, f"{cls.credential}: cycle {first!r}")


def check_bad_settings_refused(cls: type[CreditRule]) -> None:
    """An unknown key, and a negative or non-numeric number, are refused naming the key."""
    settings = cls.settings_class()
    where = f"credit_rules.toml: [{cls.credential}]"
    overrides: list[tuple[dict[str, object], str]] = [
        ({"no_such_key": 1}, f"[{cls.credential}]: unknown key 'no_such_key'")]
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if not isinstance(value, bool) and isinstance(value, (int, Decimal)):
            overrides += [({field.name: -1}, field.name), ({field.name: "lots"}, field.name)]
    for override, naming in overrides:
        try:
            with_overrides(settings, override, where)
        except RuleSettingsError as exc:
            _expect(naming in str(exc), f"the refusal {exc} does not name {naming!r}")
            continue
        raise AssertionError(f"{cls.credential}: the bad setting {override!r} was accepted")


def check_plugin(cls: type[CreditRule], *, golden: bool = True) -> None:
    """Every contract check, then (``golden``) every golden case of the rule."""
    check_interface(cls)
    check_pure(cls)
    check_conversion(cls)
    check_never_credited(cls)
    check_progress(cls)
    check_bad_settings_refused(cls)
    if golden:
        check_golden_cases(cls)
