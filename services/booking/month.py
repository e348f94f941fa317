"""The month grid of MES RÉSERVATIONS: per child, per registered activity, per day.

Each cell carries its status (DOMAIN.md), the actions services.booking.day_actions allows
the family now, and until when the day can still be changed, so the page offers exactly
what the transitions accept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.orm import joinedload

from extensions import db
from models import (
    Activity,
    Attendance,
    Booking,
    Child,
    Registration,
    RegistrationStatus,
    SchoolYear,
)
from services.booking.day_actions import (
    EDITING,
    CellStatus,
    DayAction,
    DayState,
    cell_status,
)
from services.booking.places import HOLDS_PLACE, checked_option
from services.calendar import Calendar, CalendarDay, DeadlineKind, month_bounds


@dataclass(frozen=True)
class Cell:
    """One day of the month grid for one child and one activity.

    `actions` is what the family may do now; `until` (naive UTC) the deadline of the
    editing actions offered, None when none is.
    """

    day: date
    status: CellStatus
    actions: frozenset[DayAction] = frozenset()
    until: datetime | None = None
    attendance: Attendance | None = None
    reason: str = ""
    option_id: int | None = None
    requested_option_id: int | None = None

    @property
    def editable(self) -> bool:
        """The calendar contract's `data-editable`: before the deadline and not closed."""
        return bool(self.actions & EDITING)


@dataclass
class ActivityMonth:
    """`usual_option_id`: the option the child has most often booked (the default else),
    what a tap on an available day books."""

    activity: Activity
    cells: list[Cell]
    usual_option_id: int | None = None


@dataclass
class ChildMonth:
    child: Child
    activities: list[ActivityMonth]


def month_grid(children: Sequence[Child], month: date, now: datetime) -> dict[int, ChildMonth]:
    """The calendar page: per child (in the given order, their school loaded), per
    registered activity, per day.

    Runs a fixed number of queries (six) whatever the number of children, activities and
    bookings, reading plain columns where no entity is needed: the page is hot. A day is
    `closed` when the calendar closes it for the child's school or the child has no
    accepted registration for its school year.
    """
    first, last = month_bounds(month)
    child_ids = [child.id for child in children]
    calendar = Calendar.load(first, last, {child.school_id for child in children})
    periods = _registered_periods(child_ids, first, last)
    activities = _activities({activity_id for _, activity_id in periods})
    bookings = _day_rows(child_ids, first, last)
    usual = usual_options(child_ids)
    days_of_school: dict[int, list[CalendarDay]] = {}
    grid: dict[int, ChildMonth] = {}
    for child in children:
        if child.school_id not in days_of_school:
            days_of_school[child.school_id] = calendar.days(child.school, first, last)
        days = days_of_school[child.school_id]
        rows = [
            ActivityMonth(
                activity,
                _cells(child.id, activity, periods[child.id, activity.id], days, bookings, now),
                usual.get((child.id, activity.id), _default_option_id(activity)),
            )
            for activity in activities
            if (child.id, activity.id) in periods
        ]
        grid[child.id] = ChildMonth(child, rows)
    return grid


# The month page runs these on every view: built once, with parameters.
_PERIODS = (
    select(
        Registration.child_id, Registration.activity_id, SchoolYear.starts_on, SchoolYear.ends_on
    )
    .join(Registration.school_year)
    .where(
        Registration.child_id.in_(bindparam("child_ids", expanding=True)),
        Registration.status == RegistrationStatus.ACCEPTED,
        SchoolYear.starts_on <= bindparam("last"),
        SchoolYear.ends_on >= bindparam("first"),
    )
)
_ACTIVITIES = (
    select(Activity)
    .where(Activity.id.in_(bindparam("ids", expanding=True)))
    .options(joinedload(Activity.options))
    .order_by(Activity.sort_order, Activity.name)
)
_DAY_ROWS = select(
    Booking.child_id,
    Booking.activity_id,
    Booking.day,
    Booking.status,
    Booking.attendance,
    Booking.option_id,
    Booking.requested_option_id,
).where(
    Booking.child_id.in_(bindparam("child_ids", expanding=True)),
    Booking.day >= bindparam("first"),
    Booking.day <= bindparam("last"),
)
_USUAL_OPTIONS = (
    select(
        Booking.child_id,
        Booking.activity_id,
        Booking.option_id,
        func.count(Booking.id),
        func.max(Booking.day),
    )
    .where(
        Booking.child_id.in_(bindparam("child_ids", expanding=True)),
        Booking.option_id.is_not(None),
        Booking.status.in_(list(HOLDS_PLACE)),
    )
    .group_by(Booking.child_id, Booking.activity_id, Booking.option_id)
)


