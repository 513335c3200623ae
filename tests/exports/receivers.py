"""Real receivers on 127.0.0.1 for the destination tests: SMTP (aiosmtpd), HTTP (a thread) and SFTP
(asyncssh in its own event loop thread). Each records what it accepted."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import asyncssh
from aiosmtpd.controller import Controller

from lti_tool.exports.https import verify
from tests.conftest import free_port
from tests.support.loopback import serve

__all__ = ["free_port"]  # the receivers' tests take it from here


class SmtpReceiver:
    """aiosmtpd handler answering from ``replies`` (e.g. "421 …", "451 …") then accepting."""

    def __init__(self, replies: list[str] | None = None):
        self.replies = list(replies or [])
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.replies:
            return self.replies.pop(0)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 2.0.0 queued"


@contextmanager
def smtp_server(receiver: SmtpReceiver, port: int) -> Iterator[Controller]:
    controller = Controller(receiver, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


class HttpReceiver:
    """Answers from ``script`` then 200; checks signatures; keeps what it accepted once per
    ``webhook-id`` (as a receiver deduplicating by idempotency key does).

    Steps: a status ("500", "429" with ``Retry-After: 2``, "400"), "hang" (answers 503 after
    ``hang_seconds``, past the client's timeout), "stall" (waits for ``release``, then 503) and
    "accept-stall" (records the claims as accepted, then waits for ``release`` before answering 200:
    the sender may die before it hears the answer).
    """

    def __init__(self, secret: str, script: list[str] | None = None, hang_seconds: float = 3.0):
        self.secret = secret
        self.script = list(script or [])
        self.hang_seconds = hang_seconds
        self.accepted: list[dict[str, Any]] = []
        self.duplicates: list[str] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()

    def accept(self, headers: dict[str, str], body: bytes) -> None:
        with self.lock:
            if any(a["id"] == headers["webhook-id"] for a in self.accepted):
                self.duplicates.append(headers["webhook-id"])
                return
            self.accepted.append({"id": headers["webhook-id"], "body": json.loads(body),
                                  "idempotency_key": headers.get("idempotency-key")})

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("content-length", 0)))
        headers = {k.lower(): v for k, v in handler.headers.items()}
        signed = verify(self.secret, headers, body)
        with self.lock:
            step = self.script.pop(0) if self.script else "200"
            self.requests.append({"headers": headers, "step": step, "signed": signed})
        if not signed:
            step = "401"
        if step == "hang":
            self.release.wait(self.hang_seconds)
            step = "503"
        elif step == "stall":  # until the test sets release (or the client is killed)
            self.release.wait(60)
            step = "503"
        elif step == "accept-stall":
            self.accept(headers, body)
            self.release.wait(60)
            step = "accepted"
        status = 200 if step == "accepted" else int(step)
        if step == "200":
            self.accept(headers, body)
        try:
            handler.send_response(status)
            if status == 429:
                handler.send_header("Retry-After", "2")
            payload = json.dumps({"status": status}).encode()
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass


@contextmanager
def http_server(receiver: HttpReceiver) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver.answer(self)

        def log_message(self, *args: Any) -> None:
            pass

    with serve(Handler) as base:
        try:
            yield f"{base}/claims"
        finally:
            receiver.release.set()  # a stalled answer must not keep the server from shutting down


class SftpServer:
    """asyncssh SFTP server on 127.0.0.1, chrooted to ``root``, user "exports"/"pw".

    ``drop_after_bytes``: the next upload's connection is aborted after that many bytes were written.
    """

    def __init__(self, root: Path, workdir: Path):
        self.root = root
        self.drop_after_bytes: int | None = None
        self.port = free_port()
        key = asyncssh.generate_private_key("ssh-ed25519")
        self.host_key = key
        self.known_hosts = workdir / "known_hosts"
        self.known_hosts.write_text(
            f"[127.0.0.1]:{self.port} {key.export_public_key().decode().strip()}\n")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def sftp_factory(self, chan: Any) -> asyncssh.SFTPServer:
        outer = self

        class Server(asyncssh.SFTPServer):
            def __init__(self, chan: Any):
                super().__init__(chan, chroot=os.fsencode(outer.root))
                self.written = 0

            def write(self, file_obj: Any, offset: int, data: bytes) -> int:
                if outer.drop_after_bytes is not None and self.written + len(data) > outer.drop_after_bytes:
                    part = data[: outer.drop_after_bytes - self.written]
                    super().write(file_obj, offset, part)
                    outer.drop_after_bytes = None
                    self.connection.abort()
                    raise asyncssh.SFTPConnectionLost("dropped by the test")
                self.written += len(data)
                return super().write(file_obj, offset, data)

        return Server(chan)

    def start(self) -> None:
        self.thread.start()

        async def listen() -> Any:
            return await asyncssh.listen(
                "127.0.0.1", self.port, server_host_keys=[self.host_key],
                sftp_factory=self.sftp_factory, allow_scp=False,
                password_auth=True, server_factory=PasswordServer)

        self.acceptor = asyncio.run_coroutine_threadsafe(listen(), self.loop).result(10)

    def stop(self) -> None:
        async def close() -> None:
            self.acceptor.close()
            await self.acceptor.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class PasswordServer(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == "exports" and password == "pw"


def wait_for(predicate: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
