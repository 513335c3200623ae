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


@pytest.mark.server
def test_sigkill_mid_delivery_then_restart_delivers_every_claim_once(
    runtime: Runtime, cli_env: dict[str, str], tmp_path: Path
) -> None:
    credit(runtime.sessions, "123", "565", credential="aama-cma")
    credit(runtime.sessions, "42", "7", credential="aama-cma")
    credit(runtime.sessions, "123", "565", credential="amt-rma")
    receiver = HttpReceiver(SECRET, ["stall"])
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    log = tmp_path / "scheduler.log"
    with http_server(receiver) as url:
        (config / "exports.toml").write_text(f"""
[defaults]
destination = "body-api"
[destinations.body-api]
type = "https"
url = "{url}"
secret_env = "TEST_WEBHOOK_SECRET"
timeout_seconds = 30
""")
        env = {**os.environ, **cli_env, "LTI_TOOL_CONFIG_DIR": str(config),
               "LTI_TOOL_EXPORTS__LEASE_SECONDS": "2", "LTI_TOOL_EXPORTS__RETRY_BASE_SECONDS": "1",
               "TEST_WEBHOOK_SECRET": SECRET}
        first = start(env, log)
        try:
            assert wait_for(lambda: len(receiver.requests) == 1), log.read_text()
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            first.kill()
        with runtime.sessions() as session:
            assert [b.status for b in session.scalars(select(models.ExportBatch))].count("delivering") == 1
        receiver.release.set()  # the stalled request's answer goes to a dead socket
        assert wait_for(lambda: False, timeout=2.5) is False  # let the killed process's lease expire
        second = start(env, log)
        try:
            assert wait_for(lambda: len(receiver.accepted) == 2, timeout=30), log.read_text()
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0, log.read_text()
    keys = [key for accepted in receiver.accepted for key in accepted["body"]["claims"]]
    assert len(keys) == len(set(keys)) == 3
    ids = [accepted["id"] for accepted in receiver.accepted]
    assert len(ids) == len(set(ids))
    with runtime.sessions() as session:
        assert {b.status for b in session.scalars(select(models.ExportBatch))} == {"delivered"}
