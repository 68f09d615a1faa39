"""Publishing lateness: 1,000 approved publications due at the same instant, two workers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/calendar .venv/bin/python bench/lateness.py
        [--publications 1000] [--channels 200] [--platform-delay 0] [--limit 240] [--keep]

What it does, in order:

1. Needs PostgreSQL (the production broker and database): without DATABASE_URL it says
   so and exits 0. Uses the database `calendar_lateness` on that server, dropped and
   created again (never the developer's own), with production-like settings (DEBUG off).
2. Loads the demo network and makes `--channels` webhook channels across its posts, all
   pointing at a fake receiver on 127.0.0.1 (a threaded HTTP server in this process that
   answers at once, or after --platform-delay seconds as a real platform would, and
   counts POSTs per Idempotency-Key), and the periodic jobs
   (`sync_schedules`, so the minute job runs as in production).
3. Starts `manage.py qcluster` with Q_WORKERS=2 and the project's default Q_CLUSTER
   settings, then makes `--publications` approved publications (approved revision and
   review included), each on one channel, all due at one instant T a few seconds later,
   each with its one-off job exactly as the approve transition leaves it
   (`tasks.schedule_publication`).
4. Waits until every delivery is delivered (at most `--limit` seconds), then stops the
   cluster (SIGTERM to its process group, SIGKILL after 10 s).
5. Prints the deliveries made and delivered, the duplicate POSTs (idempotency keys the
   receiver saw more than once: must be 0), and the lateness (delivered_at - scheduled_at):
   p50, p95 and max, against the goal of 60 s. django-q2's scheduler fires about every
   30 s, so the first POST comes 0-30 s after T depending on where T falls in its cycle;
   the line "first POST after T" shows that share.

It only ever talks to 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PG_DATABASE = "calendar_lateness"
#: The issue's goal: every publication delivered within this many seconds of its time.
GOAL_SECONDS = 60
WORKERS = 2


def configure_environment() -> str | None:
    """Production-like settings on the benchmark's own database; None without PostgreSQL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "diplomacy.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECRET_KEY"] = "bench-" + secrets.token_urlsafe(32)
    os.environ["WEBHOOK_SIGNING_KEY"] = "bench-webhook-" + secrets.token_urlsafe(32)
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DJANGO_LOG_LEVEL"] = "ERROR"
    os.environ.pop("REDIS_URL", None)  # the local-memory cache: nothing but the database
    os.environ["DATABASE_URL"] = urlsplit(url)._replace(path="/" + PG_DATABASE).geturl()
    return PG_DATABASE


def admin_connection():
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
    return psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v})


def fresh_database() -> None:
    from django.conf import settings
    from django.core.management import call_command

    assert settings.DATABASES["default"]["NAME"] == PG_DATABASE
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    call_command("migrate", interactive=False, verbosity=0)
    call_command("sync_schedules", stdout=io.StringIO())  # the minute job, as in production


def drop_database() -> None:
    from django.db import connections

    connections.close_all()
    with admin_connection() as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')


def seed_network(channels: int, endpoint: str) -> list:
    """The demo network, and `channels` webhook channels round its posts."""
    from django.db import transaction
    from django.test.utils import override_settings

    from diplomacy import demo
    from diplomacy.models import Channel, Platform, Post

    fast_hasher = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with fast_hasher, transaction.atomic():
        demo.load_partners()
        demo.load_posts()
        demo.create_users(secrets.token_urlsafe(16))
    posts = list(Post.objects.order_by("code"))
    rows = [
        Channel(
            post=posts[n % len(posts)],
            platform=Platform.MASTODON,
            handle=f"@lateness{n:03d}",
            connector="webhook",
            endpoint=endpoint,
        )
        for n in range(channels)
    ]
    return Channel.objects.bulk_create(rows)


