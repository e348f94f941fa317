"""What INSCRIPTIONS shows: each child's activities for the current and next school year,
the registration's state, and the days actually booked — never one for the other.

Rules of the page:

- the school years shown are the one under way (or the next to start, in summer) and the
  one after it, when staff have created it;
- every activity is listed for every child, registered or not;
- "inscrit" is about the activity; "réservé" about days: an accepted registration says how
  many days are booked from today to the end of its year, on which weekdays, and that none
  is booked when none is; pending days (the day full, or a request) are counted apart.

Everything is read in six queries, whatever the number of children, years and bookings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from extensions import db
from models import (
    Activity,
    Booking,
    BookingStatus,
    Child,
    Family,
    Registration,
    RegistrationStatus,
    SchoolYear,
)
from services.booking import ACTIVE
from services.booking.catalogue import activities_with_options, children_of
from services.calendar import WEEKDAYS_FR, class_weekdays
from services.formatting import date_fr, plural
from services.registrations import usual_weekdays, weekdays_fr
from vocabulary import REGISTRATION_STATES

YEARS_SHOWN = 2
# A registration the family may ask for again (none yet, refused, cancelled).
REQUESTABLE = frozenset({None, RegistrationStatus.REFUSED, RegistrationStatus.CANCELLED})
# A registration the family may ask to cancel (an accepted one), or withdraw (a request).
CANCELLABLE = frozenset({RegistrationStatus.ACCEPTED, RegistrationStatus.REQUESTED})

_YEARS = (
    select(SchoolYear)
    .where(SchoolYear.ends_on >= bindparam("today"))
    .order_by(SchoolYear.starts_on)
    .limit(YEARS_SHOWN)
)


@dataclass
class Entry:
    """One child's activity for one school year."""

    child: Child
    activity: Activity
    year: SchoolYear
    registration: Registration | None
    today: date
    booked: list[date] = field(default_factory=list)
    waiting: list[date] = field(default_factory=list)

    @property
    def status(self) -> RegistrationStatus | None:
        return self.registration.status if self.registration else None

    @property
    def state(self) -> str:
        """« inscription acceptée », « pas d'inscription »…"""
        return REGISTRATION_STATES[self.status]

    @property
    def tone(self) -> str:
        """The badge's CSS class: the status, or `none`."""
        return self.status.value if self.status else "none"

    @property
    def can_request(self) -> bool:
        return self.status in REQUESTABLE

    @property
    def can_cancel(self) -> bool:
        return self.status in CANCELLABLE

    @property
    def anchor(self) -> str:
        return f"i-{self.child.id}-{self.activity.id}-{self.year.id}"

    @property
    def usual_days(self) -> str:
        """« lundi, mardi et jeudi », the days the family asked for."""
        days = usual_weekdays(self.registration) if self.registration else []
        return weekdays_fr(days) if days else ""

    @property
    def booked_words(self) -> str:
        """« 112 jours réservés d'ici au 2 juillet 2027 (lun., mar., jeu., ven.) »."""
        if not self.booked:
            return ""
        words = plural(len(self.booked), "jour réservé", "jours réservés")
        weekdays = weekdays_fr({day.isoweekday() for day in self.booked}, short=True)
        return f"{words} d'ici au {day_fr(self.booked[-1])} ({weekdays})"

    @property
    def waiting_words(self) -> str:
        """« Et 3 jours en attente (complets, ou à valider par le service) »."""
        if len(self.waiting) == 1:
            return "Et 1 jour en attente (complet, ou à valider par le service)"
        count = len(self.waiting)
        return f"Et {count} jours en attente (complets, ou à valider par le service)"

    @property
    def month(self) -> str:
        """The month to open in MES RÉSERVATIONS: the first booked one, else this month or
        the year's first, whichever is later."""
        first = self.booked[0] if self.booked else max(self.today, self.year.starts_on)
        return f"{first:%Y-%m}"


@dataclass
class YearBlock:
    year: SchoolYear
    entries: list[Entry]


@dataclass
class ChildBlock:
    child: Child
    weekdays: list[tuple[int, str]]
    years: list[YearBlock]


def overview(family: Family, today: date) -> list[ChildBlock]:
    """Each child of `family`, eldest first, with every activity of the years shown."""
    children = children_of(family)
    years = list(db.session.scalars(_YEARS, {"today": today}))
    if not children or not years:
        return [ChildBlock(child, _weekdays_of(child), []) for child in children]
    activities = activities_with_options()
    child_ids = [child.id for child in children]
    registrations = _registrations(child_ids, [year.id for year in years])
    days = _days(child_ids, today, years[-1].ends_on)
    return [
        ChildBlock(
            child,
            _weekdays_of(child),
            [
                YearBlock(year, _entries(child, year, activities, registrations, days, today))
                for year in years
            ],
        )
        for child in children
    ]


def _entries(child, year, activities, registrations, days, today) -> list[Entry]:
    booked, waiting = days
    return [
        Entry(
            child,
            activity,
            year,
            registrations.get((child.id, activity.id, year.id)),
            today,
            _within(booked.get((child.id, activity.id), []), year),
            _within(waiting.get((child.id, activity.id), []), year),
        )
        for activity in activities
    ]


def _within(days: list[date], year: SchoolYear) -> list[date]:
    return [day for day in days if year.starts_on <= day <= year.ends_on]


def _weekdays_of(child: Child) -> list[tuple[int, str]]:
    return [(day, WEEKDAYS_FR[day - 1]) for day in sorted(class_weekdays(child.school))]


def _registrations(child_ids, year_ids) -> dict[tuple[int, int, int], Registration]:
    rows = db.session.scalars(
        select(Registration)
        .where(Registration.child_id.in_(child_ids), Registration.school_year_id.in_(year_ids))
        .options(joinedload(Registration.option))
    )
    return {(row.child_id, row.activity_id, row.school_year_id): row for row in rows}


def _days(child_ids, today: date, last: date):
    """Per (child, activity): the booked days and the pending days from today, in order."""
    rows = db.session.execute(
        select(Booking.child_id, Booking.activity_id, Booking.day, Booking.status)
        .where(
            Booking.child_id.in_(child_ids),
            Booking.day >= today,
            Booking.day <= last,
            Booking.status.in_(ACTIVE),
        )
        .order_by(Booking.day)
    )
    booked: dict[tuple[int, int], list[date]] = {}
    waiting: dict[tuple[int, int], list[date]] = {}
    for child_id, activity_id, day, status in rows:
        kept = waiting if status == BookingStatus.PENDING else booked
        kept.setdefault((child_id, activity_id), []).append(day)
    return booked, waiting


def day_fr(day: date) -> str:
    """« 2 juillet 2027 », « 1er juillet 2027 »."""
    return f"{day.day}{'er' if day.day == 1 else ''} {date_fr(day, 'MMMM y')}"
