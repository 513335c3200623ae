"""Claims to render, without a database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from lti_tool.exports.base import Export
from lti_tool.exports.claim import Claim
from tests.exports.receivers import free_port


def claim(n: int = 1, **changes: object) -> Claim:
    values: dict[str, object] = {
        "idempotency_key": f"{n:064x}", "entry_kind": "credit", "award_id": n, "credential": "acmss-cmss",
        "learner_lms_id": "123", "learner_name": "Dana Reyes", "learner_email": "dana@example.org",
        "member_number": "CMSS-4711", "source": "canvas-prod", "course_id": "565",
        "course_title": "HIPAA basics", "completed_at": datetime(2026, 3, 4, 13, 38, tzinfo=UTC),
        "minutes": 90, "amount": Decimal("1.5"), "unit": "CME", "category": None,
        "index_number": "CMS06140729A", "rule_version": "acmss-cmss/1",
    }
    values.update(changes)
    return Claim(**values)  # type: ignore[arg-type]


def export(files: tuple = (), key: str = "k" * 64, claim_keys: tuple[str, ...] = ("a", "b")) -> Export:
    return Export(key=key, name="20260304T000000Z-batch-1", credential="acmss-cmss", files=files,
                  subject="CMSS claims", body="two claims attached", claim_keys=claim_keys)


def unreachable_mail() -> str:
    """A ``[destinations.mail]`` table naming an SMTP port nothing listens on: every delivery fails."""
    return f"""[destinations.mail]
type = "smtp"
host = "127.0.0.1"
port = {free_port()}
from = "a@example.org"
to = "b@example.org"
timeout_seconds = 2"""
