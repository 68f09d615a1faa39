"""A publication's own job at its exact time, and when a failed delivery is tried again.

`tasks.schedule_publication` queues (on commit) a django-q2 ONCE schedule per approved
publication; its task `engine.publish_publication` sends that publication through the
same claim as the minute job, so the two may race and nothing goes out twice. A
platform's `retry_after` pushes the next attempt back, never forward.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.scheduler import scheduler

from calendar_app import tasks, workflow
from calendar_app.models import Delivery, DeliveryStatus, Publication, PublicationStatus
from calendar_app.publishing import Published, SurelyFailed, Thread, engine
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


# --- schedule_publication ---------------------------------------------------------------


def test_scheduling_writes_one_once_job_at_the_exact_time_after_the_commit(
    due, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tasks.schedule_publication(due)
        assert not Schedule.objects.filter(name=f"publish-{due.pk}").exists()  # not before the commit
    assert len(callbacks) == 1
    job = Schedule.objects.get(name=f"publish-{due.pk}")
    assert job.func == "calendar_app.publishing.engine.publish_publication"
    assert job.schedule_type == Schedule.ONCE
    assert job.next_run == due.scheduled_at
    assert job.repeats == -1  # django-q2 deletes it once it has run


def test_scheduling_again_moves_the_same_job(due, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_publication(due)
    later = due.scheduled_at + timedelta(hours=2)
    Publication.objects.filter(pk=due.pk).update(scheduled_at=later)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_publication(due)
    jobs = Schedule.objects.filter(name=f"publish-{due.pk}")
    assert list(jobs.values_list("next_run", flat=True)) == [later]


def test_nothing_is_scheduled_when_the_transaction_rolls_back(due, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        tasks.schedule_publication(due)
        raise RuntimeError("the approval failed after all")
    assert callbacks == []
    assert not Schedule.objects.filter(name=f"publish-{due.pk}").exists()


def test_the_job_at_its_time_publishes_the_due_publication_once(
    due, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_publication(due)
    scheduler()  # django-q2's own scheduler; the task runs inline (Conf.SYNC in tests)
    delivery = Delivery.objects.get(publication=due)
    assert delivery.status == DeliveryStatus.DELIVERED
    assert Publication.objects.get(pk=due.pk).status == PublicationStatus.PUBLISHED
    assert not Schedule.objects.filter(name=f"publish-{due.pk}").exists()  # a ONCE job runs once
    # Run again, and the minute job after it: nothing goes out twice.
    assert engine.publish_publication(due.pk) == {"created": 0, "helped": 0}
    engine.publish_due()
    assert receiver.per_key() == {delivery.idempotency_key: 1}
    assert receiver.received[0].body["part"]["text"] == "The approved text."


def test_the_job_sends_nothing_before_the_publication_is_due(editor, reviewer, istanbul, receiver):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url, due=False)
    assert engine.publish_publication(publication.pk) == {"created": 0, "helped": 0}
    assert not Delivery.objects.exists()
    assert receiver.received == []


def test_the_job_sends_nothing_once_the_publication_was_withdrawn(due, editor, receiver):
    workflow.withdraw(editor, due)
    assert engine.publish_publication(due.pk) == {"created": 0, "helped": 0}
    assert not Delivery.objects.exists()
    assert receiver.received == []


def test_the_job_sends_its_own_publication_then_helps_with_the_others_due(
    due, editor, reviewer, istanbul, receiver
):
    other = approved_publication(editor, reviewer, istanbul, receiver.url)
    later = approved_publication(editor, reviewer, istanbul, receiver.url, due=False)
    assert engine.publish_publication(due.pk) == {"created": 1, "delivered": 1, "helped": 1}
    assert Publication.objects.get(pk=due.pk).status == PublicationStatus.PUBLISHED
    assert Publication.objects.get(pk=other.pk).status == PublicationStatus.PUBLISHED
    assert Publication.objects.get(pk=later.pk).status == PublicationStatus.APPROVED  # not yet due
    assert len(receiver.received) == 2
    # The other publication's own job comes later and finds nothing to do.
    assert engine.publish_publication(other.pk) == {"created": 0, "helped": 0}
    assert len(receiver.received) == 2


def test_a_job_whose_publication_went_out_already_still_sends_what_else_is_due(
    due, editor, reviewer, istanbul, receiver
):
    other = approved_publication(editor, reviewer, istanbul, receiver.url, due=False)
    engine.publish_publication(due.pk)
    Publication.objects.filter(pk=other.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    assert engine.publish_publication(due.pk) == {"created": 0, "helped": 1}
    assert Delivery.objects.get(publication=other).status == DeliveryStatus.DELIVERED
    assert len(receiver.received) == 2


@pytest.mark.django_db(transaction=True)
def test_the_job_racing_the_minute_job_sends_once(editor, reviewer, istanbul, receiver):
    """The job holds the claim while the platform thinks; the minute job and a redelivered
    copy of the job come by meanwhile and skip it."""
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    receiver.hold_next(1)
    outcomes: list[dict] = []

    def job() -> None:
        try:
            outcomes.append(engine.publish_publication(publication.pk))
        finally:
            connection.close()

    first = threading.Thread(target=job)
    first.start()
    try:
        assert receiver.holding.wait(20), "the job never reached the platform"
        assert engine.publish_due() == {"created": 0, "expired_claims": 0, "settled": 0}
        assert engine.publish_publication(publication.pk) == {"created": 0, "helped": 0}
        # Even picked by its id, the held delivery is not claimed a second time.
        assert engine.deliver(Delivery.objects.get().pk) == "skipped"
    finally:
        receiver.release()
        first.join(30)
    assert outcomes == [{"created": 1, "delivered": 1, "helped": 0}]
    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


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
