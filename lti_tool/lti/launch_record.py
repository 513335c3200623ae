"""The write transaction of launches that arrived together, as few statements as it can be.

On SQLite every write takes its turn at the one writer, and while it holds the turn its thread must
win the interpreter lock back after each statement from the threads serving other requests: a
launch held the turn about four times as long as its statements took, and launches queued for it.
So everything that needs no database is computed before the transaction (:func:`prepare`: the
session token and its digest, the role, the learner's id, the rows' values), and launches that
arrive while a write runs share the next one (the web layer hands them to a
:class:`~lti_tool.services.group_commit.GroupCommit`). :func:`write` runs, for all of them, four
statements of SQL text with plain values (:mod:`lti_tool.row_inserts`): the platforms' status (read
so that no deactivation can commit before the launches do, :func:`platform_statuses`), the used
nonces, then the learners and the launch sessions of the launches whose nonce was new (these two in
one round trip on PostgreSQL, :func:`lti_tool.driver_statements.pipelined`).

What they decide for each launch is what one launch alone decided: the nonce's unique key refuses
a second use, by an earlier launch or by another in the same batch (``ON CONFLICT DO NOTHING
RETURNING``: a key not returned is refused, and its launch writes no learner and no session), the
learners are :func:`lti_tool.services.learners.record_learners`' upsert, and a launch whose platform
was deactivated (or relinked to another event source) since it was verified is refused.
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
from lti_tool.driver_statements import driver_execute, pipelined
from lti_tool.lti import claims as c
from lti_tool.lti import identity, roles
from lti_tool.lti.tokens import LaunchRejected
from lti_tool.row_inserts import bound_values, insert_statement, placeholder
from lti_tool.settings import LtiSettings

_NONCES = table_of(models.UsedNonce)
_NONCE_COLUMNS = ("platform_id", "nonce", "expires_at")
_NONCE_RETURNING = " ON CONFLICT (platform_id, nonce) DO NOTHING RETURNING platform_id, nonce"
_LEARNERS = table_of(models.Learner)
_LEARNER_COLUMNS = ("source_id", "lms_user_id", "name", "email", "created_at")
_LEARNER_SUFFIX = (" ON CONFLICT (source_id, lms_user_id) DO UPDATE SET "
                   "name = coalesce(excluded.name, learners.name), email = coalesce(excluded.email, learners.email) "
                   "RETURNING id")
_SESSIONS = table_of(models.LaunchSession)
_SESSION_RETURNING = " RETURNING id, launch_id"
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


def nonce_row(platform_id: int, nonce: str, settings: LtiSettings, now: datetime | None = None,
              state_expires_at: datetime | None = None) -> dict[str, Any]:
    """A used nonce's row, kept for :func:`nonce_kept` and at least until its state's own expiry
    (``state_expires_at``, as the state says; later than the current settings would give when
    ``state_lifetime_seconds`` was lowered since the login) and the clock leeway."""
    expires_at = (now or models.utcnow()) + nonce_kept(settings)
    if state_expires_at is not None:
        expires_at = max(expires_at, state_expires_at + timedelta(seconds=settings.clock_leeway_seconds))
    return {"platform_id": platform_id, "nonce": nonce, "expires_at": expires_at}


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
            *, now: datetime | None = None, state_expires_at: datetime | None = None) -> PreparedLaunch:
    """The rows of a verified launch (the platform as it was read when verifying; its login's state
    expiring at ``state_expires_at``); raises :class:`LaunchRejected` for a launch that names no
    usable learner."""
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
        nonce=nonce_row(platform_id, body["nonce"], settings, now, state_expires_at),
        learner=None if seen is None else {
            "source_id": seen.key.identity_id, "lms_user_id": seen.key.lms_user_id, "name": seen.name,
            "email": seen.email, "created_at": now},
        session={"launch_id": digest(token), "platform_id": platform_id, "deployment_id": body[c.DEPLOYMENT_ID],
                 "context_id": context_id, "lms_user_id": user, "role": role, "claims": body,
                 "expires_at": now + timedelta(seconds=settings.session_lifetime_seconds), "created_at": now},
    )


def _nonces_statement(dialect: Dialect, nonces: list[dict[str, Any]]) -> tuple[str, tuple[Any, ...]]:
    """Record used nonces: a row comes back for each one not used before."""
    return (insert_statement(dialect, _NONCES, _NONCE_COLUMNS, len(nonces), _NONCE_RETURNING),
            tuple(itertools.chain.from_iterable(bound_values(dialect, _NONCES, _NONCE_COLUMNS, nonces))))


def insert_nonce(connection: Connection, row: dict[str, Any]) -> bool:
    """Record a used nonce alone; ``False`` when it was used already."""
    [inserted] = pipelined(connection, [_nonces_statement(connection.dialect, [row])])
    return bool(inserted)


def platform_statuses(connection: Connection, platform_ids: list[int]) -> dict[int, tuple[str, int | None]]:
    """Each platform's status and event source, held until the write transaction ends: a platform
    deactivated (or relinked) by another transaction cannot commit between this read and the
    launches' inserts. On PostgreSQL the rows are read ``FOR SHARE`` (a deactivation's ``UPDATE``
    waits for the launches' commit; one already under way is waited for, and its outcome read); on
    SQLite the write transaction began with ``BEGIN IMMEDIATE`` (:func:`lti_tool.db.make_engine`),
    so no other writer can commit until it ends."""
    listed = ", ".join([placeholder(connection.dialect)] * len(platform_ids))
    lock = " ORDER BY id FOR SHARE" if connection.dialect.name == "postgresql" else ""
    return {row[0]: (row[1], row[2]) for row in driver_execute(
        connection, f"SELECT id, status, source_id FROM lti_platforms WHERE id IN ({listed}){lock}",
        tuple(platform_ids))}


def write(connection: Connection, prepared: list[PreparedLaunch]) -> list[int | LaunchRejected]:
    """Consume the nonces, record the learners and open the sessions of launches that arrived
    together, in the caller's one write transaction; return each launch's session id, or the
    :class:`LaunchRejected` that refuses it (its platform no longer active or linked elsewhere, its
    nonce used already, by an earlier launch or by another in the same list). A refused launch
    writes nothing: its learner and session are written only when its nonce was."""
    dialect = connection.dialect
    statuses = platform_statuses(connection, sorted({p.platform_id for p in prepared}))
    outcome: list[int | LaunchRejected | None] = []
    for launch in prepared:
        status, source_id = statuses.get(launch.platform_id, (None, None))
        if status != "active":
            outcome.append(LaunchRejected("this platform is not registered", 403))
        elif source_id != launch.source_id:
            outcome.append(LaunchRejected("the platform's registration changed during this launch; launch again", 409))
        else:
            outcome.append(None)
    candidates = [i for i, found in enumerate(outcome) if found is None]
    if not candidates:
        return [found for found in outcome if found is not None]
    nonces = [prepared[i].nonce for i in candidates]
    [inserted] = pipelined(connection, [_nonces_statement(dialect, nonces)])
    fresh = {(platform_id, nonce) for platform_id, nonce in inserted}
    accepted: list[int] = []
    for i in candidates:
        key = (prepared[i].platform_id, prepared[i].nonce["nonce"])
        if key in fresh:
            fresh.discard(key)  # a second launch with the same nonce in this list is a replay
            accepted.append(i)
        else:
            outcome[i] = LaunchRejected("this launch was used already (nonce replayed)", 401)
    if accepted:
        session_ids = _write_accepted(connection, [prepared[i] for i in accepted])
        for i, session_id in zip(accepted, session_ids, strict=True):
            outcome[i] = session_id
    return [found for found in outcome if found is not None]


def _write_accepted(connection: Connection, accepted: list[PreparedLaunch]) -> list[int]:
    """The learners (merged by key: later names and e-mails win, as in
    :func:`lti_tool.row_writes.upsert_many`; in key order) and the sessions of the accepted
    launches; each session's id, in order."""
    dialect = connection.dialect
    learners: dict[tuple[int, str], dict[str, Any]] = {}
    for launch in accepted:
        if launch.learner is not None:
            key = (launch.learner["source_id"], launch.learner["lms_user_id"])
            earlier = learners.get(key)
            learners[key] = launch.learner if earlier is None else {
                **earlier, **{c: launch.learner[c] for c in ("name", "email") if launch.learner[c] is not None}}
    sessions = [launch.session for launch in accepted]
    statements = []
    if learners:
        rows = [learners[key] for key in sorted(learners)]
        statements.append((insert_statement(dialect, _LEARNERS, _LEARNER_COLUMNS, len(rows), _LEARNER_SUFFIX),
                           tuple(itertools.chain.from_iterable(bound_values(dialect, _LEARNERS, _LEARNER_COLUMNS,
                                                                            rows)))))
    statements.append((insert_statement(dialect, _SESSIONS, _SESSION_COLUMNS, len(sessions), _SESSION_RETURNING),
                       tuple(itertools.chain.from_iterable(bound_values(dialect, _SESSIONS, _SESSION_COLUMNS,
                                                                        sessions)))))
    ids = {launch_id: session_id for session_id, launch_id in pipelined(connection, statements)[-1]}
    return [int(ids[session["launch_id"]]) for session in sessions]
