"""The browser harness itself: the accessibility check must fail on a page that
is plainly broken, and the browser must not reach beyond this machine, or a
green browser suite proves nothing."""

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.browser.accessibility import assert_accessible, axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BROKEN_PAGE = """<!DOCTYPE html>
<html><head><title>Broken</title></head>
<body><main><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><form><input name="q"></form></main></body>
</html>"""


def test_the_accessibility_check_fails_on_serious_violations(visitor):
    visitor.page.set_content(BROKEN_PAGE)

    found = {v["id"] for v in axe_violations(visitor.page)}
    assert {"html-has-lang", "image-alt", "label"} <= found
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(visitor.page)
    visitor.unaudited.clear()  # deliberately broken; not one of the product's pages


def test_the_accessibility_check_loads_axe_under_the_sites_csp(visitor):
    response = visitor.goto("/accounts/login/")

    assert "script-src" in response.headers.get("content-security-policy", "")
    assert visitor.page.evaluate("() => typeof window.axe === 'object'")


def test_the_browser_resolves_no_host_but_the_live_server(visitor):
    with pytest.raises(PlaywrightError, match="ERR_NAME_NOT_RESOLVED"):
        visitor.page.goto("http://example.org/")
    visitor.unaudited.clear()  # an error page of the browser's own