def approved_publications(count: int, channels: list, due_at) -> list[int]:
    """`count` approved publications due at `due_at`, spread over `channels`, each with the
    approved revision and review the engine sends from; returns their ids."""
    from django.db import transaction

    from calendar_app.models import (
        Publication,
        PublicationRevision,
        PublicationStatus,
        Review,
        ReviewDecision,
        Variant,
    )
    from diplomacy.models import Role, User

    reviewer = User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email").first()
    author = User.objects.filter(memberships__role=Role.POST_EDITOR).order_by("email").first()
    texts = {"en": "Belgium is open for business.", "nl": "België is open.", "fr": "La Belgique est ouverte."}
    with transaction.atomic():
        rows = []
        for n in range(count):
            channel = channels[n % len(channels)]
            local = due_at.astimezone(channel.post.zone)
            rows.append(
                Publication(
                    post=channel.post,
                    title=f"Lateness {n}",
                    status=PublicationStatus.APPROVED,
                    local_date=local.date(),
                    local_time=local.time().replace(tzinfo=None),
                    timezone=channel.post.timezone,
                    scheduled_at=due_at,
                    author=author,
                )
            )
        publications = Publication.objects.bulk_create(rows, batch_size=1000)
        through = Publication.channels.through
        through.objects.bulk_create(
            [
                through(publication_id=p.pk, channel_id=channels[n % len(channels)].pk)
                for n, p in enumerate(publications)
            ],
            batch_size=2000,
        )
        Variant.objects.bulk_create(
            [
                Variant(publication=p, language=lang, text=text)
                for p in publications
                for lang, text in texts.items()
            ],
            batch_size=2000,
        )
        revisions = PublicationRevision.objects.bulk_create(
            [
                PublicationRevision(
                    publication=p,
                    number=1,
                    submitted_by=author,
                    checks=[],
                    content={
                        "title": p.title,
                        "variants": {lang: [text, {}] for lang, text in texts.items()},
                    },
                )
                for p in publications
            ],
            batch_size=2000,
        )
        Review.objects.bulk_create(
            [
                Review(
                    publication=r.publication,
                    revision=r,
                    reviewer=reviewer,
                    decision=ReviewDecision.APPROVE,
                    guideline_version=0,
                )
                for r in revisions
            ],
            batch_size=2000,
        )
    return [p.pk for p in publications]


def schedule_all(publication_ids: list[int]) -> None:
    """Each publication's one-off job, as the approve transition queues it (on commit)."""
    from django.db import transaction

    from calendar_app import tasks
    from calendar_app.models import Publication

    with transaction.atomic():
        for publication in Publication.objects.filter(pk__in=publication_ids).only("pk"):
            tasks.schedule_publication(publication)


