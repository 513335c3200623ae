"""Course mappings: reading them from TOML, importing them, and crediting what was waiting."""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models, text
from lti_tool.credits.api import ACTIVITY_TYPES
from lti_tool.credits.registry import Rulebook
from lti_tool.services import sources as source_service
from lti_tool.services.crediting import credit_completions, find_mapping

log = logging.getLogger(__name__)

FACT_KEYS = (
    "first_time", "category", "sponsor", "live", "approved_by", "index_number",
    "pilot_minutes", "offers_interaction", "structured", "hours", "cpr_card", "own_minutes", "staffed_minutes",
)


class MappingError(ValueError):
    """A mapping file or entry is invalid; the message names the file, the entry and the field."""


TEXT_LIMITS = {"source": 100, "course": 2000, "activity": 32, "title": 500, "category": 64,
               "sponsor": 255, "index_number": 64}
"""The longest value of each text field (its column's length, or less): longer ones, and any with a
NUL, a lone surrogate or a control character, are refused on SQLite and PostgreSQL alike."""
MAX_MINUTES = 2**31 - 1


class MappingSpec(BaseModel):
    """One ``[[mapping]]`` table. See config/mappings.example.toml for every field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    course: str = Field(min_length=1)
    credentials: list[str] = Field(min_length=1)
    minutes: int | None = Field(None, ge=0)
    use_measured_time: bool = False
    max_minutes: int | None = Field(None, ge=1)
    activity: str = "education"
    title: str | None = None
    first_time: bool = True
    category: str | None = None
    sponsor: str | None = None
    live: bool = False
    approved_by: list[str] = []
    index_number: str | None = None
    pilot_minutes: int | None = Field(None, ge=0)
    offers_interaction: bool = False
    structured: bool = False
    hours: Decimal | None = Field(None, ge=0)
    cpr_card: bool = False
    own_minutes: int | None = Field(None, ge=0)
    """A co-presenter's or panelist's own portion of a presentation."""
    staffed_minutes: int | None = Field(None, ge=0)
    """The minutes a poster's author staffed it."""

    @model_validator(mode="before")
    @classmethod
    def _course_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("course"), int):
            data = {**data, "course": str(data["course"])}
        return data

    @model_validator(mode="after")
    def _check(self) -> MappingSpec:
        for name, limit in TEXT_LIMITS.items():
            value = getattr(self, name)
            if value is not None:
                text.checked(value, name, limit)  # BadText is a ValueError: reported as the field's
        for name in ("credentials", "approved_by"):
            for value in getattr(self, name):
                text.checked(value, name, 100)
        for name in ("minutes", "max_minutes", "pilot_minutes", "own_minutes", "staffed_minutes"):
            value = getattr(self, name)  # max_minutes beyond the column was a traceback from the import
            if value is not None and value > MAX_MINUTES:
                raise ValueError(f"{name}: at most {MAX_MINUTES}")
        if self.hours is not None and not (self.hours.is_finite() and self.hours <= MAX_MINUTES // 60):
            raise ValueError(f"hours: at most {MAX_MINUTES // 60}")
        if self.activity not in ACTIVITY_TYPES:
            raise ValueError(f"unknown activity {self.activity!r}; one of {', '.join(ACTIVITY_TYPES)}")
        if self.minutes is None and not self.use_measured_time:
            raise ValueError("minutes is required unless use_measured_time = true")
        return self

    def facts(self) -> dict[str, Any]:
        facts = {key: getattr(self, key) for key in FACT_KEYS}
        facts["approved_by"] = sorted(b.upper() for b in self.approved_by)
        facts["hours"] = None if self.hours is None else str(self.hours)
        return facts


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    credited_awards: int


def read_mapping_file(path: Path) -> list[MappingSpec]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path}: {exc}") from None
    unknown = set(data) - {"mapping"}
    if unknown:
        raise MappingError(f"{path}: unknown top-level key(s) {', '.join(sorted(unknown))}; use [[mapping]]")
    specs = []
    for number, entry in enumerate(data.get("mapping", []), start=1):
        try:
            specs.append(MappingSpec.model_validate(entry))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'mapping'}: {e['msg']}" for e in exc.errors()
            )
            raise MappingError(f"{path}: mapping #{number}: {problems}") from None
    return specs


