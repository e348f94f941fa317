"""The monthly billing run, and credit notes (DOMAIN.md, Billing; SECURITY.md 29).

What the invoice of month M (post-paid, issued at the start of M+1) holds, per family:

- every booked day of M (registered, change-requested, cancel-requested) is billed, unless
  the day is closed for the child's school (« fermeture », a closure added after booking);
- attendance present, or not taken yet: the unit price;
- absent without justification: the late-cancellation price (« absence non justifiée »):
  after the cancel deadline, declaring an absence is the only way out of a booking;
- absence justified by staff: not billed (« absence justifiée »);
- absence declared and not yet decided by staff: billed at the unit price, and the
  preview warns staff (« absence déclarée non examinée ») so they decide it first;
- a presence without booking (is_walk_in, present): the walk-in price; a walk-in marked
  absent was a mistake and is not billed;
- cancelled: not billed (« annulé à temps »: a cancellation is only possible before the
  deadline); pending or refused: never booked (« non réservé »).

Prices come from services.tariffs (PriceList, loaded once) for the family's quotient on
each day. Lines are grouped per child, activity, option, price kind and unit price:
quantity × unit price, each line rounded once (integer cents), the total their sum. A
family with a billed day that no tariff prices is held back (no invoice, a warning):
staff enter the tariff and run again. A family with nothing billable gets no invoice.

The run (`run_billing`): each family is all or nothing — the invoice, its lines, its
number, its alert and email are written in the family's own savepoint, rolled back
together when anything fails; the families are committed by batches of BATCH (one disk
sync per batch: on SQLite a sync per family would be most of a large run's time). When
a family fails, the families before it are committed and the run stops with the error.
Numbers are "YYYY-NNNNNN", gapless per year of issue (the Paris year of `now`), taken
from the InvoiceNumberSequence row locked by an UPDATE … RETURNING until the commit: a
family rolled back rolls its number back with it, so an exception mid-run leaves neither
a half invoice nor a gap, and a second run completes the month. The invoice is issued
at `now`, due 30 days after now's Paris date. A family already invoiced for M is skipped
(the partial unique index uq_invoice_family_month guarantees it, even for two runs at
once): running twice changes nothing. The invoice keeps whom it was issued to, the family's
name and address of that day (services.finance_documents.billed_identity): its PDF prints
them ever after, when the family has moved or been anonymised.

An issued invoice is never edited: a correction is a credit note (`issue_credit_note`),
numbered from the same sequence, for at most what earlier credit notes do not credit yet,
checked under the invoice's lock: an invoice may get several, in the same month too, paid
or not. What a credit note takes off the part already paid is released from the payments
(services.ledger.release): the invoice stays paid, the money stays on the payment as the
family's, and staff get a notice to refund it (services.staff_notices). A credit note keeps
the family's name and address of the day it is issued, as an invoice does.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Date, String, bindparam, insert, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from extensions import db, read_rows
from models import (
    Activity,
    ActivityOption,
    AlertKind,
    Attendance,
    Booking,
    BookingStatus,
    Child,
    Family,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceStatus,
    NotBilledReason,
    Payment,
    PriceKind,
    School,
    StaffNotice,
    StaffUser,
)
from services import audit, ledger, notifications
from services.calendar import Calendar, month_bounds, paris_today
from services.finance_documents import BILLED_CHILD_SEPARATOR, billed_identity
from services.formatting import date_fr, money, plural
from services.staff_notices import CREDIT_TO_REFUND
from services.tariffs import PriceList, quotient_on
from vocabulary import PRICE_KINDS

BILLABLE = frozenset(
    {BookingStatus.REGISTERED, BookingStatus.CHANGE_REQUESTED, BookingStatus.CANCEL_REQUESTED}
)
DUE_AFTER_DAYS = 30
REASON_MAX = 300
KIND_ORDER = {kind: order for order, kind in enumerate(PriceKind)}


class BillingError(Exception):
    """A refused billing request; `message` is French, for the agent."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


