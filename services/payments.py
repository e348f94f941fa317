"""Online payment with Mollie: the only module that imports `mollie` (SECURITY.md 21–27).

Starting a payment:
- A family pays its own issued invoices that still owe something, one or several at once;
  the amount is the sum of what they owe, in integer cents, sent to Mollie as a string
  with two decimals ("96.00"), in euros; never a float.
- The local payment (online, open) and its allocations naming the invoices are written
  and committed first, so its id is in the redirect URL and the metadata; then Mollie is
  asked, with the payment's idempotency key (a retried creation makes no second payment);
  then its Mollie id and checkout address are stored. If Mollie cannot be reached, the
  local payment is deleted again and the family reads a French message: nothing is kept.
- "Payer" again for the same invoices and amount while a payment for them is open (a double
  click, a back button) gives that open payment back, not a second one; one older than
  REUSE_UNCHECKED is first asked about at Mollie: found paid or ended there, it is applied
  and what the invoices owe is read again (an invoice it paid is not paid twice).
- An open payment pays nothing: the ledger counts only paid payments.

Applying Mollie's state (the webhook, the return page and the reconciliation share it):
- Mollie is asked for the payment by its id; nothing else a caller says is trusted.
- The payment row is locked (FOR UPDATE; on SQLite a first write takes the database's write
  lock) and the state applied so that a repeated or concurrent call changes nothing more.
- open → paid: only if the amount and the currency are the ones asked; otherwise nothing is
  applied and staff get a notice (once). Paid, at Mollie's `paidAt` (the day counts for
  receipts and tax certificates): the amount goes to the named invoices, each up to
  what it still owes; what finds no invoice (paid meanwhile by other means) is reported to
  staff as paid twice; the family gets one alert.
- open → failed, canceled or expired: the status is recorded; its allocations pay nothing.
- `paid` is final: a later failed, canceled or expired status changes nothing.
- Refunds and chargebacks: Mollie gives the totals (`amountRefunded`, `amountChargedBack`)
  on a payment still `paid`; what grew since last recorded is taken back from the
  invoices once (last invoice first), the family is told, and staff for a chargeback.

Refunding from the back office (services.staff_payments checks the amount and the reason):
- Mollie is asked to refund, with the form's idempotency key (a double submission refunds
  once), then asked for the payment again, whose totals are applied as above in the
  caller's transaction: a refund webhook arriving before or after changes nothing more.
- Mollie refusing (422…) or unreachable: a French message, nothing refunded; after a
  refusal Mollie's state is applied (a refund made in its dashboard is what made it
  refuse). A refund Mollie made but could not confirm is recorded by its next webhook.

The webhook answers "retry" (503) when Mollie cannot be reached, so Mollie calls again; a
malformed id is answered without any call, an id unknown to us is ignored. Open payments
whose webhook never came are settled by `reconcile_open_payments` (`flask jobs run`), which
also deletes those that never reached Mollie (the process stopped mid-way).
"""

from __future__ import annotations

import enum
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from mollie.api.client import Client
from mollie.api.error import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
)
from mollie.api.error import Error as MollieError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import selectinload

from extensions import db
from models import (
    AlertKind,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    StaffNotice,
)
from services import ledger, notifications, staff_notices
from services.calendar import paris_today
from services.formatting import money
from services.staff_notices import AMOUNT_MISMATCH, CHARGEBACK, PAID_TWICE

log = logging.getLogger(__name__)

MOLLIE_ID = re.compile(r"^tr_[A-Za-z0-9]{1,37}$")
AMOUNT_VALUE = re.compile(r"^(\d{1,10})\.(\d{2})$")
CURRENCY = "EUR"
# An open payment younger than this is handed back as is; an older one is asked about first.
REUSE_UNCHECKED = timedelta(minutes=5)
# The reconciliation asks about open payments older than this (their webhook is late).
RECONCILE_AFTER = timedelta(minutes=10)
MAX_INVOICES = 24
# Mollie's longest refund description (it carries the reason staff gave; the journal
# keeps the whole reason): « Max. 140 characters » in its create refund API.
MAX_REFUND_DESCRIPTION = 140
# Where Mollie's hosted checkout lives (its payments' `_links.checkout`).
MOLLIE_CHECKOUT_ORIGIN = "https://www.mollie.com"
ENDED = {
    "failed": PaymentStatus.FAILED,
    "canceled": PaymentStatus.CANCELED,
    "expired": PaymentStatus.EXPIRED,
}

