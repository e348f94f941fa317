"""Test data builders: invented people, committed, returned by id-stable objects."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from types import SimpleNamespace

from sqlalchemy import event

from extensions import db
from models import (
    Activity,
    ActivityOption,
    Booking,
    BookingStatus,
    Capacity,
    Child,
    Closure,
    Family,
    FamilyAccount,
    Guardian,
    Registration,
    RegistrationStatus,
    School,
    SchoolYear,
    StaffRole,
    StaffUser,
    ValidationMode,
)
from services.accounts import hash_password

PASSWORD = "Correct-horse-2026"
_HASH = None


def _password_hash() -> str:
    # argon2id is slow on purpose; one hash serves every test account.
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


def school(name: str = "École Théodore Chalmel") -> School:
    found = db.session.query(School).filter_by(name=name).one_or_none()
    if found:
        return found
    item = School(name=name, is_public=True)
    db.session.add(item)
    db.session.commit()
    return item


def family_with_children(app, username: str, children: int = 2) -> Family:
    family = Family(name=username.split(".")[-1].capitalize(), city="Saint-Exemple")
    db.session.add(family)
    db.session.add(
        FamilyAccount(
            family=family,
            username=username,
            email=f"{username}@example.org",
            password_hash=_password_hash(),
        )
    )
    db.session.add(
        Guardian(
            family=family, first_name="Alex", last_name=family.name, email=f"{username}@example.org"
        )
    )
    where = school()
    for index in range(children):
        db.session.add(
            Child(
                family=family,
                first_name=f"Enfant{index + 1}",
                last_name=family.name,
                birth_date=date(2018 + index, 3, 14),
                school=where,
                class_name="CE1",
            )
        )
    db.session.commit()
    return family


def staff_user(username: str, role: StaffRole = StaffRole.AGENT) -> StaffUser:
    user = StaffUser(
        username=username,
        email=f"{username}@mairie.example",
        full_name=f"Agent {username}",
        role=role,
        password_hash=_password_hash(),
    )
    db.session.add(user)
    db.session.commit()
    return user


# --- Booking calendar: school years, activities, capacities, registrations, bookings ---


def school_year(
    label: str = "2026-2027", starts_on: date = date(2026, 9, 1), ends_on: date = date(2027, 7, 2)
) -> SchoolYear:
    found = db.session.query(SchoolYear).filter_by(label=label).one_or_none()
    if found:
        return found
    item = SchoolYear(label=label, starts_on=starts_on, ends_on=ends_on)
    db.session.add(item)
    db.session.commit()
    return item


def activity(
    code: str = "canteen",
    name: str = "Restaurant scolaire",
    mode: ValidationMode = ValidationMode.AUTOMATIC,
    options: tuple[str, ...] = ("standard", "sans-viande"),
    **settings,
) -> Activity:
    """An activity with its options (the first is the default); `settings` override deadlines."""
    item = Activity(code=code, name=name, validation_mode=mode, **settings)
    db.session.add(item)
    for index, option_code in enumerate(options):
        default = index == 0
        db.session.add(
            ActivityOption(activity=item, code=option_code, label=option_code, is_default=default)
        )
    db.session.commit()
    return item


def capacity(where: School, what: Activity, places: int) -> Capacity:
    item = Capacity(school_id=where.id, activity_id=what.id, places=places)
    db.session.add(item)
    db.session.commit()
    return item


def registration(
    child: Child,
    what: Activity,
    year: SchoolYear,
    status: RegistrationStatus = RegistrationStatus.ACCEPTED,
) -> Registration:
    item = Registration(
        child_id=child.id, activity_id=what.id, school_year_id=year.id, status=status
    )
    db.session.add(item)
    db.session.commit()
    return item


def closure(starts_on: date, ends_on: date, reason: str, where: School | None = None) -> Closure:
    item = Closure(
        school_id=where.id if where else None, starts_on=starts_on, ends_on=ends_on, reason=reason
    )
    db.session.add(item)
    db.session.commit()
    return item


def booking(
    child: Child,
    what: Activity,
    day: date,
    status: BookingStatus = BookingStatus.REGISTERED,
    requested_at: datetime | None = None,
    option: ActivityOption | None = None,
) -> Booking:
    """A booking row written directly (no rule applied): the state a test starts from."""
    item = Booking(
        child_id=child.id,
        activity_id=what.id,
        school_id=child.school_id,
        day=day,
        status=status,
        option_id=option.id if option else None,
        requested_at=requested_at or datetime(2026, 9, 1, 8, 0),
    )
    db.session.add(item)
    db.session.commit()
    return item


def guardian(family: Family, first_name: str, email: str = "") -> Guardian:
    """Another adult of the family (a second responsable légal)."""
    item = Guardian(family=family, first_name=first_name, last_name=family.name, email=email)
    db.session.add(item)
    db.session.commit()
    return item


@contextmanager
def counted_queries() -> Iterator[list[str]]:
    """The SQL statements the block sends, as a list filled while it runs."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def child(family: Family, first_name: str, where: School | None = None, **fields) -> Child:
    """One more child of the family (at `where`, else the default school); `fields` override."""
    item = Child(
        family=family,
        first_name=first_name,
        last_name=fields.pop("last_name", family.name),
        birth_date=fields.pop("birth_date", date(2019, 5, 2)),
        school=where or school(),
        class_name=fields.pop("class_name", "CP"),
        **fields,
    )
    db.session.add(item)
    db.session.commit()
    return item


def portal_activities(*families: Family) -> tuple[Activity, Activity]:
    """An automatic canteen (one option) and a manual evening care (two options), every
    child of `families` registered to both for 2026-2027: what the parent pages act on."""
    year = school_year()
    canteen = activity(options=("standard",))
    care = activity("care_evening", "Accueil du soir", ValidationMode.MANUAL, ("17h30", "18h45"))
    for child in (child for family in families for child in family.children):
        registration(child, canteen, year)
        registration(child, care, year)
    return canteen, care


def booking_world(family: Family, other_family: Family) -> SimpleNamespace:
    """The world the booking tests share: Chalmel (and Sainte-Thérèse, empty), an automatic
    canteen (2 places a day, two options) and a manual evening care (1 place, two options);
    every child of both families registered to both for 2026-2027. `a` and `b` are
    siblings, `c` the other family's child. A test adjusts what it needs on top."""
    year = school_year()
    chalmel = school()
    canteen = activity()
    care = activity(
        "care_evening", "Accueil du soir", ValidationMode.MANUAL, ("jusqu-17h30", "jusqu-18h45")
    )
    capacity(chalmel, canteen, 2)
    capacity(chalmel, care, 1)
    a, b = family.children[:2]
    c = other_family.children[0]
    for each in (*family.children, *other_family.children):
        registration(each, canteen, year)
        registration(each, care, year)
    return SimpleNamespace(
        year=year, school=chalmel, other_school=school("École Sainte-Thérèse"),
        canteen=canteen, care=care, a=a, b=b, c=c, family=family, other_family=other_family,
    )  # fmt: skip
