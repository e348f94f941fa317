"""Open days (holidays, school holidays zone B, closures, school week) and deadlines."""

from __future__ import annotations

import socket
from datetime import date, datetime

import pytest

from extensions import db
from models import Activity
from services import calendar
from services.calendar import DeadlineKind
from tests import factories


@pytest.fixture
def chalmel(app):
    factories.school_year()
    return factories.school()


def canteen(**settings) -> Activity:
    """A transient activity: deadlines are pure rules, no database needed."""
    values = {
        "booking_deadline_days": 2,
        "booking_deadline_time": "10:00",
        "cancel_deadline_days": 2,
        "cancel_deadline_time": "10:00",
    }
    values.update(settings)
    return Activity(code="canteen", name="Restaurant scolaire", **values)


def status(where, day: date) -> calendar.CalendarDay:
    return calendar.day_status(where, day)


# --- Open days ------------------------------------------------------------------------


def test_armistice_is_a_public_holiday(chalmel):
    assert status(chalmel, date(2026, 11, 11)) == calendar.CalendarDay(
        date(2026, 11, 11), False, "Jour férié : Armistice"
    )


def test_christmas_holidays_of_zone_b_are_closed(chalmel):
    days = calendar.Calendar.load(date(2026, 12, 18), date(2027, 1, 4), [chalmel.id])
    holidays = [
        days.day(chalmel, d) for d in calendar.date_range(date(2026, 12, 21), date(2027, 1, 1))
    ]
    assert not any(d.is_open for d in holidays)
    assert days.day(chalmel, date(2026, 12, 21)).reason == "Vacances de Noël"
    assert days.day(chalmel, date(2026, 12, 24)).reason == "Vacances de Noël"
    assert days.day(chalmel, date(2026, 12, 25)).reason == "Jour férié : Noël"
    assert days.day(chalmel, date(2026, 12, 18)).is_open, "last Friday of class"
    assert days.day(chalmel, date(2027, 1, 4)).is_open, "back to school on Monday 4 January"


def test_other_zone_b_holidays_are_closed(chalmel):
    assert status(chalmel, date(2026, 10, 19)).reason == "Vacances de la Toussaint"
    assert status(chalmel, date(2027, 2, 22)).reason == "Vacances d'hiver"
    assert status(chalmel, date(2027, 4, 19)).reason == "Vacances de printemps"
    assert status(chalmel, date(2027, 5, 7)).reason == "Pont de l'Ascension"


def test_easter_monday_2027_is_closed_and_the_tuesday_open(chalmel):
    assert status(chalmel, date(2027, 3, 29)).reason == "Jour férié : Lundi de Pâques"
    assert status(chalmel, date(2027, 3, 30)).is_open


def test_wednesday_and_weekend_follow_the_school_week(chalmel):
    assert status(chalmel, date(2026, 11, 18)) == calendar.CalendarDay(
        date(2026, 11, 18), False, "Pas de classe le mercredi"
    )
    assert status(chalmel, date(2026, 11, 21)).reason == "Week-end"
    assert status(chalmel, date(2026, 11, 22)).reason == "Week-end"
    chalmel.class_weekdays = "1,2,3,4,5"
    db.session.commit()
    assert status(chalmel, date(2026, 11, 18)).is_open


def test_staff_closures_for_one_school_or_all(chalmel):
    therese = factories.school("École Sainte-Thérèse")
    factories.closure(date(2026, 11, 19), date(2026, 11, 20), "Grève du personnel", chalmel)
    factories.closure(date(2026, 11, 23), date(2026, 11, 23), "Formation du personnel")
    assert status(chalmel, date(2026, 11, 19)) == calendar.CalendarDay(
        date(2026, 11, 19), False, "Grève du personnel"
    )
    assert status(chalmel, date(2026, 11, 20)).reason == "Grève du personnel"
    assert status(therese, date(2026, 11, 19)).is_open
    assert status(chalmel, date(2026, 11, 23)).reason == "Formation du personnel"
    assert status(therese, date(2026, 11, 23)).reason == "Formation du personnel"


