"""A family sees its own prices in MES RÉSERVATIONS: on a day's page, and what the days a
many-days request adds would cost (« Environ 92,80 € pour janvier »)."""

from __future__ import annotations

import html
from datetime import date
from types import SimpleNamespace

import pytest

from extensions import db
from models import Tariff
from tests import factories
from tests.test_reservations_pages import NOW, _many, day_page


def _tariff(activity, cents, option=None, qf=(0, 999999)):
    db.session.add(
        Tariff(
            activity=activity,
            option=option,
            qf_min=qf[0],
            qf_max=qf[1],
            unit_price_cents=cents,
            valid_from=date(2026, 9, 1),
        )
    )
    db.session.commit()


@pytest.fixture
def world(app, family, other_family, pin_clock):
    """The portal's canteen (one option) at 2,90 € for a quotient up to 1 000 and 4,20 €
    above; the evening care's 17h30 at 2,00 €, 18h45 at 3,40 €. The family's quotient: 800."""
    pin_clock(NOW)
    canteen, care = factories.portal_activities(family, other_family)
    _tariff(canteen, 290, qf=(0, 1000))
    _tariff(canteen, 420, qf=(1001, 999999))
    _tariff(care, 200)
    _tariff(care, 340, option=care.options[1])
    family.quotient_familial = 800
    db.session.commit()
    a, b = family.children
    return SimpleNamespace(canteen=canteen, care=care, a=a, b=b, family=family)


@pytest.fixture
def signed_in(client, auth, world):
    auth.login("famille.a")
    return client


def test_a_days_page_shows_the_familys_price(signed_in, world):
    page = html.unescape(day_page(signed_in, world.a, world.canteen))

    assert "Prix de ce jour pour votre famille : 2,90\u00a0€" in page


def test_without_a_quotient_the_day_costs_the_highest_bracket(signed_in, world):
    world.family.quotient_familial = None
    db.session.commit()

    page = html.unescape(day_page(signed_in, world.a, world.canteen))

    assert "Prix de ce jour pour votre famille : 4,20\u00a0€" in page


def test_a_quotient_past_its_certificate_s_validity_costs_the_highest_bracket(signed_in, world):
    world.family.quotient_valid_until = date(2025, 12, 31)
    db.session.commit()

    page = html.unescape(day_page(signed_in, world.a, world.canteen))

    assert "Prix de ce jour pour votre famille : 4,20\u00a0€" in page


def test_options_priced_differently_are_each_shown(signed_in, world):
    page = html.unescape(day_page(signed_in, world.a, world.care))

    assert "Prix de ce jour pour votre famille : 17h30 2,00\u00a0€, 18h45 3,40\u00a0€" in page


def test_a_closed_day_shows_no_price(signed_in, world):
    page = html.unescape(day_page(signed_in, world.a, world.canteen, date(2026, 11, 11)))

    assert "Prix de ce jour" not in page


def test_the_many_days_preview_says_about_what_it_will_cost_per_month(signed_in, world):
    preview = _many(
        signed_in,
        children=[str(world.a.id), str(world.b.id)],
        what=[f"{world.canteen.id}:{world.canteen.options[0].id}"],
        mode="book",
        start="2026-12-01",
        end="2027-01-31",
        weekdays=["1", "4"],
    )

    page = html.unescape(preview.get_data(as_text=True))
    # December: 3, 7, 10, 14, 17 (then the holidays); January: 4 to 28, 8 days; 2 children.
    assert "Environ 29,00\u00a0€ pour décembre, 46,40\u00a0€ pour janvier." in page


def test_the_estimate_counts_requests_to_the_mairie_at_their_options_price(signed_in, world):
    preview = _many(
        signed_in,
        children=[str(world.a.id)],
        what=[f"{world.care.id}:{world.care.options[1].id}"],
        mode="book",
        start="2026-12-01",
        end="2026-12-18",
        weekdays=["2"],
    )

    page = html.unescape(preview.get_data(as_text=True))
    assert "Environ 10,20\u00a0€ pour décembre." in page  # 1, 8 and 15 December at 3,40 €


def test_cancelling_many_days_says_no_price(signed_in, world):
    fields = {
        "children": [str(world.a.id)],
        "what": [f"{world.canteen.id}:{world.canteen.options[0].id}"],
        "start": "2026-12-01",
        "end": "2026-12-18",
        "weekdays": ["1"],
    }
    _many(signed_in, mode="book", confirm="y", **fields)

    page = html.unescape(_many(signed_in, mode="cancel", **fields).get_data(as_text=True))

    assert "<strong>2</strong> jours seront annulés" in page  # 7 and 14 December
    assert "Environ" not in page