# --- What a month bills ------------------------------------------------------------------


@dataclass(frozen=True)
class BillLine:
    """One invoice line: a child's days of one activity, option and price kind."""

    child_id: int
    activity_id: int
    option_id: int | None
    kind: PriceKind
    unit_price_cents: int
    quantity: int
    label: str

    @property
    def amount_cents(self) -> int:
        return self.unit_price_cents * self.quantity


@dataclass(frozen=True)
class NotBilled:
    """A day of the month left off the invoice, and why."""

    child: str
    activity: str
    day: date
    reason: NotBilledReason


@dataclass
class FamilyBill:
    """What the month bills one family, as the preview shows it and the run issues it."""

    family_id: int
    family_name: str
    lines: list[BillLine] = field(default_factory=list)
    not_billed: list[NotBilled] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The number of the family's invoice for the month when it exists already.
    invoiced_number: str | None = None
    held_back: bool = False

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)

    @property
    def will_issue(self) -> bool:
        return self.invoiced_number is None and not self.held_back and bool(self.lines)


@dataclass
class MonthPreview:
    """The month's bills, family by family (by name), and what staff should know first."""

    month: date
    bills: list[FamilyBill]
    warnings: list[str]

    @property
    def to_issue(self) -> list[FamilyBill]:
        return [bill for bill in self.bills if bill.will_issue]

    @property
    def total_cents(self) -> int:
        return sum(bill.total_cents for bill in self.to_issue)


@dataclass
class BillingReport:
    """What a run did: invoices issued (their numbers), families skipped because already
    invoiced, families held back for want of a tariff, and the total issued."""

    month: date
    numbers: list[str] = field(default_factory=list)
    skipped: int = 0
    held_back: int = 0
    total_cents: int = 0

    @property
    def issued(self) -> int:
        return len(self.numbers)

    def summary(self) -> str:
        """What the run did, in one French sentence for the agent."""
        if not self.numbers:
            done = "Aucune facture émise : rien n'a changé"
        else:
            done = (
                f"{plural(self.issued, 'facture émise', 'factures émises')}, n° "
                f"{self.numbers[0]} à {self.numbers[-1]}, {money(self.total_cents)} en tout"
            )
        skipped = plural(self.skipped, "famille déjà facturée", "familles déjà facturées")
        held = plural(
            self.held_back, "famille en attente d'un tarif", "familles en attente d'un tarif"
        )
        return f"{done} ({skipped}, {held})."


@dataclass(frozen=True, slots=True)
class _Day:
    """One booking row of the month, as read (plain columns, no ORM object)."""

    child_id: int
    activity_id: int
    option_id: int | None
    school_id: int
    day: date
    status: BookingStatus
    attendance: Attendance | None
    is_walk_in: bool
    family_id: int
    family_name: str
    quotient: int | None
    child_name: str


_SPAN = (
    Booking.day >= bindparam("first", type_=Date),
    Booking.day <= bindparam("last", type_=Date),
)
# Day, status and attendance come raw (a few distinct values, converted once each): the
# month of a large commune is some 70,000 rows.
_BOOKINGS = (
    select(
        Booking.child_id,
        Booking.activity_id,
        Booking.option_id,
        Booking.school_id,
        type_coerce(Booking.day, String).label("day"),
        type_coerce(Booking.status, String).label("status"),
        type_coerce(Booking.attendance, String).label("attendance"),
        Booking.is_walk_in,
    )
    .where(*_SPAN)
    .order_by(Booking.child_id, Booking.day)
)
_CHILDREN = (
    select(
        Child.id,
        Child.family_id,
        Family.name.label("family_name"),
        Family.quotient_familial,
        (Child.first_name + " " + Child.last_name).label("child_name"),
        Family.quotient_valid_until,
    )
    .join(Family, Family.id == Child.family_id)
    .where(Child.id.in_(select(Booking.child_id).where(*_SPAN)))
    .order_by(Family.name, Family.id, Child.birth_date, Child.id)
)
_STATUSES = {status.value: status for status in BookingStatus}
_ATTENDANCES = {None: None, **{attendance.value: attendance for attendance in Attendance}}


