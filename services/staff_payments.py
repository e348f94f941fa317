"""Money staff receive at the counter, refunds, unpaid invoices and their reminders
(relances), and the CSV exports for the public treasurer (DOMAIN.md, Billing).

Rules:

- Staff record a payment of one family by cheque, cash, CESU or bank transfer; an online
  payment only ever comes from Mollie. The amount is positive, the day it was received is
  given and is not after today (Paris), the reference fits 120 characters.
- It is `paid` at once and allocated (services.ledger) to the invoices staff chose, in the
  order chosen: issued invoices of that family, each still owing. Its amount is at most
  what they owe together: money that would find no invoice is refused, never kept as a
  credit (the balance is never negative).
- A refund gives back part or all of what is left of a paid payment (its amount less
  what was refunded and charged back), for a reason written down; the invoices it paid
  owe again, the last one first. An online payment is refunded by Mollie first
  (services.payments, with the form's key: a double submission refunds once); what
  Mollie then reports is recorded, once even when its webhook brings it too. Mollie
  refusing or unreachable: a French message, nothing refunded (after a refusal, what
  Mollie reports of the payment is recorded: a refund made in its dashboard).
- The family is told of a payment and of a refund (an alert, its email, a link to
  FINANCES); each is journaled with the agent, the address and what it allocated or
  refunded. One transaction each; a refusal (a StaffPaymentError, in French) writes
  nothing.
- Unpaid: issued invoices that still owe something, due or not yet, with the days they
  are late (0 until the day after their due date).
- A reminder goes to each family once, listing its chosen invoices that still owe, with a
  link to FINANCES (an INVOICE alert and its email); each of them counts it
  (`reminder_count`, `last_reminder_at`) and is journaled. An invoice is reminded at most
  once a day (Paris): one reminded today, paid since or not an issued invoice is left
  out, and the outcome says which and why.
- Exports: the rows of the invoices and credit notes issued, and of the payments received,
  between two days (Paris, both included), for the back office's CSV (which defuses every
  cell against spreadsheet formulas); amounts in euros with a decimal comma (12,50), dates
  as 26/11/2026.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from extensions import db
from models import (
    AlertKind,
    AuditEvent,
    Family,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    StaffUser,
)
from services import audit, ledger, notifications, staff_notices
from services import payments as online
from services.calendar import paris_today
from services.formatting import PARIS, date_fr, money
from vocabulary import PAYMENT_METHOD_PHRASES, enum_label

COUNTER_METHODS = (
    PaymentMethod.CHEQUE,
    PaymentMethod.CASH,
    PaymentMethod.CESU,
    PaymentMethod.TRANSFER,
)
REFERENCE_MAX = 120
REASON_MAX = 300
# The refund form's key (refund_key): Mollie refunds once per key.
REFUND_KEY = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
FINANCES_LINK = "/finances"
# The journal's actions (admin_views/system.py gives their French labels).
RECORDED, REFUNDED, REMINDED = "payment-recorded", "refund", "reminder"


class StaffPaymentError(Exception):
    """A refused counter operation; `message` is French, for the agent."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _committed(function):
    """Commit what the service wrote, or roll it all back (locks released) and re-raise."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            result = function(*args, **kwargs)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        return result

    return wrapper


# --- Recording a payment -----------------------------------------------------------------


@_committed
def record_payment(
    family: Family,
    method: PaymentMethod | str,
    amount_cents: int,
    received_on: date | None,
    reference: str,
    invoice_ids: Sequence[int],
    staff: StaffUser,
    now: datetime,
    ip: str | None = None,
) -> Payment:
    """Record money received at the counter and allocate it to the chosen invoices (see the
    module's rules); the paid Payment, committed with its alert and journal entry."""
    method = _counter_method(method)
    reference = _checked_reference(reference)
    _check_amount(amount_cents)
    _check_received_on(received_on, now)
    invoices = _chosen_invoices(family, invoice_ids)
    _check_fits(amount_cents, invoices)
    payment = Payment(
        family_id=family.id,
        method=method,
        status=PaymentStatus.PAID,
        amount_cents=amount_cents,
        refunded_cents=0,
        charged_back_cents=0,
        received_on=received_on,
        reference=reference,
        paid_at=now,
        recorded_by_id=staff.id,
    )
    db.session.add(payment)
    ledger.allocate(payment, invoices)
    notifications.notify(
        family, AlertKind.PAYMENT, _recorded_message(payment), link=FINANCES_LINK, now=now
    )
    audit.record(staff, RECORDED, payment, _recorded_changes(payment), ip)
    return payment


def _counter_method(method: PaymentMethod | str) -> PaymentMethod:
    try:
        method = PaymentMethod(method)
    except ValueError:
        raise StaffPaymentError("Mode de règlement inconnu.") from None
    if method not in COUNTER_METHODS:
        raise StaffPaymentError(
            "Un paiement en ligne n'est enregistré que par Mollie : choisissez chèque, "
            "espèces, CESU ou virement."
        )
    return method


def _checked_reference(reference: str | None) -> str:
    reference = (reference or "").strip()
    if len(reference) > REFERENCE_MAX:
        raise StaffPaymentError(f"La référence ne peut dépasser {REFERENCE_MAX} caractères.")
    return reference


def _check_amount(amount_cents: int | None) -> None:
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise StaffPaymentError("Le montant doit être supérieur à 0,00 €.")


def _check_received_on(received_on: date | None, now: datetime) -> None:
    if received_on is None:
        raise StaffPaymentError("Indiquez le jour où le règlement a été reçu.")
    if received_on > paris_today(now):
        raise StaffPaymentError("Le jour de réception ne peut pas être dans le futur.")


def _chosen_invoices(family: Family, invoice_ids: Sequence[int]) -> list[Invoice]:
    """The chosen invoices, locked, in the order chosen; each one of the family's issued
    invoices still owing (StaffPaymentError otherwise)."""
    wanted = list(dict.fromkeys(invoice_ids))
    if not wanted:
        raise StaffPaymentError("Choisissez au moins une facture à régler.")
    found = {invoice.id: invoice for invoice in ledger.lock_invoices(wanted)}
    invoices = [found[invoice_id] for invoice_id in wanted if invoice_id in found]
    if len(invoices) != len(wanted) or any(not _billed_to(i, family) for i in invoices):
        raise StaffPaymentError(
            "Une des factures choisies n'est pas une facture émise de cette famille : "
            "rechargez la page."
        )
    owed = ledger.due_cents(invoices)
    for invoice in invoices:
        if owed[invoice.id] <= 0:
            raise StaffPaymentError(f"La facture n° {invoice.number} est déjà réglée.")
    return invoices


def _billed_to(invoice: Invoice, family: Family) -> bool:
    return (
        invoice.family_id == family.id
        and invoice.kind == InvoiceKind.INVOICE
        and invoice.status in ledger.BILLED
    )


def _check_fits(amount_cents: int, invoices: Sequence[Invoice]) -> None:
    owed = sum(ledger.due_cents(invoices).values())
    if amount_cents > owed:
        raise StaffPaymentError(
            f"Le montant ({money(amount_cents)}) dépasse ce que doivent les factures "
            f"choisies ({money(owed)}) : rien n'a été enregistré."
        )


def _recorded_message(payment: Payment) -> str:
    numbers = [allocation.invoice.number for allocation in payment.allocations]
    invoices = (
        f"à la facture n° {numbers[0]}"
        if len(numbers) == 1
        else f"aux factures n° {', '.join(numbers[:-1])} et {numbers[-1]}"
    )
    return (
        f"Votre règlement {PAYMENT_METHOD_PHRASES[payment.method]} de "
        f"{money(payment.amount_cents)} a été enregistré et affecté {invoices}."
    )


def _recorded_changes(payment: Payment) -> dict[str, list]:
    values = {
        "family_id": payment.family_id,
        "method": payment.method.value,
        "amount_cents": payment.amount_cents,
        "received_on": payment.received_on,
        "reference": payment.reference,
        "allocations": {a.invoice.number: a.amount_cents for a in payment.allocations},
    }
    return {name: [None, value] for name, value in values.items()}


# --- Refunds -----------------------------------------------------------------------------


def refundable_cents(payment: Payment) -> int:
    """What is left of the payment to refund: its amount less what went back already."""
    return payment.amount_cents - payment.refunded_cents - payment.charged_back_cents


def refund_key(sent: str | None = None) -> str:
    """The refund form's key: the one it sent (shown again after a refusal, so that sending
    it once more cannot refund twice), else a new one. Mollie refunds once per key."""
    if isinstance(sent, str) and REFUND_KEY.fullmatch(sent):
        return sent
    return secrets.token_urlsafe(24)


def refund_payment(
    payment: Payment,
    amount_cents: int,
    reason: str,
    staff: StaffUser,
    now: datetime,
    ip: str | None = None,
    refund_key: str = "",
) -> Payment:
    """Give back `amount_cents` of a paid payment, for `reason` (see the rules); an online
    payment through Mollie. The key its form sent (see refund_key()) makes a form sent
    twice refund once."""
    if payment.method == PaymentMethod.ONLINE:
        return _refund_online(payment, amount_cents, reason, staff, now, ip, refund_key)
    return _refund_at_counter(payment, amount_cents, reason, staff, now, ip, refund_key)


@_committed
def _refund_at_counter(
    payment: Payment,
    amount_cents: int,
    reason: str,
    staff: StaffUser,
    now: datetime,
    ip,
    refund_key: str = "",
) -> Payment:
    """Recorded under the payment's lock; the same form sent again (a double click, the
    browser's back) finds its refund in the journal and records nothing more."""
    form_key = (
        refund_key if isinstance(refund_key, str) and REFUND_KEY.fullmatch(refund_key) else ""
    )
    ledger.serialize_writes()
    db.session.refresh(payment, with_for_update=True)
    if form_key and _refunded_by_form(payment, form_key, amount_cents):
        return payment
    reason = _checked_refund(payment, amount_cents, reason)
    before = payment.refunded_cents
    payment.refunded_cents += amount_cents
    allocated = sum(allocation.amount_cents for allocation in payment.allocations)
    excess = allocated - refundable_cents(payment)
    if excess > 0:
        ledger.take_back(payment, excess)
    staff_notices.resolve_refunded(payment, now)
    notifications.notify(
        payment.family,
        AlertKind.PAYMENT,
        _refund_message(payment, amount_cents, reason),
        link=FINANCES_LINK,
        now=now,
    )
    changes = {"refunded_cents": [before, payment.refunded_cents], "reason": [None, reason]}
    if form_key:
        changes["form_key"] = [None, form_key]
    audit.record(staff, REFUNDED, payment, changes, ip)
    return payment


def _checked_refund(payment: Payment, amount_cents: int, reason: str) -> str:
    """The reason, tidied, once the payment is locked and read again and the refund
    allowed: two agents refunding the same payment refund it once (FOR UPDATE on
    PostgreSQL; SQLite ignores it, so its write lock is taken first)."""
    ledger.serialize_writes()
    db.session.refresh(payment, with_for_update=True)
    reason = _checked_reason(reason)
    _check_refund(payment, amount_cents)
    return reason


@_committed
def _refund_online(
    payment: Payment,
    amount_cents: int,
    reason: str,
    staff: StaffUser,
    now: datetime,
    ip,
    refund_key: str,
) -> Payment:
    """Checked here, refunded by Mollie with no lock held (one is released before the call,
    as when a payment starts), then recorded from what Mollie reports, with its journal
    entry, in one transaction. The same form sent again gets Mollie's first refund back:
    journaled once."""
    if not isinstance(refund_key, str) or not REFUND_KEY.fullmatch(refund_key):
        raise StaffPaymentError("Ce formulaire a expiré : rechargez la page, puis recommencez.")
    if _refunded_by_form(payment, refund_key, amount_cents):
        return payment  # sent again once recorded (a double click): done, not refused
    reason = _checked_refund(payment, amount_cents, reason)
    before = payment.refunded_cents
    db.session.rollback()
    try:
        payment, refund_id = online.refund_at_mollie(
            payment, amount_cents, reason, f"pf-refund-{payment.id}-{refund_key}", now
        )
    except online.PaymentError as error:
        raise StaffPaymentError(error.message) from error
    if not _journaled_refund(payment, refund_id):
        changes = {
            "refunded_cents": [before, payment.refunded_cents],
            "reason": [None, reason],
            "mollie_refund": [None, refund_id],
            "form_key": [None, refund_key],
        }
        audit.record(staff, REFUNDED, payment, changes, ip)
    return payment


def _journaled_refund(payment: Payment, refund_id: str) -> bool:
    """Whether Mollie's refund is in the journal already (a form sent twice)."""
    return _refund_changes(payment, refund_id) is not None


def _refunded_by_form(payment: Payment, refund_key: str, amount_cents: int) -> bool:
    """Whether the form with this key refunded this amount already (sent again after it was
    recorded: a double click, the browser's back). Sent again for another amount, it is
    refused: its key would make Mollie answer with the first refund."""
    changes = _refund_changes(payment, refund_key)
    if changes is None:
        return False
    before, after = json.loads(changes)["refunded_cents"]
    if after - before != amount_cents:
        raise StaffPaymentError(
            f"Ce formulaire a déjà servi à rembourser {money(after - before)} : pour un autre "
            "remboursement, rouvrez « Rembourser ce règlement » depuis la fiche du règlement."
        )
    return True


def _refund_changes(payment: Payment, mark: str) -> str | None:
    """The journaled changes of the payment's refund holding `mark` (Mollie's refund id, or
    the key of the form that asked for it), if any."""
    return db.session.scalar(
        select(AuditEvent.changes).where(
            AuditEvent.action == REFUNDED,
            AuditEvent.entity == "Payment",
            AuditEvent.entity_id == str(payment.id),
            AuditEvent.changes.contains(f'"{mark}"', autoescape=True),
        )
    )


def _checked_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise StaffPaymentError("Indiquez le motif du remboursement.")
    if len(reason) > REASON_MAX:
        raise StaffPaymentError(f"Le motif ne peut dépasser {REASON_MAX} caractères.")
    return reason


def _check_refund(payment: Payment, amount_cents: int) -> None:
    if payment.status != PaymentStatus.PAID:
        raise StaffPaymentError("Seul un règlement encaissé peut être remboursé.")
    _check_amount(amount_cents)
    left = refundable_cents(payment)
    if amount_cents > left:
        raise StaffPaymentError(
            f"Au plus {money(left)} de ce règlement peuvent encore être remboursés."
        )


def _refund_message(payment: Payment, amount_cents: int, reason: str) -> str:
    received = date_fr(payment.received_on, "d MMMM y") if payment.received_on else ""
    when = f" du {received}" if received else ""
    return (
        f"Nous vous avons remboursé {money(amount_cents)} sur votre règlement "
        f"{PAYMENT_METHOD_PHRASES[payment.method]}{when}. Motif : {reason}"
    )


# --- Unpaid invoices and reminders -------------------------------------------------------

_CreditNote = aliased(Invoice)


def _credited_cents():
    """What the credit notes of the outer query's invoice take off it (a subquery)."""
    return (
        select(func.coalesce(func.sum(_CreditNote.total_cents), 0))
        .where(
            _CreditNote.kind == InvoiceKind.CREDIT_NOTE,
            _CreditNote.credits_invoice_id == Invoice.id,
            _CreditNote.status.in_(ledger.BILLED),
        )
        .scalar_subquery()
    )


def _paid_cents():
    """What paid payments allocated to the outer query's invoice (a subquery)."""
    return (
        select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.invoice_id == Invoice.id, Payment.status == PaymentStatus.PAID)
        .scalar_subquery()
    )


