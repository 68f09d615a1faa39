"""The publishing dispatcher (`manage.py dispatch`): its claim, its wake-ups, its heartbeats,
and what it does with bad input; nothing doubled, nothing lost, never a stopped loop.

The claim is one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`
on PostgreSQL (the same compare-and-set without the lock clause on SQLite); the
concurrent tests need PostgreSQL (DATABASE_URL) and are skipped on SQLite.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import NoReturn

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calendar_app import workflow
from calendar_app.management.commands import dispatch as dispatch_command
from calendar_app.models import (
    Delivery,
    DeliveryPart,
    DeliveryStatus,
    Publication,
    PublicationStatus,
    SenderHeartbeat,
)
from calendar_app.publishing import OutcomeUnknown, Published, SurelyFailed, Thread, engine, parts
from calendar_app.publishing.dispatcher import Dispatcher
from calendar_app.publishing.parts import OutgoingPart
from calendar_app.tasks import notify_dispatchers
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.fake_receiver import FakeReceiver

TEXTS = {"en": "The approved text.", "nl": "De tekst.", "fr": "Le texte.", "tr": "Metin."}
#: Every wait in this module is bounded by this.
WAIT = 20.0

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks and LISTEN/NOTIFY: PostgreSQL only (set DATABASE_URL)",
)


@pytest.fixture
def receiver():
    fake = FakeReceiver()
    yield fake
    fake.close()


def approved_publication(editor, reviewer, post, endpoint: str, *, channels: int = 1) -> Publication:
    """Approved through the workflow on `channels` webhook channels, due five seconds ago."""
    hooked = []
    for _ in range(channels):
        channel = make_channel(post=post, platform="mastodon")
        channel.connector, channel.endpoint = "webhook", endpoint
        channel.save()
        hooked.append(channel)
    publication = make_publication(
        post=post,
        author=editor,
        local_date=(timezone.now() + timedelta(days=3)).date(),
        channels=hooked,
        variants=TEXTS,
    )
    workflow.submit(editor, publication)
    workflow.approve(
        reviewer, Publication.objects.get(pk=publication.pk), expected_revision=publication.revision
    )
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(seconds=5))
    return Publication.objects.get(pk=publication.pk)


def dispatch_once(concurrency: int = 4) -> dict[str, int]:
    """One dispatcher cycle with its answers stored: what `manage.py dispatch` does each second."""
    dispatcher = Dispatcher(concurrency=concurrency)
    try:
        done = dispatcher.cycle()
        dispatcher.sender.drain(WAIT)
        done.update(dispatcher.sender.counted())
        return done
    finally:
        dispatcher.sender.close()


def statuses(publication: Publication) -> list[str]:
    return sorted(Delivery.objects.filter(publication=publication).values_list("status", flat=True))


# --- The claim ------------------------------------------------------------------------------


def test_the_claim_takes_due_deliveries_in_one_statement_and_names_its_holder(
    editor, reviewer, istanbul, receiver
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url, channels=3)
    engine.create_due_deliveries()
    with CaptureQueriesContext(connection) as queries:
        claimed = engine.claim_due(timezone.now(), 2, "dispatcher:test:1")
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if "SAVEPOINT" not in q["sql"] and q["sql"] not in ("BEGIN IMMEDIATE", "COMMIT")
    ]
    # A plain look first (an idle dispatcher stops there), then the claim in one statement.
    assert len(statements) == 2 and statements[0].startswith("SELECT 1")
    assert statements[1].startswith("UPDATE") and "RETURNING" in statements[1]
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in statements[1] and "SKIP LOCKED" in statements[1]
    assert len(claimed) == 2
    rows = Delivery.objects.filter(publication=publication).order_by("pk")
    assert [(d.claimed_by, d.attempts) for d in rows if d.pk in claimed] == [("dispatcher:test:1", 1)] * 2
    # The third is left for the next claim; the two claimed are never claimed again.
    rest = engine.claim_due(timezone.now(), 10, "dispatcher:test:2")
    assert rest == [pk for pk in rows.values_list("pk", flat=True) if pk not in claimed]
    assert engine.claim_due(timezone.now(), 10, "dispatcher:test:3") == []


def test_the_claim_leaves_what_may_not_go_out(editor, reviewer, istanbul, receiver):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url, channels=2)
    engine.create_due_deliveries()
    first, second = Delivery.objects.filter(publication=publication).order_by("pk")
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=1))
    manual = make_channel(post=istanbul)
    Delivery.objects.filter(pk=second.pk).update(channel=manual)
    assert engine.claim_due(timezone.now(), 10, "t") == []  # one not yet due, one manual
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() + timedelta(hours=1))
    assert engine.claim_due(timezone.now(), 10, "t") == []  # moved later
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now(), status="cancelled")
    assert engine.claim_due(timezone.now(), 10, "t") == []  # cancelled
    Publication.objects.filter(pk=publication.pk).update(status=PublicationStatus.APPROVED)
    assert engine.claim_due(timezone.now(), 10, "t") == [first.pk]


def race(actions: list[Callable[[], object]]) -> list[BaseException]:
    """Run the actions in threads released at once; returns what they raised."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException] = []

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait(WAIT)
            action()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 2)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return errors


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_dispatchers_claiming_at_once_never_claim_one_delivery_twice(editor, reviewer, istanbul, receiver):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url, channels=60)
    engine.create_due_deliveries()
    claims: dict[str, list[int]] = {}

    def claimer(name: str) -> Callable[[], None]:
        def claim() -> None:
            taken: list[int] = []
            while got := engine.claim_due(timezone.now(), 3, name):
                taken.extend(got)
            claims[name] = taken

        return claim

    assert race([claimer(f"dispatcher-{n}") for n in range(4)]) == []
    everything = [pk for taken in claims.values() for pk in taken]
    assert sorted(everything) == sorted(
        Delivery.objects.filter(publication=publication).values_list("pk", flat=True)
    )
    assert len(everything) == len(set(everything)) == 60  # each claimed once, by one of them
    for name, taken in claims.items():
        assert set(Delivery.objects.filter(pk__in=taken).values_list("claimed_by", flat=True)) <= {name}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_delivery_locked_by_another_claim_is_skipped_not_waited_for(editor, reviewer, istanbul, receiver):
    """The other dispatcher's claim is not committed yet: this one skips the row at once
    (SKIP LOCKED) and, once that claim commits, finds nothing to take (the outer UPDATE's
    own conditions)."""
    publication = approved_publication(editor, reviewer, istanbul, receiver.url, channels=2)
    engine.create_due_deliveries()
    locked, free = Delivery.objects.filter(publication=publication).order_by("pk")
    holding = threading.Event()
    done = threading.Event()

    def other_dispatcher() -> None:
        try:
            with transaction.atomic():
                assert engine.claim_due(timezone.now(), 1, "other", only=[locked.pk]) == [locked.pk]
                holding.set()
                done.wait(WAIT)
        finally:
            connection.close()

    other = threading.Thread(target=other_dispatcher)
    other.start()
    try:
        assert holding.wait(WAIT)
        assert engine.claim_due(timezone.now(), 10, "this") == [free.pk]
    finally:
        done.set()
        other.join(WAIT)
    assert engine.claim_due(timezone.now(), 10, "this") == []
    assert Delivery.objects.get(pk=locked.pk).claimed_by == "other"


