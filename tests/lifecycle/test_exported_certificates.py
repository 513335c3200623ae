"""Certificates the tool sends or packs (the ACMSS remittance, the audit packet) carry the same
verification URL and QR code as the learner's own download, made when the claim is batched."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool import models
from lti_tool.db import read_session
from lti_tool.exports.config import build_exports, rule_defaults
from lti_tool.exports.discovery import discover
from lti_tool.runtime import Runtime
from lti_tool.services.badge_signer import BadgeSigner, bind_signers
from lti_tool.services.exporting import run_export_tick
from tests.exports.ledger_rows import credit
from tests.lifecycle.conftest import PUBLIC_URL
from tests.lifecycle.pdf_reading import qr_codes


def code_of(runtime: Runtime, award_id: int) -> str:
    with read_session(runtime.sessions) as session:
        code = session.scalar(select(models.CertificateCode.code).where(models.CertificateCode.award_id == award_id))
    assert code is not None
    return code


def test_the_acmss_remittance_certificate_carries_the_verification_qr_code(
    runtime: Runtime, tmp_path: Path, client: FlaskClient
) -> None:
    path = tmp_path / "remit.toml"
    path.write_text('[defaults]\nexporter = "acmss-remittance"\nrequires = []\n')
    runtime.exports = build_exports(path, discover(), runtime.settings.instance_dir, rule_defaults(runtime.rulebook))
    bind_signers(runtime.exports, BadgeSigner(runtime.sessions, runtime.settings))
    award_id = credit(runtime.sessions, "u-1", "565", number="CMSS-1")
    report = run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    assert len(report.delivered) == 1
    [pdf] = [p for p in (runtime.settings.instance_dir / "exports").rglob("*.pdf")]
    [url] = qr_codes(pdf.read_bytes(), tmp_path)
    assert url == f"{PUBLIC_URL}/verify/{code_of(runtime, award_id)}"
    assert client.get(url.removeprefix(PUBLIC_URL)).status_code == 200


def test_the_audit_packets_certificates_carry_the_verification_qr_code(
    runtime: Runtime, cli_json: Callable[..., Any], tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LTI_TOOL_LTI__PUBLIC_URL", PUBLIC_URL)
    award_id = credit(runtime.sessions, "u-1", "565", number="CMSS-1")
    with read_session(runtime.sessions) as session:
        source_id = session.scalar(select(models.Source.id))
    out = tmp_path / "packet.zip"
    cli_json("audit", "packet", "--source", str(source_id), "--user", "u-1", "--credential", "acmss-cmss",
             "-o", str(out))
    with zipfile.ZipFile(out) as archive:
        [name] = [n for n in archive.namelist() if n.startswith("certificates/")]
        data = archive.read(name)
    assert qr_codes(data, tmp_path) == [f"{PUBLIC_URL}/verify/{code_of(runtime, award_id)}"]


def test_without_a_public_url_an_exported_certificate_prints_no_guessed_address(
    runtime: Runtime, tmp_path: Path
) -> None:
    runtime.settings = runtime.settings.model_copy(update={
        "lti": runtime.settings.lti.model_copy(update={"public_url": ""})})
    path = tmp_path / "remit.toml"
    path.write_text('[defaults]\nexporter = "acmss-remittance"\nrequires = []\n')
    runtime.exports = build_exports(path, discover(), runtime.settings.instance_dir, rule_defaults(runtime.rulebook))
    bind_signers(runtime.exports, BadgeSigner(runtime.sessions, runtime.settings))
    credit(runtime.sessions, "u-1", "565", number="CMSS-1")
    run_export_tick(runtime.sessions, runtime.exports, runtime.settings.exports)
    [pdf] = [p for p in (runtime.settings.instance_dir / "exports").rglob("*.pdf")]
    assert qr_codes(pdf.read_bytes(), tmp_path) == []
