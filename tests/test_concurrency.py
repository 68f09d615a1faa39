"""Two people acting on the same publication at the same moment: exactly one wins, the other is told.

These run real threads against a real database (`transaction=True`), on SQLite (IMMEDIATE
transactions serialise the writers; the 20 s busy timeout absorbs the wait) and on PostgreSQL
(row locks; CI runs the suite with DATABASE_URL pointing there).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import date, time

import pytest
import time_machine
from django.db import connection

from calendar_app import workflow
from calendar_app.models import Publication, PublicationEvent, PublicationStatus, Review
from calendar_app.workflow import PublicationContent
from tests.calendar_factories import make_publication
from tests.factories import make_channel

NOW = "2026-11-28 10:00:00+00:00"
DAY = date(2026, 12, 10)
TEXTS = {
    "nl": "Belgische bedrijven bezoeken Istanbul.",
    "fr": "Des entreprises belges visitent Istanbul.",
    "en": "Belgian companies visit Istanbul.",
    "tr": "Belçikalı şirketler İstanbul'u ziyaret ediyor.",
}
S = PublicationStatus
#: What the loser may see: a clean refusal, never a database error.
CLEAN_REFUSALS = ("StaleEdit", "TransitionNotAllowed")
ROUNDS = 3


@pytest.fixture(scope="module", autouse=True)
def _sqlite_on_a_file(django_db_setup, django_db_blocker, tmp_path_factory):
    """On SQLite, race on a database file in WAL mode, as production runs.

    pytest-django's default SQLite test database lives in memory with a shared cache, whose
    table locks fail at once ("database table is locked") instead of waiting for the busy
    timeout: that would test the test set-up, not the application. The migrated schema is
    copied to a file for this module (SQLITE_TEST_PATH makes every test use a file already).
    """
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    with django_db_blocker.unblock():
        in_memory = connection.settings_dict["NAME"]
        keeper = sqlite3.connect(in_memory, uri=True)  # keeps the shared in-memory database alive
        path = str(tmp_path_factory.mktemp("race") / "race.sqlite3")
        copy = sqlite3.connect(path)
        keeper.backup(copy)
        copy.execute("PRAGMA journal_mode=WAL")
        copy.close()
        connection.settings_dict["NAME"] = path
        connection.close()
        yield
        connection.close()
        connection.settings_dict["NAME"] = in_memory
        connection.ensure_connection()
        keeper.close()


@pytest.fixture(autouse=True)
def frozen():
    # tick=True: the threads need a clock that moves (SQLite's busy timeout, PostgreSQL's lock waits).
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def facebook(istanbul):
    return make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")


def race(*workers: tuple[Callable[[], object], Callable[[object], object]]) -> list[str]:
    """Run each (load, act) pair in its own thread: all load, then all act at once.

    Returns each worker's outcome: "ok" or the name of the exception it raised.
    """
    barrier = threading.Barrier(len(workers))
    outcomes: list[str] = [""] * len(workers)

    def run(index: int, load: Callable[[], object], act: Callable[[object], object]) -> None:
        try:
            loaded = load()
            barrier.wait(timeout=30)
            act(loaded)
            outcomes[index] = "ok"
        except Exception as exc:  # the outcome is what the test checks
            name = type(exc).__name__
            outcomes[index] = name if name in CLEAN_REFUSALS else f"{name}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, *worker)) for i, worker in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck"
    return outcomes


def submitted(editor, istanbul, facebook, title: str) -> Publication:
    publication = make_publication(
        post=istanbul, author=editor, title=title, local_date=DAY, channels=[facebook], variants=TEXTS
    )
    workflow.submit(editor, publication)
    return Publication.objects.get(pk=publication.pk)


def load(pk: int) -> Callable[[], Publication]:
    def loader() -> Publication:
        publication = Publication.objects.get(pk=pk)
        assert publication.latest_revision is not None  # what the reviewer's page showed
        return publication

    return loader


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_at_once_make_exactly_one_decision(
    editor, istanbul, facebook, reviewer, second_reviewer
):
    for round_number in range(ROUNDS):
        publication = submitted(editor, istanbul, facebook, f"Round {round_number}")
        outcomes = race(
            (load(publication.pk), lambda p: workflow.approve(reviewer, p, expected_revision=p.revision)),
            (
                load(publication.pk),
                lambda p: workflow.request_changes(
                    second_reviewer, p, expected_revision=p.revision, comment="Add the date."
                ),
            ),
        )
        assert outcomes.count("ok") == 1, outcomes
        assert all(outcome == "ok" or outcome in CLEAN_REFUSALS for outcome in outcomes), outcomes
        winner = "approve" if outcomes[0] == "ok" else "request_changes"
        reviews = list(Review.objects.filter(publication=publication))
        assert [review.decision for review in reviews] == [winner]
        decisions = PublicationEvent.objects.filter(
            publication=publication, verb__in=["approve", "request_changes"]
        )
        assert list(decisions.values_list("verb", flat=True)) == [winner]
        expected_status = S.APPROVED if winner == "approve" else S.CHANGES_REQUESTED
        assert Publication.objects.get(pk=publication.pk).status == expected_status


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_approve_once(editor, istanbul, facebook, reviewer, second_reviewer):
    publication = submitted(editor, istanbul, facebook, "Both approve")
    outcomes = race(
        *[
            (load(publication.pk), lambda p, who=who: workflow.approve(who, p, expected_revision=p.revision))
            for who in (reviewer, second_reviewer)
        ]
    )
    assert sorted(outcomes) == ["StaleEdit", "ok"], outcomes
    assert Review.objects.filter(publication=publication).count() == 1
    assert PublicationEvent.objects.filter(publication=publication, verb="approve").count() == 1
    assert Publication.objects.get(pk=publication.pk).status == S.APPROVED


def content(channel, **extra) -> PublicationContent:
    values = {
        "title": "Cleantech mission",
        "kind": "regular",
        "campaign": None,
        "channels": [channel],
        "local_date": DAY,
        "local_time": time(9, 0),
        "variants": dict(TEXTS),
    }
    values.update(extra)
    return PublicationContent(**values)


@pytest.mark.django_db(transaction=True)
def test_two_editors_saving_at_once_one_wins_and_the_other_gets_stale_edit(
    editor, manager, istanbul, facebook
):
    for round_number in range(ROUNDS):
        publication = make_publication(
            post=istanbul, author=editor, title=f"Round {round_number}", local_date=DAY, channels=[facebook]
        )

        def save(who, title):
            return lambda p: workflow.update_publication(
                who, p, content(facebook, title=title), expected_revision=p.revision
            )

        outcomes = race(
            (lambda pk=publication.pk: Publication.objects.get(pk=pk), save(editor, "The editor's title")),
            (lambda pk=publication.pk: Publication.objects.get(pk=pk), save(manager, "The manager's title")),
        )
        assert sorted(outcomes) == ["StaleEdit", "ok"], outcomes
        saved = Publication.objects.get(pk=publication.pk)
        winner_title = "The editor's title" if outcomes[0] == "ok" else "The manager's title"
        assert (saved.title, saved.revision) == (winner_title, 2)
        assert PublicationEvent.objects.filter(publication=publication, verb="edited").count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_edit_racing_an_approval_ends_cleanly_and_keeps_the_edit(editor, reviewer, istanbul, facebook):
    for round_number in range(ROUNDS):
        publication = submitted(editor, istanbul, facebook, f"Round {round_number}")
        changed = content(facebook, title=publication.title, variants={**TEXTS, "en": "A different text."})
        outcomes = race(
            (load(publication.pk), lambda p: workflow.approve(reviewer, p, expected_revision=p.revision)),
            (
                load(publication.pk),
                lambda p, changed=changed: workflow.update_publication(
                    editor, p, changed, expected_revision=p.revision
                ),
            ),
        )
        assert all(outcome == "ok" or outcome in CLEAN_REFUSALS for outcome in outcomes), outcomes
        # Whether the approval or the edit came first, the edit is never lost.
        final = Publication.objects.get(pk=publication.pk)
        assert final.revision == 2
        assert final.variants.get(language="en").text == "A different text."
        assert Review.objects.filter(publication=publication).count() <= 1


# --- The same interleavings, made deterministic -----------------------------------------------


@pytest.fixture
def no_tick():
    with time_machine.travel(NOW, tick=False):
        yield


def test_an_edit_saved_just_after_an_approval_sends_the_publication_back_to_review(
    editor, reviewer, istanbul, facebook, no_tick
):
    publication = submitted(editor, istanbul, facebook, "Cleantech mission")
    editors_copy = Publication.objects.get(pk=publication.pk)  # the editor opens the form (in review)
    workflow.approve(reviewer, Publication.objects.get(pk=publication.pk), expected_revision=1)
    changed = content(facebook, variants={**TEXTS, "en": "A text nobody approved."})
    workflow.update_publication(editor, editors_copy, changed, expected_revision=1)
    final = Publication.objects.get(pk=publication.pk)
    assert final.status == S.IN_REVIEW


def test_a_reviewer_deciding_on_a_page_loaded_before_another_decision_is_refused_cleanly(
    editor, reviewer, second_reviewer, istanbul, facebook, no_tick
):
    publication = submitted(editor, istanbul, facebook, "Cleantech mission")
    first_page = Publication.objects.get(pk=publication.pk)
    second_page = Publication.objects.get(pk=publication.pk)
    assert first_page.latest_revision and second_page.latest_revision
    workflow.approve(reviewer, first_page, expected_revision=1)
    with pytest.raises(workflow.StaleEdit) as refused:
        workflow.request_changes(second_reviewer, second_page, expected_revision=1, comment="Add the date.")
    assert refused.value.current.status == S.APPROVED
    assert Review.objects.count() == 1
