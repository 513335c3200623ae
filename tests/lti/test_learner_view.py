"""The learner page: a bar per renewal requirement (caps shown as limits, what is missing, the cycle),
credentials held with their numbers, and consent to report per certifying body."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from lti_tool import models
from lti_tool.credits import api
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.learners import add_credential, learner_key
from lti_tool.web.views.learner_view import describe_progress
from tests.lti.conftest import Launcher, stored_counts
from tests.lti.pages import CREDENTIAL, csrf_token

CMA = "aama-cma"


def cma_progress(runtime: Runtime) -> api.Progress:
    """The real AAMA plugin's progress: certified 2024-03-01, five CPR cards (two beyond the cap)."""
    rule = runtime.rulebook.get(CMA)
    earned = [api.EarnedCredit(CMA, Decimal(4), date(2024, 4, day), f"cpr-{day}", "clinical",
                               frozenset({"cpr-card"})) for day in range(1, 6)]
    earned.append(api.EarnedCredit(CMA, Decimal("2.5"), date(2024, 5, 1), "c-1", "administrative"))
    return rule.progress(earned, api.Holding(CMA, certified_on=date(2024, 3, 1)), date(2025, 1, 1))


def test_each_minimum_is_a_bar_and_a_cap_is_a_limit(runtime: Runtime) -> None:
    renewal = describe_progress(cma_progress(runtime), runtime.rulebook.get(CMA))
    assert renewal.title.startswith("Certified Medical Assistant")
    assert renewal.cycle is not None and renewal.cycle.startswith("2024-03-01 to ")
    bars = {b.label: b for b in renewal.minimums}
    assert list(bars) == ["total", "administrative", "clinical", "general", "AAMA-approved"]
    assert (bars["total"].earned, bars["total"].required, bars["total"].percent) == (Decimal("14.5"), 60, 24)
    assert bars["clinical"].met and bars["clinical"].percent == 100
    assert bars["administrative"].text(renewal.unit) == "2.5 of 10 recertification points"
    [cap] = renewal.caps
    assert cap.text(renewal.unit) == ("12 of at most 12 recertification points count; "
                                      "8 recertification points beyond the cap do not count")
    assert any("more recertification points (general)" in line for line in renewal.missing)
    assert not renewal.met


def test_a_credential_without_a_cycle_shows_what_accumulated(runtime: Runtime) -> None:
    rule = runtime.rulebook.get(CREDENTIAL)
    progress = rule.progress([api.EarnedCredit(CREDENTIAL, Decimal("0.2"), date(2026, 1, 1), "565")],
                             api.Holding(CREDENTIAL), date(2026, 2, 1))
    renewal = describe_progress(progress, rule)
    assert renewal.cycle is None and renewal.minimums == [] and renewal.earned == Decimal("0.2")


def test_the_learner_page_shows_bars_caps_and_what_is_missing(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    with write_session(runtime.sessions) as session:
        add_credential(session, runtime.rulebook, key=learner_key(session, source["id"], "42"), credential=CMA,
                       number="CMA-1", certified_on=date.today().replace(day=1), cycle_start=None)
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    page = launch.client.get("/lti/learner").get_data(as_text=True)
    assert "Progress toward renewal" in page and "Renewal cycle: " in page
    assert page.count('role="progressbar"') == 5
    assert "CPR cards, counted up to the cap: 0 of at most 12 recertification points count" in page
    assert "Still needed:" in page and "60 more recertification points (total) by" in page


def consent_rows(runtime: Runtime) -> list[tuple[str, bool]]:
    with read_session(runtime.sessions) as session:
        return [(c.credential, c.withdrawn_at is None) for c in session.scalars(select(models.ReportConsent))]


def test_the_learner_records_a_number_and_consent_per_body(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    with write_session(runtime.sessions) as session:
        add_credential(session, runtime.rulebook, key=learner_key(session, source["id"], "42"), credential=CREDENTIAL,
                       number="CEU-778", certified_on=None, cycle_start=None)
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    page = launch.client.get("/lti/learner").get_data(as_text=True)
    assert "Your credentials and reporting" in page and 'value="CEU-778"' in page
    assert "I consent to the tool reporting my credit to IACET" in page
    token = csrf_token(launch.client, "/lti/learner")
    saved = launch.client.post("/lti/learner/credentials", data={
        "csrf_token": token, "credential": CMA, "number": "CMA-9", "consent": "on"})
    assert saved.status_code == 303
    launch.client.post("/lti/learner/credentials", data={
        "csrf_token": token, "credential": CREDENTIAL, "number": "CEU-779"})
    assert sorted(consent_rows(runtime)) == [(CMA, True)]
    page = launch.client.get("/lti/learner").get_data(as_text=True)
    assert 'value="CMA-9"' in page and 'value="CEU-779"' in page
    assert re.search(r'name="consent" checked> I consent to the tool reporting my credit to AAMA', page)
    launch.client.post("/lti/learner/credentials", data={"csrf_token": token, "credential": CMA, "number": "CMA-9"})
    assert consent_rows(runtime) == [(CMA, False)]  # withdrawn


def test_bad_credential_details_are_refused_and_nothing_is_stored(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    token = csrf_token(launch.client, "/lti/learner")
    before = stored_counts(runtime)
    for form, words in (({"credential": "nope"}, "unknown credential"),
                        ({"credential": CMA, "certified_on": "last year"}, "not a date"),
                        ({"credential": CMA, "number": "x" * 101}, "longer than 100")):
        response = launch.client.post("/lti/learner/credentials", data={"csrf_token": token, **form})
        assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert launch.client.post("/lti/learner/credentials", data={"credential": CMA}).status_code == 400
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(models.LearnerCredential)) is None
    assert stored_counts(runtime) == before


def test_a_view_of_the_learner_page_measures_progress_once(
    launch: Launcher, runtime: Runtime, source: dict[str, Any], monkeypatch: Any
) -> None:
    from lti_tool.services import learners

    with write_session(runtime.sessions) as session:
        add_credential(session, runtime.rulebook, key=learner_key(session, source["id"], "42"), credential=CMA,
                       number="CMA-1", certified_on=date.today().replace(day=1), cycle_start=None)
    measured = learners.progress
    calls: list[str] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["key"].lms_user_id)
        return measured(*args, **kwargs)

    monkeypatch.setattr(learners, "progress", counted)
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    page = launch.client.get("/lti/learner").get_data(as_text=True)
    assert page.count('role="progressbar"') == 5  # the card; the renewal partials asked too
    assert calls == ["42"]
