"""CSRF protection on every form of the pages: each POST route refuses a request without the token
(and stores nothing), and each form the pages render carries it. The LMS's own cross-site posts
(/lti/login, /lti/launch) are verified by the signed id_token, the state and the nonce instead."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher
from tests.lti.pages import CREDENTIAL, mapping_form
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR
from tests.lti.test_endpoints import deep_linking_claims
from tests.lti.test_isolation import PAGE_BLUEPRINTS, ROUTES, path_of

POSTS = sorted(rule for method, rule in ROUTES if method == "POST")
FORM = {"credential": CREDENTIAL, "number": "N", "consent": "on", "title": "x", **mapping_form("")}


def written(runtime: Runtime) -> int:
    tables = (models.CourseMapping, models.LearnerCredential, models.ReportConsent, models.AuditEntry)
    with read_session(runtime.sessions) as session:
        return sum(session.scalar(select(func.count()).select_from(t)) or 0 for t in tables)


@pytest.mark.parametrize("path", POSTS)
@pytest.mark.parametrize("token", ["", "forged-token"], ids=["no token", "forged token"])
def test_a_post_without_a_valid_csrf_token_is_refused(
    path: str, token: str, launch: Launcher, runtime: Runtime
) -> None:
    claims = (deep_linking_claims(launch.platform, ADMINISTRATOR) if path == "/lti/deep-link"
              else launch.platform.claims(roles=ADMINISTRATOR))
    assert launch(claims).status_code == 303
    before = written(runtime)
    response = launch.client.post(path_of(path), data={**FORM, "csrf_token": token})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)
    assert written(runtime) == before


def test_every_post_route_of_the_pages_is_checked(app: Flask) -> None:
    posts = {rule.rule for rule in app.url_map.iter_rules()
             if rule.endpoint.split(".")[0] in PAGE_BLUEPRINTS and "POST" in (rule.methods or ())}
    assert posts == set(POSTS)


def test_every_form_the_pages_render_carries_the_token(launch: Launcher) -> None:
    assert launch(launch.platform.claims(roles=ADMINISTRATOR)).status_code == 303
    pages = [launch.client.get(p).get_data(as_text=True) for p in ("/lti/learner", "/lti/course", "/lti/mapping")]
    assert launch(deep_linking_claims(launch.platform, INSTRUCTOR)).status_code == 303
    pages.append(launch.client.get("/lti/deep-link").get_data(as_text=True))
    forms = [f for page in pages for f in re.findall(r"<form\b.*?</form>", page, flags=re.S)]
    posts = [f for f in forms if re.search(r'method="post"', f, flags=re.I)]
    assert len(posts) == 3  # add a credential, the mapping, deep linking
    for form in posts:
        assert re.search(r'name="csrf_token" value="[^"]+"', form), form[:200]
