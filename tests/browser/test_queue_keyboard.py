"""The approval queue at a desk and on a phone.

A central reviewer works twenty publications from five posts by keyboard: `j`/`k` move
between items, `a` approves the focused one, `r` puts the cursor in its comment to
request changes; each decision is swapped in place, the focus lands on the next item and
the outcome is announced in the page's status region. The letters typed in a field stay
in the field. Twenty items fit in 3,000 px at 1280 px. Every page passes axe at
1280 x 900 and 390 x 844, with no horizontal scroll on the phone.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from calendar_app import workflow
from calendar_app.models import Publication, PublicationStatus
from diplomacy.models import Role
from tests.browser.accessibility import assert_accessible
from tests.calendar_factories import make_publication
from tests.factories import PASSWORD, make_channel, make_post, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 900}

#: Texts as long as the demo's (about 100 to 150 characters), in the four languages a
#: post in Türkiye publishes in.
TEXTS = {
    "nl": "Ons team in {city} ontmoette vandaag partners om de banden tussen België en het gastland "
    "te versterken.",
    "fr": "Notre équipe à {city} a rencontré des partenaires aujourd'hui pour renforcer les liens "
    "entre la Belgique et le pays hôte.",
    "en": "Our team in {city} met partners today to strengthen the ties between Belgium and the host "
    "country.",
    "tr": "{city} ekibimiz bugün Belçika ile ev sahibi ülke arasındaki bağları güçlendirmek için "
    "ortaklarla görüştü.",
}
CITIES = ["Istanbul", "Ankara", "Izmir", "Antalya", "Bursa"]


@pytest.fixture
def queue(editor, istanbul) -> list[Publication]:
    """Twenty publications in review, four from each of five posts, on two or three
    platforms each, due in the coming weeks, soonest first."""
    posts = [istanbul] + [
        make_post(code=f"be-cons-{city.lower()}", name=f"Consulate of Belgium in {city}", city=city)
        for city in CITIES[1:]
    ]
    editors = {istanbul.pk: editor} | {
        post.pk: make_user(role=Role.POST_EDITOR, post=post) for post in posts if post != istanbul
    }
    made = []
    start = datetime.now(zoneinfo.ZoneInfo("Europe/Istanbul")).date() + timedelta(days=10)
    for index in range(20):
        post = posts[index % len(posts)]
        channels = list(post.channels.all()) or [
            make_channel(post=post, platform="facebook", handle=f"@Belgium.{post.city}"),
            make_channel(post=post, platform="x", handle=f"@BelgiumIn{post.city}"),
        ]
        publication = make_publication(
            post=post,
            author=editors[post.pk],
            title=f"Trade and investment news – {post.city} {index + 1}",
            local_date=start + timedelta(days=index),
            local_time=time(9 + index % 8, 15),
            channels=channels,
            variants={language: text.format(city=post.city) for language, text in TEXTS.items()},
        )
        workflow.submit(editors[post.pk], publication)
        made.append(publication)
    return made


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement && document.activeElement.id")


def item_id(publication: Publication) -> str:
    return f"approval-{publication.pk}"


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways: {width} px"


def test_the_reviewer_works_the_queue_by_keyboard(visitor, reviewer, queue):
    page = visitor.page
    visitor.log_in(reviewer.email)
    visitor.goto("/approvals/")
    status = page.locator("#queue-status")
    expect(page.locator("[data-queue-keys]")).to_be_visible()
    first, second, third = queue[0], queue[1], queue[2]

    # j and k move between items.
    page.keyboard.press("j")
    assert focused_id(page) == item_id(first)
    page.keyboard.press("j")
    assert focused_id(page) == item_id(second)
    page.keyboard.press("k")
    assert focused_id(page) == item_id(first)

    # a approves it in place; the focus lands on the next item and the outcome is said.
    page.evaluate("() => { window.__sameDocument = true; }")
    with page.expect_response(lambda response: response.url.endswith("/approve/")):
        page.keyboard.press("a")
    expect(page.locator(f"#{item_id(first)} .approval-done")).to_contain_text("Approved")
    expect(status).to_have_text("Approved.")
    assert focused_id(page) == item_id(second)
    assert page.evaluate("() => window.__sameDocument === true"), "the page was loaded again"
    first.refresh_from_db()
    assert first.status == PublicationStatus.APPROVED

    # r puts the cursor in the comment; the letters typed there stay there.
    page.keyboard.press("r")
    comment = page.locator(f"#comment-{second.pk}")
    expect(comment).to_be_focused()
    comment.press_sequentially("Please check the dates: just a remark.")
    expect(comment).to_have_value("Please check the dates: just a remark.")
    assert focused_id(page) == f"comment-{second.pk}"
    # Tab to "Request changes" (past Approve) and press it.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator(f"#{item_id(second)} button", has_text="Request changes")).to_be_focused()
    with page.expect_response(lambda response: response.url.endswith("/request_changes/")):
        page.keyboard.press("Enter")
    expect(status).to_have_text("Sent back to the post with your comment.")
    assert focused_id(page) == item_id(third)
    second.refresh_from_db()
    assert second.status == PublicationStatus.CHANGES_REQUESTED

    # Request changes without a comment: refused, the item stays, the focus stays on it.
    page.keyboard.press("r")
    page.keyboard.press("Escape")
    assert focused_id(page) == item_id(third)
    with page.expect_response(lambda response: response.url.endswith("/request_changes/")):
        page.locator(f"#{item_id(third)} button", has_text="Request changes").click()
    expect(status).to_have_text("Say what to change: a comment is required.")
    assert focused_id(page) == item_id(third)
    third.refresh_from_db()
    assert third.status == PublicationStatus.IN_REVIEW

    # The swapped items are checked too.
    assert not visitor.script_errors, visitor.script_errors
    assert_accessible(page)


def test_twenty_items_fit_in_3000_px_at_1280(visitor, reviewer, queue):
    page = visitor.page
    visitor.log_in(reviewer.email)
    visitor.goto("/approvals/")
    expect(page.locator("ol.approval-list > li")).to_have_count(20)
    height = page.evaluate("() => document.documentElement.scrollHeight")
    assert height <= 3000, f"20 items take {height} px"


def test_the_queue_and_approve_all_pass_axe_on_a_desk_and_a_phone(visitor, reviewer, queue):
    page = visitor.page
    visitor.log_in(reviewer.email)
    for viewport in (DESK, PHONE):
        page.set_viewport_size(viewport)
        visitor.goto("/approvals/")
        # The folded details too: open every toggle of the first item.
        for summary in page.locator(f"#{item_id(queue[0])} summary").all():
            summary.click()
        assert_accessible(page)
        no_horizontal_scroll(page)
        visitor.goto("/approvals/approve-all/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Approve all that pass")
        no_horizontal_scroll(page)


def test_without_javascript_a_decision_reloads_the_page_with_its_message(
    browser, live_server, reviewer, queue
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False, viewport=DESK)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        page.fill('input[name="login"]', reviewer.email)
        page.fill('input[name="password"]', PASSWORD)
        with page.expect_navigation():
            page.press('input[name="password"]', "Enter")
        page.goto("/approvals/")
        expect(page.locator("[data-queue-keys]")).to_be_hidden()  # the keys need JavaScript
        item = page.locator(f"#{item_id(queue[0])}")
        item.get_by_label("Comment (required to request changes)").fill("Add the address.")
        with page.expect_navigation():
            item.get_by_role("button", name="Request changes").click()
        expect(page.locator(".messages")).to_contain_text("Sent back to the post with your comment.")
        assert page.url.endswith("/approvals/")
        queue[0].refresh_from_db()
        assert queue[0].status == PublicationStatus.CHANGES_REQUESTED
    finally:
        context.close()
