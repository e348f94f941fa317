"""services.registrations: a family's requests, and staff decisions that book or cancel the
usual days through the booking rules, in one transaction with the alert."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from extensions import db
from models import (
    Alert,
    AlertKind,
    Booking,
    BookingStatus,
    Registration,
    RegistrationStatus,
    ValidationMode,
)
from services import attendance, registrations
from tests import factories

# Monday 9 November 2026, 9:00 in Paris: the canteen's 2-working-days deadline has passed
# for Monday 9 and Tuesday 10, not for Thursday 12.
NOW = datetime(2026, 11, 9, 8, 0)
MON_TUE_THU = [1, 2, 4]


@pytest.fixture
def world(app, family, other_family, pin_clock):
    """A short school year (to Friday 4 December), an automatic canteen with one place a
    day at Chalmel, a strike on Thursday 19 November, and Enfant1 A's request."""
    pin_clock(NOW)
    year = factories.school_year("2026-2027", date(2026, 9, 1), date(2026, 12, 4))
    canteen = factories.activity()
    school = family.children[0].school
    factories.capacity(school, canteen, 1)
    factories.closure(date(2026, 11, 19), date(2026, 11, 19), "Grève", school)
    child, sibling = family.children[:2]
    factories.registration(sibling, canteen, year)
    factories.booking(sibling, canteen, date(2026, 11, 26))  # the only place that day
    request = registrations.request_registration(
        child, canteen, year, MON_TUE_THU, canteen.options[1], NOW
    )
    staff = factories.staff_user("agent.a")
    return year, canteen, child, request, staff


def days_of(child, activity, status: BookingStatus) -> list[date]:
    return list(
        db.session.scalars(
            select(Booking.day)
            .where(
                Booking.child_id == child.id,
                Booking.activity_id == activity.id,
                Booking.status == status,
            )
            .order_by(Booking.day)
        )
    )


def alerts(family) -> list[Alert]:
    return list(db.session.scalars(select(Alert).where(Alert.family_id == family.id)))


def test_acceptance_books_the_usual_days_through_closures_deadlines_and_capacity(world):
    year, canteen, child, request, staff = world
    registrations.decide_registration(request, registrations.APPROVE, staff, NOW, "1.2.3.4")
    assert request.status == RegistrationStatus.ACCEPTED
    booked = days_of(child, canteen, BookingStatus.REGISTERED)
    assert booked == [
        date(2026, 11, 12),
        date(2026, 11, 16),
        date(2026, 11, 17),
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 30),
        date(2026, 12, 1),
        date(2026, 12, 3),
    ]
    assert days_of(child, canteen, BookingStatus.PENDING) == [date(2026, 11, 26)]  # waits
    rows = db.session.scalars(select(Booking).where(Booking.child_id == child.id)).all()
    assert {row.option_id for row in rows} == {canteen.options[1].id}
    (alert,) = alerts(child.family)
    assert (alert.kind, alert.link) == (AlertKind.REGISTRATION, "/inscriptions")
    assert "Inscription acceptée : Restaurant scolaire 2026-2027 pour Enfant1 A." in alert.message
    assert "8 jours réservés (lun., mar., jeu.)" in alert.message
    assert "complet le 26 novembre (en liste d'attente)" in alert.message
    assert "fermé le 19 novembre (Grève)" in alert.message
    assert "délai dépassé le 9 novembre et le 10 novembre" in alert.message


def test_acceptance_of_a_year_not_started_books_from_its_first_day(app, family, pin_clock):
    pin_clock(NOW)
    next_year = factories.school_year("2027-2028", date(2027, 9, 1), date(2027, 9, 10))
    canteen = factories.activity()
    child = family.children[0]
    request = registrations.request_registration(child, canteen, next_year, [5], None, NOW)
    staff = factories.staff_user("agent.a")
    registrations.decide_registration(request, registrations.APPROVE, staff, NOW, None)
    assert days_of(child, canteen, BookingStatus.REGISTERED) == [
        date(2027, 9, 3),
        date(2027, 9, 10),
    ]
    assert request.option_id == canteen.options[0].id  # none chosen: the default


