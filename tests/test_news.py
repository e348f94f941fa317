"""The news on ACCUEIL: who sees an item, while when, in which order, its text shown safely
(an XSS corpus), in a fixed number of queries; staff's window checked in French."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from extensions import db
from models import NewsItem, Registration, RegistrationStatus, Resource
from services import news
from tests import factories
from tests.conftest import csrf_token

TODAY = date(2026, 11, 30)
NOON = datetime(2026, 11, 30, 11, 0)


def item(title, published_on=TODAY, **fields) -> NewsItem:
    row = NewsItem(title=title, body=fields.pop("body", "…"), published_on=published_on, **fields)
    db.session.add(row)
    db.session.commit()
    return row


def titles(family) -> list[str]:
    return [shown.title for shown in news.current_news(family, TODAY)]


@pytest.fixture
def world(app, family, other_family):
    """Family A at Chalmel, registered to the canteen; Sainte-Thérèse and evening care exist
    for others (B's child goes there, registered to care)."""
    therese = factories.school("École Sainte-Thérèse")
    year = factories.school_year()
    canteen = factories.activity()
    care = factories.activity("care_evening", "Accueil du soir")
    factories.registration(family.children[0], canteen, year)
    factories.registration(family.children[1], care, year, RegistrationStatus.REQUESTED)
    b_child = factories.child(other_family, "Zoé", where=therese)
    factories.registration(b_child, care, year)
    return {
        "therese": therese,
        "chalmel": family.children[0].school,
        "canteen": canteen,
        "care": care,
    }


# --- Audience ------------------------------------------------------------------------------


def test_each_family_sees_everyone_news_its_schools_and_its_activities(world, family, other_family):
    item("Pour tous")
    item("Chalmel", school_id=world["chalmel"].id)
    item("Thérèse", school_id=world["therese"].id)
    item("Cantine", activity_id=world["canteen"].id)
    item("Accueil du soir", activity_id=world["care"].id)
    item("Cantine à Thérèse", school_id=world["therese"].id, activity_id=world["canteen"].id)
    assert sorted(titles(family)) == ["Cantine", "Chalmel", "Pour tous"]
    # B: a child at Chalmel (the factory's) and one at Thérèse registered to care.
    assert sorted(titles(other_family)) == ["Accueil du soir", "Chalmel", "Pour tous", "Thérèse"]


def test_a_request_not_yet_accepted_or_a_cancelled_registration_is_not_an_audience(world, family):
    item("Accueil du soir", activity_id=world["care"].id)
    assert titles(family) == []  # A's care registration is only requested


def test_a_registration_of_a_school_year_over_is_not_an_audience(world, family):
    old_year = factories.school_year("2024-2025", date(2024, 9, 2), date(2025, 7, 4))
    factories.registration(family.children[1], world["care"], old_year)
    item("Accueil du soir", activity_id=world["care"].id)
    assert titles(family) == []


def test_a_registration_whose_cancellation_is_only_asked_still_counts(world, other_family):
    registration = db.session.scalar(
        select(Registration).where(Registration.activity_id == world["care"].id)
    )
    registration.status = RegistrationStatus.CANCEL_REQUESTED
    db.session.commit()
    item("Accueil du soir", activity_id=world["care"].id)
    assert titles(other_family) == ["Accueil du soir"]


# --- Window and order ------------------------------------------------------------------------


def test_only_published_items_inside_their_window_show_newest_first(world, family):
    item("Hier", TODAY - timedelta(days=1))
    item("Demain", TODAY + timedelta(days=1))
    item("Fini hier", TODAY - timedelta(days=9), ends_on=TODAY - timedelta(days=1))
    item("Finit aujourd'hui", TODAY - timedelta(days=9), ends_on=TODAY)
    item("Dépubliée", TODAY, is_published=False)
    item("Aujourd'hui", TODAY)
    item("Sans fin", date(2026, 9, 1))
    assert titles(family) == ["Aujourd'hui", "Hier", "Finit aujourd'hui", "Sans fin"]


def test_accueil_shows_the_latest_five(world, client, auth, family, pin_clock):
    pin_clock(NOON)
    for day in range(1, 8):
        item(f"Actualité du {day} novembre", date(2026, 11, day))
    auth.login("famille.a")
    page = client.get("/").get_data(as_text=True)
    shown = [day for day in range(1, 8) if f"Actualité du {day} novembre" in page]
    assert shown == [3, 4, 5, 6, 7]
    assert page.index("du 7 novembre") < page.index("du 3 novembre")


# --- Safe formatting ------------------------------------------------------------------------

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "[clic](javascript:alert(1))",
    "[clic](JaVaScRiPt:alert(1))",
    "[clic](&#106;avascript:alert(1))",
    '<a href="java\tscript:alert(1)">clic</a>',
    "[clic](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[clic](vbscript:msgbox(1))",
    '<p style="background:url(javascript:alert(1))" onclick="alert(1)">texte</p>',
    '<a href="https://ok.example" onmouseover="alert(1)">lien</a>',
    "<details open ontoggle=alert(1)>",
    "<body onload=alert(1)>",
    "<object data=javascript:alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    '![x](x" onerror="alert(1))',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<base href=javascript:alert(1)//>",
]
DANGER = (
    "<script",
    "onerror",
    "onload",
    "onclick",
    "onmouseover",
    "ontoggle",
    "javascript:",
    "vbscript:",
    "data:",
    "<iframe",
    "<svg",
    "<img",
    "<object",
    "<style",
    "<form",
    "<meta",
    "<base",
    "style=",
)


