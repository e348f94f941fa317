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
