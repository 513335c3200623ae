"""Renewal reminders: one e-mail per (learner, credential, cycle, offset), ever, to learners short of
their renewal, delivered to a real SMTP server (aiosmtpd on 127.0.0.1) with retries."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.runtime import Runtime
from lti_tool.services.reminders import ReminderReport, run_reminders
from lti_tool.services.renewal_items import confirm_item
from tests.exports.ledger_rows import credit, learner
from tests.exports.receivers import SmtpReceiver, smtp_server
from tests.lifecycle.conftest import PUBLIC_URL

CYCLE_END = date(2026, 6, 30)
"""ACMSS CMSS: certified 2024-07-01, a yearly cycle, 3 CME hours due by 30 June."""
IN_30_DAY_WINDOW = date(2026, 6, 1)


def holder(runtime: Runtime, user: str = "u-1", *, email: str | None = "dana@example.org",
           earned: str | None = "1") -> int:
    with write_session(runtime.sessions) as session:
        person = learner(session, user, name="Dana Reyes")
        person.email = email
        session.add(models.LearnerCredential(learner_id=person.id, credential="acmss-cmss",
                                             certified_on=date(2024, 7, 1)))
        learner_id = person.id
    if earned is not None:
        credit(runtime.sessions, user, "565", amount=earned, completed_at=datetime(2026, 3, 4, 12, tzinfo=UTC))
    return learner_id


def pay_fee(runtime: Runtime, learner_id: int) -> None:
    """ACMSS's annual licensing fee, a renewal item no course proves, confirmed for the cycle."""
    with write_session(runtime.sessions) as session:
        confirm_item(session, runtime.rulebook, learner_id=learner_id, credential="acmss-cmss",
                     item_id="annual-fee", on=date(2026, 2, 1), amount=None, recorded_by="test")


def run(runtime: Runtime, on: date = IN_30_DAY_WINDOW, now: datetime | None = None,
        dry_run: bool = False) -> ReminderReport:
    return run_reminders(runtime.sessions, runtime.rulebook, runtime.settings, runtime.exports, on=on,
                         now=now, dry_run=dry_run)


def sent_count(runtime: Runtime) -> int:
    with read_session(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(models.Reminder)
                              .where(models.Reminder.status == "sent")) or 0


def unsubscribe_path(message: EmailMessage) -> str:
    """The path of the message's List-Unsubscribe link (``<https://…>``, maybe folded)."""
    return str(message["List-Unsubscribe"]).strip()[1:-1].removeprefix(PUBLIC_URL)


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def test_a_learner_short_of_the_minimum_gets_what_is_earned_needed_and_the_deadline(
    runtime: Runtime, mail_port: int
) -> None:
    holder(runtime)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        report = run(runtime)
    [message] = receiver.messages
    text, html = parts(message)  # type: ignore[arg-type]
    assert message["To"] == "dana@example.org" and message["From"] == "Renewals <renewals@example.org>"
    assert "29 day(s)" in message["Subject"] and "1 of 3 CME" in message["Subject"]
    assert "ends on 2026-06-30" in text and "1 of 3 CME" in text
    assert "2 more CME hours (CME in one year) by 2026-06-30" in text
    assert "2 more CME hours (CME in one year) by 2026-06-30" in html
    assert f"{PUBLIC_URL}/reminders/unsubscribe/" in text and f"{PUBLIC_URL}/lti/home" in text
    assert report.sent[0]["receipt"]["message_id"] == message["Message-ID"].strip()


def test_the_message_carries_one_click_unsubscribe_headers(runtime: Runtime, mail_port: int) -> None:
    holder(runtime)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        run(runtime)
    [message] = receiver.messages
    assert re.fullmatch(rf"<{PUBLIC_URL}/reminders/unsubscribe/[^>]+>", str(message["List-Unsubscribe"]).strip())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_delivery_record_keeps_the_smtp_receipt(runtime: Runtime, mail_port: int) -> None:
    holder(runtime)
    with smtp_server(SmtpReceiver(), mail_port):
        run(runtime)
    with read_session(runtime.sessions) as session:
        [reminder] = session.scalars(select(models.Reminder))
    assert reminder.status == "sent" and reminder.attempts == 1 and reminder.sent_at is not None
    assert reminder.receipt is not None and reminder.receipt["recipients"] == ["dana@example.org"]
    assert reminder.offset_days == 30 and reminder.cycle_end == CYCLE_END


