"""Issue "Alerts and email", end to end: staff decide ten requests while the mail server is
down; nothing is lost, and once it is back the family gets ONE email listing the ten."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from extensions import db
from models import Alert, BookingStatus, OutboxEmail, ValidationMode, utcnow
from services import jobs
from tests import factories
from tests.conftest import csrf_token

DAYS = [date(2026, 11, d) for d in (19, 20, 23, 24, 26)]  # school days after the deadline


def test_ten_approvals_with_smtp_down_arrive_later_as_one_email(
    app, client, auth, family, staff, smtp, pin_clock
):
    pin_clock(datetime(2026, 11, 16, 9, 0))
    year = factories.school_year()
    canteen = factories.activity(mode=ValidationMode.MANUAL)
    requests = []
    for child in family.children:
        factories.registration(child, canteen, year)
        requests += [factories.booking(child, canteen, d, BookingStatus.PENDING) for d in DAYS]
    ids = [booking.id for booking in requests]
    smtp.stop()

    auth.login("agent.a")
    token = csrf_token(client, "/admin/demandes/")
    client.post(
        "/admin/demandes/decider", data={"csrf_token": token, "ids": ids, "decision": "approve"}
    )
    alerts = db.session.scalar(select(func.count(Alert.id)).where(Alert.family_id == family.id))
    assert alerts == 1  # one alert sums up the agent's ten decisions

    now = utcnow() + timedelta(minutes=10)  # past the digest window
    outcomes = {o.name: o for o in jobs.run_all(now)}
    assert outcomes["outbox"].ok
    assert smtp.messages == []
    unsent = db.session.scalar(
        select(func.count(OutboxEmail.id)).where(OutboxEmail.sent_at.is_(None))
    )
    assert unsent == 1  # nothing lost: the alert's email is still queued

    smtp.start()
    jobs.run_all(now + timedelta(hours=1))
    jobs.run_all(now + timedelta(hours=2))
    received = smtp.inbox.to("famille.a@example.org")
    assert len(received) == 1
    body = received[0].text
    assert body.count("Réservation confirmée") == 10
