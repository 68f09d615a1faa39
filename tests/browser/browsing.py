"""A person at a browser: a Playwright context and page on the live server, with
an accessibility check of every page it shows."""

from __future__ import annotations

import re
from time import monotonic

from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Browser, ConsoleMessage, Frame, Locator, Page, Response, expect

from diplomacy import roles
from diplomacy.models import User
from tests.browser.accessibility import assert_accessible, axe_source
from tests.factories import PASSWORD

#: Fail fast: every page here answers in well under a second.
TIMEOUT_MS = 10_000


class Visitor:
    """One person at one browser: a fresh context and page on the live server."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.context = browser.new_context(
            base_url=self.base_url,
            locale="en-GB",
            timezone_id="Europe/Brussels",
            viewport={"width": 1280, "height": 900},
        )
        self.context.set_default_timeout(TIMEOUT_MS)
        # axe-core in every document from the start: an init script is not
        # subject to the page's CSP, and is much cheaper than evaluating the
        # 500 kB file again after each navigation.
        self.context.add_init_script(script=axe_source())
        self.page: Page = self.context.new_page()
        #: Documents shown since the last accessibility check.
        self.unaudited: list[str] = []
        #: JavaScript errors and CSP refusals: a page must work under its own CSP.
        self.script_errors: list[str] = []
        self.page.on("framenavigated", self._on_navigation)
        self.page.on("pageerror", lambda error: self.script_errors.append(f"{self.page.url}: {error}"))
        self.page.on("console", self._on_console)

    def _on_navigation(self, frame: Frame) -> None:
        if frame == self.page.main_frame:
            self.unaudited.append(frame.url)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.script_errors.append(f"{self.page.url}: {message.text}")

    # --- Looking ---------------------------------------------------------

    def audit(self) -> None:
        """Check the page shown now with axe (and that no script broke on it)."""
        self.page.wait_for_load_state("load")
        if len(self.unaudited) > 1:
            raise AssertionError(f"Pages shown without an accessibility check: {self.unaudited[:-1]}")
        assert not self.script_errors, "Script errors: " + "; ".join(self.script_errors)
        assert_accessible(self.page)
        self.unaudited.clear()

    def goto(self, path: str, *, status: int = 200) -> Response:
        """Open `path`, expect `status` (after redirects), and audit the page."""
        response = self.page.goto(path)
        assert response is not None
        assert response.status == status, f"{path} answered {response.status}, expected {status}"
        self.audit()
        return response

    @property
    def path(self) -> str:
        return re.sub(r"^https?://[^/]+", "", self.page.url)

    def lang(self) -> str | None:
        return self.page.locator("html").get_attribute("lang")

    def nav_labels(self) -> list[str]:
        return [text.strip() for text in self.page.locator('nav[aria-label="Main"] a').all_inner_texts()]

    # --- Doing -------------------------------------------------------------

    def submit(self, form_selector: str) -> None:
        """Click the submit button of one form and wait for the next page, then audit it."""
        with self.page.expect_navigation():
            self.page.locator(form_selector).locator('button[type="submit"]').first.click()
        self.audit()

    def log_in(self, email: str, password: str = PASSWORD) -> None:
        self.goto("/accounts/login/")
        form = 'form:has(input[name="login"])'
        self.page.locator(f'{form} input[name="login"]').fill(email)
        self.page.locator(f'{form} input[name="password"]').fill(password)
        self.submit(form)

    def log_out(self) -> None:
        # "Log out" is in the header's account menu: open it first.
        menu = self.page.locator(".account-menu:not([open]) > summary")
        if menu.count():
            menu.click()
        self.submit(f'form[action="{reverse("account_logout")}"]')

    def close(self) -> None:
        unaudited = list(self.unaudited)
        self.context.close()
        assert not unaudited, f"Pages shown without an accessibility check: {unaudited}"


def expected_nav(user: User) -> list[str]:
    """The navigation labels `roles.navigation` promises `user`, in English."""
    user = User.objects.get(pk=user.pk)  # fresh memberships
    with translation.override("en"):
        return [str(item.label) for item in roles.navigation(user)]


class LiveCheck:
    """The editor's live guideline check (HTMX): on load, 800 ms after typing, and on change.

    The live server's requests share the test's one SQLite connection (see above), and so
    does the test itself when it reads the database or, at the end, empties it. Wait for
    the check to be done before the test reads the database or the page moves on.
    """

    URL = "/publications/check/"
    #: The live preview (250 ms after typing) shares the connection too.
    URLS = (URL, "/publications/preview/")
    DELAY_S = 0.8

    def __init__(self, page) -> None:
        self.page = page
        self.in_flight: set = set()
        self.last_activity = 0.0
        page.on("request", lambda request: self._track(request, self.in_flight.add))
        page.on("requestfinished", lambda request: self._track(request, self.in_flight.discard))
        page.on("requestfailed", lambda request: self._track(request, self.in_flight.discard))

    def _track(self, request, action) -> None:
        if request.url.endswith(self.URLS):
            action(request)
            self.last_activity = monotonic()

    def settle(self, *, typed: bool = True) -> None:
        """Wait until the check is done: after typing (`typed`), or after the page loaded."""
        if typed:
            # Leave the field (its "change" checks at once); the typing delay must pass too.
            self.page.evaluate("() => document.activeElement && document.activeElement.blur()")
            self.last_activity = monotonic()
            quiet = self.DELAY_S + 0.15
        else:
            # Only the editor has the check: the publication page has none since the editor
            # moved to a page of its own, and there only requests in flight are waited for.
            if self.page.locator(".live-check").count():
                expect(self.page.locator(".live-check #check-results")).to_be_attached()
            quiet = 0.0
        deadline = monotonic() + 5
        while self.in_flight or monotonic() - self.last_activity < quiet:
            if monotonic() > deadline:
                raise AssertionError("The live guideline check did not settle within 5 seconds.")
            self.page.wait_for_timeout(25)


def text_field(page: Page, language_name: str) -> Locator:
    """The editor's text in `language_name` ("French"), its tab chosen first: with JavaScript
    the editor shows one language at a time (static/js/editor.js)."""
    tab = page.get_by_role("tab", name=re.compile(rf"^{re.escape(language_name)}\b"))
    if tab.count():
        tab.click()
    return page.get_by_label(f"Text in {language_name}", exact=True)
