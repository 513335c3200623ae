"""``lti-tool learners confirm``: renewal items that are not credit, and ``progress``'s items and
``ready``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask.testing import FlaskClient

from tests.spine import import_mapping, moodle_completed


@pytest.fixture
def moodle(cli_json: Callable[..., Any]) -> dict[str, Any]:
    return cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")


@pytest.fixture
def ncct_learner(cli_json: Callable[..., Any], moodle: dict[str, Any]) -> list[str]:
    who = ["--source", str(moodle["id"]), "--user", "42"]
    cli_json("learners", "credential", "add", *who, "--credential", "ncct-ncma", "--certified-on", "2025-01-01")
    return who


def ncct(cli_json: Callable[..., Any], who: list[str], on: str) -> Any:
    [progress] = cli_json("learners", "progress", *who, "--on", on)
    return progress


def test_progress_lists_the_fee_not_confirmed_and_not_ready(cli_json: Callable[..., Any], ncct_learner: list[str]) -> None:
    progress = ncct(cli_json, ncct_learner, "2025-06-01")
    assert progress["items"] == [{"id": "annual-fee", "title": "the annual NCCT fee", "kind": "fee",
                                  "confirmed_on": None, "met": False, "amount": None, "confirmed_amount": None}]
    assert progress["ready"] is False


def test_confirm_records_the_fee_with_its_date(cli_json: Callable[..., Any], ncct_learner: list[str]) -> None:
    done = cli_json("learners", "confirm", *ncct_learner, "--credential", "ncct-ncma", "--item", "annual-fee",
                    "--on", "2025-02-03")
    assert (done["item"], done["confirmed_on"], done["new"]) == ("annual-fee", "2025-02-03", True)
    [item] = ncct(cli_json, ncct_learner, "2025-06-01")["items"]
    assert (item["confirmed_on"], item["met"]) == ("2025-02-03", True)


def test_confirming_the_same_day_again_adds_nothing(cli_json: Callable[..., Any], ncct_learner: list[str]) -> None:
    args = ("learners", "confirm", *ncct_learner, "--credential", "ncct-ncma", "--item", "annual-fee", "--on",
            "2025-02-03")
    first, again = cli_json(*args), cli_json(*args)
    assert (first["id"], again["new"]) == (again["id"], False)


def test_an_unknown_item_is_refused_naming_the_known_ones(cli: Callable[..., Result], ncct_learner: list[str]) -> None:
    result = cli("learners", "confirm", *ncct_learner, "--credential", "ncct-ncma", "--item", "dues", expect=2)
    assert "annual-fee" in result.output


def test_an_item_for_a_credential_not_held_is_refused(cli: Callable[..., Result], ncct_learner: list[str]) -> None:
    result = cli("learners", "confirm", *ncct_learner, "--credential", "nha-ccma", "--item", "renewal-fee",
                 expect=2)
    assert "does not hold nha-ccma" in result.output


def test_volunteer_hours_need_an_amount(cli: Callable[..., Result], cli_json: Callable[..., Any]) -> None:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    who = ["--source", str(source["id"]), "--user", "7"]
    cli_json("learners", "credential", "add", *who, "--credential", "acmpe-facmpe", "--certified-on", "2019-01-01")
    refused = cli("learners", "confirm", *who, "--credential", "acmpe-facmpe", "--item", "volunteer-service",
                  expect=2)
    assert "hours" in refused.output
    cli_json("learners", "confirm", *who, "--credential", "acmpe-facmpe", "--item", "volunteer-service",
             "--on", "2025-03-01", "--amount", "6")
    [progress] = cli_json("learners", "progress", *who, "--on", "2025-06-01")
    volunteer = next(i for i in progress["items"] if i["id"] == "volunteer-service")
    assert (volunteer["met"], volunteer["amount"], volunteer["confirmed_amount"]) == (True, "6", "6")


@pytest.mark.parametrize("on", ["2999-01-01", "1900-03-01", "9999-12-31"])
def test_a_day_that_has_not_come_or_long_gone_is_refused_and_stores_nothing(
        cli: Callable[..., Result], cli_json: Callable[..., Any], ncct_learner: list[str], on: str) -> None:
    """A fee "paid" in 2999 would make the learner ready in a cycle that has not come."""
    refused = cli("learners", "confirm", *ncct_learner, "--credential", "ncct-ncma", "--item", "annual-fee",
                  "--on", on, expect=2)
    assert "not between 1950-01-01 and today" in refused.output
    [item] = ncct(cli_json, ncct_learner, "2999-01-01")["items"]
    assert item["confirmed_on"] is None


@pytest.mark.parametrize("amount", ["1e40", "10001", "1.00001"])
def test_an_amount_beyond_the_column_is_a_usage_error_not_a_crash(
        cli: Callable[..., Result], cli_json: Callable[..., Any], amount: str) -> None:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    who = ["--source", str(source["id"]), "--user", "7"]
    cli_json("learners", "credential", "add", *who, "--credential", "acmpe-facmpe", "--certified-on", "2019-01-01")
    refused = cli("learners", "confirm", *who, "--credential", "acmpe-facmpe", "--item", "volunteer-service",
                  "--on", "2025-03-01", "--amount", amount, expect=2)
    assert "at most 4 decimal places" in refused.output


def test_progress_on_a_day_beyond_the_calendar_is_a_usage_error(
        cli: Callable[..., Result], cli_json: Callable[..., Any]) -> None:
    """A fixed calendar cycle (ACMPE) cannot be followed to 9999-12-31: a usage error, not a traceback."""
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    who = ["--source", str(source["id"]), "--user", "7"]
    cli_json("learners", "credential", "add", *who, "--credential", "acmpe-cmpe", "--certified-on", "2019-01-01")
    refused = cli("learners", "progress", *who, "--on", "9999-12-31", expect=2)
    assert "cannot be measured on 9999-12-31" in refused.output


@pytest.mark.parametrize("amount", ["-1", "0", "lots"])
def test_a_bad_amount_is_refused(cli: Callable[..., Result], ncct_learner: list[str], amount: str) -> None:
    cli("learners", "confirm", *ncct_learner, "--credential", "ncct-ncma", "--item", "annual-fee",
        "--amount", amount, expect=2)


def test_ready_once_credit_is_met_and_every_item_confirmed(
        client: FlaskClient, moodle: dict[str, Any], cli_json: Callable[..., Any], ncct_learner: list[str],
        tmp_path: Path) -> None:
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="99", minutes=14 * 60,
                   credentials=["ncct-ncma"])
    march = int(datetime(2025, 3, 1, 12, tzinfo=UTC).timestamp())
    response = client.post(moodle["url"], data=json.dumps(moodle_completed("42", "99", time=march)),
                           headers={"Content-Type": "application/json"})
    assert response.json["status"] == "credited"
    assert ncct(cli_json, ncct_learner, "2025-06-01")["ready"] is False
    cli_json("learners", "confirm", *ncct_learner, "--credential", "ncct-ncma", "--item", "annual-fee",
             "--on", "2025-02-03")
    assert ncct(cli_json, ncct_learner, "2025-06-01")["ready"] is True
