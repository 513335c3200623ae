"""The export tick with each destination: delivered once, retried, dead-lettered, nearest deadline
first, and claims of learners who lack a number or consent wait."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session, write_session
from lti_tool.exports.config import ExportConfigError, build_exports, rule_defaults
from lti_tool.exports.discovery import discover
from lti_tool.lti.keys import ensure_key
from lti_tool.runtime import Runtime
from lti_tool.services.badge_signer import BadgeSigner, bind_signers
from lti_tool.services.claim_readiness import (
    missing_by_credential,
    missing_for,
    set_consent,
)
from lti_tool.services.export_retries import backoff_seconds, retry_batch
from lti_tool.services.export_status import export_status
from lti_tool.services.exporting import TickReport, run_export_tick
from lti_tool.settings import ExportSettings
from tests.exports.ledger_rows import COMPLETED, credit
from tests.exports.receivers import (
    HttpReceiver,
    SmtpReceiver,
    free_port,
    http_server,
    smtp_server,
)
from tests.exports.samples import unreachable_mail

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def configure(runtime: Runtime, tmp_path: Path, text: str) -> None:
    path = tmp_path / "exports.toml"
    path.write_text(text)
    runtime.exports = build_exports(path, discover(), runtime.settings.instance_dir,
                                    rule_defaults(runtime.rulebook))
    bind_signers(runtime.exports, BadgeSigner(runtime.sessions, runtime.settings))
    with write_session(runtime.sessions) as session:
        ensure_key(session)  # what `lti-tool init` makes: the key open-badges signs with


def tick(runtime: Runtime, now: datetime | None = None) -> TickReport:
    return run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, now)


def batches(runtime: Runtime) -> list[models.ExportBatch]:
    with runtime.sessions() as session:
        return list(session.scalars(select(models.ExportBatch).order_by(models.ExportBatch.id)))


def test_smtp_down_then_busy_then_up_delivers_every_claim_once(runtime: Runtime, tmp_path: Path) -> None:
    port = free_port()
    configure(runtime, tmp_path, f"""
[credentials.acmss-cmss]
exporter = "acmss-remittance"
destination = "acmss-mail"
requires = ["number"]
[destinations.acmss-mail]
type = "smtp"
host = "127.0.0.1"
port = {port}
from = "tool@example.org"
to = ["licensing@acmss.example"]
timeout_seconds = 5
""")
    credit(runtime.sessions, "123", "565", number="CMSS-1")
    credit(runtime.sessions, "42", "7", number="CMSS-2")
    now = models.utcnow()
    assert tick(runtime, now).failed  # server down
    receiver = SmtpReceiver(["421 4.3.2 closing", "451 4.3.0 later"])
    with smtp_server(receiver, port):
        for step in range(1, 8):
            tick(runtime, now + timedelta(days=step))
    [message] = receiver.messages
    assert "CMSS-1" in message.get_body(("plain",)).get_content()
    assert len([p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]) == 2
    [batch] = batches(runtime)
    assert batch.status == "delivered" and batch.attempts == 4
    assert batch.receipt["message_id"] == message["Message-ID"].strip()


def http_config(url: str) -> str:
    return f"""
