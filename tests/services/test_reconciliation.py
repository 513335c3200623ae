"""Reconciliation: completions the push paths lost are found by asking the LMS, and credited once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.runtime import Runtime
from lti_tool.services.reconciliation import _take_lease, reconcile
from tests.spine import fixture_bytes, import_mapping
from tests.support.canvas_api import CanvasState, canvas_handler, progress_row
from tests.support.loopback import serve
from tests.support.lrs_api import LrsState, lrs_handler, statement
from tests.support.moodle_api import MoodleCourse, MoodleState, moodle_handler, moodle_user

CREDENTIALS = ["acmss-cmss", "iacet-ceu"]


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def canvas_state() -> CanvasState:
    return CanvasState(tokens={"good"}, courses={"565": [
        progress_row(123, "Isaac Newton", "2019-11-05T13:38:00.218Z"),
        progress_row(124, "Emmy Noether", None),
        progress_row(125, "Ada Lovelace", "2026-11-02T15:00:00Z"),
    ]})


@pytest.fixture
def canvas(canvas_state: CanvasState, cli_json: Callable[..., Any], tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("CANVAS_TOKEN", "good")
    source = cli_json("sources", "add", "--kind", "canvas", "--name", "canvas-prod")
    import_mapping(cli_json, tmp_path, source="canvas-prod", course="565", minutes=60, credentials=CREDENTIALS)
    with serve(canvas_handler(canvas_state)) as base:
        cli_json("sources", "connect", "canvas-prod", "--api-url", base, "--token-env", "CANVAS_TOKEN")
        yield source
        canvas_state.released.set()


def run(runtime: Runtime, **kwargs: Any) -> list[dict[str, Any]]:
    return [r.as_dict() for r in reconcile(runtime.sessions, runtime.rulebook, runtime.settings.reconcile, **kwargs)]


def test_a_completion_live_events_never_delivered_is_credited_by_the_next_reconcile(
        runtime: Runtime, canvas: dict[str, Any]) -> None:
    [report] = run(runtime)
    assert report == {"source": "canvas-prod", "courses": 1, "users_checked": 3, "completions_found": 2,
                      "credited": 2, "already_known": 0,
                      "already_credited": 0, "unmapped": 0, "refused": 0, "errors": []}
    assert count(runtime, models.Award) == 4  # two learners, two credentials each


def test_the_same_completion_pushed_later_is_a_duplicate(
        runtime: Runtime, canvas: dict[str, Any], client: FlaskClient) -> None:
    run(runtime)
    answer = client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json"))
    assert answer.status_code == 200 and answer.json["status"] == "duplicate"
    assert count(runtime, models.Award) == 4


def test_a_completion_pushed_first_is_already_known_and_not_stored_again(
        runtime: Runtime, canvas: dict[str, Any], client: FlaskClient) -> None:
    assert client.post(canvas["url"], data=fixture_bytes("canvas_course_completed.json")).json["status"] == "credited"
    events = count(runtime, models.LmsEvent)
    [report] = run(runtime)
    assert (report["credited"], report["already_known"]) == (1, 1)
    assert count(runtime, models.LmsEvent) == events + 1  # only Ada's completion is stored


def test_running_again_adds_nothing(runtime: Runtime, canvas: dict[str, Any]) -> None:
    run(runtime)
    rows = (count(runtime, models.LmsEvent), count(runtime, models.Award), count(runtime, models.OutboxClaim))
    [report] = run(runtime)
    assert (report["credited"], report["already_known"]) == (0, 2)
    assert (count(runtime, models.LmsEvent), count(runtime, models.Award), count(runtime, models.OutboxClaim)) == rows


def test_since_limits_the_completions_credited(runtime: Runtime, canvas: dict[str, Any]) -> None:
    [report] = run(runtime, since=datetime(2026, 1, 1, tzinfo=UTC))
    assert (report["completions_found"], report["credited"]) == (1, 1)


def test_a_course_not_mapped_is_refused(runtime: Runtime, canvas: dict[str, Any]) -> None:
    [report] = run(runtime, course="999")
    assert report["errors"] == ["course 999: not mapped for this source"]


def test_each_run_is_recorded_with_its_counts(runtime: Runtime, canvas: dict[str, Any]) -> None:
    run(runtime)
    with runtime.sessions() as session:
        [stored] = session.scalars(select(models.ReconcileRun)).all()
        mark = session.scalar(select(models.ReconcileMark))
    assert (stored.credited, stored.completions_found, stored.errors) == (2, 2, [])
    assert stored.finished_at is not None
    assert mark is not None and mark.completed_through == datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def test_a_source_being_reconciled_elsewhere_is_left_alone(runtime: Runtime, canvas: dict[str, Any]) -> None:
    assert _take_lease(runtime.sessions, canvas["id"], "other-scheduler", 60)
    [report] = run(runtime)
    assert report["errors"] == ["another process is reconciling this source now"]
    assert count(runtime, models.Award) == 0


def test_a_lease_left_by_a_crashed_scheduler_expires(runtime: Runtime, canvas: dict[str, Any]) -> None:
    assert _take_lease(runtime.sessions, canvas["id"], "crashed", 60)
    with runtime.sessions.begin() as session:
        session.get(models.ReconcileLease, canvas["id"]).expires_at = models.utcnow() - timedelta(seconds=1)
    [report] = run(runtime)
    assert report["credited"] == 2


def test_only_one_of_two_holders_takes_a_free_lease(runtime: Runtime, canvas: dict[str, Any]) -> None:
    assert _take_lease(runtime.sessions, canvas["id"], "a", 60)
    assert not _take_lease(runtime.sessions, canvas["id"], "b", 60)


def test_a_canvas_that_hangs_is_timed_out_and_the_run_goes_on_to_the_next_source(
        runtime: Runtime, canvas: dict[str, Any], canvas_state: CanvasState, moodle: MoodleState) -> None:
    canvas_state.hang_seconds = 5
    runtime.settings = runtime.settings.model_copy(update={
        "reconcile": runtime.settings.reconcile.model_copy(update={"deadline_seconds": 0.3})})
    reports = {r["source"]: r for r in run(runtime)}
    assert "timed out" in reports["canvas-prod"]["errors"][0]
    assert reports["moodle-prod"]["credited"] == 1


@pytest.fixture
def moodle(cli_json: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MoodleState]:
    monkeypatch.setenv("MOODLE_TOKEN", "ws-token")
    cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="42", minutes=90, credentials=CREDENTIALS)
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="43", minutes=90, credentials=CREDENTIALS)
    state = MoodleState(token="ws-token", courses={
        "42": MoodleCourse([moodle_user(7, "Rosa", "Diaz"), moodle_user(8, "Li", "Wu")], completed={7: [1700000000]}),
        "43": MoodleCourse([moodle_user(7, "Rosa", "Diaz")], criteria=False)})
    with serve(moodle_handler(state)) as base:
        cli_json("sources", "connect", "moodle-prod", "--api-url", base, "--token-env", "MOODLE_TOKEN")
        yield state


def test_moodle_completions_are_credited_and_a_course_without_criteria_is_reported(
        runtime: Runtime, moodle: MoodleState) -> None:
    [report] = run(runtime, source="moodle-prod")
    assert (report["courses"], report["users_checked"], report["credited"]) == (2, 2, 1)
    assert len(report["errors"]) == 1 and "course 43" in report["errors"][0] and "nocriteriaset" in report["errors"][0]


def test_a_moodle_completion_pushed_later_is_a_duplicate(
        runtime: Runtime, moodle: MoodleState, client: FlaskClient, cli_json: Callable[..., Any]) -> None:
    from tests.spine import moodle_completed
    run(runtime, source="moodle-prod")
    with runtime.sessions() as session:
        source = session.scalar(select(models.Source).where(models.Source.name == "moodle-prod"))
    assert source is not None
    added = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-push", "--same-identities-as",
                     "moodle-prod")
    answer = client.post(added["url"], json=moodle_completed(7, 42))
    assert answer.json["status"] == "duplicate"


def test_an_lrs_is_asked_only_for_what_was_stored_since_the_last_run_less_the_look_back(
        runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRS_CREDENTIALS", "k1:s1")
    cli_json("sources", "add", "--kind", "xapi", "--name", "lrs")
    course = "https://lms.example/course/hipaa"
    import_mapping(cli_json, tmp_path, source="lrs", course=course, minutes=60, credentials=CREDENTIALS)
    state = LrsState(key="k1", secret="s1", statements=[
        statement("u1", course, "2026-11-01T10:00:00Z"), statement("u2", course, "2026-11-03T10:00:00Z"),
        statement("u3", "https://lms.example/course/unmapped", "2026-11-04T10:00:00Z")])
    with serve(lrs_handler(state)) as base:
        cli_json("sources", "connect", "lrs", "--api-url", f"{base}/xapi/", "--token-env", "LRS_CREDENTIALS")
        [first] = run(runtime)
        [second] = run(runtime)
    assert (first["completions_found"], first["credited"], first["courses"]) == (3, 2, 2)
    assert "since" not in state.queries[0]
    assert state.queries[-1]["since"] == "2026-11-01T10:00:00Z"  # 2026-11-04T10:00Z less 72 hours
    assert (second["credited"], second["already_known"]) == (0, 2)


def test_two_schedulers_at_once_reconcile_a_source_once(runtime: Runtime, canvas: dict[str, Any],
                                                        canvas_state: CanvasState) -> None:
    import threading

    canvas_state.hang_seconds = 0.5
    reports: list[dict[str, Any]] = []
    threads = [threading.Thread(target=lambda h=h: reports.extend(run(runtime, holder=h))) for h in ("s1", "s2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = sorted(str(r["errors"]) for r in reports)
    assert errors == ["['another process is reconciling this source now']", "[]"]
    assert sum(r["credited"] for r in reports) == 2
    assert sum(1 for r in canvas_state.requests if "bulk_user_progress" in r) == 1


def test_an_lms_that_refused_is_asked_again_on_the_next_run(runtime: Runtime, canvas: dict[str, Any],
                                                            canvas_state: CanvasState) -> None:
    canvas_state.tokens = set()  # the token was revoked
    [refused] = run(runtime)
    assert refused["credited"] == 0 and "HTTP 401" in refused["errors"][0]
    canvas_state.tokens = {"good"}  # the operator fixed it
    [again] = run(runtime)
    assert (again["credited"], again["errors"]) == (2, [])


def test_an_lrs_reconciled_for_one_course_credits_only_that_course(
        runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LRS_CREDENTIALS", "k1:s1")
    cli_json("sources", "add", "--kind", "xapi", "--name", "lrs")
    hipaa, osha = "https://lms.example/course/hipaa", "https://lms.example/course/osha"
    for course in (hipaa, osha):
        import_mapping(cli_json, tmp_path, source="lrs", course=course, minutes=60, credentials=CREDENTIALS)
    state = LrsState(key="k1", secret="s1", statements=[
        statement("u1", hipaa, "2026-11-01T10:00:00Z"), statement("u2", osha, "2026-11-03T10:00:00Z")])
    runtime.settings = runtime.settings.model_copy(update={
        "reconcile": runtime.settings.reconcile.model_copy(update={"look_back_hours": 0})})
    with serve(lrs_handler(state)) as base:
        cli_json("sources", "connect", "lrs", "--api-url", f"{base}/xapi/", "--token-env", "LRS_CREDENTIALS")
        [report] = run(runtime, course=osha)
        with runtime.sessions() as session:
            assert session.scalars(select(models.CourseCompletion.course_id)).all() == [osha]
        [everything] = run(runtime)  # the feed's mark did not move past hipaa's statement
    assert (report["courses"], report["completions_found"], report["credited"]) == (1, 1, 1)
    assert (everything["credited"], everything["already_known"]) == (1, 1)


def iacet_awards(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(models.Award)
                                  .where(models.Award.credential == "iacet-ceu")) or 0)


def test_an_lrs_retake_the_next_year_is_credited_by_the_next_reconcile(
        runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retake is a completion of its own (issue 9): a learner's later completion statement of a
    course the tool knows them to have completed is not "already known"."""
    monkeypatch.setenv("LRS_CREDENTIALS", "k1:s1")
    cli_json("sources", "add", "--kind", "xapi", "--name", "lrs")
    course = "https://lms.example/course/hipaa"
    import_mapping(cli_json, tmp_path, source="lrs", course=course, minutes=60, credentials=CREDENTIALS)
    state = LrsState(key="k1", secret="s1", statements=[statement("u1", course, "2025-11-01T10:00:00Z")])
    with serve(lrs_handler(state)) as base:
        cli_json("sources", "connect", "lrs", "--api-url", f"{base}/xapi/", "--token-env", "LRS_CREDENTIALS")
        [first] = run(runtime)
        state.statements.append(statement("u1", course, "2026-11-02T10:00:00Z"))  # next year's refresher
        [second] = run(runtime)
    assert (first["credited"], second["credited"]) == (1, 1)
    assert count(runtime, models.CourseCompletion) == 2
    assert iacet_awards(runtime) == 2  # IACET: a course once per calendar year


