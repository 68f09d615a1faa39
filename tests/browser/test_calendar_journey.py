"""A post editor plans a publication and finds it on the calendar; central sees it too.

The Istanbul editor writes a publication in English and Turkish for the post's
Facebook page and X account, ten days ahead at 09:00 Istanbul time, with a photo;
checks the preview; drags it to another day on the month calendar, and moves it
again with the keyboard-friendly "Move" form; subscribes to the calendar feed. A
central reviewer sees it on the network-wide calendar. Every page passes the
accessibility check, and no script or CSP error occurs on the way.
"""

from __future__ import annotations

import re
import urllib.request
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from PIL import Image
from playwright.sync_api import expect

from calendar_app.models import Publication
from diplomacy.formats import format_date, format_when
from diplomacy.models import Role
from tests.browser.browsing import LiveCheck, text_field
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

ISTANBUL = zoneinfo.ZoneInfo("Europe/Istanbul")
TITLE = "Europalia week: Belgian comics in Istanbul"
ENGLISH = "Belgian comics come to Istanbul! Join us at the Europalia week. https://example.org/europalia"
TURKISH = "Belçika çizgi romanları İstanbul'da! Europalia haftasında bize katılın."
ANKARA_TITLE = "Ankara draft: trade mission"


@pytest.fixture
def channels(istanbul):
    return {
        "facebook": make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul"),
        "x": make_channel(post=istanbul, platform="x", handle="@BelgiumInIst"),
    }


@pytest.fixture
def days() -> dict[str, date]:
    """Ten days ahead in Istanbul, and two other days of the same month to move to."""
    planned = datetime.now(ISTANBUL).date() + timedelta(days=10)
    step = timedelta(days=-1 if planned.day > 2 else 1)
    dragged, moved = planned + 2 * step, planned + step
    return {"planned": planned, "dragged": dragged, "moved": moved}


@pytest.fixture
def ankara_draft(ankara, days):
    """Another post's draft: central sees it on the calendar, the Istanbul editor does not."""
    author = make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)
    channel = make_channel(post=ankara, platform="facebook", handle="@Belgium.Ankara")
    return make_publication(
        post=ankara,
        author=author,
        title=ANKARA_TITLE,
        local_date=days["dragged"],
        local_time=time(11, 0),
        channels=[channel],
    )


@pytest.fixture
def photo(tmp_path):
    """A small JPEG, as a phone would give one."""
    path = tmp_path / "comics.jpg"
    image = Image.new("RGB", (640, 400))
    image.putdata([(x % 256, (x * y) % 256, y % 256) for y in range(400) for x in range(640)])
    image.save(path, "JPEG", quality=85)
    return path


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def counts_of(page, language: str):
    return page.locator(f"#counts-id_variant_{language} li")


def month_url(day: date) -> str:
    return f"/calendar/?view=month&date={day.isoformat()}"


def pub_in_cell(page, day: date, title: str):
    return page.locator(f'td[data-date="{day.isoformat()}"] li.pub', has_text=title)


def write_publication(visitor, check: LiveCheck, photo, planned: date) -> None:
    page = visitor.page
    page.get_by_label("Internal title").fill(TITLE)
    page.get_by_label("Facebook @Belgium.Istanbul").check()
    page.get_by_label("X @BelgiumInIst").check()
    text_field(page, "English").fill(ENGLISH)
    text_field(page, "Turkish").fill(TURKISH)
    page.get_by_label(re.compile(r"^Date\b")).fill(planned.isoformat())
    page.get_by_label(re.compile(r"^Time\b")).fill("09:00")
    page.get_by_label("Add an image").set_input_files(photo)
    page.get_by_label("Image description (alt text) in English").fill("A comic strip drawn in Brussels")
    page.get_by_label("Image description (alt text) in Turkish").fill("Brüksel'de çizilmiş bir çizgi roman")
    check.settle()
    expect(page.locator(".live-check #check-results")).to_be_visible()
    visitor.audit()


