"""Load test: gunicorn with 2 workers on PostgreSQL, on loopback, for a bounded time.

    make load                      # 50 users, 60 seconds
    .venv/bin/python bench/load.py --users 50 --seconds 60 --publications 5000

A mix of the three kinds of user browses and works: post editors (home, calendar,
their publications; now and then they move a publication to another day and time, or
comment), central reviewers (the approval queue, publications, reports; now and then they
open a publication under review and approve it or send it back) and partners (their
proposals). `--writes` is the share of an editor's or a reviewer's steps that change
something (default 0.05): every move and decision changes what the calendar, the queue and
the reports show, so the pages kept in the cache are built again. Each virtual user waits
0.5 to 1.5 seconds between requests, as a person would. The script prints requests per second,
p50/p95/p99 latency and the error count. It only ever talks to 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import probe

ROOT = Path(__file__).resolve().parent.parent
PORT = 8123
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/calendar_load"


def environment(database_url: str) -> dict[str, str]:
    """Production settings on loopback: DEBUG off, no TLS redirect."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "diplomacy.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("LOAD_SECRET_KEY", secrets.token_urlsafe(50)),
        "WEBHOOK_SIGNING_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "DATABASE_CONN_MAX_AGE": "60",
        "REQUIRE_MFA_FOR_REVIEWERS": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def prepare_database(env: dict[str, str], publications: int) -> None:
    """A fresh database with the demo network and `publications` publications."""
    name = env["DATABASE_URL"].rsplit("/", 1)[1]
    admin = env["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [
            python,
            "manage.py",
            "seed_demo",
            "--force",
            "--publications",
            str(publications),
            "--password",
            secrets.token_urlsafe(12),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run([python, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)


def sessions_for(env: dict[str, str], emails: list[str]) -> list[str]:
    """A server-side login per entry, in order (a login flood would hit the rate limit by design)."""
    code = (
        "import json, sys\n"
        "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        "from diplomacy.models import User\n"
        "out = []\n"
        "for email in json.loads(sys.argv[1]):\n"
        "    user = User.objects.get(email=email)\n"
        "    store = SessionStore()\n"
        "    store[SESSION_KEY] = str(user.pk)\n"
        "    store[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "    store[HASH_SESSION_KEY] = user.get_session_auth_hash()\n"
        "    store.create()\n"
        "    out.append(store.session_key)\n"
        "print(json.dumps(out))\n"
    )
    import json

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code.replace("sys.argv[1]", repr(json.dumps(emails)))],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def sample_ids(env: dict[str, str]) -> dict[str, list[int]]:
    code = (
        "import json\n"
        "from calendar_app.models import Publication, Proposal\n"
        "from django.utils import timezone\n"
        "ist = Publication.objects.filter(post__code='be-cg-istanbul')\n"
        "movable = ist.filter(status__in=['draft', 'in_review', 'changes_requested', 'approved'],\n"
        "                     scheduled_at__gt=timezone.now())\n"
        "movable = list(movable.values_list('pk', flat=True)[:50])\n"
        "ist = list(ist.values_list('pk', flat=True)[:50])\n"
        "rev = list(Publication.objects.filter(status='in_review').values_list('pk', flat=True)[:100])\n"
        "fit = list(Proposal.objects.filter(partner__code='fit').values_list('pk', flat=True))\n"
        "print(json.dumps({'istanbul': ist, 'movable': movable, 'review': rev, 'fit': fit}))\n"
    )
    import json

    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


class VirtualUser(threading.Thread):
    """One person clicking through their pages until the deadline."""

    def __init__(
        self, kind: str, session: str, ids: dict, deadline: float, results: list, lock, writes: float
    ) -> None:
        super().__init__(daemon=True)
        self.kind, self.session, self.ids, self.writes = kind, session, ids, writes
        self.deadline, self.results, self.lock = deadline, results, lock
        self.rng = random.Random()
        self.csrf = ""

    def paths(self) -> list[str]:
        if self.kind == "editor":
            pub = self.rng.choice(self.ids["istanbul"] or [1])
            return [
                "/",
                "/calendar/",
                "/calendar/?view=week&post=be-cg-istanbul",
                "/calendar/?view=agenda",
                f"/publications/{pub}/",
                "/proposals/",
            ]
        if self.kind == "reviewer":
            pub = self.rng.choice(self.ids["review"] or [1])
            return [
                "/",
                "/approvals/",
                f"/publications/{pub}/",
                "/calendar/",
                "/network/coverage/",
                "/network/activity/",
            ]
        prop = self.rng.choice(self.ids["fit"] or [1])
        return ["/", "/proposals/", f"/proposals/{prop}/", "/guidelines/"]

    def request(self, method: str, path: str, body: str = "", label: str = "") -> bytes:
        """One request, recorded under `label` (the path by default); returns the body."""
        connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        headers = {"Cookie": f"sessionid={self.session}; csrftoken={self.csrf}", "Host": f"127.0.0.1:{PORT}"}
        if method == "POST":
            headers.update(
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-CSRFToken": self.csrf,
                    "Referer": f"http://127.0.0.1:{PORT}{path}",
                    "Origin": f"http://127.0.0.1:{PORT}",
                }
            )
        start = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            status = response.status
            for value in response.headers.get_all("Set-Cookie") or []:
                match = re.match(r"csrftoken=([^;]+)", value)
                if match:
                    self.csrf = match.group(1)
        except (OSError, http.client.HTTPException):
            status, payload = 0, b""
        elapsed = time.perf_counter() - start
        ok = status in (200, 302) and (status != 200 or b"<html" in payload[:200] or method == "POST")
        if not ok and os.environ.get("LOAD_DEBUG"):
            probe = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
            probe.request(
                "GET", "/", headers={"Cookie": f"sessionid={self.session}", "Host": f"127.0.0.1:{PORT}"}
            )
            again = probe.getresponse()
            who = re.search(rb"<h1>(.*?)</h1>", again.read(), re.S)
            print(status, self.kind, path, self.session[:6], "home:", who and who.group(1)[:40], flush=True)
        with self.lock:
            self.results.append((elapsed, ok, status, f"{label or path.split('?')[0]} ({self.kind})"))
        connection.close()
        return payload

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            path = self.rng.choice(self.paths())
            self.request("GET", path)
            draw = self.rng.random()
            if self.kind == "editor" and self.csrf and draw < self.writes:
                self.move()
            elif self.kind == "editor" and self.csrf and draw < self.writes + 0.05:
                pub = self.rng.choice(self.ids["istanbul"] or [1])
                self.request(
                    "POST", f"/publications/{pub}/comment/", urlencode({"text": "Load test comment."})
                )
            elif self.kind == "reviewer" and self.csrf and draw < self.writes:
                self.decide()
            time.sleep(self.rng.uniform(0.5, 1.5))

    def move(self) -> None:
        """Move one of the post's publications to another day and time (the keyboard form, without
        the revision it carries: a move never meets a stale form here)."""
        pub = self.rng.choice(self.ids["movable"] or [1])
        day = date.today() + timedelta(days=self.rng.randint(2, 40))
        moment = f"{self.rng.randint(8, 19):02d}:{self.rng.choice((0, 15, 30, 45)):02d}"
        form = urlencode({"local_date": day.isoformat(), "local_time": moment})
        self.request("POST", f"/publications/{pub}/reschedule/", form, label="/publications/<id>/reschedule/")

    def decide(self) -> None:
        """Open a publication under review and approve it or send it back, on the revision shown."""
        pub = self.rng.choice(self.ids["review"] or [1])
        page = self.request("GET", f"/publications/{pub}/")
        found = re.search(rb'name="revision" value="(\d+)"', page)
        if not found:
            return  # decided meanwhile: the page offers no decision any more
        if self.rng.random() < 0.7:
            action, form = "approve", {"revision": found.group(1).decode()}
        else:
            action = "request_changes"
            form = {"revision": found.group(1).decode(), "comment": "Please add the French text."}
        self.request(
            "POST", f"/publications/{pub}/{action}/", urlencode(form), label=f"/publications/<id>/{action}/"
        )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--publications", type=int, default=5000)
    parser.add_argument(
        "--writes",
        type=float,
        default=0.05,
        help="share of editors' and reviewers' steps that change something",
    )
    parser.add_argument("--database-url", default=os.environ.get("LOAD_DATABASE_URL", DEFAULT_DATABASE))
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 600 or not 1 <= args.users <= 500:
        parser.error("keep it bounded: 1-600 seconds, 1-500 users")
    if not 0 <= args.writes <= 0.9:
        parser.error("--writes is a share of the steps: 0 to 0.9")
    env = environment(args.database_url)
    print(f"Preparing {args.database_url} with {args.publications} publications…", flush=True)
    prepare_database(env, args.publications)
    kinds = ["editor"] * 5 + ["reviewer"] * 3 + ["partner"] * 2
    # The sampled publications are Istanbul's and the sampled proposals FIT's: the
    # accounts are the ones allowed to open them.
    accounts = {
        "editor": ["editor.istanbul@example.org", "manager.istanbul@example.org"],
        "reviewer": ["central.reviewer@example.org", "second.reviewer@example.org"],
        "partner": ["partner.fit@example.org"],
    }
    # One session per virtual user, as each person has their own browser.
    plan = [
        (kinds[n % len(kinds)], accounts[kinds[n % len(kinds)]][n % len(accounts[kinds[n % len(kinds)]])])
        for n in range(args.users)
    ]
    sessions = sessions_for(env, [email for _kind, email in plan])
    ids = sample_ids(env)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "diplomacy.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).request("GET", "/health/")
                break
            except OSError:
                time.sleep(0.2)
        speed = [probe.reference_ms()]
        print(f"Running {args.users} users for {args.seconds} s against gunicorn (2 workers)…", flush=True)
        results: list = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.seconds
        users = []
        for (kind, _email), session in zip(plan, sessions, strict=True):
            users.append(VirtualUser(kind, session, ids, deadline, results, lock, args.writes))
        started = time.monotonic()
        for user in users:
            user.start()
            time.sleep(0.02)  # ramp up over a second
        for user in users:
            user.join(timeout=args.seconds + 60)
        duration = time.monotonic() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    speed.append(probe.reference_ms())
    times = [elapsed * 1000 for elapsed, _ok, _status, _path in results]
    errors = [(status, path) for _elapsed, ok, status, path in results if not ok]
    print()
    print(f"requests: {len(results)} in {duration:.0f} s = {len(results) / duration:.1f} per second")
    changes = sum(1 for *_rest, path in results if re.search(r"/(reschedule|approve|request_changes)/", path))
    print(f"changes (moves and decisions): {changes}, {changes / duration:.1f} per second")
    if times:
        print(
            f"latency ms: p50 {statistics.median(times):.0f}, p95 {percentile(times, 0.95):.0f}, "
            f"p99 {percentile(times, 0.99):.0f}, max {max(times):.0f}"
        )
    print(f"errors: {len(errors)}" + (f" (first: {errors[:5]})" if errors else ""))
    print(
        f"machine: reference loop {speed[0]:.0f} ms before, {speed[1]:.0f} ms after "
        f"(bench/probe.py; load average {os.getloadavg()[0]:.1f})"
    )
    slowest: dict[str, list[float]] = {}
    for elapsed, _ok, _status, path in results:
        slowest.setdefault(re.sub(r"/\d+/", "/<id>/", path), []).append(elapsed * 1000)
    print("\npage                          n     p50 ms  p95 ms")
    for path, values in sorted(slowest.items(), key=lambda item: -percentile(item[1], 0.95)):
        print(f"{path:28} {len(values):5} {statistics.median(values):8.0f} {percentile(values, 0.95):7.0f}")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
