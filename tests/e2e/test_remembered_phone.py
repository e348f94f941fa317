"""A parent ticks "Rester connecté sur ce téléphone": the phone's browser keeps the pf_appareil
cookie, out of JavaScript's reach, and is signed in again once its session cookie is gone;
MON COMPTE lists the phone and disconnects it. Through Chromium and a real server."""

from __future__ import annotations

import time

from demo import FAMILY_PASSWORD
from tests.e2e import harness

COOKIE = "pf_appareil"
THIRTY_DAYS = 30 * 24 * 3600


def device_cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == COOKIE), None)


def forget_everything_but_the_device_cookie(page) -> None:
    """As a phone's browser does when it is closed: session cookies go, lasting ones stay."""
    kept = device_cookie(page)
    page.context.clear_cookies()
    page.context.add_cookies([kept])


def test_a_remembered_phone_is_signed_in_again_and_can_be_disconnected(page, live_server):
    page.goto("/login")
    page.get_by_label("Identifiant", exact=True).fill("famille.demo")
    page.get_by_label("Mot de passe", exact=True).fill(FAMILY_PASSWORD)
    page.get_by_label("Rester connecté sur ce téléphone").check()
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()

    cookie = device_cookie(page)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert abs(cookie["expires"] - time.time() - THIRTY_DAYS) < 120
    assert COOKIE not in page.evaluate("document.cookie")

    forget_everything_but_the_device_cookie(page)
    page.goto("/")
    assert page.url == f"{live_server.url}/"
    assert page.get_by_role("heading", level=1).inner_text() == "Bonjour, famille Martin-Exemple"
    assert device_cookie(page)["value"] != cookie["value"], "the token is replaced at each use"

    page.goto("/compte")
    devices = page.locator("#appareils")
    assert "(cet appareil)" in devices.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= harness.PHONE["width"]
    count, report = harness.axe_violations(page)
    assert count == 0, report

    this_phone = devices.locator("li", has_text="(cet appareil)")
    this_phone.get_by_role("button", name="Déconnecter cet appareil").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server.url}/login"
    assert "Ce téléphone est déconnecté" in page.locator(".flashes").inner_text()
    assert device_cookie(page) is None
