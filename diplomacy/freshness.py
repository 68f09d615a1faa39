"""Fresh copies of expensive page fragments: a version per table, moved by every committed write.

A page fragment that takes tens of milliseconds to build (the month grid, the network
reports) is kept in Django's cache under a key that holds what shapes it (the viewer's
rights, the filters, the language, the day) and the versions of the tables it reads.

- Every INSERT, UPDATE and DELETE that goes through Django's database connection is seen
  by a wrapper on that connection (`note_writes`, installed in `DiplomacyConfig.ready`):
  the ORM, bulk updates, compare-and-set updates, migrations, raw SQL. Nothing has to
  remember to say "I changed something".
- Once the transaction that wrote commits, each table it wrote gets a new random version
  (`TableVersion`). A reader reads the versions first and the data after, so a copy
  stored under a version never holds data older than that version; a write that commits
  while a fragment is being built changes the version, and the next reader builds again.
- Inside a transaction that has written one of a fragment's tables (a request that saves,
  then shows; a test), the fragment is built and not stored: that connection sees data
  no one else sees yet.
- A write outside a transaction is committed at once, but its version moves before the
  connection's next statement or at the end of the request (its cursor may still hold
  rows to read); a thread of one's own ends with `close_connections()`.
- Copies expire after `FRAGMENT_SECONDS` whatever happens, which bounds what no table
  version can tell: writes made outside Django, the clock (a "waiting for 3 hours").

With several processes the cache must be shared (Redis through REDIS_URL, as production
has); with the local-memory cache each process keeps its own copies, which stay correct
because the versions live in the database.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.cache import cache
from django.db import DatabaseError, connections, models, transaction
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from diplomacy.models import TableVersion

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: How long a stored fragment lives at most.
FRAGMENT_SECONDS = 600
#: The statement kinds that change a table, and the table they name (quoted or not). SQLite's
#: conflict clauses count: a many-to-many add is an `INSERT OR IGNORE INTO` there.
_WRITE = re.compile(
    r'\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)"?',
    re.IGNORECASE,
)
#: Tables whose writes no fragment reads: the versions themselves, sessions, the task queue.
_UNWATCHED_PREFIXES = ("diplomacy_tableversion", "django_session", "django_q_")


def note_writes(execute, sql, params, many, context):
    """A connection's execute wrapper: each write's table moves on once the write is committed."""
    connection = context["connection"]
    if connection.__dict__.get("_versions_due") and not connection.in_atomic_block:
        move_on_due(connection)
    result = execute(sql, params, many, context)
    match = _WRITE.match(sql) if isinstance(sql, str) else None
    if match and not match.group(1).startswith(_UNWATCHED_PREFIXES):
        _written(connection, match.group(1))
        _forget_versions_read(connection)
    return result


def install(connection, **kwargs) -> None:
    """`connection_created` receiver: watch this connection's writes (once)."""
    if note_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(note_writes)


def _written(connection, table: str) -> None:
    if not connection.in_atomic_block:
        # Committed already, but its cursor may still hold rows to read (an INSERT's
        # RETURNING on SQLite): the version moves before the connection's next statement,
        # or at the end of the request (FreshnessMiddleware, request_finished).
        connection.__dict__.setdefault("_versions_due", set()).add(table)
        return
    pending: set[str] = connection.__dict__.setdefault("_tables_written", set())
    if table in pending:
        return
    pending.add(table)
    alias = connection.alias
    transaction.on_commit(lambda: _move_on(connections[alias], table), using=alias, robust=True)


def move_on_due(connection) -> None:
    """Move on the tables written outside a transaction since the last time."""
    due: set[str] = connection.__dict__.get("_versions_due") or set()
    tables, connection.__dict__["_versions_due"] = sorted(due), set()
    for table in tables:
        _move_on(connection, table)


def move_on_everywhere(**kwargs) -> None:
    """`request_finished` receiver, and the middleware's last step: nothing stays due."""
    for connection in connections.all(initialized_only=True):
        if connection.__dict__.get("_versions_due") and not connection.in_atomic_block:
            move_on_due(connection)


def close_connections() -> None:
    """The end of a thread of one's own (the publishing engine's senders): move on what it
    wrote outside a transaction, then close its connections, which die with the thread."""
    move_on_everywhere()
    connections.close_all()


