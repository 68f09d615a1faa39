"""When a publication goes out, and when a failed delivery is tried again.

No job is scheduled per publication any more: the dispatcher (`manage.py dispatch`)
reads each publication's time when it comes, woken on commit by the approval
(`tasks.wake_dispatcher`), so a publication moved or cancelled meanwhile goes out at
its new time or not at all. Dispatchers and the minute job share one claim, so they may
race and nothing goes out twice. A platform's `retry_after` pushes the next attempt
back, never forward.
"""

from __future__ import annotations

import importlib
import threading
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from calendar_app import tasks, workflow
from calendar_app.models import Delivery, DeliveryStatus, Publication, PublicationStatus
from calendar_app.publishing import Published, SurelyFailed, Thread, engine
from calendar_app.publishing.dispatcher import Dispatcher
from calendar_app.publishing.parts import OutgoingPart
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.fake_receiver import FakeReceiver

TEXTS = {"en": "The approved text.", "nl": "De tekst.", "fr": "Le texte.", "tr": "Metin."}


@pytest.fixture
def receiver():
    fake = FakeReceiver()
    yield fake
    fake.close()


def approved_publication(editor, reviewer, post, endpoint: str, *, due: bool = True) -> Publication:
    """Approved through the workflow on one webhook channel; due five seconds ago unless `due` is False."""
    channel = make_channel(post=post, platform="mastodon")
    channel.connector, channel.endpoint = "webhook", endpoint
    channel.save()
    publication = make_publication(
        post=post,
        author=editor,
        local_date=(timezone.now() + timedelta(days=3)).date(),
        channels=[channel],
        variants=TEXTS,
    )
    workflow.submit(editor, publication)
    workflow.approve(
        reviewer, Publication.objects.get(pk=publication.pk), expected_revision=publication.revision
    )
    if due:
        Publication.objects.filter(pk=publication.pk).update(
            scheduled_at=timezone.now() - timedelta(seconds=5)
        )
    return Publication.objects.get(pk=publication.pk)


@pytest.fixture
def due(editor, reviewer, istanbul, receiver):
    return approved_publication(editor, reviewer, istanbul, receiver.url)


# --- No job per publication: the dispatcher, woken on commit ------------------------------


def dispatch_once() -> dict[str, int]:
    dispatcher = Dispatcher(concurrency=4)
    try:
        done = dispatcher.cycle()
        dispatcher.sender.drain(30)
        done.update(dispatcher.sender.counted())
        return done
    finally:
        dispatcher.sender.close()


