"""The contract every discovered provider plugin keeps, built-in or third-party."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from lti_tool.credits.api import (
    Activity,
    Award,
    CreditRule,
    EarnedCredit,
    Holding,
    Progress,
    Refusal,
)
from lti_tool.credits.registry import GROUP, RuleSettingsError, discover_rules, load_rulebook
from lti_tool.credits.settings import with_overrides
from lti_tool.credits.testing import activity_grid

RULES = discover_rules()
CREDENTIALS = sorted(RULES)
DIGEST_IDS = {
    "acmpe-cmpe", "acmpe-facmpe", "acmss-cmss", "aama-cma", "amt-rma", "ncct-ncma", "nha-ccma",
    "pahcom-cmm", "pmi-cmom", "aapc-cppm", "cie-cmmp", "pomaa-cpm", "mmi-rmm", "iacet-ceu",
}


def test_every_credential_of_the_digest_has_exactly_one_plugin() -> None:
    assert set(CREDENTIALS) == DIGEST_IDS


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_plugin_declares_the_interface(credential: str) -> None:
    cls = RULES[credential]
    assert issubclass(cls, CreditRule) and not cls.__abstractmethods__
    for attribute in CreditRule.REQUIRED_ATTRIBUTES:
        assert getattr(cls, attribute), f"{credential} leaves {attribute} empty"
    assert cls.interpretations, f"{credential} states no interpretation"
    assert cls.cycle_kind in ("fixed", "certification", "none")


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_plugin_is_pure_it_imports_neither_flask_nor_sqlalchemy(credential: str) -> None:
    module = RULES[credential].__module__
    code = (f"import sys, {module}; bad = [m for m in ('flask', 'sqlalchemy', 'requests') if m in sys.modules];"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_conversion_is_deterministic_decimal_and_explained(credential: str) -> None:
    rule = RULES[credential]()
    other = RULES[credential]()
    awarded = refused = 0
    for activity in activity_grid():
        result = rule.convert(activity)
        assert result == other.convert(activity) == rule.convert(activity)
        assert result.credential == credential
        assert isinstance(result.reason, str) and result.reason.strip()
        if isinstance(result, Award):
            awarded += 1
            assert isinstance(result.amount, Decimal) and result.amount > 0
            assert result.unit == rule.unit
            assert result.category is None or result.category in rule.categories
        else:
            assert isinstance(result, Refusal)
            refused += 1
    assert awarded and refused


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_never_credited_types_are_refused_with_a_reason(credential: str) -> None:
    rule = RULES[credential]()
    for kind in ("informal_discussion", "opening_remarks", "business_meeting", "committee_meeting", "orientation"):
        result = rule.convert(Activity(minutes=120, type=kind))
        assert isinstance(result, Refusal) and "no credit" in result.reason


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_progress_is_a_pure_function_of_awards(credential: str) -> None:
    rule = RULES[credential]()
    earned = [EarnedCredit(credential, Decimal("1.5"), date(2026, 3, 1), "c1"),
              EarnedCredit("someone-else", Decimal(99), date(2026, 3, 1), "c2")]
    holding = Holding(credential, certified_on=date(2025, 6, 1))
    first = rule.progress(earned, holding, date(2026, 4, 1))
    assert first == rule.progress(list(earned), holding, date(2026, 4, 1))
    assert isinstance(first, Progress) and isinstance(first.earned, Decimal)
    assert first.earned == Decimal("1.5"), "another credential's award never counts"
    requirements = rule.requirements()
    if rule.cycle_kind == "none":
        assert requirements == () and first.cycle_start is None
    else:
        assert requirements[0].id == "total" and first.cycle_start <= date(2026, 4, 1) <= first.cycle_end


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_bad_settings_are_rejected_naming_the_key(credential: str) -> None:
    settings = RULES[credential].settings_class()
    where = f"credit_rules.toml: [{credential}]"
    with pytest.raises(RuleSettingsError, match=r"\[" + credential + r"\]: unknown key 'no_such_key'"):
        with_overrides(settings, {"no_such_key": 1}, where)
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            continue
        with pytest.raises(RuleSettingsError, match=field.name):
            with_overrides(settings, {field.name: -1}, where)
        with pytest.raises(RuleSettingsError, match=field.name):
            with_overrides(settings, {field.name: "lots"}, where)


def test_the_entry_point_group_is_the_documented_one() -> None:
    assert GROUP == "lti_tool.credit_rules"


def test_a_plugin_installed_outside_the_repo_is_discovered(tmp_path: Path) -> None:
    """An installed distribution is a package plus a ``.dist-info`` with ``entry_points.txt``."""
    (tmp_path / "acme_rules.py").write_text(
        "from decimal import Decimal\n"
        "from lti_tool.credits.api import HourlyRule, HourlySettings\n"
        "class AcmeRule(HourlyRule):\n"
        "    credential = 'acme-cert'\n    body = 'ACME'\n    title = 'ACME Certified'\n"
        "    unit = 'ACME points'\n    rule_version = 'acme-1'\n    source = 'acme.example'\n"
        "    cycle_kind = 'certification'\n    interpretations = ('one point an hour',)\n"
    )
    info = tmp_path / "acme_rules-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\nacme-cert = acme_rules:AcmeRule\n")
    code = ("from lti_tool.credits.registry import load_rulebook; from lti_tool.credits.api import Activity;"
            "rule = load_rulebook().get('acme-cert'); print(rule.convert(Activity(minutes=90)).amount)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1.5"


def test_a_plugin_that_repeats_a_credential_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "dup_rules.py").write_text(
        "from lti_tool_plugins.acmss import CmssRule\nclass Again(CmssRule):\n    pass\n")
    info = tmp_path / "dup_rules-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dup-rules\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\nacmss-cmss = dup_rules:Again\n")
    out = subprocess.run([sys.executable, "-c", "from lti_tool.credits.registry import load_rulebook; load_rulebook()"],
                         capture_output=True, text=True, env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert out.returncode != 0 and "two plugins claim credential 'acmss-cmss'" in out.stderr


def test_overrides_apply_and_are_kept_with_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "credit_rules.toml"
    path.write_text('[acmss-cmss]\nrequired_total = 4\n[ncct-ncma]\nstep = "0.25"\n')
    rules = load_rulebook(path)
    assert rules.get("acmss-cmss").settings_snapshot()["required_total"] == "4"
    assert rules.get("ncct-ncma").convert(Activity(minutes=75)).amount == Decimal("1.25")
    assert load_rulebook().get("ncct-ncma").convert(Activity(minutes=75)).amount == Decimal(1)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[acmss-cmss]\nstep_size = 30\n", "[acmss-cmss]: unknown key 'step_size'"),
        ("[acmss-cmss]\nrequired_total = -3\n", "[acmss-cmss]: required_total: -3"),
        ('[aama-cma]\nrounding = "sideways"\n', "[aama-cma]: rounding: 'sideways'"),
        ("[aama-cma]\nminutes_per_unit = 0\n", "[aama-cma]: minutes_per_unit: must be at least 1"),
        ('[acmpe-cmpe]\ncycle_first_start = "soon"\n', "[acmpe-cmpe]: cycle_first_start: 'soon' is not a date"),
        ("[acme-nope]\nstep = 1\n", "unknown credential 'acme-nope'"),
        ("acmss-cmss = 3\n", "[acmss-cmss] must be a table"),
        ("[acmss-cmss\n", "credit_rules.toml"),
    ],
)
def test_a_bad_override_names_the_file_the_credential_and_the_key(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "credit_rules.toml"
    path.write_text(toml)
    with pytest.raises(RuleSettingsError) as error:
        load_rulebook(path)
    assert str(path) in str(error.value) and message in str(error.value)
