"""An xAPI LRS: ``GET statements?verb=…completed&since=…`` with the source's key and secret (HTTP
Basic), following ``more`` links. Statements become completions as pushed ones do
(:mod:`lti_tool.events.xapi`), so either way the same completion is the same row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from lti_tool.events.completion import BadEvent, Completion
from lti_tool.events.wire import as_utc
from lti_tool.events.xapi import COMPLETED_VERBS, parse_xapi
from lti_tool.pull.found import Found, Page
from lti_tool.pull.http import LmsHttp, PullError
from lti_tool.pull.secrets import require_secret

log = logging.getLogger(__name__)

VERSION = "1.0.3"
PAGE_SIZE = 500


class LrsClient:
    per_course = False

    def __init__(self, http: LmsHttp, api_url: str, auth: dict[str, Any]) -> None:
        self.http, self.auth = http, auth
        self.endpoint = api_url.rstrip("/") + "/"

    def pull(self, course_id: str | None, *, known: Mapping[str, datetime], since: datetime | None) -> Iterator[Page]:
        key, _, secret = require_secret(self.auth, "token").partition(":")
        for verb in sorted(COMPLETED_VERBS):
            first: dict[str, Any] = {"verb": verb, "limit": PAGE_SIZE, "ascending": "true"}
            if since is not None:
                first["since"] = since.isoformat().replace("+00:00", "Z")
            params: dict[str, Any] | None = first
            url: str | None = urljoin(self.endpoint, "statements")
            while url:
                answer = self.http.request("GET", url, token=key, params=params, auth=(key, secret),
                                           headers={"X-Experience-API-Version": VERSION})
                if answer.status in (401, 403):
                    raise PullError(f"the LRS refused the key (HTTP {answer.status})", scope="source")
                if answer.status != 200:
                    raise PullError(f"the LRS answered HTTP {answer.status}", scope="source")
                result = answer.json()
                if not isinstance(result, dict) or not isinstance(result.get("statements"), list):
                    raise PullError("the LRS answer is not a StatementResult")
                yield self._page(result["statements"])
                more = result.get("more")
                url, params = (urljoin(self.endpoint, more), None) if more else (None, None)

    def _page(self, statements: list[Any]) -> Page:
        page = Page(users_checked=len(statements))
        for statement in statements:
            try:
                [item] = parse_xapi(_json(statement))
            except (BadEvent, ValueError) as exc:
                log.warning("an LRS statement was skipped: %s", exc)
                continue
            stored = statement.get("stored") if isinstance(statement, dict) else None
            if stored:
                try:
                    when = as_utc(stored, "stored")
                    page.watermark = max(page.watermark, when) if page.watermark else when
                except BadEvent:
                    pass
            if isinstance(item, Completion):
                page.found.append(Found(item, statement))
        return page


def _json(statement: Any) -> bytes:
    return json.dumps(statement).encode()