def test_the_live_counter_follows_the_text_and_the_ticked_channels(visitor, editor, istanbul, channels):
    # Both channels publish English only (their content languages), each in one post.
    visitor.log_in(editor.email)
    page = visitor.page
    check = LiveCheck(page)
    visitor.goto("/publications/new/")
    english = text_field(page, "English")

    # No channel ticked: nothing to count against.
    expect(counts_of(page, "en")).to_have_count(0)
    page.get_by_label("X @BelgiumInIst").check()
    expect(counts_of(page, "en")).to_have_text(["X @BelgiumInIst: 0 / 280"])

    english.press_sequentially("Merhaba 👋🏽")
    # X: 8 characters of weight 1, one emoji with a skin tone of weight 2.
    expect(counts_of(page, "en")).to_have_text(["X @BelgiumInIst: 10 / 280"])
    english.press_sequentially(" https://example.org/" + "a" * 60)
    expect(counts_of(page, "en")).to_have_text(["X @BelgiumInIst: 34 / 280"])

    page.get_by_label("Facebook @Belgium.Istanbul").check()
    # Facebook counts code points, the link in full: 8 + 2 (emoji and skin tone) + 1 + 80.
    expect(counts_of(page, "en")).to_have_text(
        ["Facebook @Belgium.Istanbul: 91 / 63206", "X @BelgiumInIst: 34 / 280"]
    )
    page.get_by_label("X @BelgiumInIst").uncheck()
    expect(counts_of(page, "en")).to_have_text(["Facebook @Belgium.Istanbul: 91 / 63206"])
    # Every language's list follows the channels, not only the one being typed in; a
    # language the channel does not publish is said so, not counted.
    expect(counts_of(page, "tr")).to_have_text(["Facebook @Belgium.Istanbul: does not publish this language"])

    page.get_by_label("X @BelgiumInIst").check()
    english.fill("日" * 141)
    expect(counts_of(page, "en")).to_have_text(
        ["Facebook @Belgium.Istanbul: 141 / 63206", "X @BelgiumInIst: 282 / 280 (2 too many)"]
    )
    expect(counts_of(page, "en").last).to_have_class("over")
    check.settle()
    visitor.audit()


