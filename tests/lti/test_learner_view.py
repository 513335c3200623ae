"""The learner page: credentials held with their numbers, and a bar per renewal requirement."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lti_tool.db import write_session
from lti_tool.lti.learner_view import Bar, describe_progress
from lti_tool.runtime import Runtime
from lti_tool.services.learners import add_credential
from tests.lti.conftest import Launcher
from tests.lti.pages import CREDENTIAL


@dataclass(frozen=True)
class Requirement:
    label: str
    earned: Decimal
    required: Decimal


@dataclass(frozen=True)
class Progress:
    credential: str
    requirements: list[Requirement] = field(default_factory=list)
    cycle_ends: str | None = None


def test_each_requirement_becomes_a_bar() -> None:
    credential, bars, facts = describe_progress(Progress("aama-cma", [
        Requirement("administrative", Decimal(5), Decimal(10)),
        Requirement("total", Decimal(70), Decimal(60)),
    ], cycle_ends="2027-06-30"))
    assert credential == "aama-cma"
    assert bars == [Bar("administrative", Decimal(5), Decimal(10)), Bar("total", Decimal(70), Decimal(60))]
    assert [b.percent for b in bars] == [50, 100]
    assert facts == [("cycle ends", "2027-06-30")]


def test_the_learner_page_lists_credentials_held_with_their_numbers(
    launch: Launcher, runtime: Runtime, source: dict[str, Any]
) -> None:
    with write_session(runtime.sessions) as session:
        add_credential(session, runtime.rulebook, source_id=source["id"], user="42", credential=CREDENTIAL,
                       number="CEU-778", certified_on=None, cycle_start=None)
    assert launch(launch.platform.claims(sub="42")).status_code == 303
    page = launch.client.get("/lti/learner").get_data(as_text=True)
    assert "Credentials you hold" in page and "CEU-778" in page
    assert "Progress toward renewal" in page
