"""A parent on a phone sends a photo of a health sheet from DOCUMENTS and sees it received:
the page is accessible (axe-core) and never scrolls sideways, before and after."""

from __future__ import annotations

from demo import FAMILY_PASSWORD
from tests import uploads_corpus as corpus
from tests.e2e import harness


def assert_accessible(page) -> None:
    count, report = harness.axe_violations(page)
    assert count == 0, report
    assert page.evaluate("document.documentElement.scrollWidth") <= harness.PHONE["width"]


def test_a_parent_sends_a_photo_and_sees_it_received(page, live_server):
    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)
    page.goto("/documents")
    assert_accessible(page)
    assert page.locator("input[type=file][capture]").count() == 1

    page.get_by_label("Type de document").select_option(label="Fiche sanitaire")
    page.get_by_label("Enfant concerné").select_option(label="Tom")
    page.get_by_label("Prendre une photo").set_input_files(
        files=[
            {"name": "fiche-tom.jpg", "mimeType": "image/jpeg", "buffer": corpus.jpeg_with_gps()}
        ]
    )
    page.get_by_role("button", name="Envoyer le document").click()

    assert "Document reçu : fiche-tom.jpg" in page.locator(".flashes").inner_text()
    row = page.locator("li.row", has_text="fiche-tom.jpg")
    assert "Reçu" in row.inner_text() and "Fiche sanitaire · Tom" in row.inner_text()
    assert_accessible(page)
