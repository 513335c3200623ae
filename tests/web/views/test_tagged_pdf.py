"""The certificate is a tagged PDF: poppler reads its structure tree (a heading, then a paragraph
per line and per field, in reading order), its language and its title; it names the issuing
organisation."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from lti_tool.web.views.certificates import Certificate, render_certificate
from lti_tool.web.views.tagged_pdf import TaggedPDF
from tests.conftest import require

CERTIFICATE = Certificate(
    learner_name="Ada Lovelace", learner_id="42", course="HIPAA basics", completed_on="2026-11-02", minutes=120,
    credential="Certified Medical Assistant (aama-cma)", amount="2", unit="recertification points",
    index_number="AAMA-77", award_id=7, body="AAMA", issuer="Front Office Academy")


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    require("pdf", shutil.which(tool) is not None, f"poppler-utils ({tool}) is not installed")
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    return subprocess.run([tool, *args, str(path)], check=True, capture_output=True, text=True).stdout


def structure(pdf: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """(structure type, text) of each element, as ``pdfinfo -struct-text`` reads them."""
    lines = poppler("pdfinfo", pdf, tmp_path, "-struct-text").splitlines()
    elements = []
    for tag, text in zip(lines, lines[1:], strict=False):
        if tag.startswith("  ") and not tag.startswith("    ") and text.startswith("    \""):
            elements.append((tag.split()[0], text.strip().strip('"')))
    return elements


def test_the_certificate_is_tagged_with_its_language_and_title(tmp_path: Path) -> None:
    info = poppler("pdfinfo", render_certificate(CERTIFICATE), tmp_path)
    assert "Tagged:          yes" in info and "Title:           Certificate of completion: HIPAA basics" in info
    assert b"/Lang (en)" in render_certificate(CERTIFICATE)


def test_a_screen_reader_meets_the_issuer_the_title_then_each_field_in_order(tmp_path: Path) -> None:
    elements = structure(render_certificate(CERTIFICATE), tmp_path)
    assert elements[:6] == [("P", "Front Office Academy"), ("H1", "Certificate of Completion"),
                            ("P", "This certifies that"), ("P", "Ada Lovelace"), ("P", "completed"),
                            ("P", "HIPAA basics")]
    fields = [text for tag, text in elements if tag == "P" and ": " in text]
    assert fields[:3] == ["Date completed: 2026-11-02", "Contact time: 120 minutes",
                          "Credit awarded: 2 recertification points"]
    assert "Issued by: Front Office Academy" in fields and "Index number: AAMA-77" in fields


def test_without_an_issuing_organisation_there_is_no_issuer_line(tmp_path: Path) -> None:
    plain = Certificate(**{**CERTIFICATE.__dict__, "issuer": None})
    elements = structure(render_certificate(plain), tmp_path)
    assert elements[0] == ("H1", "Certificate of Completion") and ("P", "Issued by: -") in elements


def test_a_tag_outside_the_certificates_structure_types_is_refused() -> None:
    pdf = TaggedPDF()
    pdf.add_page()
    with pytest.raises(ValueError, match="unsupported structure type"), pdf.tagged("Table"):
        pass


def test_fpdf2s_internals_that_tagging_relies_on_still_do_what_tagged_needs() -> None:
    """Without poppler too: an fpdf2 upgrade that renames or changes ``_add_marked_content``,
    ``_out`` or ``struct_builder.next_mcid_for_page`` fails here, not silently in a screen reader."""
    pdf = TaggedPDF()
    pdf.set_compression(False)
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    with pdf.tagged("H1"):
        pdf.cell(text="Certificate of Completion")
    with pdf.tagged("P"):
        pdf.cell(text="Ada Lovelace")
    body = bytes(pdf.output())
    marks = [line for line in body.split(b"\n") if line.endswith(b" BDC") or line == b"EMC"]
    assert marks == [b"/H1 <</MCID 0>> BDC", b"EMC", b"/P <</MCID 1>> BDC", b"EMC"]
    assert b"/StructTreeRoot" in body and b"/MarkInfo" in body
    assert b"/S /H1" in body and b"/S /P" in body
    assert body.index(b"(Certificate of Completion)") > body.index(b"/H1 <</MCID 0>> BDC")
