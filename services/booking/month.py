"""The month grid of MES RÉSERVATIONS: per child, per registered activity, per day.

Each cell carries its status (DOMAIN.md), the actions services.booking.day_actions allows
the family now, and until when the day can still be changed, so the page offers exactly
what the transitions accept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Row, ScalarSelect, bindparam, func, inspect, select
from sqlalchemy.orm import joinedload

from extensions import db, json_rows, read_rows
from models import (
    Activity,
    ActivityOption,
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
from services.calendar import (
    PARIS,
    SCHOOL_CALENDAR_STATEMENTS,
    Calendar,
    CalendarDay,
    DeadlineKind,
    month_bounds,
    paris_today,
)


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
    """`stable_until` (naive UTC): the first moment the grid may change with time alone (a
    deadline of one of its days, or midnight in Paris); until then, with the same rows, it
    stays the same."""

    child: Child
    activities: list[ActivityMonth]
    stable_until: datetime | None = None


def month_grid(children: Sequence[Child], month: date, now: datetime) -> dict[int, ChildMonth]:
    """The calendar page: per child (in the given order, their school loaded), per
    registered activity, per day.

    Runs a fixed number of queries (six) whatever the number of children, activities and
    bookings, reading plain columns where no entity is needed: the page is hot. A day is
    `closed` when the calendar closes it for the child's school or the child has no
    accepted registration for its school year.
    """
    return build_grid(children, load_month(children, month), now)


@dataclass(frozen=True)
class MonthSource:
    """Everything the month grid of these children reads from the database (load_month):
    the grid is a function of it and of the time (build_grid)."""

    first: date
    last: date
    calendar: Calendar
    periods: dict[tuple[int, int], list]
    activities: list[Activity]
    bookings: dict[tuple[int, int, date], Row]
    usual: dict[tuple[int, int], int]


def load_month(children: Sequence[Child], month: date) -> MonthSource:
    """The month's rows for these children: six queries whatever the data."""
    first, last = month_bounds(month)
    child_ids = [child.id for child in children]
    periods = _registered_periods(child_ids, first, last)
    return MonthSource(
        first,
        last,
        Calendar.load(first, last, {child.school_id for child in children}),
        periods,
        _activities({activity_id for _, activity_id in periods}),
        _day_rows(child_ids, first, last),
        usual_options(child_ids),
    )


def month_key(child: Child, month: date) -> tuple:
    """Everything the child's grid of the month is made of, read in one statement: the rows
    load_month's queries read (the same statements, each aggregated by the database into
    one JSON text), with the child and its school (loaded).

    Equal keys give the same grid at the same moment, and a change to any row the grid
    reads changes the key: the month page keeps its rendered weeks under it
    (blueprints/bookings/rendered.py)."""
    first, last = month_bounds(month)
    params = {"child_ids": [child.id], "first": first, "last": last}
    calendar = {"start": first, "end": last, "schools": [child.school_id]}
    texts = read_rows(_KEY, {**params, **calendar}).one()
    return (_columns(child), _columns(child.school), first, *texts)


def _columns(entity) -> tuple:
    """An entity's column values, in mapper order."""
    return tuple(getattr(entity, column.key) for column in inspect(entity).mapper.column_attrs)


def build_grid(
    children: Sequence[Child], source: MonthSource, now: datetime
) -> dict[int, ChildMonth]:
    """The grid of each child from the loaded rows, as of `now` (no query)."""
    days_of_school: dict[int, list[CalendarDay]] = {}
    grid: dict[int, ChildMonth] = {}
    for child in children:
        if child.school_id not in days_of_school:
            days_of_school[child.school_id] = source.calendar.days(
                child.school, source.first, source.last
            )
        days = days_of_school[child.school_id]
        moments: list[datetime] = [_next_paris_midnight(now)]
        rows = [
            ActivityMonth(
                activity,
                _cells(child.id, activity, source, days, now, moments),
                source.usual.get((child.id, activity.id), _default_option_id(activity)),
            )
            for activity in source.activities
            if (child.id, activity.id) in source.periods
        ]
        grid[child.id] = ChildMonth(child, rows, min(moments))
    return grid


