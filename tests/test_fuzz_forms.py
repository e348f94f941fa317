"""SECURITY.md check 13: every parent form, fuzzed with hypothesis.

Each field of each form the parent portal serves gets arbitrary text: unicode, NUL bytes,
very long strings, HTML, SQL-ish strings, impossible dates, numbers out of range, several
values for a single field. Whatever comes in, the answer is never a 500, and the page that
shows the form again (or the page a redirect leads to, with its flash message) carries the
text only escaped. The URL parts of the booking pages are fuzzed too: 200 or 404.

An example fills the form as a person would, then replaces a few fields (sometimes all) by
anything: most examples get past validation into the services, and every field is fuzzed.
The requests carry a valid CSRF token, so the form logic is reached; one test posts without
it and expects 400 everywhere.

Within a test the examples share one app and one database, so each example starts from a
clean slate where that matters: the rate limits are reset, a reset link is issued afresh,
a changed password is put back, and a redirect is followed (its flash message is read and
checked there, not by the next example).
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from extensions import db, limiter
from models import (
    AlertKind,
    Booking,
    BookingStatus,
    FamilyAccount,
    Invoice,
    InvoiceStatus,
    OutboxEmail,
    Registration,
    TokenPurpose,
    utcnow,
)
from mollie_simulator import start_simulator
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
NEW_PASSWORD = "une phrase assez longue"

NASTY = [
    "<script>alert(1)</script>",
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
    "1" * 5000,
    "1e309",
    "NaN",
    "١٢",
    "²",
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
NUMBER = st.one_of(
    st.sampled_from(["0", "-1", "2147483647", "2147483648", "9" * 20, "1" * 5000, "١٢", "²"]),
    st.integers(-(2**70), 2**70).map(str),
)
NEAR_DAY = st.dates(TODAY - timedelta(days=60), TODAY + timedelta(days=240))
DATE = st.one_of(
    st.dates().map(date.isoformat),
    st.sampled_from(
        ["0001-01-01", "0999-06-15", "1999-12-31", "2100-01-01", "9999-12-31", "2026-02-30"]
    ),
    TEXT,
)


def single(values: st.SearchStrategy) -> st.SearchStrategy:
    """A value for a single field: usually one, sometimes several (a list)."""
    return st.one_of(values, st.lists(values, min_size=2, max_size=3))


ANYTHING = single(st.one_of(TEXT, NUMBER, DATE))
MANY_ANYTHING = st.lists(st.one_of(TEXT, NUMBER), max_size=6)


def form(data, valid: dict, fuzz: dict | None = None) -> dict:
    """The form as a person fills it (`valid`), with a few fields, or all, replaced by anything.

    `fuzz` gives a field's own anything (a list field gets lists); a None value leaves the
    field out, as a browser does with an unticked box.
    """
    names = sorted(valid)
    how_many = data.draw(st.sampled_from(["some", "some", "some", "none", "all"]))
    if how_many == "some":  # each field with one chance in three
        one_in_three = st.sampled_from([False, True, False])
        replaced = {name for name in names if data.draw(one_in_three, label=f"fuzz {name}")}
    else:
        replaced = set(names) if how_many == "all" else set()
    fields = {}
    for name in names:
        strategy = (fuzz or {}).get(name, ANYTHING) if name in replaced else valid[name]
        value = data.draw(strategy, label=name)
        if value is not None:
            fields[name] = value
    return fields


# --- Checks -----------------------------------------------------------------------------

MARKUP = re.compile(r'[<>"]')
URL_REFUSED = frozenset({400, 404})


def flat(values) -> list[str]:
    """Every text submitted: field names and values, lists unrolled."""
    if isinstance(values, str):
        return [values]
    if isinstance(values, dict):
        values = [*values.keys(), *values.values()]
    found = []
    for value in values:
        found.extend(flat(value) if isinstance(value, str | list | tuple | dict) else [])
    return found


def assert_escaped(body: str, submitted, baseline: str = "") -> None:
    """No submitted text that HTML escaping changes shows raw in the body.

    Text holding <, > or " cannot survive escaping: finding it whole means it was not
    escaped. A short text that the page holds anyway (`">` in its markup) proves nothing
    and is skipped: `baseline` is the same page without the submission.
    """
    assert "<script>alert" not in body and "<script>x" not in body
    for text in flat(submitted):
        if MARKUP.search(text) and text not in baseline:
            assert text not in body, f"unescaped: {text[:80]!r}"


def shown(response) -> str:
    """The page a response shows: none for a redirect (Werkzeug's fixed text and the link)."""
    return "" if 300 <= response.status_code < 400 else response.get_data(as_text=True)


def assert_ok(response, allowed, submitted=(), refused=frozenset({400})) -> None:
    """Never a 500; with a NUL character the request is refused (`refused`), else `allowed`.

    No text the portal stores may hold NUL (PostgreSQL refuses it): app.py answers 400 to
    any request with one, before the view runs (in a URL that matches no page, 404).
    """
    assert response.status_code != 500, "server error"
    event(f"HTTP {response.status_code}")
    expected = refused if any("\x00" in text for text in flat(submitted)) else allowed
    assert response.status_code in expected, response.status_code
    if response.status_code in (301, 302, 303, 307, 308):
        assert on_site(response.headers["Location"]), response.headers["Location"]


def on_site(location: str) -> bool:
    """A path, or an absolute URL on the test client's own host (Werkzeug's 308s)."""
    return urlsplit(location).netloc in ("", "localhost") and not location.startswith("//")


def follow(client, response, submitted, allowed=(200, 302)) -> str:
    """Open the page a redirect leads to: its flash message is shown there, escaped.

    The page opened a second time (the message is gone) is the baseline.
    """
    if response.status_code not in (302, 308):
        return ""
    target = urlsplit(response.headers["Location"])
    path = target.path + (f"?{target.query}" if target.query else "")
    page = client.get(path)
    assert page.status_code in allowed, page.status_code
    baseline = client.get(path).get_data(as_text=True)
    body = page.get_data(as_text=True)
    assert_escaped(body, submitted, baseline)
    return body


def not_found(client) -> str:
    """The 404 page: a baseline for the pages of URLs that match nothing."""
    return client.get("/reservations/0/nulle-part").get_data(as_text=True)


def fresh_example() -> None:
    """The throttles count across the examples of one test: each starts from zero."""
    limiter.reset()


# --- Fixtures -----------------------------------------------------------------------------


@pytest.fixture
def world(booking_world, pin_clock):
    """The shared booking world, booking pages at NOW.

    A few bookings already exist, so that cancelling, changing and declaring an absence
    have something to act on.
    """
    pin_clock(NOW)
    world = booking_world
    canteen, care, a, b = world.canteen, world.care, world.a, world.b
    for day in (date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 19)):
        factories.booking(a, canteen, day)
        factories.booking(b, care, day, option=care.options[0])
    factories.booking(a, care, date(2026, 11, 20), BookingStatus.PENDING)
    return SimpleNamespace(
        a=a,
        child_ids=[str(a.id), str(b.id)],
        all_child_ids=[str(a.id), str(b.id), str(world.c.id)],
        option_ids=[str(o.id) for o in (*canteen.options, *care.options)],
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
@given(data=st.data())
def test_login_form(app, family, data):
    fresh_example()
    valid = {
        "username": st.sampled_from(["famille.a", " FAMILLE.A ", "inconnu"]),
        "password": st.sampled_from([factories.PASSWORD, "pas le bon mot de passe"]),
        "next": st.one_of(st.none(), st.just("/compte")),
    }
    fields = form(data, valid, fuzz={"next": TEXT})
    next_url = fields.pop("next", None)
    client = app.test_client()  # a new browser each time: a success must not carry over
    baseline = client.get("/login").get_data(as_text=True)
    path = "/login" if next_url is None else f"/login?next={quote(next_url, safe='')}"
    response = client.post(path, data={**fields, "csrf_token": csrf_token(client)})
    submitted = [fields, next_url or ""]
    assert_ok(response, {200, 302, 413}, submitted)  # a redirect stays on the site
    assert_escaped(shown(response), submitted, baseline)


@FUZZ
@given(data=st.data())
def test_forgotten_password_form(client, family, staff, data):
    fresh_example()
    fields = form(data, {"username": st.sampled_from(["famille.a", "agent.a", "inconnu"])})
    baseline = client.get("/mot-de-passe-oublie").get_data(as_text=True)
    response = client.post(
        "/mot-de-passe-oublie", data={**fields, "csrf_token": csrf_token(client)}
    )
    assert_ok(response, {200, 302, 413}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(client, response, fields)


@FUZZ
@given(data=st.data())
def test_reset_password_form(client, family, data):
    fresh_example()
    # A fresh link each time: an example that succeeds uses its link up.
    link = accounts.issue_token(account(), TokenPurpose.RESET, utcnow(), timedelta(hours=2))
    db.session.commit()
    path = f"/mot-de-passe/{link}"
    password = data.draw(st.sampled_from([NEW_PASSWORD, "trop court", "motdepasse123"]))
    fields = form(data, {"password": st.just(password), "confirm": st.just(password)})
    baseline = client.get(path).get_data(as_text=True)
    response = client.post(path, data={**fields, "csrf_token": csrf_token(client)})
    assert_ok(response, {200, 302, 413}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(client, response, fields)


@FUZZ
@given(link=TEXT, method=st.sampled_from(["get", "post"]))
def test_link_tokens_in_the_url(client, family, link, method):
    """Reset and invitation links, email-change links: unknown tokens of any shape."""
    fresh_example()
    token = csrf_token(client)
    baseline = client.get("/compte/email/x").get_data(as_text=True) + not_found(client)
    for prefix in ("/mot-de-passe/", "/compte/email/"):
        response = getattr(client, method)(
            prefix + quote(link, safe=""), data={"csrf_token": token}
        )
        assert_ok(response, {302, 308, 404, 405}, [link], refused=URL_REFUSED)
        assert_escaped(shown(response), [link], baseline)
        follow(client, response, [link], allowed=(200, 302, 404))


# --- MON COMPTE ---------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_password_change_form(signed_in, token, data):
    fresh_example()
    new = data.draw(st.sampled_from([NEW_PASSWORD, "trop court"]))
    valid = {
        "current": st.sampled_from([factories.PASSWORD, "pas le bon mot de passe"]),
        "new": st.just(new),
        "confirm": st.just(new),
    }
    fields = form(data, valid)
    baseline = signed_in.get("/compte").get_data(as_text=True)
    response = signed_in.post("/compte/mot-de-passe", data={**fields, "csrf_token": token})
    assert_ok(response, {302, 400, 413}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(signed_in, response, fields)
    # A change that went through is put back, so the next example's current password works.
    account().password_hash = factories._password_hash()
    db.session.commit()


@FUZZ
@given(data=st.data())
def test_email_alerts_form(signed_in, token, data):
    fresh_example()
    kinds = st.lists(st.sampled_from([kind.value for kind in AlertKind]), unique=True)
    fields = form(data, {"kinds": kinds}, fuzz={"kinds": MANY_ANYTHING})
    baseline = signed_in.get("/compte").get_data(as_text=True)
    response = signed_in.post("/compte/alertes-email", data={**fields, "csrf_token": token})
    assert_ok(response, {302, 400, 413}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(signed_in, response, fields)


@FUZZ
@given(data=st.data())
def test_email_change_form(signed_in, token, data):
    fresh_example()  # 5 requests an hour per account otherwise
    valid = {
        "new_email": st.one_of(st.emails().map(str), st.just("nouvelle@exemple.fr")),
        "password": st.sampled_from([factories.PASSWORD, "pas le bon mot de passe"]),
    }
    fields = form(data, valid)
    baseline = signed_in.get("/compte").get_data(as_text=True)
    response = signed_in.post("/compte/email", data={**fields, "csrf_token": token})
    assert_ok(response, {302, 400, 413}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(signed_in, response, fields)


@FUZZ
@given(data=st.data())
def test_change_request_forms(signed_in, token, family, other_family, data):
    """The household's, a guardian's and a child's forms (each field prefixed by its fiche),
    and any id in their URL: a change request, the form again with a French message, or 404."""
    fresh_example()
    guardian, child = family.guardians[0], family.children[0]
    forms = {
        "/compte/foyer": (f"foyer{family.id}", ("address_line", "postcode", "city")),
        f"/compte/responsables/{guardian.id}": (
            f"responsable{guardian.id}",
            ("phone_mobile", "phone_work", "email"),
        ),
        f"/compte/enfants/{child.id}": (
            f"enfant{child.id}",
            ("diet_note", "allergies", "pickup_people"),
        ),
    }
    path = data.draw(st.sampled_from(sorted(forms)))
    prefix, names = forms[path]
    valid = {
        f"{prefix}-{name}": st.sampled_from(["06 12 34 56 78", "35000", "Sans porc", "a@b.fr", ""])
        for name in names
    }
    fields = form(data, valid)
    other = data.draw(st.sampled_from(["", f"/{other_family.guardians[0].id}", "/abc"]))
    if other and path != "/compte/foyer":
        path = path.rsplit("/", 1)[0] + other
    baseline = signed_in.get("/compte").get_data(as_text=True)
    response = signed_in.post(path, data={**fields, "csrf_token": token})
    assert_ok(response, {302, 400, 404, 413}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(signed_in, response, fields)


def test_my_data_download_is_a_zip(signed_in, family):
    response = signed_in.get("/compte/mes-donnees")
    assert response.status_code == 200 and response.data.startswith(b"PK")


# --- MES RÉSERVATIONS -----------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_day_action_form(signed_in, token, world, data):
    """The buttons of a day: book (with an option), withdraw, cancel, change, absence."""
    fresh_example()
    child_id = data.draw(st.sampled_from(world.child_ids))
    day = data.draw(st.one_of(NEAR_DAY, st.sampled_from([date(2026, 11, 10), date(2026, 11, 19)])))
    code = data.draw(st.sampled_from(["canteen", "care_evening"]))
    valid = {
        "action": st.sampled_from(["book", "withdraw", "cancel", "change", "absence"]),
        "option": st.one_of(st.none(), st.sampled_from(world.option_ids)),
        "reason": st.one_of(st.none(), st.just("fièvre")),
    }
    fields = form(data, valid)
    response = signed_in.post(
        f"/reservations/{child_id}/jour/{day.isoformat()}/{code}",
        data={**fields, "csrf_token": token},
    )
    assert_ok(response, {302, 413}, fields)
    follow(signed_in, response, fields)


@FUZZ
@given(data=st.data())
def test_many_days_form(signed_in, token, world, data):
    fresh_example()
    start = data.draw(NEAR_DAY)
    valid = {
        "children": st.lists(st.sampled_from(world.child_ids), min_size=1, unique=True),
        "what": st.sampled_from(world.whats),
        "mode": st.sampled_from(["book", "cancel"]),
        "start": st.just(start.isoformat()),
        "end": st.integers(0, 60).map(lambda n: (start + timedelta(days=n)).isoformat()),
        "weekdays": st.lists(st.sampled_from(["1", "2", "3", "4", "5"]), min_size=1, unique=True),
        "confirm": st.sampled_from([None, "y"]),
    }
    many = {"children": MANY_ANYTHING, "weekdays": MANY_ANYTHING}
    fields = form(data, valid, fuzz=many)
    baseline = signed_in.get("/reservations/plusieurs-jours").get_data(as_text=True)
    response = signed_in.post("/reservations/plusieurs-jours", data={**fields, "csrf_token": token})
    assert_ok(response, {200, 302, 413}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(signed_in, response, fields)


@FUZZ
@given(data=st.data())
def test_absence_form(signed_in, token, world, data):
    fresh_example()
    start = data.draw(NEAR_DAY)
    valid = {
        "child": st.sampled_from(world.child_ids),
        "start": st.just(start.isoformat()),
        "end": st.one_of(
            st.none(), st.integers(0, 10).map(lambda n: (start + timedelta(n)).isoformat())
        ),
        "reason": st.sampled_from(["maladie", "rendez-vous", "famille", "autre"]),
        "details": st.one_of(st.none(), st.just("fièvre")),
    }
    fields = form(data, valid)
    baseline = signed_in.get("/reservations/absence").get_data(as_text=True)
    response = signed_in.post("/reservations/absence", data={**fields, "csrf_token": token})
    assert_ok(response, {200, 302, 413}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(signed_in, response, fields)


@FUZZ
@given(data=st.data())
def test_absence_page_prefill(signed_in, world, data):
    """The day page links to the absence form with ?child=…&start=…: anything may come."""
    fresh_example()
    valid = {"child": st.sampled_from(world.child_ids), "start": NEAR_DAY.map(date.isoformat)}
    fields = form(data, valid)
    baseline = signed_in.get("/reservations/absence").get_data(as_text=True)
    response = signed_in.get("/reservations/absence", query_string=fields)
    assert_ok(response, {200}, fields)
    assert_escaped(shown(response), fields, baseline)


@FUZZ
@given(data=st.data())
def test_documents_form(signed_in, token, world, data):
    """DOCUMENTS: type, child and absence anything, the file a small PDF under any name."""
    fresh_example()
    valid = {
        "doc_type": st.sampled_from(["quotient-familial", "rib", "health-sheet", "other"]),
        "child": st.one_of(st.just(""), st.sampled_from(world.child_ids)),
        "absence": st.just(""),
    }
    fields = form(data, valid)
    name = data.draw(st.one_of(st.just("attestation.pdf"), TEXT))
    upload = (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), name)
    baseline = signed_in.get("/documents").get_data(as_text=True)
    response = signed_in.post(
        "/documents",
        data={**fields, "upload": upload, "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert_ok(response, {200, 303}, fields)
    assert_escaped(shown(response), fields, baseline)
    follow(signed_in, response, fields, allowed=(200, 303))


NEAR_MONTH = NEAR_DAY.map(lambda d: f"{d:%Y-%m}")
MONTH = st.one_of(
    st.dates().map(lambda d: f"{d:%Y-%m}"),
    st.builds("{}-{}".format, st.integers(-5, 10001), st.integers(-1, 13)),
    TEXT,
)


@FUZZ
@given(data=st.data())
def test_month_url(signed_in, world, data):
    valid = {"child": st.sampled_from(world.all_child_ids), "month": NEAR_MONTH}
    parts = form(data, valid, fuzz={"child": st.one_of(TEXT, NUMBER), "month": MONTH})
    path = "/reservations/{}/{}".format(*(quote(parts[p], safe="") for p in ("child", "month")))
    response = signed_in.get(path)
    assert_ok(response, {200, 308, 404}, parts, refused=URL_REFUSED)
    assert_escaped(shown(response), parts, not_found(signed_in))
    follow(signed_in, response, parts, allowed=(200, 404))


@FUZZ
@given(data=st.data(), method=st.sampled_from(["get", "post"]))
def test_day_url(signed_in, token, world, data, method):
    valid = {
        "child": st.sampled_from(world.all_child_ids),
        "day": NEAR_DAY.map(date.isoformat),
        "code": st.sampled_from(["canteen", "care_evening"]),
    }
    fuzz = {"child": st.one_of(TEXT, NUMBER), "day": DATE, "code": TEXT}
    parts = form(data, valid, fuzz=fuzz)
    path = "/reservations/{}/jour/{}/{}".format(
        *(quote(parts[p], safe="") for p in ("child", "day", "code"))
    )
    fields = {"action": "book", "csrf_token": token} if method == "post" else None
    response = getattr(signed_in, method)(path, data=fields)
    allowed = {200, 308, 404} if method == "get" else {302, 308, 404}
    assert_ok(response, allowed, parts, refused=URL_REFUSED)
    assert_escaped(shown(response), parts, not_found(signed_in))
    follow(signed_in, response, parts, allowed=(200, 302, 404))


# --- INSCRIPTIONS ---------------------------------------------------------------------------


@pytest.fixture
def inscriptions(world):
    """The booking world's year and the next one that families may ask for; the family's
    registrations (all accepted: cancelling one asks staff, then nothing is left to do)."""
    following = factories.school_year("2027-2028", date(2027, 9, 1), date(2028, 7, 7))
    years = [factories.school_year(), following]
    mine = select(Registration.id).where(Registration.child_id.in_(map(int, world.child_ids)))
    return SimpleNamespace(
        years=[str(year.id) for year in years],
        registration_ids=[str(found) for found in db.session.scalars(mine)],
    )


@FUZZ
@given(data=st.data())
def test_registration_request_form(signed_in, token, world, inscriptions, data):
    """A registration asked with its usual weekdays and option: a French message either way."""
    fresh_example()
    child_id = data.draw(st.sampled_from(world.child_ids))
    valid = {
        "activity": st.sampled_from([what.partition(":")[0] for what in world.whats]),
        "year": st.sampled_from(inscriptions.years),
        "weekdays": st.lists(st.sampled_from(["1", "2", "3", "4", "5"]), unique=True),
        "option": st.one_of(st.none(), st.sampled_from(world.option_ids)),
    }
    fields = form(data, valid, fuzz={"weekdays": MANY_ANYTHING})
    response = signed_in.post(
        f"/inscriptions/{child_id}/demande", data={**fields, "csrf_token": token}
    )
    assert_ok(response, {302, 413}, fields)
    follow(signed_in, response, fields)


@FUZZ
@given(data=st.data())
def test_registration_cancel_form(signed_in, token, inscriptions, data):
    """Asking to cancel takes no field: extra ones are ignored, the answer is a redirect."""
    fresh_example()
    registration_id = data.draw(st.sampled_from(inscriptions.registration_ids))
    extra = data.draw(st.dictionaries(TEXT, TEXT, max_size=3))
    response = signed_in.post(
        f"/inscriptions/{registration_id}/annulation", data={**extra, "csrf_token": token}
    )
    assert_ok(response, {302, 413}, extra)
    follow(signed_in, response, extra)


# --- ALERTES --------------------------------------------------------------------------------


@FUZZ
@given(alert_id=st.one_of(st.sampled_from(["1", "2"]), TEXT, NUMBER), data=st.data())
def test_alerts(signed_in, token, family, alert_id, data):
    """ "Tout marquer comme lu" takes no field (extra ones are ignored); an alert's id is in
    its URL."""
    fresh_example()
    notifications.notify(family, AlertKind.BOOKING, "Réservé", link="/reservations")
    db.session.commit()
    extra = data.draw(st.dictionaries(TEXT, TEXT, max_size=3))
    response = signed_in.post("/alertes/tout-lu", data={**extra, "csrf_token": token})
    assert_ok(response, {302, 413}, extra)
    follow(signed_in, response, extra)
    response = signed_in.get(f"/alertes/{quote(alert_id, safe='')}")
    assert_ok(response, {302, 308, 404}, [alert_id], refused=URL_REFUSED)
    follow(signed_in, response, [alert_id], allowed=(200, 302, 404))


# --- FINANCES ------------------------------------------------------------------------------


@pytest.fixture
def mollie(app):
    """The Mollie simulator on a local port (no webhook): "Payer" creates real payments."""
    with start_simulator() as running:
        running.simulator.set_webhooks_sent(False)
        app.config["MOLLIE_API_ENDPOINT"] = running.url
        yield running


@pytest.fixture
def unpaid(family):
    """Two issued invoices of the family, unpaid: the ids "Payer" takes."""
    invoices = [
        Invoice(
            family_id=family.id, number=f"2026-00000{month}", period_month=date(2026, month, 1),
            status=InvoiceStatus.ISSUED, total_cents=1000 * month,
        )
        for month in (9, 10)
    ]  # fmt: skip
    db.session.add_all(invoices)
    db.session.commit()
    return [str(invoice.id) for invoice in invoices]


@FUZZ
@given(data=st.data())
def test_pay_form(signed_in, token, mollie, unpaid, data):
    """`invoice_ids` as ticked, or anything: off to the checkout (303), or back to FINANCES
    with a French message (302)."""
    fresh_example()
    valid = {"invoice_ids": st.lists(st.sampled_from(unpaid), min_size=1, max_size=2)}
    fields = form(data, valid, {"invoice_ids": MANY_ANYTHING})
    response = signed_in.post("/finances/payer", data={**fields, "csrf_token": token})
    assert response.status_code != 500, "server error"
    if any("\x00" in text for text in flat(fields)):
        assert response.status_code == 400
    elif response.status_code == 303:
        assert response.headers["Location"].startswith(mollie.url + "/checkout/")
    else:
        assert_ok(response, {302}, fields)
        follow(signed_in, response, fields)


@FUZZ
@given(
    path=st.sampled_from(
        [
            "/finances/paiements/{}",
            "/finances/factures/{}.pdf",
            "/finances/reglements/{}/recu.pdf",
            "/finances/attestations/{}.pdf",
        ]
    ),
    part=st.one_of(TEXT, NUMBER),
)
def test_finances_urls(signed_in, path, part):
    """An id (or a year) in a FINANCES URL is the family's own thing, or a 404."""
    response = signed_in.get(path.format(quote(part, safe="")))
    assert_ok(response, {404, 308}, [part], refused=URL_REFUSED)


# --- Values the fuzzing found: each gave a 500 (or a link to one) before its fix ---------------

BOOK = "/reservations/{a}/jour/2026-11-26/canteen"
FOUND = [
    ("get", "/reservations/{a}/0001-01", {}, 404),  # no month before January of year 1
    ("get", "/reservations/{a}/9999-12", {}, 404),  # nor after December 9999
    ("get", "/reservations/{a}/jour/9999-12-31/canteen", {}, 404),
    # It redirected to /reservations/1/999-01 (strftime writes no fourth digit), a 404.
    ("post", "/reservations/{a}/jour/0999-01-01/canteen", {"action": "book"}, 404),
    ("get", "/reservations/99999999999999999999/jour/2026-11-19/canteen", {}, 404),  # SQLite
    ("get", "/reservations/2147483648/jour/2026-11-19/canteen", {}, 404),  # PostgreSQL
    ("get", "/alertes/99999999999999999999", {}, 404),
    # Past 4,300 digits int() fails: the GET was a 404 but the POST a 405.
    ("post", "/reservations/" + "1" * 5000 + "/jour/2026-11-26/canteen", {"action": "book"}, 404),
    ("post", BOOK, {"action": "book", "option": "9" * 20}, 302),  # the option is refused
    ("post", BOOK, {"action": "book", "option": "²"}, 302),  # isdigit(), but not for int()
    ("post", BOOK, {"action": "book", "option": "1" * 5000}, 302),  # beyond int()'s limit
    # NUL: PostgreSQL refuses it in any text, even in a WHERE clause.
    ("get", "/reservations/{a}/jour/2026-11-19/can%00teen", {}, 400),
    ("post", "/reservations/{a}/jour/2026-11-10/canteen", {"reason": "a\x00b"}, 400),
    ("post", "/reservations/absence", {"details": "fièvre\x00"}, 400),
    ("post", "/login", {"username": "famille\x00.a"}, 400),
    ("post", "/mot-de-passe-oublie", {"username": "famille\x00.a"}, 400),
]


@pytest.mark.parametrize("method, path, fields, status", FOUND)
def test_values_found_by_fuzzing(signed_in, token, world, method, path, fields, status):
    filled = {
        "action": "absence",
        "child": str(world.a.id),
        "children": [str(world.a.id)],
        "what": world.whats[0],
        "mode": "book",
        "start": "2026-11-19",
        "end": "2026-11-20",
        "weekdays": ["1", "4"],
        "reason": "maladie",
        "username": "famille.a",
        "password": "pas le bon mot de passe",
        **fields,
    }
    response = getattr(signed_in, method)(
        path.format(a=world.a.id), data={**filled, "csrf_token": token}
    )
    assert response.status_code == status


# --- Without the CSRF token ----------------------------------------------------------------


def _state() -> tuple:
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(Booking.id))),
        db.session.scalar(select(func.max(Booking.status))),
        db.session.scalar(select(func.count(OutboxEmail.id))),
        account().password_hash,
        account().email_alert_kinds,
    )


@FUZZ
@given(data=st.data())
def test_a_post_without_csrf_token_is_refused(signed_in, world, data):
    fresh_example()
    day = f"/reservations/{world.a.id}/jour/2026-11-19/canteen"
    path = data.draw(
        st.sampled_from(
            [
                "/login",
                "/logout",
                "/mot-de-passe-oublie",
                "/compte/mot-de-passe",
                "/compte/alertes-email",
                "/compte/email",
                day,
                "/reservations/plusieurs-jours",
                "/reservations/absence",
                "/alertes/tout-lu",
                f"/inscriptions/{world.a.id}/demande",
            ]
        )
    )
    valid = {
        "username": st.just("famille.a"),
        "password": st.just(factories.PASSWORD),
        "current": st.just(factories.PASSWORD),
        "new": st.just(NEW_PASSWORD),
        "confirm": st.just(NEW_PASSWORD) if path == "/compte/mot-de-passe" else st.just("y"),
        "new_email": st.just("nouvelle@exemple.fr"),
        "kinds": st.just(["booking"]),
        "action": st.just("cancel"),
        "children": st.just(world.child_ids),
        "what": st.just(world.whats[0]),
        "mode": st.just("book"),
        "start": st.just("2026-12-01"),
        "end": st.just("2026-12-18"),
        "weekdays": st.just(["1", "4"]),
        "child": st.just(str(world.a.id)),
        "reason": st.just("maladie"),
        # No token, an empty one, or anything but the session's.
        "csrf_token": st.one_of(st.none(), st.just(""), TEXT),
    }
    fields = form(data, valid)
    before = _state()
    response = signed_in.post(path, data=fields)
    assert response.status_code == 400
    assert "Le formulaire a expiré" in response.get_data(as_text=True)
    assert_escaped(shown(response), fields, signed_in.post("/alertes/tout-lu").get_data(True))
    assert _state() == before
    assert signed_in.get("/compte").status_code == 200  # still signed in: /logout was refused
