"""Tariffs: what one unit of an activity costs a family (DOMAIN.md, Billing).

The price of a day is that of the tariff valid on the day (from `valid_from`, up to
`valid_to` when set) whose quotient-familial bracket [qf_min, qf_max] holds the family's
quotient:

- an option's own tariffs (option_id set) beat the activity's (option_id None): when the
  option has a tariff valid that day, only the option's tariffs price it;
- a family without a quotient familial, or whose QF certificate's validity has ended
  (Family.quotient_valid_until), pays the highest bracket,
  and so does one whose quotient falls in no bracket: never less than the commune asks;
- when two tariffs of a bracket are valid, the one valid from the later day wins (a new
  price replaces the old one);
- a tariff has three prices (PriceKind): the unit price of a booked day; the walk-in
  price of a presence without booking; the late-cancellation price of a booked day
  missed without justification. A penalty price left empty is the unit price.

`PriceList.load(start, end)` reads every tariff valid in a period in one query and then
answers in memory: the billing run prices thousands of days without a query per day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select

from extensions import db
from models import Activity, ActivityOption, Child, Family, PriceKind, Tariff
from services.booking.places import checked_option


@dataclass(frozen=True)
class TariffRow:
    """The columns of a Tariff that price a day."""

    id: int
    activity_id: int
    option_id: int | None
    qf_min: int
    qf_max: int
    unit_price_cents: int
    walk_in_price_cents: int | None
    late_cancel_price_cents: int | None
    valid_from: date
    valid_to: date | None

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def holds(self, quotient: int | None) -> bool:
        return quotient is not None and self.qf_min <= quotient <= self.qf_max

    def price_cents(self, kind: PriceKind) -> int:
        """The price of that kind; an empty penalty price is the unit price."""
        if kind is PriceKind.WALK_IN and self.walk_in_price_cents is not None:
            return self.walk_in_price_cents
        if kind is PriceKind.LATE_CANCEL and self.late_cancel_price_cents is not None:
            return self.late_cancel_price_cents
        return self.unit_price_cents


_COLUMNS = [Tariff.__table__.c[name] for name in TariffRow.__dataclass_fields__]


def _latest_first(row: TariffRow) -> tuple:
    return (row.valid_from, row.id)


def _chosen(rows: list[TariffRow], quotient: int | None) -> TariffRow | None:
    """The bracket holding the quotient (latest first), else the highest bracket."""
    in_bracket = [row for row in rows if row.holds(quotient)]
    if in_bracket:
        return max(in_bracket, key=_latest_first)
    return max(rows, key=lambda row: (row.qf_max, *_latest_first(row)), default=None)


class PriceList:
    """The tariffs valid in a period, loaded once (one query), asked freely in memory."""

    def __init__(self, rows: Iterable[TariffRow]):
        self._rows: dict[tuple[int, int | None], list[TariffRow]] = defaultdict(list)
        for row in rows:
            self._rows[(row.activity_id, row.option_id)].append(row)
        self._memo: dict[tuple, TariffRow | None] = {}

    @classmethod
    def load(cls, start: date, end: date) -> PriceList:
        """Every tariff valid on at least one day of [start, end]."""
        query = select(*_COLUMNS).where(
            Tariff.valid_from <= end, or_(Tariff.valid_to.is_(None), Tariff.valid_to >= start)
        )
        return cls(TariffRow(*row) for row in db.session.execute(query))

    def tariff(
        self, activity_id: int, option_id: int | None, quotient: int | None, day: date
    ) -> TariffRow | None:
        """The tariff pricing that day (module docstring); None when none is valid."""
        key = (activity_id, option_id, quotient, day)
        if key not in self._memo:
            self._memo[key] = self._find(activity_id, option_id, quotient, day)
        return self._memo[key]

    def _find(self, activity_id, option_id, quotient, day) -> TariffRow | None:
        owners = [(activity_id, option_id), (activity_id, None)] if option_id else []
        for owner in owners or [(activity_id, None)]:
            valid = [row for row in self._rows.get(owner, ()) if row.is_valid_on(day)]
            if valid:
                return _chosen(valid, quotient)
        return None

    def price(
        self,
        activity_id: int,
        option_id: int | None,
        quotient: int | None,
        day: date,
        kind: PriceKind = PriceKind.UNIT,
    ) -> int | None:
        """The price in cents of one unit of that kind on that day; None without a tariff."""
        found = self.tariff(activity_id, option_id, quotient, day)
        return None if found is None else found.price_cents(kind)


def tariff_for(
    activity: Activity, quotient: int | None, day: date, option: ActivityOption | None = None
) -> TariffRow | None:
    """The tariff pricing `day` of the activity (and option) for a family of this quotient
    (see above); None when the activity has no tariff valid that day. One query."""
    option_id = option.id if option is not None else None
    return PriceList.load(day, day).tariff(activity.id, option_id, quotient, day)


def unit_price_cents(
    activity: Activity, quotient: int | None, day: date, option: ActivityOption | None = None
) -> int:
    """The price of one unit (a meal, a care session) on `day`, in cents; LookupError when
    no tariff is valid that day (staff must enter one before billing it)."""
    tariff = tariff_for(activity, quotient, day, option)
    if tariff is None:
        raise LookupError(f"no tariff of {activity.code} valid on {day.isoformat()}")
    return tariff.unit_price_cents


# --- What a family sees ---------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyPrice:
    """What a family pays for one option of an activity on a day (option None: the
    activity has no option)."""

    activity: Activity
    option: ActivityOption | None
    unit_price_cents: int
    walk_in_price_cents: int
    late_cancel_price_cents: int


def family_prices(
    family: Family, day: date, activities: Iterable[Activity] | None = None
) -> list[FamilyPrice]:
    """The family's prices on `day` for each option of each activity (all activities by
    default), in the activities' order; an option without a valid tariff is left out."""
    if activities is None:
        activities = db.session.scalars(select(Activity).order_by(Activity.sort_order, Activity.id))
    prices = PriceList.load(day, day)
    found = []
    for activity in activities:
        for option in activity.options or [None]:
            option_id = option.id if option is not None else None
            tariff = prices.tariff(activity.id, option_id, valid_quotient(family, day), day)
            if tariff is not None:
                found.append(_family_price(activity, option, tariff))
    return found


