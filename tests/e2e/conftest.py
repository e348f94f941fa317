"""Browser fixtures: `live_server` (the demo app in a thread) and `page` (Chromium, phone size).

No Chromium → skipped with the reason; under CI=true → a failure, never a silent skip.
"""

from __future__ import annotations

import pytest

import clock
from tests.conftest import IN_CI, ON_POSTGRES
from tests.e2e import harness


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    if ON_POSTGRES:
        pytest.skip("browser tests run once, in the SQLite pass")
    with harness.live_demo_server(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(autouse=True)
def _demo_clock():
    """Every browser test lives at DEMO_NOW: the root conftest lets the clock run again after
    each test, and the live server shares this process's one clock."""
    clock.pin(harness.DEMO_NOW)


@pytest.fixture(scope="session")
def browser():
    reason = harness.missing_browser()
    if reason and IN_CI:
        pytest.fail(f"browser tests cannot run under CI=true: {reason}")
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = harness.launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (no cookies) at phone size, in French."""
    context = browser.new_context(base_url=live_server.url, viewport=harness.PHONE, locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
