"""Every page shows, and every check judges, the exact posts each channel sends: the editor's
form, the live check, the publication page, the approval queue cards and "publish now"."""

from datetime import date, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Delivery, Publication, PublicationRevision
from calendar_app.publishing import engine, parts
from diplomacy.models import Channel
from tests.calendar_factories import make_publication
from tests.factories import make_channel

NOW = "2026-11-28 10:00:00+00:00"

#: The issue's case: each text fits X alone; together, in one post, 462 characters.
LONG = {"nl": "n" * 176, "fr": "f" * 143, "en": "e" * 139}
TEXTS = {
    "nl": "Belgische bedrijven bezoeken Istanbul deze week.",
    "fr": "Des entreprises belges visitent Istanbul cette semaine.",
    "en": "Belgian companies visit Istanbul this week.",
    "tr": "Belçikalı şirketler bu hafta İstanbul'u ziyaret ediyor.",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def channel(post, platform: str, handle: str, plan: str, languages: str = "") -> Channel:
    """A channel with its language plan; no languages of its own means the post's policy."""
    made = make_channel(post=post, platform=platform, handle=handle, content_languages=languages)
    Channel.objects.filter(pk=made.pk).update(language_plan=plan)
    made.refresh_from_db()
    return made


@pytest.fixture
def x_thread(istanbul):
    return channel(istanbul, "x", "@BelgiumInIstanbul", "thread")


@pytest.fixture
def x_combined(istanbul):
    return channel(istanbul, "x", "@BelgiumIstanbulAll", "combined")


@pytest.fixture
def facebook(istanbul):
    return channel(istanbul, "facebook", "@Belgium.Istanbul", "combined")


@pytest.fixture
def french_only(istanbul):
    return channel(istanbul, "x", "@BelgiqueTurquie", "single", "fr")


def form_data(channels, texts, **extra) -> dict:
    data = {
        "title": "Flemish cleantech mission",
        "kind": "regular",
        "channels": [c.pk for c in channels],
        "local_date": "2026-12-10",
        "local_time": "09:00",
        **{f"variant_{language}": text for language, text in texts.items()},
    }
    data.update(extra)
    return data


def check(client, channels, texts, **extra):
    return client.post(
        reverse("publication_check"), {"post": "be-cg-istanbul", **form_data(channels, texts, **extra)}
    )


# --- The editor's form ---------------------------------------------------------------------


def test_a_combined_post_too_long_for_x_is_refused_naming_the_channel_and_the_way_out(
    client, editor, x_combined
):
    client.force_login(editor)
    response = client.post(reverse("publication_new"), form_data([x_combined], LONG))

    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "X @BelgiumIstanbulAll: the combined post is 462 characters; the limit is 280 (182 too many). "
        "Its post manager can make it a thread: one post per language."
    ]
    assert not Publication.objects.exists()


def test_the_same_texts_as_a_thread_are_saved(client, editor, x_thread):
    client.force_login(editor)
    assert client.post(reverse("publication_new"), form_data([x_thread], LONG)).status_code == 302


def test_a_one_language_post_too_long_is_an_error_on_that_languages_text(client, editor, x_thread):
    client.force_login(editor)
    response = client.post(reverse("publication_new"), form_data([x_thread], {**LONG, "fr": "f" * 300}))

    errors = response.context["form"].errors
    assert response.status_code == 400
    assert errors == {"variant_fr": ["Too long for X @BelgiumInIstanbul: 300 of 280 characters."]}


def test_a_too_long_text_for_one_platform_is_an_error_on_that_text(client, editor, x_thread):
    client.force_login(editor)
    data = form_data([x_thread], {"fr": "Court."}, variant_fr__x="f" * 281)

    errors = client.post(reverse("publication_new"), data).context["form"].errors

    assert errors == {"variant_fr__x": ["Too long for X @BelgiumInIstanbul: 281 of 280 characters."]}


def test_a_text_a_one_language_channel_does_not_send_is_not_measured_there(client, editor, french_only):
    client.force_login(editor)
    data = form_data([french_only], {"fr": "Bonjour Istanbul.", "nl": "n" * 400})
    assert client.post(reverse("publication_new"), data).status_code == 302


# --- The live check ------------------------------------------------------------------------