def _month_days(first: date, last: date) -> list[_Day]:
    """The month's booking rows, family by family (by name), child by child, day by day."""
    span = {"first": first, "last": last}
    by_child = defaultdict(list)
    for booking in read_rows(_BOOKINGS, span):
        by_child[booking[0]].append(booking)
    dates: dict = {}
    return [
        _day(booking, child, dates)
        for child in read_rows(_CHILDREN, span)
        for booking in by_child[child[0]]
    ]


def _day(booking, child, dates: dict) -> _Day:
    """One row as the rules read it; `dates` keeps each day converted once (SQLite sends
    text, PostgreSQL dates). Rows are unpacked, not read by name: 70,000 of them."""
    _child, activity_id, option_id, school_id, raw_day, status, attendance, walk_in = booking
    child_id, family_id, family_name, quotient, child_name, valid_until = child
    day = dates.get(raw_day)
    if day is None:
        day = dates[raw_day] = raw_day if isinstance(raw_day, date) else date.fromisoformat(raw_day)
    if valid_until is not None and not isinstance(valid_until, date):
        valid_until = date.fromisoformat(valid_until)
    return _Day(
        child_id,
        activity_id,
        option_id,
        school_id,
        day,
        _STATUSES[status],
        _ATTENDANCES[attendance],
        bool(walk_in),
        family_id,
        family_name,
        quotient_on(quotient, valid_until, day),
        child_name,
    )


class _MonthData:
    """Everything a month's bills are made from, read in a few queries."""

    def __init__(self, month: date):
        self.first, self.last = month_bounds(month)
        self.days = _month_days(self.first, self.last)
        self.activities = {a.id: a for a in db.session.scalars(select(Activity))}
        self.options = {o.id: o.label for o in db.session.scalars(select(ActivityOption))}
        self.schools = {s.id: s for s in db.session.scalars(select(School))}
        self.calendar = Calendar.load(self.first, self.last)
        self.prices = PriceList.load(self.first, self.last)
        self.invoiced = dict(
            db.session.execute(
                select(Invoice.family_id, Invoice.number).where(
                    Invoice.kind == InvoiceKind.INVOICE, Invoice.period_month == self.first
                )
            ).all()
        )
        self._closed: dict[tuple[int, date], bool] = {}

    def is_closed(self, school_id: int, day: date) -> bool:
        key = (school_id, day)
        if key not in self._closed:
            self._closed[key] = not self.calendar.day(self.schools[school_id], day).is_open
        return self._closed[key]

    def what(self, row: _Day) -> str:
        """« Restaurant scolaire (Repas standard) »."""
        activity = self.activities[row.activity_id].name
        option = self.options.get(row.option_id)
        return f"{activity} ({option})" if option else activity


def first_of_month(month: date) -> date:
    return month.replace(day=1)


def parse_month(text: str | None) -> date:
    """The first day of the month written "YYYY-MM" (as an <input type="month"> sends it);
    BillingError in French for anything else."""
    value = (text or "").strip()
    try:
        year, month = (int(part) for part in value.split("-"))
        if not 2000 <= year <= 2999 or len(value) != 7:
            raise ValueError(value)
        return date(year, month, 1)
    except ValueError:
        raise BillingError(
            f"Mois invalide : « {value[:20]} ». Écrivez-le AAAA-MM, par exemple 2026-11."
        ) from None


def month_words(month: date) -> str:
    """« de novembre 2026 », « d'octobre 2026 »."""
    words = date_fr(month, "MMMM y")
    return f"d'{words}" if words[0] in "aeiouy" else f"de {words}"