def test_days_outside_the_school_year_are_closed(chalmel):
    assert status(chalmel, date(2026, 8, 31)).reason == "Hors année scolaire"
    assert status(chalmel, date(2026, 9, 1)).is_open, "rentrée on Tuesday 1 September"
    assert status(chalmel, date(2027, 7, 5)).reason == "Hors année scolaire"


def test_a_month_lists_every_day(chalmel):
    days = calendar.month_days(chalmel, date(2026, 11, 15))
    assert [d.day for d in days] == calendar.date_range(date(2026, 11, 1), date(2026, 11, 30))
    open_days = [d.day.day for d in days if d.is_open]
    assert open_days == [2, 3, 5, 6, 9, 10, 12, 13, 16, 17, 19, 20, 23, 24, 26, 27, 30]


def test_a_month_costs_two_queries_whatever_the_closures(chalmel):
    for day in range(2, 28, 3):
        factories.closure(date(2026, 11, day), date(2026, 11, day), f"Fermeture {day}", chalmel)
    assert chalmel.class_weekdays == "1,2,4,5"
    with factories.counted_queries() as statements:
        days = calendar.month_days(chalmel, date(2026, 11, 1))
    assert len(statements) == 2
    assert days[1].reason == "Fermeture 2"


def test_public_sources_need_no_network(chalmel, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access at run time")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for cached in (
        calendar.public_holidays,
        calendar.school_holidays,
        calendar._school_holiday_dates,
    ):
        cached.cache_clear()
    assert calendar.school_holidays(2027)[date(2027, 2, 22)] == "Vacances d'hiver"
    assert calendar.public_holidays(2027)[date(2027, 5, 6)] == "Ascension"


# --- Deadlines --------------------------------------------------------------------------


def test_two_working_days_before_a_monday_is_the_thursday():
    assert calendar.booking_deadline(canteen(), date(2026, 11, 16)) == datetime(2026, 11, 12, 9, 0)


def test_working_days_skip_public_holidays():
    # Friday 13 November: Thursday 12, (Wednesday 11 is Armistice), Tuesday 10.
    assert calendar.booking_deadline(canteen(), date(2026, 11, 13)) == datetime(2026, 11, 10, 9, 0)
    # Tuesday 30 March 2027: Easter Monday and the weekend are skipped.
    assert calendar.booking_deadline(canteen(), date(2027, 3, 30)) == datetime(2027, 3, 25, 9, 0)


def test_deadlines_follow_summer_and_winter_time():
    # Summer time starts on Sunday 28 March 2027: 10:00 in Paris is 08:00 UTC afterwards.
    assert calendar.booking_deadline(canteen(), date(2027, 4, 1)) == datetime(2027, 3, 30, 8, 0)
    # Winter time starts on Sunday 25 October 2026: Thursday 29 October 10:00 is 09:00 UTC.
    assert calendar.booking_deadline(canteen(), date(2026, 11, 2)) == datetime(2026, 10, 29, 9, 0)
    assert calendar.booking_deadline(canteen(), date(2026, 10, 23)) == datetime(2026, 10, 21, 8, 0)


def test_zero_days_means_the_day_itself():
    activity = canteen(booking_deadline_days=0, booking_deadline_time="09:30")
    assert calendar.booking_deadline(activity, date(2026, 11, 16)) == datetime(2026, 11, 16, 8, 30)


def test_cancel_deadline_has_its_own_settings():
    activity = canteen(cancel_deadline_days=1, cancel_deadline_time="18:00")
    assert calendar.cancel_deadline(activity, date(2026, 11, 16)) == datetime(2026, 11, 13, 17, 0)
    assert calendar.booking_deadline(activity, date(2026, 11, 16)) == datetime(2026, 11, 12, 9, 0)


def test_editable_strictly_before_the_deadline():
    activity = canteen(cancel_deadline_days=1, cancel_deadline_time="18:00")
    monday = date(2026, 11, 16)
    assert calendar.is_editable(activity, monday, datetime(2026, 11, 12, 8, 59))
    assert not calendar.is_editable(activity, monday, datetime(2026, 11, 12, 9, 0))
    assert calendar.is_editable(
        activity, monday, datetime(2026, 11, 13, 16, 59), DeadlineKind.CANCEL
    )
    assert not calendar.is_editable(activity, monday, datetime(2026, 11, 13, 17, 0), "cancel")
