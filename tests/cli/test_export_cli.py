"""``lti-tool export status|retry|consent`` and ``lti-tool audit packet``: their JSON contracts."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result
from sqlalchemy import select

from lti_tool import models
from lti_tool.runtime import Runtime
from tests.conftest import REPO, require
from tests.exports.ledger_rows import credit
from tests.exports.samples import unreachable_mail


def own_config(cli_env: dict[str, str], tmp_path: Path, exports_toml: str) -> None:
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    (config / "exports.toml").write_text(exports_toml)
    cli_env["LTI_TOOL_CONFIG_DIR"] = str(config)
    cli_env["LTI_TOOL_EXPORTS_PATH"] = str(config / "exports.toml")


def test_status_counts_claims_per_destination(runtime: Runtime, cli_json: Callable[..., Any]) -> None:
    credit(runtime.sessions, "123", "565")
    credit(runtime.sessions, "42", "7", credential="aama-cma")
    assert cli_json("export", "status")["destinations"]["directory"]["pending"] == 2
    assert len(cli_json("export", "run")["delivered"]) == 2
    status = cli_json("export", "status")
    assert status["destinations"]["directory"] == {"pending": 0, "waiting": 0, "delivered": 2, "failed": 0,
                                                   "dead": 0, "overdue": 0}


def test_a_dead_batch_is_listed_and_retried_by_hand(
    runtime: Runtime, cli: Callable[..., Result], cli_json: Callable[..., Any], cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    own_config(cli_env, tmp_path, f"""
[delivery]
max_attempts = 1
[defaults]
destination = "mail"
{unreachable_mail()}
""")
    credit(runtime.sessions, "123", "565", number="CMSS-1")
    failed = json.loads(cli("export", "run", "--json", expect=1).output)
    assert failed["failed"][0]["dead"] is True
    [dead] = cli_json("export", "status")["dead_batches"]
    assert "SMTP 127.0.0.1" in dead["last_error"]
    assert cli_json("export", "retry", str(dead["batch"]))["status"] == "pending"
    assert "only dead or failed" in cli("export", "retry", str(dead["batch"]), expect=2).output
    assert "no export batch" in cli("export", "retry", "999", expect=2).output


def test_consent_lets_waiting_claims_go(
    runtime: Runtime, cli_json: Callable[..., Any], cli_env: dict[str, str], tmp_path: Path
) -> None:
    own_config(cli_env, tmp_path, '[credentials.acmss-cmss]\nrequires = ["consent"]\n')
    credit(runtime.sessions, "123", "565")
    assert cli_json("export", "run")["delivered"] == []
    assert cli_json("export", "status")["destinations"]["directory"]["waiting"] == 1
    with runtime.sessions() as session:
        source_id = session.scalar(select(models.Source.id))
    given = cli_json("export", "consent", "--source", str(source_id), "--user", "123",
                     "--credential", "acmss-cmss")
    assert given == {"credential": "acmss-cmss", "consent": True, "missing": []}
    assert len(cli_json("export", "run")["delivered"]) == 1


def test_an_invalid_exports_file_stops_the_command_naming_file_and_key(
    cli: Callable[..., Result], cli_env: dict[str, str], tmp_path: Path
) -> None:
    own_config(cli_env, tmp_path, '[credentials.acmss-cmss]\nexporter = "fax"\n')
    output = cli("export", "status", expect=2).output
    assert "exports.toml" in output and "credentials.acmss-cmss.exporter" in output


def test_audit_packet_holds_statement_certificates_and_evidence(
    runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    first = credit(runtime.sessions, "123", "565", number="CMSS-4711", minutes=90, amount="1.5",
                   body={"event": "course_completed", "course": "565"})
    credit(runtime.sessions, "123", "566", number=None)
    with runtime.sessions() as session:
        source_id = session.scalar(select(models.Source.id))
    out = tmp_path / "packet.zip"
    result = cli_json("audit", "packet", "--source", str(source_id), "--user", "123", "--credential",
                      "acmss-cmss", "--cycle", "2026-01-01", "-o", str(out))
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert names == result["files"]
        assert {"README.txt", "statement.pdf", "statement.csv", f"evidence/award-{first}.json"} <= set(names)
        assert len([n for n in names if n.startswith("certificates/")]) == 2
        evidence = json.loads(archive.read(f"evidence/award-{first}.json"))
        statement = archive.read("statement.pdf")
    assert "course_completed" in evidence["lms_event"]["body"]
    assert evidence["award"]["rule_version"] == "acmss-cmss/1" and evidence["award"]["minutes"] == 90
    assert evidence["award"]["activity"]["minutes"] == 90 and evidence["award"]["settings"] == {"step": "0.5"}
    require("pdf", shutil.which("pdftotext") is not None, "poppler-utils is not installed")
    (tmp_path / "s.pdf").write_bytes(statement)
    text = subprocess.run(["pdftotext", str(tmp_path / "s.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "CMSS-4711" in text and "course 565" in text and "course 566" in text


def test_audit_packet_for_an_unknown_learner_is_a_usage_error(cli: Callable[..., Result], tmp_path: Path) -> None:
    result = cli("audit", "packet", "--source", "1", "--user", "nobody", "--credential", "acmss-cmss",
                 "-o", str(tmp_path / "x.zip"), expect=2)
    assert "no learner" in result.output


def test_status_json_shows_every_count_per_destination_and_the_last_runs_with_their_errors(
    runtime: Runtime, cli: Callable[..., Result], cli_json: Callable[..., Any], cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    own_config(cli_env, tmp_path, f"""
