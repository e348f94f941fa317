"""The monthly billing run (services.billing): what is billed and why not, numbers without
gaps, idempotence, a failure mid-run (SECURITY.md 29), the command, and credit notes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from demo import load_demo_data
from extensions import db
from models import (
    Alert,
    AlertKind,
    Attendance,
    AuditEvent,
    BookingStatus,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceNumberSequence,
    InvoiceStatus,
    NotBilledReason,
    OutboxEmail,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PriceKind,
    StaffNotice,
    Tariff,
)
from services import billing, change_requests, ledger, notifications, staff_payments
from services.finance_documents import invoice_pdf
from tests import factories
from tests.test_pdf_documents import pages_text

NOVEMBER = date(2026, 11, 1)
# The first working morning of December, in Paris (07:00 UTC = 08:00 Paris).
RUN_AT = datetime(2026, 12, 1, 7, 0)
MONDAY, TUESDAY, THURSDAY, FRIDAY = (date(2026, 11, d) for d in (16, 17, 19, 20))


def _tariff(activity, cents, option=None, **fields) -> Tariff:
    tariff = Tariff(
        activity=activity,
        option=option,
        unit_price_cents=cents,
        valid_from=date(2026, 9, 1),
        **fields,
    )
    db.session.add(tariff)
    db.session.commit()
    return tariff


def priced(booking_world):
    """booking_world with prices: canteen 3,00 € (walk-in 6,00 €, late cancellation
    4,50 €), evening care 2,00 €."""
    _tariff(booking_world.canteen, 300, walk_in_price_cents=600, late_cancel_price_cents=450)
    _tariff(booking_world.care, 200)
    return booking_world


@pytest.fixture
def world(booking_world):
    return priced(booking_world)


def _book(child, activity, day, status=BookingStatus.REGISTERED, attendance=None, **fields):
    """A booking row of the activity's first option unless `option` says otherwise."""
    option = fields.pop("option", activity.options[0])
    booking = factories.booking(child, activity, day, status, option=option)
    booking.attendance = attendance
    for name, value in fields.items():
        setattr(booking, name, value)
    db.session.commit()
    return booking


def _bill(family_id: int, month: date = NOVEMBER) -> billing.FamilyBill:
    return next(b for b in billing.preview_month(month).bills if b.family_id == family_id)


def _lines(bill) -> list[tuple]:
    return [(line.kind, line.unit_price_cents, line.quantity) for line in bill.lines]


def _invoices(kind=InvoiceKind.INVOICE) -> list[Invoice]:
    query = select(Invoice).where(Invoice.kind == kind).order_by(Invoice.number)
    return list(db.session.scalars(query))


# --- What is billed -----------------------------------------------------------------------


def test_present_or_not_yet_taken_days_are_billed_at_the_unit_price(world):
    _book(world.a, world.canteen, MONDAY, attendance=Attendance.PRESENT)
    _book(world.a, world.canteen, TUESDAY)
    _book(world.a, world.canteen, THURSDAY, BookingStatus.CHANGE_REQUESTED)
    _book(world.a, world.canteen, FRIDAY, BookingStatus.CANCEL_REQUESTED)

    bill = _bill(world.family.id)

    assert _lines(bill) == [(PriceKind.UNIT, 300, 4)]
    assert bill.total_cents == 1200
    assert bill.lines[0].label == "Restaurant scolaire (standard) — Enfant1 A"


def test_the_quotient_prices_the_days_up_to_its_certificate_s_end_then_the_highest_bracket(
    booking_world,
):
    _tariff(booking_world.canteen, 150, qf_min=0, qf_max=700)
    _tariff(booking_world.canteen, 420, qf_min=701, qf_max=999999)
    booking_world.family.quotient_familial = 500
    booking_world.family.quotient_valid_until = TUESDAY
    _book(booking_world.a, booking_world.canteen, MONDAY)
    _book(booking_world.a, booking_world.canteen, TUESDAY)
    _book(booking_world.a, booking_world.canteen, THURSDAY)

    bill = _bill(booking_world.family.id)

    assert sorted(_lines(bill)) == [(PriceKind.UNIT, 150, 2), (PriceKind.UNIT, 420, 1)]


