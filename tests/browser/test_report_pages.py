"""The head of communications opens coverage and activity on the demo network (issue 17).

Each page answers first: the findings are on the first screen and each leads to its
details; the long tables are folded by region. With the default filters on the demo data
(`seed_demo`), at 1280 x 900, coverage is at most 3,000 px tall and activity at most
4,000 px; the activity verdict is in view once a region is opened, without scrolling
sideways. On a phone the page never scrolls sideways, folds opened or not: wide tables
scroll inside their own labelled region. In French the map's tooltips are French.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from pytest_django.fixtures import Settings

from diplomacy.models import User
from tests.browser.browsing import Visitor

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

CENTRAL = "central.reviewer@example.org"
PASSWORD = "reports-pass-2026"
GOALS = {"/network/coverage/": 3000, "/network/activity/": 4000}

HEIGHT = "document.scrollingElement.scrollHeight"
SIDEWAYS = "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"


@pytest.fixture
def demo(settings: Settings) -> None:
    """The demo network as `seed_demo` makes it by default (about 1,500 publications)."""
    settings.DEBUG = True  # seed_demo refuses to run without it
    call_command("seed_demo", "--password", PASSWORD, verbosity=0)
    settings.DEBUG = False


def open_every_fold(visitor: Visitor) -> None:
    visitor.page.evaluate(
        "() => document.querySelectorAll('details.report-fold').forEach(d => d.open = true)"
    )


def test_the_reports_answer_first_within_their_height_goals(new_visitor: Callable[[], Visitor], demo):
    visitor = new_visitor()
    page = visitor.page
    visitor.log_in(CENTRAL, PASSWORD)

    for path, goal in GOALS.items():
        visitor.goto(path)
        height = page.evaluate(HEIGHT)
        assert height <= goal, f"{path} is {height} px tall at 1280 px (goal: {goal})"
        findings = page.locator("section.report-findings")
        expect(findings.get_by_role("heading", name="Findings")).to_be_in_viewport()
        assert findings.locator("li").count() >= 3
        assert findings.bounding_box()["y"] < 900  # type: ignore[index]
        assert page.evaluate(SIDEWAYS) <= 0

    # Coverage: the first finding leads to its details; the map comes before the folds.
    visitor.goto("/network/coverage/")
    page.locator("section.report-findings li a").first.click()
    visitor.audit()  # the same document, at its anchor
    target = page.evaluate("location.hash")
    assert target in ("#gaps-heading", "#priority-heading")
    expect(page.locator(target)).to_be_in_viewport()
    expect(page.get_by_role("img", name="World map of the network's presence")).to_be_visible()
    assert page.locator("details.report-fold:not([open]) > summary").count() >= 5  # a fold a region

    # Activity: a region opened, the verdict is in view without scrolling sideways.
    visitor.goto("/network/activity/")
    europe = page.locator("section:has(#cadence-heading) details.report-fold").first
    europe.locator("summary").click()
    verdict = europe.get_by_role("columnheader", name="Verdict")
    verdict.scroll_into_view_if_needed()
    box = verdict.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280
    region = europe.locator(".table-wrap")
    assert region.evaluate("el => el.scrollLeft") == 0
    first_cell = europe.locator("tbody tr").first.locator("td").first  # the verdict, right after the channel
    assert (first_cell.get_attribute("class") or "").startswith("verdict-")
    expect(first_cell).to_be_in_viewport()
    visitor.audit()


def test_on_a_phone_the_reports_never_scroll_sideways_and_speak_french(
    new_visitor: Callable[[], Visitor], demo
):
    visitor = new_visitor()
    page = visitor.page
    page.set_viewport_size({"width": 390, "height": 844})
    visitor.log_in(CENTRAL, PASSWORD)

    for path in GOALS:
        visitor.goto(path)
        assert page.evaluate(SIDEWAYS) <= 0, f"{path} scrolls sideways on a phone"
        open_every_fold(visitor)
        assert page.evaluate(SIDEWAYS) <= 0, f"{path} scrolls sideways on a phone, its folds open"
        # Every wide table scrolls in its own region, which a keyboard reaches and a screen
        # reader names.
        for region in page.locator(".table-wrap").all():
            assert region.get_attribute("role") == "region"
            assert region.get_attribute("tabindex") == "0"
            assert region.get_attribute("aria-labelledby")
        visitor.audit()  # the folds open too

    # In French (the seed takes a minute: one test for both), the map's tooltips are French.
    User.objects.filter(email=CENTRAL).update(language="fr")
    visitor.goto("/network/coverage/")
    titles = page.locator("svg.map path title").all_text_contents()
    assert any(title.startswith("Allemagne") for title in titles)
    assert "Germany" not in " ".join(titles)
    assert page.evaluate(SIDEWAYS) <= 0