def test_approving_schedules_no_job_and_wakes_the_dispatchers_once_committed(
    editor, reviewer, istanbul, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        publication = approved_publication(editor, reviewer, istanbul, receiver.url, due=False)
    assert tasks.notify_dispatchers in callbacks
    assert not Schedule.objects.filter(name=f"publish-{publication.pk}").exists()
    assert not Schedule.objects.filter(func="calendar_app.publishing.engine.publish_publication").exists()


def test_waking_the_dispatchers_is_harmless_outside_a_transaction(db):
    tasks.notify_dispatchers()  # nobody listens: nothing happens, nothing is raised


def test_the_migration_removes_the_one_off_jobs_left_and_keeps_the_minute_job(db):
    migration = importlib.import_module("calendar_app.migrations.0016_remove_one_off_publication_jobs")
    one_off = {"func": migration.ONE_OFF_FUNC, "schedule_type": Schedule.ONCE, "repeats": -1}
    Schedule.objects.create(name="publish-12", **one_off)
    Schedule.objects.create(name="publish-3456", **one_off)
    Schedule.objects.create(
        name="publish-due", func="calendar_app.publishing.engine.publish_due", schedule_type=Schedule.MINUTES
    )
    migration.remove_one_off_jobs(apps, None)
    assert list(Schedule.objects.values_list("name", flat=True)) == ["publish-due"]


def test_a_dispatcher_cycle_publishes_the_due_publication_once(due, receiver):
    assert dispatch_once() == {"created": 1, "expired_claims": 0, "settled": 0, "claimed": 1, "delivered": 1}
    delivery = Delivery.objects.get(publication=due)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert Publication.objects.get(pk=due.pk).status == PublicationStatus.PUBLISHED
    # Again, and the minute job after it: nothing goes out twice.
    assert dispatch_once()["claimed"] == 0
    engine.publish_due()
    assert receiver.per_key() == {delivery.idempotency_key: 1}
    assert receiver.received[0].body["part"]["text"] == "The approved text."


def test_a_publication_moved_later_does_not_go_out_at_its_old_time(due, receiver):
    later = timezone.now() + timedelta(hours=2)
    Publication.objects.filter(pk=due.pk).update(scheduled_at=later)
    assert dispatch_once()["claimed"] == 0
    assert engine.publish_due() == {"created": 0, "expired_claims": 0, "settled": 0}
    assert receiver.received == []
    with time_machine.travel(later + timedelta(seconds=1), tick=False):
        assert dispatch_once()["delivered"] == 1
    assert len(receiver.received) == 1


def test_nothing_goes_out_before_the_publication_is_due(editor, reviewer, istanbul, receiver):
    approved_publication(editor, reviewer, istanbul, receiver.url, due=False)
    assert dispatch_once()["claimed"] == 0
    assert not Delivery.objects.exists()
    assert receiver.received == []


def test_nothing_goes_out_once_the_publication_was_withdrawn(due, editor, receiver):
    workflow.withdraw(editor, due)
    assert dispatch_once()["claimed"] == 0
    assert not Delivery.objects.exists()
    assert receiver.received == []


def test_the_old_one_off_job_still_queued_runs_the_minute_jobs_pass(due, receiver):
    """A task queued before the upgrade finds its function: it sends what is due, once."""
    assert engine.publish_publication(due.pk)["delivered"] == 1
    assert engine.publish_publication(due.pk) == {"created": 0, "expired_claims": 0, "settled": 0}
    assert len(receiver.received) == 1


@pytest.mark.django_db(transaction=True)
def test_a_dispatcher_holding_a_claim_is_skipped_by_the_minute_job_and_other_dispatchers(
    editor, reviewer, istanbul, receiver
):
    """The dispatcher holds the claim while the platform thinks; the minute job, another
    dispatcher and a direct delivery come by meanwhile and skip it."""
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    receiver.hold_next(1)
    outcomes: list[dict] = []

    def first_dispatcher() -> None:
        try:
            outcomes.append(dispatch_once())
        finally:
            connection.close()

    first = threading.Thread(target=first_dispatcher)
    first.start()
    try:
        assert receiver.holding.wait(20), "the dispatcher never reached the platform"
        assert engine.publish_due() == {"created": 0, "expired_claims": 0, "settled": 0}
        assert dispatch_once()["claimed"] == 0
        # Even picked by its id, the held delivery is not claimed a second time.
        assert engine.deliver(Delivery.objects.get().pk) == "skipped"
    finally:
        receiver.release()
        first.join(30)
    assert outcomes == [{"created": 1, "expired_claims": 0, "settled": 0, "claimed": 1, "delivered": 1}]
    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.PUBLISHED


# --- retry_after --------------------------------------------------------------------


class FakeConnector:
    """Refuses with SurelyFailed carrying `retry_after` (as a 429 with Retry-After would), or publishes."""

    def __init__(self, retry_after: int | None) -> None:
        self.retry_after = retry_after
        self.calls = 0
        self.refuse = True

    def publish(self, delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published:
        self.calls += 1
        if not self.refuse:
            return Published(post_id="p-1", url="https://social.example/p-1")
        exc = SurelyFailed("HTTP 429 from the platform")
        if self.retry_after is not None:
            exc.retry_after = self.retry_after
        raise exc


@pytest.fixture
def refusing(monkeypatch):
    def install(retry_after: int | None) -> FakeConnector:
        fake = FakeConnector(retry_after)
        monkeypatch.setattr(engine, "connector_for", lambda name: fake)
        return fake

    return install


def test_a_retry_after_longer_than_the_backoff_holds_the_next_attempt(due, refusing):
    # Ten minutes: within MAX_LATENESS (15), so that the later try may still send it.
    fake = refusing(600)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        started = timezone.now()
        engine.publish_due()
        delivery = Delivery.objects.get(publication=due)
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.next_attempt_at == started + timedelta(seconds=600)
        clock.shift(timedelta(minutes=9))  # the back-off (1 minute) is long past, the platform's ten are not
        engine.publish_due()
        assert fake.calls == 1
        clock.shift(timedelta(minutes=1, seconds=1))
        fake.refuse = False
        engine.publish_due()
    assert fake.calls == 2
    assert Delivery.objects.get(publication=due).status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize("retry_after", [None, 0, 5, -30])
def test_a_retry_after_shorter_than_the_backoff_keeps_the_backoff(due, refusing, retry_after):
    refusing(retry_after)
    with time_machine.travel(timezone.now(), tick=False):
        engine.publish_due()
        assert Delivery.objects.get(publication=due).next_attempt_at == timezone.now() + engine.backoff(1)


def test_retry_after_counts_from_the_platforms_answer_not_the_claim(due, refusing, monkeypatch):
    fake = refusing(600)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        claimed = timezone.now()
        slow = fake.publish

        def publish_slowly(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published:
            clock.shift(timedelta(seconds=8))  # the platform took eight seconds to say "wait"
            return slow(delivery, part, reply_to)

        monkeypatch.setattr(fake, "publish", publish_slowly)
        engine.publish_due()
    delivery = Delivery.objects.get(publication=due)
    assert delivery.next_attempt_at == claimed + timedelta(seconds=608)


def test_the_last_attempt_fails_for_good_whatever_retry_after_says(due, refusing):
    refusing(3600)
    engine.create_due_deliveries()
    Delivery.objects.filter(publication=due).update(attempts=engine.MAX_ATTEMPTS - 1)
    engine.publish_due()
    assert Delivery.objects.get(publication=due).status == DeliveryStatus.FAILED
    assert Publication.objects.get(pk=due.pk).status == PublicationStatus.FAILED