def test_an_unjustified_absence_costs_the_late_cancellation_price(world):
    _book(world.a, world.canteen, MONDAY, attendance=Attendance.ABSENT_UNJUSTIFIED)
    _book(world.a, world.canteen, TUESDAY, attendance=Attendance.PRESENT)

    bill = _bill(world.family.id)

    assert _lines(bill) == [(PriceKind.UNIT, 300, 1), (PriceKind.LATE_CANCEL, 450, 1)]
    assert "absence non justifiée" in bill.lines[1].label
    assert bill.total_cents == 750


def test_a_presence_without_booking_costs_the_walk_in_price(world):
    _book(world.a, world.canteen, MONDAY, attendance=Attendance.PRESENT, is_walk_in=True)

    bill = _bill(world.family.id)

    assert _lines(bill) == [(PriceKind.WALK_IN, 600, 1)]
    assert "présence sans réservation" in bill.lines[0].label


def test_a_penalty_price_left_empty_is_the_unit_price(world):
    _book(world.a, world.care, MONDAY, attendance=Attendance.ABSENT_UNJUSTIFIED)
    _book(world.a, world.care, TUESDAY, attendance=Attendance.PRESENT, is_walk_in=True)

    assert _lines(_bill(world.family.id)) == [
        (PriceKind.WALK_IN, 200, 1),
        (PriceKind.LATE_CANCEL, 200, 1),
    ]


def test_what_is_not_billed_says_why(world):
    factories.closure(THURSDAY, THURSDAY, "Grève", world.school)
    _book(world.a, world.canteen, MONDAY, attendance=Attendance.ABSENT_JUSTIFIED)
    _book(world.a, world.canteen, TUESDAY, BookingStatus.CANCELLED)
    _book(world.a, world.canteen, THURSDAY)
    _book(world.a, world.canteen, FRIDAY, BookingStatus.PENDING)
    _book(world.a, world.care, FRIDAY, BookingStatus.REFUSED)
    _book(world.b, world.canteen, MONDAY, attendance=Attendance.ABSENT_UNJUSTIFIED, is_walk_in=True)

    bill = _bill(world.family.id)

    assert bill.lines == [] and bill.total_cents == 0
    assert [(item.day, item.reason) for item in bill.not_billed] == [
        (MONDAY, NotBilledReason.ABSENCE_JUSTIFIED),
        (TUESDAY, NotBilledReason.CANCELLED_IN_TIME),
        (THURSDAY, NotBilledReason.CLOSED),
        (FRIDAY, NotBilledReason.NOT_BOOKED),
        (FRIDAY, NotBilledReason.NOT_BOOKED),
        (MONDAY, NotBilledReason.NOT_BOOKED),
    ]
    assert not bill.will_issue
    assert billing.run_billing(NOVEMBER, RUN_AT).issued == 0
    assert _invoices() == []


def test_an_undecided_declared_absence_is_billed_and_staff_are_warned(world):
    _book(world.a, world.canteen, MONDAY, attendance=Attendance.ABSENCE_DECLARED)

    bill = _bill(world.family.id)

    assert _lines(bill) == [(PriceKind.UNIT, 300, 1)]
    assert len(bill.warnings) == 1
    assert bill.warnings[0].startswith("Absence déclarée non examinée : Enfant1 A")


def test_lines_are_per_child_activity_and_option_each_rounded_once(world):
    veggie = world.canteen.options[1]
    _tariff(world.canteen, 333, option=veggie)
    for day in (MONDAY, TUESDAY, THURSDAY):
        _book(world.a, world.canteen, day, option=veggie)
    _book(world.a, world.canteen, FRIDAY)
    _book(world.b, world.care, MONDAY)

    bill = _bill(world.family.id)

    assert [(line.child_id, line.option_id, line.unit_price_cents, line.quantity)
            for line in bill.lines] == [
        (world.a.id, world.canteen.options[0].id, 300, 1),
        (world.a.id, veggie.id, 333, 3),
        (world.b.id, world.care.options[0].id, 200, 1),
    ]  # fmt: skip
    assert [line.amount_cents for line in bill.lines] == [300, 999, 200]
    assert bill.total_cents == 1499


def test_a_day_no_tariff_prices_holds_the_family_back_until_staff_enter_one(world):
    _book(world.a, world.canteen, MONDAY)
    db.session.execute(Tariff.__table__.delete())
    db.session.commit()

    bill = _bill(world.family.id)
    report = billing.run_billing(NOVEMBER, RUN_AT)

    assert bill.held_back and "Aucun tarif valide le 16 novembre 2026" in bill.warnings[0]
    assert (report.issued, report.held_back) == (0, 1)
    _tariff(world.canteen, 300)
    assert billing.run_billing(NOVEMBER, RUN_AT).issued == 1


