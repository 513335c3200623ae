"""``GET /lti/register`` is anonymous and makes the tool call the URL it is given: a slow remote
holds no worker or writer past its deadline, registrations are limited at once and per client,
and no private address is called (SSRF), with one generic reason whatever lies behind the URL."""

from __future__ import annotations

import threading
import time
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from lti_tool import models, outbound
from lti_tool.db import write_session
from lti_tool.runtime import Runtime, build_runtime
from lti_tool.settings import Settings
from lti_tool.web.app import create_app
from lti_tool.web.lti.registration import GATE
from tests.lti.platform import TestPlatform
from tests.security.peers import hostile, trickle


def quick_app(settings: Settings, **lti: Any) -> tuple[Flask, Runtime]:
    tuned = settings.model_copy(update={"lti": settings.lti.model_copy(
        update={"http_timeout_seconds": 1.0, **lti})})
    runtime = build_runtime(tuned)
    return create_app(runtime, {"TESTING": True}), runtime


def platforms(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(models.Platform)) or 0)


def register(app: Flask, url: str) -> Any:
    return app.test_client().get("/lti/register", query_string={"openid_configuration": url})


def test_a_trickling_configuration_url_is_given_up_at_the_deadline(settings: Settings) -> None:
    app, runtime = quick_app(settings)
    with hostile(trickle) as (base, _):
        started = time.monotonic()
        response = register(app, f"{base}/.well-known/openid-configuration")
        assert time.monotonic() - started < 10  # the deadline is 1 s; the remote trickles for 60
    assert response.status_code == 400 and "could not be reached" in response.get_data(as_text=True)
    assert platforms(runtime) == 0


def test_a_slow_registration_holds_no_database_writer(settings: Settings) -> None:
    # A deadline of 6 s: a registration that held the writer would make it wait that long; the
    # bound below is half of it, so a loaded machine does not fail the test.
    app, runtime = quick_app(settings, http_timeout_seconds=6.0)
    with hostile(trickle) as (base, _):
        slow = threading.Thread(target=register, args=(app, f"{base}/.well-known/openid-configuration"))
        slow.start()
        time.sleep(0.3)  # the registration is now waiting on the remote
        started = time.monotonic()
        with write_session(runtime.sessions) as session:
            session.execute(select(1))
        waited = time.monotonic() - started
        slow.join(30)
    assert waited < 3


def test_more_registrations_at_once_than_allowed_get_503_at_once(settings: Settings) -> None:
    app, runtime = quick_app(settings, registrations_at_once=1, http_timeout_seconds=20.0)
    gate = app.extensions[GATE]
    assert gate.enter()  # one registration is running
    try:
        started = time.monotonic()
        with hostile(trickle) as (base, _):  # a registration let through would wait the 20 s deadline
            response = register(app, f"{base}/.well-known/openid-configuration")
        assert time.monotonic() - started < 5
    finally:
        gate.leave()
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert platforms(runtime) == 0


def test_a_client_asking_too_often_gets_429(settings: Settings) -> None:
    app, runtime = quick_app(settings, registrations_per_minute=3)
    statuses = [register(app, "http://127.0.0.1:1/x").status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 429, 429]
    assert platforms(runtime) == 0


def test_a_name_resolving_to_loopback_is_not_called_and_gets_the_generic_reason(
    settings: Settings, public_dns: dict[str, str], default_policy: outbound.Policy
) -> None:
    app, runtime = quick_app(settings)
    outbound.configure(outbound.Policy())  # build_runtime installed the tests' development policy
    public_dns["lms.example"] = "127.0.0.1"
    platform = TestPlatform().start()
    try:
        port = platform.base.rsplit(":", 1)[1]
        open_port = register(app, f"https://lms.example:{port}/.well-known/openid-configuration")
        closed_port = register(app, "https://lms.example:1/.well-known/openid-configuration")
    finally:
        platform.stop()
    assert open_port.status_code == closed_port.status_code == 400
    assert open_port.get_data() == closed_port.get_data()
    assert platform.registration is None and platforms(runtime) == 0


def test_a_configuration_naming_a_private_registration_endpoint_is_not_called(
    settings: Settings, default_policy: outbound.Policy
) -> None:
    class FirstCallOnly(outbound.Policy):
        """Lets the configuration be read (standing in for a public platform), then refuses."""

        calls = 0

        def permits(self, address: str) -> bool:
            FirstCallOnly.calls += 1
            return FirstCallOnly.calls == 1

    app, runtime = quick_app(settings)
    outbound.configure(FirstCallOnly(allow_private=True))
    platform = TestPlatform().start()
    try:
        response = register(app, f"{platform.base}/.well-known/openid-configuration")
    finally:
        platform.stop()
    assert response.status_code == 400 and "could not be reached" in response.get_data(as_text=True)
    assert platform.registration is None and platforms(runtime) == 0


def test_plain_http_configuration_urls_are_refused_by_default(
    settings: Settings, default_policy: outbound.Policy
) -> None:
    app, runtime = quick_app(settings)
    outbound.configure(outbound.Policy())
    platform = TestPlatform().start()
    try:
        response = register(app, f"{platform.base}/.well-known/openid-configuration")
    finally:
        platform.stop()
    assert response.status_code == 400 and platform.registration is None and platforms(runtime) == 0
