"""Confirming renewal items that are not credit (fees, memberships, volunteer hours)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool import models
from lti_tool.credits import api
from lti_tool.credits.registry import Rulebook
from lti_tool.row_writes import insert_or_skip
from lti_tool.services.day_range import BadDay, check_day
from lti_tool.services.learners import LearnerError, LearnerKey, find_learner

RECORDERS = ("learner", "cli")


class ItemError(ValueError):
    """The confirmation cannot be recorded as given (unknown item, a missing or stray amount)."""


MAX_AMOUNT = Decimal(10_000)
"""The most hours one confirmation may carry (its column holds ten digits before the point)."""
AMOUNT_STEP = Decimal("0.0001")
"""The finest step of hours the column keeps (four decimal places): a finer amount would be stored
as another number than the one confirmed."""


@dataclass(frozen=True)
class Confirmed:
    id: int
    credential: str
    item: str
    confirmed_on: date
    amount: Decimal | None
    new: bool
    """``False``: the item was confirmed on that day already; nothing was added."""


def declared_item(rulebook: Rulebook, credential: str, item_id: str) -> api.RenewalItem:
    items = rulebook.get(credential).renewal_items()
    for item in items:
        if item.id == item_id:
            return item
    known = ", ".join(i.id for i in items) or "none"
    raise ItemError(f"{credential} has no renewal item {item_id!r} (its items: {known})")


def confirm_item(session: Session, rulebook: Rulebook, *, learner_id: int, credential: str, item_id: str,
                 on: date, amount: Decimal | None, recorded_by: str) -> Confirmed:
    """Record that the learner met ``item_id`` of ``credential`` on ``on`` (with ``amount`` hours
    for an item measured in hours). Confirming the same item on the same day again adds nothing."""
    item = declared_item(rulebook, credential, item_id)
    if amount is not None and not (amount.is_finite() and amount <= MAX_AMOUNT
                                   and amount == amount.quantize(AMOUNT_STEP)):
        raise ItemError(f"the hours must be a number up to {MAX_AMOUNT} with at most 4 decimal places")
    if item.amount is not None and (amount is None or amount <= 0):
        raise ItemError(f"{item.title} is confirmed with the hours served (more than 0)")
    try:
        check_day(on, "the date")
    except BadDay as exc:
        raise ItemError(str(exc)) from None
    if item.amount is None and amount is not None:
        raise ItemError(f"{item.title} is confirmed without an amount")
    held = session.scalar(select(models.LearnerCredential.id).where(
        models.LearnerCredential.learner_id == learner_id, models.LearnerCredential.credential == credential))
    if held is None:
        raise LearnerError(f"the learner does not hold {credential}; record the credential first")
    new_id = insert_or_skip(session, models.RenewalConfirmation.__table__, {
        "learner_id": learner_id, "credential": credential, "item": item.id, "confirmed_on": on,
        "amount": amount, "recorded_by": recorded_by, "created_at": models.utcnow(),
    }, ["learner_id", "credential", "item", "confirmed_on"])
    row = session.scalar(select(models.RenewalConfirmation).where(
        models.RenewalConfirmation.learner_id == learner_id, models.RenewalConfirmation.credential == credential,
        models.RenewalConfirmation.item == item.id, models.RenewalConfirmation.confirmed_on == on))
    assert row is not None
    return Confirmed(row.id, credential, row.item, row.confirmed_on, row.amount, new_id is not None)


def confirm_for_user(session: Session, rulebook: Rulebook, *, key: LearnerKey, credential: str,
                     item_id: str, on: date, amount: Decimal | None) -> Confirmed:
    """:func:`confirm_item` for the learner an LMS knows as ``key`` (the CLI's way in)."""
    learner = find_learner(session, key)
    if learner is None:
        raise LearnerError(f"no learner {key.lms_user_id!r} in source {key.identity_id}")
    return confirm_item(session, rulebook, learner_id=learner.id, credential=credential, item_id=item_id,
                        on=on, amount=amount, recorded_by="cli")
