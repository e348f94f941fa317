"""Which days have service, and until when a day can be booked or cancelled.

Closed days merge, for one school:

- the school years (SchoolYear): a day outside every year is "Hors année scolaire";
- staff-entered closures (Closure), for the school or for all schools (school_id NULL);
- French public holidays (package `holidays`, offline);
- the official school holidays of zone B, Académie de Rennes (package
  `vacances-scolaires-france`, offline CSV shipped in the package);
- the school's week (School.class_weekdays, ISO weekdays): "Week-end" on Saturday and
  Sunday, "Pas de classe le mercredi" on a weekday without class.

When several apply, the first in that order gives the reason shown. No source depends on
the activity: the Closure table has no activity column, so every activity of a school is
open on the same days.

Deadlines are "N working days before the day, at HH:MM Europe/Paris" (Activity
booking_deadline_days/_time and cancel_deadline_days/_time); working days skip weekends and
French public holidays (school holidays are working days). They are returned in naive UTC,
the time representation the database stores (models.utcnow).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import Row, bindparam, or_, select
from vacances_scolaires_france import SchoolHolidayDates

from extensions import read_rows
from models import Activity, Closure, School, SchoolYear

log = logging.getLogger(__name__)

PARIS = ZoneInfo("Europe/Paris")
SCHOOL_ZONE = "B"
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class DeadlineKind(enum.StrEnum):
    BOOKING = "booking"
    CANCEL = "cancel"


@dataclass(frozen=True)
class CalendarDay:
    """One day for one school: open or not, and why not (French, shown to families)."""

    day: date
    is_open: bool
    reason: str = ""


# --- Public sources, cached in memory (no network, no database) ------------------------


@lru_cache(maxsize=64)
def public_holidays(year: int) -> dict[date, str]:
    """French public holidays of a calendar year, named in French."""
    return dict(holidays.country_holidays("FR", years=year, language="fr"))


@lru_cache(maxsize=1)
def _school_holiday_dates() -> SchoolHolidayDates:
    return SchoolHolidayDates()


@lru_cache(maxsize=64)
def school_holidays(year: int) -> dict[date, str]:
    """Zone B school holidays of a calendar year: {day: "Vacances de Noël", ...}.

    Empty (and a warning logged) for a year the package has no data for: staff then enter
    those holidays as closures until the package is upgraded.
    """
    dates = _school_holiday_dates()
    if not dates.min_year <= year <= dates.max_year:
        log.warning(
            "No zone %s school holidays for %s: upgrade vacances-scolaires-france",
            SCHOOL_ZONE,
            year,
        )
        return {}
    found = dates.holidays_for_year_and_zone(year, SCHOOL_ZONE)
    return {day: row["nom_vacances"] for day, row in found.items()}


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a French public holiday."""
    return day.isoweekday() <= 5 and day not in public_holidays(day.year)


# --- Open days ------------------------------------------------------------------------


def class_weekdays(school: School) -> frozenset[int]:
    """The ISO weekdays the school has class, from "1,2,4,5"."""
    return frozenset(int(part) for part in school.class_weekdays.split(",") if part.strip())


def _no_class_reason(day: date) -> str:
    if day.isoweekday() >= 6:
        return "Week-end"
    return f"Pas de classe le {WEEKDAYS_FR[day.weekday()]}"


# Every page of the calendar runs these: built once, with parameters.
_CLOSURES = (
    select(Closure.school_id, Closure.starts_on, Closure.ends_on, Closure.reason)
    .where(Closure.starts_on <= bindparam("end"), Closure.ends_on >= bindparam("start"))
    .order_by(Closure.starts_on, Closure.id)
)
_SCHOOL_CLOSURES = _CLOSURES.where(
    or_(Closure.school_id.is_(None), Closure.school_id.in_(bindparam("schools", expanding=True)))
)
_YEARS = (
    select(SchoolYear.starts_on, SchoolYear.ends_on)
    .where(SchoolYear.starts_on <= bindparam("end"), SchoolYear.ends_on >= bindparam("start"))
    .order_by(SchoolYear.starts_on)
)
# What Calendar.load reads for some schools (parameters start, end, schools): a key of
# the month page's cache aggregates the same statements (services.booking.month.month_key).
SCHOOL_CALENDAR_STATEMENTS = (_SCHOOL_CLOSURES, _YEARS)


