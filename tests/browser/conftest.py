"""Browser fixtures: Debian's Chromium driven by Playwright against `live_server`.

One browser for the session; a fresh context (cookies, storage) and page per
visitor, so that tests never share a login. Every document a visitor's page
shows must pass an accessibility check (`Visitor.audit`) before the test ends.

Playwright's sync API runs an event loop in the test thread, which makes
Django's ORM refuse to run there; DJANGO_ALLOW_ASYNC_UNSAFE is set for the
browser session only (`make test-browser` sets it too).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from playwright.sync_api import Browser, sync_playwright
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.browser.browsing import Visitor

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Even with background networking off, Chromium looks up Google hosts:
    # resolve nothing but loopback, so that no test ever leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


class QuickToStopWSGIServer(ThreadedWSGIServer):
    """`shutdown()` waits until serve_forever next looks at its flag (every 0.5 s by default)."""

    def serve_forever(self, poll_interval: float = 0.01) -> None:
        super().serve_forever(poll_interval)


@pytest.fixture(scope="session", autouse=True)
def _live_server_stops_at_once() -> Iterator[None]:
    """Autouse, so it is in place before pytest-django's session `live_server` starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LiveServerThread, "server_class", QuickToStopWSGIServer)
        yield


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: install it with `apt-get install -y chromium`.")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture(autouse=True)
def _browser_settings(settings: Settings) -> None:
    """The live server speaks plain HTTP: keep cookies usable whatever DJANGO_DEBUG says."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.LANGUAGE_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Whatever DJANGO_DEBUG implies: the MFA tests switch it on themselves.
    settings.REQUIRE_MFA_FOR_REVIEWERS = False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def new_visitor(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer
) -> Iterator[Callable[[], Visitor]]:
    """Make visitors with fresh contexts; each must have audited every page it saw."""
    visitors: list[Visitor] = []

    def make() -> Visitor:
        visitor = Visitor(browser, live_server.url)
        visitors.append(visitor)
        return visitor

    yield make
    errors = []
    for visitor in visitors:
        try:
            visitor.close()
        except AssertionError as exc:
            errors.append(str(exc))
    # A test that failed half-way has left pages unchecked: that is no news.
    if errors and not request.node.stash.get(_CALL_FAILED, False):
        pytest.fail("\n".join(errors))


@pytest.fixture
def visitor(new_visitor: Callable[[], Visitor]) -> Visitor:
    return new_visitor()


@pytest.fixture
def one_request_at_a_time(monkeypatch):
    """Let the live server answer one request at a time (for the journeys).

    On an in-memory SQLite database pytest-django's live server gives every request
    thread the test's one connection, and a page's images requested in parallel fail with
    "database table is locked" (`make test-browser` uses a database file, which avoids
    that). The journeys also read the database between clicks: queued requests keep
    those reads from interleaving with a request still running.
    """
    lock = threading.Lock()
    handle = WSGIHandler.__call__

    def one_at_a_time(self, environ, start_response):
        with lock:
            return handle(self, environ, start_response)

    monkeypatch.setattr(WSGIHandler, "__call__", one_at_a_time)