[defaults]
destination = "body-api"
exporter = "open-badges"
[destinations.body-api]
type = "https"
url = "{url}"
secret_env = "TEST_WEBHOOK_SECRET"
timeout_seconds = 1
"""


def test_https_500_429_and_a_hang_are_retried_and_the_key_is_sent(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    # Backoff of a fraction of a second, so the receiver's "Retry-After: 2" is what decides.
    runtime.settings.exports = ExportSettings(retry_base_seconds=0.05, retry_max_seconds=0.2)
    receiver = HttpReceiver(SECRET, ["500", "429", "hang"])
    with http_server(receiver) as url:
        configure(runtime, tmp_path, http_config(url))
        credit(runtime.sessions, "123", "565", credential="aama-cma", number="AAMA-1")
        now = models.utcnow()
        waits = []
        for step in range(4):
            # Ticks dated ahead of the clock: a retry is due at max(tick, end of attempt) + backoff,
            # so the wait measured is the backoff alone, not also how long a loaded machine took.
            tick_at = now + timedelta(days=step + 1)
            report = tick(runtime, tick_at)
            with runtime.sessions() as session:
                [batch] = session.scalars(select(models.ExportBatch)).all()
            if step < 3:
                [failure] = report.failed
                assert failure["dead"] is False and failure["permanent"] is False
                waits.append(batch.next_attempt_at - tick_at)
                assert tick(runtime, tick_at).failed == []  # not due again before its time
    assert waits[0] < timedelta(seconds=1) <= timedelta(seconds=2) <= waits[1] and waits[2] < timedelta(seconds=1)
    [accepted] = receiver.accepted
    [batch] = batches(runtime)
    assert accepted["id"] == accepted["idempotency_key"] == batch.key
    assert batch.status == "delivered" and batch.receipt["status"] == 200
    assert len(accepted["body"]["claims"]) == 1
    assert all(r["signed"] for r in receiver.requests) and len(receiver.requests) == 4
    with read_session(runtime.sessions) as session:
        runs = export_status(session, runtime.exports)["last_runs"]
    assert [(r["attempt"], r["outcome"]) for r in runs] == [(4, "delivered"), (3, "failed"), (2, "failed"),
                                                          (1, "failed")]
    assert "HTTP 429" in runs[2]["error"] and "Timeout" in runs[1]["error"] and "HTTP 500" in runs[3]["error"]


def test_backoff_grows_exponentially_with_jitter_up_to_its_cap_and_honours_retry_after() -> None:
    settings = ExportSettings(retry_base_seconds=10, retry_max_seconds=100)
    for attempt, low, high in [(1, 5, 10), (2, 10, 20), (3, 20, 40), (4, 40, 80), (9, 50, 100)]:
        delays = {backoff_seconds(attempt, settings, None) for _ in range(50)}
        assert all(low <= d <= high for d in delays) and len(delays) > 1, (attempt, delays)
    assert backoff_seconds(1, settings, 3600) == 3600


def test_a_400_moves_the_batch_to_the_dead_letter_until_retried_by_hand(
    runtime: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", SECRET)
    receiver = HttpReceiver(SECRET, ["400"])
    with http_server(receiver) as url:
        configure(runtime, tmp_path, http_config(url))
        credit(runtime.sessions, "123", "565", credential="aama-cma", number="AAMA-1")
        now = models.utcnow()
        [failure] = tick(runtime, now).failed
        assert failure["dead"] is True
        assert tick(runtime, now + timedelta(days=30)).delivered == []
        [batch] = batches(runtime)
        assert batch.status == "dead" and "HTTP 400" in (batch.last_error or "")
        with read_session(runtime.sessions) as session:
            status = export_status(session, runtime.exports)
        assert status["destinations"]["body-api"]["dead"] == 1
        assert status["dead_batches"][0]["batch"] == batch.id
        with write_session(runtime.sessions) as session:
            retry_batch(session, batch.id)
        [delivered] = tick(runtime).delivered
    assert delivered["batch"] == batch.id and len(receiver.accepted) == 1


def test_too_many_attempts_go_to_the_dead_letter(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, f"""
[delivery]
max_attempts = 2
[defaults]
destination = "mail"
{unreachable_mail()}
""")
    credit(runtime.sessions, "123", "565", number="CMSS-1")
    now = models.utcnow()
    assert tick(runtime, now).failed[0]["dead"] is False
    assert tick(runtime, now + timedelta(days=1)).failed[0]["dead"] is True
    assert [b.status for b in batches(runtime)] == ["dead"]


def test_claims_wait_for_the_licence_number_and_consent(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, '[credentials.acmss-cmss]\nrequires = ["number", "consent"]\n')
    credit(runtime.sessions, "123", "565")
    assert tick(runtime).delivered == []
    with write_session(runtime.sessions) as session:
        person = session.scalar(select(models.Learner))
        assert missing_by_credential(session, runtime.exports, person.id) == {"acmss-cmss": [
            "member or licence number", "consent to report to the certifying body"]}
        session.add(models.LearnerCredential(learner_id=person.id, credential="acmss-cmss", number="CMSS-9"))
        set_consent(session, person.id, "acmss-cmss", given=True)
        assert missing_for(session, person.id, "acmss-cmss", ["number", "consent"]) == []
    [delivered] = tick(runtime).delivered
    assert "CMSS-9" in Path(delivered["file"]).read_text()


def test_claims_nearest_their_deadline_go_first_and_overdue_ones_are_flagged(runtime: Runtime, tmp_path: Path) -> None:
    configure(runtime, tmp_path, """
[credentials.acmss-cmss]
deadline_days = 10
[credentials.aama-cma]
deadline_days = 365
""")
    credit(runtime.sessions, "123", "1", credential="aama-cma", number="AAMA-1")
    credit(runtime.sessions, "123", "2", credential="acmss-cmss", number="CMSS-1")
    with read_session(runtime.sessions) as session:
        status = export_status(session, runtime.exports, now=COMPLETED + timedelta(days=11))
    assert status["total"]["overdue"] == 1 and status["total"]["pending"] == 2
    report = tick(runtime)
    assert [d["credential"] for d in report.delivered] == ["acmss-cmss", "aama-cma"]


def test_an_unknown_destination_is_refused_at_start_up_naming_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "exports.toml"
    path.write_text('[credentials.acmss-cmss]\ndestination = "nowhere"\n')
    with pytest.raises(ExportConfigError, match=r"exports.toml: credentials.acmss-cmss.destination"):
        build_exports(path, discover(), tmp_path)
    path.write_text('[destinations.x]\ntype = "smtp"\nhost = "h"\n')
    with pytest.raises(ExportConfigError, match=r"destinations.x: .*needs from, to"):
        build_exports(path, discover(), tmp_path)


def test_a_credential_with_its_own_schedule_is_left_to_its_own_tick(runtime: Runtime) -> None:
    credit(runtime.sessions, "123", "1", credential="aama-cma")
    credit(runtime.sessions, "123", "2", credential="acmss-cmss")
    general = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, exclude={"acmss-cmss"})
    assert [d["credential"] for d in general.delivered] == ["aama-cma"]
    own = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports, credentials={"acmss-cmss"})
    assert [d["credential"] for d in own.delivered] == ["acmss-cmss"]