def _family_price(activity, option, tariff: TariffRow) -> FamilyPrice:
    return FamilyPrice(
        activity,
        option,
        tariff.unit_price_cents,
        tariff.price_cents(PriceKind.WALK_IN),
        tariff.price_cents(PriceKind.LATE_CANCEL),
    )


@dataclass(frozen=True)
class EstimateItem:
    """One day of a selection a family is about to book."""

    child: Child
    activity: Activity
    option: ActivityOption | None
    day: date


def estimate_cents(family: Family, items: Iterable[EstimateItem | tuple]) -> int:
    """What booking these (child, activity, option, day) would cost the family, at the unit
    price (one query). An option None is the one a booking would get (the activity's
    default). A day without a valid tariff adds nothing: staff have not priced it yet, and
    the family is told an estimate, not a bill."""
    items = [EstimateItem(*item) if isinstance(item, tuple) else item for item in items]
    if not items:
        return 0
    days = [item.day for item in items]
    prices = PriceList.load(min(days), max(days))
    return sum(_unit_price(prices, family, item) or 0 for item in items)


def _unit_price(prices: PriceList, family: Family, item: EstimateItem) -> int | None:
    option = checked_option(item.activity, item.option)
    option_id = option.id if option is not None else None
    return prices.price(item.activity.id, option_id, valid_quotient(family, item.day), item.day)


def valid_quotient(family: Family, day: date) -> int | None:
    """The family's quotient if it is still valid on `day`, else None (highest bracket)."""
    return quotient_on(family.quotient_familial, family.quotient_valid_until, day)


def quotient_on(quotient: int | None, valid_until: date | None, day: date) -> int | None:
    """A quotient recorded with a QF certificate prices the days up to its validity's end;
    one recorded without an end (entered by staff) prices every day."""
    if valid_until is not None and day > valid_until:
        return None
    return quotient