def test_the_live_check_shows_each_post_of_a_thread_with_its_count(client, editor, x_thread, french_only):
    client.force_login(editor)
    page = check(client, [x_thread, french_only], TEXTS).content.decode()

    assert "What each channel sends" in page
    assert "A thread: one post per language, each answering the one before" in page
    assert "Post 2 of 4 · French · answers post 1" in page
    thread = page[page.index("@BelgiumInIstanbul") :]
    assert thread.index(TEXTS["nl"]) < thread.index(TEXTS["fr"]) < thread.index(TEXTS["en"])
    assert "48 / 280 characters" in page  # the Dutch text
    # The French-only account: only French, the others left out.
    assert "One language only: the account publishes in one language" in page
    assert "Not sent on this channel: English (en), Dutch (nl), Turkish (tr)" in page


def test_the_live_check_shows_a_combined_post_over_the_limit_and_fails_the_rule(client, editor, x_combined):
    client.force_login(editor)
    page = check(client, [x_combined], LONG).content.decode()

    assert "462 / 280 characters — 182 too many" in page
    assert "part-over" in page
    assert "the combined post is 462 characters" in page
    assert "check-blocking" in page


def test_the_live_check_names_a_ticked_channel_with_nothing_to_send(client, editor, french_only):
    client.force_login(editor)
    page = check(client, [french_only], {"nl": "Hallo Istanbul."}).content.decode()

    assert "X @BelgiqueTurquie publishes in French (fr): write the text in one of them" in page
    assert "Nothing to send: this channel publishes in French (fr) and there is no text in them." in page


@pytest.mark.parametrize(
    "channels",
    [["not-a-number"], ["999999"], ["-1"], ["1e3"]],
)
def test_the_live_check_with_a_forged_channel_answers_without_a_server_error(
    client, editor, x_thread, channels
):
    client.force_login(editor)
    data = {"post": "be-cg-istanbul", **form_data([], TEXTS), "channels": channels}
    response = client.post(reverse("publication_check"), data)
    assert response.status_code == 200
    assert "What each channel sends" not in response.content.decode()


def test_the_live_check_of_a_channel_of_another_post_sends_nothing_there(client, editor, ankara):
    other = channel(ankara, "x", "@BelgiumInAnkara", "thread")
    client.force_login(editor)
    page = check(client, [other], TEXTS).content.decode()
    assert "@BelgiumInAnkara" not in page


def test_a_one_language_channel_in_a_language_the_editor_does_not_offer_is_named(client, editor, istanbul):
    """Arabic is neither a network language nor one of the post's: no text can reach it."""
    arabic = channel(istanbul, "x", "@BelgiumArabic", "single", "ar")
    client.force_login(editor)
    page = check(client, [arabic], TEXTS).content.decode()
    assert "X @BelgiumArabic publishes in Arabic (ar): write the text in one of them" in page


def test_the_live_check_names_a_channel_that_publishes_no_language(client, editor, istanbul):
    """A post without a policy and a channel without languages: the guideline names it."""
    istanbul.publishing_languages = ""
    istanbul.save()
    silent = make_channel(post=istanbul, platform="facebook", handle="@Silent", content_languages="")
    client.force_login(editor)
    page = check(client, [silent], TEXTS).content.decode()
    assert "Facebook @Silent publishes no language" in page
    assert "Nothing to send: this channel publishes no language." in page


# --- The publication page, the queue, "publish now" ---------------------------------------------


def test_the_publication_page_shows_what_each_channel_sends(client, editor, istanbul, x_thread, facebook):
    publication = make_publication(
        post=istanbul, author=editor, channels=[x_thread, facebook], variants=TEXTS
    )
    client.force_login(editor)
    page = client.get(publication.get_absolute_url()).content.decode()

    assert "Post 4 of 4 · Turkish · answers post 3" in page
    # Facebook: the four languages under each other, in the post's order, in one post.
    combined = "<br><br>".join(TEXTS[language] for language in ("nl", "fr", "en", "tr"))
    assert combined.replace("'", "&#x27;") in page
    assert "Dutch, French, English, Turkish" in page


def test_the_publication_page_asks_no_query_per_channel(client, editor, istanbul):
    channels = [channel(istanbul, "x", "@One", "thread")]
    publication = make_publication(post=istanbul, author=editor, channels=channels, variants=TEXTS)
    client.force_login(editor)
    client.get(publication.get_absolute_url())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(publication.get_absolute_url()).status_code == 200
        return len(captured)

    few = queries()
    more = [channel(istanbul, platform, f"@{platform}", "combined") for platform in ("facebook", "linkedin")]
    publication.channels.add(*more, channel(istanbul, "bluesky", "@Two", "thread"))
    assert queries() == few


