"""Each destination against a real receiver on 127.0.0.1: what counts as delivered, retried or dead."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lti_tool.exports.base import DeliveryError
from lti_tool.exports.claim import Rendered
from lti_tool.exports.directory import DirectoryDestination
from lti_tool.exports.https import HttpsDestination, sign
from lti_tool.exports.sftp import SftpDestination
from lti_tool.exports.smtp import SmtpDestination
from tests.conftest import REPO
from tests.exports.receivers import (
    HttpReceiver,
    SftpServer,
    SmtpReceiver,
    free_port,
    http_server,
    smtp_server,
)
from tests.exports.samples import export

FILES = (Rendered("b-remittance.txt", "text/plain", b"licence CMSS-4711"),
         Rendered("certificate-1.pdf", "application/pdf", b"%PDF-1.4 " + b"x" * 200_000))


def smtp(port: int, tmp_path: Path) -> SmtpDestination:
    return SmtpDestination("acmss-mail", {"host": "127.0.0.1", "port": port, "from": "tool@example.org",
                                          "to": ["licensing@acmss.example"], "timeout_seconds": 5}, tmp_path)


def test_smtp_down_then_421_and_451_are_retried_and_then_the_message_arrives_once(tmp_path: Path) -> None:
    port = free_port()
    destination = smtp(port, tmp_path)
    with pytest.raises(DeliveryError) as down:
        destination.deliver(export(FILES))
    assert not down.value.permanent
    receiver = SmtpReceiver(["421 4.3.2 shutting down", "451 4.3.0 try again later"])
    with smtp_server(receiver, port):
        for _ in range(2):
            with pytest.raises(DeliveryError) as busy:
                destination.deliver(export(FILES))
            assert not busy.value.permanent
        receipt = destination.deliver(export(FILES))
    [message] = receiver.messages
    assert message["Message-ID"].strip() == receipt["message_id"] == f"<{'k' * 64}@lti-tool>"
    assert message["X-Idempotency-Key"].strip() == "k" * 64
    attachments = {p.get_filename(): p.get_payload(decode=True) for p in message.iter_attachments()}
    assert attachments == {f.filename: f.content for f in FILES}


def test_smtp_5xx_is_permanent(tmp_path: Path) -> None:
    port = free_port()
    with smtp_server(SmtpReceiver(["554 5.7.1 rejected"]), port), pytest.raises(DeliveryError) as refused:
        smtp(port, tmp_path).deliver(export(FILES))
    assert refused.value.permanent


def https(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timeout: float = 1.0) -> HttpsDestination:
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    return HttpsDestination("body-api", {"url": url, "secret_env": "TEST_WEBHOOK_SECRET",
                                         "timeout_seconds": timeout}, tmp_path)


def test_https_retries_500_429_and_a_hang_then_delivers_signed_with_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = HttpReceiver("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ["500", "429", "hang"])
    with http_server(receiver) as url:
        destination = https(url, tmp_path, monkeypatch)
        errors = []
        for _ in range(3):
            with pytest.raises(DeliveryError) as failed:
                destination.deliver(export(FILES))
            errors.append(failed.value)
        receipt = destination.deliver(export(FILES))
    assert [e.permanent for e in errors] == [False, False, False]
    assert errors[1].retry_after == 2.0 and "Timeout" in str(errors[2])
    assert receipt["status"] == 200
    [accepted] = receiver.accepted
    assert accepted["id"] == accepted["idempotency_key"] == "k" * 64
    assert accepted["body"]["claims"] == ["a", "b"]
    assert all(r["signed"] for r in receiver.requests)


def test_https_400_is_permanent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    receiver = HttpReceiver("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", ["400"])
    with http_server(receiver) as url, pytest.raises(DeliveryError) as refused:
        https(url, tmp_path, monkeypatch).deliver(export(FILES))
    assert refused.value.permanent and "HTTP 400" in str(refused.value)


def test_the_signature_matches_the_standard_webhooks_test_vector() -> None:
    body = b'{"test": 2432232314}'
    assert sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                body) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_secrets_come_from_the_environment_or_a_file_outside_any_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = HttpsDestination("x", {"url": "http://127.0.0.1:9/", "secret_env": "UNSET_SECRET_VAR"}, tmp_path)
    monkeypatch.delenv("UNSET_SECRET_VAR", raising=False)
    with pytest.raises(DeliveryError, match="UNSET_SECRET_VAR"):
        destination.deliver(export(FILES))
    for option in ("secret", "password"):
        with pytest.raises(ValueError, match=f"put {option} in the environment or a file"):
            HttpsDestination("x", {"url": "http://127.0.0.1:9/", option: "plain"}, tmp_path)
    with pytest.raises(ValueError, match="inside the Git work tree"):
        HttpsDestination("x", {"url": "http://127.0.0.1:9/", "secret_file": str(REPO / "config" / "s")}, tmp_path)
    missing = HttpsDestination("x", {"url": "http://127.0.0.1:9/", "secret_file": str(tmp_path / "none")},
                               tmp_path)
    with pytest.raises(DeliveryError, match="secret_file"):
        missing.deliver(export(FILES))


def test_https_refuses_plain_http_except_to_this_host(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be https"):
        HttpsDestination("x", {"url": "http://api.body.example/claims", "secret_env": "S"}, tmp_path)
    HttpsDestination("x", {"url": "https://api.body.example/claims", "secret_env": "S"}, tmp_path)


@pytest.fixture
def sftp_server(tmp_path: Path):
    root = tmp_path / "remote"
    (root / "inbox").mkdir(parents=True)
    server = SftpServer(root, tmp_path)
    server.start()
    yield server
    server.stop()


def sftp(server: SftpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SftpDestination:
    monkeypatch.setenv("TEST_SFTP_PASSWORD", "pw")
    return SftpDestination("body-sftp", {"host": "127.0.0.1", "port": server.port, "username": "exports",
                                         "password_env": "TEST_SFTP_PASSWORD", "path": "inbox",
                                         "known_hosts": str(server.known_hosts), "timeout_seconds": 10},
                           tmp_path)


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def test_sftp_upload_lands_under_its_final_name_only(sftp_server: SftpServer, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    receipt = sftp(sftp_server, tmp_path, monkeypatch).deliver(export(FILES))
    inbox = sftp_server.root / "inbox"
    assert sorted(p.name for p in inbox.iterdir()) == sorted(f.filename for f in FILES)
    assert (inbox / "certificate-1.pdf").read_bytes() == FILES[1].content
    assert [f["remote"] for f in receipt["files"]] == [f"inbox/{f.filename}" for f in FILES]


def test_sftp_dropped_connection_leaves_no_partial_file_visible_and_the_retry_completes(
    sftp_server: SftpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    destination = sftp(sftp_server, tmp_path, monkeypatch)
    inbox = sftp_server.root / "inbox"
    sftp_server.drop_after_bytes = 100_000 + len(FILES[0].content)
    with pytest.raises(DeliveryError) as dropped:
        destination.deliver(export(FILES))
    assert not dropped.value.permanent
    assert visible(inbox) == ["b-remittance.txt"]  # the first file was complete; no partial second
    assert (inbox / ".certificate-1.pdf.partial").stat().st_size < len(FILES[1].content)
    receipt = destination.deliver(export(FILES))
    assert sorted(p.name for p in inbox.iterdir()) == sorted(f.filename for f in FILES)  # no .partial left
    assert (inbox / "certificate-1.pdf").read_bytes() == FILES[1].content
    assert receipt["files"][1]["bytes"] == len(FILES[1].content)


def test_directory_replaces_the_same_file_on_a_retry(tmp_path: Path) -> None:
    destination = DirectoryDestination("directory", {}, tmp_path)
    destination.deliver(export(FILES))
    receipt = destination.deliver(export(FILES))
    assert visible(tmp_path / "exports" / "acmss-cmss") == sorted(f.filename for f in FILES)
    assert receipt["files"][0]["bytes"] == len(FILES[0].content)


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``os.fsync`` is called on, in order."""
    paths: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(descriptor: int) -> None:
        paths.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    return paths


