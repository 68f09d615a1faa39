"""A real `manage.py dispatch` SIGKILLed mid-burst and started again: nothing is sent twice,
nothing is lost, and only the requests in flight at the kill end `unknown`.

PostgreSQL only (the production database; skipped without DATABASE_URL pointing at it).
Heartbeats are shortened for the run (DISPATCH_DEAD_AFTER_SECONDS=3), so the whole test
takes seconds, not the minute production waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Delivery, DeliveryPart, DeliveryStatus, Publication
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.fake_receiver import FakeReceiver

ROOT = Path(__file__).resolve().parent.parent
TEXTS = {"en": "The approved text.", "nl": "De tekst.", "fr": "Le texte.", "tr": "Metin."}
#: No wait in this module is longer.
WAIT = 30.0
CHANNELS = 24

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="runs a real dispatcher against the test database: PostgreSQL only (set DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


def database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def dispatcher(log: Path, lock_dir: Path) -> Iterator[subprocess.Popen]:
    """`manage.py dispatch` on the test database, SIGKILLed on the way out."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "diplomacy.settings",
        "DATABASE_URL": database_url(),
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "WEBHOOK_SIGNING_KEY": settings.WEBHOOK_SIGNING_KEY,
        "DISPATCH_CONCURRENCY": "6",
        "DISPATCH_HEARTBEAT_SECONDS": "1",
        "DISPATCH_DEAD_AFTER_SECONDS": "3",
        "DISPATCH_LOCK_DIR": str(lock_dir),
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "dispatch"],
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
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=WAIT)


def wait_until(condition: Callable[[], bool], what: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    pytest.fail(f"Waited {WAIT:.0f} s for {what}. The dispatcher said:\n{tail}")


def test_a_dispatcher_killed_mid_burst_and_restarted_sends_nothing_twice_and_loses_nothing(
    editor, reviewer, istanbul, tmp_path
):
    receiver = FakeReceiver(delay=0.4)  # each answer takes a while: requests are in flight
    log = tmp_path / "dispatch.log"
    try:
        channels = []
        for _ in range(CHANNELS):
            channel = make_channel(post=istanbul, platform="mastodon")
            channel.connector, channel.endpoint = "webhook", receiver.url
            channel.save()
            channels.append(channel)
        publication = make_publication(
            post=istanbul,
            author=editor,
            local_date=(timezone.now() + timedelta(days=3)).date(),
            channels=channels,
            variants=TEXTS,
        )
        workflow.submit(editor, publication)
        workflow.approve(
            reviewer, Publication.objects.get(pk=publication.pk), expected_revision=publication.revision
        )
        Publication.objects.filter(pk=publication.pk).update(
            scheduled_at=timezone.now() - timedelta(seconds=1)
        )
        deliveries = Delivery.objects.filter(publication=publication)

        with dispatcher(log, tmp_path) as first:
            wait_until(lambda: len(receiver.received) >= 8, "the burst to be under way", log)
            kill(first)
        # What was in flight at the kill: parts claimed whose answer was not stored.
        in_flight = set(
            DeliveryPart.objects.filter(
                delivery__publication=publication,
                status=DeliveryStatus.PENDING,
                claimed_at__isnull=False,
                platform_post_id="",
            ).values_list("delivery_id", flat=True)
        )
        delivered_before = deliveries.filter(status=DeliveryStatus.DELIVERED).count()
        assert 0 < delivered_before < CHANNELS, "the kill came before or after the burst"

        with dispatcher(log, tmp_path):
            wait_until(
                lambda: not deliveries.filter(status=DeliveryStatus.PENDING).exists(),
                "every delivery to end delivered or unknown",
                log,
            )
        unknown = set(deliveries.filter(status=DeliveryStatus.UNKNOWN).values_list("pk", flat=True))
        assert unknown == in_flight  # only the requests in flight wait for a person
        assert deliveries.filter(status=DeliveryStatus.DELIVERED).count() == CHANNELS - len(in_flight)
        assert receiver.duplicates() == {}  # nothing sent twice
        sent_keys = set(receiver.per_key())
        for delivery in deliveries.filter(status=DeliveryStatus.DELIVERED):
            assert delivery.idempotency_key in sent_keys
    finally:
        receiver.close()
