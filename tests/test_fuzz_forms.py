"""SECURITY.md check 13: every parent form, fuzzed with hypothesis.

Each field of each form the parent portal serves gets arbitrary text: unicode, NUL bytes,
very long strings, HTML, SQL-ish strings, impossible dates, numbers out of range, several
values for a single field. Whatever comes in, the answer is never a 500, and a page that
shows the form again (or the page a redirect leads to) carries the text only escaped.
The URL parts of the booking pages are fuzzed too: 200 or 404, never a 500.

The requests carry a valid CSRF token, so the form logic is reached; one test posts
without it and expects 400 everywhere. Within a test the examples share one app and one
database, so each example starts from a clean slate where that matters: the rate limits
are reset, a reset link is issued afresh, a changed password is put back, a redirect is
followed (its flash message is read and checked there, not in the next example).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from extensions import db, limiter
from models import Booking, FamilyAccount, OutboxEmail, TokenPurpose, ValidationMode, utcnow
from services import accounts, notifications
from tests import factories
from tests.conftest import csrf_token

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
# Every login attempt costs an argon2id verification (~0.1 s): fewer examples.
LOGIN_FUZZ = settings(FUZZ, max_examples=15)

NOW = datetime(2026, 11, 9, 8, 0)  # Monday 9 November 2026, 9:00 in Paris
TODAY = NOW.date()

SCRIPT = "<script>alert(1)</script>"
NASTY = [
    SCRIPT,
    "<script>x</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "<!--",
    "{{ 7 * 7 }}",
    "{% raw %}",
    "${7*7}",
    "' OR '1'='1' --",
    "1; DROP TABLE child; --",
    "Robert'); DROP TABLE family;--",
    "%' OR 1=1 --",
    "\x00",
    "a\x00b",
    "%00",
    "\r\nSet-Cookie: x=1",
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "0000-00-00",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-11-19T08:00",
    "19/11/2026",
    "-1",
    "0",
    "2147483648",
    "9223372036854775808",
    "99999999999999999999999999",
    "1" * 5000,
    "1e309",
    "NaN",
    "١٢",
    "²",
    "Ⅻ",
    "1:",
    ":1",
    "1:2:3",
    "\u202eevil",
    "\ufeff",
    "🙂" * 10,
    "é" * 300,
    " ",
    "",
    "../../etc/passwd",
    "javascript:alert(1)",
    "//evil.example",
]
LONG = st.builds(
    lambda chunk, times: chunk * times, st.text(min_size=1, max_size=8), st.integers(200, 3000)
)
TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), LONG)
NUMBER = st.integers(-(2**70), 2**70).map(str)
NEAR_DAY = st.dates(TODAY - timedelta(days=60), TODAY + timedelta(days=240))
DATE = st.one_of(
    NEAR_DAY.map(date.isoformat),
    st.dates().map(date.isoformat),
    st.sampled_from(["2026-02-30", "2026-11-31", "0001-01-01", "9999-12-31", "2026-1-5"]),
    TEXT,
)


def single(values: st.SearchStrategy) -> st.SearchStrategy:
    """A value for a single field: usually one, sometimes several (a list)."""
    return st.one_of(values, st.lists(values, min_size=2, max_size=3))


def choice(valid: list[str]) -> st.SearchStrategy:
    """Mostly a value the form offers (to reach the logic), else anything."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), TEXT, NUMBER)


def url_part(valid: list[str]) -> st.SearchStrategy:
    return st.one_of(st.sampled_from(valid), TEXT, NUMBER)


# --- Checks -----------------------------------------------------------------------------

MARKUP = re.compile(r'[<>"]')


def flat(values) -> list[str]:
    found = []
    for value in values:
        if isinstance(value, list | tuple):
            found.extend(flat(value))
        elif isinstance(value, dict):
            found.extend(flat(value.values()))
        elif isinstance(value, str):
            found.append(value)
    return found


