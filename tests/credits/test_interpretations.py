"""A rule states its own interpretations; those of the class it extends follow by inheritance."""

from __future__ import annotations

from lti_tool.credits.api import HourlyRule
from lti_tool.credits.registry import discover_rules


class Acme(HourlyRule):
    interpretations = ("ACME counts webinars as education.",)


class AcmeFellow(Acme):
    interpretations = ("Fellows keep the same rule.",)


class Contrary(HourlyRule):
    replaces_interpretations = True
    interpretations = ("Presentations count double.",)


def test_own_interpretations_come_first_then_the_inherited_hourly_ones() -> None:
    assert Acme.interpretations == ("ACME counts webinars as education.", *HourlyRule.HOURLY_INTERPRETATIONS)


def test_a_subclass_of_a_plugin_inherits_the_plugins_and_the_hourly_ones_each_once() -> None:
    assert AcmeFellow.interpretations == ("Fellows keep the same rule.", *Acme.interpretations)


def test_a_rule_that_decides_otherwise_replaces_the_inherited_ones() -> None:
    assert Contrary.interpretations == ("Presentations count double.",)


def test_every_built_in_hourly_plugin_states_the_hourly_interpretations_once() -> None:
    for cls in discover_rules().values():
        if issubclass(cls, HourlyRule) and not cls.replaces_interpretations:
            shared = HourlyRule.AUTHORSHIP_INTERPRETATIONS if cls.credits_authorship else HourlyRule.HOURLY_INTERPRETATIONS
            for line in shared:
                assert cls.interpretations.count(line) == 1, cls.credential