def test_a_second_run_in_the_same_window_sends_nothing(runtime: Runtime, mail_port: int) -> None:
    holder(runtime)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        run(runtime)
        run(runtime)
        again = run(runtime, on=IN_30_DAY_WINDOW + timedelta(days=10))
    assert len(receiver.messages) == 1 and again.due == [] and again.sent == []


def test_each_offset_sends_once_and_only_the_nearest_reached(runtime: Runtime, mail_port: int) -> None:
    holder(runtime)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        for day in (date(2026, 3, 1), date(2026, 4, 2), date(2026, 4, 20), date(2026, 6, 1), date(2026, 6, 24),
                    date(2026, 6, 30), date(2026, 7, 1)):
            run(runtime, on=day)
    with read_session(runtime.sessions) as session:
        offsets = list(session.scalars(select(models.Reminder.offset_days).order_by(models.Reminder.id)))
    assert offsets == [90, 30, 7] and len(receiver.messages) == 3


def test_a_learner_first_seen_late_gets_only_the_nearest_offset(runtime: Runtime, mail_port: int) -> None:
    holder(runtime)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        report = run(runtime, on=date(2026, 6, 25))
    assert [d["offset_days"] for d in report.due] == [7] and len(receiver.messages) == 1


def test_a_learner_who_met_the_requirement_gets_nothing(runtime: Runtime, mail_port: int) -> None:
    pay_fee(runtime, holder(runtime, earned="3"))
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        report = run(runtime)
    assert report.due == [] and receiver.messages == []


def test_a_learner_with_the_credit_but_an_unconfirmed_fee_is_reminded_of_the_fee(
    runtime: Runtime, mail_port: int
) -> None:
    holder(runtime, earned="3")
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        report = run(runtime)
    [message] = receiver.messages
    text, _ = parts(message)  # type: ignore[arg-type]
    assert len(report.sent) == 1 and "the annual licensing fee" in text, text


def test_a_learner_without_an_email_address_gets_nothing(runtime: Runtime, mail_port: int) -> None:
    holder(runtime, email=None)
    holder(runtime, "u-2", email="")
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        report = run(runtime)
    assert report.due == [] and receiver.messages == []


def test_a_learner_who_unsubscribed_by_the_link_gets_nothing(
    runtime: Runtime, client: FlaskClient, mail_port: int
) -> None:
    holder(runtime)
    holder(runtime, "u-2", email="sam@example.org")
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        run(runtime, on=date(2026, 4, 2))
        path = unsubscribe_path(next(m for m in receiver.messages if m["To"] == "dana@example.org"))  # type: ignore[arg-type]
        assert client.get(path).status_code == 200
        assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
        run(runtime)
    assert [m["To"] for m in receiver.messages] == ["dana@example.org", "sam@example.org", "sam@example.org"]


def test_opening_the_unsubscribe_link_without_the_button_unsubscribes_nobody(
    runtime: Runtime, client: FlaskClient, mail_port: int
) -> None:
    holder(runtime)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        run(runtime, on=date(2026, 4, 2))
        client.get(unsubscribe_path(receiver.messages[0]))  # type: ignore[arg-type]
        run(runtime)
    assert len(receiver.messages) == 2


def test_a_forged_unsubscribe_token_is_refused(runtime: Runtime, client: FlaskClient, mail_port: int) -> None:
    holder(runtime)
    with smtp_server(SmtpReceiver(), mail_port):
        run(runtime, on=date(2026, 4, 2))
    response = client.post("/reminders/unsubscribe/MQ.forged-signature")
    assert response.status_code == 404
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(models.ReminderOptOut)) == 0


def test_a_reminder_made_before_the_learner_unsubscribed_is_not_sent(runtime: Runtime, mail_port: int) -> None:
    learner_id = holder(runtime)
    first = run(runtime)  # the server is down: stored, not sent
    assert first.failed and first.failed[0]["status"] == "failed"
    with write_session(runtime.sessions) as session:
        session.add(models.ReminderOptOut(learner_id=learner_id))
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        later = run(runtime, now=datetime.now(UTC) + timedelta(days=1))
    assert receiver.messages == [] and later.failed[0]["status"] == "cancelled"