def test_a_queue_card_counts_each_post_and_highlights_the_one_over_the_limit(
    client, reviewer, editor, istanbul, x_combined, x_thread
):
    publication = make_publication(
        post=istanbul,
        author=editor,
        status="in_review",
        local_date=date(2026, 12, 10),
        channels=[x_combined, x_thread],
        variants=LONG,
    )
    PublicationRevision.objects.create(publication=publication, number=1, content={}, submitted_by=editor)
    client.force_login(reviewer)
    page = client.get(reverse("approvals")).content.decode()

    start = page.index('class="sends-compact"')
    card = page[start : page.index("</ul>", start)]
    assert '<span class="part-count over">Dutch, French, English 462 / 280' in card
    assert "a thread of 3 posts" in card
    assert '<span class="part-count">Dutch 176 / 280</span>' in card
    assert LONG["nl"] not in card  # counts only: the texts are shown once, beside it


@pytest.fixture
def approved_on_x_by_hand(istanbul, editor, reviewer, x_thread, french_only):
    publication = make_publication(
        post=istanbul,
        author=editor,
        local_date=(timezone.now() + timedelta(days=3)).date(),
        channels=[x_thread, french_only],
        variants=TEXTS,
    )
    workflow.submit(editor, publication)
    workflow.approve(reviewer, Publication.objects.get(pk=publication.pk), expected_revision=1)
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(seconds=5))
    return publication


def test_publish_now_lists_each_post_in_order_with_a_copy_button(client, editor, approved_on_x_by_hand):
    client.force_login(editor)
    page = client.get(reverse("publish_now")).content.decode()
    thread = Delivery.objects.get(channel__handle="@BelgiumInIstanbul")

    assert page.count("copy-button") == 5  # four posts of the thread, one of the French account
    assert f'data-copy="text-{thread.pk}-2"' in page
    assert "Post 2 answers post 1: post it as a reply to post 1." in page
    assert page.index(f'id="text-{thread.pk}-1"') < page.index(f'id="text-{thread.pk}-2"')
    assert "Copy post 4" in page
    assert "Not sent on this channel: English (en), Dutch (nl), Turkish (tr)" in page


def test_publish_now_shows_the_approved_text_not_a_later_edit(client, editor, approved_on_x_by_hand):
    approved_on_x_by_hand.variants.filter(language="fr").update(text="Modifié après l'approbation.")
    engine.create_due_deliveries()
    client.force_login(editor)
    page = client.get(reverse("publish_now")).content.decode()
    assert TEXTS["fr"].replace("'", "&#x27;") in page
    assert "Modifié" not in page


def test_publish_now_shows_the_parts_a_delivery_was_frozen_with_even_if_the_channel_changed_since(
    client, editor, approved_on_x_by_hand, x_thread
):
    engine.create_due_deliveries()
    delivery = Delivery.objects.get(channel=x_thread)
    parts.freeze(delivery)  # claimed: what goes out is fixed
    Delivery.objects.filter(pk=delivery.pk).update(status="unknown", error="No answer from X.")
    Channel.objects.filter(pk=x_thread.pk).update(language_plan="combined")
    client.force_login(editor)
    page = client.get(reverse("publish_now")).content.decode()
    assert "Post 4 of 4 · Turkish" in page
    assert "Post 2 answers post 1: post it as a reply to post 1." in page
    assert "No answer from X." in page


def test_the_approved_contents_of_many_publications_are_those_read_one_by_one(
    editor, manager, reviewer, istanbul, approved_on_x_by_hand, x_thread
):
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    advisory = workflow.break_glass(
        manager,
        crisis,
        istanbul,
        workflow.AdvisoryContent(title="Stay indoors", variants=TEXTS, platforms=["x"]),
        reason="Headquarters unreachable.",
    )
    draft = make_publication(post=istanbul, author=editor, channels=[x_thread], variants=TEXTS)
    listed = [approved_on_x_by_hand, advisory, draft]

    batched = parts.approved_contents(listed)

    assert batched == {
        approved_on_x_by_hand.pk: parts.approved_content(approved_on_x_by_hand),
        advisory.pk: parts.approved_content(advisory),
    }
    assert batched[advisory.pk].texts["nl"] == TEXTS["nl"]


def test_publish_now_reads_the_approved_texts_once_for_all_its_cards(client, editor, approved_on_x_by_hand):
    engine.create_due_deliveries()
    client.force_login(editor)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(reverse("publish_now")).content.decode()
    reviews = [q for q in captured.captured_queries if 'FROM "calendar_app_review"' in q["sql"]]
    assert page.count('class="card"') == 2
    assert len(reviews) == 1
