"""The editor: its live preview, the live check against the counter, "Submit for review" from
the editor, and bad input (an image that is none, emoji only, right-to-left text, a plan
changed meanwhile)."""

import io
import re

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from calendar_app import counting
from calendar_app.models import Publication, PublicationStatus
from calendar_app.views.preview import Piece, initials, text_pieces
from diplomacy.models import Channel, Post
from tests.calendar_factories import make_publication
from tests.factories import make_channel

NOW = "2026-11-28 10:00:00+00:00"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def channel(post, platform: str, handle: str, plan: str = "thread", languages: str = "") -> Channel:
    made = make_channel(post=post, platform=platform, handle=handle, content_languages=languages)
    Channel.objects.filter(pk=made.pk).update(language_plan=plan)
    made.refresh_from_db()
    return made


def form_data(channels, texts, **extra) -> dict:
    data = {
        "post": "be-cg-istanbul",
        "title": "Flemish cleantech mission",
        "kind": "regular",
        "channels": [c.pk for c in channels],
        "local_date": "2026-12-10",
        "local_time": "09:00",
        **{f"variant_{language}": text for language, text in texts.items()},
    }
    data.update(extra)
    return data


def preview(client, channels, texts, **extra):
    return client.post(reverse("publication_preview"), form_data(channels, texts, **extra))


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "steelblue").save(buffer, "PNG")
    return buffer.getvalue()


# --- The live check sees the text as typed (the bug) ---------------------------------


@pytest.mark.parametrize("platform", sorted(counting.LIMITS))
def test_a_text_over_a_platforms_limit_is_reported_as_too_long_not_as_missing(
    client, editor, istanbul, platform
):
    Post.objects.filter(pk=istanbul.pk).update(publishing_languages="nl")
    target = channel(istanbul, platform, "@BelgieInIstanbul", "single", "nl")
    limit = counting.LIMITS[platform]
    # A link and an emoji, counted as the platform counts them (23 for a link on X...).
    start = "Lees meer op https://example.org/nieuws/2026 🇧🇪 "
    text = start + "n" * (limit + 111 - len(start))
    used = counting.count_for_platform(text, platform)
    assert used > limit
    client.force_login(editor)

    page = client.post(reverse("publication_check"), form_data([target], {"nl": text})).content.decode()

    length = re.search(r'<li class="check (check-\w+)">\s*<span[^>]*>.</span>\s*<a[^>]*>Text length', page)
    assert length and length.group(1) == "check-blocking"
    assert f"is {used} characters; the limit is {limit} ({used - limit} too many)." in page
    assert "Add the text in" not in page


def test_the_check_still_judges_a_combined_post_the_form_refuses(client, editor, istanbul):
    combined = channel(istanbul, "x", "@BelgiumIstanbulAll", "combined")
    client.force_login(editor)
    texts = {"nl": "n" * 176, "fr": "f" * 143, "en": "e" * 139, "tr": "t" * 20}
    page = client.post(reverse("publication_check"), form_data([combined], texts)).content.decode()
    assert "the combined post is" in page and "Add the text in" not in page


# --- The preview ----------------------------------------------------------------------------------


