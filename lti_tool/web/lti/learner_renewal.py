"""The learner page's renewal forms: confirming an item that is not credit (a fee, a membership,
volunteer hours) and recording credit earned outside the LMS with its certificate.

Both forms carry the page's CSRF token. An upload may be larger than the events' body limit (a
certificate up to :data:`~lti_tool.services.certificate_files.MAX_BYTES`), so this blueprint
raises the request's limit for itself before the CSRF check reads the form.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, abort, g, make_response, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from lti_tool.credits import api
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import write_session
from lti_tool.runtime import current_runtime
from lti_tool.services import learners, outside_credit, renewal_items
from lti_tool.services.certificate_files import MAX_BYTES, CertificateRefused, store_certificate
from lti_tool.web.lti.context import check_csrf, current_launch, page_error, platform_of, refuse
from lti_tool.web.lti.learner import learner
from lti_tool.web.lti.renewal_measure import learner_renewal
from lti_tool.web.views import renewal_view

log = logging.getLogger(__name__)

blueprint = Blueprint("lti_learner_renewal", __name__)
FORM_OVERHEAD = 64 * 1024
"""Room for the form's other fields around an upload of the largest certificate."""


@blueprint.before_request
def _allow_certificates() -> None:
    request.max_content_length = MAX_BYTES + FORM_OVERHEAD


blueprint.before_request(check_csrf)
blueprint.register_error_handler(HTTPException, page_error)


@blueprint.app_context_processor
def _renewal() -> dict[str, Any]:
    """``learner_renewal()`` for the learner page's renewal partials (measured once per request)."""
    return {"learner_renewal": learner_renewal}


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400, f"the {what} {text!r} is not a date (YYYY-MM-DD)")


def _number(text: str, what: str) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        abort(400, f"the {what} {text!r} is not a number")
    if not value.is_finite() or value <= 0:
        abort(400, f"the {what} must be a number above 0")
    return value


@blueprint.post("/lti/learner/items")
def confirm_item() -> Any:
    """The learner confirms a renewal item of a credential they hold, with the date."""
    launch = current_launch()
    rt = current_runtime()
    form = request.form
    on = _day(form.get("confirmed_on", "").strip() or datetime.now(rt.settings.zone).date().isoformat(),
              "date")
    amount = _number(form.get("amount", "").strip(), "hours")
    try:
        with write_session(rt.sessions) as db:
            learner = _learner(db, launch)
            renewal_items.confirm_item(db, rt.rulebook, learner_id=learner, credential=form.get("credential", ""),
                                       item_id=form.get("item", ""), on=on, amount=amount, recorded_by="learner")
    except (renewal_items.ItemError, learners.LearnerError, UnknownCredential) as exc:
        return refuse(str(exc).strip("'\""), 400)
    log.info("learner %s of platform %s confirmed %s of %s on %s", launch.lms_user_id, launch.platform_id,
             form.get("item"), form.get("credential"), on)
    return redirect(url_for("lti_learner.learner", recorded=form.get("credential")), code=303)