# --- Sending ---------------------------------------------------------------------------------


def test_a_cycle_sends_every_due_delivery_once_and_settles_the_publication(
    editor, reviewer, istanbul, receiver
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url, channels=5)
    done = dispatch_once(concurrency=2)  # more deliveries than requests in flight
    assert done["created"] == 5 and done.get("delivered", 0) + dispatch_once().get("delivered", 0) == 5
    assert statuses(publication) == [DeliveryStatus.DELIVERED] * 5
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.PUBLISHED
    assert receiver.duplicates() == {} and len(receiver.received) == 5
    assert not SenderHeartbeat.objects.exists()  # a sender that stopped cleanly leaves no heartbeat


def due_deliveries(editor, reviewer, post, endpoint: str, count: int) -> list[int]:
    """`count` publications due now, one channel each, their deliveries made."""
    publications = [approved_publication(editor, reviewer, post, endpoint) for _ in range(count)]
    engine.create_due_deliveries()
    return [p.pk for p in publications]


#: A batch's statements whatever its size (see the test's docstring), and each delivery's.
BATCH_STATEMENTS = {"postgresql": 35, "sqlite": 33}[connection.vendor]
DELIVERY_STATEMENTS = 6


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("count", [1, 6])
def test_the_database_work_per_delivery_is_fixed_and_small(
    editor, reviewer, istanbul, receiver, count, django_assert_num_queries
):
    """Claim, load, freeze, part claims and answers go in batches, each batch a fixed number
    of statements whatever its size (BATCH_STATEMENTS: the look for due deliveries, the
    heartbeat, the claim, the load with its re-check (on PostgreSQL after locking the
    publications FOR SHARE, in a transaction of its own), the stored parts, the approved
    revisions, the new parts and plans, the part claims, the answers in one transaction,
    the settling's read, and one move of the table versions after each of those
    transactions). What is left per delivery is settling its publication: 6 statements
    (its deliveries' statuses, the publication, the move, its history row, the savepoint
    around them), none of them a version move. Before the batching it was about 12 a
    delivery, 4 of them versions."""
    due_deliveries(editor, reviewer, istanbul, receiver.url, count)
    # Inline: the answers come back in one batch whatever the threads' timing.
    sender = engine.Sender("job", concurrency=10, inline=True)
    try:
        with django_assert_num_queries(BATCH_STATEMENTS + DELIVERY_STATEMENTS * count):
            sender.claim()
            sender.drain(WAIT)
    finally:
        sender.close()
    assert sender.counted() == {DeliveryStatus.DELIVERED: count}
    assert len(receiver.received) == count


