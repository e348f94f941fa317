"""The simulator's records: payments with their refunds and chargebacks, in integer cents."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime

BASE62 = string.ascii_letters + string.digits
STATUSES = ("open", "pending", "authorized", "paid", "canceled", "expired", "failed")
# Mollie gives the moment of these statuses as `paidAt`, `canceledAt`…
TIMESTAMPED = ("authorized", "paid", "canceled", "expired", "failed")
CHECKOUT_CHOICES = ("paid", "failed", "canceled", "expired")


def new_id(prefix: str) -> str:
    """A Mollie-looking id: `tr_` + ten random base62 characters."""
    return prefix + "".join(secrets.choice(BASE62) for _ in range(10))


@dataclass
class Refund:
    id: str
    payment_id: str
    cents: int
    description: str
    metadata: object
    created_at: datetime
    # Mollie's answer to a new refund; `refunded` once MollieSimulator.settle_refunds
    status: str = "pending"


@dataclass
class Chargeback:
    id: str
    payment_id: str
    cents: int
    created_at: datetime
    reason: dict[str, str]


@dataclass
class NewPayment:
    """What a valid `POST /v2/payments` asks for."""

    cents: int
    description: str
    redirect_url: str
    webhook_url: str | None = None
    cancel_url: str | None = None
    metadata: object = None
    locale: str | None = None
    # always EUR when created; another only through MollieSimulator.set_amount
    currency: str = "EUR"


@dataclass
class Payment:
    id: str
    request: NewPayment
    created_at: datetime
    expires_at: datetime
    status: str = "open"
    status_at: datetime | None = None
    method: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    chargebacks: list[Chargeback] = field(default_factory=list)

    @property
    def refunded_cents(self) -> int:
        return sum(refund.cents for refund in self.refunds)

    @property
    def charged_back_cents(self) -> int:
        return sum(chargeback.cents for chargeback in self.chargebacks)

    @property
    def remaining_cents(self) -> int:
        """What may still be refunded: Mollie takes refunds and chargebacks off."""
        return self.request.cents - self.refunded_cents - self.charged_back_cents
