"""Unsubscribing from renewal reminders: a signed token per learner, and the opt-out it records.

The token is the learner's id signed (itsdangerous, HMAC-SHA256) with a secret the tool makes once
and keeps in the database like its session key, so it never appears in the configuration. It does
not expire: an unsubscribe link in an old e-mail must still work.
"""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.row_writes import insert_or_skip

SECRET_NAME = "reminders-unsubscribe"
SALT = "lti-tool reminders unsubscribe"


def _serializer(session: Session, *, create: bool) -> URLSafeSerializer | None:
    if create:
        insert_or_skip(session, models.AppSecret.__table__,
                       {"name": SECRET_NAME, "value": secrets.token_urlsafe(48)}, ["name"])
    secret = session.scalar(select(models.AppSecret.value).where(models.AppSecret.name == SECRET_NAME))
    return URLSafeSerializer(secret, salt=SALT) if secret else None


def unsubscribe_token(session: Session, learner_id: int) -> str:
    serializer = _serializer(session, create=True)
    assert serializer is not None
    return serializer.dumps(learner_id)


def learner_of(session: Session, token: str) -> int | None:
    """The learner a token was made for, or ``None`` if it is not one of the tool's."""
    serializer = _serializer(session, create=False)
    if serializer is None:
        return None
    try:
        learner_id = serializer.loads(token)
    except BadSignature:
        return None
    return learner_id if isinstance(learner_id, int) else None


def opt_out(session: Session, learner_id: int) -> None:
    insert_or_skip(session, models.ReminderOptOut.__table__,
                   {"learner_id": learner_id, "created_at": models.utcnow()}, ["learner_id"])


def opt_in(session: Session, learner_id: int) -> None:
    session.execute(delete(models.ReminderOptOut).where(models.ReminderOptOut.learner_id == learner_id))


def opted_out(session: Session, learner_id: int) -> bool:
    return session.scalar(select(models.ReminderOptOut.id).where(
        models.ReminderOptOut.learner_id == learner_id)) is not None
