"""OIDC login and launch: the login stores nothing; the launch consumes its nonce exactly once.

A login answers a signed, expiring state and the nonce that belongs to it
(:mod:`lti_tool.lti.login_state`); nothing is written. The launch then checks the token
(:mod:`lti_tool.lti.tokens`) and the state (its signature, expiry, platform, and that the id_token
carries its nonce), and in one write transaction inserts the nonce into ``lti_used_nonces`` (its
unique key refuses a replay, of the token or of the state, on any worker), records the learner and
opens a launch session. A rejection raises before the transaction commits, so nothing of a refused
launch is stored.

The launch must come from the browser that began the login: its state cookie equals the state, or,
when the cookie is absent (an iframe that blocks third-party cookies), the platform's client-side
storage in that browser held the login's proof (:mod:`lti_tool.lti.storage`). A launch with neither
is verified but not recorded: the caller asks the browser's platform storage first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool import models, text
from lti_tool.db import flushed_connection
from lti_tool.jwks import JwksUnavailable, UnknownKey
from lti_tool.lti import claims as c
from lti_tool.lti import launch_platform, launch_record, login_state, roles, storage, tokens
from lti_tool.lti.tokens import KeyLookup, LaunchRejected
from lti_tool.settings import LtiSettings


@dataclass(frozen=True)
class LoginRedirect:
    url: str
    state: str
    storage_put: storage.StoragePut | None = None
    """Set when the platform named an ``lti_storage_target``: the proof to store there first."""


def begin_login(
    session: Session, params: dict[str, str], *, launch_url: str, settings: LtiSettings, storage_secret: str,
    state_secret: str,
) -> LoginRedirect:
    """Answer an OIDC third-party login initiation with the platform's authorization URL (reads only:
    the state is signed with ``state_secret``, not stored)."""
    params = _checked_login(params)
    issuer, login_hint = params.get("iss", ""), params.get("login_hint", "")
    if not issuer or not login_hint:
        raise LaunchRejected("the login request needs iss and login_hint")
    target = params.get("target_link_uri", "")
    if target and not target.startswith(launch_url.rsplit("/lti/", 1)[0] + "/"):
        raise LaunchRejected("target_link_uri does not point at this tool")
    deployment_id = params.get("lti_deployment_id")
    platform = launch_platform.find(session, issuer, params.get("client_id") or None, deployment_id)
    if platform is None:
        raise LaunchRejected("this platform is not registered with the tool", 403)
    if deployment_id and not platform.deployment_known:
        raise unknown_deployment(platform.id, deployment_id)
    login = login_state.issue(state_secret, platform.id, settings.state_lifetime_seconds)
    state, nonce = login.state, login.nonce
    query = {
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post",
        "prompt": "none", "client_id": platform.client_id, "redirect_uri": launch_url,
        "login_hint": login_hint, "state": state, "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    url = platform.auth_login_url + separator + urlencode(query)
    put = None
    if params.get("lti_storage_target"):
        put = storage.StoragePut(
            target=params["lti_storage_target"], key=storage.key(state),
            value=storage.proof(storage_secret, state), origins=storage.message_origins(platform),
            next_url=url)
    return LoginRedirect(url=url, state=state, storage_put=put)


LOGIN_LIMITS = {"iss": 500, "login_hint": 2000, "client_id": 255, "lti_deployment_id": 255,
                "target_link_uri": 2000, "lti_message_hint": 4096,
                "lti_storage_target": storage.TARGET_LIMIT}
"""The login parameters the tool reads, and the longest value each may have (their columns)."""


def _checked_login(params: dict[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, limit in LOGIN_LIMITS.items():
        if params.get(key):
            try:
                checked[key] = text.checked(params[key], key, limit)
            except text.BadText as exc:
                raise LaunchRejected(f"the login request is malformed: {exc}") from None
    return checked


LAUNCH_LIMITS = {c.DEPLOYMENT_ID: 255, "sub": 255}


def check_claims(body: dict[str, Any]) -> None:
    """The launch's claims fit their columns and hold no NUL, lone surrogate or control character
    (a 400, the same on SQLite and PostgreSQL), and no number that is not finite (JSON has none, but
    the token's parser reads ``NaN`` and ``Infinity``, which PostgreSQL's JSON column refuses)."""
    try:
        json.dumps(body, allow_nan=False)
    except ValueError:
        raise LaunchRejected("the launch is malformed: a claim holds a value that is not a finite number") from None
    try:
        text.check_strings(body)
        for claim, limit in LAUNCH_LIMITS.items():
            if claim in body:
                text.checked(body[claim], claim, limit)
        context = body.get(c.CONTEXT)
        if isinstance(context, dict) and context.get("id") is not None:
            text.checked(context["id"], "context id", 255)
    except text.BadText as exc:
        raise LaunchRejected(f"the launch is malformed: {exc}") from None


def unknown_deployment(platform_id: int, deployment_id: str) -> LaunchRejected:
    return LaunchRejected(
        f"this deployment ({deployment_id!r}) is not registered with the tool; its operator can add it: "
        f"lti-tool platforms add-deployment {platform_id} --deployment-id '{deployment_id}'", 403)


@dataclass(frozen=True)
class Launch:
    token: str
    """The launch session's bearer id, handed to the browser (only its digest is stored)."""
    session_id: int
    role: roles.Role
    message_type: str


