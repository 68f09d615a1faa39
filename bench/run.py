"""The calendar's figures for the README: server time, queries and bytes of each page.

    .venv/bin/python bench/run.py [--sizes 5000 50000] [--repeat 30] [--budget 30] [--profile] [--keep]

What it does, in order:

1. Points Django at a database of its own, never the developer's: a fresh SQLite
   file (bench/bench-<pid>.sqlite3, git-ignored, deleted afterwards unless --keep) or,
   when DATABASE_URL is set, the PostgreSQL database `calendar_bench` on that
   server, dropped and created again. Settings are production-like: DEBUG off
   (no query log), hashed static files, the whole middleware stack.
2. Seeds a large network: the demo network topped up to about 150 posts and 400
   channels, then the publications of each size in turn (5,000, then 45,000 more
   to reach 50,000), spread over 91 days either side of today.
3. For each page and size: three warm-up requests (the first counts the queries
   and bytes; a page slower than a second gets no other), then `--repeat` timed
   ones (wall time of `Client.get`; at least three, then no more once `--budget`
   seconds have passed), and the same for the floor: a bare view answering as
   many bytes through the same middleware for the same client. With --profile,
   a page more than 5x its floor is profiled (cProfile) and its slowest queries
   are shown.
4. Measures the growth request by request: a copy of the smallest size's database,
   made before seeding more, and the largest are both kept open, and each page is
   asked of one then of the other in turn (ABBA order), so that a machine slowing
   down or speeding up during the run (this shared one drifts by half within minutes)
   weighs on both sizes alike and does not pass for growth.
5. Prints the table, the ICS feed against the icalendar library alone, whether
   the largest size stays within 25% of the smallest, and the same as Markdown.

The test client keeps one database connection for the whole run, so the times
leave out opening a connection (production pays it per request when
DATABASE_CONN_MAX_AGE is 0, the default).
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import math
import os
import platform
import pstats
import random
import resource
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import probe
from django.http import HttpRequest, HttpResponse

if TYPE_CHECKING:  # Importing these needs settings, which main() chooses first.
    from django.test import Client
    from icalendar import Calendar

    from diplomacy.models import User

ROOT = Path(__file__).resolve().parent.parent
# One file per run, so that two runs at once do not delete each other's database.
SQLITE_FILE = ROOT / "bench" / f"bench-{os.getpid()}.sqlite3"
PG_DATABASE = "calendar_bench"
PG_SNAPSHOT = "calendar_bench_small"
#: The network the figures describe: the demo network is topped up to these.
TARGET_POSTS = 150
TARGET_CHANNELS = 400
EXTRA_PLATFORMS = ["instagram", "linkedin", "youtube", "bluesky", "mastodon", "threads"]
REVIEWER = "central.reviewer@example.org"
EDITOR = "editor.istanbul@example.org"
ISTANBUL = "be-cg-istanbul"
#: A page more than this many times slower than its floor gets profiled with --profile.
PROFILE_ABOVE = 5
#: The largest size should stay within this share of the smallest.
SCALING_TOLERANCE = 0.25
MIN_RUNS = 3
#: Seeding 50,000 publications should take less than this many seconds.
SEEDING_LIMIT = 120
#: A request at least this slow (seconds) needs no warm-up beyond the first.
SLOW_REQUEST = 1.0

# The benchmark's URLconf: the project's URLs plus the floor. Filled by main()
# once Django is set up (including diplomacy.urls imports the admin).
urlpatterns: list = []


def floor_view(request: HttpRequest, size: int) -> HttpResponse:
    """The cheapest Django answer of `size` bytes: what every page pays before its own work."""
    return HttpResponse(b"x" * size)


@dataclass
class Page:
    name: str
    who: str  # "reviewer", "editor" or "feed" (a calendar client, not logged in)
    url: str


@dataclass
class Timing:
    samples: list[float]  # seconds

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def p95_ms(self) -> float:
        # Nearest rank: with 30 runs, the second slowest.
        ordered = sorted(self.samples)
        return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)] * 1000


@dataclass
class Row:
    page: str
    size: int
    timing: Timing
    queries: int
    nbytes: int
    floor: Timing
    floor_queries: int
    # With Django's cache emptied before each request: every fragment built (diplomacy.freshness).
    built: Timing | None = None
    profile: str = ""

    @property
    def ratio(self) -> float:
        return self.timing.median_ms / self.floor.median_ms


@dataclass
class Growth:
    """One page at the smallest and the largest size, measured in turn (measure_growth)."""

    page: str
    small: Timing
    large: Timing

    @property
    def ratio(self) -> float:
        return self.large.median_ms / self.small.median_ms


@dataclass
class IcsComparison:
    size: int
    events: int
    feed: Timing
    # The feed with its cache emptied before each request: the cost of building it.
    uncached_feed: Timing
    build_and_serialise: Timing
    serialise_only: Timing
    feed_bytes: int
    bare_bytes: int


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    # The smallest and the largest size measured in turn, request by request: the machine's
    # drift during the run cancels out of the growth (bench/probe.py shows how much it drifts).
    growth: list[Growth] = field(default_factory=list)
    ics: list[IcsComparison] = field(default_factory=list)
    seeding: list[tuple[int, float]] = field(default_factory=list)
    # Other work on the machine skews every figure: the 1-minute load average, before and after.
    load: list[float] = field(default_factory=lambda: [os.getloadavg()[0]])
    # The reference loop's time (bench/probe.py), before and after.
    speed: list[float] = field(default_factory=lambda: [probe.reference_ms()])


# --- Setting up --------------------------------------------------------------


def configure_environment(static_root: str) -> str:
    """Production-like settings on the benchmark's own database; returns the database's name."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "diplomacy.settings"
    # DEBUG off: no query log, no debug pages, hashed static files as in production.
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECRET_KEY"] = "bench-" + secrets.token_urlsafe(32)
    os.environ["WEBHOOK_SIGNING_KEY"] = "bench-webhook-" + secrets.token_urlsafe(32)
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    # Requests are made as https (secure=True), so no redirect either way.
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    os.environ["STATIC_ROOT"] = static_root
    os.environ["DJANGO_LOG_LEVEL"] = "ERROR"
    # The local-memory cache: the run needs no other service than the database.
    os.environ.pop("REDIS_URL", None)
    url = os.environ.get("DATABASE_URL", "")
    if url:
        parts = urlsplit(url)
        if not parts.scheme.startswith("postgres"):
            raise SystemExit(f"bench/run.py knows SQLite and PostgreSQL, not {parts.scheme}.")
        # Same server and credentials, but always the dedicated database.
        os.environ["DATABASE_URL"] = parts._replace(path="/" + PG_DATABASE).geturl()
        return PG_DATABASE
    os.environ["SQLITE_PATH"] = str(SQLITE_FILE)
    return str(SQLITE_FILE.relative_to(ROOT))


