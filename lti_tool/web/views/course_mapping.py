"""The administrator page's course mapping: read it, preview the award per credential, save it.

Saving writes an audit entry with the mapping before and after, and, when asked, credits the
completions of the course that arrived before the mapping existed (services.mappings.credit_waiting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook, UnknownCredential
from lti_tool.credits.rounding import normalized
from lti_tool.services.crediting import activity_for, find_mapping
from lti_tool.services.mappings import MappingSpec, apply_mapping, credit_waiting

BOOLEAN_FIELDS = ("use_measured_time", "first_time", "live", "offers_interaction", "structured", "cpr_card")
TEXT_FIELDS = ("title", "category", "sponsor", "index_number")
NUMBER_FIELDS = ("minutes", "max_minutes", "pilot_minutes", "hours", "own_minutes", "staffed_minutes")


ACTIVITY_FACTS: dict[str, tuple[str, ...]] = {
    "presentation": ("first_time", "own_minutes"), "poster": ("first_time", "staffed_minutes"),
    "distance": ("pilot_minutes", "offers_interaction", "structured"),
    "college": ("hours",), "authorship": ("hours",),
}
"""Facts only an activity type uses (the credit rules digest: distance learning's pilot study,
presentations given for the first time and a co-presenter's own portion, a poster's staffed
minutes, hours entered for college and authorship)."""
BODY_FACTS: dict[str, tuple[str, ...]] = {"ACMPE": ("sponsor",), "AAMA": ("cpr_card",)}
"""Facts only one body's rule reads; the plugin API declares categories and approval codes, not these."""
GENERAL_FACTS = ("live",)


class MappingFormError(ValueError):
    """The form's problems, by field (``credentials``, ``minutes`` …, or ``mapping`` for the whole)."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in fields.items()))
        self.fields = fields


@dataclass(frozen=True)
class CredentialChoice:
    """A checkbox of the administrator's page: a credential by its name, body and unit."""

    credential: str
    title: str
    body: str
    unit: str
    approval_code: str | None
    categories: tuple[str, ...]


def credential_choices(rulebook: Rulebook) -> list[CredentialChoice]:
    return sorted((CredentialChoice(r.credential, r.title, r.body, r.unit, r.approval_code, tuple(r.categories))
                   for r in rulebook), key=lambda c: (c.body, c.title))


def chosen(form: dict[str, Any]) -> list[str]:
    """The credential ids of a form (a comma-separated string, as ``as_form`` gives and the form posts)."""
    return [c.strip() for c in str(form.get("credentials") or "").replace(";", ",").split(",") if c.strip()]


def relevant_facts(form: dict[str, Any], choices: list[CredentialChoice]) -> set[str]:
    """The facts that matter for the form's activity type and credentials: the page shows only these."""
    picked = [c for c in choices if c.credential in set(chosen(form))]
    facts = set(GENERAL_FACTS) | set(ACTIVITY_FACTS.get(str(form.get("activity") or "education"), ()))
    if any(c.categories for c in picked):
        facts.add("category")
    if any(c.approval_code for c in picked):
        facts |= {"approved_by", "index_number"}
    for choice in picked:
        facts |= set(BODY_FACTS.get(choice.body, ()))
    return facts


def form_from_request(form: Any) -> dict[str, Any]:
    """The posted form as the page's flat dict: repeated checkboxes (credentials, approved_by) joined."""
    data: dict[str, Any] = form.to_dict()
    data["credentials"] = ", ".join(v.strip() for v in form.getlist("credentials") if v.strip())
    data["approved_by"] = ", ".join(v.strip() for v in form.getlist("approved_by") if v.strip())
    return data


@dataclass(frozen=True)
class PreviewLine:
    credential: str
    amount: str | None
    unit: str | None
    reason: str


