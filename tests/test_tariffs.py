"""A day's unit price: the tariff valid that day for the family's quotient-familial bracket."""

from __future__ import annotations

from datetime import date

import pytest

from extensions import db
from models import Tariff
from services.tariffs import unit_price_cents
from tests import factories

SEPTEMBER, JANUARY = date(2026, 9, 1), date(2027, 1, 4)


@pytest.fixture
def canteen(app):
    canteen = factories.activity()
    for (low, high), cents in ((0, 700), 100), ((701, 1200), 290), ((1201, 999999), 420):
        db.session.add(
            Tariff(
                activity=canteen,
                qf_min=low,
                qf_max=high,
                unit_price_cents=cents,
                valid_from=SEPTEMBER,
                valid_to=date(2027, 7, 3),
            )
        )
    db.session.commit()
    return canteen


@pytest.mark.parametrize(
    ("quotient", "cents"),
    [(0, 100), (700, 100), (701, 290), (1200, 290), (1201, 420), (None, 420), (-5, 420)],
)
def test_the_bracket_of_the_quotient_prices_the_day(canteen, quotient, cents):
    assert unit_price_cents(canteen, quotient, JANUARY) == cents


def test_a_new_tariff_replaces_the_old_one_from_its_first_day(canteen):
    db.session.add(
        Tariff(activity=canteen, qf_min=0, qf_max=700, unit_price_cents=110, valid_from=JANUARY)
    )
    db.session.commit()
    assert unit_price_cents(canteen, 500, date(2026, 12, 18)) == 100
    assert unit_price_cents(canteen, 500, JANUARY) == 110


def test_a_day_without_a_valid_tariff_has_no_price(canteen):
    with pytest.raises(LookupError):
        unit_price_cents(canteen, 500, date(2026, 8, 31))
    with pytest.raises(LookupError):
        unit_price_cents(canteen, 500, date(2027, 7, 4))