def test_a_moodle_retake_after_a_course_reset_is_found_by_the_next_reconcile(
        runtime: Runtime, moodle: MoodleState) -> None:
    """The learner completed course 42, the course was reset, and they completed it again a year
    later; the push of the retake was lost. They went back into the course, so they are asked again."""
    run(runtime, source="moodle-prod")
    course = moodle.courses["42"]
    course.completed[7] = [1732000000]  # 2024-11-19
    course.users[0]["lastcourseaccess"] = 1731990000
    [report] = run(runtime, source="moodle-prod")
    assert report["credited"] == 1
    assert count(runtime, models.CourseCompletion) == 2
    assert iacet_awards(runtime) == 2


def test_a_moodle_completion_pushed_with_its_event_time_is_not_credited_again_by_the_pull(
        runtime: Runtime, moodle: MoodleState, client: FlaskClient, cli_json: Callable[..., Any]) -> None:
    """Moodle's course_completed event is created when its cron marks the course complete, after
    the last criterion (the time the web services give): the pull recognises the pushed completion
    even when the learner went back into the course afterwards."""
    from tests.spine import moodle_completed
    added = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-push", "--same-identities-as",
                     "moodle-prod")
    assert client.post(added["url"], json=moodle_completed(7, 42, time=1700000000 + 300)).json["status"] == "credited"
    moodle.courses["42"].users[0]["lastcourseaccess"] = 1700090000  # came back to read the material
    [report] = run(runtime, source="moodle-prod")
    assert (report["credited"], report["already_known"]) == (0, 1)
    assert count(runtime, models.CourseCompletion) == 1


