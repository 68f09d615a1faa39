"""A worker that dies while publishing never sends twice and never loses the delivery.

The delivery is claimed (committed) before the platform is called, so whatever point
the sender (the minute job, the dispatcher) dies at, a rerun finds the claim and sends
nothing; once its holder stops beating (or, the last resort, after CLAIM_EXPIRY) the
claim turns into `unknown` for a person to check. The deaths are simulated in-process
with a BaseException (what a kill looks like to the code that was running: nothing
after it runs), and once for real: a `manage.py qcluster` SIGKILLed on PostgreSQL
while the platform holds its request (the dispatcher's: tests/test_dispatcher_kill.py).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import NoReturn
from urllib.parse import quote

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.tasks import async_task

from calendar_app import workflow
from calendar_app.models import Delivery, DeliveryPart, DeliveryStatus, Publication, PublicationStatus
from calendar_app.publishing import Published, Thread, engine, webhook
from calendar_app.publishing.dispatcher import Dispatcher
from calendar_app.publishing.parts import OutgoingPart
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.fake_receiver import FakeReceiver

ROOT = Path(__file__).resolve().parent.parent
TEXTS = {"en": "The approved text.", "nl": "De tekst.", "fr": "Le texte.", "tr": "Metin."}
#: Every real cluster run is bounded: no wait in this module is longer.
WAIT = 30.0


class WorkerKilled(BaseException):
    """A worker stopping dead: not an Exception, so no `except Exception` handles it."""


@pytest.fixture(scope="module", autouse=True)
def _sqlite_on_a_file(django_db_setup, django_db_blocker, tmp_path_factory):
    """On SQLite, threads race on a WAL file as production runs, not on pytest-django's shared
    in-memory database (whose table locks fail at once instead of waiting for the busy timeout)."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        yield
        return
    with django_db_blocker.unblock():
        in_memory = connection.settings_dict["NAME"]
        keeper = sqlite3.connect(in_memory, uri=True)  # keeps the in-memory database alive
        path = str(tmp_path_factory.mktemp("crash") / "crash.sqlite3")
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


@pytest.fixture
def receiver():
    fake = FakeReceiver()
    yield fake
    fake.close()


def approved_publication(
    editor, reviewer, post, endpoint: str, *, channels: int = 1, thread: bool = False
) -> Publication:
    """Approved through the workflow on `channels` webhook channels, due five seconds ago;
    with `thread`, each channel threads the four languages (four parts a delivery)."""
    hooked = []
    for _ in range(channels):
        channel = make_channel(
            post=post, platform="mastodon", content_languages="nl,fr,en,tr" if thread else "en"
        )
        channel.connector, channel.endpoint = "webhook", endpoint
        channel.language_plan = "thread" if thread else "combined"
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


