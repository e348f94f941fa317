"""Sign-in end to end: a family reaches ACCUEIL with its own children only."""


def test_family_signs_in_and_sees_its_children(client, auth, family, other_family):
    response = auth.login("famille.a")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Enfant1 A" in page and "Enfant2 A" in page
    assert "Enfant1 B" not in page


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_home_runs_a_fixed_number_of_queries(app, client, auth, family):
    from datetime import date

    from extensions import db
    from models import Alert, NewsItem
    from tests import factories

    auth.login("famille.a")

    def queries() -> int:
        with factories.counted_queries() as statements:
            assert client.get("/").status_code == 200
        return len(statements)

    quiet = queries()
    for day in range(1, 21):
        db.session.add(
            NewsItem(title=f"Actualité {day}", body="…", published_on=date(2026, 11, day))
        )
        db.session.add(Alert(family_id=family.id, kind="booking", message=f"Alerte {day}"))
    db.session.commit()
    assert queries() == quiet <= 6
