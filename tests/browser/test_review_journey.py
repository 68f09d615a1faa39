"""A publication's way through review, from the editor's draft to an edit after approval.

The Istanbul editor writes in Dutch, English and Turkish; the post publishes in
French too, so "Send to review" is refused by the required-languages guideline. She
adds French and sends it. A first central reviewer asks for changes from the approval
queue (inline, with HTMX); the editor sees it on her home page, fixes the text and
sends it again; a second reviewer approves it. The editor edits it after approval and
it goes back to review. The history tells every step, and the Review section shows
what changed since the approved revision. Every page passes the accessibility check.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from calendar_app import workflow
from calendar_app.models import Publication, PublicationEvent
from tests.browser import browsing
from tests.browser.accessibility import FAILING_IMPACTS, axe_violations, format_violations
from tests.browser.browsing import LiveCheck
from tests.calendar_factories import make_publication
from tests.factories import make_channel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

TITLE = "King's Day reception at the Consulate-General"
TEXTS = {
    "nl": "Receptie ter gelegenheid van het Koningsfeest in het Consulaat-Generaal.",
    "en": "Reception for the King's Day at the Consulate-General.",
    "tr": "Başkonsoloslukta Kral Günü resepsiyonu.",
}
FRENCH = "Réception à l'occasion de la Fête du Roi au Consulat général."
COMMENT = "Please add the date and the address of the reception in every language."
FIXED_EN = "Reception for the King's Day on 15 November at the Consulate-General, Istiklal Caddesi 161."
AFTER_APPROVAL_EN = FIXED_EN + " Registration: https://example.org/kingsday"

#: The history, in order: the verb each entry reads.
HISTORY = [
    "created it",
    "edited it",  # French added
    "sent it to review",
    "asked for changes",
    "edited it",  # the text fixed
    "sent it to review again",
    "approved it",
    "edited it after approval: it went back to review",
]


@pytest.fixture
def facebook(istanbul):
    return make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")


def text_field(page, language_name: str):
    return browsing.text_field(page, language_name)


def status_of(page):
    return page.locator("dl.facts dd[class^='status-']")


def click_workflow_button(visitor, check: LiveCheck, label: str) -> None:
    """One of the side area's buttons ("Send to review"...): a full page load."""
    check.settle(typed=False)
    visitor.submit(f'.publication-actions form:has(button:text-is("{label}"))')
    check.settle(typed=False)


def open_editor(visitor, check: LiveCheck) -> None:
    """The publication page's "Edit" link: the editor is a page of its own."""
    check.settle(typed=False)
    with visitor.page.expect_navigation():
        visitor.page.get_by_role("link", name="Edit", exact=True).click()
    visitor.audit()
    check.settle(typed=False)


def save_editor(visitor, check: LiveCheck, form: str = "main form.editor") -> None:
    check.settle()
    visitor.submit(form)
    check.settle(typed=False)


def open_queue_item(visitor, publication: Publication):
    visitor.goto("/approvals/")
    item = visitor.page.locator(f"#approval-{publication.pk}")
    expect(item).to_be_visible()
    expect(item.get_by_role("link", name=TITLE)).to_have_attribute("href", f"/publications/{publication.pk}/")
    return item


def decide_inline(visitor, item, button: str) -> None:
    """Click a decision in the queue: HTMX swaps the item in place, the page stays."""
    page = visitor.page
    page.evaluate("() => { window.__sameDocument = true; }")
    with page.expect_response(lambda response: response.request.method == "POST"):
        item.get_by_role("button", name=button).click()
    expect(item.locator(".approval-done")).to_be_visible()
    assert page.evaluate("() => window.__sameDocument === true"), "the page was loaded again"
    assert visitor.path == "/approvals/"
    # The swapped-in item is checked too.
    assert not visitor.unaudited and not visitor.script_errors, visitor.script_errors
    failing = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    assert not failing, format_violations(page.url, failing)


