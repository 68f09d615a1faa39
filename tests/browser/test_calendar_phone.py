"""The calendar from a phone and from the keyboard, at 390 x 844 and 1280 x 900.

The Istanbul editor opens the calendar on a phone: the agenda of the post's coming days,
a way back to the grid that stays picked; the header's menu opens and closes by keyboard;
an entry is moved from the month grid with a handful of keys; a drop the server refuses
says why, and only a real network failure says the server could not be reached. Every
page passes axe at both sizes, the page never scrolls sideways, and no word of an entry
is broken across lines.
"""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from calendar_app.models import Publication
from diplomacy.formats import format_when
from diplomacy.models import Membership, Role
from tests.calendar_factories import make_publication
from tests.factories import PASSWORD, make_channel, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

ISTANBUL = zoneinfo.ZoneInfo("Europe/Istanbul")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])

#: Each word of each entry's text whose Range spans more than one line box.
BROKEN_WORDS = """
(selector) => {
  const broken = [];
  for (const root of document.querySelectorAll(selector)) {
    if (!root.offsetParent) continue;  // not shown at this width
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (node.parentElement.closest(".visually-hidden")) continue;
      const text = node.textContent;
      const pattern = /\\S+/g;
      let match;
      while ((match = pattern.exec(text))) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const rects = Array.from(range.getClientRects()).filter((r) => r.width > 0);
        const lines = new Set(rects.map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0]);
      }
    }
  }
  return broken;
}
"""


def tomorrow() -> date:
    return datetime.now(ISTANBUL).date() + timedelta(days=1)


def mid_month_ahead() -> date:
    """The 10th of a month about two months ahead, never December: one step up of a date
    field's first part (the day or the month, as the browser's locale orders them) stays
    ahead and valid, with no wrap-around to the past."""
    ahead = datetime.now(ISTANBUL).date() + timedelta(days=60)
    return date(ahead.year + 1, 1, 10) if ahead.month == 12 else ahead.replace(day=10)


@pytest.fixture
def ankara_editor(ankara):
    return make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)


@pytest.fixture
def entries(istanbul, ankara, editor, ankara_editor):
    """Istanbul's draft (the editor's to move), and Ankara's approved publication (not theirs)."""
    facebook = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    instagram = make_channel(post=istanbul, platform="instagram", handle="@belgiuministanbul")
    ankara_channel = make_channel(post=ankara, platform="linkedin", handle="Belgium in Türkiye")
    return {
        "own": make_publication(
            post=istanbul,
            author=editor,
            title="Published by the Consulate: Flemish cleantech mission",
            local_date=tomorrow(),
            local_time=time(10, 0),
            channels=[facebook, instagram],
        ),
        "foreign": make_publication(
            post=ankara,
            author=ankara_editor,
            title="Ankara's approved announcement",
            status="approved",
            local_date=tomorrow(),
            local_time=time(11, 0),
            channels=[ankara_channel],
        ),
    }


def at(visitor, size: dict) -> None:
    visitor.page.set_viewport_size(size)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width}px"


def no_broken_words(page, selector: str = ".calendar-panel .pub") -> None:
    assert page.evaluate(BROKEN_WORDS, selector) == []


@SIZES
def test_each_calendar_view_is_accessible_readable_and_never_scrolls_sideways(visitor, editor, entries, size):
    visitor.log_in(editor.email)
    at(visitor, size)
    page = visitor.page
    for view in ("month", "week", "agenda"):
        visitor.goto(f"/calendar/?view={view}&scope=network&date={entries['own'].local_date.isoformat()}")
        visitor.audit()  # at this size
        expect(page.locator(".calendar-panel .pub", has_text="Flemish cleantech").first).to_be_visible()
        no_sideways_scroll(page)
        no_broken_words(page)


def test_on_a_phone_the_calendar_opens_on_the_posts_agenda_and_the_grid_stays_picked(
    visitor, editor, entries
):
    visitor.log_in(editor.email)
    at(visitor, PHONE)
    page = visitor.page
    visitor.goto("/calendar/")

    agenda = page.locator(".calendar-panel:visible")
    expect(agenda).to_have_count(1)
    expect(agenda.locator("section.agenda")).to_be_visible()
    expect(agenda.locator(".agenda-item", has_text="Flemish cleantech")).to_be_visible()
    # The post's own agenda: Ankara's publication is one tap away.
    expect(page.locator(".agenda-item", has_text="Ankara")).to_have_count(0)
    expect(page.locator(".calendar-scope")).to_contain_text("Istanbul only")
    no_sideways_scroll(page)
    no_broken_words(page)

    # The first screen shows the calendar's own controls, not only the header.
    views = page.get_by_role("navigation", name="Calendar views").filter(visible=True)
    assert views.bounding_box()["y"] < PHONE["height"]
    expect(views.get_by_role("link", name="Agenda")).to_have_attribute("aria-current", "page")

    with page.expect_navigation():
        views.get_by_role("link", name="Month").click()
    visitor.audit()
    expect(page.locator("table.month-grid")).to_be_visible()
    no_sideways_scroll(page)  # the grid scrolls inside its own region
    region = page.get_by_role("region", name=page.locator("#month-caption").inner_text())
    expect(region).to_have_attribute("tabindex", "0")

    # The grid stays picked for the browser session, without the view in the address.
    visitor.goto("/calendar/")
    expect(page.locator("table.month-grid")).to_be_visible()
    expect(page.locator("section.agenda")).to_have_count(0)

    visitor.goto(f"/calendar/?date={entries['own'].local_date.isoformat()}")
    with page.expect_navigation():
        page.locator(".calendar-scope").get_by_role("link", name="Show the whole network").click()
    visitor.audit()
    expect(page.locator(".pub", has_text="Ankara's approved announcement")).to_have_count(1)


