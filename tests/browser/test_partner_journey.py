"""A regional partner at her browser: the home page that says what became of her proposals,
the proposal form that shows only what her choice of target needs, the preview of her texts as
she types, and her text kept when the session ends before she saved.

Also the same form without JavaScript: every target field shows, saying when it counts, and
the preview is a button. Every page passes the accessibility check.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from calendar_app.models import Delivery, Proposal, ProposalStatus, Publication
from diplomacy.models import Role
from tests.browser.picking import pick
from tests.calendar_factories import make_proposal, make_publication
from tests.factories import PASSWORD, make_channel, make_partner, make_post, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

TITLE = "Flemish cleantech week in Istanbul"
DUTCH = "Twaalf Vlaamse cleantechbedrijven bezoeken Istanbul. Kom ze ontmoeten! #FlandersInvestment"


@pytest.fixture
def partner():
    fit = make_partner(code="fit", name="Flanders Investment & Trade")
    return make_user(email="partner.fit@example.org", role=Role.PARTNER_CONTRIBUTOR, partner=fit)


@pytest.fixture
def istanbul():
    return make_post(
        code="be-cg-istanbul",
        name="Consulate-General of Belgium in Istanbul",
        kind="consulate_general",
        city="Istanbul",
        country="TR",
    )


def test_the_partner_sees_what_became_of_her_proposal_and_follows_its_live_post(visitor, partner, istanbul):
    proposal = make_proposal(partner=partner.memberships.get().partner, title="Flanders food fair")
    Proposal.objects.filter(pk=proposal.pk).update(target="countries", target_countries="TR")
    editor = make_user(role=Role.POST_EDITOR, post=istanbul, full_name="Ece Editor")
    publication = make_publication(post=istanbul, author=editor, status="published", proposal=proposal)
    channel = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    Delivery.objects.create(
        publication=publication, channel=channel, status="delivered", url="https://www.facebook.com/p/77"
    )

    visitor.log_in(partner.email)

    page = visitor.page
    card = page.locator("li.outcome", has=page.get_by_role("link", name="Flanders food fair"))
    expect(card).to_contain_text("Accepted: offered to the posts, which may adopt it.")
    expect(card).to_contain_text("Türkiye")
    expect(card).to_contain_text("1 post")
    live = card.get_by_role("link", name=re.compile(r"^Facebook\W+Consulate-General of Belgium in Istanbul"))
    expect(live).to_have_attribute("href", "https://www.facebook.com/p/77")
    expect(page.locator("main")).not_to_contain_text("Ece Editor")
    start = page.get_by_role("link", name="Propose content")
    expect(start).to_have_attribute("href", reverse("proposal_new"))


def test_the_form_shows_the_target_her_choice_needs_previews_and_keeps_her_text(
    visitor, new_visitor, partner, istanbul
):
    page = visitor.page
    visitor.log_in(partner.email)
    with page.expect_navigation():
        page.get_by_role("link", name="Propose content").click()
    visitor.audit()

    countries = page.locator('[data-target-field="countries"]')
    posts = page.locator('[data-target-field="posts"]')
    expect(page.get_by_label("The whole network")).to_be_checked()
    expect(countries).to_be_hidden()
    expect(posts).to_be_hidden()
    page.get_by_label("Some posts").check()
    expect(posts).to_be_visible()
    expect(countries).to_be_hidden()
    page.get_by_label("Some countries").check()
    expect(countries).to_be_visible()
    expect(posts).to_be_hidden()
    pick(page, "Countries", "Türk")

    page.get_by_label(re.compile(r"^Title\b")).fill(TITLE)
    page.get_by_label("Suggested text in Dutch").fill(DUTCH)
    preview = page.locator("#proposal-preview")
    expect(preview.locator(".preview-card h3")).to_have_text(["Dutch"])
    expect(preview.locator('.preview-text[lang="nl"]')).to_have_text(DUTCH)
    expect(preview).to_contain_text("Fits on every platform.")
    expect(page.locator("#draft-status")).to_contain_text("Kept in this browser")
    visitor.audit()
    assert not Proposal.objects.exists(), "a preview saves nothing"

    # The session ends before she saves: she signs in again and finds her text offered back.
    visitor.context.clear_cookies()
    visitor.goto(reverse("proposal_new"))
    assert visitor.path.startswith(reverse("account_login"))
    form = 'form:has(input[name="login"])'
    page.locator(f'{form} input[name="login"]').fill(partner.email)
    page.locator(f'{form} input[name="password"]').fill(PASSWORD)
    visitor.submit(form)
    assert visitor.path == reverse("proposal_new")
    notice = page.locator("#draft-notice")
    expect(notice).to_contain_text("This browser kept text you had not saved yet")
    expect(page.get_by_label("Suggested text in Dutch")).to_have_value("")
    notice.get_by_role("button", name="Restore that text").click()
    expect(notice).to_contain_text("Restored.")
    expect(page.get_by_label(re.compile(r"^Title\b"))).to_have_value(TITLE)
    expect(page.get_by_label("Suggested text in Dutch")).to_have_value(DUTCH)
    expect(page.get_by_label("Some countries")).to_be_checked()
    expect(countries).to_be_visible()
    expect(page.locator("#proposal-preview .preview-card h3")).to_have_text(["Dutch"])
    visitor.audit()

    with page.expect_navigation():
        page.get_by_role("button", name="Save as draft").click()
    visitor.audit()
    proposal = Proposal.objects.get()
    assert (proposal.title, proposal.status, proposal.target_country_list) == (TITLE, "draft", ["TR"])
    assert {v.language: v.text for v in proposal.variants.all()} == {"nl": DUTCH}
    # Saved: the browser's copy is forgotten, a new form starts empty.
    visitor.goto(reverse("proposal_new"))
    expect(page.locator("#draft-notice")).to_be_hidden()

    visitor.goto(reverse("home"))
    card = page.locator("li.outcome", has=page.get_by_role("link", name=TITLE))
    expect(card).to_contain_text("Draft: not sent to central communications yet.")
    expect(card).to_contain_text("Türkiye")
    assert Publication.objects.count() == 0


def test_a_partner_who_ignores_the_offer_keeps_both_texts_when_the_session_ends_again(visitor, partner):
    """The copy on offer is set aside while she writes something new: both survive the session."""
    page = visitor.page
    title = page.get_by_label(re.compile(r"^Title\b"))
    dutch = page.get_by_label("Suggested text in Dutch")

    def session_ends_and_she_comes_back() -> None:
        visitor.context.clear_cookies()
        visitor.log_in(partner.email)
        visitor.goto(reverse("proposal_new"))

    visitor.log_in(partner.email)
    visitor.goto(reverse("proposal_new"))
    title.fill(TITLE)
    dutch.fill(DUTCH)
    expect(page.locator("#draft-status")).to_contain_text("Kept in this browser")

    session_ends_and_she_comes_back()
    notice = page.locator("#draft-notice")
    expect(notice).to_contain_text("This browser kept text you had not saved yet")
    # She ignores the offer and writes another proposal; the session ends again.
    title.fill("Brussels design week")
    dutch.fill("Brusselse ontwerpers in Istanbul.")
    expect(page.locator("#draft-status")).to_contain_text("Kept in this browser")

    session_ends_and_she_comes_back()
    expect(notice).to_contain_text("This browser kept text you had not saved yet")
    notice.get_by_role("button", name="Restore that text").click()
    expect(title).to_have_value("Brussels design week")
    expect(dutch).to_have_value("Brusselse ontwerpers in Istanbul.")
    # The older copy is still offered, after the newer one.
    expect(notice).to_contain_text("Restored.")
    expect(notice).to_contain_text("This browser kept text you had not saved yet")
    notice.get_by_role("button", name="Discard it").click()
    expect(notice).to_have_text("Discarded.")
    visitor.audit()

    # What she restored is the copy now, offered back alone: the discarded one is gone.
    session_ends_and_she_comes_back()
    expect(title).to_have_value("")
    notice.get_by_role("button", name="Restore that text").click()
    expect(notice).to_have_text("Restored. Save it as a draft to keep it.")
    expect(title).to_have_value("Brussels design week")
    stored = page.evaluate("Object.keys(window.localStorage).sort()")
    kept = [key for key in stored if key.startswith("proposal-draft-")]
    assert kept == [f"proposal-draft-{partner.pk}-new"], "nothing left aside"


def test_without_javascript_every_target_shows_and_the_preview_is_a_button(browser, live_server, partner):
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto("/accounts/login/")
    page.locator('input[name="login"]').fill(partner.email)
    page.locator('input[name="password"]').fill(PASSWORD)
    with page.expect_navigation():
        page.locator('form:has(input[name="login"]) button[type="submit"]').click()
    page.goto("/proposals/new/")
    expect(page.get_by_text("Only for “Some countries”: type a country’s name.")).to_be_visible()
    expect(page.get_by_text("Only for “Some posts”: type a post’s name or city.")).to_be_visible()
    expect(page.locator("#draft-notice")).to_be_hidden()

    page.get_by_label(re.compile(r"^Title\b")).fill(TITLE)
    page.get_by_label("Suggested text in Dutch").fill(DUTCH)
    with page.expect_navigation():
        page.get_by_role("button", name="Show the preview").click()
    assert page.url.endswith("/proposals/new/#proposal-preview")
    expect(page.locator('#proposal-preview .preview-text[lang="nl"]')).to_have_text(DUTCH)
    expect(page.get_by_label("Suggested text in Dutch")).to_have_value(DUTCH)
    expect(page.locator(".errorlist")).to_have_count(0)
    assert not Proposal.objects.exists()

    with page.expect_navigation():
        page.get_by_role("button", name="Save and send to central communications").click()
    proposal = Proposal.objects.get()
    assert proposal.status == ProposalStatus.SUBMITTED
    expect(page.locator("#suggested-texts .preview-text")).to_have_text([DUTCH])
    context.close()
