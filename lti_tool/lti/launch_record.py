"""A verified launch's one write transaction, as few statements as it can be.

On SQLite every launch takes its turn at the one writer, and while it holds the turn its thread must
win the interpreter lock back after each statement from the threads serving other requests: the
turn was held about four times as long as its statements took, and launches queued for it. So
everything that needs no database is computed before the transaction (:func:`prepare`: the session
token and its digest, the role, the learner's id, the rows' values), and the transaction runs four
statements as SQL text with plain values (:mod:`lti_tool.row_inserts`): the platform's status, then
the used nonce, the learner and the launch session, the three sent together on PostgreSQL
(:func:`lti_tool.row_inserts.pipelined`, one round trip instead of three).

What they decide is unchanged: the nonce's unique key refuses a second use
(``ON CONFLICT DO NOTHING RETURNING``: no row back, the launch is refused and the transaction rolled
back, so nothing of it stays), the learner is :func:`lti_tool.services.learners.record_learners`'
upsert, and a platform deactivated (or relinked to another event source) since the launch was
verified refuses it.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

from lti_tool import models, text
from lti_tool.db import table_of
from lti_tool.lti import claims as c
from lti_tool.lti import identity, roles
from lti_tool.lti.tokens import LaunchRejected
from lti_tool.row_inserts import bound_values, insert_statement, pipelined, placeholder
from lti_tool.settings import LtiSettings

_NONCES = table_of(models.UsedNonce)
_NONCE_COLUMNS = ("platform_id", "nonce", "expires_at")
_NONCE_SUFFIX = " ON CONFLICT (platform_id, nonce) DO NOTHING RETURNING id"
_LEARNERS = table_of(models.Learner)
_LEARNER_COLUMNS = ("source_id", "lms_user_id", "name", "email", "created_at")
_LEARNER_SUFFIX = (" ON CONFLICT (source_id, lms_user_id) DO UPDATE SET "
                   "name = coalesce(excluded.name, learners.name), email = coalesce(excluded.email, learners.email) "
                   "RETURNING id")
_SESSIONS = table_of(models.LaunchSession)
_SESSION_COLUMNS = ("launch_id", "platform_id", "deployment_id", "context_id", "lms_user_id", "role", "claims",
                    "expires_at", "created_at")


def digest(token: str) -> str:
    """What is stored of a launch session's bearer id."""
    return hashlib.sha256(token.encode()).hexdigest()


def nonce_kept(settings: LtiSettings) -> timedelta:
    """How long a used nonce is kept: as long as the id_token could still be accepted, and as long
    as the login's state could (the used nonce is what makes a state single-use,
    :mod:`lti_tool.lti.login_state`)."""
    return timedelta(seconds=max(settings.max_token_age_seconds + 2 * settings.clock_leeway_seconds,
                                 settings.state_lifetime_seconds + settings.clock_leeway_seconds))


def nonce_row(platform_id: int, nonce: str, settings: LtiSettings, now: datetime | None = None) -> dict[str, Any]:
    return {"platform_id": platform_id, "nonce": nonce, "expires_at": (now or models.utcnow()) + nonce_kept(settings)}


@dataclass(frozen=True)
class PreparedLaunch:
    """A verified launch's rows, ready to be written."""

    platform_id: int
    source_id: int | None
    """The event source the platform was linked to when the launch was verified."""
    token: str
    """The launch session's bearer id, handed to the browser (only its digest is stored)."""
    role: roles.Role
    message_type: str
    nonce: dict[str, Any]
    learner: dict[str, Any] | None
    session: dict[str, Any]


def prepare(platform_id: int, source_id: int | None, canvas: bool, body: dict[str, Any], settings: LtiSettings,
            *, now: datetime | None = None) -> PreparedLaunch:
    """The rows of a verified launch (the platform as it was read when verifying); raises
    :class:`LaunchRejected` for a launch that names no usable learner."""
    now = now or models.utcnow()
    context = body.get(c.CONTEXT) or {}
    context_id = context.get("id")
    role = roles.classify(body[c.ROLES], has_context=bool(context_id))
    user = identity.lms_user_id_of(body, canvas=canvas)
    try:
        text.checked(user, "the learner's id", 255)
    except text.BadText as exc:
        raise LaunchRejected(f"the launch is malformed: {exc}") from None
    seen = identity.seen_learner(source_id, user, body)
    token = secrets.token_urlsafe(32)
    return PreparedLaunch(
        platform_id=platform_id, source_id=source_id, token=token, role=role, message_type=body[c.MESSAGE_TYPE],
        nonce=nonce_row(platform_id, body["nonce"], settings, now),
        learner=None if seen is None else {
            "source_id": seen.key.identity_id, "lms_user_id": seen.key.lms_user_id, "name": seen.name,
            "email": seen.email, "created_at": now},
        session={"launch_id": digest(token), "platform_id": platform_id, "deployment_id": body[c.DEPLOYMENT_ID],
                 "context_id": context_id, "lms_user_id": user, "role": role, "claims": body,
                 "expires_at": now + timedelta(seconds=settings.session_lifetime_seconds), "created_at": now},
    )


def _insert(dialect: Dialect, table: Any, columns: tuple[str, ...], row: dict[str, Any],
            suffix: str) -> tuple[str, tuple[Any, ...]]:
    return (insert_statement(dialect, table, columns, 1, suffix),
            tuple(itertools.chain.from_iterable(bound_values(dialect, table, columns, [row]))))


def insert_nonce(connection: Connection, row: dict[str, Any]) -> bool:
    """Record a used nonce alone; ``False`` when it was used already."""
    [inserted] = pipelined(connection, [_insert(connection.dialect, _NONCES, _NONCE_COLUMNS, row, _NONCE_SUFFIX)])
    return bool(inserted)


def write(connection: Connection, prepared: PreparedLaunch) -> int:
    """Consume the nonce, record the learner and open the session, in the caller's write
    transaction; return the session's id. Raises :class:`LaunchRejected` (the caller's transaction
    then rolls back) for a platform no longer active or linked elsewhere, or a nonce used already."""
    dialect = connection.dialect
    mark = placeholder(dialect)
    status = connection.exec_driver_sql(
        f"SELECT status, source_id FROM lti_platforms WHERE id = {mark}", (prepared.platform_id,)).fetchall()
    if not status or status[0][0] != "active":
        raise LaunchRejected("this platform is not registered", 403)
    if status[0][1] != prepared.source_id:
        raise LaunchRejected("the platform's registration changed during this launch; launch again", 409)
    statements = [_insert(dialect, _NONCES, _NONCE_COLUMNS, prepared.nonce, _NONCE_SUFFIX)]
    if prepared.learner is not None:
        statements.append(_insert(dialect, _LEARNERS, _LEARNER_COLUMNS, prepared.learner, _LEARNER_SUFFIX))
    statements.append(_insert(dialect, _SESSIONS, _SESSION_COLUMNS, prepared.session, " RETURNING id"))
    results = pipelined(connection, statements)
    if not results[0]:
        raise LaunchRejected("this launch was used already (nonce replayed)", 401)
    return int(results[-1][0][0])