# StaffNotice kinds


class PaymentError(Exception):
    """A payment that cannot start; `message` is French, for the family."""

    default_message = "Le paiement n'a pas pu être préparé."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class NothingToPay(PaymentError):
    default_message = "Ces factures sont déjà réglées : il n'y a rien à payer."


class NotYourInvoice(PaymentError):
    default_message = "Cette facture est introuvable ou ne peut pas être payée en ligne."


class TooManyInvoices(PaymentError):
    default_message = f"Choisissez au plus {MAX_INVOICES} factures à la fois."


class PaymentProviderUnavailable(PaymentError):
    default_message = (
        "Le paiement en ligne est momentanément indisponible : rien n'a été prélevé. "
        "Réessayez dans quelques minutes."
    )


class RefundRefused(PaymentError):
    default_message = (
        "Mollie a refusé ce remboursement (montant supérieur à ce qui reste remboursable "
        "chez Mollie, ou paiement qui n'y est plus remboursable) : rien n'a été remboursé. "
        "Ce qui reste à rembourser est mis à jour d'après Mollie : vérifiez-le avant de "
        "recommencer."
    )


class RefundUnavailable(PaymentError):
    default_message = (
        "Mollie est injoignable : aucun remboursement n'est enregistré. Renvoyez ce "
        "formulaire dans quelques minutes : la famille ne sera remboursée qu'une fois."
    )


class RefundNotConfirmed(PaymentError):
    default_message = (
        "Mollie a accepté le remboursement mais ne répond plus : il sera enregistré ici "
        "dès que Mollie le confirmera. Ne le refaites pas."
    )


class WebhookOutcome(enum.Enum):
    APPLIED = "applied"  # Mollie's state was read and applied (perhaps changing nothing)
    IGNORED = "ignored"  # a malformed id, or a payment that is not ours: answer 200
    RETRY = "retry"  # Mollie could not be reached: answer 503 so that it calls again


@dataclass(frozen=True)
class MollieState:
    """What Mollie says of a payment, in cents (None: an amount Mollie never writes)."""

    status: str
    amount_cents: int | None
    currency: str
    refunded_cents: int
    charged_back_cents: int
    paid_at: datetime | None


# _reusable's answer when the open payment it asked Mollie about has ended meanwhile.
_ENDED_MEANWHILE = object()


class _Unreachable(Exception):
    """Mollie did not answer, or answered with an error other than 404."""


# --- Starting a payment ----------------------------------------------------------------


def start_online_payment(family, invoice_ids: Iterable[int | str], now: datetime) -> Payment:
    """The open payment of these invoices (a new one, or the one already open for the same
    invoices and amount), with its checkout_url; PaymentError otherwise. An open payment
    found paid or ended at Mollie meanwhile is applied first, and what the invoices owe is
    read again: an invoice it has just paid is not sent to a second checkout."""
    while True:  # each turn ends one open payment: it cannot come back as a candidate
        try:
            owed = _payable(family, _parse_ids(invoice_ids))
        except PaymentError:
            db.session.rollback()  # the locks taken, nothing written
            raise
        payment = _reusable(family, owed, now)
        if payment is not _ENDED_MEANWHILE:
            break
    if payment is None:
        payment = _new_payment(family, owed, now)
    if payment.mollie_id is None:
        _create_at_mollie(payment)
    return payment


def _parse_ids(values: Iterable[int | str]) -> list[int]:
    ids = set()
    for value in values:
        text_value = str(value).strip()
        if not text_value.isascii() or not text_value.isdigit() or len(text_value) > 9:
            raise NotYourInvoice()
        ids.add(int(text_value))
    if not ids:
        raise NothingToPay("Cochez au moins une facture à payer.")
    if len(ids) > MAX_INVOICES:
        raise TooManyInvoices()
    return sorted(ids)


def _payable(family, ids: list[int]) -> dict[Invoice, int]:
    """The invoices that still owe, locked, with what each owes (in id order)."""
    ledger.serialize_writes()
    owned = set(
        db.session.scalars(
            select(Invoice.id).where(
                Invoice.id.in_(ids),
                Invoice.family_id == family.id,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.status.in_(ledger.BILLED),
            )
        )
    )
    if owned != set(ids):
        raise NotYourInvoice()
    invoices = ledger.lock_invoices(ids)
    owed = ledger.due_cents(invoices)
    payable = {invoice: owed[invoice.id] for invoice in invoices if owed[invoice.id] > 0}
    if not payable:
        raise NothingToPay()
    return payable