def test_directory_syncs_the_folder_after_the_rename(tmp_path: Path, synced: list[str]) -> None:
    DirectoryDestination("directory", {}, tmp_path).deliver(export(FILES[:1]))
    folder = str(tmp_path / "exports" / "acmss-cmss")
    # The file's data first (under its temporary name), then the folder that holds the rename (after
    # the folders this first delivery created, each synced in its parent).
    assert [Path(p).parent == Path(folder) and Path(p).name.endswith(".partial") for p in synced[-2:]] == \
        [True, False]
    assert synced[-1] == folder


def test_directory_syncs_the_parent_of_each_folder_it_creates(tmp_path: Path, synced: list[str]) -> None:
    """A first delivery for a credential creates its folder (and the exports folder): those new
    entries are durable only once their parents are synced, or a power cut loses the folder and the
    file recorded as delivered in it."""
    DirectoryDestination("directory", {}, tmp_path).deliver(export(FILES[:1]))
    assert str(tmp_path) in synced, "the exports folder's entry in the instance folder"
    assert str(tmp_path / "exports") in synced, "the credential folder's entry in the exports folder"
    synced.clear()
    DirectoryDestination("directory", {}, tmp_path).deliver(export(FILES[:1]))
    assert synced[-1] == str(tmp_path / "exports" / "acmss-cmss") and len(synced) == 2, "nothing new: as before"
