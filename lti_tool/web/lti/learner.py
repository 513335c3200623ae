"""The learner's pages: their credit, renewal progress, credentials with numbers and consent to
report, and a PDF certificate per award. Every query is scoped to the launch's platform and user."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from lti_tool import models
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import write_session
from lti_tool.runtime import current_runtime
from lti_tool.services import learners
from lti_tool.services.audit_packet import build_audit_packet
from lti_tool.services.awards import list_awards
from lti_tool.services.claim_readiness import set_consent
from lti_tool.services.crediting import find_mapping
from lti_tool.web.lti.context import check_csrf, current_launch, page_error, platform_of, reading, refuse
from lti_tool.web.views import certificates, learner_view

log = logging.getLogger(__name__)

blueprint = Blueprint("lti_learner", __name__)
blueprint.before_request(check_csrf)
blueprint.register_error_handler(HTTPException, page_error)

MAX_NUMBER = 100


@blueprint.get("/lti/learner")
def learner() -> Any:
    launch = current_launch()
    rt = current_runtime()
    with reading() as db:
        platform = platform_of(db, launch)
        page = learner_view.learner_page(db, rt.rulebook, source_id=platform.source_id,
                                         user=launch.lms_user_id,
                                         on=datetime.now(rt.settings.zone).date(),
                                         requires=rt.exports.requires, zone=rt.settings.zone)
    return render_template("lti_learner.html", launch=launch, page=page, name=launch.claims.get("name"),
                           saved=request.args.get("saved"))


@blueprint.post("/lti/learner/credentials")
def save_credential() -> Any:
    """The learner records a credential they hold, its member or licence number, and whether the
    tool may report their credit to the certifying body."""
    launch = current_launch()
    rt = current_runtime()
    credential = request.form.get("credential", "").strip()
    number = request.form.get("number", "").strip()
    certified = request.form.get("certified_on", "").strip()
    try:
        rt.rulebook.get(credential)
    except UnknownCredential as exc:
        return refuse(str(exc), 400)
    if len(number) > MAX_NUMBER:
        return refuse(f"the number is longer than {MAX_NUMBER} characters", 400)
    try:
        certified_on = date.fromisoformat(certified) if certified else None
    except ValueError:
        return refuse(f"the certification date {certified!r} is not a date (YYYY-MM-DD)", 400)
    try:
        learners.check_details(number or None, certified_on, datetime.now(rt.settings.zone).date())
    except learners.BadCredentialDetails as exc:
        return refuse(str(exc), 400)
    with write_session(rt.sessions) as db:
        platform = platform_of(db, launch)
        if platform.source_id is None:
            abort(403, "this platform is not linked to an event source; ask the tool's operator")
        holding = learners.add_credential(
            db, rt.rulebook, source_id=platform.source_id, user=launch.lms_user_id, credential=credential,
            number=number or None, certified_on=certified_on, cycle_start=None)
        holding.number = number or None
        given = request.form.get("consent") in ("on", "1", "true", "yes")
        if given or _has_consent_row(db, holding.learner_id, credential):
            set_consent(db, holding.learner_id, credential, given)
    log.info("learner %s of platform %s updated %s (consent %s)", launch.lms_user_id, launch.platform_id,
             credential, "given" if given else "not given")
    return redirect(url_for("lti_learner.learner", saved=credential), code=303)


def _has_consent_row(db: Any, learner_id: int, credential: str) -> bool:
    return db.scalar(select(models.ReportConsent.id).where(
        models.ReportConsent.learner_id == learner_id, models.ReportConsent.credential == credential)) is not None


@blueprint.get("/lti/certificates/<int:award_id>.pdf")
def certificate(award_id: int) -> Any:
    launch = current_launch()
    rt = current_runtime()
    with reading() as db:
        platform = platform_of(db, launch)
        awards = list_awards(db, source_id=platform.source_id, user=launch.lms_user_id) \
            if platform.source_id is not None else []
        award = next((a for a in awards if a["id"] == award_id and not a["revoked"]), None)
        if award is None:
            abort(404, "no such certificate for you")
        mapping = find_mapping(db, award["source_id"], award["course"])
        learner = learners.find_learner(db, platform.source_id, launch.lms_user_id)  # type: ignore[arg-type]
        number = None
        if learner is not None:
            number = db.scalar(_number_query(learner.id, award["credential"]))
    try:
        rule = rt.rulebook.get(award["credential"])
    except UnknownCredential:
        rule = None
    pdf = certificates.render_certificate(certificates.for_award(award, mapping, rule, number))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{award_id}.pdf"'})


def _number_query(learner_id: int, credential: str) -> Any:
    return select(models.LearnerCredential.number).where(
        models.LearnerCredential.learner_id == learner_id, models.LearnerCredential.credential == credential)


@blueprint.get("/lti/learner/audit-packet/<credential>")
def audit_packet(credential: str) -> Any:
    """The launch's own learner's audit packet for a credential they hold or have credit toward
    (``lti-tool audit packet``): all of it, or with ``?cycle=YYYY-MM-DD`` the renewal cycle that
    starts that day. Another learner's or another platform's is never reachable: the learner is the
    launch's, looked up in the launch's platform's source."""
    launch = current_launch()
    rt = current_runtime()
    try:
        rule = rt.rulebook.get(credential)
    except UnknownCredential:
        abort(404, f"no audit packet for {credential!r}: the tool knows no such credential")
    cycle = request.args.get("cycle", "").strip()
    try:
        cycle_start = date.fromisoformat(cycle) if cycle else None
    except ValueError:
        return refuse(f"the cycle start {cycle!r} is not a date (YYYY-MM-DD)", 400)
    months = getattr(rule.settings, "cycle_months", None)
    with reading() as db:
        platform = platform_of(db, launch)
        source = db.get(models.Source, platform.source_id) if platform.source_id else None
        learner = learners.find_learner(db, source.id, launch.lms_user_id) if source else None
        if source is None or learner is None or not _holds(db, learner.id, credential):
            abort(404, f"no audit packet for {credential}: you hold no such credential and have no credit toward it")
        packet = build_audit_packet(db, source.identity_id, launch.lms_user_id, credential, cycle_start,
                                    int(months) if months else None)
    log.info("learner %s of platform %s downloaded the %s audit packet (%d files)", launch.lms_user_id,
             launch.platform_id, credential, len(packet.files))
    name = f"audit-packet-{credential}" + (f"-cycle-{cycle_start}" if cycle_start else "") + ".zip"
    return Response(packet.content, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


def _holds(db: Session, learner_id: int, credential: str) -> bool:
    """The learner has the credential on file, or an award toward it (the page lists both)."""
    on_file = db.scalar(select(models.LearnerCredential.id).where(
        models.LearnerCredential.learner_id == learner_id, models.LearnerCredential.credential == credential))
    return on_file is not None or db.scalar(select(models.Award.id).where(
        models.Award.learner_id == learner_id, models.Award.credential == credential).limit(1)) is not None
