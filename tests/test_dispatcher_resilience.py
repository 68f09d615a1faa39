"""What the dispatcher does when part of its work fails, and what it costs when nothing is due.

An answer a platform gave is never lost (the post is live) and never holds a send slot; a
claim that could not be started is given back, not left to expire into `unknown`; one
delivery or one sweep that fails stops nothing else. An idle dispatcher, which looks every
second, writes nothing and moves no table version (the cached pages stay valid), and its
look costs the same whatever the history holds.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Delivery, DeliveryPart, DeliveryStatus, Publication, PublicationStatus
from calendar_app.publishing import engine, parts
from calendar_app.publishing.dispatcher import Dispatcher
from diplomacy.models import TableVersion
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.fake_receiver import FakeReceiver
from tests.test_dispatcher import approved_publication, dispatch_once, statuses


@pytest.fixture
def receiver():
    fake = FakeReceiver()
    yield fake
    fake.close()


# --- Answers that cannot be written --------------------------------------------------------------


def test_answers_that_could_not_be_stored_hold_no_slot_and_are_stored_at_the_next_pump(
    editor, reviewer, istanbul, receiver, monkeypatch
):
    first = approved_publication(editor, reviewer, istanbul, receiver.url)
    second = approved_publication(editor, reviewer, istanbul, receiver.url)
    engine.create_due_deliveries()
    real_store = engine.store_published
    failures: list[int] = []

    def store_fails_once(answers: list) -> None:
        if not failures:
            failures.append(1)
            raise OperationalError("the database is restarting")
        real_store(answers)

    monkeypatch.setattr(engine, "store_published", store_fails_once)
    sender = engine.Sender("dispatcher", concurrency=2, inline=True)
    try:
        assert sender.claim() == 2
        with pytest.raises(OperationalError):
            sender.pump(0)
        # The platforms answered: no request is in flight, every slot is free again.
        assert sender.free == 2
        sender.pump(0)  # the database is back: the answers in hand are written
    finally:
        sender.close()
    assert statuses(first) == statuses(second) == [DeliveryStatus.DELIVERED]
    assert Publication.objects.get(pk=first.pk).status == PublicationStatus.PUBLISHED
    assert len(receiver.received) == 2 and receiver.duplicates() == {}


def test_the_minute_job_writes_the_answers_once_the_database_is_back(
    editor, reviewer, istanbul, receiver, monkeypatch, caplog
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url, channels=2)
    real_store = engine.store_published
    failures: list[int] = []

    def store_fails_once(answers: list) -> None:
        if not failures:
            failures.append(1)
            raise OperationalError("the database is restarting")
        real_store(answers)

    monkeypatch.setattr(engine, "store_published", store_fails_once)
    engine.publish_due()
    assert statuses(publication) == [DeliveryStatus.DELIVERED] * 2
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.PUBLISHED
    assert len(receiver.received) == 2 and receiver.duplicates() == {}
    assert "Storing the platforms' answers failed; trying again at the next pump" in caplog.text


# --- Claims that cannot be started ---------------------------------------------------------------


def test_a_claimed_batch_that_cannot_be_started_is_given_back_and_sent_once_later(
    editor, reviewer, istanbul, receiver, monkeypatch
):
    publications = [approved_publication(editor, reviewer, istanbul, receiver.url) for _ in range(3)]
    real_claim_parts = engine._claim_parts
    failures: list[int] = []

    def claim_parts_fails_once(*args: object) -> set[int]:
        if not failures:
            failures.append(1)
            raise OperationalError("the database went away")
        return real_claim_parts(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_claim_parts", claim_parts_fails_once)
    done = dispatch_once()
    assert done["claimed"] == 3 and done.get("given_back") == 3
    waiting = Delivery.objects.filter(publication__in=publications)
    assert set(waiting.values_list("status", "claimed_at", "attempts")) == {(DeliveryStatus.PENDING, None, 0)}
    assert not DeliveryPart.objects.filter(claimed_at__isnull=False).exists()
    assert receiver.received == []
    assert dispatch_once()["delivered"] == 3
    assert len(receiver.received) == 3 and receiver.duplicates() == {}


def test_a_delivery_whose_own_preparation_fails_waits_for_its_next_try_and_the_others_go(
    editor, reviewer, istanbul, receiver, monkeypatch, caplog
):
    broken, *fine = [approved_publication(editor, reviewer, istanbul, receiver.url) for _ in range(3)]
    real_freeze = parts.freeze_many

    def freeze(deliveries: list[Delivery]) -> dict:
        if any(delivery.publication_id == broken.pk for delivery in deliveries):
            raise ValueError("a text the plan cannot split")
        return real_freeze(deliveries)

    monkeypatch.setattr(parts, "freeze_many", freeze)
    done = dispatch_once()
    assert done["delivered"] == 2
    assert all(statuses(publication) == [DeliveryStatus.DELIVERED] for publication in fine)
    stopped = Delivery.objects.get(publication=broken)
    assert (stopped.status, stopped.claimed_at, stopped.attempts) == (DeliveryStatus.PENDING, None, 1)
    assert stopped.next_attempt_at > timezone.now()  # its back-off, not a claim every second
    assert "could not be prepared" in stopped.error and "ValueError" not in stopped.error
    assert f"The parts of delivery {stopped.pk} could not be frozen" in caplog.text
    assert len(receiver.received) == 2


def test_a_failing_sweep_is_logged_and_the_claim_still_runs(
    editor, reviewer, istanbul, receiver, monkeypatch, caplog
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)

    def broken_sweep() -> int:
        raise RuntimeError("one row the sweep cannot read")

    monkeypatch.setattr(workflow, "report_unknown_deliveries", broken_sweep)
    done = dispatch_once()
    assert done["delivered"] == 1 and statuses(publication) == [DeliveryStatus.DELIVERED]
    assert "The reported step of the publishing pass failed" in caplog.text


# --- An idle dispatcher ---------------------------------------------------------------------------


def _history(editor, post, size: int) -> None:
    """`size` of each: publications published, failed and missed long ago, and late approved
    ones with a delivery whose outcome is unknown (reported already) or claimed by a sender
    that is alive: none of them leaves anything to do."""
    long_ago = timezone.now() - timedelta(days=3)
    for number in range(size):
        channel = make_channel(post=post, platform="x", handle=f"@history{number}")
        for status, delivery_status in (
            (PublicationStatus.PUBLISHED, DeliveryStatus.DELIVERED),
            (PublicationStatus.FAILED, DeliveryStatus.FAILED),
            (PublicationStatus.MISSED, DeliveryStatus.FAILED),
            (PublicationStatus.APPROVED, DeliveryStatus.UNKNOWN),
            (PublicationStatus.APPROVED, DeliveryStatus.PENDING),
        ):
            publication = make_publication(post=post, author=editor, status=status, channels=[channel])
            Publication.objects.filter(pk=publication.pk).update(scheduled_at=long_ago)
            claimed = timezone.now() if delivery_status == DeliveryStatus.PENDING else None
            Delivery.objects.create(
                publication=publication,
                channel=channel,
                status=delivery_status,
                claimed_at=claimed,
                claimed_by="dispatcher:elsewhere" if claimed else "",
            )


#: The statements of an idle cycle, whatever the history: the crises, the late publications,
#: the unknown deliveries, the due ones, the dead claims, the look for something to claim.
IDLE_STATEMENTS = 6


@pytest.mark.django_db(transaction=True)  # committed writes, as a dispatcher makes them
@pytest.mark.parametrize("size", [1, 5])
def test_an_idle_cycle_writes_nothing_and_costs_the_same_whatever_the_history(editor, istanbul, size):
    _history(editor, istanbul, size)
    dispatcher = Dispatcher(concurrency=4)
    try:
        dispatcher.cycle()  # the first cycle reports the unknown deliveries and settles
        versions = dict(TableVersion.objects.values_list("table", "version"))
        with CaptureQueriesContext(connection) as queries:
            done = dispatcher.cycle()
        statements = [query["sql"] for query in queries.captured_queries]
        assert done["claimed"] == 0
        written = [sql for sql in statements if sql.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
        assert written == [] and not any(sql.startswith(("BEGIN", "SAVEPOINT")) for sql in statements)
        assert len(statements) == IDLE_STATEMENTS, "\n".join(statements)
        assert dict(TableVersion.objects.values_list("table", "version")) == versions
    finally:
        dispatcher.sender.close()


@pytest.mark.django_db(transaction=True)
def test_a_claim_that_finds_nothing_moves_no_table_version(editor, reviewer, istanbul, receiver):
    """Even past the plain look (a delivery taken by another dispatcher in between), an
    UPDATE ... RETURNING of no row changes nothing a page shows."""
    approved_publication(editor, reviewer, istanbul, receiver.url)
    engine.create_due_deliveries()
    with connection.cursor() as cursor:  # what reaches the version: a claim of nothing
        before = dict(TableVersion.objects.values_list("table", "version"))
        cursor.execute("UPDATE calendar_app_delivery SET attempts = attempts + 1 WHERE id < 0 RETURNING id")
        assert cursor.fetchall() == []
        cursor.execute("SELECT 1")  # the connection's next statement moves what is due
        assert dict(TableVersion.objects.values_list("table", "version")) == before
        cursor.execute("UPDATE calendar_app_delivery SET attempts = attempts + 1 WHERE id > 0 RETURNING id")
        rows = cursor.fetchall()  # the caller still reads every row returned
        cursor.execute("SELECT 1")
    assert rows == [(pk,) for pk in Delivery.objects.values_list("pk", flat=True)]
    after = dict(TableVersion.objects.values_list("table", "version"))
    assert after.get("calendar_app_delivery") != before.get("calendar_app_delivery")
