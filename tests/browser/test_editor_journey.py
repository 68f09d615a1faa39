"""The editor, as the Istanbul editor writes a publication.

She writes in Dutch and French, one language tab at a time (chosen with the arrow keys), and
sees the preview of each ticked channel follow her text: the X thread as two posts, the
hashtag drawn as a link. A Dutch text over X's limit makes the Dutch tab say so and the
guidelines report the length, not a missing language. When the X account's plan changes
meanwhile, the preview and the counter follow it. A file that is no image is refused
with a message; a dropped photo shows its thumbnail and appears in the preview. The
connection drops while she types: the page says the preview is not updated and her text is
kept on the device; after a reload the editor offers it back, and "Submit for review" saves
it and sends it to review. Every page and state passes the accessibility check.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zoneinfo
from datetime import datetime, timedelta
from time import monotonic

import pytest
from PIL import Image
from playwright.sync_api import expect

from calendar_app.models import Publication, PublicationStatus
from diplomacy.models import Channel, Post
from tests.browser.browsing import LiveCheck, text_field
from tests.factories import make_channel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

TITLE = "Cleantech mission"
DUTCH = "Belgische cleantechbedrijven bezoeken Istanbul deze week. #TradeWeek https://example.org/missie"
FRENCH = "Des entreprises belges des technologies propres visitent Istanbul cette semaine."
#: The editor's copy in the browser: the user's own (static/js/drafts.js).
DRAFT_KEY = "editor-draft:{user}:new-be-cg-istanbul"


def channel(post, platform: str, handle: str, plan: str) -> Channel:
    made = make_channel(post=post, platform=platform, handle=handle, content_languages="")
    Channel.objects.filter(pk=made.pk).update(language_plan=plan)
    made.refresh_from_db()
    return made


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 180), "steelblue").save(buffer, "PNG")
    return buffer.getvalue()


def drop(page, name: str, content: bytes, kind: str) -> None:
    """Drop a file on the image field's zone, as a person drags one from their desktop."""
    page.evaluate(
        """([name, data, kind]) => {
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, { type: kind }));
            const zone = document.querySelector("[data-drop-zone]");
            const options = { dataTransfer: transfer, bubbles: true, cancelable: true };
            zone.dispatchEvent(new DragEvent("dragover", options));
            zone.dispatchEvent(new DragEvent("drop", options));
        }""",
        [name, base64.b64encode(content).decode(), kind],
    )


def stored_draft(page, user) -> dict | None:
    raw = page.evaluate("(key) => window.localStorage.getItem(key)", DRAFT_KEY.format(user=user.pk))
    return json.loads(raw) if raw else None