def assert_escaped(body: str, submitted, baseline: str = "") -> None:
    """No submitted text that HTML escaping changes shows raw in the body.

    Text holding <, > or " cannot survive escaping: finding it whole means it was not
    escaped. A short text that the page itself contains anyway (`">` in the markup)
    proves nothing and is skipped.
    """
    assert "<script>alert" not in body and "<script>x" not in body
    for text in flat(submitted):
        if MARKUP.search(text) and text not in baseline:
            assert text not in body, f"unescaped: {text[:80]!r}"


def assert_ok(response, allowed: set[int]) -> None:
    assert response.status_code != 500, "server error"
    assert response.status_code in allowed, response.status_code


def follow(client, response, submitted, baseline: str = "") -> None:
    """Open the page a redirect leads to (its flash message is shown there, escaped)."""
    if response.status_code != 302:
        return
    target = urlsplit(response.headers["Location"])
    assert not target.netloc or target.netloc == "localhost", response.headers["Location"]
    page = client.get(target.path + (f"?{target.query}" if target.query else ""))
    assert page.status_code in (200, 302), page.status_code
    assert_escaped(page.get_data(as_text=True), submitted, baseline)


def fresh_example() -> None:
    """The throttles count across examples of one test: start each from zero."""
    limiter.reset()


# --- Fixtures -----------------------------------------------------------------------------


@pytest.fixture
def world(app, family, other_family, monkeypatch):
    """A canteen (one option) and an evening care (two options), booking pages at NOW."""
    import blueprints.bookings as pages

    monkeypatch.setattr(pages, "utcnow", lambda: NOW)
    year = factories.school_year()
    canteen = factories.activity(options=("standard",))
    care = factories.activity(
        "care_evening", "Accueil du soir", ValidationMode.MANUAL, ("17h30", "18h45")
    )
    for child in [*family.children, *other_family.children]:
        factories.registration(child, canteen, year)
        factories.registration(child, care, year)
    a, b = family.children
    option_ids = [str(o.id) for o in (*canteen.options, *care.options)]
    return SimpleNamespace(
        canteen=canteen,
        care=care,
        a=a,
        b=b,
        other=other_family.children[0],
        child_ids=[str(a.id), str(b.id)],
        all_child_ids=[str(a.id), str(b.id), str(other_family.children[0].id)],
        option_ids=option_ids,
        whats=[f"{canteen.id}:{o.id}" for o in canteen.options]
        + [f"{care.id}:{o.id}" for o in care.options]
        + [f"{care.id}:", f"{canteen.id}:{care.options[0].id}"],
    )


@pytest.fixture
def signed_in(client, auth, world):
    assert auth.login("famille.a").status_code == 302
    return client


@pytest.fixture
def token(signed_in):
    """The session's CSRF token (it lives as long as the session)."""
    return csrf_token(signed_in, "/compte")


def account(username: str = "famille.a") -> FamilyAccount:
    db.session.expire_all()
    return db.session.scalar(select(FamilyAccount).where(FamilyAccount.username == username))


# --- Sign-in and passwords ------------------------------------------------------------------


@LOGIN_FUZZ
@given(
    username=single(st.one_of(TEXT, st.just("famille.a"), st.just("FAMILLE.A "))),
    password=single(st.one_of(TEXT, st.just(factories.PASSWORD))),
    next_url=st.one_of(st.none(), TEXT),
)
def test_login_form(app, family, username, password, next_url):
    fresh_example()
    client = app.test_client()  # a new browser each time: a success must not carry over
    baseline = client.get("/login").get_data(as_text=True)
    token = csrf_token(client)
    path = "/login" if next_url is None else f"/login?next={quote(next_url, safe='')}"
    response = client.post(
        path, data={"username": username, "password": password, "csrf_token": token}
    )
    assert_ok(response, {200, 302, 413})
    submitted = [username, password, next_url]
    assert_escaped(response.get_data(as_text=True), submitted, baseline)
    if response.status_code == 302:
        assert response.headers["Location"].startswith("/")
        assert not response.headers["Location"].startswith("//")