@dataclass(frozen=True)
class Unpaid:
    """An issued invoice that still owes `owing_cents`, `days_late` days past due."""

    invoice: Invoice
    owing_cents: int
    days_late: int


def days_late(invoice: Invoice, today: date) -> int:
    if invoice.due_on is None or today <= invoice.due_on:
        return 0
    return (today - invoice.due_on).days


def unpaid_invoices(
    today: date, search: str = "", min_days_late: int = 0, family_id: int | None = None
) -> list[Unpaid]:
    """Issued invoices still owing, the latest first (one statement): those whose family
    name or number holds `search`, at least `min_days_late` days late when above 0, of
    one family when `family_id` is given."""
    credited, paid = _credited_cents(), _paid_cents()
    owing = Invoice.total_cents - credited - paid
    query = (
        select(Invoice, owing)
        .join(Invoice.family)
        .where(
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status.in_(ledger.BILLED),
            owing > 0,
        )
        .options(joinedload(Invoice.family))
        .order_by(Invoice.due_on.desc(), Invoice.id.desc())
    )
    if search:
        query = query.where(
            or_(
                Family.name.icontains(search, autoescape=True),
                Invoice.number.icontains(search, autoescape=True),
            )
        )
    if min_days_late > 0:
        query = query.where(Invoice.due_on <= today - timedelta(days=min_days_late))
    if family_id is not None:
        query = query.where(Invoice.family_id == family_id)
    return [
        Unpaid(invoice, cents, days_late(invoice, today))
        for invoice, cents in db.session.execute(query).all()
    ]


