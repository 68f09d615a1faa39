"""Filters on a phone and at a desk: the folded bar, pickers by keyboard, chips, saved filters.

A central reviewer opens the calendar's agenda: the filters are one "Filters" toggle. She opens
it from the keyboard, picks Türkiye and the Istanbul consulate by typing their names (and takes
a country off again with Backspace), chooses a status, applies: the agenda narrows, each filter
is a chip, the toggle counts them. Opened again without filters, the calendar shows them again;
a chip takes one off, "Clear all" forgets them. At 390 x 844 and at 1280 x 900, every page (the
panel open and closed) passes axe, and the page never scrolls sideways.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from playwright.sync_api import expect

from calendar_app.models import FilteredPage, SavedFilter
from tests.browser.picking import chosen, pick, picker
from tests.calendar_factories import make_publication
from tests.factories import PASSWORD, make_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

SIZES = {"phone": (390, 844), "desk": (1280, 900)}
DAY = date.today() + timedelta(days=1)


@pytest.fixture
def agenda(istanbul, ankara, editor):
    tokyo = make_post(
        code="be-emb-tokyo",
        name="Embassy of Belgium in Tokyo",
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
    )
    for post, title in (
        (istanbul, "Istanbul open day"),
        (ankara, "Ankara trade week"),
        (tokyo, "Tokyo relay"),
    ):
        make_publication(
            post=post, author=editor, title=title, status="approved", local_date=DAY, local_time=time(10)
        )
    make_publication(
        post=istanbul,
        author=editor,
        title="Istanbul archive",
        status="published",
        local_date=DAY,
        local_time=time(12),
    )


def no_sideways_scroll(page) -> None:
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")


def agenda_titles(page) -> list[str]:
    return page.locator("main .agenda-item:visible a.pub-title").all_inner_texts()


@pytest.mark.parametrize("size", list(SIZES))
def test_filters_fold_into_one_bar_are_picked_by_keyboard_shown_as_chips_and_remembered(
    visitor, reviewer, agenda, size
):
    width, height = SIZES[size]
    page = visitor.page
    page.set_viewport_size({"width": width, "height": height})
    visitor.log_in(reviewer.email)
    visitor.goto(f"/calendar/?view=agenda&date={DAY.isoformat()}&tz=UTC")
    toggle = page.locator("details.filter-panel > summary")
    expect(toggle).to_have_text("Filters")
    expect(picker(page, "Posts")).to_be_hidden()
    expect(page.locator(".filter-chips")).to_have_count(0)
    no_sideways_scroll(page)

    # --- Open the panel and choose, all by keyboard ------------------------------------------------
    toggle.focus()
    page.keyboard.press("Enter")
    expect(picker(page, "Posts")).to_be_visible()
    visitor.audit()  # the open panel, pickers and all
    no_sideways_scroll(page)
    pick(page, "Countries", "Türk", "Japa")
    countries = picker(page, "Countries")
    countries.focus()
    countries.press("Backspace")  # takes the last one off: Japan
    assert chosen(page, "country") == ["TR"]
    pick(page, "Posts", "Istanbul")
    assert chosen(page, "post") == ["be-cg-istanbul"]
    page.get_by_label("Status").select_option("approved")
    apply = page.locator("#calendar-filters").get_by_role("button", name="Apply")
    apply.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    visitor.audit()
    assert agenda_titles(page) == ["Istanbul open day"]
    chips = page.locator(".filter-chips a.chip")
    expect(chips).to_have_text(
        [
            "Remove the filter Posts: Consulate-General of Belgium in Istanbul×",
            "Remove the filter Countries: Türkiye×",
            "Remove the filter Status: Approved×",
        ]
    )
    expect(toggle).to_contain_text("Filters (3)")
    no_sideways_scroll(page)
    assert SavedFilter.objects.get(user=reviewer, page=FilteredPage.CALENDAR).query == {
        "post": ["be-cg-istanbul"],
        "country": ["TR"],
        "status": ["approved"],
    }

    # --- Opened again without filters: the same ones -------------------------------------------------
    visitor.goto(f"/calendar/?view=agenda&date={DAY.isoformat()}")
    expect(page.locator(".filter-saved")).to_contain_text("These are the filters you used last time.")
    expect(chips).to_have_count(3)
    assert agenda_titles(page) == ["Istanbul open day"]

    # --- A chip takes one filter off; "Clear all" forgets them ------------------------------------
    chips.filter(has_text="Status").click()
    visitor.audit()
    expect(chips).to_have_count(2)
    assert sorted(agenda_titles(page)) == ["Istanbul archive", "Istanbul open day"]
    page.locator(".filter-chips").get_by_role("link", name="Clear all").click()
    visitor.audit()
    expect(page.locator(".filter-chips")).to_have_count(0)
    assert sorted(agenda_titles(page)) == [
        "Ankara trade week",
        "Istanbul archive",
        "Istanbul open day",
        "Tokyo relay",
    ]
    assert not SavedFilter.objects.filter(user=reviewer).exists()

    # --- The queue has the same bar -----------------------------------------------------------------
    visitor.goto("/approvals/?country=JP")
    expect(page.locator(".filter-chips a.chip")).to_have_text(["Remove the filter Countries: Japan×"])
    page.locator("details.filter-panel > summary").click()
    expect(picker(page, "Countries")).to_be_visible()
    visitor.audit()
    no_sideways_scroll(page)


def test_without_javascript_the_pickers_are_plain_multiple_selects(browser, live_server, reviewer, agenda):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator('input[name="login"]').fill(reviewer.email)
    page.locator('input[name="password"]').fill(PASSWORD)
    with page.expect_navigation():
        page.locator('input[name="password"]').press("Enter")
    page.goto(f"{live_server.url}/calendar/?view=agenda&date={DAY.isoformat()}")
    page.locator("details.filter-panel > summary").click()
    page.get_by_label("Countries").select_option(["JP"])
    with page.expect_navigation():
        page.locator("#calendar-filters").get_by_role("button", name="Apply").click()
    assert agenda_titles(page) == ["Tokyo relay"]
    expect(page.locator(".filter-chips a.chip")).to_have_text(["Remove the filter Countries: Japan×"])
    context.close()
