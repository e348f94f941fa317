"""ALERTES: the family's own alerts, newest first, unread marked; opening one reads it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from extensions import db
from models import Alert, AlertKind
from services import notifications
from tests import factories
from tests.conftest import csrf_token

NOW = datetime(2026, 11, 26, 9, 30)


def alert(family, message: str, minutes: int = 0, link: str = "") -> Alert:
    item = notifications.notify(
        family, AlertKind.BOOKING, message, link, NOW + timedelta(minutes=minutes)
    )
    db.session.commit()
    return item


def items(html: str) -> list[str]:
    """Each alert's <li>, in page order."""
    return re.findall(r'<li class="card alert-item.*?</li>', html, flags=re.S)


def read_at(alert_id: int):
    db.session.expire_all()
    return db.session.get(Alert, alert_id).read_at


def test_the_page_lists_the_familys_own_alerts_newest_first_unread_marked(
    client, auth, family, other_family
):
    first = alert(family, "Réservation enregistrée : Enfant1, lundi 7 décembre", 0)
    read = alert(family, "Document accepté : attestation d'assurance", 60)
    alert(family, "Facture de novembre disponible", 120)
    alert(other_family, "Message pour un autre foyer", 180)
    notifications.mark_read(family, read.id, NOW + timedelta(hours=3))
    auth.login("famille.a")

    html = client.get("/alertes").get_data(as_text=True)

    shown = items(html)
    assert [("Nouveau" in li, "Facture" in li, "Document" in li) for li in shown] == [
        (True, True, False),
        (False, False, True),
        (True, False, False),
    ]
    assert f'href="/alertes/{first.id}"' in shown[2]
    assert "autre foyer" not in html
    assert "2 alertes non lues" in html
    assert "Tout marquer comme lu" in html


def test_the_navigation_shows_alertes_with_the_unread_count(client, auth, family):
    alert(family, "Un", 0)
    alert(family, "Deux", 1)
    auth.login("famille.a")

    html = client.get("/").get_data(as_text=True)

    assert re.search(r'href="/alertes"[^>]*>Alertes <span class="badge">2<', html)


def test_messages_are_escaped(client, auth, family):
    alert(family, "<script>alert(1)</script> & co")
    auth.login("famille.a")

    html = client.get("/alertes").get_data(as_text=True)

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html


def test_no_alert_yet(client, auth, family):
    auth.login("famille.a")

    html = client.get("/alertes").get_data(as_text=True)

    assert "Aucune alerte pour le moment." in html
    assert "Tout marquer comme lu" not in html


def test_opening_an_alert_marks_it_read_and_goes_to_its_page(client, auth, family):
    booked = alert(family, "Réservation enregistrée", link="/reservations")
    auth.login("famille.a")

    response = client.get(f"/alertes/{booked.id}")

    assert response.status_code == 302
    assert response.headers["Location"] == "/reservations"
    assert read_at(booked.id) is not None
    html = client.get("/alertes").get_data(as_text=True)
    assert "Nouveau" not in html and "Voir le détail" in html


@pytest.mark.parametrize(
    "link",
    [
        "",
        "/rubrique-pas-encore-ouverte",  # a section whose pages do not exist (yet)
        "//evil.example/",  # written by hand in the database: never followed
        "https://evil.example/",
    ],
)
def test_an_alert_without_a_page_of_the_portal_goes_back_to_the_list(client, auth, family, link):
    item = Alert(family_id=family.id, kind="booking", message="Information", link=link)
    db.session.add(item)
    db.session.commit()
    auth.login("famille.a")

    response = client.get(f"/alertes/{item.id}")

    assert response.status_code == 302
    assert response.headers["Location"] == "/alertes"
    assert read_at(item.id) is not None


def test_another_familys_alert_is_404_and_stays_unread(client, auth, family, other_family):
    theirs = alert(other_family, "Message pour un autre foyer", link="/reservations")
    auth.login("famille.a")

    response = client.get(f"/alertes/{theirs.id}")

    assert response.status_code == 404
    assert "autre foyer" not in response.get_data(as_text=True)
    assert read_at(theirs.id) is None
    assert client.get("/alertes/999999").status_code == 404


def test_mark_all_read(client, auth, family, other_family):
    for n in range(3):
        alert(family, f"Alerte {n}", n)
    theirs = alert(other_family, "Message pour un autre foyer")
    auth.login("famille.a")

    response = client.post("/alertes/tout-lu", data={"csrf_token": csrf_token(client, "/alertes")})

    assert response.status_code == 302 and response.headers["Location"] == "/alertes"
    assert notifications.unread_count(family.id) == 0
    assert read_at(theirs.id) is None
    html = client.get("/alertes").get_data(as_text=True)
    assert "Toutes vos alertes sont marquées comme lues." in html
    assert "Nouveau" not in html and "Tout marquer comme lu" not in html
    assert 'class="badge"' not in html


def test_mark_all_read_needs_the_csrf_token(client, auth, family):
    alert(family, "Alerte")
    auth.login("famille.a")

    response = client.post("/alertes/tout-lu")

    assert response.status_code == 400
    assert notifications.unread_count(family.id) == 1


def test_alerts_need_a_signed_in_family(client, family):
    item = alert(family, "Alerte", link="/reservations")

    for path in ("/alertes", f"/alertes/{item.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    assert read_at(item.id) is None


def test_the_page_costs_the_same_queries_for_one_alert_or_forty(client, auth, family):
    def queries_of_the_page() -> list[str]:
        client.get("/alertes")  # warm: the session row, Flask-Login's loader
        with factories.counted_queries() as statements:
            assert client.get("/alertes").status_code == 200
        return statements

    first = alert(family, "Première", link="/reservations")
    auth.login("famille.a")
    with_one = queries_of_the_page()
    for n in range(39):
        alert(family, f"Alerte {n}", n + 1, link="/reservations" if n % 2 else "")
    notifications.mark_read(family, first.id, NOW)

    with_forty = queries_of_the_page()

    # The session (with its account, family and unread count), the alerts.
    assert len(with_forty) == len(with_one) == 2, with_forty
