"""What the booking pages read besides the grid: a family's children, the activities and
their options. Reads only, each in one query."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, selectinload

from extensions import db
from models import Activity, ActivityOption, Child, Family

# Every booking page runs it: built once, with a parameter.
_CHILDREN = (
    select(Child)
    .where(Child.family_id == bindparam("family_id"))
    .options(joinedload(Child.school))
    .order_by(Child.birth_date, Child.id)
)


def children_of(family: Family) -> list[Child]:
    """The family's children, eldest first, with their school (one query)."""
    return list(db.session.scalars(_CHILDREN, {"family_id": family.id}))


def activity_by_code(code: str) -> Activity | None:
    return db.session.scalar(
        select(Activity).where(Activity.code == code).options(selectinload(Activity.options))
    )


def activities_with_options() -> list[Activity]:
    """Every activity in display order, its options loaded (two queries)."""
    return list(
        db.session.scalars(
            select(Activity)
            .order_by(Activity.sort_order, Activity.id)
            .options(selectinload(Activity.options))
        )
    )


def choices_by_ids(values: list[str]) -> list[tuple[Activity, ActivityOption | None]]:
    """The (activity, option) pairs of form values "activity_id:option_id" ("3:" no option);
    unknown or mismatched values are dropped (the form validated them already)."""
    activities = {activity.id: activity for activity in activities_with_options()}
    chosen = []
    for value in values:
        activity_id, _, option_id = value.partition(":")
        activity = activities.get(int(activity_id)) if activity_id.isdigit() else None
        if activity is None:
            continue
        options = {str(option.id): option for option in activity.options}
        chosen.append((activity, options.get(option_id)))
    return chosen