def _registered_periods(child_ids, first: date, last: date) -> dict[tuple[int, int], list]:
    """Per (child, activity), the school years (starts, ends) of accepted registrations."""
    rows = db.session.execute(_PERIODS, {"child_ids": child_ids, "first": first, "last": last})
    periods: dict[tuple[int, int], list] = defaultdict(list)
    for child_id, activity_id, starts, ends in rows:
        periods[child_id, activity_id].append((starts, ends))
    return periods


def _activities(ids: set[int]) -> list[Activity]:
    """The activities in display order, their options loaded (one query)."""
    if not ids:
        return []
    return list(db.session.scalars(_ACTIVITIES, {"ids": list(ids)}).unique())


def _day_rows(child_ids, first: date, last: date) -> dict[tuple[int, int, date], Row]:
    """The children's booking rows of the month, as plain rows by (child, activity, day)."""
    rows = db.session.execute(_DAY_ROWS, {"child_ids": child_ids, "first": first, "last": last})
    return {(row.child_id, row.activity_id, row.day): row for row in rows}


def usual_options(child_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """Per (child, activity), the option booked most often (the latest on a tie), one query."""
    rows = db.session.execute(_USUAL_OPTIONS, {"child_ids": list(child_ids)})
    best: dict[tuple[int, int], tuple[int, date, int]] = {}
    for child_id, activity_id, option_id, number, latest in rows:
        key = (child_id, activity_id)
        if key not in best or (number, latest) > best[key][:2]:
            best[key] = (number, latest, option_id)
    return {key: option_id for key, (_, _, option_id) in best.items()}


def _default_option_id(activity: Activity) -> int | None:
    default = checked_option(activity, None)
    return default.id if default else None


def _cells(child_id, activity, periods, days, bookings, now) -> list[Cell]:
    return [
        _cell(opening, periods, bookings.get((child_id, activity.id, opening.day)), activity, now)
        for opening in days
    ]


def _cell(
    opening: CalendarDay,
    periods: list[tuple[date, date]],
    booking: Row | None,
    activity: Activity,
    now: datetime,
) -> Cell:
    day = opening.day
    if not opening.is_open:
        return Cell(day, CellStatus.CLOSED, reason=opening.reason)
    if not any(starts <= day <= ends for starts, ends in periods):
        return Cell(day, CellStatus.CLOSED, reason="Non inscrit à cette prestation")
    status = cell_status(booking.status if booking else None)
    held = booking is not None and status != CellStatus.AVAILABLE
    state = DayState(
        activity, day, status, booking.attendance if held else None, len(activity.options)
    )
    actions = state.allowed_actions(now)
    return Cell(
        day,
        status,
        actions,
        _until(state, actions),
        attendance=state.attendance,
        option_id=booking.option_id if held else None,
        requested_option_id=booking.requested_option_id if held else None,
    )


def _until(state: DayState, actions: frozenset[DayAction]) -> datetime | None:
    """The last moment the offered editing actions stay open: the earliest of their deadlines."""
    kinds = set()
    if actions & {DayAction.BOOK, DayAction.CHANGE_OPTION}:
        kinds.add(DeadlineKind.BOOKING)
    if actions & {DayAction.CANCEL, DayAction.WITHDRAW, DayAction.CHANGE_OPTION}:
        kinds.add(DeadlineKind.CANCEL)
    return min((state.open_until(kind) for kind in kinds), default=None)