def test_staff_acceptance_registers_the_days_of_a_manual_activity(app, family, pin_clock):
    """Staff accepted the registration: its days are not requests to validate again."""
    pin_clock(NOW)
    year = factories.school_year("2026-2027", date(2026, 9, 1), date(2026, 11, 20))
    care = factories.activity("care_evening", "Accueil du soir", ValidationMode.MANUAL)
    child = family.children[0]
    request = registrations.request_registration(child, care, year, [4, 5], None, NOW)
    staff = factories.staff_user("agent.a")
    registrations.decide_registration(request, registrations.APPROVE, staff, NOW, None)
    assert days_of(child, care, BookingStatus.REGISTERED) == [
        date(2026, 11, 12),
        date(2026, 11, 13),
        date(2026, 11, 19),
        date(2026, 11, 20),
    ]
    assert days_of(child, care, BookingStatus.PENDING) == []


def test_a_failed_booking_leaves_the_request_waiting_and_nothing_booked(world):
    year, canteen, child, request, staff = world
    other = factories.activity("care_evening", "Accueil du soir")
    request.option_id = other.options[0].id  # an option the canteen does not have
    db.session.commit()
    with pytest.raises(registrations.RegistrationError, match="formule"):
        registrations.decide_registration(request, registrations.APPROVE, staff, NOW, None)
    db.session.expire_all()
    kept = db.session.get(Registration, request.id)
    assert (kept.status, kept.decided_at) == (RegistrationStatus.REQUESTED, None)
    assert days_of(child, canteen, BookingStatus.REGISTERED) == []
    assert alerts(child.family) == []


def test_a_request_of_a_family_that_left_since_is_not_accepted(world):
    year, canteen, child, request, staff = world
    child.family.archived_at = NOW
    db.session.commit()
    with pytest.raises(registrations.RegistrationError, match="archivée : refusez"):
        registrations.decide_registration(request, registrations.APPROVE, staff, NOW, None)
    db.session.expire_all()
    assert db.session.get(Registration, request.id).status == RegistrationStatus.REQUESTED
    assert days_of(child, canteen, BookingStatus.REGISTERED) == []
    registrations.decide_registration(
        request, registrations.REFUSE, staff, NOW, None, "La famille a quitté la commune"
    )
    assert db.session.get(Registration, request.id).status == RegistrationStatus.REFUSED


def test_a_refusal_needs_a_reason_and_sends_it(world):
    year, canteen, child, request, staff = world
    with pytest.raises(registrations.RegistrationError, match="motif"):
        registrations.decide_registration(request, registrations.REFUSE, staff, NOW, None, " ")
    db.session.expire_all()
    assert db.session.get(Registration, request.id).status == RegistrationStatus.REQUESTED
    registrations.decide_registration(
        request, registrations.REFUSE, staff, NOW, None, "Plus de place cette année"
    )
    assert (request.status, request.reason) == (
        RegistrationStatus.REFUSED,
        "Plus de place cette année",
    )
    (alert,) = alerts(child.family)
    assert alert.link == "/inscriptions"
    assert alert.message.endswith("Motif : Plus de place cette année")
    assert days_of(child, canteen, BookingStatus.REGISTERED) == []


@pytest.fixture
def kitchen(app, family, pin_clock):
    """Enfant1 A accepted at the canteen, booked Tuesday 10 (past the cancel deadline at
    NOW), Thursday 12, Monday 16 and Tuesday 17 November; a day waiting on Thursday 19."""
    pin_clock(NOW)
    year = factories.school_year()
    canteen = factories.activity()
    child = family.children[0]
    registration = factories.registration(child, canteen, year)
    for day in (date(2026, 11, 10), date(2026, 11, 12), date(2026, 11, 16), date(2026, 11, 17)):
        factories.booking(child, canteen, day)
    factories.booking(child, canteen, date(2026, 11, 19), BookingStatus.PENDING)
    registrations.request_cancellation(registration, NOW)
    return canteen, child, registration, factories.staff_user("agent.a")


def listed(child, canteen, day: date) -> bool:
    return any(
        b.child_id == child.id for b in attendance.day_list(child.school_id, canteen.id, day)
    )


