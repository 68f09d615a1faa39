"""Exact query budgets of the pages people open every day.

Each page is rendered cold (empty cache) with a little data and with several times more;
the count must be the same at both sizes (no query per row) and equal to the pinned
figure. A change that adds a query to one of these pages changes this file, on purpose:
say in the commit why the page needs it.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Delivery, DeliveryPart, ProposalStatus, Publication, PublicationStatus
from calendar_app.publishing import engine, parts
from diplomacy.models import Channel
from tests.calendar_factories import make_campaign, make_proposal, make_publication
from tests.factories import make_channel, make_post

#: page name → (persona, url, query string, pinned count).
PAGES = {
    # The post's lists of publications needing a check and missed ones: two more.
    "home of a post editor": ("editor", "home", {}, 15),
    # Central's list of publications needing a check: one more.
    "home of a central reviewer": ("reviewer", "home", {}, 9),
    # Opened without filters, the calendar and the queue read the user's saved filters: one
    # more cold (kept in the cache while nobody saves filters).
    "month for a post editor": ("editor", "calendar", {"view": "month", "date": "2026-03-10"}, 15),
    "month for central": ("reviewer", "calendar", {"view": "month", "date": "2026-03-10"}, 15),
    "week for central": ("reviewer", "calendar", {"view": "week", "date": "2026-03-10"}, 14),
    "agenda for central": ("reviewer", "calendar", {"view": "agenda", "date": "2026-03-10"}, 13),
    "approval queue": ("reviewer", "approvals", {}, 12),
    "proposals for central": ("reviewer", "proposal_list", {}, 8),
    "proposals for a partner": ("partner_user", "proposal_list", {}, 6),
    "crisis list": ("reviewer", "crisis_list", {}, 12),
    "notifications": ("editor", "notification_list", {}, 8),
}

STATUSES = [
    PublicationStatus.DRAFT,
    PublicationStatus.IN_REVIEW,
    PublicationStatus.APPROVED,
    PublicationStatus.PUBLISHED,
    PublicationStatus.CHANGES_REQUESTED,
]


def _fill(*, copies: int, istanbul, editor, fit) -> None:
    """`copies` publications of each status on two posts, each on two channels with two
    languages, some in a campaign; and proposals of each status."""
    other = make_post(code=f"be-emb-test-{copies}", name=f"Embassy {copies}", city="Tokyo")
    campaign = make_campaign(partner=fit)
    for post in (istanbul, other):
        channels = [make_channel(post=post, platform="x"), make_channel(post=post, platform="facebook")]
        for n in range(copies):
            for status in STATUSES:
                make_publication(
                    post=post,
                    author=editor,
                    status=status,
                    local_date=date(2026, 3, 2 + n % 20),
                    local_time=time(9 + n % 8, 0),
                    channels=channels,
                    variants={"nl": f"Tekst {n}", "fr": f"Texte {n}"},
                    campaign=campaign if n % 2 else None,
                )
    for _ in range(copies):
        for status in (ProposalStatus.SUBMITTED, ProposalStatus.ACCEPTED, ProposalStatus.DRAFT):
            make_proposal(partner=fit, status=status)


def _count(client, url: str, query: dict) -> int:
    """The queries of one cold rendering of the page."""
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, query)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("name", list(PAGES))
def test_a_key_page_runs_its_pinned_number_of_queries_at_two_sizes(
    name, client, request, istanbul, editor, reviewer, partner_user, fit
):
    persona, url_name, query, pinned = PAGES[name]
    client.force_login(request.getfixturevalue(persona))
    url = reverse(url_name)
    _fill(copies=1, istanbul=istanbul, editor=editor, fit=fit)
    few = _count(client, url, query)
    _fill(copies=4, istanbul=istanbul, editor=editor, fit=fit)
    many = _count(client, url, query)
    assert (name, few, many) == (name, pinned, pinned)


def _channel(post, *, platform: str, plan: str, connector: str = "manual", languages: str = "") -> Channel:
    made = make_channel(post=post, platform=platform, content_languages=languages)
    Channel.objects.filter(pk=made.pk).update(language_plan=plan, connector=connector)
    return Channel.objects.get(pk=made.pk)


def _fill_due(*, copies: int, istanbul, editor, reviewer) -> None:
    """`copies` approved publications due now, each on three channels posted by hand (an X
    thread, a Facebook page, a French X account) and on a webhook thread whose first post's
    outcome is unknown; every other publication's manual deliveries frozen, the rest not."""
    channels = [
        _channel(istanbul, platform="x", plan="thread"),
        _channel(istanbul, platform="facebook", plan="combined"),
        _channel(istanbul, platform="x", plan="single", languages="fr"),
        _channel(istanbul, platform="mastodon", plan="thread", connector="webhook"),
    ]
    for n in range(copies):
        publication = make_publication(
            post=istanbul,
            author=editor,
            local_date=(timezone.now() + timedelta(days=3)).date(),
            channels=channels,
            variants={"nl": f"Tekst {n}", "fr": f"Texte {n}", "en": f"Text {n}", "tr": f"Metin {n}"},
        )
        workflow.submit(editor, publication)
        workflow.approve(reviewer, Publication.objects.get(pk=publication.pk), expected_revision=1)
        due = timezone.now() - timedelta(minutes=1)
        Publication.objects.filter(pk=publication.pk).update(scheduled_at=due)
        engine.create_due_deliveries(publication_id=publication.pk)
        for delivery in Delivery.objects.filter(publication=publication).select_related("channel__post"):
            if delivery.channel.connector == "webhook":
                parts.freeze(delivery)
                DeliveryPart.objects.filter(delivery=delivery, number=1).update(status="unknown")
                Delivery.objects.filter(pk=delivery.pk).update(status="unknown", error="No answer.")
            elif n % 2:
                parts.freeze(delivery)


def test_publish_now_runs_its_pinned_number_of_queries_at_two_sizes(client, istanbul, editor, reviewer):
    client.force_login(editor)
    url = reverse("publish_now")
    _fill_due(copies=1, istanbul=istanbul, editor=editor, reviewer=reviewer)
    few = _count(client, url, {})
    _fill_due(copies=4, istanbul=istanbul, editor=editor, reviewer=reviewer)
    many = _count(client, url, {})
    assert (few, many) == (10, 10)  # the paginator's count is one
    assert client.get(url).content.decode().count('class="card"') == 5 * 4
