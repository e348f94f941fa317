"""The session check of every signed-in page: one statement, and its unread count kept honest."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import g

from extensions import db
from models import AlertKind, AuthSession
from services import accounts, notifications
from tests import factories

NOW = datetime(2026, 11, 26, 9, 30)
LIMITS = accounts.SessionLimits(absolute=timedelta(hours=12), staff_idle=timedelta(minutes=30))


def test_one_statement_loads_the_account_its_family_and_the_unread_count(app, family):
    account = family.accounts[0]
    notifications.notify(family, AlertKind.BOOKING, "Une", "", NOW)
    notifications.notify(family, AlertKind.BOOKING, "Deux", "", NOW)
    token = accounts.open_session(account, NOW)
    name = family.name
    db.session.expunge_all()

    with factories.counted_queries() as statements:
        loaded = accounts.load_session(token, NOW, LIMITS)
        assert loaded.family.name == name
        assert loaded.unread_alerts == 2
    assert len(statements) == 1
    assert not db.session.dirty


def test_a_write_during_the_request_makes_the_navigation_count_again(app, client, family):
    account = family.accounts[0]
    token = accounts.open_session(account, NOW)
    with app.test_request_context("/compte"):
        user = accounts.load_session(token, NOW, LIMITS)
        g._login_user = user
        assert user.unread_alerts == 0
        notifications.notify(user.family, AlertKind.BOOKING, "Nouvelle", "", NOW)
        db.session.flush()
        assert user.unread_alerts is None
        assert app.jinja_env.from_string("{{ unread_alerts }}").render(**_context(app)) == "1"


def test_a_staff_session_loads_the_staff_user(app):
    from models import StaffRole

    staff = accounts.create_staff_user(
        "agent.x", "un mot de passe assez long", StaffRole.AGENT, "a@example.org", "Agent", NOW
    )
    token = accounts.open_session(staff, NOW)
    staff_id = staff.id
    db.session.expunge_all()
    loaded = accounts.load_session(token, NOW + timedelta(minutes=5), LIMITS)
    assert loaded.is_staff and loaded.username == "agent.x"
    assert loaded.session_token == token
    row = db.session.scalar(db.select(AuthSession).where(AuthSession.staff_user_id == staff_id))
    assert row.last_seen_at == NOW + timedelta(minutes=5)


def _context(app) -> dict:
    context: dict = {}
    app.update_template_context(context)
    return context