@dataclass
class Reminders:
    """What send_reminders did: the invoices reminded, their families, and those left out
    with the reason (French)."""

    reminded: list[Invoice] = field(default_factory=list)
    families: int = 0
    skipped: list[tuple[Invoice, str]] = field(default_factory=list)


REMINDER_FIELDS = ("reminder_count", "last_reminder_at")


def send_reminders(
    invoice_ids: Iterable[int], staff: StaffUser, now: datetime, ip: str | None = None
) -> Reminders:
    """Remind each family of its chosen invoices that still owe (see the rules), in one
    transaction; nothing is written when none can be reminded."""
    outcome = Reminders()
    invoices = ledger.lock_invoices(invoice_ids)
    owed = ledger.due_cents(invoices)
    today = paris_today(now)
    for invoice in invoices:
        reason = _not_to_remind(invoice, owed[invoice.id], today)
        if reason:
            outcome.skipped.append((invoice, reason))
        else:
            outcome.reminded.append(invoice)
    if not outcome.reminded:
        db.session.rollback()
        return outcome
    outcome.families = _remind_families(outcome.reminded, owed, staff, now, ip)
    db.session.commit()
    return outcome


def _not_to_remind(invoice: Invoice, owed: int, today: date) -> str:
    if invoice.kind != InvoiceKind.INVOICE or invoice.status not in ledger.BILLED:
        return "ce n'est pas une facture émise"
    if owed <= 0:
        return "elle est réglée"
    if invoice.last_reminder_at and paris_today(invoice.last_reminder_at) == today:
        return "déjà relancée aujourd'hui"
    return ""