def _reusable(family, owed: dict[Invoice, int], now: datetime) -> Payment | object | None:
    """The family's open payment for exactly these invoices and amounts, if it is still open
    (asked at Mollie when older than REUSE_UNCHECKED); None when there is none (the
    invoices still locked); _ENDED_MEANWHILE when Mollie said it ended (paid, failed...):
    its state is applied and committed, the locks are gone and `owed` may be stale."""
    wanted = {invoice.id: cents for invoice, cents in owed.items()}
    candidates = db.session.scalars(
        select(Payment)
        .where(
            Payment.family_id == family.id,
            Payment.method == PaymentMethod.ONLINE,
            Payment.status == PaymentStatus.OPEN,
        )
        .options(selectinload(Payment.allocations))
        .order_by(Payment.id.desc())
    )
    for payment in candidates:
        if {a.invoice_id: a.amount_cents for a in payment.allocations} == wanted:
            db.session.commit()  # the invoices' locks are released before any call
            if payment.mollie_id and payment.created_at < now - REUSE_UNCHECKED:
                payment = refresh_payment(payment, now)
            return payment if payment.status == PaymentStatus.OPEN else _ENDED_MEANWHILE
    return None


def _new_payment(family, owed: dict[Invoice, int], now: datetime) -> Payment:
    """Committed at once: its id goes into the URLs and the metadata sent to Mollie."""
    payment = Payment(
        family_id=family.id,
        method=PaymentMethod.ONLINE,
        status=PaymentStatus.OPEN,
        amount_cents=sum(owed.values()),
        idempotency_key="pf-" + secrets.token_urlsafe(24),
        created_at=now,
        allocations=[
            PaymentAllocation(invoice=invoice, amount_cents=cents)
            for invoice, cents in owed.items()
        ],
    )
    db.session.add(payment)
    db.session.commit()
    return payment


def _create_at_mollie(payment: Payment) -> None:
    """Mollie's payment for ours (the same one again for the same idempotency key); if
    Mollie fails, our payment is deleted and PaymentProviderUnavailable raised."""
    try:
        created = _client().payments.create(
            mollie_request(payment), idempotency_key=payment.idempotency_key
        )
    except MollieError as error:
        log.warning("Mollie: payment %s not created (%s)", payment.id, type(error).__name__)
        _discard(payment.id)
        raise PaymentProviderUnavailable() from error
    stored = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id)
        .values(mollie_id=created.id, checkout_url=created.checkout_url or "")
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if stored.rowcount != 1:  # discarded meanwhile by a request that saw Mollie fail
        raise PaymentProviderUnavailable()


def checkout_origin() -> str:
    """The origin of the checkout pages: Mollie's, or the simulator's when
    MOLLIE_API_ENDPOINT names one (development, tests)."""
    endpoint = urlsplit(current_app.config.get("MOLLIE_API_ENDPOINT") or "")
    if endpoint.scheme and endpoint.netloc:
        return f"{endpoint.scheme}://{endpoint.netloc}"
    return MOLLIE_CHECKOUT_ORIGIN


def is_checkout(url: str | None) -> bool:
    """Whether `url` is a page of the checkout's origin (the only place "Payer" leads)."""
    parts = urlsplit(url or "")
    return bool(parts.path) and f"{parts.scheme}://{parts.netloc}" == checkout_origin()


def mollie_request(payment: Payment) -> dict:
    """The body of Mollie's `POST /v2/payments` for our open payment."""
    numbers = invoice_numbers(payment)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return {
        "amount": {"currency": CURRENCY, "value": mollie_value(payment.amount_cents)},
        "description": _description(numbers),
        "redirectUrl": f"{base}/finances/paiements/{payment.id}",
        "webhookUrl": f"{base}/webhooks/mollie",
        "metadata": {"payment_id": payment.id, "invoices": numbers},
        "locale": "fr_FR",
    }


def mollie_value(cents: int) -> str:
    """9600 → "96.00": Mollie's amount string, from integer cents (no float)."""
    whole, rest = divmod(cents, 100)
    return f"{whole}.{rest:02d}"


def invoice_numbers(payment: Payment) -> list[str]:
    """The numbers of the invoices the payment names, in id order (one statement)."""
    query = (
        select(Invoice.number)
        .join(PaymentAllocation, PaymentAllocation.invoice_id == Invoice.id)
        .where(PaymentAllocation.payment_id == payment.id)
        .order_by(Invoice.id)
    )
    return [number or "" for number in db.session.scalars(query)]


