"""Two publishing jobs running the sweeps at the same moment (a task django-q2 runs twice, two
workers): a late publication is marked missed once and an unknown delivery reported once,
each with one history row and one notification per person.

Real threads against a real database (`transaction=True`): SQLite serialises the writers
(IMMEDIATE transactions), PostgreSQL the report by a row lock and the miss by its
compare-and-set (run with DATABASE_URL pointing there).
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    Publication,
    PublicationEvent,
    PublicationStatus,
)
from calendar_app.publishing import engine
from calendar_app.workflow import deliveries
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.fake_receiver import FakeReceiver
from tests.test_concurrency import _sqlite_on_a_file, race  # noqa: F401  (the module's database file)
from tests.test_dispatcher import WAIT, approved_publication, postgres_only, wait_until

ROUNDS = 3


def _noop() -> None:
    return None


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_mark_a_late_publication_missed_once(editor, manager, istanbul, settings):
    settings.MAX_LATENESS = timedelta(minutes=15)
    channel = make_channel(post=istanbul, platform="facebook")
    for round_number in range(ROUNDS):
        publication = make_publication(
            post=istanbul, author=editor, status=PublicationStatus.APPROVED, channels=[channel]
        )
        Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(hours=1))
        Delivery.objects.create(publication=publication, channel=channel)
        outcomes = race(
            (_noop, lambda _: workflow.miss_late_publications()),
            (_noop, lambda _: workflow.miss_late_publications()),
        )
        assert outcomes == ["ok", "ok"], round_number
        assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.MISSED
        assert PublicationEvent.objects.filter(publication=publication, verb="missed_late").count() == 1
        told = Notification.objects.filter(publication=publication, verb="missed")
        assert sorted(told.values_list("recipient", flat=True)) == sorted([editor.pk, manager.pk])


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_report_an_unknown_delivery_once(editor, manager, istanbul):
    channel = make_channel(post=istanbul, platform="x")
    for round_number in range(ROUNDS):
        publication = make_publication(post=istanbul, author=editor, status=PublicationStatus.APPROVED)
        delivery = Delivery.objects.create(publication=publication, channel=channel, status="unknown")
        outcomes = race(
            (_noop, lambda _: workflow.report_unknown_deliveries()),
            (_noop, lambda _: workflow.report_unknown_deliveries()),
        )
        assert outcomes == ["ok", "ok"], round_number
        events = PublicationEvent.objects.filter(publication=publication, verb="delivery_unknown")
        assert list(events.values_list("data", flat=True)) == [
            {"delivery": delivery.pk, "channel": channel.pk}
        ]
        told = Notification.objects.filter(publication=publication, verb="delivery_unknown")
        assert sorted(told.values_list("recipient", flat=True)) == sorted([editor.pk, manager.pk])


def _waiting_for_a_lock() -> bool:
    """Whether another session of this database waits for a row lock now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return bool(cursor.fetchone()[0])


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_claim_and_a_miss_of_the_same_publication_never_both_win(editor, reviewer, istanbul):
    """The sweep has read a publication's deliveries (none claimed) and is about to mark it
    missed; meanwhile a dispatcher, whose clock still reads it as due, claims its delivery
    and re-checks the publication. The re-check waits for the sweep's decision, then reads
    "missed" and gives the claim back: the publication is missed and nothing was sent."""
    receiver = FakeReceiver()
    try:
        publication = approved_publication(editor, reviewer, istanbul, receiver.url)
        engine.create_due_deliveries()
        delivery = Delivery.objects.get(publication=publication)
        swept_at = timezone.now() + timedelta(hours=1)  # the sweep's clock: an hour too late
        has_read, decide = threading.Event(), threading.Event()
        real_reason = deliveries.lateness_reason

        def reason_then_wait(*args: object, **kwargs: object) -> str:
            has_read.set()  # the deliveries are read: none claimed
            decide.wait(WAIT)
            return real_reason(*args, **kwargs)  # type: ignore[arg-type]

        deliveries.lateness_reason = reason_then_wait  # type: ignore[assignment]
        outcomes: dict[str, object] = {}

        def sweep() -> None:
            try:
                outcomes["missed"] = workflow.miss_late_publications(swept_at)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                outcomes["sweep"] = exc
            finally:
                connection.close()

        sender = engine.Sender("dispatcher", concurrency=1)

        def dispatch(ids: list[int]) -> None:
            try:
                sender.start(ids, timezone.now())
                sender.drain(WAIT)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                outcomes["dispatch"] = exc
            finally:
                connection.close()

        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        try:
            assert has_read.wait(WAIT)
            claimed = engine.claim_due(timezone.now(), 10, sender.token)
            assert claimed == [delivery.pk]  # committed while the sweep decides
            dispatcher = threading.Thread(target=dispatch, args=(claimed,))
            dispatcher.start()
            # Its re-check either waits for the sweep's lock, or (without one) is done.
            wait_until(lambda: _waiting_for_a_lock() or not dispatcher.is_alive(), "the re-check")
        finally:
            decide.set()
            deliveries.lateness_reason = real_reason  # type: ignore[assignment]
            sweeper.join(WAIT)
        dispatcher.join(WAIT)
        sender.close()
        assert not sweeper.is_alive() and not dispatcher.is_alive()
        assert "sweep" not in outcomes and "dispatch" not in outcomes, outcomes
        assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.MISSED
        assert receiver.received == []  # missed, and nothing went out
        delivery.refresh_from_db()
        assert (delivery.status, delivery.claimed_at, delivery.attempts) == (DeliveryStatus.PENDING, None, 0)
    finally:
        receiver.close()
