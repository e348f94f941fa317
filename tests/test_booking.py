"""Booking transitions and rules (DOMAIN.md, "The booking calendar"), with time pinned."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from extensions import db
from models import (
    Alert,
    Attendance,
    Booking,
    BookingStatus,
    Capacity,
    RegistrationStatus,
    ValidationMode,
)
from services import booking as svc
from services.booking import CellStatus, DayAction, many_days
from services.booking.catalogue import children_of
from tests import factories

DAY = date(2026, 11, 19)  # a Thursday; both deadlines: Tuesday 17 November, 10:00 Paris
NOW = datetime(2026, 11, 9, 8, 0)
DEADLINE = datetime(2026, 11, 17, 9, 0)
WEDNESDAY = date(2026, 11, 18)


@pytest.fixture
def world(booking_world):
    return booking_world


def status_of(child, activity, day=DAY) -> BookingStatus | None:
    return db.session.scalar(
        select(Booking.status).where(
            Booking.child_id == child.id, Booking.activity_id == activity.id, Booking.day == day
        )
    )


def alerts(family) -> list[str]:
    return list(
        db.session.scalars(
            select(Alert.message).where(Alert.family_id == family.id).order_by(Alert.id)
        )
    )


def row(grid, child, activity) -> list:
    """The month's cells of one child for one activity."""
    months = grid[child.id].activities
    return next(month.cells for month in months if month.activity.id == activity.id)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- Booking a day ----------------------------------------------------------------------


def test_automatic_booking_with_a_free_place_is_registered(world):
    outcome = svc.book_day(world.a, world.canteen, DAY, None, NOW)
    assert outcome.booking.status == BookingStatus.REGISTERED
    assert outcome.booking.option.code == "standard", "the default option"
    assert outcome.booking.school_id == world.school.id
    assert outcome.booking.requested_at == NOW


def test_booking_with_another_option(world):
    meatless = world.canteen.options[1]
    assert svc.book_day(world.a, world.canteen, DAY, meatless, NOW).booking.option_id == meatless.id


def test_option_of_another_activity_is_refused(world):
    with pytest.raises(svc.BookingError, match="formule"):
        svc.book_day(world.a, world.canteen, DAY, world.care.options[0], NOW)
    assert count(Booking) == 0


def test_full_automatic_day_puts_the_request_on_the_waiting_list(world):
    svc.book_day(world.a, world.canteen, DAY, None, NOW)
    svc.book_day(world.b, world.canteen, DAY, None, NOW)
    outcome = svc.book_day(world.c, world.canteen, DAY, None, NOW)
    assert outcome.booking.status == BookingStatus.PENDING
    assert status_of(world.a, world.canteen) == BookingStatus.REGISTERED
    assert status_of(world.b, world.canteen) == BookingStatus.REGISTERED


def test_a_new_request_never_jumps_the_waiting_list(world):
    factories.booking(world.a, world.canteen, DAY, BookingStatus.PENDING)
    # one place free (capacity 2, none taken) but one family already waits for it
    db.session.execute(db.update(Capacity).values(places=1))
    db.session.commit()
    assert (
        svc.book_day(world.b, world.canteen, DAY, None, NOW).booking.status == BookingStatus.PENDING
    )


def test_manual_activity_booking_is_pending(world):
    outcome = svc.book_day(world.a, world.care, DAY, None, NOW)
    assert outcome.booking.status == BookingStatus.PENDING


def test_child_without_accepted_registration_is_refused(world):
    other = factories.family_with_children(world, "famille.c", children=1).children[0]
    factories.registration(other, world.canteen, world.year, RegistrationStatus.REQUESTED)
    with pytest.raises(svc.NotRegistered, match="pas inscrit"):
        svc.book_day(other, world.canteen, DAY, None, NOW)
    next_year = factories.school_year("2027-2028", date(2027, 9, 1), date(2028, 7, 7))
    factories.registration(other, world.care, next_year)
    with pytest.raises(svc.NotRegistered):
        svc.book_day(other, world.care, DAY, None, NOW)
    assert count(Booking) == 0


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (WEDNESDAY, "Pas de classe le mercredi"),
        (date(2026, 11, 21), "Week-end"),
        (date(2026, 12, 22), "Vacances de Noël"),
        (date(2026, 11, 11), "Jour férié : Armistice"),
    ],
)
def test_closed_days_are_refused(world, day, reason):
    with pytest.raises(svc.DayClosed, match=reason):
        svc.book_day(world.a, world.canteen, day, None, datetime(2026, 10, 1, 8, 0))
    assert count(Booking) == 0


def test_staff_closure_is_refused(world):
    factories.closure(DAY, DAY, "Grève du personnel")
    with pytest.raises(svc.DayClosed, match="Grève du personnel"):
        svc.book_day(world.a, world.canteen, DAY, None, NOW)