def test_the_server_down_then_up_loses_nothing_and_sends_once(runtime: Runtime, mail_port: int) -> None:
    holder(runtime)
    down = run(runtime)
    assert down.sent == [] and down.failed[0]["status"] == "failed" and down.failed[0]["retry_at"]
    assert run(runtime).failed == []  # not due again before its retry time
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        up = run(runtime, now=datetime.now(UTC) + timedelta(hours=7))
        run(runtime, now=datetime.now(UTC) + timedelta(hours=14))
    assert len(receiver.messages) == 1 and up.sent[0]["attempt"] == 2 and sent_count(runtime) == 1


def test_a_temporary_refusal_is_retried_and_a_permanent_one_goes_dead(runtime: Runtime, mail_port: int) -> None:
    holder(runtime)
    holder(runtime, "u-2", email="sam@example.org")
    receiver = SmtpReceiver(["451 4.3.0 try later", "550 5.1.1 no such user"])
    with smtp_server(receiver, mail_port):
        first = run(runtime)
        second = run(runtime, now=datetime.now(UTC) + timedelta(hours=7))
    assert sorted(f["status"] for f in first.failed) == ["dead", "failed"]
    assert len(second.sent) == 1 and len(receiver.messages) == 1


def test_a_dry_run_lists_what_would_be_sent_and_sends_and_stores_nothing(
    runtime: Runtime, mail_port: int
) -> None:
    holder(runtime)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        report = run(runtime, dry_run=True)
    [due] = report.due
    assert due["email"] == "dana@example.org" and due["offset_days"] == 30 and due["needs"]
    assert receiver.messages == []
    with read_session(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(models.Reminder)) == 0




