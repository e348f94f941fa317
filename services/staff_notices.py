"""What staff must act on that no family asked for (StaffNotice): an online payment whose
amount does not match, money a payment holds for no invoice (paid twice, or freed by a
credit note) to give back, a chargeback. The services that find them add them; a refund of
that money resolves the notices asking for it; staff mark the others as dealt with."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update

from extensions import db
from models import Payment, StaffNotice, StaffUser
from services import audit, ledger

AMOUNT_MISMATCH = "amount-mismatch"
PAID_TWICE = "paid-twice"
CHARGEBACK = "chargeback"
CREDIT_TO_REFUND = "credit-to-refund"
# Settled once the money the payment holds for no invoice has gone back to the family.
ASKING_FOR_A_REFUND = (PAID_TWICE, CREDIT_TO_REFUND)


def resolve_refunded(payment: Payment, now: datetime) -> None:
    """In the caller's transaction: once none of the payment's money is left for no invoice,
    its notices asking for a refund are resolved, so that no one refunds it twice."""
    if ledger.unallocated_cents(payment) > 0:
        return
    db.session.execute(
        update(StaffNotice)
        .where(
            StaffNotice.payment_id == payment.id,
            StaffNotice.kind.in_(ASKING_FOR_A_REFUND),
            StaffNotice.resolved_at.is_(None),
        )
        .values(resolved_at=now)
    )


def resolve(ids: Iterable[int], staff: StaffUser, now: datetime, ip: str | None) -> int:
    """Staff mark these notices as dealt with (each journaled); how many were still open.
    Commits."""
    notices = db.session.scalars(
        select(StaffNotice)
        .where(StaffNotice.id.in_(list(ids)), StaffNotice.resolved_at.is_(None))
        .order_by(StaffNotice.id)
    ).all()
    for notice in notices:
        notice.resolved_at, notice.resolved_by_id = now, staff.id
        audit.record(staff, "resolve", notice, {"resolved_at": [None, now]}, ip)
    db.session.commit()
    return len(notices)