def _price_kind(row: _Day) -> PriceKind | NotBilledReason:
    """The price a booked row is billed at, or why it is not billed (module docstring);
    the closure is checked by the caller."""
    if row.status not in BILLABLE:
        if row.status is BookingStatus.CANCELLED:
            return NotBilledReason.CANCELLED_IN_TIME
        return NotBilledReason.NOT_BOOKED
    if row.is_walk_in:
        return (
            PriceKind.WALK_IN
            if row.attendance is Attendance.PRESENT
            else NotBilledReason.NOT_BOOKED
        )
    if row.attendance is Attendance.ABSENT_JUSTIFIED:
        return NotBilledReason.ABSENCE_JUSTIFIED
    if row.attendance is Attendance.ABSENT_UNJUSTIFIED:
        return PriceKind.LATE_CANCEL
    return PriceKind.UNIT


def _outcome(data: _MonthData, row: _Day) -> PriceKind | NotBilledReason:
    outcome = _price_kind(row)
    if isinstance(outcome, PriceKind) and data.is_closed(row.school_id, row.day):
        return NotBilledReason.CLOSED
    return outcome


class _BillBuilder:
    """One family's bill, row by row (rows come child by child, day by day)."""

    def __init__(self, data: _MonthData, row: _Day):
        self.data = data
        self.bill = FamilyBill(row.family_id, row.family_name)
        self.bill.invoiced_number = data.invoiced.get(row.family_id)
        self.counts: Counter = Counter()
        self.labels: dict[tuple, str] = {}
        self.children: dict[int, int] = {}

    def add(self, row: _Day) -> None:
        self.children.setdefault(row.child_id, len(self.children))
        outcome = _outcome(self.data, row)
        if isinstance(outcome, NotBilledReason):
            what = self.data.what(row)
            self.bill.not_billed.append(NotBilled(row.child_name, what, row.day, outcome))
            return
        price = self.data.prices.price(
            row.activity_id, row.option_id, row.quotient, row.day, outcome
        )
        if price is None:
            self._unpriced(row)
            return
        if row.attendance is Attendance.ABSENCE_DECLARED:
            self._undecided(row)
        key = (row.child_id, row.activity_id, row.option_id, outcome, price)
        self.counts[key] += 1
        if key not in self.labels:
            self.labels[key] = self._label(row, outcome)

    def _unpriced(self, row: _Day) -> None:
        self.bill.held_back = True
        self.bill.warnings.append(
            f"Aucun tarif valide le {date_fr(row.day, 'd MMMM y')} pour {self.data.what(row)} : "
            "pas de facture tant qu'un tarif n'est pas saisi."
        )

    def _undecided(self, row: _Day) -> None:
        self.bill.warnings.append(
            f"Absence déclarée non examinée : {row.child_name}, {self.data.what(row)}, "
            f"{date_fr(row.day, 'd MMMM y')} (facturée au prix normal si elle n'est pas "
            "décidée avant la facturation)."
        )

    def _label(self, row: _Day, kind: PriceKind) -> str:
        what = self.data.what(row)
        if kind is not PriceKind.UNIT:
            what = f"{what}, {PRICE_KINDS[kind]}"
        return f"{what}{BILLED_CHILD_SEPARATOR}{row.child_name}"

    def _order(self, key: tuple) -> tuple:
        child_id, activity_id, option_id, kind, price = key
        activity = self.data.activities[activity_id]
        return (self.children[child_id], activity.sort_order, activity_id, option_id or 0,
                KIND_ORDER[kind], price)  # fmt: skip

    def done(self) -> FamilyBill:
        for key in sorted(self.counts, key=self._order):
            child_id, activity_id, option_id, kind, price = key
            line = BillLine(
                child_id, activity_id, option_id, kind, price, self.counts[key], self.labels[key]
            )
            self.bill.lines.append(line)
        return self.bill


