"""Open Badges 3.0: one signed ``AchievementCredential`` per award.

Follows the 1EdTech OB 3.0 data model: ``credentialSubject`` is an ``AchievementSubject`` with
``creditsEarned``, ``licenseNumber``, ``activityStartDate`` and ``activityEndDate``; the
``achievement`` is the course, with ``creditsAvailable``. Each award gives two files: the
credential signed as a VC-JWT (``.jwt``, the verifiable one; see :mod:`lti_tool.exports.vc_jwt`)
and the same credential as readable JSON (``.json``). The issuer is the tool's issuer profile (a
stable URL) and ``credentialStatus`` points at the tool's Bitstring Status List, so a revocation is
visible to any verifier.

The activity dates: it ended at the completion; it started the credited contact minutes before (the
LMS events do not carry a start). Credits are written as exact JSON numbers from the award's
``Decimal`` (``1.5``, ``0.25``), never through a binary float.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

from lti_tool.credits.rounding import normalized
from lti_tool.exports import vc_jwt
from lti_tool.exports.base import DeliveryError, Exporter
from lti_tool.exports.claim import Claim, Rendered
from lti_tool.exports.documents import course_name
from lti_tool.exports.signing import CredentialSigner
from lti_tool.states import EntryKind

CONTEXT = ["https://www.w3.org/ns/credentials/v2",
           "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


class _Number(str):
    """A JSON number spelled exactly as its ``Decimal`` (see :func:`credential_json`)."""


def _number(amount: Decimal) -> _Number:
    return _Number(format(normalized(amount), "f"))


def credential_json(document: dict[str, Any], *, compact: bool = False) -> bytes:
    """``document`` as JSON, with each :class:`_Number` written as a bare number, not a string
    (``compact``: no spaces, for a JWT payload)."""
    marker = "\u0000number:"

    def mark(value: Any) -> Any:
        if isinstance(value, _Number):
            return marker + value
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(document), sort_keys=True, separators=(",", ":")) if compact else \
        json.dumps(mark(document), indent=2, sort_keys=True)
    return re.sub(r'"\\u0000number:(-?[0-9.]+)"', r"\1", text).encode()


def achievement_credential(claim: Claim, issuer: dict[str, Any],
                           status: dict[str, Any] | None = None) -> dict[str, Any]:
    start = claim.completed_at - timedelta(minutes=claim.minutes)
    return {
        "@context": CONTEXT,
        "id": f"urn:uuid:{claim.idempotency_key[:8]}-{claim.idempotency_key[8:12]}-"
              f"{claim.idempotency_key[12:16]}-{claim.idempotency_key[16:20]}-{claim.idempotency_key[20:32]}",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "name": f"{course_name(claim)} ({claim.credential})",
        "issuer": issuer,
        "validFrom": claim.completed_at.isoformat(),
        **({"credentialStatus": status} if status else {}),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityHash": f"{claim.source}:{claim.learner_lms_id}",
                            "identityType": "sourcedId", "hashed": False}],
            "creditsEarned": _number(claim.amount),
            **({"licenseNumber": claim.member_number} if claim.member_number else {}),
            "activityStartDate": start.isoformat(),
            "activityEndDate": claim.completed_at.isoformat(),
            "achievement": {
                "id": f"urn:lti-tool:course:{claim.source}:{claim.course_id}",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": course_name(claim),
                "description": f"{claim.minutes} contact minutes toward {claim.credential}",
                "criteria": {"narrative": f"Completed {course_name(claim)} in {claim.source}."},
                "creditsAvailable": _number(claim.amount),
                "fieldOfStudy": claim.category or "continuing education",
                "humanCode": claim.index_number or claim.course_id,
            },
            "result": [{"type": ["Result"], "value": str(_number(claim.amount)), "status": "Completed"}],
        },
        "evidence": [{"type": ["Evidence"], "name": "rule version", "description": claim.rule_version}],
    }


def signed_credential(claim: Claim, signer: CredentialSigner) -> tuple[dict[str, Any], str]:
    """The award's credential and its VC-JWT."""
    document = achievement_credential(claim, signer.issuer(), signer.status(claim.award_id))
    return document, signer.sign(document)


class OpenBadgesExporter(Exporter):
    """Open Badges 3.0 ``AchievementCredential`` per award, signed (reversals are not badges: the
    revocation shows in the status list)."""

    identifier = "open-badges"
    verbose_name = "Open Badges 3.0 credentials"
    signs = True
    certificate_codes = False

    def render(self, name: str, claims: list[Claim]) -> list[Rendered]:
        if self.signer is None:
            raise DeliveryError("open-badges: no credential signer is bound (the runtime binds the tool's key)")
        files = []
        for claim in claims:
            if claim.entry_kind != EntryKind.CREDIT:
                continue
            document, token = signed_credential(claim, self.signer)
            files.append(Rendered(f"{name}-award-{claim.award_id}.jwt", vc_jwt.MEDIA_TYPE, token.encode()))
            files.append(Rendered(f"{name}-award-{claim.award_id}.json", "application/vc+ld+json",
                                  credential_json(document)))
        return files