def test_a_deregistration_cancels_the_days_still_cancellable_and_they_leave_the_kitchen_list(
    kitchen,
):
    canteen, child, registration, staff = kitchen
    assert registration.status == RegistrationStatus.CANCEL_REQUESTED
    assert listed(child, canteen, date(2026, 11, 16))
    registrations.decide_registration(registration, registrations.APPROVE, staff, NOW, None)
    assert registration.status == RegistrationStatus.CANCELLED
    assert days_of(child, canteen, BookingStatus.REGISTERED) == [date(2026, 11, 10)]
    assert days_of(child, canteen, BookingStatus.CANCELLED) == [
        date(2026, 11, 12),
        date(2026, 11, 16),
        date(2026, 11, 17),
        date(2026, 11, 19),
    ]
    assert listed(child, canteen, date(2026, 11, 10))  # too late: the meal is ordered
    assert not listed(child, canteen, date(2026, 11, 16))
    (alert,) = alerts(child.family)
    assert alert.kind == AlertKind.REGISTRATION
    assert "4 jours annulés, du 12 novembre 2026 au 19 novembre 2026." in alert.message
    assert "Restent réservés (délai d'annulation dépassé) : le 10 novembre." in alert.message


def test_the_printed_kitchen_list_no_longer_shows_a_deregistered_child(
    client, auth, kitchen, family
):
    canteen, child, registration, staff = kitchen
    registrations.decide_registration(registration, registrations.APPROVE, staff, NOW, None)
    auth.login("agent.a")
    query = urlencode({"school": child.school_id, "activity": canteen.id})
    on_tenth = client.get(f"/admin/pointage/liste?{query}&date=2026-11-10").get_data(as_text=True)
    on_16th = client.get(f"/admin/pointage/liste?{query}&date=2026-11-16").get_data(as_text=True)
    assert "Enfant1" in on_tenth
    assert "Enfant1" not in on_16th


def test_a_refused_deregistration_keeps_the_registration_and_its_days(kitchen):
    canteen, child, registration, staff = kitchen
    registrations.decide_registration(
        registration, registrations.REFUSE, staff, NOW, None, "Appelez-nous d'abord"
    )
    assert registration.status == RegistrationStatus.ACCEPTED
    assert len(days_of(child, canteen, BookingStatus.REGISTERED)) == 4


def test_nothing_is_decided_twice(world):
    year, canteen, child, request, staff = world
    registrations.decide_registration(request, registrations.APPROVE, staff, NOW, None)
    with pytest.raises(registrations.RegistrationError, match="Aucune demande"):
        registrations.decide_registration(request, registrations.APPROVE, staff, NOW, None)
    assert len(alerts(child.family)) == 1


# --- The family's requests -------------------------------------------------------------


def test_a_request_is_refused_twice_and_for_days_the_school_has_no_class(world):
    year, canteen, child, request, staff = world
    assert (request.status, request.weekdays) == (RegistrationStatus.REQUESTED, "1,2,4")
    with pytest.raises(registrations.RegistrationError, match="déjà une inscription"):
        registrations.request_registration(child, canteen, year, [1], None, NOW)
    sibling = child.family.children[1]
    with pytest.raises(registrations.RegistrationError, match="pas classe"):
        registrations.request_registration(
            sibling, factories.activity("x", "X"), year, [3], None, NOW
        )
    with pytest.raises(registrations.RegistrationError, match="au moins un jour"):
        registrations.request_registration(
            sibling, factories.activity("y", "Y"), year, [], None, NOW
        )


def test_an_option_of_another_activity_or_an_ended_year_is_refused(world):
    year, canteen, child, request, staff = world
    care = factories.activity("care_evening", "Accueil du soir")
    with pytest.raises(registrations.RegistrationError, match="formule"):
        registrations.request_registration(child, care, year, [1], canteen.options[0], NOW)
    old = factories.school_year("2025-2026", date(2025, 9, 1), date(2026, 7, 3))
    with pytest.raises(registrations.RegistrationError, match="terminée"):
        registrations.request_registration(child, care, old, [1], None, NOW)
    assert (
        db.session.scalars(select(Registration).where(Registration.activity_id == care.id)).all()
        == []
    )


def test_a_refused_registration_can_be_asked_again(world):
    year, canteen, child, request, staff = world
    registrations.decide_registration(request, registrations.REFUSE, staff, NOW, None, "Complet")
    again = registrations.request_registration(child, canteen, year, [4], None, NOW)
    assert again.id == request.id
    assert (again.status, again.weekdays, again.reason) == (RegistrationStatus.REQUESTED, "4", "")


def test_a_waiting_request_is_withdrawn_at_once(world):
    year, canteen, child, request, staff = world
    registrations.request_cancellation(request, NOW)
    assert request.status == RegistrationStatus.CANCELLED
    with pytest.raises(registrations.RegistrationError, match="rien à annuler"):
        registrations.request_cancellation(request, NOW)