def _bills(data: _MonthData) -> list[FamilyBill]:
    builders: dict[int, _BillBuilder] = {}
    for row in data.days:
        builder = builders.get(row.family_id)
        if builder is None:
            builder = builders[row.family_id] = _BillBuilder(data, row)
        builder.add(row)
    return [builder.done() for builder in builders.values()]


def preview_month(month: date, now: datetime | None = None) -> MonthPreview:
    """What the run would bill for the month, per family (by name), without writing. With
    `now`, a month not over yet is pointed out: its days to come are billed as booked."""
    month = first_of_month(month)
    data = _MonthData(month)
    warnings = []
    if now is not None and paris_today(now) <= data.last:
        warnings.append(
            f"Le mois {month_words(month)} n'est pas terminé : ses jours à venir seraient "
            "facturés comme réservés, sans relevé de présence."
        )
    return MonthPreview(month, _bills(data), warnings)


# --- The run ------------------------------------------------------------------------------

Progress = Callable[[int, int], None]


# Families per commit. Each family is issued in its own savepoint (its invoice, lines,
# number, alert and email: all or nothing) and a commit makes a batch durable: one disk
# sync per batch rather than per family, which on SQLite is most of a large run's time.
BATCH = 100


@dataclass
class _Run:
    """What every family of a run shares."""

    month: date
    now: datetime
    report: BillingReport
    progress: Progress | None
    total: int
    done: int = 0

    def __post_init__(self) -> None:
        today = paris_today(self.now)
        self.year = today.year
        self.due_on = today + timedelta(days=DUE_AFTER_DAYS)
        self.words = month_words(self.month)  # « de novembre 2026 », said to every family

    def issued(self, bill: FamilyBill, number: str | None) -> None:
        if number is None:
            self.report.skipped += 1
        else:
            self.report.numbers.append(number)
            self.report.total_cents += bill.total_cents
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.total)


def run_billing(month: date, now: datetime, progress: Progress | None = None) -> BillingReport:
    """Issue the month's invoices (module docstring), each family all or nothing; calls
    `progress(done, total)` after each family. BillingError for a month not begun."""
    month = first_of_month(month)
    if month > paris_today(now):
        raise BillingError(f"Le mois {month_words(month)} n'a pas commencé : rien à facturer.")
    preview = preview_month(month)
    report = BillingReport(month)
    report.skipped = sum(1 for bill in preview.bills if bill.invoiced_number)
    report.held_back = sum(
        1 for bill in preview.bills if bill.held_back and not bill.invoiced_number
    )
    to_issue = preview.to_issue
    run = _Run(month, now, report, progress, len(to_issue))
    for start in range(0, len(to_issue), BATCH):
        _issue_batch(run, to_issue[start : start + BATCH])
    return report


def _families_to_tell(bills: list[FamilyBill]) -> dict[int, Family]:
    """The batch's families with the logins and guardians their alert email goes to, in
    three queries for the batch rather than two per family."""
    families = db.session.scalars(
        select(Family)
        .where(Family.id.in_([bill.family_id for bill in bills]))
        .options(selectinload(Family.accounts), selectinload(Family.guardians))
    )
    return {family.id: family for family in families}


def _issue_batch(run: _Run, bills: list[FamilyBill]) -> None:
    """One transaction for the batch, one savepoint per family. When a family fails, the
    families before it are committed, then the error goes on: the run stops there."""
    try:
        # The transaction's first statement (a savepoint must not open it on SQLite).
        _open_sequence(run.year)
        families = _families_to_tell(bills)
        for bill in bills:
            run.issued(bill, _issue(run, bill, families[bill.family_id]))
    except Exception:
        _keep_issued()
        raise
    db.session.commit()


