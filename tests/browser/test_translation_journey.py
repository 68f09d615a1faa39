"""Translation help in the browser: the Istanbul editor has written Dutch, English and
Turkish; "Draft the French from the Dutch" fills the French as a machine translation not
yet checked (everything else she typed stays), sending to review is refused until she
confirms it, and then it goes. Every page passes the accessibility check.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from calendar_app.models import Publication, Variant
from tests.browser.browsing import LiveCheck
from tests.browser.test_review_journey import click_workflow_button, status_of, text_field
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.fake_translators import FakeLibreTranslate

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

TEXTS = {
    "nl": "Receptie ter gelegenheid van het Koningsfeest in het Consulaat-Generaal.",
    "en": "Reception for the King's Day at the Consulate-General.",
    "tr": "Başkonsoloslukta Kral Günü resepsiyonu.",
}


@pytest.fixture
def fake_libre(settings) -> Iterator[FakeLibreTranslate]:
    fake = FakeLibreTranslate()
    settings.TRANSLATION_PROVIDER = "libretranslate"
    settings.TRANSLATION_API_KEY = FakeLibreTranslate.KEY
    settings.TRANSLATION_URL = fake.url
    yield fake
    fake.close()


def test_a_machine_draft_is_confirmed_before_the_publication_goes_to_review(
    visitor, editor, istanbul, fake_libre
):
    facebook = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    publication = make_publication(
        post=istanbul,
        author=editor,
        channels=[facebook],
        variants=TEXTS,
        local_date=date.today() + timedelta(days=10),
        title="King's Day reception",
    )
    page = visitor.page
    check = LiveCheck(page)
    visitor.log_in(editor.email)
    visitor.goto(f"/publications/{publication.pk}/edit/")
    check.settle(typed=False)

    # An English text typed but not saved stays through the draft.
    text_field(page, "English").fill(TEXTS["en"] + " Welcome!")
    check.settle()
    text_field(page, "French")  # the offer is beside the French text, on its tab
    with page.expect_navigation():
        page.get_by_role("button", name="Draft the French from the Dutch").click()
    visitor.audit()
    check.settle(typed=False)
    # The editor opens on the French text, its tab saying what it waits for.
    french_tab = page.get_by_role("tab", name=re.compile(r"^French"))
    expect(french_tab).to_have_attribute("aria-selected", "true")
    expect(french_tab).to_have_accessible_name(re.compile(r"machine translation unchecked$"))
    expect(text_field(page, "French")).to_have_value(f"(fr) {TEXTS['nl']}")
    expect(text_field(page, "English")).to_have_value(TEXTS["en"] + " Welcome!")
    expect(page.locator(".machine-note.unchecked")).to_contain_text("Machine translation — not yet checked")
    live = page.locator(".live-check #check-results")
    expect(live.locator("li.check-blocking", has_text="Machine translations checked")).to_be_visible()

    # Saved as it is: still unchecked, and sending it to review is refused.
    with page.expect_navigation():
        page.locator("main form.editor .actions").get_by_role("button", name="Save", exact=True).click()
    visitor.audit()
    check.settle(typed=False)
    click_workflow_button(visitor, check, "Send to review")
    expect(page.locator(".messages .message-error")).to_contain_text("Machine translation not yet checked")
    expect(status_of(page)).to_contain_text("Draft")

    # She reads it and confirms it; then it goes.
    visitor.submit("section.machine-checks form")
    check.settle(typed=False)
    french = Variant.objects.get(publication=publication, language="fr")
    assert french.checked_by == editor and french.machine_translated == "libretranslate"
    click_workflow_button(visitor, check, "Send to review")
    expect(status_of(page)).to_contain_text("In review")
    assert Publication.objects.get(pk=publication.pk).status == "in_review"