def import_mappings(session: Session, specs: list[MappingSpec], rulebook: Rulebook) -> ImportResult:
    """Create or replace each mapping, then credit completions of its course already received."""
    created = updated = credited = 0
    for spec in specs:
        source = source_service.find_by_name(session, spec.source)
        if source is None:
            raise MappingError(f"mapping for course {spec.course}: no source named {spec.source!r}")
        mapping, new = apply_mapping(session, rulebook, source.identity_id, spec)
        created += new
        updated += not new
        credited += credit_waiting(session, mapping, rulebook)
    return ImportResult(created, updated, credited)


def apply_mapping(
    session: Session, rulebook: Rulebook, identity_id: int, spec: MappingSpec
) -> tuple[models.CourseMapping, bool]:
    """Create or replace the course's mapping from ``spec``; ``True`` if it is new.

    Every credential must have a rule (:class:`UnknownCredential` otherwise). Crediting what waited
    is the caller's choice (see :func:`credit_waiting`).
    """
    for credential in spec.credentials:
        rulebook.get(credential)
    mapping = find_mapping(session, identity_id, spec.course)
    new = mapping is None
    if mapping is None:
        mapping = models.CourseMapping(source_id=identity_id, course_id=spec.course)
        session.add(mapping)
    mapping.title = spec.title
    mapping.minutes = spec.minutes
    mapping.use_measured_time = spec.use_measured_time
    mapping.max_minutes = spec.max_minutes
    mapping.activity = spec.activity
    mapping.facts = spec.facts()
    mapping.credentials = list(dict.fromkeys(spec.credentials))
    session.flush()
    return mapping, new


def credit_waiting(session: Session, mapping: models.CourseMapping, rulebook: Rulebook) -> int:
    """Credit completions of the mapping's course that lack an award for one of its credentials."""
    completions = list(session.scalars(
        select(models.CourseCompletion).where(
            models.CourseCompletion.source_id == mapping.source_id,
            models.CourseCompletion.course_id == mapping.course_id,
        ).order_by(models.CourseCompletion.id)
    ))
    # Each award at DEBUG: a mapping imported after a backfill may credit thousands; one line here.
    outcomes = credit_completions(session, [(completion, mapping) for completion in completions], rulebook,
                                  award_log_level=logging.DEBUG)
    awarded = 0
    for completion, outcome in zip(completions, outcomes, strict=True):
        awarded += len(outcome.awarded)
        event = session.get(models.LmsEvent, completion.event_id)
        if outcome.awarded and event is not None and event.status == models.EventStatus.UNMAPPED:
            event.status = models.EventStatus.CREDITED
    if awarded:
        log.info("mapping of course %s (source %s): %d awards for the %d completions that waited for it",
                 mapping.course_id, mapping.source_id, awarded, len(completions))
    return awarded


def describe(mapping: models.CourseMapping, source_name: str) -> dict[str, Any]:
    return {
        "id": mapping.id,
        "source": source_name,
        "course": mapping.course_id,
        "title": mapping.title,
        "minutes": mapping.minutes,
        "use_measured_time": mapping.use_measured_time,
        "max_minutes": mapping.max_minutes,
        "activity": mapping.activity,
        "credentials": mapping.credentials,
        **mapping.facts,
    }


def list_mappings(session: Session) -> list[dict[str, Any]]:
    rows = session.execute(
        select(models.CourseMapping, models.Source.name)
        .join(models.Source, models.Source.id == models.CourseMapping.source_id)
        .order_by(models.CourseMapping.id)
    )
    return [describe(mapping, name) for mapping, name in rows]