def test_booking_deadline(world):
    with pytest.raises(svc.DeadlinePassed, match="réservation"):
        svc.book_day(world.a, world.canteen, DAY, None, DEADLINE)
    late_but_in_time = DEADLINE - timedelta(minutes=1)
    assert svc.book_day(world.a, world.canteen, DAY, None, late_but_in_time).booking.id


def test_a_booked_day_cannot_be_booked_twice(world):
    svc.book_day(world.a, world.canteen, DAY, None, NOW)
    with pytest.raises(svc.InvalidTransition, match="déjà réservé"):
        svc.book_day(world.a, world.canteen, DAY, None, NOW)


def test_booking_again_reuses_the_day_row(world):
    first = svc.book_day(world.a, world.canteen, DAY, None, NOW).booking.id
    svc.cancel(world.a, world.canteen, DAY, NOW)
    again = svc.book_day(world.a, world.canteen, DAY, None, NOW + timedelta(hours=1)).booking
    assert (again.id, again.status) == (first, BookingStatus.REGISTERED)
    assert count(Booking) == 1


# --- Withdraw and cancel ----------------------------------------------------------------


def test_withdraw_a_pending_request(world):
    svc.book_day(world.a, world.care, DAY, None, NOW)
    outcome = svc.withdraw(world.a, world.care, DAY, NOW)
    assert outcome.booking.status == BookingStatus.CANCELLED
    grid = svc.month_grid([world.a], DAY, NOW)
    assert row(grid, world.a, world.care)[18].status == CellStatus.AVAILABLE


def test_withdraw_is_only_for_pending_requests(world):
    svc.book_day(world.a, world.canteen, DAY, None, NOW)
    with pytest.raises(svc.InvalidTransition):
        svc.withdraw(world.a, world.canteen, DAY, NOW)
    with pytest.raises(svc.InvalidTransition):
        svc.withdraw(world.b, world.canteen, DAY, NOW)


def test_cancel_automatic_frees_the_day_at_once(world):
    svc.book_day(world.a, world.canteen, DAY, None, NOW)
    outcome = svc.cancel(world.a, world.canteen, DAY, NOW)
    assert outcome.booking.status == BookingStatus.CANCELLED
    assert outcome.promoted == []


def test_cancel_promotes_the_first_of_the_waiting_list(world):
    svc.book_day(world.a, world.canteen, DAY, None, NOW)
    svc.book_day(world.b, world.canteen, DAY, None, NOW)
    late = factories.family_with_children(world, "famille.d", children=1).children[0]
    factories.registration(late, world.canteen, world.year)
    # inserted first, but asked later: the waiting list follows requested_at
    factories.booking(late, world.canteen, DAY, BookingStatus.PENDING, NOW + timedelta(hours=2))
    factories.booking(world.c, world.canteen, DAY, BookingStatus.PENDING, NOW + timedelta(hours=1))
    outcome = svc.cancel(world.a, world.canteen, DAY, NOW + timedelta(hours=3))
    assert [b.child_id for b in outcome.promoted] == [world.c.id]
    assert status_of(world.c, world.canteen) == BookingStatus.REGISTERED
    assert status_of(late, world.canteen) == BookingStatus.PENDING
    assert alerts(world.other_family) == [
        "Une place s'est libérée, réservation confirmée : Restaurant scolaire "
        "du jeudi 19 novembre 2026 pour Enfant1."
    ]
    link = db.session.scalar(select(Alert.link))
    assert link == f"/reservations/{world.c.id}/2026-11"


def test_cancel_manual_is_a_request(world):
    svc.book_day(world.a, world.care, DAY, None, NOW)
    svc.approve(db.session.scalar(select(Booking)), NOW)
    outcome = svc.cancel(world.a, world.care, DAY, NOW)
    assert outcome.booking.status == BookingStatus.CANCEL_REQUESTED


def test_cancel_after_the_deadline_is_refused(world):
    svc.book_day(world.a, world.canteen, DAY, None, NOW)
    with pytest.raises(svc.DeadlinePassed, match="absence"):
        svc.cancel(world.a, world.canteen, DAY, DEADLINE)
    assert status_of(world.a, world.canteen) == BookingStatus.REGISTERED


def test_cancel_needs_a_booked_day(world):
    svc.book_day(world.a, world.care, DAY, None, NOW)
    with pytest.raises(svc.InvalidTransition):
        svc.cancel(world.a, world.care, DAY, NOW)


# --- Change of option -------------------------------------------------------------------


def test_change_option_automatic_applies_at_once(world):
    svc.book_day(world.a, world.canteen, DAY, None, NOW)
    meatless = world.canteen.options[1]
    outcome = svc.change_option(world.a, world.canteen, DAY, meatless, NOW)
    assert (outcome.booking.status, outcome.booking.option_id) == (
        BookingStatus.REGISTERED,
        meatless.id,
    )
    with pytest.raises(svc.InvalidTransition, match="déjà"):
        svc.change_option(world.a, world.canteen, DAY, meatless, NOW)