@FUZZ
@given(username=single(st.one_of(TEXT, st.just("famille.a"), st.just("agent.a"))))
def test_forgotten_password_form(client, family, staff, username):
    fresh_example()
    baseline = client.get("/mot-de-passe-oublie").get_data(as_text=True)
    response = client.post(
        "/mot-de-passe-oublie", data={"username": username, "csrf_token": csrf_token(client)}
    )
    assert_ok(response, {200, 302, 413})
    assert_escaped(response.get_data(as_text=True), [username], baseline)
    follow(client, response, [username])


@FUZZ
@given(
    password=single(st.one_of(TEXT, st.just("une phrase assez longue"))),
    confirm=st.one_of(st.none(), single(TEXT)),
)
def test_reset_password_form(client, family, password, confirm):
    fresh_example()
    # A fresh link each time: an example that succeeds uses its link up.
    link_token = accounts.issue_token(
        account(), TokenPurpose.RESET, utcnow(), timedelta(hours=2)
    )
    db.session.commit()
    path = f"/mot-de-passe/{link_token}"
    baseline = client.get(path).get_data(as_text=True)
    confirm = password if confirm is None else confirm  # often the same: the policy is reached
    response = client.post(
        path, data={"password": password, "confirm": confirm, "csrf_token": csrf_token(client)}
    )
    assert_ok(response, {200, 302, 413})
    assert_escaped(response.get_data(as_text=True), [password, confirm], baseline)
    follow(client, response, [password, confirm])


@FUZZ
@given(link=TEXT, method=st.sampled_from(["get", "post"]))
def test_link_tokens_in_the_url(client, family, link, method):
    """A reset or invitation link, an email-change link: unknown tokens of any shape."""
    fresh_example()
    token = csrf_token(client)
    for prefix in ("/mot-de-passe/", "/compte/email/"):
        response = getattr(client, method)(
            prefix + quote(link, safe=""), data={"csrf_token": token}
        )
        assert_ok(response, {302, 404, 405})
        assert_escaped(response.get_data(as_text=True), [link])
        follow(client, response, [link])


# --- MON COMPTE ---------------------------------------------------------------------------------


@FUZZ
@given(
    current=single(st.one_of(TEXT, st.just(factories.PASSWORD))),
    new=single(st.one_of(TEXT, st.just("une phrase assez longue"))),
    confirm=st.one_of(st.none(), single(TEXT)),
)
def test_password_change_form(signed_in, token, current, new, confirm):
    fresh_example()
    baseline = signed_in.get("/compte").get_data(as_text=True)
    confirm = new if confirm is None else confirm
    response = signed_in.post(
        "/compte/mot-de-passe",
        data={"current": current, "new": new, "confirm": confirm, "csrf_token": token},
    )
    assert_ok(response, {302, 400, 413})
    assert_escaped(response.get_data(as_text=True), [current, new, confirm], baseline)
    follow(signed_in, response, [current, new, confirm])
    # A change that went through is put back, so the next example's current password works.
    account().password_hash = factories._password_hash()
    db.session.commit()


@FUZZ
@given(kinds=st.lists(choice(list(notifications.KIND_LABELS)), max_size=8))
def test_email_alerts_form(signed_in, token, kinds):
    fresh_example()
    baseline = signed_in.get("/compte").get_data(as_text=True)
    response = signed_in.post("/compte/alertes-email", data={"kinds": kinds, "csrf_token": token})
    assert_ok(response, {302, 400, 413})
    assert_escaped(response.get_data(as_text=True), kinds, baseline)
    follow(signed_in, response, kinds)


@FUZZ
@given(
    new_email=single(st.one_of(TEXT, st.emails().map(str), st.just("nouvelle@exemple.fr"))),
    password=single(st.one_of(TEXT, st.just(factories.PASSWORD))),
)
def test_email_change_form(signed_in, token, new_email, password):
    fresh_example()  # 5 requests an hour per account otherwise
    baseline = signed_in.get("/compte").get_data(as_text=True)
    response = signed_in.post(
        "/compte/email",
        data={"new_email": new_email, "password": password, "csrf_token": token},
    )
    assert_ok(response, {302, 400, 413})
    assert_escaped(response.get_data(as_text=True), [new_email, password], baseline)
    follow(signed_in, response, [new_email, password])


