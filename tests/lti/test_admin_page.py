"""The administrator's course mapping page: credentials picked by name, only the facts that matter,
errors beside their field, and the platform's mapped courses."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import MultiDict

from lti_tool.db import write_session
from lti_tool.runtime import Runtime
from lti_tool.services.mappings import MappingSpec, apply_mapping
from tests.lti.conftest import Launcher
from tests.lti.pages import complete, csrf_token, mapping_form
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR


def admin(launch: Launcher) -> str:
    assert launch(launch.platform.claims(sub="99", roles=ADMINISTRATOR)).status_code == 303
    return launch.client.get("/lti/mapping").get_data(as_text=True)


def hidden_facts(page: str) -> set[str]:
    return set(re.findall(r'data-fact="(\w+)" hidden', page))


def test_credentials_are_checkboxes_named_by_title_body_and_unit(launch: Launcher) -> None:
    page = admin(launch)
    assert re.search(r'<input type="checkbox" name="credentials" value="aama-cma">\s*'
                     r'<span>Certified Medical Assistant[^<]*<span class="unit">AAMA · recertification points</span>', page)


def test_facts_no_credential_or_activity_needs_are_hidden(launch: Launcher) -> None:
    page = admin(launch)
    assert {"category", "approved_by", "index_number", "sponsor", "pilot_minutes", "hours", "cpr_card",
            "first_time"} <= hidden_facts(page)


def test_choosing_aama_and_distance_learning_shows_their_facts(launch: Launcher) -> None:
    admin(launch)
    token = csrf_token(launch.client, "/lti/mapping")
    page = launch.client.post("/lti/mapping", data=mapping_form(
        token, credentials="aama-cma", activity="distance", action="preview")).get_data(as_text=True)
    shown = {"category", "approved_by", "index_number", "cpr_card", "pilot_minutes", "offers_interaction",
             "structured"}
    assert not shown & hidden_facts(page)
    assert {"sponsor", "hours", "first_time"} <= hidden_facts(page)


def test_a_field_error_is_shown_beside_its_field(launch: Launcher) -> None:
    admin(launch)
    token = csrf_token(launch.client, "/lti/mapping")
    response = launch.client.post("/lti/mapping", data=mapping_form(token, minutes="-5"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="minutes"[^>]*aria-invalid="true" aria-describedby="minutes-error">'
                     r'<span class="field-error" id="minutes-error">[^<]*greater than or equal to 0', page), page


def test_several_checked_credentials_are_saved_together(launch: Launcher) -> None:
    admin(launch)
    token = csrf_token(launch.client, "/lti/mapping")
    form = [(k, v) for k, v in mapping_form(token).items() if k != "credentials"]
    form += [("credentials", "iacet-ceu"), ("credentials", "acmss-cmss")]
    page = launch.client.post("/lti/mapping", data=MultiDict(form)).get_data(as_text=True)
    assert "Mapping saved" in page
    assert 'value="iacet-ceu" checked' in page and 'value="acmss-cmss" checked' in page


def test_the_platforms_mapped_courses_are_listed_with_completions_and_awards(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    complete(runtime, source["id"], "42", "565")
    complete(runtime, source["id"], "43", "565")
    admin(launch)
    token = csrf_token(launch.client, "/lti/mapping")
    page = launch.client.post("/lti/mapping", data=mapping_form(token)).get_data(as_text=True)
    row = re.search(r'<tr data-course="565">(.*?)</tr>', page, flags=re.S)
    assert row, page
    cells = re.findall(r'<td[^>]*>(.*?)</td>', row.group(1), flags=re.S)
    assert "HIPAA basics" in cells[0] and cells[1].strip() == "120"
    assert "Continuing Education Units" in cells[2] and [cells[3], cells[4]] == ["2", "2"]


def saved_mapping(runtime: Runtime) -> Any:
    from sqlalchemy import select

    from lti_tool import models
    with runtime.sessions() as session:
        return session.scalar(select(models.CourseMapping))


def test_the_measured_time_ceiling_is_saved_and_shown_again(launch: Launcher, runtime: Runtime) -> None:
    admin(launch)
    token = csrf_token(launch.client, "/lti/mapping")
    response = launch.client.post("/lti/mapping", data=mapping_form(token, use_measured_time="on", max_minutes="90"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert saved_mapping(runtime).max_minutes == 90
    page = launch.client.get("/lti/mapping").get_data(as_text=True)
    assert re.search(r'<input id="max_minutes" name="max_minutes" type="number" min="1"[^>]* value="90"', page), page


def test_without_a_ceiling_the_default_is_explained_and_none_is_saved(launch: Launcher, runtime: Runtime) -> None:
    page = admin(launch)
    assert "default: the contact minutes when set, else 8 hours" in page
    token = csrf_token(launch.client, "/lti/mapping")
    assert launch.client.post("/lti/mapping", data=mapping_form(token, max_minutes="")).status_code == 200
    assert saved_mapping(runtime).max_minutes is None


def test_a_ceiling_below_one_minute_is_a_field_error(launch: Launcher, runtime: Runtime) -> None:
    admin(launch)
    token = csrf_token(launch.client, "/lti/mapping")
    response = launch.client.post("/lti/mapping", data=mapping_form(token, max_minutes="0"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(r'id="max_minutes"[^>]*aria-invalid="true" aria-describedby="max_minutes-error">'
                     r'<span class="field-error" id="max_minutes-error">[^<]*greater than or equal to 1', page), page
    assert saved_mapping(runtime) is None


def test_a_presentations_own_portion_and_a_posters_staffed_minutes_are_facts_of_their_type(
        launch: Launcher, runtime: Runtime) -> None:
    assert {"own_minutes", "staffed_minutes"} <= hidden_facts(admin(launch))
    token = csrf_token(launch.client, "/lti/mapping")
    page = launch.client.post("/lti/mapping", data=mapping_form(
        token, activity="presentation", action="preview")).get_data(as_text=True)
    assert "own_minutes" not in hidden_facts(page) and "staffed_minutes" in hidden_facts(page)
    launch.client.post("/lti/mapping", data=mapping_form(token, activity="poster", staffed_minutes="45"))
    assert saved_mapping(runtime).facts["staffed_minutes"] == 45


def map_other_course(runtime: Runtime, source: dict[str, Any], course: str = "777") -> None:
    spec = MappingSpec(source=source["name"], course=course, title="Front desk safety", minutes=90,
                       credentials=["aama-cma", "iacet-ceu"], category="general")
    with write_session(runtime.sessions) as session:
        apply_mapping(session, runtime.rulebook, source["id"], spec)


def test_another_mapped_course_links_to_its_mapping_read_only(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    map_other_course(runtime, source)
    complete(runtime, source["id"], "42", "777")
    row = re.search(r'<tr data-course="777">(.*?)</tr>', admin(launch), flags=re.S)
    assert row, "the other course is listed"
    [href] = re.findall(r'href="([^"]+)"', row.group(1))
    assert href == "/lti/mapping/courses/777"
    answer = launch.client.get(href)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Front desk safety" in page and "Read-only" in page
    assert "<form" not in page.split("<main", 1)[1], "nothing to save from another course's launch"
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd[^>]*>(.*?)</dd>", page, flags=re.S))
    assert facts["Contact minutes"] == "90" and facts["Category"] == "general"
    assert facts["Completions received"] == "1" and facts["Awards standing"] == "2"
    assert "Continuing Education Units" in facts["Credentials"] and "Certified Medical Assistant" in facts["Credentials"]
    assert re.search(r'<tr data-credential="iacet-ceu"><td>[^<]+</td><td>0.2 CEUs</td>', page), page


def test_the_launchs_own_course_opens_its_editable_mapping(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    map_other_course(runtime, source, course="565")
    admin(launch)
    answer = launch.client.get("/lti/mapping/courses/565")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/lti/mapping#mapping")


def test_a_course_not_mapped_on_this_platform_is_not_found_and_staff_only_see_their_own(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], cli_json: Any
) -> None:
    other = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-2")
    map_other_course(runtime, other, course="888")
    admin(launch)
    assert launch.client.get("/lti/mapping/courses/888").status_code == 404  # another platform's course
    assert launch.client.get("/lti/mapping/courses/nope").status_code == 404
    map_other_course(runtime, source)
    assert launch(launch.platform.claims(sub="7", roles=INSTRUCTOR)).status_code == 303
    assert launch.client.get("/lti/mapping/courses/777").status_code == 403
