"""Tariffs: what one unit of an activity costs a family (DOMAIN.md, Billing).

The price of a day is that of the activity's tariff valid on the day (from `valid_from`,
up to `valid_to` when set) whose quotient-familial bracket [qf_min, qf_max] holds the
family's quotient. A family without a quotient familial (no valid QF document) pays the
highest bracket, and so does one whose quotient falls in no bracket: never less than the
commune asks. When two tariffs of a bracket are valid, the one valid from the later day
wins (a new price replaces the old one).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from extensions import db
from models import Activity, Tariff


def tariff_for(activity: Activity, quotient: int | None, day: date) -> Tariff | None:
    """The tariff pricing `day` of the activity for a family of this quotient (see above);
    None when the activity has no tariff valid that day."""
    valid = select(Tariff).where(
        Tariff.activity_id == activity.id,
        Tariff.valid_from <= day,
        or_(Tariff.valid_to.is_(None), Tariff.valid_to >= day),
    )
    latest = Tariff.valid_from.desc(), Tariff.id.desc()
    if quotient is not None:
        in_bracket = valid.where(Tariff.qf_min <= quotient, Tariff.qf_max >= quotient)
        found = db.session.scalar(in_bracket.order_by(*latest).limit(1))
        if found is not None:
            return found
    return db.session.scalar(valid.order_by(Tariff.qf_max.desc(), *latest).limit(1))


def unit_price_cents(activity: Activity, quotient: int | None, day: date) -> int:
    """The price of one unit (a meal, a care session) on `day`, in cents; LookupError when
    no tariff is valid that day (staff must enter one before billing it)."""
    tariff = tariff_for(activity, quotient, day)
    if tariff is None:
        raise LookupError(f"no tariff of {activity.code} valid on {day.isoformat()}")
    return tariff.unit_price_cents
