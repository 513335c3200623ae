"""Retakes, re-sent events and "a course counts once", through the real ingestion path and the
database's unique constraints (SQLite, and PostgreSQL when the suite runs there)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.credits.registry import load_rulebook
from lti_tool.db import write_session
from lti_tool.events.completion import Completion
from lti_tool.runtime import Runtime
from lti_tool.services import learners
from lti_tool.services.award_keys import Rekeyed, rekey_all
from lti_tool.services.completions import Outcome
from lti_tool.services.ingestion import Submission, record_events
from lti_tool.services.learners import LearnerKey
from tests.spine import import_mapping


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def source_id(cli_json: Callable[..., Any]) -> int:
    return int(cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")["id"])


@pytest.fixture
def mapped(cli_json: Callable[..., Any], tmp_path: Path, source_id: int) -> Callable[..., None]:
    def mapping(course: str, credentials: list[str], minutes: int = 120, **facts: Any) -> None:
        import_mapping(cli_json, tmp_path, source="moodle-prod", course=course, minutes=minutes,
                       credentials=credentials, **facts)
    return mapping


def complete(runtime: Runtime, source_id: int, course: str, when: datetime, user: str = "42") -> Outcome:
    [outcome] = record_events(runtime.sessions, runtime.rulebook, [
        Submission(source_id, source_id, "{}", "application/json",
                   [Completion(lms_user_id=user, course_id=course, completed_at=when)])])
    assert isinstance(outcome, Outcome)
    return outcome


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 15, 0, tzinfo=UTC)


def hold(runtime: Runtime, source_id: int, credential: str, certified_on: date, user: str = "42") -> None:
    with write_session(runtime.sessions) as session:
        learners.add_credential(session, runtime.rulebook, key=LearnerKey(source_id, user), credential=credential,
                                number=None, certified_on=certified_on, cycle_start=None)


def test_the_same_completion_delivered_again_is_a_duplicate(runtime: Runtime, source_id: int, mapped: Any) -> None:
    mapped("hipaa", ["ncct-ncma"])
    assert complete(runtime, source_id, "hipaa", at(2025, 3, 1)).status == "credited"
    assert complete(runtime, source_id, "hipaa", at(2025, 3, 1)).status == "duplicate"
    assert count(runtime, models.Award) == 1
    assert count(runtime, models.CourseCompletion) == 1


def test_ncct_annual_retake_in_the_next_cycle_is_credited_again(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    mapped("hipaa", ["ncct-ncma"], minutes=14 * 60)
    hold(runtime, source_id, "ncct-ncma", date(2024, 1, 1))
    assert complete(runtime, source_id, "hipaa", at(2024, 6, 1)).status == "credited"
    again = complete(runtime, source_id, "hipaa", at(2025, 6, 1))
    assert again.status == "credited"
    assert count(runtime, models.Award) == 2
    assert count(runtime, models.OutboxClaim) == 2
    with runtime.sessions() as session:
        [this_year] = learners.progress(session, runtime.rulebook, key=LearnerKey(source_id, "42"),
                                        on=date(2025, 12, 1))
    assert (this_year.earned, this_year.met) == (Decimal(14), True)


def test_a_retake_in_the_same_cycle_is_already_credited_and_names_the_cycle(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    mapped("hipaa", ["ncct-ncma"])
    hold(runtime, source_id, "ncct-ncma", date(2024, 1, 1))
    complete(runtime, source_id, "hipaa", at(2025, 2, 1))
    again = complete(runtime, source_id, "hipaa", at(2025, 11, 1))
    assert again.status == "already credited this cycle"
    assert again.items[0]["already_credited"] == [{"credential": "ncct-ncma", "cycle": "2025-01-01..2025-12-31"}]
    assert (count(runtime, models.Award), count(runtime, models.LedgerEntry), count(runtime, models.OutboxClaim)) \
        == (1, 1, 1)
    assert count(runtime, models.CourseCompletion) == 2  # the retake itself is kept


def test_a_retake_earns_each_credential_by_its_own_cycle(runtime: Runtime, source_id: int, mapped: Any) -> None:
    """NCCT's year is over, ACMPE's three-year cycle is not: the retake credits NCCT alone."""
    mapped("osha", ["ncct-ncma", "acmpe-cmpe"])
    hold(runtime, source_id, "ncct-ncma", date(2024, 1, 1))
    complete(runtime, source_id, "osha", at(2025, 5, 1))
    again = complete(runtime, source_id, "osha", at(2026, 5, 1))
    assert again.status == "credited"
    assert [a["credential"] for a in again.items[0]["awards"]] == ["ncct-ncma"]
    assert again.items[0]["already_credited"] == [{"credential": "acmpe-cmpe", "cycle": "2025-01-01..2027-12-31"}]


def test_aapc_counts_an_indexed_course_once_across_two_lms_courses(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    facts = {"approved_by": ["AAPC"], "index_number": "AAPC-777", "category": "practice-management"}
    mapped("billing-2025", ["aapc-cppm"], **facts)
    mapped("billing-copy", ["aapc-cppm"], **facts)
    hold(runtime, source_id, "aapc-cppm", date(2024, 1, 1))
    assert complete(runtime, source_id, "billing-2025", at(2025, 1, 10)).status == "credited"
    second = complete(runtime, source_id, "billing-copy", at(2025, 2, 10))
    assert second.status == "already credited this cycle"
    assert second.items[0]["already_credited"] == [{"credential": "aapc-cppm", "cycle": "ever"}]
    with runtime.sessions() as session:
        [cppm] = learners.progress(session, runtime.rulebook, key=LearnerKey(source_id, "42"), on=date(2025, 12, 1))
    assert cppm.earned == Decimal(2)
    assert not cppm.met


def test_aapc_counts_a_course_once_ever_even_in_a_later_cycle(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    mapped("coding", ["aapc-cppm"])
    hold(runtime, source_id, "aapc-cppm", date(2024, 1, 1))
    complete(runtime, source_id, "coding", at(2024, 3, 1))
    assert complete(runtime, source_id, "coding", at(2026, 3, 1)).status == "already credited this cycle"
    assert count(runtime, models.Award) == 1


def test_a_credential_without_cycles_credits_a_course_once_per_calendar_year(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    mapped("safety", ["iacet-ceu"], minutes=600)
    assert complete(runtime, source_id, "safety", at(2025, 1, 5)).status == "credited"
    assert complete(runtime, source_id, "safety", at(2025, 12, 20)).status == "already credited this cycle"
    assert complete(runtime, source_id, "safety", at(2026, 1, 5)).status == "credited"
    assert count(runtime, models.Award) == 2


def test_a_certification_cycle_keys_retakes_from_the_certification_date(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    mapped("hipaa", ["nha-ccma"])
    hold(runtime, source_id, "nha-ccma", date(2024, 3, 1))  # cycles 2024-03-01..2026-02-28, then 2026-03-01..
    complete(runtime, source_id, "hipaa", at(2025, 1, 1))
    assert complete(runtime, source_id, "hipaa", at(2026, 2, 28)).status == "already credited this cycle"
    assert complete(runtime, source_id, "hipaa", at(2026, 3, 1)).status == "credited"


def test_concurrent_retakes_in_one_cycle_award_once(runtime: Runtime, source_id: int, mapped: Any) -> None:
    """Eight different completions of one course in one cycle, delivered at once: the unique key
    (not a prior check) lets exactly one of them award."""
    mapped("hipaa", ["ncct-ncma"])
    hold(runtime, source_id, "ncct-ncma", date(2024, 1, 1))
    start = threading.Barrier(8)
    statuses: list[str] = []

    def deliver(day: int) -> None:
        start.wait()
        statuses.append(complete(runtime, source_id, "hipaa", at(2025, 4, day)).status)

    threads = [threading.Thread(target=deliver, args=(day,)) for day in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == ["already credited this cycle"] * 7 + ["credited"]
    assert (count(runtime, models.Award), count(runtime, models.OutboxClaim)) == (1, 1)
    assert count(runtime, models.CourseCompletion) == 8


def test_without_a_certification_date_a_retake_waits_for_the_date(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    mapped("hipaa", ["nha-ccma"])
    complete(runtime, source_id, "hipaa", at(2024, 5, 1))
    again = complete(runtime, source_id, "hipaa", at(2026, 5, 1))
    assert again.items[0]["already_credited"] == [
        {"credential": "nha-ccma", "cycle": "unknown until the certification date is recorded"}]
    hold(runtime, source_id, "nha-ccma", date(2024, 3, 1))
    assert complete(runtime, source_id, "hipaa", at(2026, 6, 1)).status == "credited"  # the next cycle


def test_once_the_date_is_recorded_the_unknown_cycle_award_counts_in_its_real_cycle(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    mapped("hipaa", ["nha-ccma"])
    assert complete(runtime, source_id, "hipaa", at(2024, 5, 1)).status == "credited"  # cycle unknown
    hold(runtime, source_id, "nha-ccma", date(2024, 3, 1))  # the cycle: 2024-03-01..2026-02-28
    again = complete(runtime, source_id, "hipaa", at(2025, 5, 1))
    assert again.items[0]["already_credited"] == [{"credential": "nha-ccma", "cycle": "2024-03-01..2026-02-28"}]
    assert count(runtime, models.Award) == 1
    assert complete(runtime, source_id, "hipaa", at(2026, 5, 1)).status == "credited"  # the next cycle


def test_a_corrected_certification_date_rekeys_the_awards_to_the_new_cycles(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    mapped("hipaa", ["ncct-ncma"])
    hold(runtime, source_id, "ncct-ncma", date(2024, 7, 1))
    assert complete(runtime, source_id, "hipaa", at(2025, 3, 1)).status == "credited"  # 2024-07-01..2025-06-30
    hold(runtime, source_id, "ncct-ncma", date(2024, 1, 1))  # corrected: 2025-01-01..2025-12-31
    again = complete(runtime, source_id, "hipaa", at(2025, 9, 1))
    assert again.items[0]["already_credited"] == [{"credential": "ncct-ncma", "cycle": "2025-01-01..2025-12-31"}]
    with runtime.sessions() as session:
        assert session.scalars(select(models.Award.period)).all() == ["cycle:2025-01-01"]


def test_rekeying_with_a_changed_cycle_setting_moves_the_period_and_nothing_else(
        runtime: Runtime, source_id: int, mapped: Any, tmp_path: Path) -> None:
    mapped("hipaa", ["nha-ccma"])
    hold(runtime, source_id, "nha-ccma", date(2024, 3, 1))
    complete(runtime, source_id, "hipaa", at(2025, 5, 1))  # 24-month cycle from 2024-03-01
    overrides = tmp_path / "credit_rules.toml"
    overrides.write_text("[nha-ccma]\ncycle_months = 12\n")
    with write_session(runtime.sessions) as session:
        before = session.execute(select(models.Award.amount, models.Award.course_key)).all()
        assert rekey_all(session, load_rulebook(overrides, runtime.rulebook.zone)) == Rekeyed(1, 0)
    with runtime.sessions() as session:
        assert session.scalars(select(models.Award.period)).all() == ["cycle:2025-03-01"]
        assert session.execute(select(models.Award.amount, models.Award.course_key)).all() == before


def outside(runtime: Runtime, source_id: int, credential: str, on: date, title: str, **facts: Any) -> None:
    from lti_tool.credits import api
    from lti_tool.services.outside_credit import record_outside
    with write_session(runtime.sessions) as session:
        learner = learners.find_learner(session, LearnerKey(source_id, "42"))
        assert learner is not None
        record_outside(session, runtime.rulebook, learner_id=learner.id, credential=credential, title=title,
                       provider="Elsewhere", on=on, activity=api.Activity(minutes=120, **facts),
                       certificate=None, recorded_by="cli")


AAPC_777 = {"approved_by": frozenset({"AAPC"}), "index_number": "AAPC-777", "category": "practice-management"}


def test_aapc_outside_credit_of_an_indexed_course_already_credited_counts_once(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    """The same AAPC-indexed course, credited through the LMS and recorded again as outside credit
    (or recorded twice), still counts once toward the 16 pre-approved CEUs."""
    mapped("billing-2025", ["aapc-cppm"], approved_by=["AAPC"], index_number="AAPC-777",
           category="practice-management")
    hold(runtime, source_id, "aapc-cppm", date(2024, 1, 1))
    assert complete(runtime, source_id, "billing-2025", at(2025, 1, 10)).status == "credited"
    outside(runtime, source_id, "aapc-cppm", date(2025, 3, 1), "Billing (conference copy)", **AAPC_777)
    outside(runtime, source_id, "aapc-cppm", date(2025, 4, 1), "Billing (webinar)", **AAPC_777)
    with runtime.sessions() as session:
        [cppm] = learners.progress(session, runtime.rulebook, key=LearnerKey(source_id, "42"), on=date(2025, 12, 1))
    assert cppm.earned == Decimal(2)


def test_aapc_outside_credit_of_a_course_credited_in_an_earlier_cycle_does_not_count(
        runtime: Runtime, source_id: int, mapped: Any) -> None:
    """AAPC: a course counts once *ever*, outside credit too."""
    mapped("billing-2024", ["aapc-cppm"], approved_by=["AAPC"], index_number="AAPC-777",
           category="practice-management")
    hold(runtime, source_id, "aapc-cppm", date(2024, 1, 1))  # cycles 2024-2025, 2026-2027
    complete(runtime, source_id, "billing-2024", at(2024, 6, 1))
    outside(runtime, source_id, "aapc-cppm", date(2026, 3, 1), "Billing again", **AAPC_777)
    outside(runtime, source_id, "aapc-cppm", date(2026, 3, 2), "Another course", approved_by=frozenset({"AAPC"}),
            index_number="AAPC-888", category="practice-management")
    with runtime.sessions() as session:
        [cppm] = learners.progress(session, runtime.rulebook, key=LearnerKey(source_id, "42"), on=date(2026, 12, 1))
    assert cppm.earned == Decimal(2)  # AAPC-888 only
