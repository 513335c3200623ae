"""The pages behind a launch: learner, instructor (course roster), administrator (course mapping),
certificates and deep linking. Every query is scoped to the launch's platform and course."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from lti_tool import text
from lti_tool.credits.registry import UnknownCredential
from lti_tool.db import write_session
from lti_tool.lti import deep_linking
from lti_tool.lti.claims import DEEP_LINKING_REQUEST, MESSAGE_TYPE
from lti_tool.runtime import current_runtime
from lti_tool.services.crediting import find_mapping
from lti_tool.services.sources import find_source
from lti_tool.web.lti.context import (
    check_csrf,
    course_of,
    current_launch,
    page_error,
    platform_of,
    reading,
    tool_urls,
)
from lti_tool.web.lti.keys import TITLE
from lti_tool.web.views import course_mapping, course_view, export_view

log = logging.getLogger(__name__)

blueprint = Blueprint("lti_pages", __name__)
STAFF = ("instructor", "administrator")
COURSE_ID_LIMIT = 2000
"""The course mappings' ``course_id`` column."""


blueprint.before_request(check_csrf)
blueprint.register_error_handler(HTTPException, page_error)


@blueprint.get("/lti/home")
def home() -> Any:
    launch = current_launch()
    page = {"administrator": "lti_pages.mapping", "instructor": "lti_pages.roster"}.get(
        launch.role, "lti_learner.learner")
    return redirect(url_for(page), code=303)


def credential_names() -> dict[str, str]:
    return {rule.credential: rule.title for rule in current_runtime().rulebook}


@blueprint.get("/lti/course")
def roster() -> Any:
    launch = current_launch(*STAFF)
    try:
        query = course_view.RosterQuery.from_args(request.args)
    except course_view.BadSearch as exc:
        abort(400, str(exc))
    with reading() as db:
        roster = course_view.course_roster(db, identity_id=platform_of(db, launch).source_id,
                                           course_id=course_of(db, launch), query=query,
                                           names=credential_names())
    return render_template("lti_instructor.html", launch=launch, roster=roster, rows=roster.rows, q=query.q)