def test_a_publication_cancelled_while_it_is_claimed_is_given_back_not_sent(
    editor, reviewer, istanbul, receiver, monkeypatch
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    real_claim = engine.claim_due

    def claim_then_cancel(*args: object, **kwargs: object) -> list[int]:
        claimed = real_claim(*args, **kwargs)  # type: ignore[arg-type]
        if claimed:  # the cancel commits right after the claim's snapshot
            workflow.cancel(editor, Publication.objects.get(pk=publication.pk))
        return claimed

    monkeypatch.setattr(engine, "claim_due", claim_then_cancel)
    assert dispatch_once().get("given_back") == 1
    delivery = Delivery.objects.get(publication=publication)
    assert (delivery.status, delivery.claimed_at, delivery.attempts) == (DeliveryStatus.PENDING, None, 0)
    assert receiver.received == []


def test_a_publication_moved_while_it_is_claimed_goes_out_at_its_new_time_once(
    editor, reviewer, istanbul, receiver, monkeypatch
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    later = timezone.now() + timedelta(minutes=30)
    real_claim = engine.claim_due
    moved: list[bool] = []

    def claim_then_move(*args: object, **kwargs: object) -> list[int]:
        claimed = real_claim(*args, **kwargs)  # type: ignore[arg-type]
        if claimed and not moved:
            Publication.objects.filter(pk=publication.pk).update(scheduled_at=later)
            moved.append(True)
        return claimed

    monkeypatch.setattr(engine, "claim_due", claim_then_move)
    dispatch_once()
    assert receiver.received == []
    with time_machine.travel(later + timedelta(seconds=1), tick=False):
        assert dispatch_once()["delivered"] == 1
        dispatch_once()
    assert len(receiver.received) == 1 and receiver.duplicates() == {}


class Raising:
    """A connector that raises what it is given."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def publish(self, delivery: object, part: OutgoingPart, reply_to: Thread | None) -> NoReturn:
        raise self.exc


@pytest.mark.parametrize("job", ["dispatcher", "publish_due"])
def test_a_connector_raising_an_unexpected_error_ends_unknown_and_the_loop_goes_on(
    editor, reviewer, istanbul, receiver, monkeypatch, caplog, job
):
    broken = approved_publication(editor, reviewer, istanbul, receiver.url)
    monkeypatch.setattr(engine, "connector_for", lambda name: Raising(ZeroDivisionError("a bug")))
    run = dispatch_once if job == "dispatcher" else engine.publish_due
    result = run()  # no exception out of it
    assert result[DeliveryStatus.UNKNOWN] == 1
    delivery = Delivery.objects.get(publication=broken)
    assert (delivery.status, delivery.request_sent) == (DeliveryStatus.UNKNOWN, None)
    assert "unexpected error" in delivery.error and "ZeroDivisionError" not in delivery.error
    assert "ZeroDivisionError" in caplog.text
    assert DeliveryPart.objects.get(delivery=delivery).status == DeliveryStatus.UNKNOWN
    assert "raised an unexpected error" in caplog.text
    # The next publication goes out as usual, and the unknown one is never sent again.
    monkeypatch.undo()
    other = approved_publication(editor, reviewer, istanbul, receiver.url)
    assert run()["delivered"] == 1
    assert statuses(other) == [DeliveryStatus.DELIVERED]
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.UNKNOWN


def test_what_the_connector_learnt_is_stored_on_the_part_and_the_delivery(
    editor, reviewer, istanbul, receiver, monkeypatch
):
    unknown = approved_publication(editor, reviewer, istanbul, receiver.url)
    said = OutcomeUnknown("Timed out after sending.", request_sent=True, platform_said="HTTP 504: gateway")
    monkeypatch.setattr(engine, "connector_for", lambda name: Raising(said))
    dispatch_once()
    delivery = Delivery.objects.get(publication=unknown)
    part = DeliveryPart.objects.get(delivery=delivery)
    assert (delivery.request_sent, delivery.platform_said) == (True, "HTTP 504: gateway")
    assert (part.request_sent, part.platform_said) == (True, "HTTP 504: gateway")

    failing = approved_publication(editor, reviewer, istanbul, receiver.url)
    monkeypatch.setattr(
        engine,
        "connector_for",
        lambda name: Raising(SurelyFailed("Refused.", platform_said="HTTP 503: busy")),
    )
    dispatch_once()
    delivery = Delivery.objects.get(publication=failing)
    assert (delivery.status, delivery.platform_said) == (DeliveryStatus.PENDING, "HTTP 503: busy")
    assert DeliveryPart.objects.get(delivery=delivery).platform_said == "HTTP 503: busy"


@pytest.mark.parametrize("mode", ["hang", "reset", "garbage"])
def test_a_receiver_that_misbehaves_leaves_each_delivery_in_a_state_and_sends_nothing_twice(
    editor, reviewer, istanbul, platforms_on_loopback, mode
):
    bad = FakeReceiver(mode=mode)
    good = FakeReceiver()
    try:
        publication = approved_publication(editor, reviewer, istanbul, bad.url, channels=3)
        dispatch_once()
        for status in statuses(publication):
            # Unknown (it may have posted), pending for a later try (surely not posted), or
            # delivered (an answer the connector could take, garbage or not): never stuck.
            assert status in (DeliveryStatus.UNKNOWN, DeliveryStatus.PENDING, DeliveryStatus.DELIVERED)
        stuck = Delivery.objects.filter(status=DeliveryStatus.PENDING, claimed_at__isnull=False)
        assert not stuck.exists()  # no claim left hanging
        assert bad.duplicates() == {} and len(bad.received) == 3
        # The loop goes on: the next publication, elsewhere, goes out.
        other = approved_publication(editor, reviewer, istanbul, good.url)
        dispatch_once()
        assert statuses(other) == [DeliveryStatus.DELIVERED]
        assert bad.duplicates() == {}
    finally:
        bad.close()
        good.close()


# --- Heartbeats and dead claims -------------------------------------------------------------


def claimed_by(
    editor, reviewer, post, endpoint: str, holder: str, claimed_ago: timedelta, *, in_flight: bool = True
) -> Delivery:
    """A delivery claimed by `holder` `claimed_ago`; with `in_flight`, its part's request was
    under way (the part claimed, no answer stored)."""
    publication = approved_publication(editor, reviewer, post, endpoint)
    engine.create_due_deliveries()
    delivery = Delivery.objects.select_related("publication__post", "channel__post").get(
        publication=publication
    )
    claimed_at = timezone.now() - claimed_ago
    Delivery.objects.filter(pk=delivery.pk).update(
        claimed_at=claimed_at, claimed_by=holder, attempts=1, request_sent=True
    )
    (part,) = parts.freeze(delivery)
    if in_flight:
        DeliveryPart.objects.filter(pk=part.pk).update(claimed_at=claimed_at)
    return delivery


def beat(token: str, ago: timedelta) -> None:
    SenderHeartbeat.objects.create(token=token, kind="dispatcher", beaten_at=timezone.now() - ago)


def test_a_claim_whose_holder_stopped_beating_becomes_unknown_within_about_a_minute(
    editor, reviewer, istanbul, receiver
):
    dead = claimed_by(editor, reviewer, istanbul, receiver.url, "dead", timedelta(seconds=90))
    beat("dead", timedelta(seconds=70))
    alive = claimed_by(editor, reviewer, istanbul, receiver.url, "slow", timedelta(minutes=5))
    beat("slow", timedelta(seconds=5))
    young = claimed_by(editor, reviewer, istanbul, receiver.url, "gone", timedelta(seconds=20))
    assert engine.expire_stale_claims() == 1
    dead.refresh_from_db()
    assert (dead.status, dead.request_sent) == (DeliveryStatus.UNKNOWN, None)  # nobody knows
    assert "stopped while sending" in dead.error
    # A slow sender that beats keeps its claim; a claim younger than the timeout waits.
    assert Delivery.objects.get(pk=alive.pk).status == DeliveryStatus.PENDING
    assert Delivery.objects.get(pk=young.pk).status == DeliveryStatus.PENDING
    assert receiver.received == []


def test_a_dead_claim_with_no_request_in_flight_is_given_back_and_sent_once(
    editor, reviewer, istanbul, receiver
):
    """The sender died between claiming the delivery and claiming its part: nothing left."""
    delivery = claimed_by(
        editor, reviewer, istanbul, receiver.url, "dead", timedelta(seconds=90), in_flight=False
    )
    assert engine.expire_stale_claims() == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claimed_at, delivery.attempts) == (DeliveryStatus.PENDING, None, 0)
    assert dispatch_once()["delivered"] == 1
    assert len(receiver.received) == 1


def test_the_ten_minute_expiry_stays_the_last_resort(editor, reviewer, istanbul, receiver):
    stuck = claimed_by(editor, reviewer, istanbul, receiver.url, "stuck", timedelta(minutes=11))
    beat("stuck", timedelta(seconds=1))  # beating, but stuck on one delivery for ten minutes
    nobody = claimed_by(editor, reviewer, istanbul, receiver.url, "", timedelta(minutes=11))
    assert engine.expire_stale_claims() == 2
    assert {stuck.pk, nobody.pk} == set(
        Delivery.objects.filter(status=DeliveryStatus.UNKNOWN).values_list("pk", flat=True)
    )


def test_a_sender_beats_while_it_holds_claims_and_goes_when_it_stops(editor, reviewer, istanbul, receiver):
    approved_publication(editor, reviewer, istanbul, receiver.url)
    engine.create_due_deliveries()
    receiver.hold_next(0)
    sender = engine.Sender("dispatcher", concurrency=2)
    try:
        sender.claim()
        heartbeat = SenderHeartbeat.objects.get()
        assert (heartbeat.token, heartbeat.kind) == (sender.token, "dispatcher")
        assert Delivery.objects.get().claimed_by == sender.token
        sender.drain(WAIT)
    finally:
        sender.close()
    assert not SenderHeartbeat.objects.exists()


def test_a_clock_that_jumps_sends_nothing_twice_and_stops_nothing(editor, reviewer, istanbul, receiver):
    first = approved_publication(editor, reviewer, istanbul, receiver.url)
    assert dispatch_once()["delivered"] == 1
    second = approved_publication(editor, reviewer, istanbul, receiver.url)
    Publication.objects.filter(pk=second.pk).update(scheduled_at=timezone.now() + timedelta(minutes=5))
    # Back an hour: nothing is due again, nothing resent, the cycle runs.
    with time_machine.travel(timezone.now() - timedelta(hours=1), tick=False):
        assert dispatch_once()["claimed"] == 0
    # Forward five minutes (less than the last resort): the second goes out, once; the
    # first's delivery and its claim are left as they are.
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1), tick=False):
        done = dispatch_once()
        assert (done["delivered"], done["expired_claims"]) == (1, 0)
    assert statuses(first) == statuses(second) == [DeliveryStatus.DELIVERED]
    assert len(receiver.received) == 2 and receiver.duplicates() == {}


# --- The loop and its wake-up ---------------------------------------------------------------


def run_in_thread(dispatcher: Dispatcher) -> threading.Thread:
    def run() -> None:
        try:
            dispatcher.run()
        finally:
            connection.close()

    thread = threading.Thread(target=run, name="dispatcher-under-test")
    thread.start()
    return thread


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"waited {WAIT:.0f} s for {what}")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_notify_wakes_the_dispatcher_between_two_polls(editor, reviewer, istanbul, receiver):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() + timedelta(days=1))
    # It polls every ten minutes here: only the NOTIFY can make it look again in time.
    dispatcher = Dispatcher(concurrency=2, poll_seconds=600)
    thread = run_in_thread(dispatcher)
    try:
        wait_until(lambda: dispatcher.cycles >= 1, "the first cycle")
        wait_until(lambda: dispatcher._listener is not None, "the listener")
        time.sleep(0.5)  # LISTEN issued
        Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now())
        notify_dispatchers()
        wait_until(lambda: statuses(publication) == [DeliveryStatus.DELIVERED], "the delivery")
        assert dispatcher.cycles >= 2
    finally:
        dispatcher.stop()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert len(receiver.received) == 1


@pytest.mark.django_db(transaction=True)
def test_the_loop_survives_a_failing_cycle_and_stops_when_asked(
    editor, reviewer, istanbul, receiver, monkeypatch, caplog
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    real_prepare = engine.prepare_due
    failures: list[int] = []

    def fails_once(now: object = None, **kwargs: bool) -> dict[str, int]:
        if not failures:
            failures.append(1)
            raise RuntimeError("the database went away")
        return real_prepare(now, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "prepare_due", fails_once)
    dispatcher = Dispatcher(concurrency=2, poll_seconds=0.05)
    thread = run_in_thread(dispatcher)
    try:
        wait_until(
            lambda: statuses(publication) == [DeliveryStatus.DELIVERED], "the delivery after the failure"
        )
    finally:
        dispatcher.stop()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert "The dispatch cycle failed" in caplog.text
    assert len(receiver.received) == 1


def test_a_second_dispatcher_on_the_same_host_refuses_to_start(db, settings, tmp_path):
    settings.DISPATCH_LOCK_DIR = str(tmp_path)
    held = dispatch_command.take_host_lock(dispatch_command.lock_path())
    try:
        with pytest.raises(CommandError, match="already runs on this host"):
            call_command("dispatch")
    finally:
        held.close()
    # Once the first is gone, the lock is free again.
    dispatch_command.take_host_lock(dispatch_command.lock_path()).close()


def test_a_concurrency_out_of_bounds_is_refused_with_a_message(db):
    with pytest.raises(CommandError, match="between 1 and 1000"):
        call_command("dispatch", "--concurrency", "0")


def test_store_published_writes_a_batch_of_answers_in_one_transaction(editor, reviewer, istanbul, receiver):
    due_deliveries(editor, reviewer, istanbul, receiver.url, 3)
    sender = engine.Sender("job", concurrency=3)
    try:
        sender.claim()
        in_flight = list(sender.sending.values())
        answers = [
            (s.row, Published(post_id=f"p{n}", url=f"https://social.example/p{n}"), True)
            for n, s in enumerate(in_flight)
        ]
        # Two updates for the three (the versions move once, on commit): not two a delivery.
        with CaptureQueriesContext(connection) as queries:
            engine.store_published(answers)  # type: ignore[arg-type]
        statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
        assert len(statements) == 2 and all("UPDATE" in sql for sql in statements)
    finally:
        sender.answers = type(sender.answers)()  # the real answers are not written again
        sender.sending.clear()
        sender.close()
    assert sorted(Delivery.objects.values_list("platform_post_id", flat=True)) == ["p0", "p1", "p2"]


def test_the_dispatcher_wakes_at_the_next_due_instant_not_a_whole_poll_later(
    editor, reviewer, istanbul, receiver
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    dispatcher = Dispatcher(concurrency=1, poll_seconds=1.0)
    try:
        now = timezone.now()
        Publication.objects.filter(pk=publication.pk).update(scheduled_at=now + timedelta(milliseconds=300))
        assert dispatcher.next_due_in(now) == pytest.approx(0.3)
        Publication.objects.filter(pk=publication.pk).update(scheduled_at=now + timedelta(hours=1))
        assert dispatcher.next_due_in(now) == 1.0  # nothing sooner: the next poll
    finally:
        dispatcher.sender.close()