def test_an_editor_plans_moves_and_subscribes_and_central_sees_it(
    visitor, new_visitor, editor, reviewer, istanbul, channels, ankara_draft, days, photo
):
    planned, dragged, moved = days["planned"], days["dragged"], days["moved"]
    visitor.log_in(editor.email)
    page = visitor.page
    check = LiveCheck(page)

    # --- Plan it -------------------------------------------------------------------
    visitor.goto("/publications/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Plan a publication for {istanbul.name}")
    write_publication(visitor, check, photo, planned)
    visitor.submit("main form.editor")
    check.settle(typed=False)  # the publication page checks its editor's content on load

    publication = Publication.objects.get(title=TITLE)
    assert visitor.path == f"/publications/{publication.pk}/"
    expect(page.locator(".messages")).to_contain_text("Publication saved as a draft.")
    assert (publication.local_date, publication.local_time) == (planned, time(9, 0))
    assert publication.timezone == "Europe/Istanbul"
    assert publication.scheduled_at == datetime.combine(planned, time(9, 0), ISTANBUL)
    assert {c.platform for c in publication.channels.all()} == {"facebook", "x"}
    assert {v.language: v.text for v in publication.variants.all()} == {"en": ENGLISH, "tr": TURKISH}

    # --- The publication page: when, and what each channel sends -----------------------
    when = page.locator("dl.facts dt", has_text="When").locator("xpath=following-sibling::dd[1]")
    expect(when).to_contain_text("09:00 Istanbul (UTC+3)")
    expect(page.locator("dd.status-draft")).to_contain_text("Draft")
    sends = page.locator("section:has(#preview-heading) li.sent")
    expect(sends).to_have_count(2)
    # Both channels publish English only: one post each, the Turkish text not sent there.
    for platform, handle in (("facebook", "@Belgium.Istanbul"), ("x", "@BelgiumInIst")):
        sent = page.locator(f"section:has(#preview-heading) li.sent-{platform}")
        expect(sent.locator(".sent-head")).to_contain_text(handle)
        expect(sent.locator('p.part-text[lang="en"]')).to_have_text(ENGLISH)
        expect(sent.locator(".left-out")).to_have_text("Not sent on this channel: Turkish (tr)")
    x_post = page.locator("section:has(#preview-heading) li.sent-x li.part")
    expect(x_post.locator(".part-count")).to_have_text("87 / 280 characters")  # the link counts 23 on X
    image = page.locator("section:has(#preview-heading) li.sent-facebook img.preview-image")
    # The English post carries the image with its English description.
    expect(image).to_have_attribute("alt", "A comic strip drawn in Brussels")
    expect(x_post.locator("img.preview-image")).to_have_attribute("alt", "A comic strip drawn in Brussels")
    # The image really arrives (served by the asset view, to this logged-in editor).
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())

    # --- On the month calendar, on its day, at 09:00 ------------------------------------
    visitor.goto(month_url(planned))
    item = pub_in_cell(page, planned, TITLE)
    expect(item).to_have_count(1)
    expect(item.locator(".pub-time")).to_have_text("09:00")
    expect(item).to_have_attribute("draggable", "true")
    # Another post's draft is not the Istanbul editor's business.
    expect(page.locator("li.pub", has_text=ANKARA_TITLE)).to_have_count(0)

    # --- Drag it to another day ----------------------------------------------------------
    with page.expect_navigation():  # calendar.js reloads the page after a successful move
        item.drag_to(page.locator(f'td[data-date="{dragged.isoformat()}"]'))
        expect(page.locator("#calendar-status")).to_have_text(
            f"Moved to {format_when(dragged, time(9), 'Europe/Istanbul')}."
        )
    visitor.audit()
    expect(pub_in_cell(page, dragged, TITLE)).to_have_count(1)
    expect(pub_in_cell(page, dragged, TITLE).locator(".pub-time")).to_have_text("09:00")
    expect(pub_in_cell(page, planned, TITLE)).to_have_count(0)
    publication.refresh_from_db()
    assert (publication.local_date, publication.local_time) == (dragged, time(9, 0))
    assert publication.scheduled_at == datetime.combine(dragged, time(9, 0), ISTANBUL)
    assert publication.events.filter(verb="rescheduled").count() == 1

    # --- The calendar feed ------------------------------------------------------------------
    expect(page.locator("#feed-url")).to_have_count(0)
    visitor.submit('section.feed form:has(button:text-is("Create my feed address"))')
    expect(page.locator(".messages")).to_contain_text("Your calendar feed has a new address.")
    feed_url = page.get_by_label("Feed address").input_value()
    assert feed_url.startswith(visitor.base_url + "/feeds/")
    # The calendar shows the editor's own post by default: the feed says so too.
    assert feed_url.endswith(f".ics?post={istanbul.code}")
    # A calendar application has no session: fetch it without the browser's cookies.
    with urllib.request.urlopen(feed_url, timeout=10) as response:  # noqa: S310 - the live server
        assert response.headers["Content-Type"].startswith("text/calendar")
        feed = Calendar.from_ical(response.read())
    events = {str(event["UID"]): event for event in feed.walk("VEVENT")}
    uid = f"publication-{publication.pk}@content-calendar"
    assert uid in events, f"{uid} not in the feed: {sorted(events)}"
    event = events[uid]
    assert TITLE in str(event["SUMMARY"])
    assert event.decoded("DTSTART") == datetime.combine(dragged, time(9, 0), ISTANBUL).astimezone(UTC)
    assert f"/publications/{publication.pk}/" in str(event["URL"])
    assert not any(ANKARA_TITLE in str(e["SUMMARY"]) for e in events.values())

    # --- The keyboard alternative: the "Move" form on the publication page -------------------
    visitor.goto(f"/publications/{publication.pk}/")
    check.settle(typed=False)
    page.locator("#reschedule-heading").click()  # the form is folded until opened
    move = page.locator("section:has(#reschedule-heading) form")
    move.locator('input[name="local_date"]').fill(moved.isoformat())
    move.locator('input[name="local_time"]').fill("10:30")
    with page.expect_navigation():
        move.locator('input[name="local_time"]').press("Enter")
    check.settle(typed=False)
    visitor.audit()
    assert visitor.path == f"/publications/{publication.pk}/"
    expect(page.locator(".messages")).to_contain_text(
        f"Moved to {format_when(moved, time(10, 30), 'Europe/Istanbul')}."
    )
    expect(when).to_contain_text("10:30 Istanbul (UTC+3)")
    publication.refresh_from_db()
    assert (publication.local_date, publication.local_time) == (moved, time(10, 30))
    expect(page.locator("ol.history")).to_contain_text(
        f"moved it from {format_date(dragged)}, 09:00 to {format_date(moved)}, 10:30"
    )

    # --- Central sees the whole network, drafts included --------------------------------------
    central = new_visitor()
    central.log_in(reviewer.email)
    central.goto(month_url(moved))
    expect(pub_in_cell(central.page, moved, TITLE)).to_have_count(1)
    expect(pub_in_cell(central.page, moved, TITLE).locator(".pub-post")).to_have_text("Istanbul")
    ankara_item = pub_in_cell(central.page, dragged, ANKARA_TITLE)
    expect(ankara_item).to_have_count(1)
    expect(ankara_item.locator(".pub-status")).to_contain_text("Draft")
    expect(ankara_item.locator(".pub-post")).to_have_text("Ankara")


def test_the_move_and_duplicate_fields_have_their_own_labels(visitor, editor, istanbul, channels, days):
    publication = make_publication(
        post=istanbul, author=editor, local_date=days["planned"], channels=[channels["x"]]
    )
    visitor.log_in(editor.email)
    page = visitor.page
    check = LiveCheck(page)
    visitor.goto(f"/publications/{publication.pk}/")
    check.settle(typed=False)

    duplicated = page.evaluate(
        """() => { const seen = {}; document.querySelectorAll("[id]").forEach(
             (e) => { seen[e.id] = (seen[e.id] || 0) + 1; });
           return Object.keys(seen).filter((id) => seen[id] > 1); }"""
    )
    move = page.locator("section:has(#reschedule-heading) form")
    copy = page.locator("section:has(#duplicate-heading) form")
    labelled = {
        "New date": move.get_by_label("New date").count(),
        "New time": move.get_by_label("New time").count(),
        "Date of the copy": copy.get_by_label("Date of the copy").count(),
        "Time of the copy": copy.get_by_label("Time of the copy").count(),
    }
    assert duplicated == [], f"ids used more than once: {duplicated}"
    assert labelled == dict.fromkeys(labelled, 1)