@blueprint.get("/lti/course.csv")
def roster_csv() -> Any:
    launch = current_launch(*STAFF)
    try:
        search = course_view.search_text(request.args.get("q", ""))
    except course_view.BadSearch as exc:
        abort(400, str(exc))
    with reading() as db:
        rows = course_view.course_rows(db, identity_id=platform_of(db, launch).source_id,
                                       course_id=course_of(db, launch), query=search,
                                       names=credential_names())
    return Response(course_view.render_csv(rows), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="course-credit.csv"'})


@blueprint.route("/lti/mapping", methods=["GET", "POST"])
def mapping() -> Any:
    launch = current_launch("administrator")
    rt = current_runtime()
    with reading() as db:
        course = course_of(db, launch)
        platform = platform_of(db, launch)
        source = find_source(db, platform.source_id) if platform.source_id else None
        form: dict[str, Any] = course_mapping.as_form(
            find_mapping(db, source.identity_id, course) if source else None)
        exports = export_view.platform_exports(db, rt.exports, source.identity_id) if source else None
        courses = course_mapping.mapped_courses(db, source.identity_id) if source else []
    message = error = None
    field_errors: dict[str, str] = {}
    retried = request.args.get("retried", type=int)
    if retried is not None and request.method == "GET":
        message = f"Export batch {retried} is back in line: the next export run delivers it."
    preview: list[course_mapping.PreviewLine] = []
    if source is None:
        error = "This platform is not linked to an event source; ask the tool's operator."
    elif request.method == "GET" and course_mapping.chosen(form):
        try:  # the saved mapping's award per credential, as the preview shows it
            preview = course_mapping.preview(course_mapping.spec_from_form(
                form, source_name=source.name, course_id=course), rt.rulebook)
        except course_mapping.MappingFormError:
            preview = []
    elif request.method == "POST":
        form = course_mapping.form_from_request(request.form)
        try:
            spec = course_mapping.spec_from_form(form, source_name=source.name, course_id=course)
            preview = course_mapping.preview(spec, rt.rulebook)
            if request.form.get("action") == "save":
                with write_session(rt.sessions) as db:
                    credited = course_mapping.save(
                        db, rt.rulebook, launch=launch, identity_id=source.identity_id, spec=spec,
                        credit_existing=bool(request.form.get("credit_existing")))
                    courses = course_mapping.mapped_courses(db, source.identity_id)
                message = f"Mapping saved. Completions already received: {credited} award(s) made."
        except course_mapping.MappingFormError as exc:
            error, field_errors = f"The mapping was not saved: {exc}", exc.fields
        except UnknownCredential as exc:
            error, field_errors = f"The mapping was not saved: {exc}", {"credentials": str(exc)}
    status = 200
    if error:  # the form comes back with the error; nothing was saved
        status = 400 if source is not None else 403
        log.warning("LTI %s %s refused (%s): %s", request.method, request.path, status, error)
    choices = course_mapping.credential_choices(rt.rulebook)
    return render_template("lti_admin.html", launch=launch, form=form, course=course, preview=preview,
                           message=message, error=error, field_errors=field_errors,
                           activity_types=_activity_types(), exports=exports, courses=courses,
                           choices=choices, chosen=set(course_mapping.chosen(form)),
                           facts=course_mapping.relevant_facts(form, choices),
                           fact_rules=_fact_rules(choices), names=credential_names()), status


@blueprint.get("/lti/mapping/courses/<path:course_id>")
def mapped_course(course_id: str) -> Any:
    """Another mapped course of the platform, read-only: its title, minutes, activity, credentials,
    facts and the award one completion earns, as its own mapping page shows them. A launch may change
    only its own course's mapping (the LMS vouches for the administrator's role in that course), so
    this page says where to change it: from that course."""
    launch = current_launch("administrator")
    rt = current_runtime()
    if len(course_id) > COURSE_ID_LIMIT or not text.is_clean(course_id):  # PostgreSQL refuses a NUL
        abort(404, "no such mapped course on this platform")
    with reading() as db:
        platform = platform_of(db, launch)
        source = find_source(db, platform.source_id) if platform.source_id else None
        mapping = find_mapping(db, source.identity_id, course_id) if source else None
        if source is None or mapping is None:
            abort(404, f"no mapped course {course_id!r} on this platform")
        if course_id == course_of(db, launch):
            return redirect(url_for("lti_pages.mapping") + "#mapping", code=303)
        [summary] = [c for c in course_mapping.mapped_courses(db, source.identity_id) if c.course == course_id]
    form = course_mapping.as_form(mapping)
    try:
        preview = course_mapping.preview(course_mapping.spec_from_form(
            form, source_name=source.name, course_id=course_id), rt.rulebook)
    except course_mapping.MappingFormError:
        preview = []  # a mapping saved before a rule changed: shown without its award
    relevant = course_mapping.relevant_facts(form, course_mapping.credential_choices(rt.rulebook))
    facts = sorted(f for f in relevant if mapping.facts.get(f) not in (None, "", []))
    return render_template("lti_admin_course.html", launch=launch, mapping=mapping, summary=summary,
                           preview=preview, facts=facts, names=credential_names())


def _fact_rules(choices: list[course_mapping.CredentialChoice]) -> dict[str, Any]:
    """What the page's script needs to show and hide facts as the administrator picks."""
    return {
        "activity": course_mapping.ACTIVITY_FACTS, "general": course_mapping.GENERAL_FACTS,
        "credentials": {c.credential: sorted(course_mapping.relevant_facts(
            {"credentials": c.credential, "activity": "-"}, choices) - set(course_mapping.GENERAL_FACTS))
            for c in choices},
    }


@blueprint.post("/lti/exports/<int:batch_id>/retry")
def retry_export(batch_id: int) -> Any:
    """The administrator puts a dead batch of this platform's learners back in line (audit-logged);
    a batch shared with other platforms is the operator's (``lti-tool export retry ID``)."""
    launch = current_launch("administrator")
    with write_session(current_runtime().sessions) as db:
        platform = platform_of(db, launch)
        source = find_source(db, platform.source_id) if platform.source_id else None
        if source is None:
            abort(404, "this platform is not linked to an event source; ask the tool's operator")
        try:
            result = export_view.retry(db, launch=launch, identity_id=source.identity_id, batch_id=batch_id)
        except export_view.NotThisPlatforms as exc:
            abort(404, str(exc))
        except ValueError as exc:
            abort(409, str(exc))
    log.info("export batch %s retried by %s of platform %s after: %s", batch_id, launch.lms_user_id,
             launch.platform_id, result["last_error"])
    return redirect(url_for("lti_pages.mapping", retried=batch_id), code=303)


@blueprint.post("/lti/mapping/preview")
def mapping_preview() -> Any:
    launch = current_launch("administrator")
    rt = current_runtime()
    with reading() as db:
        course = course_of(db, launch)
    try:
        spec = course_mapping.spec_from_form(course_mapping.form_from_request(request.form), source_name="-",
                                             course_id=course)
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
    try:  # sent to the LMS, signed: one line that fits the LMS's link title
        title = text.checked(request.form.get("title") or TITLE, "title", deep_linking.TITLE_LIMIT)
    except text.BadText as exc:
        abort(400, f"the link was not placed: {exc}")
    with reading() as db:
        return_url, jwt_value = deep_linking.response_jwt(
            db, launch, launch_url=tool_urls().launch_url, title=title)
    return render_template("lti_deep_link_return.html", return_url=return_url, jwt=jwt_value)


@blueprint.app_context_processor
def navigation() -> dict[str, Any]:
    return {"nav": [("Your credit", url_for("lti_learner.learner")),
                    ("Course learners", url_for("lti_pages.roster")),
                    ("Course mapping", url_for("lti_pages.mapping"))]}