def test_change_option_manual_is_a_request_staff_approve(world):
    short, long = world.care.options
    booking = factories.booking(world.a, world.care, DAY, option=short)
    outcome = svc.change_option(world.a, world.care, DAY, long, NOW)
    assert outcome.booking.status == BookingStatus.CHANGE_REQUESTED
    assert (outcome.booking.option_id, outcome.booking.requested_option_id) == (short.id, long.id)
    approved = svc.approve(booking, NOW).booking
    assert (approved.status, approved.option_id, approved.requested_option_id) == (
        BookingStatus.REGISTERED,
        long.id,
        None,
    )
    assert alerts(world.family)[-1].startswith("Changement de formule accepté : Accueil du soir")


def test_refused_change_keeps_the_old_option(world):
    short, long = world.care.options
    booking = factories.booking(world.a, world.care, DAY, option=short)
    svc.change_option(world.a, world.care, DAY, long, NOW)
    refused = svc.refuse(booking, "Plus de place après 17h30 ce jour-là.", NOW).booking
    assert (refused.status, refused.option_id) == (BookingStatus.REGISTERED, short.id)
    assert refused.refusal_reason == "Plus de place après 17h30 ce jour-là."


def test_change_option_after_the_deadline_is_refused(world):
    svc.book_day(world.a, world.canteen, DAY, None, NOW)
    with pytest.raises(svc.DeadlinePassed):
        svc.change_option(world.a, world.canteen, DAY, world.canteen.options[1], DEADLINE)


# --- Staff decisions --------------------------------------------------------------------


def test_approve_pending_registers_and_alerts(world):
    booking = svc.book_day(world.a, world.care, DAY, None, NOW).booking
    outcome = svc.approve(booking, NOW)
    assert outcome.booking.status == BookingStatus.REGISTERED
    assert alerts(world.family) == [
        "Réservation confirmée : Accueil du soir du jeudi 19 novembre 2026 pour Enfant1."
    ]


def test_approve_never_exceeds_capacity(world):
    first = svc.book_day(world.a, world.care, DAY, None, NOW).booking
    second = svc.book_day(world.b, world.care, DAY, None, NOW).booking
    svc.approve(first, NOW)
    with pytest.raises(svc.CapacityReached):
        svc.approve(second, NOW)
    assert status_of(world.b, world.care) == BookingStatus.PENDING
    assert len(alerts(world.family)) == 1


def test_refuse_pending_needs_a_reason_and_frees_the_cell(world):
    booking = svc.book_day(world.a, world.care, DAY, None, NOW).booking
    with pytest.raises(svc.BookingError, match="motif"):
        svc.refuse(booking, "  ", NOW)
    outcome = svc.refuse(booking, "Accueil complet ce soir-là.", NOW)
    assert outcome.booking.status == BookingStatus.REFUSED
    assert alerts(world.family) == [
        "Réservation refusée : Accueil du soir du jeudi 19 novembre 2026 pour Enfant1. "
        "Motif : Accueil complet ce soir-là."
    ]
    grid = svc.month_grid([world.a], DAY, NOW)
    assert row(grid, world.a, world.care)[18].status == CellStatus.AVAILABLE


def test_approve_cancel_request_frees_the_day_and_refuse_keeps_it(world):
    first = factories.booking(world.a, world.care, DAY, BookingStatus.CANCEL_REQUESTED)
    second = factories.booking(
        world.b, world.care, DAY + timedelta(days=1), BookingStatus.CANCEL_REQUESTED
    )
    assert svc.approve(first, NOW).booking.status == BookingStatus.CANCELLED
    assert svc.refuse(second, "Délai dépassé.", NOW).booking.status == BookingStatus.REGISTERED
    assert alerts(world.family)[0].startswith("Annulation acceptée : Accueil du soir")
    assert alerts(world.family)[1].startswith(
        "Annulation refusée, la réservation est maintenue : Accueil du soir"
    )


def test_approve_cancel_request_promotes_the_waiting_list(world):
    world.care.validation_mode = ValidationMode.AUTOMATIC
    db.session.commit()
    cancelling = factories.booking(world.a, world.care, DAY, BookingStatus.CANCEL_REQUESTED)
    factories.booking(world.c, world.care, DAY, BookingStatus.PENDING)
    outcome = svc.approve(cancelling, NOW)
    assert [b.child_id for b in outcome.promoted] == [world.c.id]


def test_decisions_need_an_open_request(world):
    booking = factories.booking(world.a, world.care, DAY)
    with pytest.raises(svc.InvalidTransition):
        svc.approve(booking, NOW)
    with pytest.raises(svc.InvalidTransition):
        svc.refuse(booking, "Non.", NOW)


def test_promote_waiting_list_fills_added_places(world):
    for child in (world.a, world.b, world.c):
        factories.booking(child, world.canteen, DAY, BookingStatus.PENDING)
    promoted = svc.promote_waiting_list(world.school.id, world.canteen, DAY, NOW)
    assert len(promoted) == 2
    assert status_of(world.c, world.canteen) == BookingStatus.PENDING


