"""What a process needs to do its work, built once at start-up: settings, database, plugins."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lti_tool import outbound
from lti_tool.credits.registry import Rulebook, load_rulebook
from lti_tool.db import make_engine, session_factory
from lti_tool.exports.config import Exports, build_exports, rule_defaults
from lti_tool.exports.discovery import discover
from lti_tool.jwks import JwksCache
from lti_tool.services.badge_signer import BadgeSigner, bind_signers
from lti_tool.services.completions import Outcome
from lti_tool.services.group_commit import GroupCommit
from lti_tool.services.ingestion import Submission, record_events
from lti_tool.services.sources import SourceCache
from lti_tool.settings import Settings, load_settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    rulebook: Rulebook
    jwks: JwksCache
    exports: Exports
    """Export bindings of config/exports.toml with the discovered exporters and destinations."""
    sources: SourceCache
    """Event sources by URL token, looked up once a minute rather than once an event."""
    ingest: GroupCommit[Submission, Outcome]
    """Where event requests hand their work: concurrent events share one transaction."""


def build_runtime(settings: Settings | None = None) -> Runtime:
    """Read settings, open the database and discover the provider, exporter and destination
    plugins (once, here)."""
    settings = settings or load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    outbound.configure(outbound.Policy(allow_private=settings.outbound.allow_private_addresses))
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
    # Every request thread may hold a connection at once (and a batch's leader one more): a pool
    # that kept fewer closed the extra ones on their return and opened them again on the next
    # request, a new PostgreSQL backend each time (3% of the server's profile under 8 browsers).
    # Last in, first out: the connection used a moment ago is used again, so its statements stay
    # prepared (psycopg prepares a statement after five runs on a connection) and it is not
    # pinged; the rest wait in the pool.
    engine = make_engine(url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                         pool_size=settings.server.threads + 2, pool_use_lifo=True)
    rules_file = settings.credit_rules_file
    rulebook = load_rulebook(rules_file if rules_file.exists() else None, settings.zone)
    jwks = JwksCache(
        timeout=settings.events.jwks_timeout_seconds,
        min_refetch_interval=settings.events.jwks_refetch_interval_seconds,
    )
    exports = build_exports(settings.exports_file, discover(), settings.instance_dir,
                            rule_defaults(rulebook))
    sessions = session_factory(engine)
    bind_signers(exports, BadgeSigner(sessions, settings))
    ingest = GroupCommit(functools.partial(record_events, sessions, rulebook))
    return Runtime(settings, engine, sessions, rulebook, jwks, exports, SourceCache(sessions), ingest)


EXTENSION = "lti_tool"
"""The key under which :func:`lti_tool.web.app.create_app` keeps the runtime in ``app.extensions``."""


def install_runtime(app: Flask, runtime: Runtime) -> None:
    """Keep ``runtime`` with ``app`` (:func:`lti_tool.web.app.create_app` does, once)."""
    app.extensions[EXTENSION] = runtime


def runtime_of(app: Flask) -> Runtime:
    """The runtime kept with ``app``: the one reader of ``app.extensions`` for it."""
    runtime: Runtime = app.extensions[EXTENSION]
    return runtime


def current_runtime() -> Runtime:
    """The runtime of the app serving the current request (a leaf accessor: blueprints import it
    without importing the app factory)."""
    return runtime_of(current_app)