class Calendar:
    """Closures and school years of a date range, loaded once (two queries), then asked freely.

    Build it with `Calendar.load(start, end, school_ids)`; `day(school, d)` and
    `days(school, start, end)` run no query for dates inside the loaded range.
    """

    def __init__(self, start: date, end: date, closures: list[Row], years: list[Row]):
        self.start, self.end = start, end
        self.closures = closures
        self.years = years

    @classmethod
    def load(cls, start: date, end: date, school_ids: Iterable[int] | None = None) -> Calendar:
        """Closures overlapping [start, end] (for these schools and all) and the school years,
        as plain rows (school_id, starts_on, ends_on, reason; starts_on, ends_on)."""
        span = {"start": start, "end": end}
        if school_ids is None:
            closures = read_rows(_CLOSURES, span)
        else:
            closures = read_rows(_SCHOOL_CLOSURES, {**span, "schools": list(school_ids)})
        return cls(start, end, list(closures), list(read_rows(_YEARS, span)))

    def in_school_year(self, day: date) -> bool:
        return any(year.starts_on <= day <= year.ends_on for year in self.years)

    def closure_reason(self, school_id: int, day: date) -> str | None:
        """The reason of the first staff closure covering the day for this school."""
        for closure in self.closures:
            if closure.starts_on <= day <= closure.ends_on and closure.school_id in (
                None,
                school_id,
            ):
                return closure.reason
        return None

    def day(self, school: School, day: date, weekdays: frozenset[int] | None = None) -> CalendarDay:
        """Open or closed, with the reason of the first rule that closes it (module docstring)."""
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} is outside the loaded range {self.start}..{self.end}")
        if not self.in_school_year(day):
            return CalendarDay(day, False, "Hors année scolaire")
        reason = self._closed_reason(school, day, weekdays or class_weekdays(school))
        return CalendarDay(day, reason is None, reason or "")

    def _closed_reason(self, school: School, day: date, weekdays: frozenset[int]) -> str | None:
        closure = self.closure_reason(school.id, day)
        if closure is not None:
            return closure
        if day in public_holidays(day.year):
            return f"Jour férié : {public_holidays(day.year)[day]}"
        if day in school_holidays(day.year):
            return school_holidays(day.year)[day]
        if day.isoweekday() not in weekdays:
            return _no_class_reason(day)
        return None

    def days(self, school: School, start: date, end: date) -> list[CalendarDay]:
        """Every day of [start, end] for the school."""
        weekdays = class_weekdays(school)
        return [self.day(school, d, weekdays) for d in date_range(start, end)]


def date_range(start: date, end: date) -> list[date]:
    """Every date from start to end, both included."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def month_bounds(month: date) -> tuple[date, date]:
    """First and last day of the month containing `month`."""
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def month_days(school: School, month: date) -> list[CalendarDay]:
    """Every day of the month containing `month` for the school, in two queries."""
    first, last = month_bounds(month)
    return Calendar.load(first, last, [school.id]).days(school, first, last)


def day_status(school: School, day: date) -> CalendarDay:
    """One day for one school, in two queries."""
    return Calendar.load(day, day, [school.id]).day(school, day)


# --- Deadlines --------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _deadline_date(day: date, working_days: int) -> date:
    """The Nth working day strictly before `day`; the day itself when N is 0."""
    current = day
    remaining = working_days
    while remaining > 0:
        current -= timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def _paris_to_utc(day: date, at: time) -> datetime:
    local = datetime.combine(day, at, tzinfo=PARIS)
    return local.astimezone(UTC).replace(tzinfo=None)


def deadline(activity: Activity, day: date, kind: DeadlineKind) -> datetime:
    """When booking (or cancelling) the day stops being possible, in naive UTC.

    Rule: the Nth working day before `day`, at HH:MM Europe/Paris, where N and HH:MM are the
    activity's booking (or cancel) settings. Working days skip Saturdays, Sundays and French
    public holidays, so the canteen's "2 working days at 10:00" for Monday 16 November 2026
    is Thursday 12 November 10:00 Paris (09:00 UTC). N = 0 means the day itself at HH:MM.
    Summer and winter time follow Europe/Paris on the deadline's date.
    """
    if kind == DeadlineKind.BOOKING:
        days, at = activity.booking_deadline_days, activity.booking_deadline_time
    else:
        days, at = activity.cancel_deadline_days, activity.cancel_deadline_time
    return _deadline_at(day, days, at)


@lru_cache(maxsize=8192)
def _deadline_at(day: date, working_days: int, at: str) -> datetime:
    """`deadline` from the activity's settings: a pure function, so computed once."""
    return _paris_to_utc(_deadline_date(day, working_days), time.fromisoformat(at))


def booking_deadline(activity: Activity, day: date) -> datetime:
    """Last moment (naive UTC) to book the day: see `deadline`."""
    return deadline(activity, day, DeadlineKind.BOOKING)


def cancel_deadline(activity: Activity, day: date) -> datetime:
    """Last moment (naive UTC) to cancel the day: see `deadline`."""
    return deadline(activity, day, DeadlineKind.CANCEL)


def is_editable(
    activity: Activity, day: date, now: datetime, kind: DeadlineKind = DeadlineKind.BOOKING
) -> bool:
    """True strictly before the deadline of that kind (`now` in naive UTC); at it, locked."""
    return now < deadline(activity, day, kind)


def paris_today(now: datetime) -> date:
    """The date in Europe/Paris at `now` (naive UTC)."""
    return now.replace(tzinfo=UTC).astimezone(PARIS).date()
