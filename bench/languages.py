"""What goes out is what was checked: approved publications against what their channels send.

    .venv/bin/python bench/languages.py [--publications 1500] [--generated 1000] [--seed 14] [--keep]

The goal: no approved publication whose delivery would exceed a platform limit or carry a
language the channel does not publish, over the whole demo and over a generated set of
mixed publications. What it does, in order:

1. Points Django at a database of its own, never the developer's: a fresh SQLite file
   (bench/languages-<pid>.sqlite3, git-ignored, deleted afterwards unless --keep), or,
   when DATABASE_URL is set, the PostgreSQL database `calendar_languages` on that server,
   dropped and created again.
2. (a) The demo: `seed_demo` with `--publications` publications, then calendar_app.audit
   over every approved, published or failed one: each channel's parts of the approved
   revision (calendar_app.sending), those over their platform's limit and those in a
   language the channel does not publish.
3. (b) `--generated` publications made through the real workflow, each for a random demo
   post on a random set of its channels (every language plan), with texts in random
   languages among nl, fr, en, de and the host's (most follow the post's policy), each
   text from short to far over any limit: created by the post's editor
   (workflow.create_publication), submitted (workflow.submit, which runs the guidelines)
   and, when the guidelines let it through, approved by a central reviewer
   (workflow.approve). Before, it adds `--combined` channels on X, Bluesky and Mastodon
   that post every language in one post (the demo sends threads there): the case that
   broke, each language fitting alone and all of them together over the limit. Then the
   same audit over those approved.
4. Prints both tables, plain and as Markdown for the README. Exits 1 when (a) or (b)
   finds an approved publication that breaks the goal.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # Importing these needs settings, which main() chooses first.
    from calendar_app.audit import Audit
    from diplomacy.models import Post

ROOT = Path(__file__).resolve().parent.parent
SQLITE_FILE = ROOT / "bench" / f"languages-{os.getpid()}.sqlite3"
PG_DATABASE = "calendar_languages"
REVIEWER = "central.reviewer@example.org"
#: How long each generated text is, in characters: (share, shortest, longest).
LENGTHS = [(40, 30, 140), (30, 140, 280), (20, 281, 600), (10, 600, 2600)]
#: Shares of generated publications that follow the post's whole policy (and sometimes add German).
FOLLOW_POLICY = 0.7


def configure_environment() -> str:
    """Settings on the benchmark's own database; returns the database's name."""
    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "diplomacy.settings"
    # seed_demo wants DEBUG on (it creates users with a known password); nothing is served.
    os.environ["DJANGO_DEBUG"] = "1"
    os.environ["DJANGO_SECRET_KEY"] = "bench-" + secrets.token_urlsafe(32)
    os.environ["DJANGO_LOG_LEVEL"] = "ERROR"
    os.environ.pop("REDIS_URL", None)
    url = os.environ.get("DATABASE_URL", "")
    if url:
        parts = urlsplit(url)
        if not parts.scheme.startswith("postgres"):
            raise SystemExit(f"bench/languages.py knows SQLite and PostgreSQL, not {parts.scheme}.")
        os.environ["DATABASE_URL"] = parts._replace(path="/" + PG_DATABASE).geturl()
        return PG_DATABASE
    os.environ["SQLITE_PATH"] = str(SQLITE_FILE)
    return str(SQLITE_FILE.relative_to(ROOT))


def remove_sqlite_files() -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)


def fresh_database() -> None:
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
        params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
        admin_params = {"dbname": "postgres", **{k: v for k, v in params.items() if v}}
        connection.close()
        with psycopg.connect(**admin_params, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}"')
            admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    call_command("migrate", interactive=False, verbosity=0)


@dataclass
class Generated:
    """What happened to the generated publications."""

    made: int = 0
    #: Whose content, as written, would send a part over its limit on one of its channels.
    would_break: int = 0
    refused: int = 0
    #: Blocking rules that refused them: {rule code: publications}.
    refused_by: Counter[str] = field(default_factory=Counter)
    #: Refused although their delivery would have been fine, and only by the length rule.
    refused_by_length_only: int = 0
    decision_refused: int = 0
    approved_ids: list[int] = field(default_factory=list)
    seconds: float = 0.0


def filler(language: str, post: Post) -> str:
    """A sentence in `language` (or English where the demo writes none), to repeat."""
    from calendar_app import demo

    template = (
        demo.TEXTS["regular"].get(language) or demo.HOST_LINES.get(language) or demo.TEXTS["regular"]["en"]
    )
    return template.format(**demo.place_words(post, language))


def text_of_length(rng: random.Random, language: str, post: Post) -> str:
    share = rng.choices(LENGTHS, weights=[w for w, _lo, _hi in LENGTHS])[0]
    length = rng.randint(share[1], share[2])
    sentence = filler(language, post)
    text = sentence
    while len(text) < length:
        text += " " + sentence
    return text[:length].rstrip() or sentence[:length]


def languages_for(rng: random.Random, policy: list[str], host: list[str]) -> list[str]:
    if rng.random() < FOLLOW_POLICY:
        extra = ["de"] if rng.random() < 0.2 and "de" not in policy else []
        return policy + extra
    pool = list(dict.fromkeys(["nl", "fr", "en", "de", *host]))
    return rng.sample(pool, k=rng.randint(1, min(4, len(pool))))


def add_combined_channels(rng: random.Random, count: int) -> list[int]:
    """`count` channels on X, Bluesky or Mastodon that post every language in one post: the
    case the demo avoids (its thread platforms go out as threads) and that broke before,
    each language fitting alone and all of them together over the limit."""
    from diplomacy.models import Channel, LanguagePlan, Platform, Post, plan_problems

    posts = rng.sample(list(Post.objects.filter(channels__active=True).distinct().order_by("code")), k=count)
    made = []
    for post in posts:
        platform = rng.choice([Platform.X, Platform.BLUESKY, Platform.MASTODON])
        assert not plan_problems(platform, LanguagePlan.COMBINED, [], post.publishing_language_list)
        made.append(
            Channel(
                post=post, platform=platform, handle=f"@all.{post.code}", language_plan=LanguagePlan.COMBINED
            )
        )
    return [channel.pk for channel in Channel.objects.bulk_create(made)]


def generate(count: int, rng: random.Random, today: date) -> Generated:
    """`count` publications through create, submit and approve (see the module's docstring)."""
    from calendar_app import demo, sending, workflow
    from calendar_app.timezones import check_local_time
    from diplomacy.models import Channel, Post, User

    channels_by_post: dict[int, list[Channel]] = {}
    for channel in Channel.objects.filter(active=True).select_related("post").order_by("pk"):
        channels_by_post.setdefault(channel.post_id, []).append(channel)
    posts = list(Post.objects.filter(pk__in=channels_by_post).order_by("code"))
    authors = demo.post_authors(posts)
    reviewer = User.objects.get(email=REVIEWER)
    result = Generated()
    started = time.perf_counter()
    for number in range(count):
        post = rng.choice(posts)
        channels = channels_by_post[post.pk]
        chosen = rng.sample(channels, k=rng.randint(1, len(channels)))
        languages = languages_for(rng, post.publishing_language_list, post.host_language_list)
        variants = {language: text_of_length(rng, language, post) for language in languages}
        local_date = today + timedelta(days=rng.randint(3, 80))
        local_time = clock(rng.randint(8, 18), 0)
        check_local_time(local_date, local_time, post.timezone)
        breaks = any(not sent.fits for sent in sending.for_channels(chosen, variants))
        result.would_break += breaks
        author = authors[post.pk]
        publication = workflow.create_publication(
            author,
            post,
            workflow.PublicationContent(
                title=f"Generated {number + 1} – {post.city}",
                kind="regular",
                campaign=None,
                channels=chosen,
                local_date=local_date,
                local_time=local_time,
                variants=variants,
            ),
        )
        result.made += 1
        try:
            workflow.submit(author, publication)
        except workflow.GuidelinesFailed as refused:
            result.refused += 1
            codes = {r.code for r in refused.results}
            result.refused_by.update(codes)
            if codes == {"text-length"} and not breaks:
                result.refused_by_length_only += 1
            continue
        try:
            workflow.approve(reviewer, publication, expected_revision=publication.revision)
        except workflow.DecisionRefused:
            result.decision_refused += 1
            continue
        result.approved_ids.append(publication.pk)
    result.seconds = time.perf_counter() - started
    return result


def audit_lines(name: str, result: Audit) -> list[str]:
    from calendar_app import audit

    return [
        name,
        f"{result.publications:,}",
        f"{result.deliveries:,}",
        f"{result.parts:,}",
        f"{result.count(audit.OVER_LIMIT):,}",
        f"{result.count(audit.FOREIGN_LANGUAGE):,}",
        f"{result.count(audit.NOTHING_TO_SEND):,}",
        f"{result.count(audit.NO_APPROVED_REVISION):,}",
        f"**{result.violations:,}**",
    ]


AUDIT_HEADER = [
    "set",
    "approved, published or failed",
    "deliveries",
    "platform posts",
    "with a part over its limit",
    "with a language not published",
    "a channel with nothing to send",
    "no approved revision",
    "breaking the goal",
]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| --- |" + " ---: |" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace, database: str) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings
    from django.utils import timezone

    from calendar_app import audit
    from calendar_app.models import Publication
    from diplomacy.models import Channel

    print(f"Database: {database}. Migrating…", flush=True)
    fresh_database()
    started = time.perf_counter()
    # Nobody logs in: a fast password hasher saves seconds.
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        call_command("seed_demo", "--publications", str(args.publications), stdout=io.StringIO())
    seeded = time.perf_counter() - started
    plans = Counter(Channel.objects.values_list("language_plan", flat=True))
    print(
        f"Demo: {Publication.objects.count():,} publications, {Channel.objects.count()} channels "
        f"({', '.join(f'{n} {plan}' for plan, n in sorted(plans.items()))}) in {seeded:.1f} s.",
        flush=True,
    )
    demo_audit = audit.audit_publications(Publication.objects.all())
    invalid = audit.invalid_channels()
    print(f"Channels whose language plan the forms would refuse: {len(invalid)}.")

    rows = [audit_lines(f"demo ({args.publications:,})", demo_audit)]
    generated = None
    if args.generated:
        print(f"Generating {args.generated:,} publications through create, submit and approve…", flush=True)
        rng = random.Random(args.seed)
        combined = add_combined_channels(rng, args.combined)
        print(f"Added {len(combined)} combined channels on X, Bluesky and Mastodon.", flush=True)
        generated = generate(args.generated, rng, timezone.localdate())
        generated_audit = audit.audit_publications(Publication.objects.filter(pk__in=generated.approved_ids))
        rows.append(audit_lines(f"generated ({generated.made:,})", generated_audit))
        on_demo_channels = {
            f.publication_id
            for f in generated_audit.findings
            if f.problem in audit.VIOLATIONS and f.channel_id not in combined
        }
    print()
    print(table(AUDIT_HEADER, rows))
    failed = demo_audit.violations > 0
    if generated is not None:
        print()
        print(
            table(
                ["generated", "count"],
                [
                    ["made through the workflow", f"{generated.made:,}"],
                    ["whose delivery as written would break a limit", f"{generated.would_break:,}"],
                    ["refused at submission by a blocking guideline", f"{generated.refused:,}"],
                    *[
                        [f"… refused by `{code}`", f"{n:,}"]
                        for code, n in sorted(generated.refused_by.items(), key=lambda item: -item[1])
                    ],
                    [
                        "… by text length alone although every part fits",
                        f"{generated.refused_by_length_only:,}",
                    ],
                    ["refused at approval", f"{generated.decision_refused:,}"],
                    ["approved", f"{len(generated.approved_ids):,}"],
                    [
                        "**approved with a delivery that breaks the goal**",
                        f"**{generated_audit.violations:,}**",
                    ],
                    ["… of which on the demo's own channels", f"{len(on_demo_channels):,}"],
                ],
            )
        )
        print(f"\n{generated.made:,} through the workflow in {generated.seconds:.0f} s.")
        failed = failed or generated_audit.violations > 0
        for finding in [f for f in generated_audit.findings if f.problem in audit.VIOLATIONS][:5]:
            print(f"  for example publication {finding.publication_id}: {finding.detail}")
    print("\nGoal (0 approved publications breaking it):", "not met" if failed else "met")
    return 1 if failed else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publications", type=int, default=1500, help="demo publications (default 1500)")
    parser.add_argument(
        "--generated", type=int, default=1000, help="publications through the workflow (1000)"
    )
    parser.add_argument("--seed", type=int, default=14, help="random seed of the generated set (default 14)")
    parser.add_argument(
        "--combined", type=int, default=20, help="combined channels on thread platforms to add (default 20)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file afterwards")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    database = configure_environment()
    try:
        code = run(args, database)
    finally:
        if not args.keep and database != PG_DATABASE:
            from django.db import connections

            connections.close_all()
            remove_sqlite_files()
    sys.exit(code)


if __name__ == "__main__":
    main()
