"""Publishing lateness with the dispatcher: is every publication sent at its time?

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/calendar .venv/bin/python bench/lateness.py
        [--scenario all|spread|burst|advisory|sqlite|kill] [--runs 3] [--spread-minutes 10]
        [--concurrency 240] [--keep]

Each scenario runs the production processes for real: `manage.py qcluster` with 2 workers
(the minute job `publish-due`, the safety net) and `manage.py dispatch`, against a
database of its own (PostgreSQL `calendar_lateness`, dropped and made again; never the
developer's), with a fake webhook receiver on 127.0.0.1 inside this process that counts
POSTs per Idempotency-Key (a key seen twice is a double post). Every run is printed, then
the scenario's goal and whether every run met it:

- spread:   publications due at random instants over --spread-minutes (default 10): p95
            lateness (delivered_at - scheduled_at) <= 2 s.
- burst:    1,000 due at one instant on 200 channels, the receiver answering in 0.5-2 s:
            p95 <= 10 s, 0 duplicates, 0 lost.
- advisory: a network-wide advisory of 350 deliveries: from the approval (committed, with
            the NOTIFY the approve transition sends) to the last delivery <= 10 s.
- sqlite:   as `make run` (SQLite, one qcluster, the dispatcher with its default 32
            requests in flight), 100 due at once: p95 <= 10 s. Runs in a child process.
- kill:     a burst, the dispatcher and the cluster SIGKILLed mid-burst and started again:
            0 duplicates, 0 lost, `unknown` only for the requests in flight at the kill
            (dead claims are found after DISPATCH_DEAD_AFTER_SECONDS=5 here, 60 in production).

The due instant of each run is placed at random within the dispatcher's one-second cycle.
Without DATABASE_URL (PostgreSQL) only the SQLite scenario runs. It only ever talks to
127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PG_DATABASE = "calendar_lateness"
WORKERS = 2
GOALS = {
    "spread": "p95 lateness <= 2 s",
    "burst": "p95 lateness <= 10 s, 0 duplicates, 0 lost",
    "advisory": "approval to last delivery <= 10 s",
    "sqlite": "p95 lateness <= 10 s (SQLite, as make run)",
    "kill": "0 duplicates, 0 lost, unknown only for requests in flight",
}


def configure_environment(sqlite_path: str | None) -> str:
    """Production-like settings on the benchmark's own database."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "diplomacy.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + secrets.token_urlsafe(32))
    os.environ.setdefault("WEBHOOK_SIGNING_KEY", "bench-webhook-" + secrets.token_urlsafe(32))
    os.environ["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1"
    os.environ["DJANGO_LOG_LEVEL"] = "ERROR"
    os.environ.pop("REDIS_URL", None)  # the local-memory cache: nothing but the database
    os.environ["DISPATCH_LOCK_DIR"] = tempfile.mkdtemp(prefix="lateness-lock-")
    if sqlite_path is not None:
        os.environ.pop("DATABASE_URL", None)
        os.environ["SQLITE_PATH"] = sqlite_path
        return f"SQLite {sqlite_path}"
    url = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = urlsplit(url)._replace(path="/" + PG_DATABASE).geturl()
    return f"PostgreSQL {PG_DATABASE}"


def admin_connection():
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
    return psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v})


def fresh_database(postgres: bool) -> None:
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    if postgres:
        assert settings.DATABASES["default"]["NAME"] == PG_DATABASE
        connections.close_all()  # the last scenario's, on the database dropped now
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

    if not Post.objects.exists():
        fast_hasher = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
        with fast_hasher, transaction.atomic():
            demo.load_partners()
            demo.load_posts()
            demo.create_users(secrets.token_urlsafe(16))
    posts = list(Post.objects.order_by("code"))
    start = Channel.objects.filter(handle__startswith="@lateness").count()
    rows = [
        Channel(
            post=posts[n % len(posts)],
            platform=Platform.MASTODON,
            handle=f"@lateness{n:04d}",
            connector="webhook",
            endpoint=endpoint,
        )
        for n in range(start, start + channels)
    ]
    return Channel.objects.bulk_create(rows)


