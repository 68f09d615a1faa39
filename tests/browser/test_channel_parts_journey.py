"""What each channel sends, from the editor's live check to the posts copied by hand.

The Istanbul editor writes in Dutch, French, English and Turkish. The live check shows
@BelgiumInIstanbul (X) as a thread of four posts, the French-only @BelgiqueTurquie with
the French text alone, and @BelgiumIstanbulAll, an X account that puts every language in
one post, over the limit with the advice to make it a thread. Once approved and due,
"publish now" lists the thread's posts in order; the copy button puts a post's exact text
on the clipboard. Every page passes the accessibility check.
"""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app import workflow
from calendar_app.models import Publication
from diplomacy.models import Channel
from tests.browser.browsing import LiveCheck
from tests.calendar_factories import make_publication
from tests.factories import make_channel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

TEXTS = {
    "nl": "Belgische bedrijven in de schone technologie bezoeken Istanbul deze week voor een handelsmissie.",
    "fr": "Des entreprises belges des technologies propres visitent Istanbul cette semaine en mission.",
    "en": "Belgian cleantech companies visit Istanbul this week on a trade mission with the consulate.",
    "tr": "Belçikalı temiz teknoloji şirketleri bu hafta bir ticaret heyetiyle İstanbul'u ziyaret ediyor.",
}


def channel(post, platform: str, handle: str, plan: str, languages: str = "") -> Channel:
    made = make_channel(post=post, platform=platform, handle=handle, content_languages=languages)
    Channel.objects.filter(pk=made.pk).update(language_plan=plan)
    made.refresh_from_db()
    return made


@pytest.fixture
def channels(istanbul):
    return [
        channel(istanbul, "x", "@BelgiumInIstanbul", "thread"),
        channel(istanbul, "x", "@BelgiqueTurquie", "single", "fr"),
        channel(istanbul, "x", "@BelgiumIstanbulAll", "combined"),
    ]


def test_the_editor_sees_each_post_each_channel_sends_and_staff_copy_them_in_order(
    new_visitor, editor, reviewer, istanbul, channels
):
    planned = datetime.now(zoneinfo.ZoneInfo("Europe/Istanbul")).date() + timedelta(days=10)
    publication = make_publication(
        post=istanbul, author=editor, local_date=planned, channels=channels, variants=TEXTS
    )

    # --- The editor opens it: the live check says what each channel sends -------------------------
    writer = new_visitor()
    writer.log_in(editor.email)
    check = LiveCheck(writer.page)
    writer.goto(reverse("publication_edit", args=[publication.pk]))
    check.settle(typed=False)
    live = writer.page.locator(".live-check .sends-live")
    thread = live.locator("li.sent", has_text="@BelgiumInIstanbul")
    expect(thread.locator("li.part")).to_have_count(4)
    expect(thread.locator("li.part").nth(1)).to_contain_text("Post 2 of 4 · French · answers post 1")
    french = live.locator("li.sent", has_text="@BelgiqueTurquie")
    expect(french.locator("li.part")).to_have_count(1)
    expect(french).to_contain_text("Not sent on this channel: English (en), Dutch (nl), Turkish (tr)")
    combined = live.locator("li.sent", has_text="@BelgiumIstanbulAll")
    expect(combined.locator(".part-count.over")).to_contain_text("too many")
    expect(writer.page.locator(".live-check .check-blocking")).to_contain_text(
        "X @BelgiumIstanbulAll: the combined post is"
    )
    expect(writer.page.locator(".live-check .check-blocking")).to_contain_text(
        "Its post manager can make it a thread: one post per language."
    )
    writer.audit()

    # --- Untick the combined account: the check passes on what is left -------------------------------
    writer.page.locator("#channel-choice").get_by_label("X @BelgiumIstanbulAll").uncheck()
    check.settle()
    expect(writer.page.locator(".live-check li.sent", has_text="@BelgiumIstanbulAll")).to_have_count(0)
    expect(writer.page.locator(".live-check").get_by_text("Text length per platform")).to_have_count(1)
    expect(writer.page.locator(".live-check .check-blocking", has_text="Text length")).to_have_count(0)
    writer.submit("main form.editor")
    check.settle(typed=False)
    saved = Publication.objects.get(pk=publication.pk)
    assert [c.handle for c in saved.channels.order_by("handle")] == ["@BelgiqueTurquie", "@BelgiumInIstanbul"]

    # --- Approved and due: "publish now" lists the thread's posts in order, each to copy ------------
    workflow.submit(editor, saved)
    workflow.approve(reviewer, Publication.objects.get(pk=publication.pk), expected_revision=saved.revision)
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(seconds=5))
    writer.context.grant_permissions(["clipboard-read", "clipboard-write"])
    writer.goto("/publications/publish-now/")
    card = writer.page.locator("li.card", has_text="@BelgiumInIstanbul")
    posts = card.locator("li.post-to-copy")
    expect(posts).to_have_count(4)
    expect(posts.nth(1)).to_contain_text("Post 2 answers post 1: post it as a reply to post 1.")
    posts.nth(1).get_by_role("button", name="Copy post 2").click()
    expect(posts.nth(1).get_by_role("button", name="Copied")).to_be_visible()
    assert writer.page.evaluate("() => navigator.clipboard.readText()") == TEXTS["fr"]
    writer.audit()
