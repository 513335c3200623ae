"""Dates and hours no one could mean, given to the learner's forms and the CLI (found after the
review, same class as #11 item 11): a renewal item confirmed, an outside activity dated or a cycle
started in year 1 or 9999, volunteer hours beyond the column or finer than it keeps, a transcript
or audit packet asked for a cycle in year 9999. Each is a 400 or a usage error with nothing stored,
never a 500 or a traceback, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.runtime import Runtime
from tests.lti.conftest import Launcher
from tests.lti.pages import csrf_token

FACMPE = "acmpe-facmpe"  # a membership item and volunteer hours (6)
FAR_DAYS = {"year 9999": "9999-12-31", "year 1": "0001-01-01", "1949": "1949-12-31"}
HOURS = {"beyond the column": "1e30", "finer than it keeps": "0.00001", "over 10,000": "10000.5"}


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def learner(launch: Launcher, source: dict[str, Any]) -> tuple[Any, str]:
    """The launch's learner, holding FACMPE; the client and a CSRF token."""
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    token = csrf_token(launch.client, "/lti/learner")
    held = launch.client.post("/lti/learner/credentials", data={
        "csrf_token": token, "credential": FACMPE, "certified_on": "2024-01-01"})
    assert held.status_code == 303
    return launch.client, token


@pytest.mark.parametrize("day", FAR_DAYS.values(), ids=FAR_DAYS.keys())
def test_an_item_confirmed_on_a_far_day_is_400_and_stores_nothing(
    learner: tuple[Any, str], runtime: Runtime, day: str
) -> None:
    client, token = learner
    response = client.post("/lti/learner/items", data={
        "csrf_token": token, "credential": FACMPE, "item": "mgma-membership", "confirmed_on": day})
    assert response.status_code == 400 and day in response.get_data(as_text=True)
    assert count(runtime, models.RenewalConfirmation) == 0


@pytest.mark.parametrize("hours", HOURS.values(), ids=HOURS.keys())
def test_volunteer_hours_the_column_cannot_keep_are_400_and_store_nothing(
    learner: tuple[Any, str], runtime: Runtime, hours: str
) -> None:
    client, token = learner
    response = client.post("/lti/learner/items", data={
        "csrf_token": token, "credential": FACMPE, "item": "volunteer-service", "confirmed_on": "2025-01-02",
        "amount": hours})
    assert response.status_code == 400
    assert count(runtime, models.RenewalConfirmation) == 0
    kept = client.post("/lti/learner/items", data={
        "csrf_token": token, "credential": FACMPE, "item": "volunteer-service", "confirmed_on": "2025-01-02",
        "amount": "6.25"})
    assert kept.status_code == 303 and count(runtime, models.RenewalConfirmation) == 1


@pytest.mark.parametrize("day", FAR_DAYS.values(), ids=FAR_DAYS.keys())
def test_outside_credit_dated_a_far_day_is_400_and_stores_nothing(
    learner: tuple[Any, str], runtime: Runtime, day: str
) -> None:
    client, token = learner
    response = client.post("/lti/learner/outside", data={
        "csrf_token": token, "credential": FACMPE, "title": "Coding update", "provider": "State society",
        "date": day, "minutes": "60"})
    assert response.status_code == 400 and day in response.get_data(as_text=True)
    assert count(runtime, models.OutsideCredit) == 0


@pytest.mark.parametrize("path", ["/lti/learner/transcript/acmpe-facmpe.pdf", "/lti/learner/transcript/acmpe-facmpe.csv",
                                  "/lti/learner/audit-packet/acmpe-facmpe"], ids=["transcript PDF", "transcript CSV",
                                                                                "audit packet"])
def test_a_cycle_in_year_9999_is_400(learner: tuple[Any, str], path: str) -> None:
    client, _ = learner
    response = client.get(path, query_string={"cycle": "9999-12-31"})
    assert response.status_code == 400 and "9999-12-31" in response.get_data(as_text=True)
    assert client.get(path, query_string={"cycle": "2024-01-01"}).status_code == 200


@pytest.fixture
def holder(cli_json: Callable[..., Any]) -> list[str]:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-1")
    who = ["--source", str(source["id"]), "--user", "42"]
    cli_json("learners", "credential", "add", *who, "--credential", FACMPE, "--certified-on", "2024-01-01")
    return who


@pytest.mark.parametrize("day", FAR_DAYS.values(), ids=FAR_DAYS.keys())
def test_the_cli_refuses_far_days_and_stores_nothing(
    cli: Callable[..., Result], cli_json: Callable[..., Any], runtime: Runtime, holder: list[str], day: str
) -> None:
    assert day in cli("learners", "credential", "add", *holder, "--credential", "amt-rma", "--cycle-start", day,
                      expect=2).output
    assert day in cli("learners", "confirm", *holder, "--credential", FACMPE, "--item", "mgma-membership",
                      "--on", day, expect=2).output
    assert day in cli("learners", "outside", "add", *holder, "--credential", FACMPE, "--title", "t",
                      "--provider", "p", "--date", day, "--minutes", "60", expect=2).output
    assert count(runtime, models.RenewalConfirmation) == count(runtime, models.OutsideCredit) == 0
    [held] = cli_json("learners", "progress", *holder)
    assert held["credential"] == FACMPE


@pytest.mark.parametrize("hours", HOURS.values(), ids=HOURS.keys())
def test_the_cli_refuses_hours_the_column_cannot_keep(
    cli: Callable[..., Result], runtime: Runtime, holder: list[str], hours: str
) -> None:
    cli("learners", "confirm", *holder, "--credential", FACMPE, "--item", "volunteer-service",
        "--on", "2025-01-02", "--amount", hours, expect=2)
    assert count(runtime, models.RenewalConfirmation) == 0


@pytest.mark.parametrize("command", [["learners", "transcript"], ["audit", "packet"]], ids=["transcript", "audit packet"])
def test_a_cycle_in_year_9999_is_a_usage_error(
    cli: Callable[..., Result], holder: list[str], tmp_path: Path, command: list[str]
) -> None:
    result = cli(*command, *holder, "--credential", FACMPE, "--cycle", "9999-12-31",
                 "-o", str(tmp_path / "out.pdf"), expect=2)
    assert "--cycle" in result.output and not (tmp_path / "out.pdf").exists()
