"""A parent on a phone uses MON COMPTE: asks for a new mobile number, sees it waiting beside
the number on file, downloads the family's data; no axe-core violation, no sideways scroll.

The tests share one live server: the second guardian's number is this file's own."""

from __future__ import annotations

import zipfile

from playwright.sync_api import expect

from demo import FAMILY_PASSWORD
from tests.e2e import harness


def assert_accessible(page) -> None:
    count, report = harness.axe_violations(page)
    assert count == 0, report


def test_a_parent_asks_for_a_new_phone_number_and_sees_it_waiting(page):
    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)
    page.goto("/compte")
    assert_accessible(page)
    julien = page.locator("#responsables .fiche", has_text="Julien")
    julien.locator("summary").click()
    phone = julien.get_by_label("Téléphone portable")
    expect(phone).to_have_attribute("type", "tel")
    phone.fill("0600000077")
    julien.get_by_role("button", name="Envoyer les modifications").click()

    expect(page.locator(".flash-success")).to_contain_text("1 modification envoyée")
    waiting = page.locator("#responsables .fiche", has_text="Julien").locator(".pending")
    expect(waiting).to_contain_text("en attente de validation : 06 00 00 00 77")
    expect(page.locator("#responsables .fiche", has_text="Julien")).to_contain_text(
        "06 00 00 00 02"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= harness.PHONE["width"]
    assert_accessible(page)


def test_a_parent_downloads_the_familys_data(page):
    harness.sign_in(page, "famille.demo", FAMILY_PASSWORD)
    page.goto("/compte")
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger mes données").click()
    archive = zipfile.ZipFile(download.value.path())
    assert sorted(archive.namelist()) == ["mes-donnees.html", "mes-donnees.json"]
    assert "Martin-Exemple" in archive.read("mes-donnees.html").decode()
