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

from flask import Blueprint, abort, g, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from lti_tool.credits import api
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import write_session
from lti_tool.runtime import current_runtime
from lti_tool.services import learners, outside_credit, renewal_items
from lti_tool.services.certificate_files import MAX_BYTES, CertificateRefused, store_certificate
from lti_tool.web.lti.context import check_csrf, current_launch, page_error, platform_of, reading, refuse
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


def keep_renewal(page: renewal_view.RenewalPage) -> None:
    """The learner page measured the learner's renewal already (for its cards): the partials'
    ``learner_renewal()`` answers with it instead of measuring again."""
    g.learner_renewal = page


@blueprint.app_context_processor
def _renewal() -> dict[str, Any]:
    """``learner_renewal()`` for the learner page's renewal partials (computed when they call it)."""

    def learner_renewal() -> renewal_view.RenewalPage:
        if "learner_renewal" not in g:  # both partials ask; measured once per request
            launch = current_launch()
            rt = current_runtime()
            with reading() as db:
                platform = platform_of(db, launch)
                g.learner_renewal = renewal_view.renewal_page(
                    db, rt.rulebook, identity_id=platform.source_id, user=launch.lms_user_id,
                    on=datetime.now(rt.settings.zone).date(), zone=rt.settings.zone)
        page: renewal_view.RenewalPage = g.learner_renewal
        return page

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


@blueprint.post("/lti/learner/outside")
def record_outside() -> Any:
    """The learner records credit earned outside the LMS (self-reported until verified)."""
    launch = current_launch()
    rt = current_runtime()
    form = request.form
    kind = form.get("activity", "education")
    if kind not in api.ACTIVITY_TYPES:
        return refuse(f"unknown activity type {kind!r}", 400)
    hours = _number(form.get("hours", "").strip(), "hours")
    minutes_text = form.get("minutes", "").strip()
    if minutes_text:
        try:
            minutes = int(minutes_text)
        except ValueError:
            return refuse("the minutes must be a whole number", 400)
    elif hours is not None:
        minutes = int(hours * 60)
    else:
        return refuse("give the contact minutes (or, for authorship or college coursework, the hours)", 400)
    if minutes < 1:
        return refuse("the minutes must be at least 1", 400)
    approved = frozenset(part.upper() for part in form.get("approved_by", "").replace(",", " ").split())
    activity = api.Activity(
        minutes=minutes, type=kind, sponsor=_text(form, "sponsor"), live=form.get("live") == "on",
        category=_text(form, "category"), approved_by=approved, index_number=_text(form, "index_number"),
        hours=hours, first_time=form.get("repeat") != "on")
    on = _day(form.get("date", "").strip(), "date")
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
    except (outside_credit.OutsideRefused, CertificateRefused, learners.LearnerError, UnknownCredential) as exc:
        return refuse(str(exc).strip("'\""), 400)
    log.info("learner %s of platform %s recorded outside credit %s (%s %s)", launch.lms_user_id,
             launch.platform_id, recorded.row.id, recorded.row.amount, recorded.row.unit)
    return redirect(url_for("lti_learner.learner", recorded=form.get("credential")), code=303)


def _text(form: Any, name: str, limit: int = 200) -> str | None:
    value = str(form.get(name, "")).strip()
    if len(value) > limit:
        abort(400, f"the {name.replace('_', ' ')} is longer than {limit} characters")
    return value or None


def _learner(db: Any, launch: Any) -> int:
    platform = platform_of(db, launch)
    if platform.source_id is None:
        abort(403, "this platform is not linked to an event source; ask the tool's operator")
    learner = learners.find_learner(db, learners.LearnerKey(platform.source_id, launch.lms_user_id))
    if learner is None:
        raise learners.LearnerError("record a credential you hold first")
    return learner.id