def spec_from_form(form: dict[str, Any], *, source_name: str, course_id: str) -> MappingSpec:
    """A validated mapping from the page's form fields (a flat dict of strings and booleans)."""
    data: dict[str, Any] = {"source": source_name, "course": course_id,
                            "activity": form.get("activity") or "education"}
    data["credentials"] = [c.strip() for c in str(form.get("credentials", "")).replace(";", ",").split(",")
                           if c.strip()]
    data["approved_by"] = [b.strip() for b in str(form.get("approved_by", "")).split(",") if b.strip()]
    for name in BOOLEAN_FIELDS:
        data[name] = str(form.get(name, "")).lower() in ("1", "true", "on", "yes")
    for name in TEXT_FIELDS:
        value = str(form.get(name) or "").strip()
        data[name] = value or None
    for name in NUMBER_FIELDS:
        value = str(form.get(name) or "").strip()
        data[name] = value or None
    try:
        return MappingSpec.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "mapping"
            if name == "mapping" and "minutes" in error["msg"]:
                name = "minutes"
            fields.setdefault(name, error["msg"].removeprefix("Value error, "))
        raise MappingFormError(fields) from None


def _transient(spec: MappingSpec) -> models.CourseMapping:
    return models.CourseMapping(
        course_id=spec.course, minutes=spec.minutes, use_measured_time=spec.use_measured_time,
        activity=spec.activity, facts=spec.facts(), credentials=list(spec.credentials))


def preview(spec: MappingSpec, rulebook: Rulebook) -> list[PreviewLine]:
    """What one completion of the course would earn toward each credential, before saving."""
    activity = activity_for(_transient(spec), None)
    lines = []
    for credential in spec.credentials:
        try:
            rule = rulebook.get(credential)
        except UnknownCredential as exc:
            lines.append(PreviewLine(credential, None, None, str(exc)))
            continue
        if activity is None:
            lines.append(PreviewLine(credential, None, None, "uses the time measured per learner"))
            continue
        result = rule.convert(activity)
        if isinstance(result, api.Refusal):
            lines.append(PreviewLine(credential, None, None, result.reason))
        else:
            lines.append(PreviewLine(credential, str(normalized(result.amount)), result.unit, result.reason))
    return lines


@dataclass(frozen=True)
class MappedCourse:
    """A row of the administrator's list of the platform's mapped courses."""

    course: str
    title: str | None
    minutes: int | None
    use_measured_time: bool
    credentials: list[str]
    completions: int
    awards: int


def mapped_courses(session: Session, identity_id: int) -> list[MappedCourse]:
    """Every course mapped for the platform's event source, with its completions and standing awards."""
    completions = {course: count for course, count in session.execute(
        select(models.CourseCompletion.course_id, func.count())
        .where(models.CourseCompletion.source_id == identity_id)
        .group_by(models.CourseCompletion.course_id))}
    reversed_ = exists().where(models.LedgerEntry.award_id == models.Award.id, models.LedgerEntry.kind == "reversal")
    awards = {course: count for course, count in session.execute(
        select(models.Award.course_id, func.count())
        .where(models.Award.source_id == identity_id, ~reversed_).group_by(models.Award.course_id))}
    mappings = session.scalars(select(models.CourseMapping).where(models.CourseMapping.source_id == identity_id)
                               .order_by(models.CourseMapping.title, models.CourseMapping.course_id))
    return [MappedCourse(m.course_id, m.title, m.minutes, m.use_measured_time, list(m.credentials),
                         completions.get(m.course_id, 0), awards.get(m.course_id, 0)) for m in mappings]


def as_form(mapping: models.CourseMapping | None) -> dict[str, Any]:
    if mapping is None:
        return {"activity": "education", "first_time": True}
    form: dict[str, Any] = {**mapping.facts, "title": mapping.title, "minutes": mapping.minutes,
                            "max_minutes": mapping.max_minutes,
                            "use_measured_time": mapping.use_measured_time, "activity": mapping.activity,
                            "credentials": ", ".join(mapping.credentials)}
    form["approved_by"] = ", ".join(mapping.facts.get("approved_by") or [])
    return form


def save(
    session: Session, rulebook: Rulebook, *, launch: models.LaunchSession, identity_id: int,
    spec: MappingSpec, credit_existing: bool,
) -> int:
    """Create or replace the course's mapping; return how many awards crediting waiting made."""
    existing = find_mapping(session, identity_id, spec.course)
    before = as_form(existing) if existing else None
    mapping, _ = apply_mapping(session, rulebook, identity_id, spec)
    session.add(models.AuditEntry(
        platform_id=launch.platform_id, lms_user_id=launch.lms_user_id, action="mapping.save",
        subject=f"course {spec.course}", before=before, after=as_form(mapping)))
    return credit_waiting(session, mapping, rulebook) if credit_existing else 0