def _remind_families(
    invoices: list[Invoice], owed: dict[int, int], staff: StaffUser, now: datetime, ip
) -> int:
    """One alert per family listing its invoices; each invoice counts the reminder."""
    by_family: dict[int, list[Invoice]] = {}
    for invoice in invoices:
        by_family.setdefault(invoice.family_id, []).append(invoice)
    families = db.session.scalars(
        select(Family)
        .where(Family.id.in_(by_family))
        .options(selectinload(Family.accounts), selectinload(Family.guardians))
    )
    for family in families:
        mine = by_family[family.id]
        message, details = _reminder_text(mine, owed)
        notifications.notify(
            family, AlertKind.INVOICE, message, link=FINANCES_LINK, now=now, details=details
        )
        for invoice in mine:
            before = audit.fields_of(invoice, REMINDER_FIELDS)
            invoice.reminder_count += 1
            invoice.last_reminder_at = now
            audit.record_since(staff, REMINDED, invoice, before, ip)
    return len(by_family)


def _reminder_text(invoices: list[Invoice], owed: dict[int, int]) -> tuple[str, list[str]]:
    total = money(sum(owed[invoice.id] for invoice in invoices))
    if len(invoices) == 1:
        message = f"Relance : la facture n° {invoices[0].number} reste à régler ({total})."
    else:
        message = f"Relance : {len(invoices)} factures restent à régler ({total} au total)."
    details = [_reminder_line(invoice, owed[invoice.id]) for invoice in invoices]
    return f"{message} Vous pouvez les régler depuis FINANCES.", details