def test_write_preview_drop_an_image_lose_the_connection_restore_and_submit_for_review(
    new_visitor, editor, istanbul, tmp_path
):
    Post.objects.filter(pk=istanbul.pk).update(publishing_languages="nl,fr")
    channel(istanbul, "x", "@BelgiumInIstanbul", "thread")
    channel(istanbul, "facebook", "@Belgium.Istanbul", "combined")
    planned = datetime.now(zoneinfo.ZoneInfo("Europe/Istanbul")).date() + timedelta(days=10)
    photo = tmp_path / "harbour.png"
    photo.write_bytes(png_bytes())

    visitor = new_visitor()
    visitor.log_in(editor.email)
    page = visitor.page
    check = LiveCheck(page)
    visitor.goto("/publications/new/")
    check.settle(typed=False)

    # --- The texts are tabs, one per language, chosen with the arrow keys ------------------------
    tabs = page.get_by_role("tablist", name="Texts by language").get_by_role("tab")
    expect(tabs.first).to_have_accessible_name(re.compile(r"^Dutch\s+empty$"))
    expect(tabs.first).to_have_attribute("aria-selected", "true")
    tabs.first.focus()
    page.keyboard.press("ArrowRight")
    french_tab = page.get_by_role("tab", name=re.compile(r"^French"))
    expect(french_tab).to_be_focused()
    expect(french_tab).to_have_attribute("aria-selected", "true")
    expect(page.get_by_label("Text in French", exact=True)).to_be_visible()
    expect(page.get_by_label("Text in Dutch", exact=True)).to_be_hidden()
    page.keyboard.press("End")
    expect(tabs.last).to_be_focused()
    page.keyboard.press("Home")
    expect(tabs.first).to_be_focused()
    expect(page.get_by_label("Text in Dutch", exact=True)).to_be_visible()

    # --- She writes in two languages; the preview follows ---------------------------------------------
    page.get_by_label("Internal title").fill(TITLE)
    page.get_by_label("X @BelgiumInIstanbul").check()
    page.get_by_label("Facebook @Belgium.Istanbul").check()
    page.get_by_label(re.compile(r"^Date\b")).fill(planned.isoformat())
    page.get_by_label(re.compile(r"^Time\b")).fill("09:00")
    dutch = text_field(page, "Dutch")
    dutch.fill(DUTCH[:-1])
    sent_at: list[float] = []
    page.on(
        "request", lambda r: sent_at.append(monotonic()) if r.url.endswith("/publications/preview/") else None
    )
    dutch.press_sequentially(DUTCH[-1])
    typed_at = monotonic()
    check.settle()
    # The preview is asked for 250 ms after typing stops (with room for a loaded machine).
    assert sent_at and sent_at[0] - typed_at < 0.6, sent_at
    x_preview = page.locator(".pv-x")
    expect(x_preview.locator(".pv-name")).to_have_text("Consulate-General of Belgium in Istanbul")
    expect(x_preview.locator(".pv-avatar")).to_have_text("BI")
    expect(x_preview.locator(".pv-hashtag")).to_have_text("#TradeWeek")
    expect(x_preview.locator(".pv-link")).to_have_text("https://example.org/missie")
    expect(page.get_by_role("tab", name=re.compile(r"^Dutch"))).to_have_accessible_name(
        re.compile(r"written$")
    )
    text_field(page, "French").fill(FRENCH)
    check.settle()
    expect(x_preview.locator("li.pv-part")).to_have_count(2)
    expect(x_preview.locator("li.pv-part").nth(1)).to_contain_text(FRENCH)
    expect(page.locator(".pv-facebook li.pv-part")).to_have_count(1)
    visitor.audit()

    # --- Over X's limit: the tab and the guidelines say so, the language is not "missing" --------
    long_dutch = DUTCH + " " + "Meer nieuws volgt. " * 15
    text_field(page, "Dutch").fill(long_dutch)
    check.settle()
    expect(page.get_by_role("tab", name=re.compile(r"^Dutch"))).to_have_accessible_name(
        re.compile(r"over a limit$")
    )
    expect(page.locator(".live-check .check-blocking", has_text="Text length")).to_contain_text(
        "X @BelgiumInIstanbul: post 1 of 2, Dutch is"
    )
    expect(page.locator(".live-check")).not_to_contain_text("Add the text in")
    expect(x_preview.locator(".pv-count.over")).to_contain_text("too many")
    text_field(page, "Dutch").fill(DUTCH)
    check.settle()

    # --- Its post manager makes the X account one combined post meanwhile: preview and counter follow
    x = Channel.objects.get(handle="@BelgiumInIstanbul")
    Channel.objects.filter(pk=x.pk).update(language_plan="combined")
    text_field(page, "French").fill(FRENCH + " ")
    check.settle()
    expect(x_preview.locator("li.pv-part")).to_have_count(1)
    expect(page.locator("#counts-id_variant_fr li", has_text="@BelgiumInIstanbul")).to_contain_text(
        "X @BelgiumInIstanbul, combined:"
    )
    Channel.objects.filter(pk=x.pk).update(language_plan="thread")
    text_field(page, "French").fill(FRENCH)
    check.settle()
    expect(x_preview.locator("li.pv-part")).to_have_count(2)

    # --- A file that is no image, then a photo dropped on the field ----------------------------------
    drop(page, "notes.txt", b"not an image", "text/plain")
    expect(page.locator(".drop-error")).to_contain_text("This file cannot be shown as an image")
    expect(text_field(page, "Dutch")).to_have_value(DUTCH)
    drop(page, "harbour.png", png_bytes(), "image/png")
    expect(page.locator(".drop-thumbnail")).to_be_visible()
    check.settle(typed=False)
    expect(x_preview.locator(".pv-new-image img")).to_be_visible()
    page.get_by_label("Image description (alt text) in Dutch").fill("De haven van Istanbul")
    page.get_by_label("Image description (alt text) in French").fill("Le port d'Istanbul")
    check.settle()
    visitor.audit()

    # --- The connection drops while she types: said, and the text is kept -------------------------
    page.context.set_offline(True)
    text_field(page, "French").fill(FRENCH + " Bienvenue !")
    page.wait_for_timeout(600)
    expect(page.locator("[data-connection-status]")).to_contain_text("Preview not updated: no connection")
    expect(text_field(page, "French")).to_have_value(FRENCH + " Bienvenue !")
    draft = stored_draft(page, editor)
    assert draft and draft["fields"]["variant_fr"] == FRENCH + " Bienvenue !"
    assert draft["fields"]["variant_nl"] == DUTCH
    page.context.set_offline(False)
    check.settle()

    # --- Back later: the editor offers the text back, never silently -------------------------------
    visitor.goto("/publications/new/")
    check.settle(typed=False)
    expect(page.get_by_label("Text in Dutch", exact=True)).to_have_value("")
    offer = page.locator(".draft-offer")
    expect(offer).to_contain_text("Restore your unsaved text from")
    visitor.audit()
    offer.get_by_role("button", name="Restore").click()
    expect(page.get_by_label("Text in Dutch", exact=True)).to_have_value(DUTCH)
    expect(page.get_by_label("Text in French", exact=True)).to_have_value(FRENCH + " Bienvenue !")
    expect(page.get_by_label("X @BelgiumInIstanbul")).to_be_checked()
    expect(page.get_by_label("Internal title")).to_have_value(TITLE)
    expect(page.get_by_label("Image description (alt text) in French")).to_have_value("Le port d'Istanbul")
    page.get_by_label("Add an image").set_input_files(photo)
    check.settle()

    # --- Submit for review: saved and sent in one step ----------------------------------------------
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()
    visitor.audit()
    expect(page.locator(".messages")).to_contain_text("Saved and sent to review.")
    publication = Publication.objects.get(title=TITLE)
    assert publication.status == PublicationStatus.IN_REVIEW
    assert {v.language: v.text for v in publication.variants.all()} == {
        "nl": DUTCH,
        "fr": FRENCH + " Bienvenue !",
    }
    assert publication.assets.count() == 1
    # Saved: the copy on the device is gone, and the next editor offers nothing.
    assert stored_draft(page, editor) is None
    visitor.goto("/publications/new/")
    check.settle(typed=False)
    expect(page.locator(".draft-offer")).to_have_count(0)
    assert stored_draft(page, editor) is None