def start_cluster(log) -> subprocess.Popen:
    env = {**os.environ, "Q_WORKERS": str(WORKERS), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_cluster(process: subprocess.Popen) -> None:
    """qcluster can hang on SIGTERM: ask, wait 10 s, then kill the whole group."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Whatever is left of the group (a worker that outlived its sentinel).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def run_cluster(args: argparse.Namespace, receiver, log) -> tuple[list[int], datetime, float | None]:
    """Seed, start the cluster, make the publications due at T, wait; returns the ids, T and
    when the scheduler had queued their jobs (time.time())."""
    from django.utils import timezone
    from django_q.models import Schedule

    from calendar_app.models import Delivery, DeliveryStatus, Publication

    channels = seed_network(args.channels, receiver.url)
    cluster = start_cluster(log)
    try:
        ids = approved_publications(args.publications, channels, timezone.now() + timedelta(days=30))
        # Due a few seconds from now, once every job is written.
        due_at = timezone.now() + timedelta(seconds=8)
        Publication.objects.filter(pk__in=ids).update(scheduled_at=due_at)
        schedule_all(ids)
        print(
            f"{len(ids):,} approved publications on {len(channels)} webhook channels due at "
            f"{due_at:%H:%M:%S} UTC; qcluster with {WORKERS} workers (pid {cluster.pid}).",
            flush=True,
        )
        jobs = Schedule.objects.filter(func="calendar_app.publishing.engine.publish_publication")
        queued_at = None
        deadline = time.monotonic() + args.limit
        while time.monotonic() < deadline:
            # django-q2 deletes a ONCE schedule in the transaction that queues its task.
            if queued_at is None and not jobs.exists():
                queued_at = time.time()
            delivered = Delivery.objects.filter(publication_id__in=ids, status=DeliveryStatus.DELIVERED)
            if delivered.count() >= len(ids):
                break
            if cluster.poll() is not None:
                print("The cluster stopped by itself.", flush=True)
                break
            time.sleep(0.25)
    finally:
        stop_cluster(cluster)
    return ids, due_at, queued_at


def measure(args: argparse.Namespace, database: str) -> bool:
    import django

    django.setup()
    from calendar_app.models import Delivery, DeliveryStatus
    from tests.fake_receiver import FakeReceiver

    print(f"Database: {database} (PostgreSQL). Migrating and seeding…", flush=True)
    fresh_database()
    receiver = FakeReceiver(delay=args.platform_delay)
    # A bigger listen backlog than http.server's 5: the fake platform must never be what limits.
    receiver.server.socket.listen(128)
    log_path = Path(tempfile.mkstemp(prefix="lateness-qcluster-", suffix=".log")[1])
    try:
        with log_path.open("wb") as log:
            ids, due_at, queued_at = run_cluster(args, receiver, log)
    finally:
        receiver.close()

    rows = Delivery.objects.filter(publication_id__in=ids).values_list(
        "status", "delivered_at", "publication__scheduled_at"
    )
    statuses: dict[str, int] = {}
    late: list[float] = []
    for status, delivered_at, scheduled_at in rows:
        statuses[status] = statuses.get(status, 0) + 1
        if delivered_at is not None:
            late.append((delivered_at - scheduled_at).total_seconds())
    delivered = statuses.get(DeliveryStatus.DELIVERED, 0)
    duplicates = receiver.duplicates()
    posts = [r.at for r in receiver.received]
    print()
    print(f"Deliveries made: {sum(statuses.values()):,} of {len(ids):,}; by status: {statuses}")
    print(f"Delivered: {delivered:,}")
    print(f"POSTs received: {len(posts):,}; duplicates (keys posted more than once): {len(duplicates)}")
    ok = not duplicates and delivered == len(ids)
    if late:
        first_post = min(posts) - due_at.timestamp()
        spread = max(posts) - min(posts)
        p50, p95, worst = statistics.median(late), percentile(late, 0.95), max(late)
        if queued_at is not None:
            queued = queued_at - due_at.timestamp()
            print(f"Jobs queued by django-q2's scheduler (it fires every ~30 s) after T: {queued:.1f} s")
        print(f"First POST after T: {first_post:.1f} s")
        print(
            f"From the first POST to the last: {spread:.1f} s "
            f"({len(posts) / max(spread, 0.001):.0f} a second)"
        )
        print(f"Lateness (delivered_at - scheduled_at): p50 {p50:.1f} s, p95 {p95:.1f} s, max {worst:.1f} s")
        met = worst <= GOAL_SECONDS
        print(f"Goal, every one within {GOAL_SECONDS} s of its time: {'met' if met else 'NOT met'}.")
        ok = ok and met
    else:
        print(f"Nothing was delivered within {args.limit:.0f} s.")
    tail = log_path.read_text(errors="replace").splitlines()[-30:]
    if not ok and tail:
        print(f"\nLast lines of the cluster's log ({log_path}):\n" + "\n".join(tail))
    else:
        log_path.unlink(missing_ok=True)
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publications", type=int, default=1000, help="due at once (default 1000)")
    parser.add_argument("--channels", type=int, default=200, help="webhook channels (default 200)")
    parser.add_argument(
        "--platform-delay",
        type=float,
        default=0.0,
        help="seconds the fake platform takes to answer (default 0)",
    )
    parser.add_argument("--limit", type=float, default=240, help="seconds to wait at most (default 240)")
    parser.add_argument("--keep", action="store_true", help=f"keep the database {PG_DATABASE} afterwards")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    database = configure_environment()
    if database is None:
        print("bench/lateness.py: skipped, it needs PostgreSQL (set DATABASE_URL=postgres://...).")
        return 0
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    try:
        ok = measure(args, database)
    finally:
        if not args.keep:
            drop_database()
    print(f"\nTotal: {time.perf_counter() - started:.0f} s.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