class FreshnessMiddleware:
    """Moves on what the request wrote outside a transaction before the response leaves
    (request_finished would run after the connection is closed, and reopen it)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        connection = connections["default"]
        connection.__dict__["_versions_read"] = {}
        try:
            response = self.get_response(request)
        finally:
            connection.__dict__.pop("_versions_read", None)
        move_on_everywhere()
        return response


def _move_on(connection, table: str) -> None:
    connection.__dict__.setdefault("_tables_written", set()).discard(table)
    _forget_versions_read(connection)
    versions = TableVersion.objects.using(connection.alias)
    version = secrets.randbits(62)
    try:
        if not versions.filter(table=table).update(version=version):
            versions.bulk_create([TableVersion(table=table, version=0)], ignore_conflicts=True)
            versions.filter(table=table).update(version=version)
    except DatabaseError:
        if TableVersion._meta.db_table not in connection.introspection.table_names():
            return  # migrating a new database: no fragment is stored yet
        # The write itself is committed; its fragments age out after FRAGMENT_SECONDS.
        logger.exception("Could not move the version of %s on", table)


def tables_of(sources: Iterable[type[models.Model] | str]) -> list[str]:
    """The tables of these models (and of their many-to-many links), sorted; strings are table names."""
    tables = set()
    for source in sources:
        if isinstance(source, str):
            tables.add(source)
            continue
        tables.add(source._meta.db_table)
        for field in source._meta.local_many_to_many:
            tables.add(field.remote_field.through._meta.db_table)
    return sorted(tables)


def written_here(tables: Iterable[str], using: str = "default") -> bool:
    """Whether this connection's open transaction has written one of these tables."""
    connection = connections[using]
    pending = connection.__dict__.get("_tables_written")
    if not pending:
        return False
    if not connection.in_atomic_block:
        # What a rolled-back transaction wrote never moved on, and never will.
        pending.clear()
        return False
    return not pending.isdisjoint(tables)


def versions_of(tables: list[str], using: str = "default") -> tuple[int, ...]:
    """The current version of each table (0 for one never written since the database began).

    Within a request (FreshnessMiddleware), every version is read at the first call and
    reused by the next ones until the request writes: one small query a request, however
    many fragments it shows. Versions read a moment earlier are safe: a copy is then
    stored under a version older than its data, never the other way round.
    """
    connection = connections[using]
    memo: dict[str, int] | None = connection.__dict__.get("_versions_read")
    if memo is None:
        found = dict(
            TableVersion.objects.using(using).filter(table__in=tables).values_list("table", "version")
        )
        return tuple(found.get(table, 0) for table in tables)
    if not memo:
        memo.update(TableVersion.objects.using(using).values_list("table", "version"))
        memo[""] = 0  # read, even when no table has a version yet
    return tuple(memo.get(table, 0) for table in tables)


def _forget_versions_read(connection) -> None:
    memo = connection.__dict__.get("_versions_read")
    if memo:
        memo.clear()


def csrf_marker() -> str:
    """What stands for the request's CSRF token in a stored fragment: derived from the secret
    key, so the same in every process and not something a user can type into a text."""
    return "csrf-" + salted_hmac("diplomacy.freshness.csrf-marker", "").hexdigest()[:32]


def render_with_csrf_marker(template_name: str, context: dict) -> SafeString:
    """A fragment with forms, rendered without the request: its CSRF token is a marker that
    `fragment(..., request=request)` replaces with the token of whoever it is served to."""
    return render_to_string(template_name, {**context, "csrf_token": csrf_marker()})


def fragment(
    name: str,
    *,
    reads: Iterable[type[models.Model] | str],
    shape: object,
    build: Callable[[], SafeString],
    request: HttpRequest | None = None,
) -> SafeString:
    """The fragment `name` from the cache while none of the tables it `reads` changed, else built.

    `shape` is everything else the fragment depends on (rights, filters, dates): its repr
    goes into the key, with the language. One query when the copy is fresh. With `request`,
    the fragment's forms get that request's CSRF token (render_with_csrf_marker).
    """
    html = _fragment(name, reads=reads, shape=shape, build=build)
    if request is not None:
        html = mark_safe(html.replace(csrf_marker(), get_token(request)))  # noqa: S308
    return html


def current_key(name: str, *, reads: Iterable[type[models.Model] | str], shape: object) -> str | None:
    """The cache key of `name` for the tables' current versions, or None when this connection's
    open transaction wrote one of them (then nothing may be stored or served from the cache)."""
    tables = tables_of(reads)
    if written_here(tables):
        return None
    move_on_everywhere()  # this request's own writes first
    versions = versions_of(tables)
    digest = hashlib.sha256(repr((name, shape, get_language(), tables, versions)).encode()).hexdigest()
    return f"fragment:{name}:{digest[:40]}"


#: What the cache answers for a key it does not hold (a remembered value may be None).
_MISSING = object()


def remembered(
    name: str, *, reads: Iterable[type[models.Model] | str], shape: object, compute: Callable[[], T]
) -> T:
    """A small value (any picklable one, None included) from the cache while none of the tables
    it `reads` changed, else computed: what every page asks again (the bell's count, the crisis
    banner) then costs no query of its own, the versions being read once a request."""
    key = current_key(name, reads=reads, shape=shape)
    if key is None:
        return compute()
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = compute()
        cache.set(key, found, FRAGMENT_SECONDS)
    return found


def _fragment(name: str, *, reads, shape, build) -> SafeString:
    key = current_key(name, reads=reads, shape=shape)
    if key is None:
        return build()
    html = cache.get(key)
    if html is None:
        html = build()
        cache.set(key, str(html), FRAGMENT_SECONDS)
    # Built from a template (escaped there), stored as text.
    return mark_safe(html)  # noqa: S308