def remove_sqlite_files(path: Path | str = SQLITE_FILE) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def snapshot_database() -> str:
    """A copy of the benchmark's database as it is now; returns what to switch to."""
    from django.db import connection

    connection.close()
    if connection.vendor == "sqlite":
        copy = f"{SQLITE_FILE}.small"
        with sqlite3.connect(SQLITE_FILE) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        return copy
    import psycopg

    with psycopg.connect(**_pg_admin_params(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_SNAPSHOT}"')
        admin.execute(f'CREATE DATABASE "{PG_SNAPSHOT}" TEMPLATE "{PG_DATABASE}"')
    return PG_SNAPSHOT


def connection_to(name: str):
    """A second connection of the default alias, to another database of the same server."""
    from django.db import connections

    current = connections["default"]
    settings_dict = copy.deepcopy(current.settings_dict)  # the handler's own dict is shared
    settings_dict["NAME"] = name
    return type(current)(settings_dict, "default")


def drop_snapshot(name: str) -> None:
    from django.db import connection

    connection.close()
    if connection.vendor == "sqlite":
        remove_sqlite_files(name)
        return
    import psycopg

    with psycopg.connect(**_pg_admin_params(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _pg_admin_params() -> dict:
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
    return {"dbname": "postgres", **{key: value for key, value in params.items() if value}}


def fresh_database() -> None:
    """An empty database of the benchmark's own, migrated."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    db = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        assert Path(db["NAME"]) == SQLITE_FILE, db["NAME"]
        remove_sqlite_files()
    else:
        import psycopg

        assert db["NAME"] == PG_DATABASE, db["NAME"]
        with psycopg.connect(**_pg_admin_params(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
            admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    call_command("migrate", interactive=False, verbosity=0)
    # DEBUG off uses the hashed static files, which need their manifest.
    call_command("collectstatic", interactive=False, verbosity=0)


def seed_network(rng: random.Random) -> tuple[int, int]:
    """The demo network and users, topped up to TARGET_POSTS posts and TARGET_CHANNELS channels."""
    from django.db import transaction
    from django.test.utils import override_settings

    from diplomacy import demo
    from diplomacy.models import Channel, Platform, Post, built_in_plan

    # Nobody logs in with a password here (force_login); a fast hasher saves seconds.
    fast_hasher = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with fast_hasher, transaction.atomic():
        demo.load_partners()
        demo.load_posts()
        demo.create_channels()
        demo.create_users(secrets.token_urlsafe(16))
    models = list(Post.objects.order_by("code"))
    extra_posts = []
    for n in range(1, TARGET_POSTS - len(models) + 1):
        model = models[(n * 7) % len(models)]
        extra_posts.append(
            Post(
                code=f"be-office-{n:03d}",
                kind="office",
                name=f"Belgian office {n} in {model.city}",
                city=model.city,
                country=model.country,
                timezone=model.timezone,
                host_languages=model.host_languages,
                publishing_languages=model.publishing_languages,
            )
        )
    Post.objects.bulk_create(extra_posts)
    channels = []
    for post in Post.objects.filter(code__startswith="be-office-").order_by("code"):
        for platform_name in rng.sample(
            [Platform.FACEBOOK, Platform.X, Platform.INSTAGRAM], k=rng.randint(2, 3)
        ):
            handle = demo.handle_for(post, platform_name)
            channels.append(
                Channel(
                    post=post,
                    platform=platform_name,
                    handle=handle,
                    url=demo.channel_url(platform_name, handle),
                    language_plan=built_in_plan(platform_name),
                )
            )
    Channel.objects.bulk_create(channels)
    # Then more platforms for existing posts, round the network, until the target.
    missing = TARGET_CHANNELS - Channel.objects.count()
    taken = set(Channel.objects.values_list("post_id", "platform"))
    posts = list(Post.objects.order_by("code"))
    channels = []
    for platform_name in EXTRA_PLATFORMS:
        for post in posts:
            if len(channels) >= missing:
                break
            if (post.pk, platform_name) not in taken:
                channels.append(
                    Channel(
                        post=post,
                        platform=platform_name,
                        handle=f"@Belgium.{post.code}",
                        language_plan=built_in_plan(platform_name),
                    )
                )
    Channel.objects.bulk_create(channels)
    return Post.objects.count(), Channel.objects.count()


def add_publications(count: int, *, today: date, seed: int) -> float:
    """Create `count` more publications; returns the seconds it took."""
    from django.db import connection

    from calendar_app import demo

    started = time.perf_counter()
    created = demo.create_publications(count, today=today, seed=seed)
    assert created == count, (created, count)
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Fresh planner statistics, as autovacuum would gather them in production (and
            # may be off here): without them PostgreSQL plans for the empty tables it saw.
            cursor.execute("ANALYZE")
        else:
            # Measure from a checkpointed, empty write-ahead log as in steady state,
            # not from the ~90 MB the bulk insert leaves in it.
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return seconds


def logged_in_client(email: str) -> Client:
    from django.test import Client

    from diplomacy.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def prepare_users() -> str:
    """MFA for the reviewer (production requires it) and the reviewer's feed; returns its token."""
    from allauth.mfa.models import Authenticator

    from calendar_app.models import CalendarFeed
    from diplomacy.models import User

    reviewer = User.objects.get(email=REVIEWER)
    # RequireMFAMiddleware only asks whether a TOTP authenticator exists.
    Authenticator.objects.create(user=reviewer, type=Authenticator.Type.TOTP, data={"secret": "bench"})
    return CalendarFeed.objects.create(user=reviewer, token=CalendarFeed.new_token()).token


# --- Measuring ---------------------------------------------------------------


def get(client: Client, url: str) -> HttpResponse:
    response = client.get(url, secure=True)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}, not 200: the figures would mean nothing.")
    return response


def more_runs(done: int, repeat: int, deadline: float) -> bool:
    """Keep going until `repeat` runs, or past the deadline once MIN_RUNS are done."""
    return done < repeat and (done < MIN_RUNS or time.perf_counter() < deadline)


def timed(action: Callable[[], object], *, repeat: int, warmup: int, budget: float) -> Timing:
    """Run `action` `warmup` times, then time it `repeat` times or until `budget` seconds have passed."""
    for _ in range(warmup):
        action()
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    while more_runs(len(samples), repeat, deadline):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return Timing(samples)


def capture_queries(client: Client, url: str) -> tuple[list[dict], int]:
    """The queries (SQL and seconds) and the bytes of one request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = get(client, url)
    return captured.captured_queries, len(response.content)


def slowest_queries(queries: list[dict], count: int = 3, width: int = 400) -> str:
    ranked = sorted(queries, key=lambda query: float(query["time"]), reverse=True)[:count]
    return "\n".join(f"{float(q['time']) * 1000:8.1f} ms  {q['sql'][:width]}" for q in ranked)


def profile(client: Client, url: str, runs: int = 3) -> str:
    """Where a page spends its time over a few requests: the project's functions, then the hot leaves."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        get(client, url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(r"calendar_app|diplomacy", 12)
    stats.sort_stats("tottime").print_stats(12)
    return out.getvalue()


def measure_page(page: Page, size: int, client: Client, args: argparse.Namespace) -> Row:
    """The page and its floor, each: one request counting queries, the warm-up, the timed runs."""

    def side(url: str) -> tuple[Timing, list[dict], int]:
        started = time.perf_counter()
        queries, nbytes = capture_queries(client, url)
        # The counting request warms up too; a request that slow needs no more warming.
        warmup = max(args.warmup - 1, 0) if time.perf_counter() - started < SLOW_REQUEST else 0
        timing = timed(lambda: get(client, url), repeat=args.repeat, warmup=warmup, budget=args.budget)
        return timing, queries, nbytes

    timing, queries, nbytes = side(page.url)
    floor, floor_queries, _ = side(f"/__floor__/{nbytes}/")
    row = Row(page.name, size, timing, len(queries), nbytes, floor, len(floor_queries))
    if page.who != "feed":  # the feed's own comparison measures it built (compare_ics)
        row.built = timed(
            lambda: built(client, page.url), repeat=min(args.repeat, 5), warmup=0, budget=args.budget
        )
    if args.profile and row.ratio > PROFILE_ABOVE:
        # The profiler triples the time: one run for a slow page, none past the budget.
        median = row.timing.median_ms / 1000
        runs = 3 if median < SLOW_REQUEST else 1 if median * 3 < args.budget else 0
        found = profile(client, page.url, runs) if runs else "Not profiled: too slow for --budget.\n"
        row.profile = f"Slowest queries:\n{slowest_queries(queries)}\n{found}"
    return row


def measure_growth(page: Page, client: Client, small_database: str, args: argparse.Namespace) -> Growth:
    """The page on the smallest and on the largest size's database, one request each in turn.

    Both connections stay open and Django's default alias is pointed at one or the other
    between requests (`django.db.connection` follows it). The order alternates (small,
    large, large, small, ...) so that neither size always runs first. The fragment cache
    is shared: its keys hold each table's version, which the two databases share only for
    the tables not written since the copy (the same rows on both).
    """
    from django.db import connections

    large = connections["default"]
    small = connection_to(small_database)
    samples: dict[str, list[float]] = {"small": [], "large": []}

    def request(which: str, *, keep: bool) -> None:
        connections["default"] = small if which == "small" else large
        started = time.perf_counter()
        get(client, page.url)
        if keep:
            samples[which].append(time.perf_counter() - started)

    try:
        for _ in range(args.warmup):
            request("small", keep=False)
            request("large", keep=False)
        deadline = time.perf_counter() + args.budget
        turn = 0
        while more_runs(len(samples["large"]), args.repeat, deadline):
            for which in ("small", "large") if turn % 2 == 0 else ("large", "small"):
                request(which, keep=True)
            turn += 1
    finally:
        connections["default"] = large
        small.close()
    return Growth(page.name, Timing(samples["small"]), Timing(samples["large"]))


def built(client: Client, url: str) -> HttpResponse:
    """The page as the first viewer after a change gets it: no fragment in the cache."""
    from django.core.cache import cache

    cache.clear()
    return get(client, url)


def feed_events(reviewer: User) -> list[dict]:
    """The feed's publications, loaded and turned into plain values before any timing."""
    from django.urls import reverse
    from django.utils import timezone

    from calendar_app import feeds
    from calendar_app.models import Publication

    stamp = timezone.now()
    events = []
    publications = feeds.feed_publications(Publication.objects.visible_to(reviewer))
    variants = feeds.feed_texts(publications)
    for p in publications:
        texts = "\n\n".join(f"[{language}] {text}" for language, text in variants.get(p.pk, []))
        status = f"Status: {p.get_status_display()}"
        events.append(
            {
                "uid": f"publication-{p.pk}@{feeds.UID_DOMAIN}",
                "dtstamp": stamp,
                "dtstart": p.scheduled_at,
                "dtend": p.scheduled_at + timedelta(minutes=feeds.ENTRY_MINUTES),
                "summary": f"{p.title} ({p.post.name})",
                "description": f"{status}\n\n{texts}" if texts else status,
                "url": "https://testserver" + reverse("publication_detail", args=[p.pk]),
                "sequence": p.revision,
                "last-modified": p.updated_at,
                "created": p.created_at,
                "status": "CANCELLED" if p.status == "cancelled" else "CONFIRMED",
            }
        )
    return events


def bare_calendar(events: list[dict]) -> Calendar:
    """The same events, built with the icalendar library and nothing else."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Diplomatic network content calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Content calendar")
    for values in events:
        event = Event()
        for name, value in values.items():
            event.add(name, value)
        cal.add_component(event)
    return cal


def compare_ics(
    size: int, feed_row: Row, args: argparse.Namespace, client: Client, url: str
) -> IcsComparison:
    """The feed's time, cached and built afresh, against building and serialising its events
    with icalendar alone."""
    from django.core.cache import cache

    from calendar_app.feeds import recent_feeds
    from diplomacy.models import User

    def uncached() -> None:
        cache.clear()
        recent_feeds.clear()
        get(client, url)

    uncached_feed = timed(uncached, repeat=args.repeat, warmup=0, budget=args.budget)

    events = feed_events(User.objects.get(email=REVIEWER))
    whole: list[float] = []
    serialise: list[float] = []
    body = b""
    deadline = time.perf_counter() + args.budget
    while more_runs(len(whole), args.repeat, deadline):
        started = time.perf_counter()
        cal = bare_calendar(events)
        built = time.perf_counter()
        body = cal.to_ical()
        done = time.perf_counter()
        whole.append(done - started)
        serialise.append(done - built)
    return IcsComparison(
        size,
        len(events),
        feed_row.timing,
        uncached_feed,
        Timing(whole),
        Timing(serialise),
        feed_row.nbytes,
        len(body),
    )


def pages(feed_token: str, today: date) -> list[Page]:
    return [
        Page("month, network (reviewer)", "reviewer", f"/calendar/?view=month&date={today.isoformat()}"),
        Page("week, one post (editor)", "editor", f"/calendar/?view=week&post={ISTANBUL}"),
        Page("agenda (reviewer)", "reviewer", "/calendar/?view=agenda"),
        Page("agenda (editor)", "editor", "/calendar/?view=agenda"),
        Page("ICS feed (reviewer)", "feed", f"/feeds/{feed_token}.ics"),
        Page("approvals (reviewer)", "reviewer", "/approvals/"),
        Page("editor, new (editor)", "editor", "/publications/new/"),
        Page("home (reviewer)", "reviewer", "/"),
        Page("home (editor)", "editor", "/"),
        Page("proposals (editor)", "editor", "/proposals/"),
        Page("coverage (reviewer)", "reviewer", "/network/coverage/"),
        Page("activity (reviewer)", "reviewer", "/network/activity/"),
    ]


# --- Reporting ---------------------------------------------------------------

HEADER = [
    "page",
    "size",
    "median ms",
    "p95 ms",
    "runs",
    "queries",
    "KB",
    "floor median ms",
    "floor queries",
    "ratio",
    "built ms",
]


def cells(row: Row) -> list[str]:
    return [
        row.page,
        f"{row.size:,}",
        f"{row.timing.median_ms:.1f}",
        f"{row.timing.p95_ms:.1f}",
        str(len(row.timing.samples)),
        str(row.queries),
        f"{row.nbytes / 1024:.1f}",
        f"{row.floor.median_ms:.1f}",
        str(row.floor_queries),
        # Two decimals below 1: a poll served from memory can be a tenth of its floor.
        f"{row.ratio:.1f}x" if row.ratio >= 1 else f"{row.ratio:.2f}x",
        f"{row.built.median_ms:.1f}" if row.built else "",
    ]


def plain_table(header: list[str], body: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]

    def line(values: list[str]) -> str:
        return "  ".join(
            v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *(line(v) for v in body)])


def markdown_table(header: list[str], body: list[list[str]]) -> str:
    align = ["---"] + ["---:"] * (len(header) - 1)
    return "\n".join("| " + " | ".join(values) + " |" for values in [header, align, *body])


def ics_lines(results: Results) -> list[list[str]]:
    return [
        [
            f"{c.size:,}",
            f"{c.events:,}",
            f"{c.feed.median_ms:.0f}",
            f"{c.uncached_feed.median_ms:.0f}",
            f"{c.build_and_serialise.median_ms:.0f}",
            f"{c.serialise_only.median_ms:.0f}",
            f"{c.uncached_feed.median_ms / c.build_and_serialise.median_ms:.2f}x",
            f"{c.feed_bytes / 1024:.0f} / {c.bare_bytes / 1024:.0f}",
        ]
        for c in results.ics
    ]


ICS_HEADER = [
    "size",
    "events",
    "feed ms (cached)",
    "feed ms (built)",
    "icalendar build + to_ical ms",
    "to_ical only ms",
    "ratio (built)",
    "KB",
]


def scaling_lines(results: Results, sizes: list[int]) -> list[list[str]]:
    small, large = sizes[0], sizes[-1]
    by_key = {(row.page, row.size): row for row in results.rows}
    body = []
    for growth in results.growth:
        first, last = by_key[(growth.page, small)], by_key[(growth.page, large)]
        within = "yes" if growth.ratio <= 1 + SCALING_TOLERANCE else "no"
        queries = "same" if first.queries == last.queries else f"{first.queries} → {last.queries}"
        body.append(
            [
                growth.page,
                f"{growth.small.median_ms:.1f}",
                f"{growth.large.median_ms:.1f}",
                f"{growth.ratio:.2f}x",
                within,
                f"{first.nbytes / 1024:.1f} → {last.nbytes / 1024:.1f}",
                queries,
            ]
        )
    return body


def seeding_note(results: Results) -> str:
    steps = ", then ".join(f"{count:,} in {seconds:.0f} s" for count, seconds in results.seeding)
    total = sum(seconds for _count, seconds in results.seeding)
    count = sum(count for count, _seconds in results.seeding)
    verdict = "within" if total < SEEDING_LIMIT else "OVER"
    return (
        f"Seeding publications (calendar_app.demo.create_publications): {steps}; {count:,} in {total:.0f} s, "
        f"{verdict} the {SEEDING_LIMIT:.0f} s allowed for 50,000."
    )


def machine(database: str, results: Results) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("select sqlite_version()")
            version = "SQLite " + cursor.fetchone()[0]
        else:
            cursor.execute("show server_version")
            version = "PostgreSQL " + cursor.fetchone()[0]
    load = " → ".join(f"{value:.1f}" for value in [*results.load, os.getloadavg()[0]])
    speed = " → ".join(f"{value:.0f} ms" for value in [*results.speed, probe.reference_ms()])
    # ru_maxrss is in kilobytes on Linux.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return (
        f"{platform.platform()}, {os.cpu_count()} CPUs (load average {load}; reference loop {speed}), "
        f"Python {platform.python_version()}, {version} ({database}); peak memory of the run {peak:.0f} MB"
    )


def report(results: Results, args: argparse.Namespace, database: str) -> None:
    body = [cells(row) for row in results.rows]
    small, large = args.sizes[0], args.sizes[-1]
    scale_header = [
        "page",
        f"ms at {small:,}",
        f"ms at {large:,}",
        f"{large:,} / {small:,}",
        f"within {SCALING_TOLERANCE:.0%}",
        "KB",
        "queries",
    ]
    print()
    print(plain_table(HEADER, body))
    print(f"\n{seeding_note(results)}")
    print("\nICS feed against the icalendar library alone (same events, pre-loaded):")
    print(plain_table(ICS_HEADER, ics_lines(results)))
    if len(args.sizes) > 1:
        print(f"\nDoes {large:,} stay within {SCALING_TOLERANCE:.0%} of {small:,}? (medians, asked in turn)")
        print(plain_table(scale_header, scaling_lines(results, args.sizes)))
    for row in results.rows:
        if row.profile:
            print(f"\nProfile of {row.page} at {row.size:,} ({row.ratio:.0f}x its floor):\n{row.profile}")

    print("\n--- Markdown ---\n")
    print(f"Machine: {machine(database, results)}.  ")
    print(f"{seeding_note(results)}  ")
    print(
        f"Median and 95th percentile of the server time (wall time of the test client's GET, "
        f"after {args.warmup} warm-up requests or one for a page slower than {SLOW_REQUEST:.0f} s; "
        f"up to {args.repeat} runs, fewer past {args.budget:.0f} s); the floor is a bare view "
        "answering as many bytes through the same middleware for the same client (its queries are "
        "the middleware's own: session, user, user-session tracking, memberships, MFA check).\n"
    )
    print(markdown_table(HEADER, body))
    print("\nICS feed against the same events built and serialised by the icalendar library alone:\n")
    print(markdown_table(ICS_HEADER, ics_lines(results)))
    if len(args.sizes) > 1:
        print(
            f"\nGrowth from {small:,} to {large:,} publications: medians of {args.repeat} requests "
            "to each size's database, asked in turn (ABBA), so that the machine's drift weighs on both:\n"
        )
        print(markdown_table(scale_header, scaling_lines(results, args.sizes)))


# --- Main --------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 50000], help="publications, ascending")
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page (default 30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first (default 3)")
    parser.add_argument(
        "--budget", type=float, default=30, help="seconds per measurement before stopping early (default 30)"
    )
    parser.add_argument(
        "--profile", action="store_true", help=f"profile pages over {PROFILE_ABOVE}x their floor"
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file afterwards")
    parser.add_argument(
        "--lateness",
        action="store_true",
        help="only the publishing lateness benchmark (bench/lateness.py, PostgreSQL; run after the pages "
        "anyway when DATABASE_URL is set)",
    )
    args = parser.parse_args(argv)
    if args.sizes != sorted(set(args.sizes)) or args.sizes[0] <= 0:
        parser.error("--sizes must be positive and ascending, e.g. --sizes 5000 50000")
    if args.repeat < 1 or args.warmup < 0:
        parser.error("--repeat must be at least 1 and --warmup at least 0")
    return args


def run_lateness() -> int:
    """bench/lateness.py in a process of its own: its own database, settings and qcluster."""
    return subprocess.run([sys.executable, str(ROOT / "bench" / "lateness.py")], check=False).returncode


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.lateness:
        sys.exit(run_lateness())
    on_postgresql = os.environ.get("DATABASE_URL", "").startswith("postgres")
    started = time.perf_counter()
    static_root = tempfile.mkdtemp(prefix="calendar-bench-static-")
    database = configure_environment(static_root)
    # Stopped with SIGTERM (kill, timeout), still clean up below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        run(args, database)
    finally:
        shutil.rmtree(static_root, ignore_errors=True)
        if not args.keep and database != PG_DATABASE:
            from django.db import connections

            connections.close_all()
            remove_sqlite_files()
    print(f"\nTotal: {time.perf_counter() - started:.0f} s.")
    if on_postgresql:
        print("\nPublishing lateness (bench/lateness.py):", flush=True)
        run_lateness()


def run(args: argparse.Namespace, database: str) -> None:
    results = Results()
    import django

    django.setup()
    from django.test import Client
    from django.test.utils import override_settings
    from django.urls import include, path
    from django.utils import timezone

    urlpatterns[:] = [path("__floor__/<int:size>/", floor_view), path("", include("diplomacy.urls"))]

    print(f"Database: {database}. Migrating and seeding the network…", flush=True)
    fresh_database()
    posts, channels = seed_network(random.Random(2026))
    print(f"Network: {posts} posts, {channels} channels.", flush=True)
    token = prepare_users()
    today = timezone.localdate()
    clients = {"reviewer": logged_in_client(REVIEWER), "editor": logged_in_client(EDITOR), "feed": Client()}
    have = 0
    with override_settings(ROOT_URLCONF=__name__):
        # A session's first request records it (allauth's user sessions): a few more
        # queries than any later one, so each client makes it before counting.
        for client in clients.values():
            get(client, "/__floor__/1/")
        for number, size in enumerate(args.sizes):
            added = size - have
            seconds = add_publications(added, today=today, seed=2026 + number)
            results.seeding.append((added, seconds))
            have = size
            print(f"\n{size:,} publications ({added:,} more in {seconds:.1f} s).", flush=True)
            for page in pages(token, today):
                row = measure_page(page, size, clients[page.who], args)
                results.rows.append(row)
                print(" | ".join(cells(row)), flush=True)
                if page.who == "feed":
                    results.ics.append(compare_ics(size, row, args, clients[page.who], page.url))
            if number == 0 and len(args.sizes) > 1:
                snapshot = snapshot_database()
        if len(args.sizes) > 1:
            # Same sessions on both (the copy was made after they logged in).
            print(f"\n{args.sizes[0]:,} and {args.sizes[-1]:,} in turn (growth):", flush=True)
            try:
                for page in pages(token, today):
                    growth = measure_growth(page, clients[page.who], snapshot, args)
                    results.growth.append(growth)
                    print(
                        f"{page.name} | {growth.small.median_ms:.1f} | {growth.large.median_ms:.1f} | "
                        f"{growth.ratio:.2f}x",
                        flush=True,
                    )
            finally:
                drop_snapshot(snapshot)
    report(results, args, database)


if __name__ == "__main__":
    main()
