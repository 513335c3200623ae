"""An audit packet carries one learner's data: a Moodle or xAPI array naming several learners
leaves only the learner's own element in the evidence, with the digest of the whole body."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from tests.spine import import_mapping, moodle_completed


def completed(user: str, first: str, email: str) -> dict[str, Any]:
    return {**moodle_completed(user, 565), "user": {"firstname": first, "lastname": "Example", "email": email}}


def statement(name: str, account: str) -> dict[str, Any]:
    return {"actor": {"name": name, "mbox": f"mailto:{account}@example.org",
                      "account": {"homePage": "https://lrs.example", "name": account}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "https://courses.example/565"},
            "timestamp": "2026-03-04T13:38:00Z", "result": {"duration": "PT1H"}}


def packet_evidence(cli_json: Callable[..., Any], tmp_path: Path, source_id: int, user: str) -> dict[str, Any]:
    out = tmp_path / f"packet-{user}.zip"
    cli_json("audit", "packet", "--source", str(source_id), "--user", user, "--credential", "iacet-ceu",
             "-o", str(out))
    with zipfile.ZipFile(out) as archive:
        [name] = [n for n in archive.namelist() if n.startswith("evidence/")]
        return dict(json.loads(archive.read(name)))


def test_a_moodle_array_leaves_only_the_learners_own_event_in_their_packet(
    client: FlaskClient, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    import_mapping(cli_json, tmp_path, source="moodle-prod", course="565", minutes=60, credentials=["iacet-ceu"])
    body = json.dumps([completed("7", "Ada", "ada@example.org"),
                       completed("8", "Grace", "grace@example.org")]).encode()
    assert client.post(source["url"], data=body, headers={"Content-Type": "application/json"}).status_code == 200
    evidence = packet_evidence(cli_json, tmp_path, source["id"], "7")
    text = json.dumps(evidence)
    assert "Grace" not in text and "grace@example.org" not in text
    assert "ada@example.org" in text
    assert evidence["lms_event"]["sha256"] == hashlib.sha256(body).hexdigest()
    assert evidence["lms_event"]["elements"] == 2 and len(evidence["lms_event"]["body"]) == 1


def test_an_xapi_array_leaves_only_the_learners_own_statement_in_their_packet(
    client: FlaskClient, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    source = cli_json("sources", "add", "--kind", "xapi", "--name", "lrs")
    import_mapping(cli_json, tmp_path, source="lrs", course="https://courses.example/565", minutes=60,
                   credentials=["iacet-ceu"])
    body = json.dumps([statement("Ada Example", "ada"), statement("Grace Example", "grace")]).encode()
    auth = base64.b64encode(f"lrs:{source['secret']}".encode()).decode()
    answer = client.post(source["url"], data=body, headers={"Content-Type": "application/json",
                                                           "Authorization": f"Basic {auth}"})
    assert answer.status_code == 200, answer.json
    evidence = packet_evidence(cli_json, tmp_path, source["id"], "ada")
    text = json.dumps(evidence)
    assert "Grace" not in text and "grace@example.org" not in text and "Ada Example" in text
    assert evidence["lms_event"]["sha256"] == hashlib.sha256(body).hexdigest()