# --- Absences ---------------------------------------------------------------------------


SAME_MORNING = datetime(2026, 11, 19, 6, 30)  # 07:30 in Paris, the day itself


def test_declare_absence_after_the_deadline_the_same_morning(world):
    booking = factories.booking(world.a, world.canteen, DAY)
    outcome = svc.declare_absence(world.a, world.canteen, DAY, " Fièvre ", SAME_MORNING)
    assert (outcome.booking.attendance, outcome.booking.absence_reason) == (
        Attendance.ABSENCE_DECLARED,
        "Fièvre",
    )
    assert (
        svc.mark_absence_justified(booking, True).booking.attendance == Attendance.ABSENT_JUSTIFIED
    )
    assert (
        svc.mark_absence_justified(booking, False).booking.attendance
        == Attendance.ABSENT_UNJUSTIFIED
    )


def test_declare_absence_rules(world):
    factories.booking(world.a, world.canteen, DAY)
    with pytest.raises(svc.InvalidTransition, match="annulez"):
        svc.declare_absence(world.a, world.canteen, DAY, "Malade", NOW)
    with pytest.raises(svc.InvalidTransition):
        svc.declare_absence(world.b, world.canteen, DAY, "Malade", SAME_MORNING)
    with pytest.raises(svc.DeadlinePassed, match="passé"):
        svc.declare_absence(world.a, world.canteen, DAY, "Malade", datetime(2026, 11, 19, 23, 5))


def test_declare_absences_over_a_period_marks_the_locked_booked_days(world):
    factories.booking(world.a, world.canteen, date(2026, 11, 17))  # already over
    factories.booking(world.a, world.canteen, DAY)
    factories.booking(world.a, world.care, DAY)
    factories.booking(world.a, world.canteen, date(2026, 11, 20))
    factories.booking(world.a, world.care, date(2026, 11, 20), BookingStatus.PENDING)
    factories.booking(world.a, world.canteen, date(2026, 11, 23))  # still cancellable
    factories.booking(world.b, world.canteen, DAY)
    declared = svc.declare_absences(
        world.a, date(2026, 11, 17), date(2026, 11, 23), "Varicelle", SAME_MORNING
    )
    assert [(b.day.day, b.activity_id) for b in declared] == [
        (19, world.canteen.id), (19, world.care.id), (20, world.canteen.id),
    ]  # fmt: skip
    assert {b.absence_reason for b in declared} == {"Varicelle"}
    marked = db.session.scalar(
        select(func.count(Booking.id)).where(Booking.attendance == Attendance.ABSENCE_DECLARED)
    )
    assert marked == 3


def test_justification_needs_a_declared_absence(world):
    booking = factories.booking(world.a, world.canteen, DAY)
    with pytest.raises(svc.InvalidTransition):
        svc.mark_absence_justified(booking, True)


# --- Booking and cancelling many days ---------------------------------------------------


NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
EVERY_SCHOOL_DAY = (1, 2, 3, 4, 5)
NOW_FOR_BULK = datetime(2026, 11, 12, 9, 30)  # Thursday 12, 10:30 Paris: Monday 16 is too late


def test_book_many_preview_sorts_the_days_and_writes_nothing(world):
    stranger = factories.family_with_children(world, "famille.e", children=1).children[0]
    factories.booking(world.a, world.canteen, date(2026, 11, 20))
    (plan,) = svc.book_many(
        [world.a, stranger], [(world.canteen, None)], *NOVEMBER, EVERY_SCHOOL_DAY, NOW_FOR_BULK
    )
    days_a = [r.day.day for r in plan.to_book if r.child_id == world.a.id]
    assert days_a == [17, 19, 23, 24, 26, 27, 30]
    assert [r.day.day for r in plan.already_booked] == [20]
    assert [r.day.day for r in plan.past_deadline] == [2, 3, 5, 6, 9, 10, 12, 13, 16]
    assert {r.child_id for r in plan.not_registered} == {stranger.id}
    assert DAY not in [r.day for r in plan.closed]
    closed_a = {r.day: r.reason for r in plan.closed if r.child_id == world.a.id}
    assert closed_a[date(2026, 11, 11)] == "Jour férié : Armistice"
    assert closed_a[WEDNESDAY] == "Pas de classe le mercredi"
    assert not plan.confirmed and count(Booking) == 1


def test_book_many_confirm_books_every_bookable_day(world):
    (plan,) = svc.book_many(
        [world.a, world.b, world.c], [(world.canteen, None)], date(2026, 11, 19),
        date(2026, 11, 27), (1, 4), NOW_FOR_BULK, preview=False,
    )  # fmt: skip
    assert plan.confirmed
    assert [(b.child_id, b.day.day, b.status) for b in plan.bookings if b.day.day == 19] == [
        (world.a.id, 19, BookingStatus.REGISTERED),
        (world.b.id, 19, BookingStatus.REGISTERED),
        (world.c.id, 19, BookingStatus.PENDING),
    ]
    assert count(Booking) == 9  # 3 children × Thursday 19, Monday 23, Thursday 26


