"""SECURITY.md check 13 in the back office: every Flask-Admin view, fuzzed with hypothesis.

The views are walked as the app registers them, so a new list or page is fuzzed without a
word here: each list's query string (page, page size, sort, search and every filter it
offers), each row URL (details, edit) with any id, each create and edit form with the
fields its page shows, and every GET and POST route of the custom pages (Demandes,
Absences, Pointage, the counter, Impayés, the treasurer's exports). Whatever comes in:
never a 500, and the text shown back escaped.
The parent portal's forms are fuzzed in tests/test_fuzz_forms.py, with the same values.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import urlencode

import pytest
from flask_admin.contrib.sqla import ModelView
from hypothesis import given, settings
from hypothesis import strategies as st

from models import StaffRole
from tests import factories
from tests.conftest import csrf_token
from tests.test_fuzz_forms import (
    ANYTHING,
    DATE,
    FUZZ,
    NUMBER,
    TEXT,
    assert_escaped,
    assert_ok,
    fresh_example,
    shown,
)

# Each example walks every view: fewer examples than a single form's fuzzing.
ADMIN_FUZZ = settings(FUZZ, max_examples=12)
FIELD = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"')
OPTION = re.compile(r'<option[^>]*value="([^"]*)"')
# What a custom page reads from its query string or form (admin_views/requests.py and
# attendance.py); any other name is drawn too.
CUSTOM_NAMES = [
    "page", "school", "activity", "start", "end", "family", "kind", "state", "date",
    "decision", "ids", "reason", "booking", "present", "child", "option", "decision-1",
    "q", "method", "amount", "received_on", "reference", "payment", "late", "sort",
    "month", "invoice",
]  # fmt: skip
PLAUSIBLE = st.sampled_from(
    ["1", "2", "0", "2026-11-19", "2026-11-19 08:00:00", "12,50", "y", "Texte", "10:00",
     "1,2,4,5", "approve", "refuse", "justified:1", "unjustified", "declared", "decided",
     "2026-11"]
)  # fmt: skip
VALUE = st.one_of(PLAUSIBLE, ANYTHING)


@pytest.fixture
def staff_client(app, client, auth, family, other_family):
    """An admin signed in, over a world where each list has rows to show and act on."""
    factories.staff_user("admin.a", role=StaffRole.ADMIN)
    year = factories.school_year()
    canteen = factories.activity(options=("standard",))
    for child in (*family.children, *other_family.children):
        factories.registration(child, canteen, year)
        factories.booking(child, canteen, date(2026, 11, 19))
    assert auth.login("admin.a").status_code == 302
    return client


def model_views(app) -> list[ModelView]:
    return [view for view in app.extensions["admin"][0]._views if isinstance(view, ModelView)]


def custom_rules(app) -> list:
    """The routes of the back office's own pages (not Flask-Admin's model views)."""
    model_endpoints = {view.endpoint for view in model_views(app)}
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/admin/")
        and rule.endpoint.split(".")[0] not in model_endpoints | {"admin"}
        and not rule.endpoint.endswith("static")
    ]


def list_query(data, view) -> dict:
    """A list's query string: its own arguments and filters, each maybe replaced by anything."""
    filters = [f"flt{n}_{key}" for n, key in enumerate(sorted(view._filter_args or {}))]
    names = ["page", "page_size", "sort", "desc", "search", *filters]
    chosen = data.draw(st.lists(st.sampled_from(names), unique=True, max_size=4), label="args")
    return {name: data.draw(st.one_of(NUMBER, DATE, TEXT), label=name) for name in chosen}


def get(client, path: str, query: dict):
    return client.get(f"{path}?{urlencode(query, doseq=True)}")


@ADMIN_FUZZ
@given(data=st.data())
def test_every_list_and_row_url(app, staff_client, data):
    fresh_example()
    for view in model_views(app):
        base = f"/admin/{view.endpoint}/"
        baseline = staff_client.get(base).get_data(as_text=True)
        query = list_query(data, view)
        response = get(staff_client, base, query)
        assert_ok(response, {200, 302}, query)
        assert_escaped(shown(response), query, baseline)
        row = {"id": data.draw(st.one_of(st.sampled_from(["1", "2"]), NUMBER, TEXT), label="id")}
        for page in ("details/", "edit/"):
            response = get(staff_client, base + page, row)
            assert_ok(response, {200, 302}, row)


def form_fields(client, path: str) -> dict[str, list[str]]:
    """The fields a form page shows, each with the options it offers."""
    html = client.get(path).get_data(as_text=True)
    return {name: OPTION.findall(html) for name in FIELD.findall(html) if name != "csrf_token"}


@ADMIN_FUZZ
@given(data=st.data())
def test_every_create_and_edit_form(app, staff_client, data):
    fresh_example()
    token = csrf_token(staff_client, "/admin/family/new/")
    for view in model_views(app):
        pages = [f"/admin/{view.endpoint}/new/"] * view.can_create
        pages += [f"/admin/{view.endpoint}/edit/?id=1"] * view.can_edit
        for path in pages:
            fields = {}
            for name, options in form_fields(staff_client, path).items():
                offered = st.sampled_from(options) if options else PLAUSIBLE
                fields[name] = data.draw(st.one_of(offered, VALUE), label=f"{path} {name}")
            baseline = staff_client.get(path).get_data(as_text=True)
            response = staff_client.post(path, data={**fields, "csrf_token": token})
            assert_ok(response, {200, 302}, fields)
            assert_escaped(shown(response), fields, baseline)


@ADMIN_FUZZ
@given(data=st.data())
def test_every_custom_page(app, staff_client, data):
    fresh_example()
    token = csrf_token(staff_client, "/admin/family/new/")
    for rule in custom_rules(app):
        names = st.one_of(st.sampled_from(CUSTOM_NAMES), TEXT)
        fields = data.draw(st.dictionaries(names, VALUE, max_size=5), label=rule.rule)
        baseline = staff_client.get(rule.rule).get_data(as_text=True)
        if "POST" in rule.methods:
            response = staff_client.post(rule.rule, data={**fields, "csrf_token": token})
        else:
            response = get(staff_client, rule.rule, fields)
        assert_ok(response, {200, 302, 400, 404}, fields, refused=frozenset({400, 404}))
        assert_escaped(shown(response), fields, baseline)


def test_the_walk_covers_every_view(app):
    """A list or page the walk would miss is a failure here, not a silent gap."""
    assert len(model_views(app)) >= 25
    assert {rule.endpoint.split(".")[0] for rule in custom_rules(app)} >= {
        "demandes",
        "absences",
        "pointage",
        "guichet",
        "impayes",
        "exports_tresorier",
    }
