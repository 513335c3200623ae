"""Open Badges 3.0: one ``AchievementCredential`` (unsigned) JSON document per award.

Follows the 1EdTech OB 3.0 data model: ``credentialSubject`` is an ``AchievementSubject`` with
``creditsEarned``, ``licenseNumber``, ``activityStartDate`` and ``activityEndDate``; the
``achievement`` is the course. Signing (a proof) is left to the receiver or a later exporter.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from lti_tool.exports.base import Exporter
from lti_tool.exports.claim import Claim, Rendered
from lti_tool.exports.documents import course_name

CONTEXT = ["https://www.w3.org/ns/credentials/v2",
           "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
ISSUER = {"id": "urn:lti-tool:issuer", "type": ["Profile"], "name": "lti-tool"}


def achievement_credential(claim: Claim) -> dict[str, Any]:
    start = claim.completed_at - timedelta(minutes=claim.minutes)
    return {
        "@context": CONTEXT,
        "id": f"urn:uuid:{claim.idempotency_key[:8]}-{claim.idempotency_key[8:12]}-"
              f"{claim.idempotency_key[12:16]}-{claim.idempotency_key[16:20]}-{claim.idempotency_key[20:32]}",
        "type": ["VerifiableCredential", "AchievementCredential"],
        "name": f"{course_name(claim)} ({claim.credential})",
        "issuer": ISSUER,
        "validFrom": claim.completed_at.isoformat(),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityHash": f"{claim.source}:{claim.learner_lms_id}",
                            "identityType": "sourcedId", "hashed": False}],
            "creditsEarned": float(claim.amount),
            "licenseNumber": claim.member_number,
            "activityStartDate": start.isoformat(),
            "activityEndDate": claim.completed_at.isoformat(),
            "achievement": {
                "id": f"urn:lti-tool:course:{claim.source}:{claim.course_id}",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": course_name(claim),
                "description": f"{claim.minutes} contact minutes toward {claim.credential}",
                "criteria": {"narrative": f"Completed {course_name(claim)} in {claim.source}."},
                "creditsAvailable": float(claim.amount),
                "fieldOfStudy": claim.category or "continuing education",
                "humanCode": claim.index_number or claim.course_id,
            },
            "result": [{"type": ["Result"], "value": str(claim.amount), "status": "Completed"}],
        },
        "evidence": [{"type": ["Evidence"], "name": "rule version", "description": claim.rule_version}],
    }


class OpenBadgesExporter(Exporter):
    """Open Badges 3.0 ``AchievementCredential`` JSON per award (reversals are not badges)."""

    identifier = "open-badges"
    verbose_name = "Open Badges 3.0 credentials"

    def render(self, name: str, claims: list[Claim]) -> list[Rendered]:
        return [Rendered(f"{name}-award-{c.award_id}.json", "application/vc+ld+json",
                         json.dumps(achievement_credential(c), indent=2, sort_keys=True).encode())
                for c in claims if c.entry_kind == "credit"]