digest = launch_record.digest


@dataclass(frozen=True)
class VerifiedLaunch:
    platform_id: int
    body: dict[str, Any]
    browser_bound: bool
    """The state cookie or the platform's storage showed this browser began the login; when not,
    :func:`prepare_launch` refuses the launch."""
    source_id: int | None = None
    """The platform's event source, as read when verifying (the write checks it is unchanged)."""
    canvas: bool = False
    """The platform's launches name people by Canvas's ids (:func:`lti_tool.lti.identity.is_canvas`)."""
    storage_origins: tuple[str, ...] = ()
    """Where the platform's storage frame may answer from, for the page that asks it."""
    state_expires_at: datetime | None = None
    """When the login's state expires, as the state says: its used nonce is kept at least until then."""


@dataclass(frozen=True)
class BrowserBinding:
    """What the launching browser shows of its login: the state cookie, or what the platform's
    storage answered the tool's own page (``None`` when that page has not asked yet)."""

    state_cookie: str | None
    storage_value: str | None
    storage_secret: str
    state_secret: str
    """What the login's states are signed with (:mod:`lti_tool.lti.login_state`)."""


def _check_binding(state: str, binding: BrowserBinding) -> bool:
    if binding.state_cookie is not None:
        if binding.state_cookie != state:
            raise LaunchRejected("the launch's state does not match this browser's login", 401)
        return True
    if binding.storage_value is None:
        return False
    if not storage.proves(binding.storage_secret, state, binding.storage_value):
        raise LaunchRejected(
            "this browser's login could not be confirmed: there is no state cookie (the browser "
            "blocks the tool's cookies in the course page) and the course platform's storage holds "
            "no record of this login; open the tool in a new window from your course", 401)
    return True


def verify_launch(
    session: Session, *, id_token: str, state: str, binding: BrowserBinding, key_lookup: KeyLookup,
    settings: LtiSettings,
) -> VerifiedLaunch:
    """Every check that writes nothing (run in a read transaction: the key fetch may take a while)."""
    if not state:
        raise LaunchRejected("the launch has no state")
    if len(state) > 128 or not text.is_clean(state):
        raise LaunchRejected("the launch's state is malformed")
    bound = _check_binding(state, binding)
    unverified = tokens.peek(id_token)
    platform = launch_platform.find(session, unverified.issuer, unverified.client_id, unverified.deployment_id)
    if platform is None:
        raise LaunchRejected("this platform (issuer and client id) is not registered", 403)
    try:
        key = key_lookup(platform.key_set_url, unverified.kid)
    except JwksUnavailable as exc:
        raise LaunchRejected(f"the platform's keys cannot be fetched now, try again: {exc}", 503) from exc
    except UnknownKey as exc:  # still unknown after the cache's one rate-limited re-fetch
        raise LaunchRejected(f"the platform has no key {unverified.kid!r}: {exc}", 401) from exc
    body = tokens.verify(id_token, key, issuer=platform.issuer, client_id=platform.client_id,
                         leeway=settings.clock_leeway_seconds, max_age=settings.max_token_age_seconds)
    check_claims(body)
    # The deployment was looked up as the token named it before its signature was checked; the
    # verified token is the same text, so it names the same one.
    if body[c.DEPLOYMENT_ID] != unverified.deployment_id or not platform.deployment_known:
        raise unknown_deployment(platform.id, body[c.DEPLOYMENT_ID])
    state_expires_at = _check_state(binding.state_secret, state, platform.id, body["nonce"])
    if not bound:  # the platform's storage is asked only for a login that can still be used
        used = session.scalar(select(models.UsedNonce.id).where(
            models.UsedNonce.platform_id == platform.id, models.UsedNonce.nonce == body["nonce"]))
        if used is not None:
            raise LaunchRejected("this launch was used already (nonce replayed)", 401)
        return VerifiedLaunch(platform.id, body, bound, platform.source_id, platform.canvas,
                              tuple(storage.message_origins(platform)), state_expires_at)
    return VerifiedLaunch(platform.id, body, bound, platform.source_id, platform.canvas,
                          state_expires_at=state_expires_at)