# --- MES RÉSERVATIONS -----------------------------------------------------------------------


ACTIONS = ["book", "withdraw", "cancel", "change", "absence"]


@FUZZ
@given(data=st.data())
def test_day_action_form(signed_in, token, world, data):
    fresh_example()
    child_id = data.draw(st.sampled_from(world.child_ids))
    day = data.draw(st.one_of(NEAR_DAY, NEAR_DAY, st.dates()))
    code = data.draw(st.sampled_from(["canteen", "care_evening"]))
    fields = {
        "action": data.draw(single(choice(ACTIONS))),
        "option": data.draw(st.one_of(st.none(), single(choice(world.option_ids)))),
        "reason": data.draw(st.one_of(st.none(), single(TEXT))),
    }
    fields = {name: value for name, value in fields.items() if value is not None}
    response = signed_in.post(
        f"/reservations/{child_id}/jour/{day.isoformat()}/{code}",
        data={**fields, "csrf_token": token},
    )
    assert_ok(response, {302, 404, 413})
    follow(signed_in, response, fields)


@FUZZ
@given(data=st.data())
def test_many_days_form(signed_in, token, world, data):
    fresh_example()
    fields = {
        "children": data.draw(st.lists(choice(world.all_child_ids), max_size=4)),
        "what": data.draw(single(choice(world.whats))),
        "mode": data.draw(single(choice(["book", "cancel"]))),
        "start": data.draw(single(DATE)),
        "end": data.draw(single(DATE)),
        "weekdays": data.draw(st.lists(choice(["1", "2", "3", "4", "5"]), max_size=6)),
        "confirm": data.draw(st.one_of(st.none(), st.sampled_from(["y", "", "n"]), TEXT)),
    }
    fields = {name: value for name, value in fields.items() if value is not None}
    baseline = signed_in.get("/reservations/plusieurs-jours").get_data(as_text=True)
    response = signed_in.post(
        "/reservations/plusieurs-jours", data={**fields, "csrf_token": token}
    )
    assert_ok(response, {200, 302, 413})
    assert_escaped(response.get_data(as_text=True), fields, baseline)
    follow(signed_in, response, fields)


@FUZZ
@given(data=st.data())
def test_absence_form(signed_in, token, world, data):
    fresh_example()
    fields = {
        "child": data.draw(single(choice(world.all_child_ids))),
        "start": data.draw(single(DATE)),
        "end": data.draw(st.one_of(st.none(), single(DATE))),
        "reason": data.draw(single(choice(["maladie", "rendez-vous", "famille", "autre"]))),
        "details": data.draw(st.one_of(st.none(), single(TEXT))),
    }
    fields = {name: value for name, value in fields.items() if value is not None}
    baseline = signed_in.get("/reservations/absence").get_data(as_text=True)
    response = signed_in.post("/reservations/absence", data={**fields, "csrf_token": token})
    assert_ok(response, {200, 302, 413})
    assert_escaped(response.get_data(as_text=True), fields, baseline)
    follow(signed_in, response, fields)


@FUZZ
@given(child=single(TEXT | NUMBER), start=single(DATE))
def test_absence_page_prefill(signed_in, world, child, start):
    """The day page links to the absence form with ?child=…&start=…: anything may come."""
    fresh_example()
    response = signed_in.get("/reservations/absence", query_string={"child": child, "start": start})
    assert_ok(response, {200})
    assert_escaped(response.get_data(as_text=True), [child, start])


