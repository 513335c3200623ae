"""The learner's pages: their credit, renewal progress, credentials with numbers and consent to
report, and a PDF certificate per award. Every query is scoped to the launch's platform and user."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException

from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import write_session
from lti_tool.exports import vc_jwt
from lti_tool.exports.base import DeliveryError
from lti_tool.exports.open_badges import signed_credential
from lti_tool.exports.transcript import transcript_csv, transcript_pdf
from lti_tool.runtime import current_runtime
from lti_tool.services import day_range, learners
from lti_tool.services.audit_packet import build_audit_packet
from lti_tool.services.awards import list_awards
from lti_tool.services.badge_signer import BadgeSigner
from lti_tool.services.claim_readiness import consent_recorded, set_consent
from lti_tool.services.crediting import find_mapping
from lti_tool.services.export_claims import credit_claims
from lti_tool.services.reminder_optout import opt_in, opt_out, opted_out
from lti_tool.services.transcripts import TranscriptUnavailable, build_transcript
from lti_tool.services.verification import code_for, ensure_learner_codes
from lti_tool.web.lti.context import (
    base_url,
    check_csrf,
    current_launch,
    page_error,
    platform_of,
    reading,
    refuse,
)
from lti_tool.web.lti.renewal_measure import keep_renewal
from lti_tool.web.views import certificates, learner_view, renewal_view

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
        today = datetime.now(rt.settings.zone).date()
        page = learner_view.learner_page(db, rt.rulebook, identity_id=platform.source_id,
                                         user=launch.lms_user_id, on=today,
                                         requires=rt.exports.requires, zone=rt.settings.zone)
        keep_renewal(renewal_view.renewal_page(db, rt.rulebook, identity_id=platform.source_id,
                                               user=launch.lms_user_id, on=today, zone=rt.settings.zone,
                                               results=page.results))
        learner = learners.find_learner(db, learners.LearnerKey(platform.source_id, launch.lms_user_id)) \
            if platform.source_id is not None else None
        reminders_off = learner is not None and opted_out(db, learner.id)
    return render_template("lti_learner.html", launch=launch, page=page, name=launch.claims.get("name"),
                           saved=request.args.get("saved"), reminders_off=reminders_off,
                           reminders_enabled=rt.settings.reminders.enabled,
                           certificate_url=award_link("lti_learner.certificate"),
                           badge_url=award_link("lti_learner.badge"))


AWARD_MARK = 9_876_543_210


def award_link(endpoint: str) -> Callable[[int], str]:
    """The address of an award's ``endpoint``, built once a page: ``url_for`` for each of a
    learner's hundreds of awards (twice: certificate and badge) was a fifth of the page's time."""
    address = url_for(endpoint, award_id=AWARD_MARK)
    head, tail = address.split(str(AWARD_MARK))
    return lambda award_id: f"{head}{int(award_id)}{tail}"


@blueprint.post("/lti/learner/reminders")
def save_reminders() -> Any:
    """The learner turns renewal reminder e-mails off or back on (after unsubscribing by e-mail)."""
    launch = current_launch()
    rt = current_runtime()
    wanted = request.form.get("reminders", "")
    if wanted not in ("on", "off"):
        return refuse("reminders must be on or off", 400)
    with write_session(rt.sessions) as db:
        platform = platform_of(db, launch)
        learner = learners.find_learner(db, learners.LearnerKey(platform.source_id, launch.lms_user_id)) \
            if platform.source_id is not None else None
        if learner is None:
            abort(404, "the tool has no record of you yet: it has had no completion of yours")
        (opt_in if wanted == "on" else opt_out)(db, learner.id)
    log.info("learner %s of platform %s turned renewal reminders %s", launch.lms_user_id, launch.platform_id,
             wanted)
    return redirect(url_for("lti_learner.learner", saved="reminders"), code=303)


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
            db, rt.rulebook, key=learners.LearnerKey(platform.source_id, launch.lms_user_id), credential=credential,
            number=number or None, certified_on=certified_on, cycle_start=None)
        holding.number = number or None
        given = request.form.get("consent") in ("on", "1", "true", "yes")
        if given or consent_recorded(db, holding.learner_id, credential):
            set_consent(db, holding.learner_id, credential, given)
    log.info("learner %s of platform %s updated %s (consent %s)", launch.lms_user_id, launch.platform_id,
             credential, "given" if given else "not given")
    return redirect(url_for("lti_learner.learner", saved=credential), code=303)


@blueprint.get("/lti/certificates/<int:award_id>.pdf")
def certificate(award_id: int) -> Any:
    launch = current_launch()
    rt = current_runtime()
    with reading() as db:
        platform = platform_of(db, launch)
        if platform.source_id is None:
            abort(404, "no such certificate for you")
        key = learners.LearnerKey(platform.source_id, launch.lms_user_id)
        awards = list_awards(db, identity_id=key.identity_id, user=key.lms_user_id)
        award = next((a for a in awards if a["id"] == award_id and not a["revoked"]), None)
        if award is None:
            abort(404, "no such certificate for you")
        mapping = find_mapping(db, award["source_id"], award["course"])
        learner = learners.find_learner(db, key)
        number = None
        if learner is not None:
            number = learners.credential_number(db, learner.id, award["credential"])
    with write_session(rt.sessions) as db:
        code = code_for(db, award_id)
    try:
        rule = rt.rulebook.get(award["credential"])
    except UnknownCredential:
        rule = None
    verify_url = f"{base_url()}/verify/{code}"
    pdf = certificates.render_certificate(certificates.for_award(
        award, mapping, rule, number, verify_url, issuer=rt.settings.certificates.issuer_name))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{award_id}.pdf"'})


@blueprint.get("/lti/learner/badges/<int:award_id>.jwt")
def badge(award_id: int) -> Any:
    """The learner's award as a signed Open Badges 3.0 credential (VC-JWT), the same document the
    ``open-badges`` exporter sends, for a wallet or a backpack."""
    launch = current_launch()
    rt = current_runtime()
    with reading() as db:
        platform = platform_of(db, launch)
        awards = list_awards(db, identity_id=platform.source_id, user=launch.lms_user_id) \
            if platform.source_id is not None else []
        if not any(a["id"] == award_id and not a["revoked"] for a in awards):
            abort(404, "no such credential for you")
        claims = credit_claims(db, award_id)
    if not claims:
        abort(404, "this award has no ledger entry to sign")
    try:
        _, token = signed_credential(claims[0], BadgeSigner(rt.sessions, rt.settings))
    except DeliveryError as exc:
        log.error("signed credential for award %s: %s", award_id, exc)
        abort(503, "the tool cannot sign credentials yet; ask its operator")
    return Response(token, mimetype=vc_jwt.MEDIA_TYPE, headers={
        "Content-Disposition": f'attachment; filename="open-badge-{award_id}.jwt"'})


@blueprint.get("/lti/learner/transcript/<credential>.<any(pdf, csv):kind>")
def transcript(credential: str, kind: str) -> Any:
    """The launch's own learner's transcript for a credential (``?cycle=YYYY-MM-DD``: that cycle)."""
    launch = current_launch()
    rt = current_runtime()
    cycle = request.args.get("cycle", "").strip()
    try:
        cycle_on = date.fromisoformat(cycle) if cycle else None
    except ValueError:
        return refuse(f"the cycle {cycle!r} is not a date (YYYY-MM-DD)", 400)
    try:
        if cycle_on is not None:
            day_range.check_day(cycle_on, "the cycle", ahead=day_range.CYCLE_LOOKAHEAD)
    except day_range.BadDay as exc:
        return refuse(str(exc), 400)
    with reading() as db:
        platform = platform_of(db, launch)
        if platform.source_id is None:
            abort(404, "no transcript: this platform is not linked to an event source")
        try:
            made = build_transcript(db, rt.rulebook, key=learners.LearnerKey(platform.source_id, launch.lms_user_id),
                                    credential=credential, cycle_on=cycle_on,
                                    today=datetime.now(rt.settings.zone).date(), zone=rt.settings.zone)
        except (UnknownCredential, TranscriptUnavailable) as exc:
            abort(404, f"no transcript: {exc}")
    if kind == "pdf":
        body, mimetype = transcript_pdf(made, rt.settings.certificates.issuer_name), "application/pdf"
    else:
        body, mimetype = transcript_csv(made), "text/csv"
    name = f"transcript-{credential}" + (f"-{made.cycle_start}" if made.cycle_start else "") + f".{kind}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


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
    try:
        if cycle_start is not None:
            day_range.check_day(cycle_start, "the cycle start", ahead=day_range.CYCLE_LOOKAHEAD)
    except day_range.BadDay as exc:
        return refuse(str(exc), 400)
    months = getattr(rule.settings, "cycle_months", None)
    with write_session(rt.sessions) as db:
        platform = platform_of(db, launch)
        if platform.source_id is not None:
            ensure_learner_codes(db, learners.LearnerKey(platform.source_id, launch.lms_user_id), credential)
    with reading() as db:
        platform = platform_of(db, launch)
        key = learners.LearnerKey(platform.source_id, launch.lms_user_id) if platform.source_id else None
        learner = learners.find_learner(db, key) if key else None
        if key is None or learner is None or not learners.holds_or_earned(db, learner.id, credential):
            abort(404, f"no audit packet for {credential}: you hold no such credential and have no credit toward it")
        packet = build_audit_packet(db, key, credential, cycle_start,
                                    int(months) if months else None, base_url(),
                                    instance_dir=rt.settings.instance_dir)
    log.info("learner %s of platform %s downloaded the %s audit packet (%d files)", launch.lms_user_id,
             launch.platform_id, credential, len(packet.files))
    name = f"audit-packet-{credential}" + (f"-cycle-{cycle_start}" if cycle_start else "") + ".zip"
    return Response(packet.content, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})