def test_the_preview_draws_each_channel_with_its_account_and_the_text_as_the_platform_shows_it(
    client, editor, istanbul
):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "nl,fr")
    client.force_login(editor)
    texts = {"nl": "Kom naar #TradeWeek met @FIT_Flanders: https://example.org/week", "fr": "Venez !"}

    response = preview(client, [x], texts, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "calendar_app/_preview.html"
    page = response.content.decode()
    assert "<html" not in page
    assert 'class="pv-avatar" aria-hidden="true">BI</span>' in page
    assert "Consulate-General of Belgium in Istanbul" in page and "@BelgiumInIstanbul" in page
    assert '<span class="pv-hashtag">#TradeWeek</span>' in page
    assert '<span class="pv-mention">@FIT_Flanders</span>' in page
    assert '<span class="pv-link">https://example.org/week</span>' in page
    # A thread is drawn as its parts, the second answering the first.
    assert page.count('<li class="pv-part') == 2 and "answers post 1" in page


def test_the_preview_cuts_links_hashtags_and_mentions_as_the_counter_finds_links():
    assert text_pieces("Voir www.diplomatie.be. #BE @a@mastodon.social fin") == [
        Piece("Voir "),
        Piece("www.diplomatie.be", "link"),
        Piece(". "),
        Piece("#BE", "hashtag"),
        Piece(" "),
        Piece("@a@mastodon.social", "mention"),
        Piece(" fin"),
    ]
    assert text_pieces("mail@example.org a#b") == [Piece("mail@example.org a#b")]


def test_an_avatar_takes_the_capitals_of_the_handle_or_its_first_letters(istanbul):
    assert initials(make_channel(post=istanbul, handle="@BelgiumInIstanbul")) == "BI"
    assert initials(make_channel(post=istanbul, handle="@belgique")) == "BE"


def test_the_preview_follows_the_channels_plan_as_it_is_now(client, editor, istanbul):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "nl,fr")
    client.force_login(editor)
    texts = {"nl": "Hallo.", "fr": "Bonjour."}
    assert preview(client, [x], texts).content.decode().count('<li class="pv-part') == 2

    # Its post manager makes it one combined post while the editor is open.
    Channel.objects.filter(pk=x.pk).update(language_plan="combined")
    page = preview(client, [x], texts).content.decode()
    assert page.count('<li class="pv-part') == 1 and "Hallo.<br><br>Bonjour." in page
    # The page's counters are told the plan as it is now.
    assert "&quot;plan&quot;: &quot;combined&quot;" in page

    # And an inactive channel is not previewed any more.
    Channel.objects.filter(pk=x.pk).update(active=False)
    assert '<li class="pv-part' not in preview(client, [x], texts).content.decode()


def test_the_preview_shows_a_saved_image_in_the_platforms_rendition_and_marks_a_new_one(
    client, editor, istanbul
):
    instagram = channel(istanbul, "instagram", "@belgium.istanbul", "combined", "en")
    client.force_login(editor)
    created = client.post(
        reverse("publication_new"),
        {
            **form_data([instagram], {"en": "A photo."}),
            "image": SimpleUploadedFile("p.png", png(), "image/png"),
            "alt_en": "The harbour",
        },
    )
    assert created.status_code == 302
    publication = Publication.objects.get()
    asset = publication.assets.get()

    page = preview(client, [instagram], {"en": "A photo."}, publication=publication.pk).content.decode()
    image = reverse("asset_file", args=[asset.pk, "portrait"])
    assert f'<img src="{image}" alt="The harbour" class="pv-image">' in page

    removed = preview(
        client,
        [instagram],
        {"en": "A photo."},
        publication=publication.pk,
        remove_asset=asset.pk,
        new_image="1",
    ).content.decode()
    assert image not in removed and "data-new-image" in removed


def test_the_preview_asks_the_same_queries_for_one_channel_and_for_four(client, editor, istanbul):
    channels = [channel(istanbul, p, f"@be{p}", "separate") for p in ("x", "facebook", "bluesky", "mastodon")]
    client.force_login(editor)
    texts = {"nl": "Hallo.", "en": "Hello."}
    preview(client, channels[:1], texts)  # the session and its user are loaded alike below

    with CaptureQueriesContext(connection) as one:
        preview(client, channels[:1], texts)
    with CaptureQueriesContext(connection) as four:
        assert "@bemastodon" in preview(client, channels, texts).content.decode()
    assert len(one.captured_queries) == len(four.captured_queries)


def test_the_preview_is_forbidden_to_another_posts_editor_and_outside_the_ministry(
    client, editor, ankara, partner_user, istanbul
):
    x = channel(istanbul, "x", "@BelgiumInIstanbul")
    client.force_login(editor)
    assert preview(client, [x], {"en": "Hi"}, post=ankara.code).status_code == 403
    client.force_login(partner_user)
    assert preview(client, [x], {"en": "Hi"}).status_code == 403
    client.logout()
    assert preview(client, [x], {"en": "Hi"}).status_code == 302
    client.force_login(editor)
    assert client.get(reverse("publication_preview")).status_code == 405
    assert preview(client, [x], {"en": "Hi"}, post="no-such-post").status_code == 404