def test_on_a_wide_screen_the_calendar_opens_on_the_month_grid(visitor, reviewer, entries):
    visitor.log_in(reviewer.email)
    page = visitor.page
    visitor.goto(f"/calendar/?date={entries['own'].local_date.isoformat()}")
    expect(page.locator("table.month-grid")).to_be_visible()
    expect(page.locator("section.agenda")).to_be_hidden()
    expect(page.locator("table.month-grid .pub", has_text="Ankara's approved announcement")).to_be_visible()


def test_the_header_menu_opens_and_closes_by_keyboard_on_a_phone(visitor, editor, entries):
    visitor.log_in(editor.email)
    at(visitor, PHONE)
    page = visitor.page
    visitor.goto("/calendar/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_hidden()
    header = page.locator(".site-header")
    assert header.bounding_box()["height"] < 80, "one compact bar"

    toggle = page.locator("#site-menu > summary")
    page.keyboard.press("Tab")  # the skip link
    presses = 1
    while not toggle.evaluate("(node) => node === document.activeElement"):
        page.keyboard.press("Tab")
        presses += 1
        assert presses < 6, "the menu is among the first things the keyboard reaches"
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Calendar")).to_have_attribute("aria-current", "page")
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Home")).to_be_focused()
    visitor.audit()  # with the menu open
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_be_focused()


def test_on_a_wide_screen_the_header_is_one_bar_with_the_links_shown(visitor, reviewer):
    visitor.log_in(reviewer.email)
    page = visitor.page
    visitor.goto("/calendar/")
    expect(page.locator("#site-menu > summary")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Approvals")).to_be_visible()
    assert page.locator(".site-header").bounding_box()["height"] < 80
    # The account's pages and the language are folded into one menu.
    expect(page.get_by_role("link", name="Sessions")).to_be_hidden()
    page.locator(".account-menu > summary").click()
    expect(page.get_by_role("link", name="Sessions")).to_be_visible()
    expect(page.locator("#language-select")).to_be_visible()


@SIZES
def test_an_entry_is_moved_from_the_calendar_in_a_few_key_presses(visitor, editor, entries, size):
    own = entries["own"]
    Publication.objects.filter(pk=own.pk).update(local_date=mid_month_ahead())
    own.refresh_from_db()
    visitor.log_in(editor.email)
    at(visitor, size)
    page = visitor.page
    view = "agenda" if size is PHONE else "month"
    visitor.goto(f"/calendar/?view={view}&date={own.local_date.isoformat()}")
    entry = page.locator(".calendar-panel .pub", has_text=own.title)
    entry.locator("a.pub-link, a.pub-title").first.focus()

    presses = ["Tab", "Enter"]  # to "Move", and open its form in place
    for key in presses:
        page.keyboard.press(key)
    new_date = entry.get_by_label("New date")
    expect(new_date).to_be_focused()
    expect(entry.get_by_text("Local time in Istanbul (UTC+3).")).to_be_visible()
    visitor.audit()  # the form in place
    page.keyboard.press("ArrowUp")  # one step later (a day, or a month, as the browser orders its fields)
    presses.append("ArrowUp")
    chosen = date.fromisoformat(new_date.input_value())
    assert chosen != own.local_date
    with page.expect_navigation():
        page.keyboard.press("Enter")
    presses.append("Enter")
    visitor.audit()

    assert len(presses) <= 10
    expect(page.locator(".messages")).to_contain_text(
        f"Moved to {format_when(chosen, time(10), 'Europe/Istanbul')}."
    )
    own.refresh_from_db()
    assert (own.local_date, own.local_time) == (chosen, time(10, 0))


def test_a_move_to_the_past_is_refused_next_to_the_field(visitor, editor, entries):
    own = entries["own"]
    visitor.log_in(editor.email)
    page = visitor.page
    visitor.goto(f"/calendar/?view=month&date={own.local_date.isoformat()}")
    entry = page.locator(".calendar-panel .pub", has_text=own.title)
    entry.get_by_role("link", name=f"Move: {own.title}").click()
    form = entry.locator("form.move-form")
    yesterday = datetime.now(ISTANBUL).date() - timedelta(days=1)
    form.get_by_label("New date").fill(yesterday.isoformat())
    form.get_by_role("button", name="Move").click()
    expect(form.locator(".errorlist")).to_contain_text("This time has already passed in Istanbul (UTC+3).")
    expect(form.get_by_label("New time")).to_be_focused()
    visitor.audit()
    form.get_by_role("link", name="Cancel").click()
    expect(entry.locator("form.move-form")).to_have_count(0)
    expect(entry.get_by_role("link", name=f"Move: {own.title}")).to_be_visible()
    own.refresh_from_db()
    assert own.local_date == tomorrow()


def test_only_movable_entries_are_draggable_and_a_refused_drop_says_why(visitor, editor, entries, ankara):
    own, foreign = entries["own"], entries["foreign"]
    visitor.log_in(editor.email)
    page = visitor.page
    visitor.goto(f"/calendar/?view=month&scope=network&date={own.local_date.isoformat()}")
    status = page.locator("#calendar-status")
    expect(page.locator(".pub", has_text=foreign.title)).not_to_have_attribute("draggable", "true")
    expect(page.locator(".pub", has_text=foreign.title).get_by_role("link", name="Move")).to_have_count(0)
    item = page.locator(".pub", has_text=own.title)
    expect(item).to_have_attribute("draggable", "true")
    target = page.locator(f'td[data-date="{(own.local_date + timedelta(days=1)).isoformat()}"]')
    if not target.count():
        target = page.locator(f'td[data-date="{(own.local_date - timedelta(days=1)).isoformat()}"]')

    # Someone else changed it since the page was drawn: 409.
    Publication.objects.filter(pk=own.pk).update(revision=own.revision + 1)
    item.drag_to(target)
    expect(status).to_have_text("Someone else changed this publication meanwhile. Reload and try again.")
    expect(status).to_have_class("drag-status error")

    # The editor moved to another post meanwhile: Istanbul's publication is not theirs now.
    Publication.objects.filter(pk=own.pk).update(revision=own.revision, status="approved")
    Membership.objects.filter(user=editor).update(post=ankara)
    item.drag_to(target)
    expect(status).to_have_text("You may not move publications of another post.")

    # Only a real network failure says the server could not be reached.
    page.route("**/reschedule/", lambda route: route.abort("connectionfailed"))
    item.drag_to(target)
    expect(status).to_have_text("The server could not be reached. Nothing was changed.")
    own.refresh_from_db()
    assert own.events.filter(verb="rescheduled").count() == 0


def test_a_drop_on_an_hour_of_the_week_sets_that_hour(visitor, editor, entries):
    own = entries["own"]
    visitor.log_in(editor.email)
    page = visitor.page
    visitor.goto(f"/calendar/?view=week&date={own.local_date.isoformat()}")
    item = page.locator(".pub", has_text=own.title)
    target = page.locator(f'td[data-date="{own.local_date.isoformat()}"][data-time="14:00"]')
    with page.expect_navigation():
        item.drag_to(target)
        expect(page.locator("#calendar-status")).to_have_text(
            f"Moved to {format_when(own.local_date, time(14), 'Europe/Istanbul')}."
        )
    visitor.audit()
    own.refresh_from_db()
    assert own.local_time == time(14, 0)


def test_without_javascript_the_move_control_opens_a_small_page_and_comes_back(
    visitor, browser, live_server, editor, entries
):
    own = entries["own"]
    move_page = f"/publications/{own.pk}/move/"
    # The page itself, checked with axe (which needs JavaScript) at both sizes.
    visitor.log_in(editor.email)
    for size in (PHONE, DESKTOP):
        at(visitor, size)
        visitor.goto(move_page)

    # The same editor with JavaScript off: the "Move" link is a page, and it comes back.
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, viewport=PHONE)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator('input[name="login"]').fill(editor.email)
    page.locator('input[name="password"]').fill(PASSWORD)
    with page.expect_navigation():
        page.locator('form:has(input[name="login"]) button[type="submit"]').click()
    calendar = f"/calendar/?view=agenda&date={own.local_date.isoformat()}"
    page.goto(calendar)
    no_sideways_scroll(page)
    with page.expect_navigation():
        page.get_by_role("link", name=f"Move: {own.title}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Move a publication")
    later = own.local_date + timedelta(days=2)
    page.get_by_label("New date").fill(later.isoformat())
    with page.expect_navigation():
        page.locator("form.move-form button[type=submit]").click()
    assert page.url.endswith(calendar)
    expect(page.locator(".messages")).to_contain_text(
        f"Moved to {format_when(later, time(10), 'Europe/Istanbul')}."
    )
    context.close()