# --- The run ----------------------------------------------------------------------------


def test_the_run_issues_a_numbered_invoice_and_tells_the_family(world):
    _book(world.a, world.canteen, MONDAY, attendance=Attendance.PRESENT)
    _book(world.c, world.care, MONDAY, attendance=Attendance.PRESENT)

    steps = []
    report = billing.run_billing(NOVEMBER, RUN_AT, progress=lambda *step: steps.append(step))

    assert (report.issued, report.skipped, report.total_cents) == (2, 0, 500)
    assert steps == [(1, 2), (2, 2)]
    invoice = next(i for i in _invoices() if i.family_id == world.family.id)
    assert invoice.status is InvoiceStatus.ISSUED
    assert invoice.issued_at == RUN_AT
    assert invoice.due_on == date(2026, 12, 31)  # Paris date of the run + 30 days
    assert invoice.period_month == NOVEMBER
    assert invoice.total_cents == sum(line.amount_cents for line in invoice.lines) == 300
    alert = db.session.scalar(select(Alert).where(Alert.family_id == world.family.id))
    assert alert.kind == AlertKind.INVOICE
    assert alert.message == (
        f"Votre facture n° {invoice.number} de novembre 2026 est disponible : 3,00\u00a0€."
    )
    assert alert.link == "/finances"
    emails = db.session.scalars(select(OutboxEmail.to_address)).all()
    assert "famille.a@example.org" in emails


def test_the_preview_is_what_the_run_issues(world):
    veggie = world.canteen.options[1]
    _book(world.a, world.canteen, MONDAY, attendance=Attendance.ABSENT_UNJUSTIFIED)
    _book(world.a, world.canteen, TUESDAY, option=veggie)
    _book(world.b, world.care, THURSDAY, attendance=Attendance.PRESENT, is_walk_in=True)
    _book(world.c, world.canteen, FRIDAY)
    preview = billing.preview_month(NOVEMBER)

    billing.run_billing(NOVEMBER, RUN_AT)

    issued = {i.family_id: i for i in _invoices()}
    assert set(issued) == {bill.family_id for bill in preview.to_issue}
    for bill in preview.to_issue:
        stored = [
            (line.child_id, line.activity_id, line.option_id, line.label,
             line.unit_price_cents, line.quantity, line.amount_cents)
            for line in issued[bill.family_id].lines
        ]  # fmt: skip
        expected = [
            (line.child_id, line.activity_id, line.option_id, line.label,
             line.unit_price_cents, line.quantity, line.amount_cents)
            for line in bill.lines
        ]  # fmt: skip
        assert stored == expected
        assert issued[bill.family_id].total_cents == bill.total_cents
    assert sum(i.total_cents for i in issued.values()) == preview.total_cents


def test_a_second_run_changes_nothing(world):
    _book(world.a, world.canteen, MONDAY)
    _book(world.c, world.canteen, MONDAY)
    billing.run_billing(NOVEMBER, RUN_AT)
    counts = _counts()

    again = billing.run_billing(NOVEMBER, datetime(2026, 12, 2, 9, 0))

    assert (again.issued, again.skipped) == (0, 2)
    assert again.summary().startswith("Aucune facture émise : rien n'a changé")
    assert _counts() == counts
    assert {bill.invoiced_number for bill in billing.preview_month(NOVEMBER).bills} == {
        "2026-000001",
        "2026-000002",
    }


def _counts() -> tuple:
    tables = (Invoice, InvoiceLine, Alert, OutboxEmail)
    counts = tuple(db.session.scalar(select(func.count()).select_from(t)) for t in tables)
    return (*counts, db.session.scalar(select(func.sum(InvoiceNumberSequence.last_number))))


def test_numbers_are_gapless_across_families_and_start_again_each_year(world):
    _book(world.a, world.canteen, MONDAY)
    _book(world.c, world.canteen, MONDAY)
    _book(world.a, world.canteen, date(2026, 12, 1))
    _book(world.c, world.canteen, date(2026, 12, 1))

    billing.run_billing(NOVEMBER, RUN_AT)
    billing.run_billing(date(2026, 12, 1), datetime(2027, 1, 4, 7, 0))

    assert [i.number for i in _invoices()] == [
        "2026-000001",
        "2026-000002",
        "2027-000001",
        "2027-000002",
    ]


