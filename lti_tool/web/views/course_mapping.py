"""The administrator page's course mapping: read it, preview the award per credential, save it.

Saving writes an audit entry with the mapping before and after, and, when asked, credits the
completions of the course that arrived before the mapping existed (services.mappings.credit_waiting).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook, UnknownCredential
from lti_tool.credits.rounding import normalized
from lti_tool.services.crediting import activity_for, find_mapping
from lti_tool.services.mappings import MappingSpec, apply_mapping, credit_waiting

BOOLEAN_FIELDS = ("use_measured_time", "first_time", "live", "offers_interaction", "structured", "cpr_card")
TEXT_FIELDS = ("title", "category", "sponsor", "index_number")
NUMBER_FIELDS = ("minutes", "pilot_minutes", "hours")


class MappingFormError(ValueError):
    pass


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
        raise MappingFormError("; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'mapping'}: {e['msg']}" for e in exc.errors())) from None


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


def as_form(mapping: models.CourseMapping | None) -> dict[str, Any]:
    if mapping is None:
        return {"activity": "education", "first_time": True}
    form: dict[str, Any] = {**mapping.facts, "title": mapping.title, "minutes": mapping.minutes,
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