def test_book_many_confirm_is_all_or_nothing(world, monkeypatch):
    written = []
    real_write = many_days.write_booking

    def fail_on_the_third(*args):
        if len(written) == 2:
            raise RuntimeError("crash in the middle")
        written.append(args)
        return real_write(*args)

    monkeypatch.setattr(many_days, "write_booking", fail_on_the_third)
    with pytest.raises(RuntimeError):
        svc.book_many([world.a], [(world.canteen, None)], *NOVEMBER, (1, 4), NOW, preview=False)
    assert len(written) == 2
    assert count(Booking) == 0


def test_cancel_many_preview_then_confirm_with_promotion(world):
    for day in (19, 20, 23):
        factories.booking(world.a, world.canteen, date(2026, 11, day))
    factories.booking(world.b, world.canteen, date(2026, 11, 16))
    factories.booking(world.b, world.canteen, DAY)
    factories.booking(world.c, world.canteen, DAY, BookingStatus.PENDING)
    args = ([world.a, world.b], [world.canteen], *NOVEMBER, (1, 4, 5), NOW_FOR_BULK)
    (preview,) = svc.cancel_many(*args)
    assert [(r.child_id, r.day.day) for r in preview.to_cancel] == [
        (world.a.id, 19), (world.a.id, 20), (world.a.id, 23), (world.b.id, 19),
    ]  # fmt: skip
    assert [(r.child_id, r.day.day) for r in preview.past_deadline] == [(world.b.id, 16)]
    assert status_of(world.a, world.canteen) == BookingStatus.REGISTERED
    (done,) = svc.cancel_many(*args, preview=False)
    assert {b.status for b in done.bookings} == {BookingStatus.CANCELLED}
    assert [b.child_id for b in done.promoted] == [world.c.id]
    assert status_of(world.c, world.canteen) == BookingStatus.REGISTERED


def test_cancel_many_manual_makes_requests(world):
    factories.booking(world.a, world.care, DAY)
    factories.booking(world.a, world.care, date(2026, 11, 20), BookingStatus.PENDING)
    (done,) = svc.cancel_many([world.a], [world.care], DAY, DAY + timedelta(1), (4, 5), NOW, False)
    assert [b.status for b in done.bookings] == [
        BookingStatus.CANCEL_REQUESTED,
        BookingStatus.CANCELLED,
    ]


# --- Month grid -------------------------------------------------------------------------


def test_month_grid_cells(world):
    factories.booking(world.a, world.canteen, date(2026, 11, 2))
    factories.booking(world.a, world.canteen, date(2026, 11, 3)).attendance = Attendance.PRESENT
    db.session.commit()
    factories.booking(world.a, world.canteen, DAY, BookingStatus.CANCEL_REQUESTED)
    factories.booking(world.a, world.canteen, date(2026, 11, 20), BookingStatus.CHANGE_REQUESTED)
    factories.booking(world.a, world.care, DAY, BookingStatus.PENDING)
    factories.booking(world.a, world.canteen, date(2026, 11, 26), BookingStatus.CANCELLED)
    factories.booking(world.a, world.canteen, date(2026, 11, 27))
    grid = svc.month_grid([world.a], date(2026, 11, 1), datetime(2026, 11, 10, 8, 0))
    codes = [month.activity.code for month in grid[world.a.id].activities]
    assert codes == ["care_evening", "canteen"], "sort order, then name"
    cells = {cell.day.day: cell for cell in row(grid, world.a, world.canteen)}
    assert len(cells) == 30
    assert (cells[3].status, cells[3].editable, cells[3].attendance) == (
        CellStatus.REGISTERED,
        False,
        Attendance.PRESENT,
    )
    assert (cells[11].status, cells[11].reason) == (CellStatus.CLOSED, "Jour férié : Armistice")
    assert (cells[18].status, cells[18].reason) == (CellStatus.CLOSED, "Pas de classe le mercredi")
    assert (cells[12].status, cells[12].editable) == (CellStatus.AVAILABLE, False)
    assert (cells[13].status, cells[13].editable) == (CellStatus.AVAILABLE, True)
    assert (cells[19].status, cells[19].actions) == (
        CellStatus.CANCEL_REQUESTED,
        {DayAction.WITHDRAW},
    )
    assert (cells[20].status, cells[20].editable) == (CellStatus.CHANGE_REQUESTED, True)
    assert (cells[26].status, cells[26].editable) == (CellStatus.AVAILABLE, True)
    assert (cells[27].status, cells[27].editable) == (CellStatus.REGISTERED, True)
    assert row(grid, world.a, world.care)[18].status == CellStatus.PENDING