def test_two_runs_at_the_same_time_send_one_email(runtime: Runtime, mail_port: int) -> None:
    import threading

    holder(runtime)
    receiver = SmtpReceiver()
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            run(runtime)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    with smtp_server(receiver, mail_port):
        threads = [threading.Thread(target=attempt) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == [] and len(receiver.messages) == 1 and sent_count(runtime) == 1


def test_an_address_with_a_line_break_adds_no_header_and_stops_no_other_reminder(
    runtime: Runtime, mail_port: int
) -> None:
    holder(runtime, email="dana@example.org\r\nBcc: eve@evil.example")
    holder(runtime, "u-2", email="sam@example.org")
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        report = run(runtime)
    assert [m["To"] for m in receiver.messages] == ["sam@example.org"]
    assert all(m["Bcc"] is None for m in receiver.messages) and len(report.sent) == 1


def test_an_address_that_is_a_list_sends_the_reminder_to_nobody(runtime: Runtime, mail_port: int) -> None:
    holder(runtime, email="dana@example.org, eve@evil.example")
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        report = run(runtime)
    assert receiver.messages == [] and report.due == [] and report.sent == []


def test_a_stored_reminder_whose_message_cannot_be_composed_goes_dead_and_the_rest_are_sent(
    runtime: Runtime, mail_port: int
) -> None:
    holder(runtime)
    holder(runtime, "u-2", email="sam@example.org")
    run(runtime)  # the server is down: both stored
    with write_session(runtime.sessions) as session:
        first = session.scalars(select(models.Reminder).order_by(models.Reminder.id)).first()
        assert first is not None
        first.email = "dana@example.org\r\nBcc: eve@evil.example"
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        later = run(runtime, now=datetime.now(UTC) + timedelta(hours=7))
    assert [m["To"] for m in receiver.messages] == ["sam@example.org"]
    assert [f["status"] for f in later.failed] == ["dead"]


def test_a_reminder_stored_while_the_server_was_down_is_not_sent_once_the_learner_has_met_the_minimum(
    runtime: Runtime, mail_port: int
) -> None:
    pay_fee(runtime, holder(runtime))
    down = run(runtime)
    assert down.failed[0]["status"] == "failed"
    credit(runtime.sessions, "u-1", "566", amount="2", completed_at=datetime(2026, 3, 5, 12, tzinfo=UTC))
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        up = run(runtime, now=datetime.now(UTC) + timedelta(hours=7))
    assert receiver.messages == [] and up.sent == [] and [f["status"] for f in up.failed] == ["cancelled"]


def test_a_reminder_still_needed_after_the_server_came_back_is_sent(runtime: Runtime, mail_port: int) -> None:
    holder(runtime)
    run(runtime)
    credit(runtime.sessions, "u-1", "566", amount="1", completed_at=datetime(2026, 3, 5, 12, tzinfo=UTC))
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        up = run(runtime, now=datetime.now(UTC) + timedelta(hours=7))
    assert len(receiver.messages) == 1 and len(up.sent) == 1


def platform_for(runtime: Runtime, learner_id: int, issuer: str) -> None:
    with write_session(runtime.sessions) as session:
        person = session.get(models.Learner, learner_id)
        assert person is not None
        session.add(models.Platform(issuer=issuer, client_id=f"c-{issuer}", auth_login_url=f"{issuer}/auth",
                                    auth_token_url=f"{issuer}/token", key_set_url=f"{issuer}/jwks",
                                    source_id=person.source_id, status="active"))


def test_the_link_is_the_learners_lms_that_launches_the_tool(runtime: Runtime, mail_port: int) -> None:
    platform_for(runtime, holder(runtime), "https://moodle.clinic.example")
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        run(runtime)
    text, html = parts(receiver.messages[0])  # type: ignore[arg-type]
    assert "progress: https://moodle.clinic.example\r\n" in text


def test_canvas_clouds_shared_issuer_is_never_the_link(runtime: Runtime, mail_port: int) -> None:
    platform_for(runtime, holder(runtime), "https://canvas.instructure.com")
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        run(runtime)
    text, html = parts(receiver.messages[0])  # type: ignore[arg-type]
    assert "canvas.instructure.com" not in text + html and f"{PUBLIC_URL}/lti/home" in text


def test_the_learners_name_is_escaped_in_the_html_and_kept_out_of_the_headers(
    runtime: Runtime, mail_port: int
) -> None:
    learner_id = holder(runtime)
    with write_session(runtime.sessions) as session:
        person = session.get(models.Learner, learner_id)
        assert person is not None
        person.name = '<img src=x onerror="alert(1)">\r\nBcc: eve@evil.example'
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        run(runtime)
    [message] = receiver.messages
    text, html = parts(message)  # type: ignore[arg-type]
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert message["Bcc"] is None and "img" not in str(message["Subject"]) + str(message["To"])


def test_a_run_that_started_long_ago_still_holds_the_reminder_it_is_sending(
    runtime: Runtime, mail_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long run's ``now`` is far behind the clock; its lease must not be over when it takes one."""
    from lti_tool.services import reminders

    holder(runtime)
    run(runtime)  # the server is down: stored
    with write_session(runtime.sessions) as session:
        session.execute(update(models.Reminder).values(next_attempt_at=datetime.now(UTC) - timedelta(days=1)))
    destination = reminders.mail_destination(runtime.settings, runtime.exports)
    sender = "ce@example.org"
    [reminder_id] = reminders_ids(runtime)
    second: list[object] = []
    send = type(destination).send

    def send_while_another_run_tries(self: object, msg: EmailMessage, to: list[str]) -> dict[str, list[object]]:
        second.append(reminders.deliver(runtime.sessions, reminder_id, destination, runtime.settings, sender,
                                        datetime.now(UTC)))
        return send(self, msg, to)  # type: ignore[arg-type]

    monkeypatch.setattr(type(destination), "send", send_while_another_run_tries)
    receiver = SmtpReceiver()
    with smtp_server(receiver, mail_port):
        first = reminders.deliver(runtime.sessions, reminder_id, destination, runtime.settings, sender,
                                  datetime.now(UTC) - timedelta(hours=1))
    assert first is not None and first["status"] == "sent" and second == [None] and len(receiver.messages) == 1


def reminders_ids(runtime: Runtime) -> list[int]:
    with read_session(runtime.sessions) as session:
        return list(session.scalars(select(models.Reminder.id)))


def test_a_failure_recorded_after_another_run_sent_the_reminder_leaves_it_sent(runtime: Runtime) -> None:
    from lti_tool.exports.base import DeliveryError
    from lti_tool.services import reminders

    holder(runtime)
    run(runtime)  # the server is down: attempt 1 failed
    [reminder_id] = reminders_ids(runtime)
    with write_session(runtime.sessions) as session:  # meanwhile attempt 2, by another run, was accepted
        session.execute(update(models.Reminder).values(status="sent", attempts=2))
    reminders._failed(runtime.sessions, reminder_id, 1, "k", DeliveryError("timed out"), runtime.settings,
                      datetime.now(UTC))
    assert sent_count(runtime) == 1
