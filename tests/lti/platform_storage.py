"""The test platform's side of the 1EdTech LTI client-side postMessage storage: a course page that
frames the tool beside a named storage frame, and that frame, which answers ``lti.capabilities``,
``lti.put_data`` and ``lti.get_data`` for the tool's origin only (in memory, per browser page)."""

from __future__ import annotations

import html
import json

STORAGE_FRAME = "lti-storage"

_ANSWER = """
function answer(event, reply) {
  reply.message_id = event.data.message_id;
  reply.subject = event.data.subject + ".response";
  event.source.postMessage(reply, event.origin);
}
"""


def course_page(start_url: str, tool_origin: str) -> str:
    """The LMS's course page: the storage frame and the tool's iframe; it answers lti.capabilities."""
    capabilities = {"supported_messages": [{"subject": "lti.put_data", "frame": STORAGE_FRAME},
                                           {"subject": "lti.get_data", "frame": STORAGE_FRAME}]}
    return (f'<!doctype html><title>Course</title><iframe name="{STORAGE_FRAME}" src="/storage-frame"'
            ' title="platform storage" hidden></iframe>'
            f'<iframe id="tool" title="tool" src="{html.escape(start_url)}" width="900" height="700"></iframe>'
            f"<script>{_ANSWER}"
            'window.addEventListener("message", function (event) {'
            f'  if (event.origin !== {json.dumps(tool_origin)} || !event.data) return;'
            f'  if (event.data.subject === "lti.capabilities") answer(event, {json.dumps(capabilities)});'
            "});</script>")


def storage_frame(tool_origin: str) -> str:
    """The platform's storage frame: data kept per tool origin, answered only to that origin."""
    return ("<!doctype html><title>storage</title><script>"
            f"{_ANSWER}var data = {{}}; window.ltiStorageWrites = 0;"
            'window.addEventListener("message", function (event) {'
            f'  if (event.origin !== {json.dumps(tool_origin)} || !event.data) return;'
            "  var m = event.data, key = event.origin + ' ' + m.key;"
            '  if (m.subject === "lti.put_data") { data[key] = m.value; window.ltiStorageWrites += 1;'
            "    answer(event, {key: m.key, value: m.value}); }"
            '  else if (m.subject === "lti.get_data") {'
            "    answer(event, {key: m.key, value: key in data ? data[key] : null}); }"
            "});</script>")
