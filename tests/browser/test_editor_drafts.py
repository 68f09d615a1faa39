"""The editor's copy kept on the device (static/js/drafts.js, static/js/saved_drafts.js).

The Istanbul editor saves a new publication, then edits and saves it: no page after that
offers her saved text back as "unsaved". A copy written on an older version of the
publication is dropped, never offered. Logging out forgets every copy. When her session
ends while she types, the editor's status line says so and nothing else is drawn.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.db.models import F
from playwright.sync_api import expect

from calendar_app.models import Publication
from diplomacy.models import Channel, Post
from tests.browser.browsing import LiveCheck, text_field
from tests.factories import make_channel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

COPIES = """() => [window.localStorage, window.sessionStorage].flatMap((storage) =>
    Object.keys(storage).filter((name) => name.startsWith("editor-draft:")))"""


@pytest.fixture
def x_channel(istanbul) -> Channel:
    Post.objects.filter(pk=istanbul.pk).update(publishing_languages="en")
    made = make_channel(post=istanbul, platform="x", handle="@BelgiumInIstanbul", content_languages="")
    return made


def write(page, check: LiveCheck, title: str, text: str) -> None:
    planned = datetime.now(zoneinfo.ZoneInfo("Europe/Istanbul")).date() + timedelta(days=10)
    page.get_by_label("Internal title").fill(title)
    page.get_by_label("X @BelgiumInIstanbul").check()
    page.get_by_label(re.compile(r"^Date\b")).fill(planned.isoformat())
    page.get_by_label(re.compile(r"^Time\b")).fill("09:00")
    text_field(page, "English").fill(text)
    check.settle()


def test_saved_text_is_never_offered_back_and_an_older_copy_is_dropped(new_visitor, editor, x_channel):
    visitor = new_visitor()
    visitor.log_in(editor.email)
    page = visitor.page
    check = LiveCheck(page)
    visitor.goto("/publications/new/")
    check.settle(typed=False)
    write(page, check, "First one", "First one, in English.")
    assert page.evaluate(COPIES) == [f"editor-draft:{editor.pk}:new-be-cg-istanbul"]

    with page.expect_navigation():
        page.get_by_role("button", name="Save as draft").click()
    visitor.audit()
    # The publication page (no editor on it) forgot the saved copy.
    assert page.evaluate(COPIES) == []
    publication = Publication.objects.get(title="First one")

    visitor.goto(f"/publications/{publication.pk}/edit/")
    check.settle(typed=False)
    expect(page.locator(".draft-offer")).to_have_count(0)
    text_field(page, "English").fill("First one, in better English.")
    check.settle()
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    visitor.audit()
    assert page.evaluate(COPIES) == []

    visitor.goto("/publications/new/")
    check.settle(typed=False)
    expect(page.locator(".draft-offer")).to_have_count(0)
    assert Publication.objects.count() == 1

    # --- A copy written on the version before someone else's save is dropped, not offered ----------
    visitor.goto(f"/publications/{publication.pk}/edit/")
    check.settle(typed=False)
    text_field(page, "English").fill("My change on the old version.")
    check.settle()
    key = f"editor-draft:{editor.pk}:{publication.pk}"
    assert page.evaluate(COPIES) == [key]
    Publication.objects.filter(pk=publication.pk).update(revision=F("revision") + 1)
    visitor.goto(f"/publications/{publication.pk}/edit/")
    check.settle(typed=False)
    expect(page.locator(".draft-offer")).to_have_count(0)
    expect(text_field(page, "English")).to_have_value("First one, in better English.")
    assert page.evaluate(COPIES) == []


def test_logging_out_forgets_every_copy_and_an_ended_session_is_said_in_the_status_line(
    new_visitor, editor, x_channel
):
    visitor = new_visitor()
    visitor.log_in(editor.email)
    page = visitor.page
    check = LiveCheck(page)
    visitor.goto("/publications/new/")
    check.settle(typed=False)
    write(page, check, "Kept", "Kept on this device.")

    # --- The session ends while she types: said once, in the status line; nothing drawn ------------
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    text_field(page, "English").fill("Kept on this device, still.")
    check.settle()
    status = page.locator("[data-connection-status]")
    expect(status).to_have_text(
        "Your session has ended. Your text is kept on this device: "
        "sign in again (in another tab) and come back."
    )
    expect(page.locator(".live-preview")).not_to_contain_text("Sign in")
    expect(page.locator(".live-preview input[name=password]")).to_have_count(0)
    expect(page.locator(".pv-x")).to_be_visible()  # the last preview stays
    assert page.evaluate(COPIES) == [f"editor-draft:{editor.pk}:new-be-cg-istanbul"]
    visitor.audit()

    # --- Signing in again offers it back; logging out forgets it --------------------------------------
    visitor.log_in(editor.email)
    visitor.goto("/publications/new/")
    check.settle(typed=False)
    expect(page.locator(".draft-offer")).to_contain_text("Restore your unsaved text from")
    visitor.log_out()
    assert page.evaluate(COPIES) == []