def test_a_preview_of_nothing_invites_to_write_and_tick(client, editor, istanbul):
    client.force_login(editor)
    page = client.post(reverse("publication_preview"), {**form_data([], {}), "channels": ["abc", "-1"]})
    assert page.status_code == 200
    page = page.content.decode()
    assert "Tick a channel and write a text" in page


# --- Bad input ------------------------------------------------------------------------------------


def test_a_text_of_only_emoji_is_previewed_and_counted(client, editor, istanbul):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    client.force_login(editor)
    emoji = "🇧🇪🎉👩‍👩‍👧"
    response = preview(client, [x], {"en": emoji})
    page = response.content.decode()
    assert response.status_code == 200
    assert emoji in page
    assert f"{counting.count_for_platform(emoji, 'x')} / 280 characters" in page


def test_right_to_left_text_mixed_with_latin_keeps_its_direction(client, editor, istanbul):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "ar")
    Post.objects.filter(pk=istanbul.pk).update(host_languages="tr,ar")
    client.force_login(editor)
    mixed = "زوروا موقع Belgium.be اليوم #BelgiumInTurkey"
    page = preview(client, [x], {"ar": mixed}).content.decode()
    assert 'class="pv-text" dir="auto" lang="ar"' in page
    assert '<span class="pv-hashtag">#BelgiumInTurkey</span>' in page

    editor_page = client.get(reverse("publication_new")).content.decode()
    assert re.search(r'<textarea name="variant_ar"[^>]*dir="auto"', editor_page)


def test_a_file_that_is_no_image_is_refused_with_a_message_and_the_text_is_kept(client, editor, istanbul):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    client.force_login(editor)
    data = {
        **form_data([x], {"en": "Our text, kept."}),
        "image": SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
    }
    response = client.post(reverse("publication_new"), data)

    assert response.status_code == 400
    assert response.context["form"].errors["image"]
    assert "Our text, kept.</textarea>" in response.content.decode()
    assert not Publication.objects.exists()


# --- Submit for review from the editor --------------------------------------------------------------


def test_submit_for_review_saves_and_sends_the_new_publication_to_review(client, editor, istanbul):
    Post.objects.filter(pk=istanbul.pk).update(publishing_languages="en")
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    client.force_login(editor)

    response = client.post(reverse("publication_new"), {**form_data([x], {"en": "Hello."}), "then": "review"})

    publication = Publication.objects.get()
    assert response.status_code == 302 and response.url == publication.get_absolute_url()
    assert publication.status == PublicationStatus.IN_REVIEW
    assert publication.events.filter(verb="submit").count() == 1
    # The editor's copy kept in the browser may go: the save went through.
    assert response.cookies["editor_saved"].value == f"{editor.pk}:new-be-cg-istanbul"


def test_a_submission_the_guidelines_block_keeps_the_draft_and_says_why(client, editor, istanbul):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    client.force_login(editor)

    # The post publishes in Dutch, French, English and Turkish: English alone is not enough.
    response = client.post(
        reverse("publication_new"), {**form_data([x], {"en": "Hello."}), "then": "review"}, follow=True
    )

    publication = Publication.objects.get()
    assert publication.status == PublicationStatus.DRAFT
    assert publication.variants.get().text == "Hello."
    assert response.redirect_chain[-1][0] == reverse("publication_edit", args=[publication.pk])
    page = response.content.decode()
    assert (
        "Saved as a draft, but not sent to review: fix what the guidelines say first. Add the text in" in page
    )