def _reminder_line(invoice: Invoice, owed: int) -> str:
    month = date_fr(invoice.period_month, "LLLL y")
    due = f", à régler avant le {date_fr(invoice.due_on, 'd MMMM y')}" if invoice.due_on else ""
    return f"Facture n° {invoice.number} ({month}) : {money(owed)} restant dus{due}"


# --- Exports for the public treasurer ----------------------------------------------------

INVOICE_HEADER = (
    "Numéro",
    "Famille",
    "Période",
    "Émise le",
    "Échéance",
    "Type",
    "Avoir sur la facture",
    "Total",
    "Avoirs",
    "Payé",
    "Reste dû",
)
PAYMENT_HEADER = (
    "Reçu le",
    "Famille",
    "Mode",
    "Référence",
    "Montant",
    "Remboursé",
    "Rejeté (impayé bancaire)",
    "Factures réglées",
)


def check_range(start: date | None, end: date | None) -> None:
    if start is None or end is None:
        raise StaffPaymentError("Indiquez les deux dates de la période (du … au …).")
    if start > end:
        raise StaffPaymentError("La période commence après sa fin : vérifiez les dates.")


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The naive-UTC moments where Paris day `start` begins and the day after `end` begins."""

    def utc(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)

    return utc(start), utc(end + timedelta(days=1))


def invoice_rows(start: date | None, end: date | None) -> list[tuple]:
    """The export's header, then the invoices and credit notes issued from `start` to
    `end`, by number (one statement)."""
    check_range(start, end)
    first, after = _utc_bounds(start, end)
    credited, paid = _credited_cents(), _paid_cents()
    Credited = aliased(Invoice)
    query = (
        select(Invoice, credited, paid, Credited.number)
        .outerjoin(Credited, Credited.id == Invoice.credits_invoice_id)
        .where(
            Invoice.status.in_(ledger.BILLED),
            Invoice.issued_at >= first,
            Invoice.issued_at < after,
        )
        .options(joinedload(Invoice.family))
        .order_by(Invoice.number)
    )
    rows = [_invoice_row(*found) for found in db.session.execute(query).all()]
    return [INVOICE_HEADER, *rows]


def _invoice_row(invoice: Invoice, credited: int, paid: int, credits_number: str | None):
    is_invoice = invoice.kind == InvoiceKind.INVOICE
    owing = invoice.total_cents - credited - paid
    return (
        invoice.number,
        invoice.billed_name,  # as issued: it stays after a move or an anonymisation
        date_fr(invoice.period_month, "MM/y"),
        date_fr(paris_today(invoice.issued_at), "dd/MM/y"),
        date_fr(invoice.due_on, "dd/MM/y"),
        enum_label(invoice.kind),
        credits_number or "",
        euros(invoice.total_cents),
        euros(credited) if is_invoice else "",
        euros(paid) if is_invoice else "",
        euros(owing) if is_invoice else "",
    )


def _received_between(query: Select, start: date, end: date) -> Select:
    """Payments received those days: the day staff wrote, else the day Mollie paid (Paris)."""
    first, after = _utc_bounds(start, end)
    return query.where(
        or_(
            Payment.received_on.between(start, end),
            and_(
                Payment.received_on.is_(None),
                Payment.paid_at >= first,
                Payment.paid_at < after,
            ),
        )
    )


def payment_rows(start: date | None, end: date | None) -> list[tuple]:
    """The export's header, then the paid payments received from `start` to `end`, oldest
    first (two statements)."""
    check_range(start, end)
    query = (
        select(Payment)
        .where(Payment.status == PaymentStatus.PAID)
        .options(
            joinedload(Payment.family),
            selectinload(Payment.allocations).joinedload(PaymentAllocation.invoice),
        )
    )
    payments = db.session.scalars(_received_between(query, start, end)).all()
    payments = sorted(payments, key=lambda payment: (received_day(payment), payment.id))
    return [PAYMENT_HEADER, *(_payment_row(payment) for payment in payments)]


def received_day(payment: Payment) -> date:
    """The day staff wrote, else the day Mollie paid it (Paris)."""
    return payment.received_on or paris_today(payment.paid_at)


def _payment_row(payment: Payment) -> tuple:
    allocations = " ; ".join(
        f"{a.invoice.number} : {euros(a.amount_cents)}" for a in payment.allocations
    )
    return (
        date_fr(received_day(payment), "dd/MM/y"),
        payment.family.name,
        enum_label(payment.method),
        payment.reference or payment.mollie_id or "",
        euros(payment.amount_cents),
        euros(payment.refunded_cents),
        euros(payment.charged_back_cents),
        allocations,
    )


def euros(cents: int) -> str:
    """12,50: an amount a French spreadsheet reads as a number (no float on the way)."""
    return f"{Decimal(cents) / 100:.2f}".replace(".", ",")
