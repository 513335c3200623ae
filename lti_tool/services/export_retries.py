"""A failed export attempt: when the batch is tried again (exponential backoff with jitter, never
sooner than the receiver's ``Retry-After``), its move to the dead letter (a permanent refusal or too
many attempts), and an administrator's retry of a dead or failed batch. Each takes the caller's
``Session``."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.db import rows_changed, table_of
from lti_tool.exports.base import DeliveryError
from lti_tool.exports.config import Exports
from lti_tool.settings import ExportSettings

log = logging.getLogger(__name__)

_batches = table_of(models.ExportBatch)
_attempts = table_of(models.ExportAttempt)


class BatchNotFound(LookupError):
    pass


def backoff_seconds(attempt: int, settings: ExportSettings, retry_after: float | None) -> float:
    """Exponential backoff with jitter (half to all of base * 2^(attempt-1), capped), and never
    sooner than the receiver's ``Retry-After``."""
    delay = min(settings.retry_base_seconds * 2.0 ** (attempt - 1), settings.retry_max_seconds)
    delay *= random.uniform(0.5, 1.0)
    return max(delay, retry_after) if retry_after is not None else delay


def record_failure(
    session: Session, batch_id: int, attempt: int, tries: int, exc: Exception,
    exports: Exports, settings: ExportSettings, now: datetime,
) -> dict[str, Any]:
    """Record a failed attempt in the caller's transaction (``tries``: attempts since the batch was
    formed or retried by hand)."""
    permanent = isinstance(exc, DeliveryError) and exc.permanent
    dead = permanent or tries >= exports.config.delivery.max_attempts
    retry_after = exc.retry_after if isinstance(exc, DeliveryError) else None
    finished = models.utcnow()
    retry_at = max(now, finished) + timedelta(seconds=backoff_seconds(tries, settings, retry_after))
    error = f"{type(exc).__name__}: {exc}"
    held = rows_changed(session.execute(update(_batches).where(
        _batches.c.id == batch_id, _batches.c.status == models.BatchStatus.DELIVERING,
        _batches.c.attempts == attempt,
    ).values(status=models.BatchStatus.DEAD if dead else models.BatchStatus.FAILED, last_error=error,
             lease_until=None, next_attempt_at=retry_at))) == 1
    session.execute(update(_attempts).where(
        _attempts.c.batch_id == batch_id, _attempts.c.attempt == attempt,
    ).values(outcome=models.AttemptOutcome.DEAD if dead else models.AttemptOutcome.FAILED,
             finished_at=finished, error=error, retry_at=None if dead else retry_at))
    if held:
        log.warning("export batch %s attempt %d %s: %s", batch_id, attempt, "dead" if dead else
                    f"failed, retry at {retry_at:%Y-%m-%d %H:%M:%S}Z", error)
    else:
        log.warning("export batch %s attempt %d failed after its lease was taken over: %s",
                    batch_id, attempt, error)
    return {"delivered": False, "error": str(exc), "dead": dead and held, "permanent": permanent,
            "retry_at": None if dead else retry_at.isoformat()}


def retry_batch(session: Session, batch_id: int) -> dict[str, Any]:
    """Put a dead or failed batch back in line now, in the caller's transaction (``lti-tool export
    retry ID``; the administrator page audit-logs it in the same transaction)."""
    batch = session.get(models.ExportBatch, batch_id)
    if batch is None:
        raise BatchNotFound(f"no export batch with id {batch_id}")
    if batch.status not in (models.BatchStatus.DEAD, models.BatchStatus.FAILED):
        raise ValueError(f"batch {batch_id} is {batch.status}; only dead or failed batches are retried")
    log.info("export batch %s (%s) put back in line by hand after: %s", batch.id, batch.credential,
             batch.last_error)
    # The attempt count goes on (it numbers the attempts); max_attempts counts from here.
    batch.status, batch.lease_until, batch.next_attempt_at = models.BatchStatus.PENDING, None, models.utcnow()
    batch.attempts_before_retry = batch.attempts
    return {"batch": batch.id, "credential": batch.credential, "status": batch.status,
            "last_error": batch.last_error}

