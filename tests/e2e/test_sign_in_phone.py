"""A parent on a phone signs in and reaches ACCUEIL: readable, accessible, no sideways scroll."""

from __future__ import annotations

from demo import FAMILY_PASSWORD
from tests.e2e import harness


def assert_accessible(page) -> None:
    count, report = harness.axe_violations(page)
    assert count == 0, report


def test_parent_signs_in_on_a_phone_and_sees_both_children(page, live_server):
    page.goto("/login")
    assert_accessible(page)

    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)

    assert page.url == f"{live_server.url}/"
    assert page.get_by_role("heading", level=1).inner_text() == "Bonjour, famille Martin-Exemple"
    names = page.locator(".child-name").all_inner_texts()
    assert names == ["Tom Martin-Exemple", "Léa Martin-Exemple"]
    assert page.evaluate("document.documentElement.scrollWidth") <= harness.PHONE["width"]
    assert_accessible(page)
