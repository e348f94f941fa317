"""A day's unit price: the tariff valid that day for the family's quotient-familial bracket."""

from __future__ import annotations

from datetime import date

import pytest

from extensions import db
from models import PriceKind, Tariff
from services.tariffs import PriceList, estimate_cents, family_prices, unit_price_cents
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


# --- Options, penalty prices, the price list -------------------------------------------------


def _option_tariff(canteen, cents, **fields) -> Tariff:
    tariff = Tariff(
        activity=canteen,
        option=canteen.options[1],
        unit_price_cents=cents,
        valid_from=SEPTEMBER,
        **fields,
    )
    db.session.add(tariff)
    db.session.commit()
    return tariff


def test_an_options_own_tariff_beats_the_activitys(canteen):
    standard, veggie = canteen.options
    _option_tariff(canteen, 150, qf_min=0, qf_max=700)
    _option_tariff(canteen, 480, qf_min=701, qf_max=999999)

    assert unit_price_cents(canteen, 500, JANUARY, veggie) == 150
    assert unit_price_cents(canteen, 900, JANUARY, veggie) == 480
    assert unit_price_cents(canteen, None, JANUARY, veggie) == 480
    assert unit_price_cents(canteen, 500, JANUARY, standard) == 100
    assert unit_price_cents(canteen, 500, JANUARY) == 100


def test_an_option_without_a_valid_tariff_of_its_own_pays_the_activitys(canteen):
    _option_tariff(canteen, 150, valid_to=date(2026, 12, 31))

    assert unit_price_cents(canteen, 500, date(2026, 12, 31), canteen.options[1]) == 150
    assert unit_price_cents(canteen, 500, JANUARY, canteen.options[1]) == 100


def test_penalty_prices_default_to_the_unit_price(canteen):
    _option_tariff(canteen, 150, walk_in_price_cents=700, late_cancel_price_cents=0)
    prices = PriceList.load(JANUARY, JANUARY)
    veggie = canteen.options[1].id

    assert prices.price(canteen.id, veggie, 500, JANUARY, PriceKind.WALK_IN) == 700
    assert prices.price(canteen.id, veggie, 500, JANUARY, PriceKind.LATE_CANCEL) == 0
    assert prices.price(canteen.id, None, 500, JANUARY, PriceKind.WALK_IN) == 100
    assert prices.price(canteen.id, None, 500, JANUARY, PriceKind.LATE_CANCEL) == 100
    assert prices.price(canteen.id, None, 500, date(2026, 8, 31)) is None


def test_the_price_list_answers_a_month_of_days_from_one_query(canteen):
    canteen_id = canteen.id
    with factories.counted_queries() as statements:
        prices = PriceList.load(date(2026, 12, 1), JANUARY)
        found = {prices.price(canteen_id, None, qf, JANUARY) for qf in range(0, 2000, 7)}

    assert len(statements) == 1
    assert found == {100, 290, 420}


def test_a_family_sees_its_own_prices(canteen):
    family = factories.family_with_children(None, "famille.a", children=1)
    family.quotient_familial = 800
    _option_tariff(canteen, 310, walk_in_price_cents=650)
    db.session.commit()

    prices = family_prices(family, JANUARY, [canteen])

    assert [(p.option.code, p.unit_price_cents, p.walk_in_price_cents) for p in prices] == [
        ("standard", 290, 290),
        ("sans-viande", 310, 650),
    ]


def test_an_estimate_sums_the_unit_prices_of_the_selection(canteen):
    family = factories.family_with_children(None, "famille.a", children=2)
    family.quotient_familial = 300
    _option_tariff(canteen, 150)
    db.session.commit()
    first, second = family.children
    days = [date(2027, 1, day) for day in (4, 5, 7, 8)]
    items = [(first, canteen, None, day) for day in days]
    items += [(second, canteen, canteen.options[1], day) for day in days]

    assert estimate_cents(family, items) == 4 * 100 + 4 * 150
    assert estimate_cents(family, [(first, canteen, None, date(2026, 8, 31))]) == 0
    assert estimate_cents(family, []) == 0