def _description(numbers: list[str]) -> str:
    word = "facture" if len(numbers) == 1 else "factures"
    return f"Portail Famille — {word} {', '.join(numbers)}"


def _discard(payment_id: int) -> None:
    """Delete a payment Mollie never created (none if another request stored its id): its
    row is locked first, so that a request storing Mollie's answer meanwhile either waits
    and finds it gone, or has stored it and nothing is deleted."""
    db.session.rollback()
    ledger.serialize_writes()
    unsent = db.session.scalar(
        select(Payment.id)
        .where(Payment.id == payment_id, Payment.mollie_id.is_(None))
        .with_for_update()
    )
    if unsent is not None:
        db.session.execute(
            delete(PaymentAllocation).where(PaymentAllocation.payment_id == payment_id)
        )
        db.session.execute(
            delete(Payment).where(Payment.id == payment_id, Payment.mollie_id.is_(None))
        )
    db.session.commit()


# --- Mollie's answers ------------------------------------------------------------------


def _client() -> Client:
    config = current_app.config
    seconds = config["MOLLIE_TIMEOUT_SECONDS"]  # to connect, and to read the answer
    # No retry here: the webhook answers 503 at once and Mollie itself calls again.
    client = Client(api_endpoint=config["MOLLIE_API_ENDPOINT"], timeout=(seconds, seconds), retry=0)
    client.set_api_key(config["MOLLIE_API_KEY"])
    return client


def _fetch(mollie_id: str) -> MollieState | None:
    """Mollie's state of the payment; None when Mollie does not know it; _Unreachable."""
    try:
        found = _client().payments.get(mollie_id)
    except NotFoundError:
        log.warning("Mollie does not know payment %s", mollie_id)
        return None
    except MollieError as error:
        log.warning("Mollie: payment %s not read (%s)", mollie_id, type(error).__name__)
        raise _Unreachable() from error
    amount = found.amount or {}
    return MollieState(
        status=str(found.status),
        amount_cents=_cents(amount),
        currency=str(amount.get("currency", "")),
        refunded_cents=_cents(found.amount_refunded) or 0,
        charged_back_cents=_cents(found.amount_chargedback) or 0,
        paid_at=_utc(found.paid_at),
    )


def _cents(amount: object) -> int | None:
    """{"value": "96.00"} → 9600; None for anything else."""
    value = amount.get("value") if isinstance(amount, dict) else None
    match = AMOUNT_VALUE.match(value) if isinstance(value, str) else None
    return int(match.group(1)) * 100 + int(match.group(2)) if match else None


def _utc(moment: object) -> datetime | None:
    """Mollie's "2026-11-30T09:13:37+00:00" as naive UTC; None if absent or unreadable."""
    try:
        parsed = datetime.fromisoformat(str(moment))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None)


# --- Applying Mollie's state -----------------------------------------------------------


def handle_webhook(raw_id: str, now: datetime) -> WebhookOutcome:
    """Mollie's call with `id=tr_…`: fetch that payment and apply it (see the rules)."""
    if not isinstance(raw_id, str) or not MOLLIE_ID.fullmatch(raw_id):
        return WebhookOutcome.IGNORED
    payment_id = db.session.scalar(select(Payment.id).where(Payment.mollie_id == raw_id))
    if payment_id is None:
        return WebhookOutcome.IGNORED
    try:
        state = _fetch(raw_id)
    except _Unreachable:
        return WebhookOutcome.RETRY
    if state is None:
        return WebhookOutcome.IGNORED
    apply_state(payment_id, state, now)
    return WebhookOutcome.APPLIED


def refresh_payment(payment: Payment, now: datetime) -> Payment:
    """The payment with Mollie's state applied if it was open (the return page); as it is
    recorded when Mollie cannot be reached. Never raises for Mollie."""
    if payment.status != PaymentStatus.OPEN or not payment.mollie_id:
        return payment
    try:
        state = _fetch(payment.mollie_id)
    except _Unreachable:
        return payment
    if state is None:
        return payment
    return apply_state(payment.id, state, now)


def apply_state(payment_id: int, state: MollieState, now: datetime) -> Payment:
    """Apply Mollie's state to our payment, idempotently, in one committed transaction."""
    payment = _apply(payment_id, state, now)
    db.session.commit()
    return payment


