"""The provider-plugin interface: everything a plugin imports, from one place.

A provider plugin turns contact time into one credential's credit, the way its certifying body's
published rule says, and tells how far a learner is from renewing. It receives frozen dataclasses
and returns frozen dataclasses; it never imports Flask or SQLAlchemy, never reads files or the
clock, and gives the same answer for the same input. Amounts are :class:`decimal.Decimal`.

Plugins are found through the entry-point group ``lti_tool.credit_rules``; each entry point is named
for a credential id and names a :class:`CreditRule` subclass.
"""

from lti_tool.credits.cycles import (
    add_months,
    anniversary_cycle,
    fixed_cycle,
    half_year_of,
    prorated_cycle,
    scheduled_cycle,
)
from lti_tool.credits.facts import (
    ACTIVITY_TYPES,
    NEVER_CREDITED,
    Activity,
    ActivityType,
    Award,
    Confirmation,
    Conversion,
    Cycle,
    EarnedCredit,
    Holding,
    ItemProgress,
    Progress,
    Refusal,
    RenewalItem,
    Requirement,
    RequirementProgress,
)
from lti_tool.credits.hourly import TIMED_TYPES, FixedCycleHourlySettings, HourlyRule, HourlySettings
from lti_tool.credits.repeats import REPEAT_POLICIES, RETAKE_INTERPRETATIONS, RepeatKey, RepeatPolicy
from lti_tool.credits.rounding import ROUNDING_MODES, hours, normalized, to_step
from lti_tool.credits.rule import CreditRule, CycleSettings, FixedCycleSettings
from lti_tool.credits.settings import RuleSettings

__all__ = [
    "ACTIVITY_TYPES", "NEVER_CREDITED", "REPEAT_POLICIES", "RETAKE_INTERPRETATIONS", "ROUNDING_MODES", "TIMED_TYPES",
    "Activity", "ActivityType", "Award", "Confirmation", "Conversion", "CreditRule", "Cycle", "CycleSettings",
    "EarnedCredit", "FixedCycleHourlySettings", "FixedCycleSettings", "Holding", "HourlyRule", "HourlySettings",
    "ItemProgress", "Progress", "Refusal", "RenewalItem", "RepeatKey", "RepeatPolicy", "Requirement",
    "RequirementProgress", "RuleSettings", "add_months", "anniversary_cycle", "fixed_cycle", "half_year_of", "hours",
    "normalized", "prorated_cycle", "scheduled_cycle", "to_step",
]
