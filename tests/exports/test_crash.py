"""A scheduler killed in the middle of a delivery loses nothing and doubles nothing."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool import models
from lti_tool.runtime import Runtime
from tests.conftest import REPO
from tests.exports.ledger_rows import credit
from tests.exports.receivers import HttpReceiver, http_server, wait_for

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "lti_tool", "scheduler"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=REPO)


def statuses(runtime: Runtime) -> list[str]:
    with runtime.sessions() as session:
        return [b.status for b in session.scalars(select(models.ExportBatch).order_by(models.ExportBatch.id))]


def lease_expired(runtime: Runtime) -> bool:
    with runtime.sessions() as session:
        leases = session.scalars(select(models.ExportBatch.lease_until)
                                 .where(models.ExportBatch.lease_until.is_not(None))).all()
    return all(lease < models.utcnow() for lease in leases)


@pytest.mark.server
def test_sigkill_mid_delivery_then_restart_delivers_every_claim_once(
    runtime: Runtime, cli_env: dict[str, str], tmp_path: Path
) -> None:
    claims = [credit(runtime.sessions, "123", "565", credential="aama-cma", number="AAMA-1"),
              credit(runtime.sessions, "42", "7", credential="aama-cma", number="AAMA-2"),
              credit(runtime.sessions, "123", "565", credential="amt-rma", number="AMT-1")]
    # The first batch reaches the receiver, which takes it and then keeps the sender waiting for the
    # answer: the kill comes after the receiver accepted it but before the sender could record it.
    receiver = HttpReceiver(SECRET, ["accept-stall"])
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    log = tmp_path / "scheduler.log"
    with http_server(receiver) as url:
        (config / "exports.toml").write_text(f"""
[defaults]
destination = "body-api"
exporter = "claims-csv"
[destinations.body-api]
type = "https"
url = "{url}"
secret_env = "TEST_WEBHOOK_SECRET"
timeout_seconds = 30
""")
        env = {**os.environ, **cli_env, "LTI_TOOL_CONFIG_DIR": str(config),
               "LTI_TOOL_EXPORTS_PATH": str(config / "exports.toml"),
               "LTI_TOOL_EXPORTS__LEASE_SECONDS": "2", "LTI_TOOL_EXPORTS__RETRY_BASE_SECONDS": "1",
               "TEST_WEBHOOK_SECRET": SECRET}
        first = start(env, log)
        try:
            assert wait_for(lambda: len(receiver.accepted) == 1), log.read_text()
            first.send_signal(signal.SIGKILL)
            assert first.wait(10) == -signal.SIGKILL
        finally:
            first.kill()
        assert statuses(runtime) == ["delivering", "pending"]  # killed mid-delivery, second not begun
        receiver.release.set()  # the stalled answer goes to a dead socket
        assert wait_for(lambda: lease_expired(runtime), timeout=10)  # the clock ticks each minute
        second = start(env, log)
        try:
            assert wait_for(lambda: statuses(runtime) == ["delivered", "delivered"], timeout=30), \
                log.read_text()
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0, log.read_text()
    batch_keys = [accepted["id"] for accepted in receiver.accepted]
    assert len(batch_keys) == len(set(batch_keys)) == 2
    # The killed attempt's batch came again under the same key, so the receiver dropped it.
    assert receiver.duplicates == [batch_keys[0]]
    claim_keys = [key for accepted in receiver.accepted for key in accepted["body"]["claims"]]
    assert len(claim_keys) == len(set(claim_keys)) == len(claims)
    with runtime.sessions() as session:
        outbox = set(session.scalars(select(models.OutboxClaim.idempotency_key)))
        attempts = session.scalars(select(models.ExportAttempt).order_by(models.ExportAttempt.id)).all()
    assert set(claim_keys) == outbox
    assert [(a.attempt, a.outcome) for a in attempts if a.batch_id == attempts[0].batch_id] == [
        (1, "interrupted"), (2, "delivered")]