def _apply(payment_id: int, state: MollieState, now: datetime, reason: str = "") -> Payment:
    """Mollie's state applied to our payment, locked, left for the caller to commit;
    `reason`: why staff refunded, for the family's alert."""
    payment = _lock_payment(payment_id)
    if payment.status == PaymentStatus.OPEN:
        _settle(payment, state, now)
    if payment.status == PaymentStatus.PAID:
        _take_back_returns(payment, state, now, reason)
    return payment


def _lock_payment(payment_id: int) -> Payment:
    """Our payment, locked until commit and read afresh, its allocations too."""
    ledger.serialize_writes()
    return db.session.scalars(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .options(selectinload(Payment.allocations))
        .execution_options(populate_existing=True)
    ).one()


def _settle(payment: Payment, state: MollieState, now: datetime) -> None:
    """An open payment becomes paid, failed, canceled or expired as Mollie says."""
    if state.status in ENDED:
        payment.status = ENDED[state.status]
    elif state.status == "paid":
        if state.amount_cents == payment.amount_cents and state.currency == CURRENCY:
            _mark_paid(payment, state.paid_at or now, now)
        else:
            _report_mismatch(payment, state, now)


def _mark_paid(payment: Payment, paid_at: datetime, now: datetime) -> None:
    """Paid: allocated to the named invoices that still owe; the rest reported to staff."""
    named = sorted(allocation.invoice_id for allocation in payment.allocations)
    numbers = invoice_numbers(payment)
    payment.allocations.clear()
    db.session.flush()
    payment.status = PaymentStatus.PAID
    payment.paid_at = paid_at
    payment.received_on = paris_today(paid_at)
    left = ledger.allocate(payment, ledger.lock_invoices(named))
    if left:
        _notice(
            payment,
            PAID_TWICE,
            f"Paiement en ligne {payment.mollie_id} de {money(payment.amount_cents)} : "
            f"{money(left)} ne sont affectés à aucune facture, déjà réglée par ailleurs "
            f"({', '.join(numbers)}). À rembourser à la famille.",
            now,
        )
    notifications.notify(
        payment.family,
        AlertKind.PAYMENT,
        f"Votre paiement de {money(payment.amount_cents)} est confirmé "
        f"({_description(numbers).removeprefix('Portail Famille — ')}). Merci !",
        link="/finances",
        now=now,
    )


def _report_mismatch(payment: Payment, state: MollieState, now: datetime) -> None:
    """Mollie says paid, but not what we asked: nothing applied, staff told once."""
    already = db.session.scalar(
        select(StaffNotice.id).where(
            StaffNotice.payment_id == payment.id, StaffNotice.kind == AMOUNT_MISMATCH
        )
    )
    if already:
        return
    received = "illisible" if state.amount_cents is None else mollie_value(state.amount_cents)
    _notice(
        payment,
        AMOUNT_MISMATCH,
        f"Paiement en ligne {payment.mollie_id} : Mollie indique {received} "
        f"{state.currency or '?'} payés pour {money(payment.amount_cents)} demandés. "
        "Non enregistré : à vérifier.",
        now,
    )


def _take_back_returns(payment: Payment, state: MollieState, now: datetime, reason: str) -> None:
    """Refunds and chargebacks grown since last recorded: taken back once, people told."""
    refunded = max(state.refunded_cents - payment.refunded_cents, 0)
    charged_back = max(state.charged_back_cents - payment.charged_back_cents, 0)
    if not refunded and not charged_back:
        return
    payment.refunded_cents += refunded
    payment.charged_back_cents += charged_back
    kept = payment.amount_cents - payment.refunded_cents - payment.charged_back_cents
    excess = sum(allocation.amount_cents for allocation in payment.allocations) - kept
    if excess > 0:
        ledger.take_back(payment, excess)
    staff_notices.resolve_refunded(payment, now)
    if refunded:
        why = f" Motif : {reason}" if reason else ""
        _tell_family(payment, f"Un remboursement de {money(refunded)}", now, why)
    if charged_back:
        _tell_family(payment, f"Un rejet bancaire (rétrofacturation) de {money(charged_back)}", now)
        _notice(
            payment,
            CHARGEBACK,
            f"Rétrofacturation de {money(charged_back)} sur le paiement en ligne "
            f"{payment.mollie_id} : les factures concernées sont de nouveau dues.",
            now,
        )


def _tell_family(payment: Payment, what: str, now: datetime, why: str = "") -> None:
    notifications.notify(
        payment.family,
        AlertKind.PAYMENT,
        f"{what} sur votre paiement en ligne de {money(payment.amount_cents)} a été "
        f"enregistré ; vos factures et votre solde en tiennent compte.{why}",
        link="/finances",
        now=now,
    )


