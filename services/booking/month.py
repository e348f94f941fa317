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

from sqlalchemy import func, select
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
from services.booking.places import HOLDS_PLACE, bookings_by_key, checked_option
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


def month_grid(child_ids: Sequence[int], month: date, now: datetime) -> dict[int, ChildMonth]:
    """The calendar page: per child (in `child_ids` order), per registered activity, per day.

    Runs a fixed number of queries (seven) whatever the number of children, activities and
    bookings. A day is `closed` when the calendar closes it for the child's school or the
    child has no accepted registration for its school year; `editable` says whether the
    family can act on it now (book, withdraw, cancel, change) before the deadline.
    """
    first, last = month_bounds(month)
    children = _children(child_ids)
    calendar = Calendar.load(first, last, {child.school_id for child in children.values()})
    registrations = _registrations(child_ids, first, last)
    bookings = bookings_by_key(child_ids, None, first, last)
    usual = usual_options(child_ids)
    days_of_school: dict[int, list[CalendarDay]] = {}
    grid: dict[int, ChildMonth] = {}
    for child in (children[i] for i in child_ids if i in children):
        if child.school_id not in days_of_school:
            days_of_school[child.school_id] = calendar.days(child.school, first, last)
        days = days_of_school[child.school_id]
        rows = [
            ActivityMonth(
                activity,
                _cells(child.id, activity, years, days, bookings, now),
                usual.get((child.id, activity.id), _default_option_id(activity)),
            )
            for activity, years in _activities_of(registrations, child.id)
        ]
        grid[child.id] = ChildMonth(child, rows)
    return grid


def usual_options(child_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """Per (child, activity), the option booked most often (the latest on a tie), one query."""
    rows = db.session.execute(
        select(
            Booking.child_id,
            Booking.activity_id,
            Booking.option_id,
            func.count(Booking.id),
            func.max(Booking.day),
        )
        .where(
            Booking.child_id.in_(list(child_ids)),
            Booking.option_id.is_not(None),
            Booking.status.in_(list(HOLDS_PLACE)),
        )
        .group_by(Booking.child_id, Booking.activity_id, Booking.option_id)
    )
    best: dict[tuple[int, int], tuple[int, date, int]] = {}
    for child_id, activity_id, option_id, number, latest in rows:
        key = (child_id, activity_id)
        if key not in best or (number, latest) > best[key][:2]:
            best[key] = (number, latest, option_id)
    return {key: option_id for key, (_, _, option_id) in best.items()}


def _default_option_id(activity: Activity) -> int | None:
    default = checked_option(activity, None)
    return default.id if default else None


def _cells(child_id, activity, years, days, bookings, now) -> list[Cell]:
    return [
        _cell(opening, years, bookings.get((child_id, activity.id, opening.day)), activity, now)
        for opening in days
    ]


def _children(child_ids: Sequence[int]) -> dict[int, Child]:
    found = db.session.scalars(
        select(Child).where(Child.id.in_(list(child_ids))).options(joinedload(Child.school))
    )
    return {child.id: child for child in found}


def _registrations(child_ids: Sequence[int], first: date, last: date) -> list[Registration]:
    """Accepted registrations overlapping the range, with activity, options and school year."""
    return list(
        db.session.scalars(
            select(Registration)
            .join(Registration.school_year)
            .where(
                Registration.child_id.in_(list(child_ids)),
                Registration.status == RegistrationStatus.ACCEPTED,
                SchoolYear.starts_on <= last,
                SchoolYear.ends_on >= first,
            )
            .options(
                joinedload(Registration.school_year),
                joinedload(Registration.activity).selectinload(Activity.options),
            )
        )
    )


def _activities_of(
    registrations: list[Registration], child_id: int
) -> list[tuple[Activity, list[SchoolYear]]]:
    """The child's registered activities, in display order, with their school years."""
    years: dict[Activity, list[SchoolYear]] = defaultdict(list)
    for registration in registrations:
        if registration.child_id == child_id:
            years[registration.activity].append(registration.school_year)
    return sorted(years.items(), key=lambda item: (item[0].sort_order, item[0].name))


def _cell(
    opening: CalendarDay,
    years: list[SchoolYear],
    booking: Booking | None,
    activity: Activity,
    now: datetime,
) -> Cell:
    day = opening.day
    if not opening.is_open:
        return Cell(day, CellStatus.CLOSED, reason=opening.reason)
    if not any(year.starts_on <= day <= year.ends_on for year in years):
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
