"""Replays of refused and successful writes through the views: after each step, every page
served from the cache is the page built with an empty cache.

The writes commit for real (`transaction=True`) and the cache is a real one (local memory),
as a server runs them; the test client's requests share one database connection with the
test, so whatever a refused write leaves behind on that connection is there for the next one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
import time_machine
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from calendar_app import workflow
from calendar_app.models import Publication
from diplomacy.models import Post
from tests.calendar_factories import make_publication
from tests.factories import make_channel

DAY = date(2026, 12, 10)
#: Istanbul publishes in nl, fr, en and tr.
TEXTS = {
    "nl": "Belgische bedrijven bezoeken Istanbul deze week.",
    "fr": "Des entreprises belges visitent Istanbul cette semaine.",
    "en": "Belgian companies visit Istanbul this week.",
    "tr": "Belçikalı şirketler bu hafta İstanbul'u ziyaret ediyor.",
}
CALENDAR = [f"/calendar/?view={view}&date={DAY.isoformat()}" for view in ("month", "week", "agenda")]
#: What differs from one response to the next whatever the data: the CSP nonce, the masked
#: CSRF token, the message that a redirect left for the next page.
_PER_RESPONSE = [
    (re.compile(r'nonce="[^"]*"'), 'nonce=""'),
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"'), 'name="csrfmiddlewaretoken" value=""'),
    (re.compile(r'<div class="messages" role="status">.*?</div>', re.DOTALL), ""),
]


@dataclass
class Network:
    editor: Client
    reviewer: Client
    without_french: Publication
    draft: Publication
    in_review: Publication

    def pages(self) -> list[tuple[Client, str]]:
        """Every page that shows fragments, as each persona sees it."""
        return [
            *((self.reviewer, url) for url in [*CALENDAR, "/approvals/", "/"]),
            *((self.reviewer, url) for url in ["/network/coverage/", "/network/activity/"]),
            *((self.editor, url) for url in [CALENDAR[0], "/", f"/publications/{self.draft.pk}/"]),
        ]


def shown(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    page = response.content.decode()
    for pattern, replacement in _PER_RESPONSE:
        page = pattern.sub(replacement, page)
    return "\n".join(line for line in page.splitlines() if line.strip())


def assert_every_page_is_as_built_afresh(network: Network, step: str) -> None:
    served = [shown(client, url) for client, url in network.pages()]
    cache.clear()
    afresh = [shown(client, url) for client, url in network.pages()]  # and cached again
    for (_client, url), page, fresh in zip(network.pages(), served, afresh, strict=True):
        if page != fresh:
            diff = difflib.unified_diff(fresh.splitlines(), page.splitlines(), "afresh", "served", n=1)
            pytest.fail(f"after {step}: {url} served stale\n" + "\n".join(list(diff)[:30]))


def current(publication: Publication) -> Publication:
    return Publication.objects.get(pk=publication.pk)


# --- The steps: each posts through a view (or writes as a view's code would) and says what it expects.


def refused_submission(network: Network) -> None:
    client, publication = network.editor, network.without_french
    client.post(f"/publications/{publication.pk}/submit/")
    assert current(publication).status == "draft"  # the guidelines want French


def move(network: Network) -> None:
    publication = current(network.without_french)
    network.editor.post(
        f"/publications/{publication.pk}/reschedule/",
        {"local_date": "2026-12-11", "local_time": "10:30", "revision": publication.revision},
    )
    assert current(publication).local_date == date(2026, 12, 11)


def submission(network: Network) -> None:
    network.editor.post(f"/publications/{network.draft.pk}/submit/")
    assert current(network.draft).status == "in_review"


def lost_compare_and_set(network: Network) -> None:
    """The editor moves the publication while the reviewer's form shows the revision before."""
    publication = current(network.in_review)
    url = f"/publications/{publication.pk}/reschedule/"
    seen = {"local_time": "09:00", "revision": publication.revision}
    network.editor.post(url, {**seen, "local_date": "2026-12-12"})
    network.reviewer.post(url, {**seen, "local_date": "2026-12-14"})
    assert current(publication).local_date == date(2026, 12, 12)  # the reviewer's move was refused


def approval(network: Network) -> None:
    publication = current(network.in_review)
    network.reviewer.post(f"/publications/{publication.pk}/approve/", {"revision": publication.revision})
    assert current(publication).status == "approved"


def refused_approval(network: Network) -> None:
    publication = current(network.in_review)
    network.reviewer.post(
        f"/publications/{publication.pk}/approve/",
        {"revision": publication.revision, "comment": "x" * (workflow.MAX_COMMENT + 1)},
    )
    assert current(publication).status == "in_review"


def stale_approval(network: Network) -> None:
    publication = current(network.in_review)
    network.reviewer.post(f"/publications/{publication.pk}/approve/", {"revision": publication.revision + 1})
    assert current(publication).status == "in_review"


def rolled_back_savepoint(network: Network) -> None:
    """A transaction renames the post in a savepoint it rolls back, then again for good."""
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            Post.objects.update(name="Never saved")
            Publication.objects.filter(pk=network.draft.pk).update(title="Never saved")
            raise RuntimeError
        Post.objects.update(name="Consulate-General of Belgium in İstanbul")
    assert Post.objects.get().name == "Consulate-General of Belgium in İstanbul"


def renamed_publication(network: Network) -> None:
    Publication.objects.filter(pk=network.draft.pk).update(title="Trade mission, renamed")


SCENARIOS: dict[str, list[Callable[[Network], None]]] = {
    "a submission refused by the guidelines, then a move": [refused_submission, move, submission],
    "a lost compare-and-set, then an approval": [lost_compare_and_set, approval],
    "a refused approval, then an approval": [refused_approval, stale_approval, approval],
    "a rolled-back savepoint, then a write": [rolled_back_savepoint, renamed_publication, submission],
}


@pytest.fixture
def network(settings, istanbul, editor, reviewer) -> Network:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    facebook = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    without_french = {language: text for language, text in TEXTS.items() if language != "fr"}

    def publication(title: str, variants: dict[str, str]) -> Publication:
        return make_publication(
            post=istanbul, author=editor, title=title, local_date=DAY, channels=[facebook], variants=variants
        )

    in_review = publication("Trade mission in review", TEXTS)
    workflow.submit(editor, in_review)
    editor_client, reviewer_client = Client(), Client()
    editor_client.force_login(editor)
    reviewer_client.force_login(reviewer)
    return Network(
        editor=editor_client,
        reviewer=reviewer_client,
        without_french=publication("Trade mission without French", without_french),
        draft=publication("Trade mission draft", TEXTS),
        in_review=current(in_review),
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_page_served_from_the_cache_is_the_page_built_afresh(network, steps):
    with time_machine.travel("2026-11-28 10:00:00+00:00", tick=False):
        assert_every_page_is_as_built_afresh(network, "nothing")  # and everything cached
        for step in steps:
            step(network)
            assert_every_page_is_as_built_afresh(network, step.__name__)
