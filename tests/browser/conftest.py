"""Playwright driving Debian's chromium, headless, against pytest-django's live server.

Nothing is downloaded at test time: the browser is /usr/bin/chromium (`apt-get install chromium`; .ci/run does
it). Where it is absent the browser tests are skipped with that reason, unless SIEVE_REQUIRE_BROWSER=1 (CI),
where its absence is an error.
"""

import os
import shutil
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

CHROMIUM = os.environ.get("SIEVE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without these, chromium tries to reach Google's services, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    # synchronous. Only for browser tests: the variable must not leak into the rest of the suite.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(_allow_orm_beside_playwright) -> Iterator[object]:
    # One browser per test: Playwright's event loop must not outlive the test that allowed it.
    if not os.path.exists(CHROMIUM):
        message = f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("SIEVE_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Scrollbars shown as a user sees them (Playwright hides them by default): layout shifts they cause show up.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, ignore_default_args=["--hide-scrollbars"]
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_server):
    """`new_page()`: a fresh browser context (its own cookies) whose requests may reach only the live server."""
    contexts = []
    allowed = urlparse(live_server.url).netloc
    blocked: list[str] = []

    def make():
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(15_000)

        def only_local(route):
            if urlparse(route.request.url).netloc == allowed:
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()

        context.route("**/*", only_local)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
    assert blocked == [], f"pages tried to reach the network: {blocked}"