def prepare_launch(verified: VerifiedLaunch, *, settings: LtiSettings) -> launch_record.PreparedLaunch:
    """The rows :func:`record_launches` writes, computed before its write transaction begins (so the
    transaction holds SQLite's one writer no longer than its statements take)."""
    if not verified.browser_bound:
        raise LaunchRejected("this launch does not come from the browser that began its login", 401)
    return launch_record.prepare(verified.platform_id, verified.source_id, verified.canvas, verified.body,
                                 settings, state_expires_at=verified.state_expires_at)


def record_launches(session: Session, prepared: list[launch_record.PreparedLaunch], *,
                    purge_expired: bool = True) -> list[Launch | LaunchRejected]:
    """In one write transaction, for launches that arrived together: consume each nonce (and with
    it the state, checked by :func:`verify_launch`), record the learner, open a session; return
    each launch, or the :class:`LaunchRejected` that refuses it (a refused launch writes nothing).
    With ``purge_expired``, also delete the expired used nonces and launch sessions (the caller may
    do that on some launches only: an expired row is never honoured, only kept a little longer)."""
    if purge_expired:  # find_session never honours an expired session, nor the nonce check an expired nonce
        _purge_expired(session)
    written = launch_record.write(flushed_connection(session), prepared)
    return [found if isinstance(found, LaunchRejected) else
            Launch(token=launch.token, session_id=found, role=launch.role, message_type=launch.message_type)
            for launch, found in zip(prepared, written, strict=True)]


def _purge_expired(session: Session) -> None:
    now = models.utcnow()
    session.execute(delete(models.UsedNonce).where(models.UsedNonce.expires_at < now))
    session.execute(delete(models.LaunchSession).where(models.LaunchSession.expires_at < now))


def _check_state(secret: str, state: str, platform_id: int, nonce: str) -> datetime:
    """The state's expiry, when it is usable for this launch."""
    try:
        expires = login_state.check(secret, state, platform_id, nonce)
    except login_state.BadState as exc:
        raise LaunchRejected(str(exc), 401) from None
    return datetime.fromtimestamp(expires, UTC)


def consume_nonce(session: Session, platform_id: int, nonce: str, settings: LtiSettings, *,
                  purge_expired: bool = True, state_expires_at: datetime | None = None) -> None:
    """Record the nonce as used (kept at least until ``state_expires_at``), with the statement a
    launch's write uses; a second use, on any worker, is refused by the unique key (an expired row
    not purged yet still refuses it)."""
    if purge_expired:
        session.execute(delete(models.UsedNonce).where(models.UsedNonce.expires_at < models.utcnow()))
    row = launch_record.nonce_row(platform_id, nonce, settings, state_expires_at=state_expires_at)
    if not launch_record.insert_nonce(flushed_connection(session), row):
        raise LaunchRejected("this launch was used already (nonce replayed)", 401)


def find_session(session: Session, token: str | None) -> models.LaunchSession | None:
    if not token:
        return None
    row = session.scalar(select(models.LaunchSession).where(models.LaunchSession.launch_id == digest(token)))
    if row is None or row.expires_at < models.utcnow():
        return None
    return row
