"""The pages behind a launch: learner, instructor (course roster), administrator (course mapping),
certificates and deep linking. Every query is scoped to the launch's platform and course."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from lti_tool import models
from lti_tool.credits.registry import Rulebook, UnknownCredential
from lti_tool.db import write_session
from lti_tool.lti import certificates, course_mapping, course_view, deep_linking, identity, learner_view
from lti_tool.lti.claims import DEEP_LINKING_REQUEST, MESSAGE_TYPE
from lti_tool.services.awards import list_awards
from lti_tool.web.app import runtime
from lti_tool.web.lti.context import current_launch, reading, refuse, tool_urls
from lti_tool.web.lti.keys import TITLE

blueprint = Blueprint("lti_pages", __name__)
STAFF = ("instructor", "administrator")


@blueprint.before_request
def check_csrf() -> None:
    """Every state-changing request to the pages carries the form's (or header's) CSRF token."""
    current_app.extensions["csrf"].protect()


@blueprint.errorhandler(HTTPException)
def page_error(exc: HTTPException) -> Any:
    return refuse(exc.description or exc.name, exc.code or 400)


def _platform(db: Any, launch: models.LaunchSession) -> models.Platform:
    platform = db.get(models.Platform, launch.platform_id)
    assert platform is not None
    return platform


def _course(launch: models.LaunchSession) -> str:
    course = identity.course_id(launch.claims)
    if course is None:
        abort(403, "this launch has no course")
    return course


@blueprint.get("/lti/home")
def home() -> Any:
    launch = current_launch()
    page = {"administrator": "lti_pages.mapping", "instructor": "lti_pages.roster"}.get(
        launch.role, "lti_pages.learner")
    return redirect(url_for(page), code=303)


@blueprint.get("/lti/learner")
def learner() -> Any:
    launch = current_launch()
    rt = runtime()
    with reading() as db:
        platform = _platform(db, launch)
        page = learner_view.learner_page(db, rt.rulebook, source_id=platform.source_id,
                                         user=launch.lms_user_id, on=date.today())
    return render_template("lti_learner.html", launch=launch, page=page, name=launch.claims.get("name"))


@blueprint.get("/lti/certificates/<int:award_id>.pdf")
def certificate(award_id: int) -> Any:
    launch = current_launch()
    rt = runtime()
    with reading() as db:
        platform = _platform(db, launch)
        awards = list_awards(db, source_id=platform.source_id, user=launch.lms_user_id) \
            if platform.source_id is not None else []
        award = next((a for a in awards if a["id"] == award_id and not a["revoked"]), None)
        if award is None:
            abort(404, "no such certificate for you")
        course = award["course"]
        mapping = course_mapping.find(db, award["source_id"], course)
        rule = _rule(rt.rulebook, award["credential"])
    pdf = certificates.render_certificate(certificates.Certificate(
        learner_name=award["learner_name"] or "", learner_id=award["learner"],
        course=(mapping.title if mapping and mapping.title else f"Course {course}"),
        completed_on=award["completed_at"][:10], minutes=award["minutes"],
        credential=award["credential"], amount=award["amount"], unit=award["unit"],
        index_number=award["index_number"], award_id=award["id"],
        proof=getattr(rule, "proof", None) if rule is not None else None,
    ))
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{award_id}.pdf"'})


def _rule(rulebook: Rulebook, credential: str) -> Any:
    try:
        return rulebook.get(credential)
    except UnknownCredential:
        return None


@blueprint.get("/lti/course")
def roster() -> Any:
    launch = current_launch(*STAFF)
    query = request.args.get("q", "")
    with reading() as db:
        rows = course_view.course_rows(db, source_id=_platform(db, launch).source_id,
                                       course_id=_course(launch), query=query)
    return render_template("lti_instructor.html", launch=launch, rows=rows, q=query)


@blueprint.get("/lti/course.csv")
def roster_csv() -> Any:
    launch = current_launch(*STAFF)
    with reading() as db:
        rows = course_view.course_rows(db, source_id=_platform(db, launch).source_id,
                                       course_id=_course(launch), query=request.args.get("q", ""))
    return Response(course_view.render_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="course-credit.csv"'})


@blueprint.route("/lti/mapping", methods=["GET", "POST"])
def mapping() -> Any:
    launch = current_launch("administrator")
    rt = runtime()
    course = _course(launch)
    with reading() as db:
        platform = _platform(db, launch)
        source = db.get(models.Source, platform.source_id) if platform.source_id else None
        form: dict[str, Any] = course_mapping.as_form(
            course_mapping.find(db, source.identity_id, course) if source else None)
    message = error = None
    preview: list[course_mapping.PreviewLine] = []
    if source is None:
        error = "This platform is not linked to an event source; ask the tool's operator."
    elif request.method == "POST":
        form = request.form.to_dict()
        try:
            spec = course_mapping.spec_from_form(form, source_name=source.name, course_id=course)
            preview = course_mapping.preview(spec, rt.rulebook)
            if request.form.get("action") == "save":
                with write_session(rt.sessions) as db:
                    credited = course_mapping.save(
                        db, rt.rulebook, launch=launch, source_id=source.identity_id, spec=spec,
                        credit_existing=bool(request.form.get("credit_existing")))
                message = f"Mapping saved. Completions already received: {credited} award(s) made."
        except (course_mapping.MappingFormError, UnknownCredential) as exc:
            error = str(exc)
    return render_template("lti_admin.html", launch=launch, form=form, course=course, preview=preview,
                           message=message, error=error, activity_types=_activity_types())


@blueprint.post("/lti/mapping/preview")
def mapping_preview() -> Any:
    launch = current_launch("administrator")
    rt = runtime()
    try:
        spec = course_mapping.spec_from_form(
            request.form.to_dict(), source_name="-", course_id=_course(launch))
    except course_mapping.MappingFormError as exc:
        return jsonify(error=str(exc), lines=[])
    return jsonify(error=None, lines=[line.__dict__ for line in course_mapping.preview(spec, rt.rulebook)])


def _activity_types() -> tuple[str, ...]:
    from lti_tool.credits.api import ACTIVITY_TYPES

    return ACTIVITY_TYPES


@blueprint.route("/lti/deep-link", methods=["GET", "POST"])
def deep_link() -> Any:
    launch = current_launch(*STAFF)
    if launch.claims.get(MESSAGE_TYPE) != DEEP_LINKING_REQUEST:
        abort(400, "this launch is not a deep-linking request")
    if request.method == "GET":
        return render_template("lti_deep_link.html", launch=launch, title=TITLE)
    with reading() as db:
        return_url, jwt_value = deep_linking.response_jwt(
            db, launch, launch_url=tool_urls().launch_url, title=request.form.get("title") or TITLE)
    return render_template("lti_deep_link_return.html", return_url=return_url, jwt=jwt_value)


@blueprint.app_context_processor
def navigation() -> dict[str, Any]:
    return {"nav": [("Your credit", url_for("lti_pages.learner")),
                    ("Course learners", url_for("lti_pages.roster")),
                    ("Course mapping", url_for("lti_pages.mapping"))]}
