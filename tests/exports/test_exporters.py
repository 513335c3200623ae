"""Each exporter renders what its body takes; PDFs are checked by rendering them (poppler)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

from PIL import Image

from lti_tool.exports.claims_csv import COLUMNS, ClaimsCsvExporter
from lti_tool.exports.discovery import discover
from lti_tool.exports.remittance import AcmssRemittanceExporter
from lti_tool.exports.statement import StatementExporter
from tests.conftest import require
from tests.exports.samples import claim
from tests.support.badge_signer import signed_open_badges


def pdf_text(content: bytes, tmp_path: Path) -> str:
    """Render the PDF to PNG with pdftoppm (it must draw an A4 page with ink on it) and return the
    text pdftotext extracts."""
    require("pdf", shutil.which("pdftoppm") is not None and shutil.which("pdftotext") is not None,
            "poppler-utils (pdftoppm, pdftotext) is not installed")
    pdf = tmp_path / "document.pdf"
    pdf.write_bytes(content)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages, "the PDF did not render"
    for page in pages:
        with Image.open(page) as image:
            width, height = image.size
            assert abs(height / width - 297 / 210) < 0.01, image.size  # A4 portrait
            darkest, _ = image.convert("L").getextrema()
            assert darkest < 64, f"{page.name} is blank"
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_built_in_plugins_are_found_through_entry_points() -> None:
    plugins = discover()
    assert set(plugins.exporters) == {"claims-csv", "statement", "acmss-remittance", "open-badges"}
    assert set(plugins.destinations) == {"directory", "smtp", "sftp", "https"}
    for cls in [*plugins.exporters.values(), *plugins.destinations.values()]:
        assert cls.__doc__ and cls.identifier and cls.verbose_name


def test_claims_csv_has_one_row_per_claim_with_the_licence_number() -> None:
    [rendered] = ClaimsCsvExporter().render("b", [claim(1), claim(2, course_id="7", minutes=60)])
    rows = list(csv.DictReader(io.StringIO(rendered.content.decode())))
    assert (rendered.filename, rendered.media_type) == ("b.csv", "text/csv")
    assert [(r["course_id"], r["member_number"], r["contact_minutes"]) for r in rows] == [
        ("565", "CMSS-4711", "90"), ("7", "CMSS-4711", "60")]


def test_claims_csv_names_every_column_a_body_asks_for() -> None:
    [rendered] = ClaimsCsvExporter().render("b", [claim(1, category="administrative", minutes=95,
                                                        amount=Decimal("1.25"))])
    reader = csv.DictReader(io.StringIO(rendered.content.decode()))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    [row] = list(reader)
    assert {k: row[k] for k in ("learner_id", "learner_name", "member_number", "course_id", "course_title",
                                "completed_at", "contact_minutes", "credit", "unit", "category",
                                "index_number", "rule_version", "claim_key", "entry")} == {
        "learner_id": "123", "learner_name": "Dana Reyes", "member_number": "CMSS-4711",
        "course_id": "565", "course_title": "HIPAA basics", "completed_at": "2026-03-04T13:38:00+00:00",
        "contact_minutes": "95", "credit": "1.25", "unit": "CME", "category": "administrative",
        "index_number": "CMS06140729A", "rule_version": "acmss-cmss/1", "claim_key": f"{1:064x}",
        "entry": "credit"}


def test_statement_is_a_pdf_and_a_csv_per_learner(tmp_path: Path) -> None:
    files = StatementExporter().render("b", [claim(1), claim(2, learner_lms_id="42", learner_name="Lee Kim"),
                                             claim(3, course_title="Coding 101", amount=claim().amount * 2)])
    assert [f.filename for f in files] == ["b-learner-123-statement.pdf", "b-learner-123-statement.csv",
                                           "b-learner-42-statement.pdf", "b-learner-42-statement.csv"]
    text = pdf_text(files[0].content, tmp_path)
    assert "Dana Reyes" in text and "HIPAA basics" in text and "Coding 101" in text
    assert "CMSS-4711" in text and "Total: 4.5 CME" in text


def test_rendering_is_deterministic_so_a_retry_sends_the_same_bytes() -> None:
    claims = [claim(1), claim(2)]
    for exporter in (StatementExporter(), AcmssRemittanceExporter(), signed_open_badges()):
        assert exporter.render("b", claims) == exporter.render("b", claims)


def test_acmss_remittance_names_the_licence_number_and_attaches_a_certificate_per_training(tmp_path: Path) -> None:
    exporter = AcmssRemittanceExporter()
    claims = [claim(1), claim(2, course_title="Privacy refresher", minutes=30, index_number="CMS06140727A")]
    files = exporter.render("b", claims)
    _subject, body = exporter.message("acmss-cmss", claims)
    assert "CMSS licence number CMSS-4711" in body and "Privacy refresher" in body
    certificates = [f for f in files if f.media_type == "application/pdf"]
    assert len(certificates) == 2
    text = pdf_text(certificates[1].content, tmp_path)
    assert "Certificate of completion" in text and "Privacy refresher" in text
    assert "CMSS-4711" in text and "CMS06140727A" in text and "30 contact minutes" in text


def test_open_badges_achievement_credential_per_award() -> None:
    [_, rendered] = signed_open_badges().render("b", [claim(1), claim(2, entry_kind="reversal")])
    document = json.loads(rendered.content)
    assert "AchievementCredential" in document["type"]
    subject = document["credentialSubject"]
    assert subject["creditsEarned"] == 1.5 and subject["licenseNumber"] == "CMSS-4711"
    assert subject["activityEndDate"].startswith("2026-03-04T13:38")
    assert subject["activityStartDate"].startswith("2026-03-04T12:08")
    assert subject["achievement"]["name"] == "HIPAA basics"
    assert document["validFrom"].startswith("2026-03-04T13:38")


def test_open_badges_credits_are_exact_decimal_numbers_and_a_missing_licence_is_left_out() -> None:
    [_, rendered] = signed_open_badges().render("b", [claim(1, amount=Decimal("0.10"), member_number=None)])
    assert b'"creditsEarned": 0.1,' in rendered.content
    subject = json.loads(rendered.content, parse_float=Decimal)["credentialSubject"]
    assert subject["creditsEarned"] == Decimal("0.1") and isinstance(subject["creditsEarned"], Decimal)
    assert subject["result"][0]["value"] == "0.1"
    assert "licenseNumber" not in subject


def test_every_exporter_and_destination_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Exporters and destinations"):readme.index("## Running at scale")]
    plugins = discover()
    for identifier in [*plugins.exporters, *plugins.destinations]:
        assert f"| `{identifier}`" in section, identifier