def dies_before_sending(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> NoReturn:
    raise WorkerKilled


def dies_after_sending(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> NoReturn:
    webhook.publish(delivery, part, reply_to)  # the platform has it (and answered) ...
    raise WorkerKilled  # ... but the worker never gets back to the engine


STAGES = {
    "before the request left": (dies_before_sending, None),
    "after the platform got it, before its answer came back": (dies_after_sending, None),
    "after the answer, before it was stored": (None, "store_published"),
}


def kill_at(monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    connector, engine_step = STAGES[stage]
    if connector is not None:
        monkeypatch.setattr(engine, "connector_for", lambda name: type("Dying", (), {"publish": connector}))
    if engine_step is not None:

        def dies(*args: object, **kwargs: object) -> NoReturn:
            raise WorkerKilled

        monkeypatch.setattr(engine, engine_step, dies)


def dispatch_once() -> dict[str, int]:
    """One dispatcher cycle, its answers stored: what `manage.py dispatch` does each second."""
    dispatcher = Dispatcher(concurrency=4)
    try:
        done = dispatcher.cycle()
        dispatcher.sender.drain(WAIT)
        return done
    finally:
        dispatcher.sender.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stage", list(STAGES))
@pytest.mark.parametrize("job", ["publish_due", "dispatcher"])
def test_a_worker_dying_mid_delivery_never_sends_twice_and_the_delivery_ends_unknown(
    editor, reviewer, istanbul, receiver, monkeypatch, stage, job
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    run = {
        "publish_due": engine.publish_due,
        "dispatcher": dispatch_once,
    }[job]
    with monkeypatch.context() as patched:
        kill_at(patched, stage)
        with pytest.raises(WorkerKilled):
            run()
    posted = len(receiver.received)
    assert posted == (0 if stage == "before the request left" else 1)
    delivery = Delivery.objects.get(publication=publication)
    # The claim was committed before the platform was called: the death did not undo it.
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    assert delivery.claimed_at is not None

    # Reruns (the minute job, the dispatcher, django-q2 redelivering the task) skip it.
    engine.publish_due()
    dispatch_once()
    assert len(receiver.received) == posted
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING

    # Once the claim is older than CLAIM_EXPIRY, the minute job hands it to a person.
    with time_machine.travel(timezone.now() + engine.CLAIM_EXPIRY + timedelta(minutes=1), tick=False):
        assert engine.publish_due()["expired_claims"] == 1
        engine.publish_due()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.UNKNOWN
    assert delivery.awaits_a_person
    assert len(receiver.received) == posted
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.APPROVED


@pytest.mark.django_db(transaction=True)
def test_a_worker_dying_after_storing_the_answer_leaves_it_delivered_and_the_minute_job_settles_it(
    editor, reviewer, istanbul, receiver, monkeypatch
):
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    with monkeypatch.context() as patched:

        def dies(publication_id: int) -> NoReturn:
            raise WorkerKilled

        patched.setattr(workflow, "settle_publication", dies)
        with pytest.raises(WorkerKilled):
            dispatch_once()
    assert Delivery.objects.get(publication=publication).status == DeliveryStatus.DELIVERED
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.APPROVED
    result = engine.publish_due()
    assert result["settled"] == 1
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.PUBLISHED
    assert len(receiver.received) == 1


@pytest.mark.django_db(transaction=True)
def test_the_claim_is_committed_before_the_platform_is_called(
    editor, reviewer, istanbul, receiver, monkeypatch
):
    """Seen from another connection while the connector runs: so no rollback can undo it."""
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    seen: list[object] = []

    def look(delivery_id: int) -> None:
        try:
            seen.append(Delivery.objects.get(pk=delivery_id).claimed_at)
        finally:
            connection.close()

    def publish(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published:
        other = threading.Thread(target=look, args=(delivery.pk,))
        other.start()
        other.join(WAIT)
        return webhook.publish(delivery, part, reply_to)

    monkeypatch.setattr(engine, "connector_for", lambda name: type("Looking", (), {"publish": publish}))
    dispatch_once()
    assert len(seen) == 1 and seen[0] is not None
    assert Delivery.objects.get(publication=publication).status == DeliveryStatus.DELIVERED


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


@pytest.mark.django_db(transaction=True)
def test_jobs_racing_on_the_same_deliveries_send_each_once(editor, reviewer, istanbul, receiver):
    """Two dispatchers and the minute job twice (django-q2 redelivery), at once."""
    for _round in range(5):
        publication = approved_publication(editor, reviewer, istanbul, receiver.url, channels=2)
        errors = race([dispatch_once, dispatch_once, engine.publish_due, engine.publish_due])
        assert errors == []
        keys = set(Delivery.objects.filter(publication=publication).values_list("idempotency_key", flat=True))
        assert {key: receiver.per_key()[key] for key in keys} == dict.fromkeys(keys, 1)
        assert set(Delivery.objects.filter(publication=publication).values_list("status", flat=True)) == {
            DeliveryStatus.DELIVERED
        }
        assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.PUBLISHED
    assert receiver.duplicates() == {}


@pytest.mark.django_db(transaction=True)
def test_jobs_racing_on_threads_send_each_part_once_in_order(editor, reviewer, istanbul, receiver):
    """Four parts a delivery: whoever holds the delivery sends them all, the others skip it."""
    for _round in range(3):
        publication = approved_publication(editor, reviewer, istanbul, receiver.url, channels=2, thread=True)
        errors = race([dispatch_once, dispatch_once, engine.publish_due, engine.publish_due])
        assert errors == []
        parts = DeliveryPart.objects.filter(delivery__publication=publication)
        keys = set(parts.values_list("idempotency_key", flat=True))
        assert len(keys) == 8
        assert {key: receiver.per_key()[key] for key in keys} == dict.fromkeys(keys, 1)
        assert set(parts.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
        for delivery in Delivery.objects.filter(publication=publication):
            numbers = [
                received.body["part"]["number"]
                for received in receiver.received
                if received.key in set(delivery.parts.values_list("idempotency_key", flat=True))
            ]
            assert numbers == [1, 2, 3, 4]
        assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.PUBLISHED
    assert receiver.duplicates() == {}
    assert receiver.problems == []


# --- A real cluster, killed -----------------------------------------------------------


def database_url() -> str:
    """The test database (the one this test commits to), as a DATABASE_URL for the cluster."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def qcluster(log: Path) -> Iterator[subprocess.Popen]:
    """`manage.py qcluster` with one worker on the test database, in its own process group,
    SIGKILLed with all its processes (sentinel, pusher, worker, monitor) on the way out."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "diplomacy.settings",
        "DATABASE_URL": database_url(),
        # The same key: tasks are signed with it.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "WEBHOOK_SIGNING_KEY": settings.WEBHOOK_SIGNING_KEY,
        "Q_WORKERS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            kill(process)


def kill(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=WAIT)


def wait_until(condition: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    pytest.fail(f"Waited {WAIT:.0f} s for {what}. The cluster said:\n{tail}")


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="runs a real qcluster against the test database: PostgreSQL only (set DATABASE_URL, as CI does)",
)
@pytest.mark.django_db(transaction=True)
def test_a_cluster_killed_mid_delivery_and_restarted_sends_nothing_twice_and_loses_nothing(
    editor, reviewer, istanbul, receiver, monkeypatch, tmp_path
):
    log = tmp_path / "qcluster.log"
    publication = approved_publication(editor, reviewer, istanbul, receiver.url)
    # Not yet due while the first cluster runs: due once it is dead, for the restarted one.
    other = approved_publication(editor, reviewer, istanbul, receiver.url)
    Publication.objects.filter(pk=other.pk).update(scheduled_at=timezone.now() + timedelta(days=1))
    monkeypatch.setattr(Conf, "SYNC", False)  # from now on really enqueue, on the ORM broker
    receiver.hold_next(1)
    with qcluster(log) as cluster:
        async_task("calendar_app.publishing.engine.publish_due")
        assert receiver.holding.wait(WAIT), "the cluster never reached the platform: " + log.read_text()
        # The platform has the request and has not answered: the worker dies now.
        kill(cluster)
    receiver.release()
    first = Delivery.objects.get(publication=publication)
    assert receiver.per_key() == {first.idempotency_key: 1}
    assert (first.status, first.claimed_at is not None) == (DeliveryStatus.PENDING, True)
    assert not Delivery.objects.filter(publication=other).exists()  # not due then
    Publication.objects.filter(pk=other.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    assert OrmQ.objects.count() == 1  # the task the worker held stays in the queue

    # The ORM broker redelivers that task once `retry` has passed: let it pass now. The
    # minute job comes by as well.
    OrmQ.objects.update(lock=timezone.now() - timedelta(seconds=1))
    with qcluster(log):
        async_task("calendar_app.publishing.engine.publish_due")
        wait_until(
            lambda: (
                OrmQ.objects.count() == 0
                and Delivery.objects.filter(publication=other, status=DeliveryStatus.DELIVERED).exists()
            ),
            "the restarted cluster to run both tasks",
            log,
        )
        assert Delivery.objects.get(pk=first.pk).status == DeliveryStatus.PENDING  # claimed: skipped
        # The dead worker's claim: after CLAIM_EXPIRY the minute job makes it `unknown`.
        async_task("calendar_app.publishing.engine.expire_stale_claims", timezone.now() + engine.CLAIM_EXPIRY)
        async_task("calendar_app.publishing.engine.publish_due")
        wait_until(
            lambda: (
                OrmQ.objects.count() == 0
                and Delivery.objects.get(pk=first.pk).status == DeliveryStatus.UNKNOWN
            ),
            "the cluster to hand the dead worker's delivery to a person",
            log,
        )
    second = Delivery.objects.get(publication=other)
    assert receiver.per_key() == {first.idempotency_key: 1, second.idempotency_key: 1}
    assert Publication.objects.get(pk=other.pk).status == PublicationStatus.PUBLISHED
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.APPROVED  # awaits a person
