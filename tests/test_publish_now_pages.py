"""'Publish now' lists every delivery waiting for a person, a page at a time: no cap, page
links that work without JavaScript, the same queries however many there are."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Publication, PublicationStatus
from calendar_app.publishing import engine
from calendar_app.views.publishing import PUBLISH_NOW_PAGE
from tests.calendar_factories import make_publication
from tests.factories import make_channel


def _due_by_hand(post, author, count: int, *, start: int = 0) -> None:
    """`count` approved publications due a few minutes ago, each on one channel posted by hand."""
    channel = make_channel(post=post, platform="facebook", handle=f"@page{start}")
    now = timezone.now()
    for n in range(start, start + count):
        publication = make_publication(
            post=post,
            author=author,
            status=PublicationStatus.APPROVED,
            channels=[channel],
            title=f"Due {n:03d}",
        )
        # Ordered by time: the n-th is the n-th on the list.
        due = now - timedelta(minutes=10) + timedelta(seconds=n)
        Publication.objects.filter(pk=publication.pk).update(scheduled_at=due)
    engine.create_due_deliveries()


def _titles(client, **query) -> list[str]:
    page = client.get(reverse("publish_now"), query).content.decode()
    return [line.split(">")[1].split("<")[0] for line in page.split('<h2><a href="/publications/')[1:]]


def test_more_than_a_hundred_deliveries_are_all_reachable_page_by_page(client, istanbul, editor):
    _due_by_hand(istanbul, editor, 120)
    client.force_login(editor)
    seen: list[str] = []
    page = 1
    while True:
        titles = _titles(client, page=page)
        assert len(titles) <= PUBLISH_NOW_PAGE
        seen += titles
        html = client.get(reverse("publish_now"), {"page": page}).content.decode()
        if f'href="?page={page + 1}" rel="next"' not in html:
            break
        page += 1
    assert seen == [f"Due {n:03d}" for n in range(120)]
    assert page == -(-120 // PUBLISH_NOW_PAGE)


def test_the_page_links_and_the_count_are_plain_links(client, istanbul, editor):
    _due_by_hand(istanbul, editor, PUBLISH_NOW_PAGE + 1)
    client.force_login(editor)
    first = client.get(reverse("publish_now")).content.decode()
    assert '<nav aria-label="Pages" class="pagination">' in first
    assert 'href="?page=2" rel="next">Next page</a>' in first
    assert "Page 1 of 2" in first
    second = client.get(reverse("publish_now"), {"page": 2}).content.decode()
    assert 'href="?page=1" rel="prev">Previous page</a>' in second


@pytest.mark.parametrize("asked", ["0", "-1", "abc", "999", ""])
def test_a_page_number_out_of_range_or_nonsense_shows_a_page_not_an_error(client, istanbul, editor, asked):
    _due_by_hand(istanbul, editor, PUBLISH_NOW_PAGE + 1)
    client.force_login(editor)
    response = client.get(reverse("publish_now"), {"page": asked})
    assert response.status_code == 200
    assert response.content.decode().count('class="card"') in (1, PUBLISH_NOW_PAGE)


def test_one_page_shows_no_page_links(client, istanbul, editor):
    _due_by_hand(istanbul, editor, 3)
    client.force_login(editor)
    page = client.get(reverse("publish_now")).content.decode()
    assert 'class="pagination"' not in page
    assert page.count('class="card"') == 3


def _count(client) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("publish_now"))
    assert response.status_code == 200
    return len(queries)


def test_publish_now_runs_the_same_queries_with_a_few_and_with_many_deliveries(client, istanbul, editor):
    client.force_login(editor)
    _due_by_hand(istanbul, editor, 3)
    few = _count(client)
    _due_by_hand(istanbul, editor, 3 * PUBLISH_NOW_PAGE, start=3)
    many = _count(client)
    assert few == many
