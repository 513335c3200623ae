"""Test helpers for the spine: register sources and mappings through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lms"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads(fixture_bytes(name))


def mapping_toml(**fields: Any) -> str:
    lines = ["[[mapping]]"]
    for key, value in fields.items():
        lines.append(f"{key} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def import_mapping(cli_json: Callable[..., Any], tmp_path: Path, **fields: Any) -> Any:
    path = tmp_path / f"mapping-{len(list(tmp_path.glob('mapping-*')))}.toml"
    path.write_text(mapping_toml(**fields))
    return cli_json("mappings", "import", str(path))


def moodle_completed(user: Any, course: Any, *, other: Any = None, time: Any = 1700000000) -> dict[str, Any]:
    return {
        "eventname": "\\core\\event\\course_completed",
        "component": "core",
        "action": "completed",
        "target": "course",
        "objecttable": "course_completions",
        "objectid": 12,
        "crud": "u",
        "edulevel": 2,
        "contextid": 30,
        "contextlevel": 50,
        "contextinstanceid": course,
        "userid": user,
        "courseid": course,
        "relateduserid": user,
        "anonymous": 0,
        "other": other,
        "timecreated": time,
        "host": "moodle.example",
        "token": "",
        "extra": "",
    }