def test_a_month_not_begun_is_refused_in_french(world):
    with pytest.raises(billing.BillingError, match="n'a pas commencé"):
        billing.run_billing(date(2027, 1, 1), RUN_AT)


@pytest.mark.parametrize("batch", [2, billing.BATCH])
def test_a_failure_mid_run_leaves_no_half_invoice_and_no_gap(world, monkeypatch, batch):
    """SECURITY.md 29: the third family's alert fails; the first two are issued, the third
    has nothing (no invoice, no line, no alert, no number), and a rerun completes; whether
    the failing family shares its commit with the ones before it or not."""
    monkeypatch.setattr(billing, "BATCH", batch)
    families = [world.family, world.other_family]
    families += [factories.family_with_children(None, f"famille.{n}", 1) for n in "cde"]
    for family in families:
        _book(family.children[0], world.canteen, MONDAY)
    real_notify = notifications.notify
    calls = []

    def failing_third(family, *args, **kwargs):
        calls.append(family.id)
        if len(calls) == 3:
            raise RuntimeError("the mail queue is down")
        return real_notify(family, *args, **kwargs)

    monkeypatch.setattr(notifications, "notify", failing_third)
    with pytest.raises(RuntimeError):
        billing.run_billing(NOVEMBER, RUN_AT)

    db.session.expire_all()
    assert [i.number for i in _invoices()] == ["2026-000001", "2026-000002"]
    assert db.session.scalar(select(func.count(InvoiceLine.id))) == 2
    assert db.session.scalar(select(func.count(Alert.id))) == 2
    assert db.session.get(InvoiceNumberSequence, 2026).last_number == 2

    monkeypatch.setattr(notifications, "notify", real_notify)
    report = billing.run_billing(NOVEMBER, RUN_AT)
    assert (report.issued, report.skipped) == (3, 2)
    numbers = [i.number for i in _invoices()]
    assert numbers == [f"2026-{n:06d}" for n in range(1, 6)]
    assert {i.family_id for i in _invoices()} == {family.id for family in families}


@pytest.mark.postgres_only
def test_two_runs_at_once_issue_each_invoice_once_without_gap(app, race_app, world, monkeypatch):
    monkeypatch.setattr(billing, "BATCH", 3)  # the two runs' commits interleave
    families = [world.family, world.other_family]
    families += [factories.family_with_children(None, f"famille.{n}", 1) for n in "cdefgh"]
    for family in families:
        _book(family.children[0], world.canteen, MONDAY)
    start = threading.Barrier(2)

    def run() -> billing.BillingReport:
        with race_app.app_context():
            start.wait(timeout=30)
            return billing.run_billing(NOVEMBER, RUN_AT)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda _: run(), range(2)))

    db.session.expire_all()
    assert sum(report.issued for report in reports) == len(families)
    invoices = _invoices()
    assert sorted(i.family_id for i in invoices) == sorted(f.id for f in families)
    assert [i.number for i in invoices] == [f"2026-{n:06d}" for n in range(1, 9)]
    assert db.session.scalar(select(func.count(Alert.id))) == len(families)


# --- The command ------------------------------------------------------------------------


def test_the_command_previews_then_runs_the_month(world, runner, pin_clock):
    pin_clock(RUN_AT)
    _book(world.a, world.canteen, MONDAY)

    preview = runner.invoke(args=["billing", "preview", "--month", "2026-11"])
    run = runner.invoke(args=["billing", "run", "--month", "2026-11"])
    again = runner.invoke(args=["billing", "run", "--month", "2026-11"])

    assert preview.exit_code == 0, preview.output
    assert "A : 1 ligne, 3,00\u00a0€" in preview.output
    assert "1 facture à émettre" in preview.output
    assert run.exit_code == 0, run.output
    assert "1 facture émise, n° " in run.output
    assert "rien n'a changé" in again.output
    assert len(_invoices()) == 1


@pytest.mark.parametrize("month", ["2026-13", "novembre", "2026", "2026-11-05", ""])
def test_the_command_refuses_a_bad_month_in_french(world, runner, month):
    result = runner.invoke(args=["billing", "run", "--month", month])

    assert result.exit_code == 1
    assert "Mois invalide" in result.output
    assert _invoices() == []


# --- Credit notes -----------------------------------------------------------------------