def test_month_grid_shows_the_registered_activities_of_the_month(world):
    newcomer = factories.family_with_children(world, "famille.f", children=1).children[0]
    factories.registration(newcomer, world.canteen, world.year)
    july = svc.month_grid([newcomer], date(2027, 7, 1), NOW)[newcomer.id]
    assert [month.activity.code for month in july.activities] == ["canteen"]
    assert [cell.status for cell in july.activities[0].cells[:3]] == [
        CellStatus.AVAILABLE, CellStatus.AVAILABLE, CellStatus.CLOSED,
    ]  # fmt: skip
    assert july.activities[0].cells[4].reason == "Hors année scolaire"
    september = svc.month_grid([newcomer], date(2027, 9, 1), NOW)[newcomer.id]
    assert september.activities == []


def test_month_grid_closes_a_school_year_the_child_is_not_registered_for(world):
    # two school years meeting within one month (invented bounds, to reach the rule)
    world.year.ends_on = date(2027, 6, 11)
    factories.school_year("2027-2028", date(2027, 6, 14), date(2028, 6, 30))
    grid = svc.month_grid([world.a], date(2027, 6, 1), NOW)
    cells = row(grid, world.a, world.canteen)
    assert (cells[10].status, cells[13].reason) == (
        CellStatus.AVAILABLE,
        "Non inscrit à cette prestation",
    )


def test_month_grid_query_count_is_fixed(world):
    therese = factories.school("École Sainte-Thérèse")
    world.c.school_id = therese.id
    db.session.commit()
    factories.capacity(therese, world.canteen, 50)
    for child in (world.a, world.b, world.c):
        for day in range(2, 28):
            if date(2026, 11, day).isoweekday() in (1, 2, 4, 5) and day != 11:
                factories.booking(child, world.canteen, date(2026, 11, day))
                factories.booking(child, world.care, date(2026, 11, day), BookingStatus.PENDING)
    factories.closure(date(2026, 11, 24), date(2026, 11, 24), "Grève", therese)
    db.session.expire_all()
    loaded = [*children_of(world.family), *children_of(world.other_family)]  # as the pages do
    with factories.counted_queries() as one_child:
        svc.month_grid(loaded[:1], date(2026, 11, 1), NOW)
    with factories.counted_queries() as three_children:
        grid = svc.month_grid(loaded, date(2026, 11, 1), NOW)
    assert len(one_child) == len(three_children) == 6
    assert row(grid, world.c, world.canteen)[23].reason == "Grève"
    assert row(grid, world.b, world.canteen)[23].status == CellStatus.REGISTERED
    assert row(grid, world.b, world.care)[23].status == CellStatus.PENDING


def test_the_nightly_job_hands_new_places_to_the_waiting_list_in_order(world, app):
    from services import jobs

    first = factories.booking(
        world.a, world.canteen, DAY, BookingStatus.PENDING, requested_at=datetime(2026, 11, 1, 8, 0)
    )
    second = factories.booking(
        world.b, world.canteen, DAY, BookingStatus.PENDING, requested_at=datetime(2026, 11, 2, 8, 0)
    )
    factories.booking(world.c, world.canteen, DAY, BookingStatus.REGISTERED)
    # capacity 2: one place free, for the first in line only
    assert "rien modifié" in jobs.serve_waiting_lists(NOW, dry_run=True)
    assert status_of(world.a, world.canteen) == BookingStatus.PENDING
    assert jobs.serve_waiting_lists(NOW, dry_run=False).startswith("1 réservation")
    db.session.expire_all()
    assert (first.status, second.status) == (BookingStatus.REGISTERED, BookingStatus.PENDING)
    assert jobs.serve_waiting_lists(NOW, dry_run=False).startswith("0 réservation")
    assert "Une place s'est libérée" in " ".join(alerts(world.family))


# --- Second pass: what a family may do, closed days, the order of requests ---------------


def test_many_days_for_two_children_never_overbooks_when_the_first_holds_the_first_days(
    world,
):
    """The canteen has 2 places. Child a already holds Thursday 19; c (another family)
    holds Friday 20 and d waits for it... the bulk plan must count every day it books."""
    factories.booking(world.a, world.canteen, DAY)
    factories.booking(world.c, world.canteen, DAY + timedelta(days=1))
    factories.booking(world.c, world.canteen, date(2026, 11, 23))
    stranger = factories.family_with_children(world, "famille.w", children=1).children[0]
    factories.registration(stranger, world.canteen, world.year)
    factories.booking(stranger, world.canteen, date(2026, 11, 23), BookingStatus.PENDING)
    plans = svc.book_many(
        [world.a, world.b], [(world.canteen, None)], DAY, date(2026, 11, 23),
        (1, 4, 5), NOW, preview=False,
    )  # fmt: skip
    held = {
        day: db.session.scalar(
            select(func.count(Booking.id)).where(
                Booking.day == day, Booking.status.in_(list(svc.HOLDS_PLACE))
            )
        )
        for day in (DAY, DAY + timedelta(days=1), date(2026, 11, 23))
    }
    assert held == {DAY: 2, DAY + timedelta(days=1): 2, date(2026, 11, 23): 1}
    # Monday 23: one place left but the stranger waits first, so both children wait too.
    assert status_of(world.a, world.canteen, date(2026, 11, 23)) == BookingStatus.PENDING
    assert sorted(r.day.day for r in plans[0].waiting) == [20, 23, 23]


