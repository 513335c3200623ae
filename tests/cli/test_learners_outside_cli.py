"""``lti-tool learners outside``: credit earned outside the LMS, converted by the plugin, counted as
self-reported until verified, and never an award, ledger entry or outbox claim of the tool's."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select

from lti_tool import models
from lti_tool.runtime import Runtime
from lti_tool.services.certificate_files import FOLDER, MAX_BYTES

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def who(cli_json: Callable[..., Any]) -> list[str]:
    source = cli_json("sources", "add", "--kind", "moodle", "--name", "moodle-prod")
    args = ["--source", str(source["id"]), "--user", "42"]
    cli_json("learners", "credential", "add", *args, "--credential", "amt-rma", "--certified-on", "2024-01-01")
    return args


def add(cli_json: Callable[..., Any], who: list[str], *extra: str, title: str = "Coding update") -> Any:
    return cli_json("learners", "outside", "add", *who, "--credential", "amt-rma", "--title", title,
                    "--provider", "State society", "--date", "2025-04-02", *extra)


def amt(cli_json: Callable[..., Any], who: list[str]) -> Any:
    [progress] = cli_json("learners", "progress", *who, "--on", "2025-12-01")
    return progress


def count(runtime: Runtime, model: Any) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_plugin_converts_it_and_it_is_self_reported(cli_json: Callable[..., Any], who: list[str]) -> None:
    recorded = add(cli_json, who, "--minutes", "135")
    assert (recorded["amount"], recorded["unit"], recorded["status"]) == ("2.25", "CCP points", "self-reported")


def test_hours_are_contact_hours(cli_json: Callable[..., Any], who: list[str]) -> None:
    assert add(cli_json, who, "--hours", "1.5")["minutes"] == 90


def test_it_counts_toward_progress_shown_as_self_reported(cli_json: Callable[..., Any], who: list[str]) -> None:
    add(cli_json, who, "--minutes", "180")
    progress = amt(cli_json, who)
    assert (progress["earned"], progress["self_reported"]) == ("3", "3")


def test_verified_it_still_counts_and_is_no_longer_self_reported(
        cli_json: Callable[..., Any], who: list[str]) -> None:
    recorded = add(cli_json, who, "--minutes", "180")
    assert cli_json("learners", "outside", "verify", str(recorded["id"]))["status"] == "verified"
    progress = amt(cli_json, who)
    assert (progress["earned"], progress["self_reported"]) == ("3", "0")


def test_rejected_it_no_longer_counts(cli_json: Callable[..., Any], who: list[str]) -> None:
    recorded = add(cli_json, who, "--minutes", "180")
    rejected = cli_json("learners", "outside", "reject", str(recorded["id"]), "--reason", "no certificate")
    assert (rejected["status"], rejected["status_reason"]) == ("rejected", "no certificate")
    assert amt(cli_json, who)["earned"] == "0"


def test_it_is_never_an_award_ledger_entry_or_claim(
        cli_json: Callable[..., Any], who: list[str], runtime: Runtime) -> None:
    recorded = add(cli_json, who, "--minutes", "180")
    cli_json("learners", "outside", "verify", str(recorded["id"]))
    assert (count(runtime, models.Award), count(runtime, models.LedgerEntry), count(runtime, models.OutboxClaim)) \
        == (0, 0, 0)


def test_recording_the_same_activity_twice_adds_nothing(cli_json: Callable[..., Any], who: list[str]) -> None:
    first, again = add(cli_json, who, "--minutes", "180"), add(cli_json, who, "--minutes", "180")
    assert (again["id"], again["new"]) == (first["id"], False)
    assert amt(cli_json, who)["earned"] == "3"


def test_a_refusal_by_the_plugin_records_nothing(cli: Callable[..., Result], who: list[str],
                                                 runtime: Runtime) -> None:
    result = cli("learners", "outside", "add", *who, "--credential", "amt-rma", "--title", "Staff meeting",
                 "--provider", "Clinic", "--date", "2025-04-02", "--minutes", "60", "--activity",
                 "business_meeting", expect=2)
    assert "business meetings" in result.output
    assert count(runtime, models.OutsideCredit) == 0


@pytest.mark.parametrize("on", ["2999-04-02", "1900-04-02"])
def test_an_activity_dated_in_the_future_or_long_ago_is_refused(cli: Callable[..., Result], who: list[str],
                                                                 runtime: Runtime, on: str) -> None:
    """Credit dated 2999 would count toward a cycle that has not come."""
    result = cli("learners", "outside", "add", *who, "--credential", "amt-rma", "--title", "Coding update",
                 "--provider", "State society", "--date", on, "--minutes", "60", expect=2)
    assert "not between 1950-01-01 and today" in result.output
    assert count(runtime, models.OutsideCredit) == 0


def test_minutes_or_hours_but_not_both(cli: Callable[..., Result], who: list[str]) -> None:
    cli("learners", "outside", "add", *who, "--credential", "amt-rma", "--title", "T", "--provider", "P",
        "--date", "2025-04-02", "--minutes", "60", "--hours", "1", expect=2)


def test_a_pdf_certificate_is_stored_outside_the_web_root(
        cli_json: Callable[..., Any], who: list[str], tmp_path: Path, runtime: Runtime) -> None:
    certificate = tmp_path / "cert.bin"
    certificate.write_bytes(PDF)
    recorded = add(cli_json, who, "--minutes", "60", "--certificate", str(certificate))
    assert recorded["certificate"] == "application/pdf"
    [stored] = (runtime.settings.instance_dir / FOLDER).iterdir()
    assert stored.read_bytes() == PDF and stored.suffix == ".pdf"


@pytest.mark.parametrize("content", [b"<html>not a certificate</html>", b"GIF89a....", b""],
                         ids=["html", "gif", "empty"])
def test_a_certificate_that_is_not_pdf_png_or_jpeg_is_refused_by_content(
        cli: Callable[..., Result], who: list[str], tmp_path: Path, runtime: Runtime, content: bytes) -> None:
    certificate = tmp_path / "cert.pdf"  # the name claims PDF; the content decides
    certificate.write_bytes(content)
    cli("learners", "outside", "add", *who, "--credential", "amt-rma", "--title", "T", "--provider", "P",
        "--date", "2025-04-02", "--minutes", "60", "--certificate", str(certificate), expect=2)
    assert count(runtime, models.OutsideCredit) == 0


def test_a_certificate_over_ten_megabytes_is_refused(cli: Callable[..., Result], who: list[str],
                                                     tmp_path: Path) -> None:
    certificate = tmp_path / "big.png"
    certificate.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * MAX_BYTES)
    result = cli("learners", "outside", "add", *who, "--credential", "amt-rma", "--title", "T", "--provider", "P",
                 "--date", "2025-04-02", "--minutes", "60", "--certificate", str(certificate), expect=2)
    assert "10 MB" in result.output


def test_a_rejection_needs_a_reason(cli: Callable[..., Result], cli_json: Callable[..., Any],
                                    who: list[str]) -> None:
    recorded = add(cli_json, who, "--minutes", "60")
    cli("learners", "outside", "reject", str(recorded["id"]), "--reason", " ", expect=2)


def test_the_audit_packet_holds_the_outside_credit_and_its_certificate(
        cli_json: Callable[..., Any], who: list[str], tmp_path: Path) -> None:
    certificate = tmp_path / "cert.pdf"
    certificate.write_bytes(PDF)
    recorded = add(cli_json, who, "--minutes", "60", "--certificate", str(certificate))
    output = tmp_path / "packet.zip"
    cli_json("audit", "packet", *who, "--credential", "amt-rma", "-o", str(output))
    with zipfile.ZipFile(output) as archive:
        assert archive.read(f"outside/certificate-{recorded['id']}.pdf") == PDF
        listing = archive.read("outside-credit.csv").decode()
        assert archive.read("outside-credit.pdf").startswith(b"%PDF")
        evidence = json.loads(archive.read(f"outside/outside-{recorded['id']}.json"))
    assert "Coding update" in listing and "self-reported" in listing
    assert (evidence["amount"], evidence["status"]) == ("1", "self-reported")


def test_list_shows_what_waits_for_verification(cli_json: Callable[..., Any], who: list[str]) -> None:
    waiting = add(cli_json, who, "--minutes", "60")
    done = add(cli_json, who, "--minutes", "60", title="Billing update")
    cli_json("learners", "outside", "verify", str(done["id"]))
    assert [r["id"] for r in cli_json("learners", "outside", "list", "--status", "self-reported")] == [waiting["id"]]
    assert len(cli_json("learners", "outside", "list", *who)) == 2