class FieldErrors(ValueError):
    """The outside-credit form's problems, by field: the page shows each beside its field."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {message}" for name, message in fields.items()))
        self.fields = fields


def _whole(form: Any, name: str, errors: dict[str, str], what: str, least: int = 0) -> int | None:
    text = str(form.get(name, "")).strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        errors[name] = f"the {what} must be a whole number"
        return None
    if value < least:
        errors[name] = f"the {what} must be at least {least}"
        return None
    return value


def _outside_activity(form: Any) -> tuple[api.Activity, date]:
    """The activity and its date from the form, reading only the facts of its activity type (as
    the page shows them); else :class:`FieldErrors`."""
    errors: dict[str, str] = {}
    kind = form.get("activity", "education")
    if kind not in api.ACTIVITY_TYPES:
        errors["activity"] = f"unknown activity type {kind!r}"
    relevant = renewal_view.OUTSIDE_FACTS.get(kind, ())
    hours: Decimal | None = None
    hours_text = form.get("hours", "").strip()
    if hours_text:
        try:
            hours = Decimal(hours_text)
            if not hours.is_finite() or hours <= 0:
                raise InvalidOperation
        except InvalidOperation:
            errors["hours"] = "the hours must be a number above 0"
            hours = None
    minutes = _whole(form, "minutes", errors, "minutes", least=1)
    if minutes is None and hours is not None:
        minutes = int(hours * 60)
    if minutes is None and not errors.get("minutes") and not errors.get("hours"):
        errors["minutes"] = "give the contact minutes (or, for authorship or college coursework, the hours)"
    facts: dict[str, Any] = {}
    for name, what in (("pilot_minutes", "pilot-study minutes"), ("own_minutes", "own portion"),
                       ("staffed_minutes", "staffed minutes")):
        if name in relevant:
            facts[name] = _whole(form, name, errors, what)
    for name in ("offers_interaction", "structured"):
        if name in relevant:
            facts[name] = form.get(name) == "on"
    texts: dict[str, str | None] = {}
    for name in ("sponsor", "category", "index_number", "approved_by"):
        value = str(form.get(name, "")).strip()
        limit = 64 if name in ("category", "index_number") else 200
        if len(value) > limit:
            errors[name] = f"longer than {limit} characters"
        texts[name] = value or None
    on: date | None = None
    try:
        on = date.fromisoformat(form.get("date", "").strip())
    except ValueError:
        errors["date"] = "give the date the activity was completed (YYYY-MM-DD)"
    if errors or minutes is None or on is None:
        raise FieldErrors(errors)
    approved = frozenset(part.upper() for part in (texts["approved_by"] or "").replace(",", " ").split())
    activity = api.Activity(
        minutes=minutes, type=kind, sponsor=texts["sponsor"], live=form.get("live") == "on",
        category=texts["category"], approved_by=approved, index_number=texts["index_number"], hours=hours,
        first_time=not ("repeat" in relevant and form.get("repeat") == "on"), **facts)
    return activity, on


def _refused_field(message: str) -> str:
    """Which field a refusal of the service is about (the plugin's refusal: the kind of activity)."""
    for name in ("title", "provider", "date"):
        if message.startswith(f"the {name} "):
            return name
    return "activity"


def _form_again(errors: dict[str, str]) -> Any:
    """The learner page again, 400, with the form as it was sent and each error beside its field."""
    g.outside_errors = errors
    g.outside_form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    log.info("learner %s: outside credit not recorded: %s", current_launch().lms_user_id, errors)
    response = make_response(learner())
    response.status_code = 400
    return response


@blueprint.post("/lti/learner/outside")
def record_outside() -> Any:
    """The learner records credit earned outside the LMS (self-reported until verified)."""
    launch = current_launch()
    rt = current_runtime()
    form = request.form
    try:
        activity, on = _outside_activity(form)
    except FieldErrors as exc:
        return _form_again(exc.fields)
    upload = request.files.get("certificate")
    try:
        stored = None
        if upload is not None and upload.filename:
            stored = store_certificate(rt.settings.instance_dir, upload.read(MAX_BYTES + 1))
        with write_session(rt.sessions) as db:
            recorded = outside_credit.record_outside(
                db, rt.rulebook, learner_id=_learner(db, launch), credential=form.get("credential", ""),
                title=form.get("title", ""), provider=form.get("provider", ""), on=on, activity=activity,
                certificate=stored, recorded_by="learner")
    except CertificateRefused as exc:
        return _form_again({"certificate": str(exc).strip("'\"")})
    except outside_credit.OutsideRefused as exc:
        message = str(exc).strip("'\"")
        return _form_again({_refused_field(message): message})
    except (learners.LearnerError, UnknownCredential) as exc:
        return _form_again({"credential": str(exc).strip("'\"")})
    log.info("learner %s of platform %s recorded outside credit %s (%s %s)", launch.lms_user_id,
             launch.platform_id, recorded.row.id, recorded.row.amount, recorded.row.unit)
    return redirect(url_for("lti_learner.learner", recorded=form.get("credential")), code=303)


def _learner(db: Any, launch: Any) -> int:
    platform = platform_of(db, launch)
    if platform.source_id is None:
        abort(403, "this platform is not linked to an event source; ask the tool's operator")
    learner = learners.find_learner(db, learners.LearnerKey(platform.source_id, launch.lms_user_id))
    if learner is None:
        raise learners.LearnerError("record a credential you hold first")
    return learner.id
