"""Test data builders: invented people, committed, returned by id-stable objects."""

from __future__ import annotations

from datetime import date

from extensions import db
from models import Child, Family, FamilyAccount, Guardian, School, StaffRole, StaffUser
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
        Guardian(family=family, first_name="Alex", last_name=family.name, email=f"{username}@example.org")
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
