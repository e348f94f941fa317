"""On a phone, ACCUEIL holds this week's menu one tap away and the news for this family;
the commune's documents page lists the current files; both pages stay accessible."""

from __future__ import annotations

from demo import FAMILY_PASSWORD
from tests.e2e import harness


def test_a_parent_taps_the_weeks_menu_and_reads_the_news(page, live_server):
    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)

    with page.expect_download() as download:
        page.get_by_role("link", name="Menu de la semaine de Tom (PDF)").click()
    path = download.value.path()
    with open(path, "rb") as menu:
        assert menu.read(5) == b"%PDF-"
    assert page.get_by_role("link", name="Menu de la semaine de Léa (PDF)").is_visible()

    news = page.locator("article.news h3").all_inner_texts()
    # Léa goes to Sainte-Thérèse: its closure news is for this family.
    assert "Fermeture exceptionnelle à l'école Sainte-Thérèse" in news
    assert page.locator("article.news strong", has_text="Lundi").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= harness.PHONE["width"]
    count, report = harness.axe_violations(page)
    assert count == 0, report

    page.get_by_role("link", name="Documents de la commune").click()
    assert page.get_by_role("link", name="Règlement intérieur 2026-2027").is_visible()
    count, report = harness.axe_violations(page)
    assert count == 0, report