@pytest.mark.parametrize("attack", XSS)
def test_no_script_handler_or_dangerous_link_survives(attack):
    html = str(news.body_html(attack)).lower()
    assert not any(word in html for word in DANGER), html


def test_simple_formatting_is_kept():
    html = str(
        news.body_html(
            "Premier paragraphe avec **gras** et *italique*.\n\n"
            "- un\n- deux\n\nPuis :\n\n1. premier\n2. second\n\n"
            "[Le site de la mairie](https://mairie.example/menus)"
        )
    )
    assert "<strong>gras</strong>" in html and "<em>italique</em>" in html
    assert "<ul>\n<li>un</li>" in html and "<ol>\n<li>premier</li>" in html
    assert html.count("<p>") == 3
    assert '<a href="https://mairie.example/menus" rel="noopener noreferrer nofollow">' in html


def test_accueil_shows_the_formatting_and_escapes_the_title(world, client, auth, family, pin_clock):
    pin_clock(NOON)
    item("<b>Titre</b>", body="**Important** <script>alert(1)</script>")
    auth.login("famille.a")
    page = client.get("/").get_data(as_text=True)
    assert "<strong>Important</strong>" in page
    assert "&lt;b&gt;Titre&lt;/b&gt;" in page
    assert "alert(1)" not in page


# --- Queries -------------------------------------------------------------------------------


def test_accueil_runs_the_same_queries_whatever_the_news_schools_and_registrations(
    world, client, auth, family, pin_clock
):
    pin_clock(NOON)
    auth.login("famille.a")

    def queries() -> int:
        with factories.counted_queries() as statements:
            assert client.get("/").status_code == 200
        return len(statements)

    quiet = queries()
    factories.child(family, "Léa", where=world["therese"])
    for day in range(1, 21):
        item(f"Actualité {day}", date(2026, 11, day), school_id=world["therese"].id)
        item(f"Cantine {day}", date(2026, 11, day), activity_id=world["canteen"].id)
    for index, school in enumerate((world["therese"], world["chalmel"], None)):
        db.session.add(
            Resource(
                title=f"Menu {index}",
                category="menus",
                school=school,
                original_name="menu.pdf",
                stored_name=f"{index:032d}",
                content_type="application/pdf",
            )
        )
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert page.count("Menu de la semaine") == 2 and page.count('class="card news"') == 5
    assert queries() == quiet


# --- The back office -----------------------------------------------------------------------


def post_news(client, data: dict):
    url = "/admin/newsitem/new/"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def test_staff_write_news_for_a_school_with_an_end(world, client, auth, staff):
    auth.login("agent.a")
    response = post_news(
        client,
        {
            "title": "Sortie",
            "body": "**Jeudi**",
            "published_on": "2026-11-30",
            "ends_on": "2026-12-04",
            "school": str(world["therese"].id),
            "activity": str(world["care"].id),
            "is_published": "y",
        },
    )
    assert response.status_code == 302
    row = db.session.scalar(select(NewsItem))
    assert (row.ends_on, row.school_id, row.activity_id) == (
        date(2026, 12, 4),
        world["therese"].id,
        world["care"].id,
    )


def test_an_end_before_the_publication_is_refused_in_french(world, client, auth, staff):
    auth.login("agent.a")
    response = post_news(
        client,
        {"title": "Sortie", "body": "…", "published_on": "2026-11-30", "ends_on": "2026-11-29"},
    )
    assert response.status_code == 200
    assert news.WINDOW_REFUSED.replace("'", "&#39;") in response.get_data(as_text=True)
    assert db.session.scalar(select(NewsItem)) is None