def _keep_issued() -> None:
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def _issue(run: _Run, bill: FamilyBill, family: Family) -> str | None:
    """The family's invoice, lines, number, alert and email in one savepoint; its number,
    or None when another run invoiced the family first."""
    savepoint = db.session.begin_nested()
    try:
        number = _take_number(run.year)
        connection = db.session.connection()
        invoice_id = connection.execute(
            _INSERT_INVOICE, _invoice_values(run, bill, number, family)
        ).inserted_primary_key[0]
        connection.execute(_INSERT_LINES, [_line_values(invoice_id, line) for line in bill.lines])
        _tell(run, bill, number, family)
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        if _invoice_number(bill.family_id, run.month) is None:
            raise
        return None
    except Exception:
        savepoint.rollback()
        raise
    return number


def _tell(run: _Run, bill: FamilyBill, number: str, family: Family) -> None:
    notifications.notify(
        family,
        AlertKind.INVOICE,
        f"Votre facture n° {number} {run.words} est disponible : {money(bill.total_cents)}.",
        link="/finances",
        now=run.now,
    )


_INSERT_INVOICE = insert(Invoice.__table__)
_INSERT_LINES = insert(InvoiceLine.__table__)


def _invoice_values(run: _Run, bill: FamilyBill, number: str, family: Family) -> dict:
    return {
        **billed_identity(family),
        "family_id": bill.family_id,
        "number": number,
        "kind": InvoiceKind.INVOICE,
        "period_month": run.month,
        "status": InvoiceStatus.ISSUED,
        "issued_at": run.now,
        "due_on": run.due_on,
        "total_cents": bill.total_cents,
        "reason": "",
        "reminder_count": 0,
        "created_at": run.now,
    }


def _line_values(invoice_id: int, line: BillLine) -> dict:
    return {
        "invoice_id": invoice_id,
        "child_id": line.child_id,
        "activity_id": line.activity_id,
        "option_id": line.option_id,
        "label": line.label,
        "unit_price_cents": line.unit_price_cents,
        "quantity": line.quantity,
        "amount_cents": line.amount_cents,
    }


def _invoice_number(family_id: int, month: date) -> str | None:
    return db.session.scalar(
        select(Invoice.number).where(
            Invoice.family_id == family_id,
            Invoice.period_month == month,
            Invoice.kind == InvoiceKind.INVOICE,
        )
    )


# --- Numbers ------------------------------------------------------------------------------

_SEQUENCE = InvoiceNumberSequence.__table__
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
_NEXT = (
    update(_SEQUENCE)
    .where(_SEQUENCE.c.year == bindparam("sequence_year"))
    .values(last_number=_SEQUENCE.c.last_number + 1)
    .returning(_SEQUENCE.c.last_number)
)


def _open_sequence(year: int) -> None:
    """The year's sequence row, created at 0 when the year has none yet (concurrent runs
    create it once)."""
    connection = db.session.connection()
    insert_row = _INSERTS[connection.dialect.name](_SEQUENCE)
    connection.execute(insert_row.values(year=year, last_number=0).on_conflict_do_nothing())


def _take_number(year: int) -> str:
    last = db.session.connection().execute(_NEXT, {"sequence_year": year}).scalar_one()
    return f"{year}-{last:06d}"


def next_number(year: int) -> str:
    """The next number of the year, "2026-000123", in the caller's transaction: the year's
    sequence row stays locked until it commits (or rolls back, and the number with it)."""
    _open_sequence(year)
    return _take_number(year)


# --- Credit notes -------------------------------------------------------------------------