@pytest.fixture
def invoiced(world, staff):
    for day in (MONDAY, TUESDAY, THURSDAY):
        _book(world.a, world.canteen, day)
    billing.run_billing(NOVEMBER, RUN_AT)
    (invoice,) = _invoices()
    return SimpleNamespace(invoice=invoice, staff=staff, family=world.family)


CREDIT_AT = datetime(2026, 12, 5, 10, 0)


def test_a_credit_note_credits_an_invoice_with_its_own_number(invoiced):
    note = billing.issue_credit_note(
        invoiced.invoice, 300, "Repas du 16 non servi", invoiced.staff, CREDIT_AT, "10.0.0.9"
    )

    assert note.kind is InvoiceKind.CREDIT_NOTE
    assert note.number == "2026-000002"
    assert (note.credits_invoice_id, note.total_cents) == (invoiced.invoice.id, 300)
    assert note.reason == "Repas du 16 non servi"
    assert note.lines[0].amount_cents == 300
    assert invoiced.invoice.total_cents == 900  # the invoice itself is never edited
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity == "Invoice"))
    assert (event.actor, event.action, event.ip) == ("agent.a", "create", "10.0.0.9")
    alert = db.session.scalars(select(Alert).order_by(Alert.id.desc())).first()
    assert alert.message.startswith("Un avoir n° 2026-000002 de 3,00\u00a0€ a été émis")


def test_a_credit_note_for_what_is_left_settles_the_invoice(invoiced):
    payment = Payment(family=invoiced.family, method=PaymentMethod.CASH, amount_cents=500)
    payment.allocations.append(PaymentAllocation(invoice=invoiced.invoice, amount_cents=500))
    db.session.add(payment)
    db.session.commit()

    billing.issue_credit_note(invoiced.invoice, 400, "Geste", invoiced.staff, CREDIT_AT)

    assert invoiced.invoice.status is InvoiceStatus.PAID
    assert len(_invoices(InvoiceKind.CREDIT_NOTE)) == 1
    assert db.session.scalars(select(StaffNotice)).all() == []  # nothing paid to give back


def test_a_credit_note_on_a_paid_invoice_leaves_the_money_to_refund(invoiced):
    """Meals cancelled after the family paid: the correction is a credit note (DOMAIN.md),
    and what it takes off the paid part is the family's money, which staff refund."""
    payment = staff_payments.record_payment(
        invoiced.family,
        PaymentMethod.CASH,
        900,
        date(2026, 12, 2),
        "",
        [invoiced.invoice.id],
        invoiced.staff,
        CREDIT_AT,
    )
    assert invoiced.invoice.status is InvoiceStatus.PAID

    billing.issue_credit_note(invoiced.invoice, 300, "Repas du 16", invoiced.staff, CREDIT_AT)

    db.session.expire_all()
    assert invoiced.invoice.status is InvoiceStatus.PAID
    assert ledger.due_cents([invoiced.invoice]) == {invoiced.invoice.id: 0}
    assert [a.amount_cents for a in payment.allocations] == [600]
    assert ledger.balance_cents(invoiced.family.id) == 0
    (notice,) = db.session.scalars(select(StaffNotice)).all()
    assert (notice.kind, notice.payment_id) == (billing.CREDIT_TO_REFUND, payment.id)
    assert "3,00\u00a0€ de son règlement ne sont plus affectés" in notice.message
    alert = db.session.scalars(select(Alert).order_by(Alert.id.desc())).first()
    assert alert.message.endswith("Repas du 16. 3,00\u00a0€ déjà payés vous seront remboursés.")

    staff_payments.refund_payment(payment, 300, "Repas du 16", invoiced.staff, CREDIT_AT)
    db.session.expire_all()
    assert invoiced.invoice.status is InvoiceStatus.PAID  # the refund asks nothing again
    assert notice.resolved_at == CREDIT_AT  # done: no one refunds it a second time
    assert ledger.due_cents([invoiced.invoice]) == {invoiced.invoice.id: 0}

    with pytest.raises(billing.BillingError, match="non encore crédité : 6,00"):
        billing.issue_credit_note(invoiced.invoice, 601, "Geste", invoiced.staff, CREDIT_AT)
    billing.issue_credit_note(invoiced.invoice, 600, "Tout", invoiced.staff, CREDIT_AT)
    db.session.expire_all()
    assert payment.allocations == [] and invoiced.invoice.status is InvoiceStatus.PAID


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        (0, "Motif", "positif"),
        (-100, "Motif", "positif"),
        (100, "   ", "motif"),
        (100, "x" * 301, "motif"),
        (901, "Motif", "non encore crédité : 9,00"),
    ],
)
def test_a_credit_note_the_rules_refuse_writes_nothing(invoiced, amount, reason, message):
    with pytest.raises(billing.BillingError, match=message):
        billing.issue_credit_note(invoiced.invoice, amount, reason, invoiced.staff, CREDIT_AT)

    assert _invoices(InvoiceKind.CREDIT_NOTE) == []
    assert db.session.get(InvoiceNumberSequence, 2026).last_number == 1
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 0


