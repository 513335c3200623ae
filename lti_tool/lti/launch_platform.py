"""The registration a login or a launch names, read with one statement.

A login and a launch each need the active platform of an issuer and client id, whether it knows the
deployment, and whether its linked event source is a Canvas one. Through the ORM that was three
statements a request, each built, compiled and turned into entities anew: about a millisecond of
the server's CPU per request, an eighth of a launch's. Here it is one statement of SQL text, read as
plain values (:class:`LaunchPlatform`). What it decides is
:func:`lti_tool.lti.platforms.find_platform`'s, :func:`~lti_tool.lti.platforms.has_deployment`'s and
:func:`lti_tool.lti.identity.is_canvas`'s, and it is read in the request's own transaction, never
remembered: a platform deactivated or a deployment removed refuses the next login at once. An
issuer, client id or deployment id longer than its column is refused (400) before the statement is
sent: no registration could have it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Column, String
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.db import table_of
from lti_tool.lti.tokens import LaunchRejected
from lti_tool.row_inserts import placeholder


def _length(column: Column[str]) -> int:
    length = cast(String, column.type).length
    assert length is not None
    return length


NAME_LIMITS = {"issuer": _length(table_of(models.Platform).c.issuer),
               "client id": _length(table_of(models.Platform).c.client_id),
               "deployment id": _length(table_of(models.Deployment).c.deployment_id)}
"""The longest issuer, client id and deployment id a registration can have (their columns)."""


@dataclass(frozen=True)
class LaunchPlatform:
    """What a login and a launch read of their platform (an active one)."""

    id: int
    issuer: str
    client_id: str
    auth_login_url: str
    key_set_url: str
    source_id: int | None
    """The event source whose learner ids the launches share (already an identity source)."""
    canvas: bool
    """Its launches name people and courses by Canvas's ids (:func:`lti_tool.lti.identity.is_canvas`)."""
    deployment_known: bool
    """The deployment asked about is registered for this platform."""


_SELECT = (
    "SELECT p.id, p.issuer, p.client_id, p.auth_login_url, p.key_set_url, p.source_id, s.kind, "
    "EXISTS (SELECT 1 FROM lti_deployments d WHERE d.platform_id = p.id AND d.deployment_id = {mark}) "
    "FROM lti_platforms p LEFT JOIN sources s ON s.id = p.source_id "
    "WHERE p.issuer = {mark} AND p.status = 'active'"
)


@functools.lru_cache(maxsize=8)
def _statement(paramstyle_mark: str, by_client_id: bool) -> str:
    query = _SELECT.format(mark=paramstyle_mark)
    return query + f" AND p.client_id = {paramstyle_mark}" if by_client_id else query + " LIMIT 2"


def find(session: Session, issuer: str, client_id: str | None, deployment_id: str | None) -> LaunchPlatform | None:
    """The active platform for (issuer, client_id) (with no client id, the issuer's only one), and
    whether ``deployment_id`` is one of its deployments (``False`` when it is ``None``). A name
    longer than its column raises :class:`LaunchRejected` (400) before anything is asked."""
    for name, value in (("issuer", issuer), ("client id", client_id), ("deployment id", deployment_id)):
        if value is not None and len(value) > NAME_LIMITS[name]:
            raise LaunchRejected(f"the request is malformed: its {name} is longer than {NAME_LIMITS[name]} characters")
    connection = session.connection()
    statement = _statement(placeholder(connection.dialect), bool(client_id))
    params = (deployment_id or "", issuer, client_id) if client_id else (deployment_id or "", issuer)
    rows = connection.exec_driver_sql(statement, params).fetchall()
    if len(rows) != 1:
        return None
    id_, issuer_, client_id_, auth_login_url, key_set_url, source_id, kind, known = rows[0]
    return LaunchPlatform(id=id_, issuer=issuer_, client_id=client_id_, auth_login_url=auth_login_url,
                          key_set_url=key_set_url, source_id=source_id, canvas=kind == "canvas",
                          deployment_known=bool(known) and deployment_id is not None)