def issue_credit_note(
    invoice: Invoice,
    amount_cents: int,
    reason: str,
    staff: StaffUser,
    now: datetime,
    ip: str | None = None,
) -> Invoice:
    """A credit note (avoir) crediting an issued invoice, for at most what no credit note
    credits yet; numbered from the invoices' sequence, dated of `now`'s month, with one line
    stating the reason; the family is told, staff's act is journaled, the invoice's status
    follows (paid when nothing is left). On an invoice already paid, what the credit note
    takes off the paid part stays on the payments, for staff to refund (a notice says so).
    BillingError (French) otherwise; commits."""
    try:
        ledger.serialize_writes()
        ledger.lock_paying_payments(invoice.id)  # a payment before its invoices
        (invoice,) = ledger.lock_invoices([invoice.id])
        reason = _checked_credit(invoice, amount_cents, reason)
        owed = ledger.due_cents([invoice])[invoice.id]
        note = _credit_note(invoice, amount_cents, reason, now)
        audit.record_change(staff, note, created=True, ip=ip)
        freed = ledger.release(invoice, amount_cents - max(owed, 0)) if amount_cents > owed else []
        to_refund = sum(cents for _payment, cents in freed)
        refund = f". {money(to_refund)} déjà payés vous seront remboursés." if to_refund else ""
        notifications.notify(
            invoice.family,
            AlertKind.INVOICE,
            f"Un avoir n° {note.number} de {money(amount_cents)} a été émis sur votre facture "
            f"n° {invoice.number} : {reason.rstrip('.')}{refund}",
            link="/finances",
            now=now,
        )
        _ask_for_refunds(note, invoice, freed, now)
        db.session.flush()
        ledger.refresh_statuses([invoice])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return note


def _checked_credit(invoice: Invoice, amount_cents: int, reason: str) -> str:
    """The reason, stripped, once the credit note is allowed (BillingError otherwise)."""
    if invoice.kind is not InvoiceKind.INVOICE or invoice.status not in ledger.BILLED:
        raise BillingError("Un avoir ne peut créditer qu'une facture émise.")
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > REASON_MAX:
        raise BillingError(f"Indiquez le motif de l'avoir ({REASON_MAX} caractères au plus).")
    if not isinstance(amount_cents, int) or amount_cents <= 0:
        raise BillingError("Le montant de l'avoir doit être positif.")
    creditable = creditable_cents(invoice)
    if amount_cents > creditable:
        raise BillingError(
            f"L'avoir ne peut pas dépasser le montant de la facture n° {invoice.number} "
            f"non encore crédité : {money(max(creditable, 0))}."
        )
    return reason


def creditable_cents(invoice: Invoice) -> int:
    """The most a new credit note may credit: what no credit note credits yet."""
    return invoice.total_cents - ledger.credited_cents(invoice)


def _ask_for_refunds(
    note: Invoice, invoice: Invoice, freed: list[tuple[Payment, int]], now: datetime
) -> None:
    """A staff notice per payment whose money the credit note freed: it is the family's."""
    for payment, cents in freed:
        db.session.add(
            StaffNotice(
                kind=CREDIT_TO_REFUND,
                message=(
                    f"Avoir n° {note.number} sur la facture n° {invoice.number}, déjà payée : "
                    f"{money(cents)} de son règlement ne sont plus affectés. À rembourser à la "
                    "famille (« Rembourser ce règlement »)."
                ),
                family_id=invoice.family_id,
                payment_id=payment.id,
                created_at=now,
            )
        )


def _credit_note(invoice: Invoice, amount_cents: int, reason: str, now: datetime) -> Invoice:
    today = paris_today(now)
    note = Invoice(
        family_id=invoice.family_id,
        number=next_number(today.year),
        kind=InvoiceKind.CREDIT_NOTE,
        credits_invoice_id=invoice.id,
        period_month=first_of_month(today),
        status=InvoiceStatus.ISSUED,
        issued_at=now,
        total_cents=amount_cents,
        reason=reason,
        created_at=now,
        **billed_identity(invoice.family),
    )
    note.lines.append(
        InvoiceLine(
            label=f"Avoir sur la facture n° {invoice.number} : {reason}",
            unit_price_cents=amount_cents,
            quantity=1,
            amount_cents=amount_cents,
        )
    )
    db.session.add(note)
    return note