def test_a_credit_note_never_credits_a_credit_note(invoiced):
    note = billing.issue_credit_note(invoiced.invoice, 100, "Geste", invoiced.staff, CREDIT_AT)

    with pytest.raises(billing.BillingError, match="facture émise"):
        billing.issue_credit_note(note, 100, "Geste", invoiced.staff, CREDIT_AT)


def test_an_invoice_takes_several_credit_notes_in_a_month_never_more_than_its_total(invoiced):
    first = billing.issue_credit_note(
        invoiced.invoice, 300, "Repas du 16", invoiced.staff, CREDIT_AT
    )
    second = billing.issue_credit_note(
        invoiced.invoice, 500, "Repas du 17", invoiced.staff, datetime(2026, 12, 20, 10, 0)
    )

    with pytest.raises(
        billing.BillingError,
        match="L'avoir ne peut pas dépasser le montant de la facture n° 2026-000001 non encore "
        "crédité : 1,00",
    ):
        billing.issue_credit_note(invoiced.invoice, 101, "Geste", invoiced.staff, CREDIT_AT)
    assert (first.number, second.number) == ("2026-000002", "2026-000003")
    assert len(_invoices(InvoiceKind.CREDIT_NOTE)) == 2
    assert db.session.get(InvoiceNumberSequence, 2026).last_number == 3  # none taken by the refusal
    assert invoiced.invoice.status is InvoiceStatus.ISSUED  # 1,00 € still owed


def test_an_issued_invoice_keeps_the_address_it_was_issued_to_when_the_family_moves(world, staff):
    world.family.address_line, world.family.postcode = "12 rue des Essais", "35999"
    _book(world.a, world.canteen, MONDAY)
    billing.run_billing(NOVEMBER, RUN_AT)
    moving = {"address_line": "3 allée des Tilleuls", "postcode": "35000", "city": "Rennes"}
    for change in change_requests.request_changes(
        world.family, "Family", world.family.id, moving, RUN_AT
    ):
        change_requests.decide(change, change_requests.ACCEPT, staff, RUN_AT, None)
    _book(world.a, world.canteen, date(2026, 12, 7))
    billing.run_billing(date(2026, 12, 1), datetime(2027, 1, 4, 7, 0))
    (november, december) = _invoices()
    note = billing.issue_credit_note(november, 100, "Geste", staff, datetime(2027, 1, 5, 9, 0))

    old, new = _addressed_to(november), _addressed_to(december)

    assert november.billed_address == "12 rue des Essais\n35999 Saint-Exemple"
    assert old[:3] == ["Famille A", "12 rue des Essais", "35999 Saint-Exemple"]
    assert "Rennes" not in " ".join(old)
    assert new[:3] == ["Famille A", "3 allée des Tilleuls", "35000 Rennes"]
    assert _addressed_to(note)[:3] == new[:3]  # a credit note is addressed on the day it is issued


def _addressed_to(invoice: Invoice) -> list[str]:
    """The PDF's lines from the family's name on (the commune's block comes first)."""
    read = [line.strip() for line in "\n".join(pages_text(invoice_pdf(invoice))).splitlines()]
    return read[read.index("Famille A") :]


# --- The demo ---------------------------------------------------------------------------


def test_the_demos_november_previews_and_runs_once(app):
    load_demo_data(date(2026, 11, 26))

    preview = billing.preview_month(NOVEMBER, datetime(2026, 11, 26, 9, 0))
    report = billing.run_billing(NOVEMBER, RUN_AT)
    again = billing.run_billing(NOVEMBER, RUN_AT)

    assert len(preview.to_issue) == 5
    assert any(
        "Absence déclarée non examinée : Tom" in w for b in preview.bills for w in b.warnings
    )
    assert report.numbers == [f"2026-{n:06d}" for n in range(4, 9)]  # after the demo's 3
    assert report.total_cents == preview.total_cents
    assert (again.issued, again.skipped) == (0, 5)
