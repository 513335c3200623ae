"""Signed Open Badges 3.0: every credential validates against 1EdTech's schema, is signed as a
VC-JWT with the tool's key (its kid in the tool's JWKS), and `lti-tool verify` refuses a tampered
credential, a wrong key and a revoked award. The tool is served on real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from click.testing import Result
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jsonschema import Draft201909Validator
from werkzeug.serving import make_server

from lti_tool.db import write_session
from lti_tool.exports.open_badges import OpenBadgesExporter, achievement_credential
from lti_tool.lti.keys import ensure_key
from lti_tool.runtime import Runtime
from lti_tool.services.badge_signer import BadgeSigner
from lti_tool.services.ledger import revoke_award
from lti_tool.web.app import create_app
from tests.conftest import FIXTURES
from tests.exports.samples import claim
from tests.support.badge_signer import KeySigner

SCHEMAS = FIXTURES / "openbadges"


def schema(name: str) -> Draft201909Validator:
    return Draft201909Validator(json.loads((SCHEMAS / name).read_text()))


@pytest.fixture
def tool(runtime: Runtime) -> Iterator[str]:
    """The app on a real loopback port, its public URL set to that address, with a tool key."""
    server = make_server("127.0.0.1", 0, create_app(runtime, {"TESTING": True}), threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    runtime.settings = runtime.settings.model_copy(update={
        "lti": runtime.settings.lti.model_copy(update={"public_url": base})})
    with write_session(runtime.sessions) as session:
        ensure_key(session)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=5)


def exporter(runtime: Runtime) -> OpenBadgesExporter:
    badges = OpenBadgesExporter()
    badges.signer = BadgeSigner(runtime.sessions, runtime.settings)
    return badges


def signed(runtime: Runtime, award_id: int = 7, **changes: Any) -> str:
    files = exporter(runtime).render("b", [claim(award_id, award_id=award_id, **changes)])
    [token] = [f.content.decode() for f in files if f.filename.endswith(".jwt")]
    return token


def verify(cli: Callable[..., Result], tmp_path: Path, token: str, expect: int) -> dict[str, Any]:
    path = tmp_path / "credential.jwt"
    path.write_text(token)
    result = cli("verify", str(path), "--json", expect=expect)
    return json.loads(result.output)


@pytest.fixture
def verify_cli(cli: Callable[..., Result], tool: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("LTI_TOOL_LTI__PUBLIC_URL", tool)
    return cli


@pytest.mark.parametrize("changes", [
    {}, {"member_number": None}, {"category": "administrative", "amount": Decimal("0.25")},
    {"course_title": None, "index_number": None},
])
def test_every_credential_validates_against_the_ob_3_0_schema(
    runtime: Runtime, tool: str, changes: dict[str, Any]
) -> None:
    files = exporter(runtime).render("b", [claim(3, **changes)])
    document = json.loads(next(f.content for f in files if f.filename.endswith(".json")))
    payload = jwt.decode(next(f.content for f in files if f.filename.endswith(".jwt")),
                         options={"verify_signature": False})
    validator = schema("ob_v3p0_achievementcredential_schema.json")
    assert list(validator.iter_errors(document)) == []
    assert list(validator.iter_errors(payload)) == []


def test_the_schema_check_itself_refuses_a_credential_without_an_issuer(runtime: Runtime, tool: str) -> None:
    document = achievement_credential(claim(1), BadgeSigner(runtime.sessions, runtime.settings).issuer())
    del document["issuer"]
    assert not schema("ob_v3p0_achievementcredential_schema.json").is_valid(json.loads(json.dumps(document)))


def test_the_credential_is_signed_with_a_key_published_in_the_tools_jwks(runtime: Runtime, tool: str) -> None:
    header = jwt.get_unverified_header(signed(runtime))
    published = requests.get(f"{tool}/.well-known/jwks.json", timeout=5).json()["keys"]
    assert header["alg"] == "RS256" and header["kid"] in {k["kid"] for k in published}


def test_the_issuer_profile_is_served_at_the_credentials_issuer_id(runtime: Runtime, tool: str) -> None:
    payload = jwt.decode(signed(runtime), options={"verify_signature": False})
    assert payload["issuer"]["id"] == f"{tool}/ob/issuer" == payload["iss"]
    profile = requests.get(payload["issuer"]["id"], timeout=5).json()
    assert profile["id"] == payload["issuer"]["id"] and profile["name"] == "lti-tool"
    assert list(schema("ob_v3p0_profile_schema.json").iter_errors(profile)) == []


def test_credits_stay_exact_decimal_numbers_in_the_signed_payload(runtime: Runtime, tool: str) -> None:
    token = signed(runtime, amount=Decimal("0.10"))
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="), parse_float=Decimal)
    assert payload["credentialSubject"]["creditsEarned"] == Decimal("0.1")
    assert payload["credentialSubject"]["achievement"]["creditsAvailable"] == Decimal("0.1")
    assert payload["credentialSubject"]["licenseNumber"] == "CMSS-4711"


def test_a_fresh_credential_verifies(runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path) -> None:
    verdict = verify(verify_cli, tmp_path, signed(runtime), expect=0)
    assert verdict["verified"] is True
    assert verdict["checks"] == {"signature": "ok", "issuer": "ok", "dates": "ok", "status": "ok"}


def test_a_tampered_credential_is_refused(runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path) -> None:
    header, payload, signature = signed(runtime).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["credentialSubject"]["creditsEarned"] = 15
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    verdict = verify(verify_cli, tmp_path, f"{header}.{forged}.{signature}", expect=1)
    assert verdict["verified"] is False and "InvalidSignatureError" in verdict["checks"]["signature"]


def test_a_credential_signed_with_another_key_is_refused(
    runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path, tool: str
) -> None:
    with write_session(runtime.sessions) as session:
        from lti_tool.lti.keys import signing_key
        kid = signing_key(session).kid
    impostor = KeySigner(base=tool)
    impostor.key.kid = kid  # the tool's kid, someone else's key
    document = achievement_credential(claim(7), impostor.issuer(), impostor.status(7))
    verdict = verify(verify_cli, tmp_path, impostor.sign(document), expect=1)
    assert "InvalidSignatureError" in verdict["checks"]["signature"]


def test_a_credential_whose_kid_the_jwks_does_not_publish_is_refused(
    verify_cli: Callable[..., Result], tmp_path: Path, tool: str
) -> None:
    impostor = KeySigner(base=tool)
    verdict = verify(verify_cli, tmp_path, impostor.sign(achievement_credential(claim(7), impostor.issuer(),
                                                                              impostor.status(7))), expect=1)
    assert "no key 'test-key'" in verdict["checks"]["signature"]


def test_a_revoked_award_is_refused_by_its_status(
    runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path
) -> None:
    from tests.exports.ledger_rows import credit
    award_id = credit(runtime.sessions, "u-1", "565")
    token = signed(runtime, award_id=award_id)
    assert verify(verify_cli, tmp_path, token, expect=0)["verified"] is True
    with write_session(runtime.sessions) as session:
        revoke_award(session, award_id, "course not approved")
    verdict = verify(verify_cli, tmp_path, token, expect=1)
    assert verdict["checks"]["status"] == "revoked by its issuer"


def test_another_awards_revocation_leaves_this_one_valid(
    runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path
) -> None:
    from tests.exports.ledger_rows import credit
    kept, revoked = credit(runtime.sessions, "u-1", "565"), credit(runtime.sessions, "u-2", "565")
    with write_session(runtime.sessions) as session:
        revoke_award(session, revoked, "course not approved")
    assert verify(verify_cli, tmp_path, signed(runtime, award_id=kept), expect=0)["verified"] is True


def test_a_credential_not_valid_yet_is_refused(
    runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path
) -> None:
    token = signed(runtime, completed_at=datetime(2099, 1, 1, tzinfo=UTC))
    verdict = verify(verify_cli, tmp_path, token, expect=1)
    assert verdict["verified"] is False and "not valid" in verdict["checks"]["dates"]


def test_an_unsigned_json_document_is_refused_with_the_reason(
    verify_cli: Callable[..., Result], tmp_path: Path
) -> None:
    verdict = verify(verify_cli, tmp_path, '{"type": ["VerifiableCredential"]}', expect=1)
    assert "carries no signature" in verdict["checks"]["signature"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _resigned(token: str, header: dict[str, Any], signature: Callable[[bytes], bytes]) -> str:
    """The token's payload under another header and signature (an attacker's re-wrapping)."""
    payload = token.split(".")[1]
    signing_input = f"{_b64(json.dumps(header).encode())}.{payload}".encode()
    return f"{signing_input.decode()}.{_b64(signature(signing_input))}"


def test_an_unsigned_alg_none_credential_with_the_tools_kid_is_refused(
    runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path
) -> None:
    token = signed(runtime)
    kid = jwt.get_unverified_header(token)["kid"]
    forged = _resigned(token, {"alg": "none", "typ": "JWT", "kid": kid}, lambda _: b"")
    verdict = verify(verify_cli, tmp_path, forged, expect=1)
    assert verdict["verified"] is False and "RS256" in verdict["checks"]["signature"]


def test_an_hs256_credential_keyed_with_the_tools_public_key_is_refused(
    runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path, tool: str
) -> None:
    import hashlib
    import hmac

    token = signed(runtime)
    kid = jwt.get_unverified_header(token)["kid"]
    [published] = [k for k in requests.get(f"{tool}/.well-known/jwks.json", timeout=5).json()["keys"]
                   if k["kid"] == kid]
    public_pem = jwt.PyJWK(published).key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    forged = _resigned(token, {"alg": "HS256", "typ": "JWT", "kid": kid},
                       lambda data: hmac.new(public_pem, data, hashlib.sha256).digest())
    verdict = verify(verify_cli, tmp_path, forged, expect=1)
    assert verdict["verified"] is False and "RS256" in verdict["checks"]["signature"]


def test_a_credential_whose_valid_from_has_no_time_zone_is_refused_not_a_crash(
    runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path
) -> None:
    signer = BadgeSigner(runtime.sessions, runtime.settings)
    document = achievement_credential(claim(7, award_id=7), signer.issuer(), signer.status(7))
    document["validFrom"] = "2026-01-01T00:00:00"
    verdict = verify(verify_cli, tmp_path, signer.sign(document), expect=1)
    assert verdict["checks"]["signature"] == "ok" and "time zone" in verdict["checks"]["dates"]


def test_a_credential_naming_its_issuer_by_url_only_gets_a_verdict_not_a_crash(
    runtime: Runtime, verify_cli: Callable[..., Result], tmp_path: Path
) -> None:
    signer = BadgeSigner(runtime.sessions, runtime.settings)
    document = achievement_credential(claim(7, award_id=7), signer.issuer(), signer.status(7))
    document["issuer"] = document["issuer"]["id"]
    verdict = verify(verify_cli, tmp_path, signer.sign(document), expect=0)
    assert verdict["issuer"] == signer.issuer()["id"] and verdict["checks"]["issuer"] == "ok"


def test_the_issuer_profile_and_status_list_name_the_signers_urls_whatever_host_is_asked(
    runtime: Runtime, client: Any
) -> None:
    """Without ``lti.public_url`` (allowed: the LMS pages then take the request's address)."""
    runtime.settings = runtime.settings.model_copy(update={
        "lti": runtime.settings.lti.model_copy(update={"public_url": ""})})
    with write_session(runtime.sessions) as session:
        ensure_key(session)
    signer = BadgeSigner(runtime.sessions, runtime.settings)
    headers = {"Host": "evil.example"}
    profile = client.get("/ob/issuer", headers=headers).get_json()
    listed = jwt.decode(client.get("/ob/status/revocation", headers=headers).get_data(as_text=True),
                        options={"verify_signature": False})
    assert profile["id"] == signer.issuer()["id"] and "evil.example" not in json.dumps(profile)
    assert listed["id"] == signer.status(1)["statusListCredential"] and listed["issuer"]["id"] == profile["id"]
