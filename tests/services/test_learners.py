"""Learners' progress reads awards by the deployment's calendar, not UTC's."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services import learners
from lti_tool.settings import SettingsError, load_settings
from tests.spine import import_mapping, moodle_completed

NEW_YEARS_EVE_7PM_CHICAGO = 1735693200  # 2025-01-01T01:00:00Z


def _evening_completion(client: FlaskClient, cli_json: Callable[..., Any], runtime: Runtime, tmp_path: Path) -> int:
    moodle = cli_json("sources", "add", "--kind", "moodle", "--name", "m")
    import_mapping(cli_json, tmp_path, source="m", course="7", minutes=120, credentials=["acmpe-cmpe"])
    body = json.dumps(moodle_completed("5", "7", time=NEW_YEARS_EVE_7PM_CHICAGO))
    assert client.post(moodle["url"], data=body).json["status"] == "credited"
    with write_session(runtime.sessions) as session:
        learners.add_credential(session, runtime.rulebook, key=learners.learner_key(session, moodle["id"], "5"),
                                credential="acmpe-cmpe", number=None, certified_on=date(2015, 1, 1),
                                cycle_start=None)
    return int(moodle["id"])


def test_an_evening_completion_counts_in_the_local_year_it_happened(
    client: FlaskClient, cli_json: Callable[..., Any], runtime: Runtime, tmp_path: Path
) -> None:
    source = _evening_completion(client, cli_json, runtime, tmp_path)
    with read_session(runtime.sessions) as session:
        [chicago] = learners.progress(session, runtime.rulebook, key=learners.learner_key(session, source, "5"),
                                      on=date(2024, 12, 31), zone=ZoneInfo("America/Chicago"))
        [utc] = learners.progress(session, runtime.rulebook, key=learners.learner_key(session, source, "5"),
                                  on=date(2024, 12, 31))
    assert (chicago.cycle_end, chicago.earned) == (date(2024, 12, 31), Decimal(2))
    assert utc.earned == Decimal(0), "in UTC the same completion is on 1 January 2025"


def test_an_unknown_time_zone_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="time_zone"):
        load_settings(time_zone="Mars/Olympus_Mons")