def test_many_days_ends_with_one_alert_that_sums_it_up(world):
    svc.book_many(
        [world.a, world.b], [(world.canteen, None), (world.care, world.care.options[1])],
        DAY, DAY + timedelta(days=1), (4, 5), NOW, preview=False,
    )  # fmt: skip
    (message,) = alerts(world.family)
    assert message.startswith("Réservation de plusieurs jours.")
    assert "Restaurant scolaire — standard : 4 jours réservés (Enfant1 et Enfant2" in message
    assert "Accueil du soir — jusqu-18h45 : 4 demandes à valider" in message


def test_a_cancel_or_change_request_is_dated_when_the_family_asked(world):
    booked = factories.booking(world.a, world.care, DAY)
    booked.requested_at = datetime(2026, 10, 5, 8, 0)
    db.session.commit()
    asked = datetime(2026, 11, 10, 7, 45)
    assert svc.cancel(world.a, world.care, DAY, asked).booking.requested_at == asked
    svc.withdraw(world.a, world.care, DAY, asked)
    later = asked + timedelta(hours=1)
    changed = svc.change_option(world.a, world.care, DAY, world.care.options[1], later)
    assert changed.booking.requested_at == later


def test_a_pending_change_or_cancellation_can_be_withdrawn(world):
    standard, late = world.care.options
    factories.booking(world.a, world.care, DAY, option=standard)
    svc.change_option(world.a, world.care, DAY, late, NOW)
    outcome = svc.withdraw(world.a, world.care, DAY, NOW)
    assert (outcome.booking.status, outcome.booking.option_id) == (
        BookingStatus.REGISTERED,
        standard.id,
    )
    assert outcome.booking.requested_option_id is None
    svc.cancel(world.a, world.care, DAY, NOW)
    assert svc.withdraw(world.a, world.care, DAY, NOW).booking.status == BookingStatus.REGISTERED


def test_an_absence_can_be_withdrawn_until_the_end_of_the_day(world):
    factories.booking(world.a, world.canteen, DAY)
    morning = datetime(2026, 11, 19, 6, 0)
    svc.declare_absence(world.a, world.canteen, DAY, "Fièvre", morning)
    outcome = svc.withdraw_absence(world.a, world.canteen, DAY, morning + timedelta(hours=1))
    assert (outcome.booking.attendance, outcome.booking.absence_reason) == (None, "")
    svc.declare_absence(world.a, world.canteen, DAY, "Fièvre", morning)
    with pytest.raises(svc.DeadlinePassed):
        svc.withdraw_absence(world.a, world.canteen, DAY, datetime(2026, 11, 20, 7, 0))


@pytest.mark.parametrize(
    ("status", "now", "expected"),
    [
        (CellStatus.AVAILABLE, NOW, {DayAction.BOOK}),
        (CellStatus.AVAILABLE, DEADLINE, set()),
        (CellStatus.PENDING, NOW, {DayAction.WITHDRAW}),
        (CellStatus.REGISTERED, NOW, {DayAction.CANCEL, DayAction.CHANGE_OPTION}),
        (CellStatus.REGISTERED, DEADLINE, {DayAction.DECLARE_ABSENCE}),
        (CellStatus.CHANGE_REQUESTED, NOW, {DayAction.CANCEL, DayAction.WITHDRAW}),
        (CellStatus.CHANGE_REQUESTED, DEADLINE, {DayAction.DECLARE_ABSENCE}),
        (CellStatus.CANCEL_REQUESTED, NOW, {DayAction.WITHDRAW}),
        (CellStatus.CANCEL_REQUESTED, DEADLINE, {DayAction.DECLARE_ABSENCE}),
    ],
)
def test_the_grid_offers_exactly_what_the_service_accepts(world, status, now, expected):
    """For each status and side of the deadline: the cell's actions are the allowed ones,
    and each action the cell does not offer is refused by the service."""
    standard, late = world.care.options
    if status != CellStatus.AVAILABLE:
        held = factories.booking(world.a, world.care, DAY, BookingStatus(status), option=standard)
        held.requested_option_id = late.id if status == CellStatus.CHANGE_REQUESTED else None
        db.session.commit()
    cell = row(svc.month_grid([world.a], DAY, now), world.a, world.care)[18]
    assert cell.actions == expected
    assert cell.editable == bool(expected - {DayAction.DECLARE_ABSENCE})
    attempts = {
        DayAction.BOOK: lambda: svc.book_day(world.a, world.care, DAY, None, now),
        DayAction.CANCEL: lambda: svc.cancel(world.a, world.care, DAY, now),
        DayAction.WITHDRAW: lambda: svc.withdraw(world.a, world.care, DAY, now),
        DayAction.CHANGE_OPTION: lambda: svc.change_option(world.a, world.care, DAY, late, now),
        DayAction.WITHDRAW_ABSENCE: lambda: svc.withdraw_absence(world.a, world.care, DAY, now),
    }
    for action, attempt in attempts.items():
        if action not in expected:
            with pytest.raises(svc.BookingError):
                attempt()


