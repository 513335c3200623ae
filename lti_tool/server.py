"""Serving the web app under gunicorn (a production WSGI server)."""

from __future__ import annotations

import gc
import os
from typing import Any

from gunicorn.app.base import BaseApplication

from lti_tool.settings import Settings


def worker_count(settings: Settings) -> int:
    """``server.workers``, or when 0: 1 on SQLite, one per two cores on PostgreSQL (at least 1).

    SQLite admits one writer. Concurrent events in one process share its transactions (group
    commit), while processes take turns at the database (a lock file beside it). On the ingest
    benchmark, two processes gave no more events per second than one, and used more CPU per event.

    On PostgreSQL, too, only the events of one process share a transaction, and each process holds
    its own copy of the app. On the 2-core benchmark machine (database on the same host), one
    process took 197 events/s at 193 MB (PSS) where two took 117 events/s at 268 MB.
    """
    if settings.server.workers:
        return settings.server.workers
    if settings.effective_database_url.startswith("sqlite"):
        return 1
    return max(1, (os.cpu_count() or 1) // 2)


class GunicornServer(BaseApplication):  # type: ignore[misc]
    """gunicorn with the app factory: each worker process builds its own app after the fork."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        server = self.settings.server
        options: dict[str, Any] = {
            "bind": f"{server.host}:{server.port}",
            "workers": worker_count(self.settings),
            "threads": server.threads,
            "worker_class": "gthread",
            "accesslog": None,
            "errorlog": "-",
            "loglevel": self.settings.log_level.lower(),
            "graceful_timeout": 10,
            "timeout": 60,
            "forwarded_allow_ips": "127.0.0.1",
            # One fixed control-socket path would be shared by every server on the host.
            "control_socket_disable": True,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from lti_tool.runtime import build_runtime
        from lti_tool.web.app import create_app

        app = create_app(build_runtime(self.settings))
        freeze_startup_objects()
        return app


def freeze_startup_objects() -> None:
    """Move everything the worker made while starting (modules, the mapped classes, the plugins'
    schemas, the app) out of the cyclic garbage collector's reach. Each full collection walked all
    of it: about 100 ms during which no request thread ran, twice a minute under load, which was
    the tail of the launch and page latencies; frozen, a full collection takes about 2 ms."""
    gc.collect()
    gc.freeze()