def test_save_and_submit_on_the_edit_page_sends_a_draft_and_a_sent_back_publication(
    client, editor, reviewer, istanbul
):
    Post.objects.filter(pk=istanbul.pk).update(publishing_languages="en")
    istanbul.refresh_from_db()
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    client.force_login(editor)
    for status, verb in (("draft", "submit"), ("changes_requested", "resubmit")):
        publication = make_publication(
            post=istanbul, author=editor, status=status, channels=[x], variants={"en": "Hi."}
        )
        edit = reverse("publication_edit", args=[publication.pk])
        assert "Save and submit for review" in client.get(edit).content.decode()
        data = {**form_data([x], {"en": "Hello again."}), "revision": publication.revision, "then": "review"}

        response = client.post(edit, data)

        publication.refresh_from_db()
        assert response.status_code == 302
        assert publication.status == PublicationStatus.IN_REVIEW
        assert publication.events.filter(verb=verb).exists()
        assert response.cookies["editor_saved"].value.split("|")[-1] == f"{editor.pk}:{publication.pk}"


def test_the_edit_page_offers_no_submit_where_the_publication_cannot_be_sent(client, manager, istanbul):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    publication = make_publication(
        post=istanbul, author=manager, status="approved", channels=[x], variants={"en": "Hi."}
    )
    client.force_login(manager)
    page = client.get(reverse("publication_edit", args=[publication.pk])).content.decode()
    assert "Save and submit for review" not in page


def test_a_plain_save_sets_the_saved_cookie_and_a_refused_save_does_not(client, editor, istanbul):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    client.force_login(editor)
    refused = client.post(reverse("publication_new"), form_data([x], {"en": "x" * 300}))
    assert refused.status_code == 400 and "editor_saved" not in refused.cookies
    saved = client.post(reverse("publication_new"), form_data([x], {"en": "Fine."}))
    assert (
        saved.status_code == 302 and saved.cookies["editor_saved"].value == f"{editor.pk}:new-be-cg-istanbul"
    )


# --- Without JavaScript ------------------------------------------------------------------------------


def test_without_javascript_every_text_and_description_is_on_the_page_and_the_preview_waits_250_ms(
    client, editor, istanbul
):
    client.force_login(editor)
    page = client.get(reverse("publication_new")).content.decode()
    # The tabs are made by the page's script: the server draws every text, stacked.
    assert 'role="tablist"' not in page and "hidden" not in re.findall(r'<div class="variant[^>]*>', page)[0]
    for language in ("nl", "fr", "de", "en", "tr"):
        assert f'name="variant_{language}"' in page and f'name="alt_{language}"' in page
    # The descriptions are beside the image, not folded away.
    assert "<summary>Describe the image" not in page
    # The preview is asked for 250 ms after typing stops, the check later (it is heavier).
    assert 'hx-post="/publications/preview/" hx-trigger="load, input changed delay:250ms' in page
    assert page.count('<button type="submit"') >= 2 and 'name="then" value="review"' in page


# --- Review findings: saved copies, a session that ended, long texts, the machine check's link --------


def test_the_editors_copy_is_keyed_by_the_user_and_the_edit_page_names_the_revision(client, editor, istanbul):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    publication = make_publication(post=istanbul, author=editor, channels=[x], variants={"en": "Hi."})
    client.force_login(editor)

    new = client.get(reverse("publication_new")).content.decode()
    edit = client.get(reverse("publication_edit", args=[publication.pk])).content.decode()

    # On a shared computer, the next person's editor looks under another key.
    assert f'data-draft-key="{editor.pk}:new-be-cg-istanbul"' in new
    assert (
        f'data-draft-key="{editor.pk}:{publication.pk}" data-draft-revision="{publication.revision}"' in edit
    )


def test_every_page_loads_the_script_that_forgets_saved_copies_and_clears_them_on_logout(client, editor):
    client.force_login(editor)
    page = client.get(reverse("calendar")).content.decode()
    assert 'src="/static/js/saved_drafts.js"' in page and 'data-logout-url="/accounts/logout/"' in page