def test_an_editable_cell_says_until_when(world):
    factories.booking(world.a, world.canteen, DAY)
    cell = row(svc.month_grid([world.a], DAY, NOW), world.a, world.canteen)[18]
    assert cell.until == DEADLINE  # Tuesday 17 November, 10:00 in Paris


def test_a_day_closed_after_the_request_never_confirms_it(world):
    waiting = factories.booking(world.c, world.canteen, DAY, BookingStatus.PENDING)
    factories.booking(world.a, world.canteen, DAY)
    factories.booking(world.b, world.canteen, DAY)
    factories.closure(DAY, DAY, "Grève", where=world.school)
    db.session.get(Capacity, 1).places = 3  # a place frees on a day now closed
    db.session.commit()
    assert svc.promote_waiting_list(world.school.id, world.canteen, DAY, NOW) == []
    assert status_of(world.c, world.canteen) == BookingStatus.REFUSED
    (message,) = alerts(world.other_family)
    assert message.startswith("Demande close, le service est fermé (Grève)")
    assert waiting.refusal_reason == "Jour fermé : Grève"


def test_staff_cannot_confirm_a_request_on_a_day_that_closed(world):
    request = svc.book_day(world.a, world.care, DAY, None, NOW).booking
    factories.closure(DAY, DAY, "Formation du personnel")
    with pytest.raises(svc.DayClosed):
        svc.approve(request, NOW)
    assert status_of(world.a, world.care) == BookingStatus.PENDING
    assert [b.id for b in svc.serve_waiting_lists(NOW)] == []
    assert status_of(world.a, world.care) == BookingStatus.REFUSED


def test_staff_serve_the_waiting_list_in_order(world):
    factories.booking(world.a, world.canteen, DAY)
    factories.booking(world.b, world.canteen, DAY)
    first = svc.book_day(world.c, world.canteen, DAY, None, NOW).booking
    later = svc.book_day(world.a, world.canteen, DAY + timedelta(1), None, NOW).booking
    assert first.status == BookingStatus.PENDING and later.status == BookingStatus.REGISTERED
    second = factories.family_with_children(world, "famille.z", children=1).children[0]
    factories.registration(second, world.canteen, world.year)
    waiting = svc.book_day(second, world.canteen, DAY, None, NOW + timedelta(1)).booking
    db.session.get(Capacity, 1).places = 4
    db.session.commit()
    with pytest.raises(svc.CapacityReached, match="plus ancienne"):
        svc.approve(waiting, NOW)
    assert svc.approve(first, NOW).booking.status == BookingStatus.REGISTERED


def test_decisions_on_many_requests_of_a_family_make_one_alert_refusals_first(world):
    days = [date(2026, 11, d) for d in (19, 20, 23, 24)]
    requests = [svc.book_day(world.a, world.care, d, None, NOW).booking for d in days]
    decisions = [svc.Decision(b, svc.APPROVE) for b in requests[:3]]
    decisions.append(svc.Decision(requests[3], svc.REFUSE, "Sortie scolaire ce jour-là"))
    svc.decide(decisions, NOW)
    (alert,) = db.session.scalars(select(Alert).where(Alert.family_id == world.family.id))
    assert alert.message == "La mairie a traité 4 demandes : 1 refusée, 3 acceptées."
    first, *others = alert.details.splitlines()
    assert first.startswith("Réservation refusée : Accueil du soir du mardi 24 novembre")
    assert first.endswith("Motif : Sortie scolaire ce jour-là")
    assert all(line.startswith("Réservation confirmée") for line in others)


def test_a_refused_option_change_says_the_booking_stands(world):
    standard, late = world.care.options
    factories.booking(world.a, world.care, DAY, option=standard)
    change = svc.change_option(world.a, world.care, DAY, late, NOW).booking
    svc.refuse(change, "Plus de place après 17 h 30", NOW)
    assert status_of(world.a, world.care) == BookingStatus.REGISTERED
    (message,) = alerts(world.family)
    assert message.startswith(
        "Changement de formule refusé, la réservation d'origine est maintenue"
    )


def test_cancelling_many_days_leaves_a_closed_day_as_the_day_page_does(world):
    factories.booking(world.a, world.canteen, DAY)
    factories.booking(world.a, world.canteen, DAY + timedelta(days=1))
    factories.closure(DAY, DAY, "Grève", where=world.school)
    (plan,) = svc.cancel_many(
        [world.a], [world.canteen], DAY, DAY + timedelta(1), (4, 5), NOW, False
    )
    assert [(r.day, r.reason) for r in plan.closed] == [(DAY, "Grève")]
    assert [b.day for b in plan.bookings] == [DAY + timedelta(days=1)]
    assert status_of(world.a, world.canteen) == BookingStatus.REGISTERED
