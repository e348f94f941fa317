"""The booking calendar's rules (DOMAIN.md), enforced on the server, in one package:

- `day_actions`: what a family may do with a day now — the one place that decides, for
  the transitions and for the pages;
- `single_day`: a family's transitions on one day (book, withdraw, cancel, change the
  option, declare or withdraw an absence);
- `many_days`: many days at once, for several children and activities;
- `decisions`: staff decisions on requests and on declared absences;
- `waiting_list`: places that free up go to the oldest request, never to a closed day;
- `month`: the month grid the pages show;
- `places`: rows, capacity and the checks the others share; `errors`, `results`.

One Booking row per child, activity and day, whatever its history: withdrawing,
cancelling or a refusal set it to `cancelled` / `refused` (the cell shows `available`
again), and a new booking reuses the row. Each public function that writes commits its
own transaction, or raises a BookingError (French message) after a rollback, leaving
nothing half-written.

Rules:

- the child has an ACCEPTED Registration to the activity for the school year of the day;
- the day is open for the child's school (services.calendar);
- booking before the activity's booking deadline; cancelling or withdrawing before its
  cancel deadline; changing the option before both; after them only declaring an
  absence is left to the family;
- capacity per school, activity and day is never exceeded (places); waiting requests are
  served first come, first served (waiting_list).

Locks are always taken in the same order (the Capacity rows, in id order, then the family's
own booking rows, then the waiting rows), so concurrent requests queue instead of
deadlocking (places.lock_capacities).
"""

from services.booking.day_actions import CellStatus, DayAction, DayState
from services.booking.decisions import (
    APPROVE,
    REFUSE,
    Decision,
    approve,
    decide,
    mark_absence_justified,
    refuse,
)
from services.booking.errors import (
    BookingError,
    CapacityReached,
    DayClosed,
    DeadlinePassed,
    InvalidTransition,
    NotRegistered,
    transactional,
)
from services.booking.many_days import (
    book_many,
    book_registered_days,
    cancel_many,
    cancel_registered_days,
)
from services.booking.month import (
    ActivityMonth,
    Cell,
    ChildMonth,
    month_grid,
    month_key,
)
from services.booking.places import (
    ACTIVE,
    HOLDS_PLACE,
    check_day_open,
    checked_option,
    lock_booking,
    lock_day_booking,
    write_booking,
)
from services.booking.results import BookingPlan, CancelPlan, DayRef, Outcome
from services.booking.single_day import (
    book_day,
    cancel,
    change_option,
    declare_absence,
    declare_absences,
    withdraw,
    withdraw_absence,
)
from services.booking.waiting_list import (
    end_requests_on_closed_days,
    promote_waiting_list,
    serve_waiting_lists,
    waiting_days,
)

__all__ = [
    "ACTIVE",
    "APPROVE",
    "HOLDS_PLACE",
    "REFUSE",
    "ActivityMonth",
    "BookingError",
    "BookingPlan",
    "CancelPlan",
    "CapacityReached",
    "Cell",
    "CellStatus",
    "ChildMonth",
    "DayAction",
    "DayClosed",
    "DayRef",
    "DayState",
    "DeadlinePassed",
    "Decision",
    "InvalidTransition",
    "NotRegistered",
    "Outcome",
    "approve",
    "book_day",
    "book_many",
    "book_registered_days",
    "cancel",
    "cancel_many",
    "cancel_registered_days",
    "change_option",
    "check_day_open",
    "checked_option",
    "decide",
    "declare_absence",
    "declare_absences",
    "end_requests_on_closed_days",
    "lock_booking",
    "lock_day_booking",
    "mark_absence_justified",
    "month_grid",
    "month_key",
    "promote_waiting_list",
    "refuse",
    "serve_waiting_lists",
    "transactional",
    "waiting_days",
    "withdraw",
    "withdraw_absence",
    "write_booking",
]