@FUZZ
@given(data=st.data())
def test_month_url(signed_in, world, data):
    child = data.draw(url_part(world.all_child_ids))
    month = data.draw(
        st.one_of(
            st.dates().map(lambda d: f"{d:%Y-%m}"),
            st.builds("{}-{}".format, st.integers(-5, 10001), st.integers(-1, 13)),
            TEXT,
        )
    )
    response = signed_in.get(f"/reservations/{quote(child, safe='')}/{quote(month, safe='')}")
    assert_ok(response, {200, 404})
    assert_escaped(response.get_data(as_text=True), [child, month])


@FUZZ
@given(data=st.data(), method=st.sampled_from(["get", "post"]))
def test_day_url(signed_in, token, world, data, method):
    child = data.draw(url_part(world.all_child_ids))
    day = data.draw(st.one_of(NEAR_DAY.map(date.isoformat), DATE))
    code = data.draw(url_part(["canteen", "care_evening"]))
    path = "/reservations/{}/jour/{}/{}".format(*(quote(p, safe="") for p in (child, day, code)))
    response = getattr(signed_in, method)(
        path, data={"action": "book", "csrf_token": token} if method == "post" else None
    )
    assert_ok(response, {200, 404} if method == "get" else {302, 404})
    assert_escaped(response.get_data(as_text=True), [child, day, code])
    follow(signed_in, response, [child, day, code])


# --- ALERTES --------------------------------------------------------------------------------


@FUZZ
@given(alert_id=url_part(["1", "2"]), extra=st.dictionaries(TEXT, TEXT, max_size=3))
def test_alerts(signed_in, token, family, alert_id, extra):
    """Mark all read takes no field (extra ones are ignored); an alert's id comes in the URL."""
    fresh_example()
    notifications.notify(family, notifications.BOOKING, "Réservé", link="/reservations")
    db.session.commit()
    response = signed_in.post("/alertes/tout-lu", data={**extra, "csrf_token": token})
    assert_ok(response, {302, 413})
    follow(signed_in, response, extra)
    response = signed_in.get(f"/alertes/{quote(alert_id, safe='')}")
    assert_ok(response, {302, 404})
    follow(signed_in, response, [alert_id])


# --- Without the CSRF token ----------------------------------------------------------------


def _counts() -> tuple[int, ...]:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(Booking.id))),
        db.session.scalar(select(func.count(OutboxEmail.id))),
        len(account().password_hash),
        account().email_alert_kinds or "",
    )


@FUZZ
@given(data=st.data())
def test_a_post_without_csrf_token_is_refused(signed_in, world, data):
    fresh_example()
    day = f"{world.a.id}/jour/2026-11-19/canteen"
    path = data.draw(
        st.sampled_from(
            [
                "/login",
                "/logout",
                "/mot-de-passe-oublie",
                "/compte/mot-de-passe",
                "/compte/alertes-email",
                "/compte/email",
                f"/reservations/{day}",
                "/reservations/plusieurs-jours",
                "/reservations/absence",
                "/alertes/tout-lu",
            ]
        )
    )
    fields = {
        "username": "famille.a",
        "password": factories.PASSWORD,
        "current": factories.PASSWORD,
        "new": "une phrase assez longue",
        "confirm": data.draw(st.sampled_from(["y", "une phrase assez longue"])),
        "new_email": "nouvelle@exemple.fr",
        "kinds": ["booking"],
        "action": "book",
        "children": world.child_ids,
        "what": world.whats[0],
        "mode": "book",
        "start": "2026-12-01",
        "end": "2026-12-18",
        "weekdays": ["1", "4"],
        "child": str(world.a.id),
        "reason": "maladie",
    }
    fields.update(data.draw(st.dictionaries(st.sampled_from(sorted(fields)), single(TEXT))))
    token = data.draw(st.one_of(st.none(), st.just(""), TEXT))
    if token is not None:
        fields["csrf_token"] = token
    before = _counts()
    response = signed_in.post(path, data=fields)
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
    assert_escaped(response.get_data(as_text=True), fields)
    assert _counts() == before
    assert signed_in.get("/compte").status_code == 200  # still signed in: /logout was refused