def make_publications(due: list[datetime], channels: list, *, status: str = "approved") -> list[int]:
    """One publication a due instant, each on one channel (round the channels), with the
    approved revision and review the engine sends from; returns their ids."""
    from django.db import transaction

    from calendar_app.models import Publication, PublicationRevision, Review, ReviewDecision, Variant
    from diplomacy.models import Role, User

    reviewer = User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email").first()
    author = User.objects.filter(memberships__role=Role.POST_EDITOR).order_by("email").first()
    texts = {"en": "Belgium is open for business.", "nl": "België is open.", "fr": "La Belgique est ouverte."}
    with transaction.atomic():
        rows = []
        for n, due_at in enumerate(due):
            channel = channels[n % len(channels)]
            local = due_at.astimezone(channel.post.zone)
            rows.append(
                Publication(
                    post=channel.post,
                    title=f"Lateness {n}",
                    status=status,
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


# --- Processes ---------------------------------------------------------------------------------


def start(command: str, log, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", command],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen, *, kill: bool = False) -> None:
    """Ask (SIGTERM), wait 10 s, then SIGKILL the whole group; or SIGKILL at once."""
    steps = ((signal.SIGKILL, 10),) if kill else ((signal.SIGTERM, 10), (signal.SIGKILL, 10))
    for sig, wait in steps:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclass
class Processes:
    """qcluster (2 workers) and the dispatcher, started and stopped together."""

    log: object
    concurrency: int
    env: dict[str, str] = field(default_factory=dict)
    running: list[subprocess.Popen] = field(default_factory=list)

    def start(self) -> None:
        self.running = [
            start("qcluster", self.log, Q_WORKERS=str(WORKERS), **self.env),
            start("dispatch", self.log, DISPATCH_CONCURRENCY=str(self.concurrency), **self.env),
        ]
        time.sleep(3)  # both up (imports, first cycle)

    def stop(self, *, kill: bool = False) -> None:
        for process in self.running:
            stop(process, kill=kill)
        self.running = []


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


# --- Measuring -------------------------------------------------------------------------------


@dataclass
class Outcome:
    made: int
    delivered: int
    unknown: int
    lost: int
    duplicates: int
    late: list[float]

    def line(self) -> str:
        if not self.late:
            return f"nothing delivered; lost {self.lost}"
        return (
            f"delivered {self.delivered}/{self.made}, lateness p50 {statistics.median(self.late):.2f} s, "
            f"p95 {percentile(self.late, 0.95):.2f} s, max {max(self.late):.2f} s, "
            f"duplicates {self.duplicates}, lost {self.lost}, unknown {self.unknown}"
        )


def wait_for(ids: list[int], limit: float) -> None:
    """Until every publication's deliveries are no longer pending (at most `limit` s)."""
    from calendar_app.models import Delivery, DeliveryStatus

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        rows = Delivery.objects.filter(publication_id__in=ids)
        if rows.count() >= len(ids) and not rows.filter(status=DeliveryStatus.PENDING).exists():
            return
        time.sleep(0.25)


def outcome(ids: list[int], receiver) -> Outcome:
    from calendar_app.models import Delivery, DeliveryStatus

    rows = list(
        Delivery.objects.filter(publication_id__in=ids).values_list(
            "status", "delivered_at", "publication__scheduled_at", "idempotency_key"
        )
    )
    keys = {key for *_rest, key in rows}
    counts = receiver.per_key()
    late = [(d - s).total_seconds() for status, d, s, _k in rows if status == DeliveryStatus.DELIVERED and d]
    delivered = sum(1 for status, *_ in rows if status == DeliveryStatus.DELIVERED)
    unknown = sum(1 for status, *_ in rows if status == DeliveryStatus.UNKNOWN)
    return Outcome(
        made=len(ids),
        delivered=delivered,
        unknown=unknown,
        lost=len(ids) - delivered - unknown,
        duplicates=sum(1 for key in keys if counts.get(key, 0) > 1),
        late=late,
    )


def due_soon(lead: float = 6.0) -> datetime:
    """An instant a few seconds ahead, placed at random within the dispatcher's 1 s cycle."""
    from django.utils import timezone

    return timezone.now() + timedelta(seconds=lead + random.random())  # noqa: S311 - not security


def run_spread(args, channels, receiver) -> list[bool]:
    results = []
    count = max(int(args.spread_minutes * 30), 10)  # one due every 2 s on average
    for run in range(1, args.runs + 1):
        from django.utils import timezone

        start_at = timezone.now() + timedelta(seconds=5)
        span = args.spread_minutes * 60
        due = [start_at + timedelta(seconds=random.uniform(0, span)) for _ in range(count)]  # noqa: S311
        ids = make_publications(due, channels)
        wait_for_time = span + 5 + 30
        time.sleep(max((start_at - timezone.now()).total_seconds(), 0))
        wait_for(ids, wait_for_time)
        result = outcome(ids, receiver)
        met = bool(result.late) and percentile(result.late, 0.95) <= 2 and result.lost == 0
        print(
            f"  spread run {run}: {count} due over {args.spread_minutes:g} min: {result.line()}", flush=True
        )
        results.append(met and result.duplicates == 0)
    return results


def run_burst(args, channels, receiver, *, count: int, goal: float) -> list[bool]:
    results = []
    for run in range(1, args.runs + 1):
        from django.utils import timezone

        due_at = due_soon(8.0)
        ids = make_publications([due_at] * count, channels)
        time.sleep(max((due_at - timezone.now()).total_seconds(), 0))
        wait_for(ids, args.limit)
        result = outcome(ids, receiver)
        met = bool(result.late) and percentile(result.late, 0.95) <= goal
        met = met and result.duplicates == 0 and result.lost == 0 and result.unknown == 0
        print(
            f"  burst run {run}: {count} due at once on {len(channels)} channels: {result.line()}", flush=True
        )
        results.append(met)
    return results


def run_advisory(args, channels, receiver) -> list[bool]:
    """350 advisories waiting for central's approval, due already; approved in one
    transaction, with the approve transition's NOTIFY on commit."""
    from django.db import transaction
    from django.utils import timezone

    from calendar_app import tasks
    from calendar_app.models import Delivery, Publication

    results = []
    for run in range(1, args.runs + 1):
        ids = make_publications(
            [timezone.now() - timedelta(seconds=1)] * args.advisory, channels, status="in_review"
        )
        time.sleep(random.random())  # noqa: S311 - anywhere in the dispatcher's cycle
        with transaction.atomic():
            Publication.objects.filter(pk__in=ids).update(status="approved")
            tasks.wake_dispatcher()
        approved_at = timezone.now()
        wait_for(ids, args.limit)
        result = outcome(ids, receiver)
        last = (
            Delivery.objects.filter(publication_id__in=ids)
            .order_by("-delivered_at")
            .values_list("delivered_at", flat=True)
            .first()
        )
        took = (last - approved_at).total_seconds() if last and result.lost == 0 else math.inf
        met = took <= 10 and result.duplicates == 0 and result.unknown == 0
        print(
            f"  advisory run {run}: {args.advisory} deliveries, approval to last delivery {took:.2f} s; "
            f"{result.line()}",
            flush=True,
        )
        results.append(met)
    return results


def run_kill(args, channels, receiver, processes: Processes) -> list[bool]:
    from django.utils import timezone

    from calendar_app.models import DeliveryPart, DeliveryStatus

    results = []
    for run in range(1, args.runs + 1):
        due_at = due_soon(8.0)
        ids = make_publications([due_at] * args.publications, channels)
        posts_before = len(receiver.received)
        time.sleep(max((due_at - timezone.now()).total_seconds(), 0) + 2.5 + random.random())  # noqa: S311
        processes.stop(kill=True)  # SIGKILL, mid-burst
        in_flight = set(
            DeliveryPart.objects.filter(
                delivery__publication_id__in=ids,
                status=DeliveryStatus.PENDING,
                claimed_at__isnull=False,
                platform_post_id="",
            ).values_list("delivery_id", flat=True)
        )
        sent_before = len(receiver.received) - posts_before
        processes.start()
        wait_for(ids, args.limit)
        result = outcome(ids, receiver)
        from calendar_app.models import Delivery

        unknown = set(
            Delivery.objects.filter(publication_id__in=ids, status=DeliveryStatus.UNKNOWN).values_list(
                "pk", flat=True
            )
        )
        met = result.duplicates == 0 and result.lost == 0 and unknown <= in_flight
        print(
            f"  kill run {run}: killed after {sent_before} POSTs with {len(in_flight)} requests in flight; "
            f"unknown {len(unknown)} (all of them in flight: {unknown <= in_flight}); {result.line()}",
            flush=True,
        )
        results.append(met)
    return results


def verdict(name: str, results: list[bool]) -> bool:
    met = bool(results) and all(results)
    print(
        f"Goal ({name}): {GOALS[name]}: {'met' if met else 'NOT met'} "
        f"(met in {sum(results)} of {len(results)} runs).\n"
    )
    return met


def measure(args: argparse.Namespace, scenarios: list[str], postgres: bool) -> bool:
    import django

    django.setup()
    from tests.fake_receiver import FakeReceiver

    fresh_database(postgres)
    # 0.5-2 s an answer, as a busy platform; the spread runs answer in 0.1-0.3 s.
    receiver = FakeReceiver(delay=lambda: random.uniform(0.5, 2.0))  # noqa: S311
    receiver.server.socket.listen(1024)  # the fake platform must never be what limits
    log_path = Path(tempfile.mkstemp(prefix="lateness-", suffix=".log")[1])
    ok = True
    try:
        with log_path.open("ab") as log:
            channels = seed_network(args.channels, receiver.url)
            concurrency = 32 if not postgres else args.concurrency
            env = (
                {"DISPATCH_DEAD_AFTER_SECONDS": "5", "DISPATCH_HEARTBEAT_SECONDS": "1"}
                if "kill" in scenarios
                else {}
            )
            processes = Processes(log, concurrency, env)
            processes.start()
            print(
                f"qcluster ({WORKERS} workers) and the dispatcher ({concurrency} requests in flight) on "
                f"{'PostgreSQL' if postgres else 'SQLite'}; {args.runs} runs a scenario.\n",
                flush=True,
            )
            try:
                for name in scenarios:
                    print(f"{name}: {GOALS[name]}", flush=True)
                    if name == "spread":
                        receiver.delay = lambda: random.uniform(0.1, 0.3)  # noqa: S311
                        results = run_spread(args, channels, receiver)
                        receiver.delay = lambda: random.uniform(0.5, 2.0)  # noqa: S311
                    elif name == "burst":
                        results = run_burst(args, channels, receiver, count=args.publications, goal=10)
                    elif name == "advisory":
                        results = run_advisory(args, channels, receiver)
                    elif name == "sqlite":
                        results = run_burst(args, channels, receiver, count=100, goal=10)
                    else:
                        results = run_kill(args, channels, receiver, processes)
                    ok = verdict(name, results) and ok
            finally:
                processes.stop()
    finally:
        receiver.close()
    if not ok:
        tail = log_path.read_text(errors="replace").splitlines()[-30:]
        print(f"Last lines of the processes' log ({log_path}):\n" + "\n".join(tail))
    else:
        log_path.unlink(missing_ok=True)
    return ok


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="all", choices=["all", *GOALS])
    parser.add_argument("--runs", type=int, default=3, help="runs a scenario (default 3)")
    parser.add_argument("--spread-minutes", type=float, default=10, help="spread of due times (default 10)")
    parser.add_argument(
        "--publications", type=int, default=1000, help="due at once in a burst (default 1000)"
    )
    parser.add_argument("--channels", type=int, default=200, help="webhook channels (default 200)")
    parser.add_argument("--advisory", type=int, default=350, help="deliveries of the advisory (default 350)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=240,
        help="the dispatcher's requests in flight on PostgreSQL (default 240)",
    )
    parser.add_argument(
        "--limit", type=float, default=180, help="seconds to wait for a run at most (default 180)"
    )
    parser.add_argument("--keep", action="store_true", help=f"keep the database {PG_DATABASE} afterwards")
    parser.add_argument("--sqlite-file", help=argparse.SUPPRESS)  # the child process of the SQLite scenario
    return parser.parse_args(argv)


def run_sqlite_child(argv: list[str] | None) -> bool:
    """The SQLite scenario in a process of its own (settings are read once a process)."""
    with tempfile.TemporaryDirectory(prefix="lateness-sqlite-") as folder:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        command = [
            sys.executable,
            __file__,
            *(argv or []),
            "--scenario",
            "sqlite",
            "--sqlite-file",
            f"{folder}/db.sqlite3",
        ]
        command = [
            c for n, c in enumerate(command) if not (command[n - 1 : n] == ["--scenario"] and c == "all")
        ]
        return subprocess.run(command, env=env, check=False).returncode == 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    started = time.perf_counter()
    postgres = os.environ.get("DATABASE_URL", "").startswith("postgres") and args.sqlite_file is None
    ok = True
    if args.scenario == "sqlite" or args.sqlite_file:
        if args.sqlite_file is None:
            ok = run_sqlite_child([a for a in (argv or sys.argv[1:]) if a not in ("--scenario", "sqlite")])
        else:
            print(f"Database: {configure_environment(args.sqlite_file)}.", flush=True)
            ok = measure(args, ["sqlite"], postgres=False)
        print(f"Total: {time.perf_counter() - started:.0f} s.")
        return 0 if ok else 1
    scenarios = ["spread", "burst", "advisory", "kill"] if args.scenario == "all" else [args.scenario]
    if not postgres:
        print("bench/lateness.py: the PostgreSQL scenarios need DATABASE_URL=postgres://...; SQLite only.")
        scenarios = []
    if scenarios:
        print(f"Database: {configure_environment(None)}.", flush=True)
        try:
            for name in scenarios:  # each with fresh processes (and the kill mode's short heartbeats)
                ok = measure(args, [name], postgres=True) and ok
        finally:
            if not args.keep:
                drop_database()
    if args.scenario == "all":
        ok = run_sqlite_child(argv or sys.argv[1:]) and ok
    print(f"\nTotal: {time.perf_counter() - started:.0f} s.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