def _notice(payment: Payment, kind: str, message: str, now: datetime) -> None:
    db.session.add(
        StaffNotice(
            kind=kind,
            message=message[:500],
            family_id=payment.family_id,
            payment_id=payment.id,
            created_at=now,
        )
    )


# --- Refunding from the back office ---------------------------------------------------


def refund_at_mollie(
    payment: Payment, cents: int, reason: str, idempotency_key: str, now: datetime
) -> tuple[Payment, str]:
    """Have Mollie refund `cents` of our paid online payment, then apply what Mollie says
    of it (see the rules): the payment, locked and left for the caller to commit with its
    journal entry, and Mollie's refund id (the same again for the same key). The caller
    has checked the amount and the reason and holds no lock (none is held while Mollie is
    asked). RefundRefused (Mollie's state then applied and committed), RefundUnavailable
    or RefundNotConfirmed otherwise."""
    payment_id, mollie_id = payment.id, payment.mollie_id
    try:
        refund_id = _create_refund(mollie_id, cents, reason, idempotency_key)
    except RefundRefused:
        _catch_up(payment_id, mollie_id, now)
        raise
    try:
        state = _fetch(mollie_id)
    except _Unreachable:
        raise RefundNotConfirmed() from None
    if state is None:
        raise RefundNotConfirmed()
    return _apply(payment_id, state, now, reason), refund_id


def _catch_up(payment_id: int, mollie_id: str, now: datetime) -> None:
    """After a refusal, what Mollie says is applied (committed): a refund made in its
    dashboard, whose webhook has not come, is what made it refuse; the form then shows
    what is truly left to refund. Nothing when Mollie cannot be asked."""
    try:
        state = _fetch(mollie_id)
    except _Unreachable:
        return
    if state is not None:
        apply_state(payment_id, state, now)


def _create_refund(mollie_id: str, cents: int, reason: str, idempotency_key: str) -> str:
    """Mollie's refund id (the same one again for the same key and request)."""
    request = {
        "amount": {"currency": CURRENCY, "value": mollie_value(cents)},
        "description": f"Remboursement : {reason}"[:MAX_REFUND_DESCRIPTION],
    }
    try:
        at_mollie = _client().payments.get(mollie_id)
        refund = at_mollie.refunds.create(request, idempotency_key=idempotency_key)
    except (UnprocessableEntityError, ConflictError, BadRequestError, NotFoundError) as error:
        log.warning("Mollie refused a refund of %s (%s)", mollie_id, error)
        raise RefundRefused() from error
    except MollieError as error:
        log.warning("Mollie: %s not refunded (%s)", mollie_id, type(error).__name__)
        raise RefundUnavailable() from error
    return str(refund.id)


# --- Reconciliation --------------------------------------------------------------------


def reconcile_open_payments(now: datetime, dry_run: bool) -> str:
    """Ask Mollie about online payments still open RECONCILE_AFTER after they started (their
    webhook never came) and apply what it says; delete those that never reached Mollie (the
    family never saw a checkout). One line for the jobs' report. Stops at the first payment
    Mollie cannot be asked about: it is down, the next run tries again."""
    late = db.session.execute(
        select(Payment.id, Payment.mollie_id)
        .where(
            Payment.method == PaymentMethod.ONLINE,
            Payment.status == PaymentStatus.OPEN,
            Payment.created_at < now - RECONCILE_AFTER,
        )
        .order_by(Payment.id)
    ).all()
    if dry_run:
        return f"{len(late)} paiement(s) en ligne sans nouvelles à vérifier, rien demandé"
    settled = 0
    for payment_id, mollie_id in late:
        try:
            settled += _reconcile(payment_id, mollie_id, now)
        except _Unreachable:
            return f"Mollie injoignable : {settled} paiement(s) réglé(s), suite au prochain passage"
    return f"{len(late)} paiement(s) en ligne vérifié(s) auprès de Mollie, {settled} réglé(s)"


def _reconcile(payment_id: int, mollie_id: str | None, now: datetime) -> bool:
    """Whether the late payment is settled now (paid, failed… or deleted, never sent)."""
    if mollie_id is None:
        _discard(payment_id)
        return True
    state = _fetch(mollie_id)
    return state is not None and apply_state(payment_id, state, now).status != PaymentStatus.OPEN
