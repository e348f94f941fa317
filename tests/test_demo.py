"""The demo obeys the services' rules: bookings on open days only, invoices at the tariffs."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from demo import load_demo_data
from extensions import db
from models import Booking, Invoice, InvoiceLine
from services.calendar import Calendar, month_bounds
from services.tariffs import unit_price_cents

TODAY = date(2026, 11, 26)


@pytest.fixture
def loaded(app):
    return load_demo_data(TODAY)


def test_every_booking_is_on_a_day_the_calendar_opens(loaded):
    bookings = db.session.scalars(select(Booking)).all()
    calendar = Calendar.load(date(2026, 9, 1), date(2027, 7, 3))
    assert bookings
    closed = [b for b in bookings if not calendar.day(b.school, b.day).is_open]
    assert closed == []
    # The staff closure of the demo closes Sainte-Thérèse only.
    training = {b.school.name for b in bookings if b.day == date(2026, 12, 4)}
    assert training == {"École Théodore Chalmel"}


def test_every_invoice_line_is_priced_at_the_familys_tariff(loaded):
    lines = db.session.scalars(select(InvoiceLine).join(Invoice)).all()
    assert lines
    for line in lines:
        first_day, _ = month_bounds(line.invoice.period_month)
        quotient = line.invoice.family.quotient_familial
        assert line.unit_price_cents == unit_price_cents(line.activity, quotient, first_day)
        assert line.amount_cents == line.unit_price_cents * line.quantity