[defaults]
requires = []
[credentials.aama-cma]
destination = "mail"
{unreachable_mail()}
""")
    credit(runtime.sessions, "123", "565")
    credit(runtime.sessions, "42", "7", credential="aama-cma")
    cli("export", "run", "--json", expect=1)
    status = cli_json("export", "status")
    assert status["destinations"] == {
        "directory": {"pending": 0, "waiting": 0, "delivered": 1, "failed": 0, "dead": 0, "overdue": 0},
        "mail": {"pending": 0, "waiting": 0, "delivered": 0, "failed": 1, "dead": 0, "overdue": 0}}
    runs = {r["destination"]: r for r in status["last_runs"]}
    assert runs["directory"]["outcome"] == "delivered" and runs["directory"]["error"] is None
    assert runs["mail"]["outcome"] == "failed" and "SMTP 127.0.0.1" in runs["mail"]["error"]
    assert runs["mail"]["retry_at"] is not None


def test_audit_packet_covers_the_cycle_that_starts_on_the_given_day(
    runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    inside = credit(runtime.sessions, "123", "1", completed_at=datetime(2026, 12, 31, 12, tzinfo=UTC))
    after = credit(runtime.sessions, "123", "2", completed_at=datetime(2027, 1, 1, 12, tzinfo=UTC))
    before = credit(runtime.sessions, "123", "3", completed_at=datetime(2025, 12, 31, 12, tzinfo=UTC))
    with runtime.sessions() as session:
        source_id = session.scalar(select(models.Source.id))
    out = tmp_path / "packet.zip"
    files = cli_json("audit", "packet", "--source", str(source_id), "--user", "123", "--credential",
                     "acmss-cmss", "--cycle", "2026-01-01", "-o", str(out))["files"]  # ACMSS: one year
    evidence = {n for n in files if n.startswith("evidence/")}
    assert evidence == {f"evidence/award-{inside}.json"}, (after, before)
    with zipfile.ZipFile(out) as archive:
        assert "Cycle: from 2026-01-01 to 2026-12-31; 1 claim(s)." in archive.read("README.txt").decode()


def test_audit_packet_bad_input_is_a_usage_error_not_a_traceback(
    runtime: Runtime, cli: Callable[..., Result], tmp_path: Path
) -> None:
    credit(runtime.sessions, "123", "565")
    with runtime.sessions() as session:
        source_id = str(session.scalar(select(models.Source.id)))
    base = ["audit", "packet", "--source", source_id, "--user", "123"]
    unknown = cli(*base, "--credential", "acmss-cms", "-o", str(tmp_path / "x.zip"), expect=2)
    assert "unknown credential 'acmss-cms'" in unknown.output
    unwritable = cli(*base, "--credential", "acmss-cmss", "-o", str(tmp_path / "no" / "dir" / "x.zip"), expect=2)
    assert "cannot write" in unwritable.output
    bad_date = cli(*base, "--credential", "acmss-cmss", "--cycle", "2026-13-01", "-o", str(tmp_path / "x.zip"),
                   expect=2)
    assert "--cycle" in bad_date.output
    consent = cli("export", "consent", "--source", source_id, "--user", "123", "--credential", "nope", expect=2)
    assert "unknown credential 'nope'" in consent.output


def test_audit_packet_through_a_source_that_shares_another_sources_identities(
    runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path
) -> None:
    credit(runtime.sessions, "123", "565", number="CMSS-1")
    with runtime.sessions() as session:
        primary = session.scalar(select(models.Source.name))
    feed = cli_json("sources", "add", "--kind", "xapi", "--name", "lrs", "--same-identities-as", primary)
    out = tmp_path / "packet.zip"
    result = cli_json("audit", "packet", "--source", str(feed["id"]), "--user", "123", "--credential",
                      "acmss-cmss", "-o", str(out))
    assert any(name.startswith("evidence/award-") for name in result["files"])