def test_a_learner_whose_completion_came_through_a_second_source_is_not_asked_again(
        runtime: Runtime, moodle: MoodleState, client: FlaskClient, cli_json: Callable[..., Any]) -> None:
    """The push came through another source of the same Moodle (--same-identities-as): the learner
    is known as completed all the same, and Moodle is not asked about them."""
    from tests.spine import moodle_completed
    added = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-push", "--same-identities-as",
                     "moodle-prod")
    assert client.post(added["url"], json=moodle_completed(7, 42, time=1700000000)).json["status"] == "credited"
    [report] = run(runtime, source="moodle-prod")
    asked = [c[1]["userid"] for c in moodle.calls
             if c[0] == "core_completion_get_course_completion_status" and c[1]["courseid"] == "42"]
    assert asked == ["8"]
    assert (report["credited"], report["already_known"]) == (0, 1)


def test_every_completion_found_is_counted_once_in_the_report(
        runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A retake inside a period that has its award is found, new, and answered ``already credited
    this cycle``: the report says so, and its counts add up to what was found."""
    monkeypatch.setenv("LRS_CREDENTIALS", "k1:s1")
    cli_json("sources", "add", "--kind", "xapi", "--name", "lrs")
    course = "https://lms.example/course/hipaa"
    import_mapping(cli_json, tmp_path, source="lrs", course=course, minutes=60, credentials=CREDENTIALS)
    state = LrsState(key="k1", secret="s1", statements=[
        statement("u1", course, "2025-11-01T10:00:00Z"),
        statement("u1", course, "2025-12-01T10:00:00Z"),  # the same calendar year (IACET), no cycle known (ACMSS)
        statement("u2", "https://lms.example/course/unmapped", "2025-11-01T10:00:00Z")])
    with serve(lrs_handler(state)) as base:
        cli_json("sources", "connect", "lrs", "--api-url", f"{base}/xapi/", "--token-env", "LRS_CREDENTIALS")
        [report] = run(runtime)
    assert (report["credited"], report["already_credited"], report["unmapped"]) == (1, 1, 1)
    assert report["completions_found"] == sum(report[k] for k in (
        "credited", "already_known", "already_credited", "unmapped", "refused"))
