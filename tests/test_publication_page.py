"""The publication page in sections: the facts, the actions in a side area, a table of
contents, then what goes out, review and comments, deliveries and history; long parts
folded until opened, and the same number of queries however long the thread is."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Comment, Delivery, DeliveryPart, Publication, PublicationEvent
from calendar_app.publishing import engine, parts
from calendar_app.views.publications import HISTORY_SHOWN_UNFOLDED
from diplomacy.models import Channel
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_user

pytestmark = pytest.mark.django_db

#: The queries of one cold rendering of the page, whatever its size.
PINNED = 16

SIDE_START = '<div role="region" aria-labelledby="actions-heading"'
CONTENTS_START = '<nav aria-label="On this page"'


def _channel(post, *, platform: str, plan: str, connector: str = "manual", languages: str = "") -> Channel:
    made = make_channel(post=post, platform=platform, content_languages=languages)
    Channel.objects.filter(pk=made.pk).update(language_plan=plan, connector=connector)
    return Channel.objects.get(pk=made.pk)


def _page(client, publication: Publication) -> str:
    response = client.get(reverse("publication_detail", args=[publication.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _side(page: str) -> str:
    """The side area of actions ("" when the page has none)."""
    if SIDE_START not in page:
        return ""
    return page[page.index(SIDE_START) : page.index(CONTENTS_START)]


def _contents(page: str) -> list[str]:
    """The targets of the table of contents, in order."""
    nav = page[page.index(CONTENTS_START) :]
    nav = nav[: nav.index("</nav>")]
    return re.findall(r'<a href="#([^"]+)"', nav)


def _in_review(istanbul, editor, *, channels=None) -> Publication:
    publication = make_publication(
        post=istanbul,
        author=editor,
        local_date=(timezone.now() + timedelta(days=5)).date(),
        channels=channels if channels is not None else [_channel(istanbul, platform="x", plan="thread")],
        variants={"nl": "Tekst", "fr": "Texte", "en": "Text", "tr": "Metin"},
    )
    workflow.submit(editor, publication)
    return Publication.objects.get(pk=publication.pk)


def _published(
    istanbul, editor, reviewer, *, channels: list[Channel], comments: int, events: int
) -> Publication:
    """A publication approved, then due, with one delivery a channel (a webhook thread's
    first post of unknown outcome, the rest recorded by hand), `comments` comments and
    `events` more rows of history."""
    publication = _in_review(istanbul, editor, channels=channels)
    workflow.approve(reviewer, publication, expected_revision=1)
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(minutes=1))
    engine.create_due_deliveries(publication_id=publication.pk)
    for delivery in Delivery.objects.filter(publication=publication).select_related("channel__post"):
        parts.freeze(delivery)
        if delivery.channel.connector == "webhook":
            DeliveryPart.objects.filter(delivery=delivery, number=1).update(status="unknown")
            Delivery.objects.filter(pk=delivery.pk).update(status="unknown", error="No answer.")
        else:
            Delivery.objects.filter(pk=delivery.pk).update(
                status="delivered", url=f"https://example.org/{delivery.pk}", delivered_at=timezone.now()
            )
    for n in range(comments):
        Comment.objects.create(
            publication=publication, author=reviewer if n % 2 else editor, text=f"Note {n}"
        )
    for n in range(events):
        PublicationEvent.objects.create(
            publication=publication,
            actor=editor if n % 2 else None,
            verb="edited",
            revision=1,
            comment=f"Step {n}",
        )
    return Publication.objects.get(pk=publication.pk)


# --- The sections and their table of contents -----------------------------------------------------


def test_the_contents_link_to_each_section_in_order_and_each_target_exists(
    client, istanbul, editor, reviewer
):
    channels = [
        _channel(istanbul, platform="x", plan="thread"),
        _channel(istanbul, platform="facebook", plan="combined"),
    ]
    publication = _published(istanbul, editor, reviewer, channels=channels, comments=1, events=0)
    client.force_login(editor)
    page = _page(client, publication)
    targets = _contents(page)
    assert targets == ["preview-heading", "review-heading", "deliveries-heading", "history-heading"]
    for target in targets:
        assert page.count(f'id="{target}"') == 1
    # The sections follow the contents, in the same order.
    positions = [page.index(f'<h2 id="{target}"') for target in targets]
    assert positions == sorted(positions)


def test_a_publication_without_deliveries_has_no_deliveries_section_in_its_contents(client, istanbul, editor):
    publication = _in_review(istanbul, editor)
    client.force_login(editor)
    page = _page(client, publication)
    assert _contents(page) == ["preview-heading", "review-heading", "history-heading"]
    assert 'id="deliveries-heading"' not in page


def test_the_review_section_holds_the_decisions_and_the_comments(client, istanbul, editor, reviewer):
    publication = _in_review(istanbul, editor)
    workflow.request_changes(reviewer, publication, expected_revision=1, comment="Shorter, please.")
    workflow.add_comment(editor, Publication.objects.get(pk=publication.pk), "Shortened it.")
    client.force_login(editor)
    page = _page(client, publication)
    review = page[page.index('<section aria-labelledby="review-heading"') :]
    review = review[: review.index("</section>")]
    assert ">Decisions</h3>" in review and "Shorter, please." in review
    assert 'id="comments"' in review and "Shortened it." in review
    assert reverse("publication_comment", args=[publication.pk]) in review


# --- The actions, in the side area ----------------------------------------------------------------


def test_the_reviewer_finds_every_action_in_the_side_area_the_forms_folded(
    client, istanbul, editor, reviewer
):
    publication = _in_review(istanbul, editor)
    client.force_login(reviewer)
    page = _page(client, publication)
    side = _side(page)
    for action in ("approve", "withdraw", "cancel", "request_changes"):
        assert reverse("publication_transition", args=[publication.pk, action]) in side
    assert reverse("publication_edit", args=[publication.pk]) in side
    assert reverse("publication_reschedule", args=[publication.pk]) in side
    assert reverse("publication_duplicate", args=[publication.pk]) in side
    # Requesting changes, moving and duplicating are folded until opened.
    assert side.count('<details class="action-fold">') == 3
    assert '<details class="action-fold" open>' not in side
    # No action left outside it (the comment form is the review section's).
    rest = page.replace(side, "")
    assert reverse("publication_transition", args=[publication.pk, "approve"]) not in rest
    assert reverse("publication_reschedule", args=[publication.pk]) not in rest


def test_the_editor_sends_to_review_from_the_side_area(client, istanbul, editor):
    publication = make_publication(
        post=istanbul, author=editor, channels=[_channel(istanbul, platform="x", plan="thread")]
    )
    client.force_login(editor)
    side = _side(_page(client, publication))
    assert reverse("publication_transition", args=[publication.pk, "submit"]) in side
    assert ">Send to review</button>" in side


def test_a_missed_publication_opens_its_reschedule_fold(client, istanbul, editor, reviewer):
    publication = _in_review(istanbul, editor)
    workflow.approve(reviewer, publication, expected_revision=1)
    Publication.objects.filter(pk=publication.pk).update(status="missed")
    client.force_login(editor)
    side = _side(_page(client, publication))
    assert '<details class="action-fold" open>' in side
    assert 'id="reschedule-heading">Reschedule</summary>' in side


def test_a_viewer_who_may_do_nothing_here_gets_no_side_area(client, istanbul, editor, reviewer, ankara):
    publication = _in_review(istanbul, editor)
    workflow.approve(reviewer, publication, expected_revision=1)
    stranger = make_user(email="editor.ankara@example.org", role="post_editor", post=ankara)
    client.force_login(stranger)
    page = _page(client, Publication.objects.get(pk=publication.pk))
    assert SIDE_START not in page
    assert 'class="publication-page"' in page


# --- Folds ------------------------------------------------------------------------------------------


def test_each_channel_is_folded_when_there_are_several(client, istanbul, editor):
    channels = [
        _channel(istanbul, platform="x", plan="thread"),
        _channel(istanbul, platform="facebook", plan="combined"),
    ]
    publication = _in_review(istanbul, editor, channels=channels)
    client.force_login(editor)
    page = _page(client, publication)
    assert page.count('<li class="sends-fold">') == 2
    assert page.count('<li class="sent sent-') == 2
    assert "<details open>" not in page
    # Folded, each channel still says what it sends: the posts and their counts.
    assert re.search(r"a thread of \d posts", page)


def test_a_single_channel_is_shown_open(client, istanbul, editor):
    publication = _in_review(istanbul, editor)
    client.force_login(editor)
    page = _page(client, publication)
    assert page.count('<li class="sends-fold">') == 1
    assert "<details open>" in page


def test_a_channel_that_sends_nothing_is_marked_on_its_fold(client, istanbul, editor):
    channels = [
        _channel(istanbul, platform="x", plan="single", languages="de"),
        _channel(istanbul, platform="facebook", plan="combined"),
    ]
    publication = make_publication(post=istanbul, author=editor, channels=channels)  # a draft
    client.force_login(editor)
    page = _page(client, publication)
    assert page.count('<li class="sends-fold sends-problem">') == 1
    assert "nothing to send" in page


def test_a_long_history_is_folded_and_a_short_one_is_not(client, istanbul, editor):
    publication = _in_review(istanbul, editor)
    client.force_login(editor)
    assert "history-fold" not in _page(client, publication)
    shown = publication.events.count()
    for _ in range(HISTORY_SHOWN_UNFOLDED - shown):
        PublicationEvent.objects.create(publication=publication, actor=editor, verb="edited", revision=1)
    assert "history-fold" not in _page(client, publication)
    PublicationEvent.objects.create(publication=publication, actor=editor, verb="edited", revision=1)
    page = _page(client, publication)
    assert f"Show all {HISTORY_SHOWN_UNFOLDED + 1} events</summary>" in page
    assert page.count('<ol class="history">') == 1


# --- Queries --------------------------------------------------------------------------------------


def _count(client, publication: Publication) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        _page(client, publication)
    return len(captured.captured_queries)


def test_the_page_runs_the_same_number_of_queries_however_long_its_thread(client, istanbul, editor, reviewer):
    def channels(n: int) -> list[Channel]:
        kinds = [
            ("x", "thread", "manual"),
            ("facebook", "combined", "manual"),
            ("mastodon", "thread", "webhook"),
        ]
        return [
            _channel(istanbul, platform=platform, plan=plan, connector=connector)
            for platform, plan, connector in (kinds * n)[: max(n, 3)]
        ]

    few = _published(istanbul, editor, reviewer, channels=channels(3), comments=1, events=1)
    many = _published(istanbul, editor, reviewer, channels=channels(9), comments=25, events=30)
    assert many.deliveries.count() == 9 and few.deliveries.count() == 3
    client.force_login(editor)
    assert (_count(client, few), _count(client, many)) == (PINNED, PINNED)