def _next_paris_midnight(now: datetime) -> datetime:
    """The next start of a Paris day (naive UTC): "today" and the absences it allows move."""
    tomorrow = paris_today(now) + timedelta(days=1)
    local = datetime.combine(tomorrow, time(0), tzinfo=PARIS)
    return local.astimezone(UTC).replace(tzinfo=None)


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

# Every column of the registered activities and of their options: what _ACTIVITIES loads.
_CATALOGUE = (
    select(Activity.__table__, ActivityOption.__table__)
    .outerjoin(ActivityOption.__table__, ActivityOption.activity_id == Activity.id)
    .where(Activity.id.in_(select(_PERIODS.subquery().c.activity_id)))
    .order_by(Activity.id, ActivityOption.id)
)


def _aggregated(statement) -> ScalarSelect:
    rows = statement.subquery()
    return select(json_rows(*rows.c)).select_from(rows).scalar_subquery()


_KEY = select(
    *(
        _aggregated(statement)
        for statement in (
            _PERIODS,
            _CATALOGUE,
            _DAY_ROWS,
            _USUAL_OPTIONS,
            *SCHOOL_CALENDAR_STATEMENTS,
        )
    )
)


def _registered_periods(child_ids, first: date, last: date) -> dict[tuple[int, int], list]:
    """Per (child, activity), the school years (starts, ends) of accepted registrations."""
    rows = read_rows(_PERIODS, {"child_ids": child_ids, "first": first, "last": last})
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
    rows = read_rows(_DAY_ROWS, {"child_ids": child_ids, "first": first, "last": last})
    return {(row.child_id, row.activity_id, row.day): row for row in rows}


def usual_options(child_ids: Sequence[int]) -> dict[tuple[int, int], int]:
    """Per (child, activity), the option booked most often (the latest on a tie), one query."""
    rows = read_rows(_USUAL_OPTIONS, {"child_ids": list(child_ids)})
    best: dict[tuple[int, int], tuple[int, date, int]] = {}
    for child_id, activity_id, option_id, number, latest in rows:
        key = (child_id, activity_id)
        if key not in best or (number, latest) > best[key][:2]:
            best[key] = (number, latest, option_id)
    return {key: option_id for key, (_, _, option_id) in best.items()}


def _default_option_id(activity: Activity) -> int | None:
    default = checked_option(activity, None)
    return default.id if default else None


def _cells(child_id, activity, source, days, now, moments: list[datetime]) -> list[Cell]:
    """The activity's cells; adds to `moments` every deadline still to come among them."""
    periods = source.periods[child_id, activity.id]
    cells = []
    for opening in days:
        booking = source.bookings.get((child_id, activity.id, opening.day))
        cell, state = _cell(opening, periods, booking, activity, now)
        if state is not None:
            moments += [moment for moment in state.deadlines() if moment > now]
        cells.append(cell)
    return cells


def _cell(
    opening: CalendarDay,
    periods: list[tuple[date, date]],
    booking: Row | None,
    activity: Activity,
    now: datetime,
) -> tuple[Cell, DayState | None]:
    """The cell, and the state that decided its actions (None for a closed day)."""
    day = opening.day
    if not opening.is_open:
        return Cell(day, CellStatus.CLOSED, reason=opening.reason), None
    if not any(starts <= day <= ends for starts, ends in periods):
        return Cell(day, CellStatus.CLOSED, reason="Non inscrit à cette prestation"), None
    status = cell_status(booking.status if booking else None)
    held = booking is not None and status != CellStatus.AVAILABLE
    state = DayState(
        activity, day, status, booking.attendance if held else None, len(activity.options)
    )
    actions = state.allowed_actions(now)
    cell = Cell(
        day,
        status,
        actions,
        _until(state, actions),
        attendance=state.attendance,
        option_id=booking.option_id if held else None,
        requested_option_id=booking.requested_option_id if held else None,
    )
    return cell, state


def _until(state: DayState, actions: frozenset[DayAction]) -> datetime | None:
    """The last moment the offered editing actions stay open: the earliest of their deadlines."""
    kinds = set()
    if actions & {DayAction.BOOK, DayAction.CHANGE_OPTION}:
        kinds.add(DeadlineKind.BOOKING)
    if actions & {DayAction.CANCEL, DayAction.WITHDRAW, DayAction.CHANGE_OPTION}:
        kinds.add(DeadlineKind.CANCEL)
    return min((state.open_until(kind) for kind in kinds), default=None)