def test_a_publication_goes_through_review_and_back_after_an_edit(
    visitor, new_visitor, editor, reviewer, second_reviewer, istanbul, facebook
):
    assert istanbul.publishing_language_list == ["nl", "fr", "en", "tr"]
    page = visitor.page
    check = LiveCheck(page)
    visitor.log_in(editor.email)

    # --- The draft, without French --------------------------------------------------------
    visitor.goto("/publications/new/")
    page.get_by_label("Internal title").fill(TITLE)
    page.get_by_label("Facebook @Belgium.Istanbul").check()
    for name, language in (("Dutch", "nl"), ("English", "en"), ("Turkish", "tr")):
        text_field(page, name).fill(TEXTS[language])
    planned = datetime.now(zoneinfo.ZoneInfo("Europe/Istanbul")).date() + timedelta(days=10)
    page.get_by_label(re.compile(r"^Date\b")).fill(planned.isoformat())
    page.get_by_label(re.compile(r"^Time\b")).fill("18:00")
    # The live check already says what is missing.
    live = page.locator(".live-check #check-results")
    expect(live.locator("li.check-blocking", has_text="Required languages")).to_contain_text(
        "Add the text in: French (fr)."
    )
    visitor.audit()
    save_editor(visitor, check, "main form.editor")
    publication = Publication.objects.get(title=TITLE)
    assert visitor.path == f"/publications/{publication.pk}/"
    expect(status_of(page)).to_contain_text("Draft")

    # --- Send to review: refused, the missing French named -------------------------------------
    click_workflow_button(visitor, check, "Send to review")
    message = page.locator(".messages .message-error")
    expect(message).to_contain_text("Not sent: fix what the guidelines say first.")
    expect(message).to_contain_text("Add the text in: French (fr).")
    expect(status_of(page)).to_contain_text("Draft")
    publication.refresh_from_db()
    assert publication.status == "draft"
    assert not publication.revisions.exists()

    # --- Add French, save, send -----------------------------------------------------------------
    open_editor(visitor, check)
    text_field(page, "French").fill(FRENCH)
    save_editor(visitor, check)
    expect(page.locator(".messages")).to_contain_text("Publication saved.")
    click_workflow_button(visitor, check, "Send to review")
    expect(page.locator(".messages")).to_contain_text("Sent to review.")
    expect(status_of(page)).to_contain_text("In review")
    # The author cannot decide on her own publication.
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    # --- Reviewer 1 asks for changes, inline in the queue -----------------------------------------
    first = new_visitor()
    first.log_in(reviewer.email)
    item = open_queue_item(first, publication)
    for language, text in {**TEXTS, "fr": FRENCH}.items():
        expect(item.locator(f'p[lang="{language}"]')).to_have_text(text)
    item.get_by_label("Comment (required to request changes)").fill(COMMENT)
    decide_inline(first, item, "Request changes")
    expect(item.locator(".approval-done")).to_contain_text("Changes requested")
    expect(item.locator(".inline-messages")).to_contain_text("Sent back to the post with your comment.")
    expect(item.get_by_role("button", name="Approve")).to_have_count(0)
    publication.refresh_from_db()
    assert publication.status == "changes_requested"

    # --- The editor sees it on her home page, with the comment -------------------------------------
    visitor.goto("/")
    changes = page.locator("section:has(#changes-heading)")
    expect(changes.get_by_role("link", name=TITLE)).to_be_visible()
    changes.get_by_role("link", name=TITLE).click()
    visitor.audit()
    check.settle(typed=False)
    assert visitor.path == f"/publications/{publication.pk}/"
    expect(status_of(page)).to_contain_text("Changes requested")
    review_section = page.locator("section.workflow")
    expect(review_section).to_contain_text(COMMENT)
    expect(review_section.locator("h3:text-is('Decisions') + ul > li")).to_contain_text(
        f"{reviewer.email}: Changes requested"
    )

    # --- She fixes the text and sends it again --------------------------------------------------
    open_editor(visitor, check)
    text_field(page, "English").fill(FIXED_EN)
    save_editor(visitor, check)
    click_workflow_button(visitor, check, "Send to review again")
    expect(page.locator(".messages")).to_contain_text("Sent to review again.")
    expect(status_of(page)).to_contain_text("In review")

    # --- Reviewer 2 approves it from the queue ----------------------------------------------------
    second = new_visitor()
    second.log_in(second_reviewer.email)
    item = open_queue_item(second, publication)
    expect(item.locator('p[lang="en"]')).to_have_text(FIXED_EN)
    decide_inline(second, item, "Approve")
    expect(item.locator(".approval-done")).to_contain_text("Approved")
    expect(item.locator(".inline-messages")).to_contain_text("Approved.")
    publication.refresh_from_db()
    assert publication.status == "approved"
    approved_revision = publication.revision

    # --- The editor edits it after approval: back to review ------------------------------------------
    visitor.goto(f"/publications/{publication.pk}/")
    check.settle(typed=False)
    expect(status_of(page)).to_contain_text("Approved")
    open_editor(visitor, check)
    expect(page.locator("main p.note")).to_contain_text(
        "Changing its text, channels, images or time sends it back to review."
    )
    text_field(page, "English").fill(AFTER_APPROVAL_EN)
    save_editor(visitor, check)
    expect(status_of(page)).to_contain_text("In review")
    publication.refresh_from_db()
    assert publication.status == "in_review"
    assert publication.revision == approved_revision + 1

    # --- The history: every step, in order (a long one is folded: open it) -----------------------
    page.locator("details.history-fold > summary").click()
    entries = page.locator("ol.history > li")
    expect(entries).to_have_count(len(HISTORY))
    for entry, verb in zip(entries.all_inner_texts(), HISTORY, strict=True):
        first_line = entry.splitlines()[0]
        assert re.search(rf" {re.escape(verb)}(?: \(|$)", first_line), f"{verb!r} not in {first_line!r}"
    verbs = PublicationEvent.objects.filter(publication=publication).values_list("verb", flat=True)
    assert list(verbs) == [
        "created",
        "edited",
        "submit",
        "request_changes",
        "edited",
        "resubmit",
        "approve",
        "edited_after_approval",
    ]
    expect(entries.nth(3)).to_contain_text(COMMENT)
    expect(entries.nth(3)).to_contain_text("(In review → Changes requested)")
    expect(entries.nth(6)).to_contain_text("(In review → Approved)")
    expect(entries.nth(7)).to_contain_text("(Approved → In review)")

    # --- The Review section: decisions, and the change since the approved revision -----------------
    expect(review_section.locator("h3", has_text="Decisions")).to_be_visible()
    decisions = review_section.locator("h3:text-is('Decisions') + ul > li")
    expect(decisions).to_have_count(2)
    expect(decisions.nth(0)).to_contain_text(COMMENT)
    expect(decisions.nth(0)).to_contain_text(f"{reviewer.email}: Changes requested")
    expect(decisions.nth(1)).to_contain_text(f"{second_reviewer.email}: Approved")
    since = f"Changes since the approved revision {approved_revision}"
    expect(review_section.get_by_role("heading", name=since)).to_be_visible()
    diff = review_section.locator("dl.diff")
    expect(diff.locator("dt")).to_have_text(["text [en]"])
    expect(diff.locator("del")).to_have_text(f"- {FIXED_EN}")
    expect(diff.locator("ins")).to_have_text(f"+ {AFTER_APPROVAL_EN}")
    # The new revision is in the queue again, for a reviewer to decide on.
    item = open_queue_item(second, publication)
    expect(item.locator('p[lang="en"]')).to_have_text(AFTER_APPROVAL_EN)


def test_an_item_decided_inline_in_the_queue_is_accessible(visitor, editor, reviewer, istanbul, facebook):
    planned = datetime.now(zoneinfo.ZoneInfo("Europe/Istanbul")).date() + timedelta(days=10)
    publication = make_publication(
        post=istanbul,
        author=editor,
        title=TITLE,
        local_date=planned,
        channels=[facebook],
        variants={**TEXTS, "fr": FRENCH},
    )
    workflow.submit(editor, publication)
    visitor.log_in(reviewer.email)
    item = open_queue_item(visitor, publication)
    item.get_by_label("Comment (required to request changes)").fill(COMMENT)
    with visitor.page.expect_response(lambda response: response.url.endswith("/request_changes/")):
        item.get_by_role("button", name="Request changes").click()
    expect(item.locator(".approval-done")).to_contain_text("Changes requested")

    visitor.audit()
