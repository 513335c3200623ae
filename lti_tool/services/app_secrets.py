"""Secrets the tool makes for itself once and keeps in the database, so every worker on every host
shares them (the session cookie's signing key)."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.row_writes import insert_or_skip


def shared_secret(session: Session, name: str) -> str:
    """The secret called ``name``, made now if no worker made it before (the unique name decides
    which of two racing workers' values is kept)."""
    insert_or_skip(session, models.AppSecret.__table__, {"name": name, "value": secrets.token_urlsafe(48)}, ["name"])
    value = session.scalar(select(models.AppSecret.value).where(models.AppSecret.name == name))
    assert value is not None  # inserted above, or by whoever won the race
    return value