def test_the_saved_cookie_lists_every_save_not_yet_forgotten(client, editor, istanbul):
    Post.objects.filter(pk=istanbul.pk).update(publishing_languages="en")
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    client.force_login(editor)

    first = client.post(reverse("publication_new"), form_data([x], {"en": "First one"}))
    publication = Publication.objects.get()
    edit = reverse("publication_edit", args=[publication.pk])
    second = client.post(
        edit, {**form_data([x], {"en": "First one, better"}), "revision": publication.revision}
    )
    after_second = second.cookies["editor_saved"].value
    client.cookies["editor_saved"] = "junk;<script>|" + after_second
    third = client.post(reverse("publication_new"), form_data([x], {"en": "Second one"}))

    assert first.status_code == second.status_code == third.status_code == 302
    new_key, edit_key = f"{editor.pk}:new-be-cg-istanbul", f"{editor.pk}:{publication.pk}"
    assert after_second == f"{new_key}|{edit_key}"
    # Each key once, the latest last; what is not a key is dropped; never quoted.
    assert third.cookies["editor_saved"].value == f"{edit_key}|{new_key}"
    assert "editor_saved=" + f"{edit_key}|{new_key};" in third.cookies.output()


@pytest.mark.parametrize("name", ["publication_preview", "publication_check"])
def test_a_live_request_after_the_session_ended_gets_401_and_a_short_message_not_the_login_page(
    client, istanbul, name
):
    response = client.post(reverse(name), form_data([], {"en": "Hi."}), headers={"HX-Request": "true"})

    assert response.status_code == 401
    page = response.content.decode()
    assert "Your session has ended. Your text is kept on this device" in page
    assert "<form" not in page and "<html" not in page and "password" not in page.lower()
    # Without HTMX it is a plain page request: the login page, as before.
    plain = client.post(reverse(name), form_data([], {"en": "Hi."}))
    assert plain.status_code == 302 and plain.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("field", ["variant_en", "variant_en__x"])
def test_a_text_longer_than_the_form_takes_is_refused_by_the_preview_with_400_and_a_short_message(
    client, editor, istanbul, field
):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "en")
    client.force_login(editor)

    response = client.post(
        reverse("publication_preview"), {**form_data([x], {"en": "Hi."}), field: "a" * 63207}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "This text is too long: at most 63,206 characters." in page
    assert "pv-part" not in page and "aaaaaaaaaa" not in page
    fits = client.post(reverse("publication_preview"), {**form_data([x], {"en": "Hi."}), field: "a" * 63206})
    assert fits.status_code == 200


def test_the_preview_draws_at_most_so_many_posts_a_channel_and_counts_the_rest(
    client, editor, istanbul, monkeypatch
):
    Post.objects.filter(pk=istanbul.pk).update(publishing_languages="nl,fr,en")
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "separate", "nl,fr,en")
    client.force_login(editor)
    monkeypatch.setattr("calendar_app.views.preview.PREVIEW_PARTS", 1)

    page = preview(client, [x], {"nl": "Hallo.", "fr": "Bonjour.", "en": "Hello."}).content.decode()

    assert page.count('<li class="pv-part') == 1 and "and 2 more posts" in page
    monkeypatch.setattr("calendar_app.views.preview.PREVIEW_PARTS", 2)
    page = preview(client, [x], {"nl": "Hallo.", "fr": "Bonjour.", "en": "Hello."}).content.decode()
    assert page.count('<li class="pv-part') == 2 and "and 1 more post<" in page


def test_an_unchecked_machine_translation_links_to_the_editor_for_those_who_may_edit(
    client, editor, istanbul
):
    x = channel(istanbul, "x", "@BelgiumInIstanbul", "thread", "fr")
    publication = make_publication(post=istanbul, author=editor, channels=[x], variants={"fr": "Bonjour."})
    publication.variants.update(machine_translated="libretranslate", translated_from="nl")
    client.force_login(editor)

    page = client.get(publication.get_absolute_url()).content.decode()

    edit = reverse("publication_edit", args=[publication.pk])
    assert f'<a href="{edit}">To correct it, edit the publication.</a>' in page
    assert "edit the text below" not in page
