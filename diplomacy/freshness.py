"""Fresh copies of expensive page fragments: a version per table, moved by every committed change.

A page fragment that takes tens of milliseconds to build (the month grid, the network
reports) is kept in Django's cache under a key that holds what shapes it (the viewer's
rights, the filters, the language, the day) and the versions of the tables it reads.

- Every INSERT, UPDATE and DELETE that goes through Django's database connection is seen
  by a wrapper on that connection (`note_writes`, installed in `DiplomacyConfig.ready`):
  the ORM, bulk updates, compare-and-set updates, migrations, raw SQL. Nothing has to
  remember to say "I changed something".
- Only a statement that changed rows counts: an UPDATE or DELETE that matched nothing (a
  lost compare-and-set), an INSERT that a conflict clause turned into nothing (a many-to-many
  add of a link already there), a statement with RETURNING that returned no row (a claim
  that found nothing) move nothing on. Neither does an UPDATE that sets only
  columns no page shows (`UNSHOWN_COLUMNS`: a login's `last_login`).
- What a transaction wrote belongs to that transaction, savepoint by savepoint (`_Written`):
  a savepoint rolled back takes the tables written inside it along, a transaction rolled
  back takes all of them, and once the transaction commits every table it wrote gets a new
  random version (`TableVersion`) in ONE statement, after the commit, never before.
- A write outside a transaction is committed at once; its version moves with the other
  ones due on that connection, in one statement, before the connection's next statement
  outside a transaction (its cursor may still hold rows to read; a transaction managed by
  hand, without an atomic block, counts as one until autocommit is back), or at the latest
  at one of the ends that every kind of process has: the end of a request
  (`FreshnessMiddleware`, `request_finished`), of a django-q2 task (`post_execute_in_worker`
  in the worker, `post_execute` in the monitor), of a thread of one's own
  (`close_connections()`), of a management command or a shell (at exit).
- A reader reads the versions first and the data after, so a copy stored under a version
  never holds data older than that version; a write that commits while a fragment is being
  built changes the version, and the next reader builds again.
- Inside a transaction that has written one of a fragment's tables (a request that saves,
  then shows; a test), the fragment is built and not stored: that connection sees data
  no one else sees yet.
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
from typing import Any, TypeVar, cast

from django.core.cache import cache
from django.db import DatabaseError, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.crypto import salted_hmac
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from diplomacy.models import TableVersion, User

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
#: The savepoint statements Django sends (atomic blocks and `transaction.savepoint()` alike).
_SAVEPOINT = re.compile(
    r'\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT)\s+"?(\w+)"?', re.IGNORECASE
)
#: Tables whose writes no fragment reads: the versions themselves, sessions, the task queue,
#: the record of migrations.
_UNWATCHED_PREFIXES = ("diplomacy_tableversion", "django_session", "django_q_", "django_migrations")
#: Columns that change often and that no page shows, by table: an UPDATE that sets nothing
#: else moves nothing on. Without it every login (`last_login`) rebuilt the approval queue,
#: the calendar and every fragment that names a person.
UNSHOWN_COLUMNS: dict[str, frozenset[str]] = {User._meta.db_table: frozenset({"last_login"})}
#: An UPDATE's SET clause, and the columns it assigns (a column named in an expression there
#: counts too, which errs on the side of moving on).
_SET_CLAUSE = re.compile(r"\bSET\s+(.*?)(?:\bWHERE\b|\bRETURNING\b|$)", re.IGNORECASE | re.DOTALL)
_ASSIGNED = re.compile(r'"?(\w+)"?\s*=(?!=)')
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


def note_writes(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    """A connection's execute wrapper: each write's table moves on once the write is committed."""
    connection = context["connection"]
    if connection.__dict__.get("_versions_due") and _committed_so_far(connection):
        move_on_due(connection)
    cursor = context["cursor"]
    if isinstance(cursor.cursor, _ReadAhead):
        cursor.cursor = cursor.cursor.cursor  # a new statement: the driver's own cursor again
    result = execute(sql, params, many, context)
    if isinstance(sql, str):
        match = _WRITE.match(sql)
        if match:
            table = match.group(1)
            if not table.startswith(_UNWATCHED_PREFIXES) and changes_what_pages_show(
                table, sql, cursor, many=many
            ):
                _written(connection, table)
        elif connection.in_atomic_block:
            match = _SAVEPOINT.match(sql)
            if match:
                _savepoint_moved(connection, match.group(1).upper(), match.group(2))
    return result


def changes_what_pages_show(table: str, sql: str, cursor: CursorWrapper, *, many: bool = False) -> bool:
    """Whether a write that just ran on `cursor` changed rows of `table` that a page may show.

    An UPDATE or DELETE that matched no row, an INSERT that a conflict clause skipped, change
    nothing; so does a statement with RETURNING that returned no row (an idle dispatcher's
    claim, every second: it must not throw away every cached page that reads deliveries).
    PostgreSQL counts a RETURNING statement's rows at once. SQLite counts them only once they
    are read: there its rows are read now, and handed to the caller as if never touched.
    """
    if _RETURNING.search(sql) and cursor.rowcount == 0 and not many:
        if cursor.db.vendor == "sqlite":
            with cursor.db.wrap_database_errors:
                rows = cursor.cursor.fetchall()
            cursor.cursor = _ReadAhead(cursor.cursor, rows)
            if not rows:
                return False
        else:
            return False
    elif cursor.rowcount == 0:
        return False
    return not sets_only_unshown_columns(table, sql)


class _ReadAhead:
    """A driver's cursor whose rows were read ahead (a RETURNING statement's on SQLite, to
    learn whether it changed anything): serves them as the cursor would have."""

    def __init__(self, cursor: Any, rows: list[Any]) -> None:
        self.cursor = cursor
        self._rows = rows

    def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        size = self.cursor.arraysize if size is None else size
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return taken

    def __iter__(self) -> Any:
        while self._rows:
            yield self._rows.pop(0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cursor, name)


def sets_only_unshown_columns(table: str, sql: str) -> bool:
    """Whether `sql` is an UPDATE of `table` that sets only columns of UNSHOWN_COLUMNS."""
    unshown = UNSHOWN_COLUMNS.get(table)
    if not unshown or sql.lstrip()[:6].upper() != "UPDATE":
        return False
    clause = _SET_CLAUSE.search(sql)
    columns = set(_ASSIGNED.findall(clause.group(1))) if clause else set()
    return bool(columns) and columns <= unshown


def install(connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """`connection_created` receiver: watch this connection's writes (once)."""
    if note_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(note_writes)


class _Written:
    """The tables an open transaction wrote, level by level: the transaction itself, then each
    savepoint opened since its first write (outer first).

    It is the transaction's on-commit callback (`committed`), so Django keeps it exactly as long
    as the transaction: it is dropped with a transaction that rolls back, run once after the
    commit. A savepoint rolled back drops the levels opened inside it (`rolled_back`).
    """

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.alias = connection.alias
        self.levels: list[tuple[str | None, set[str]]] = [(None, set())]
        self.done = False
        connection.on_commit(self.committed, robust=True)

    def tables(self) -> set[str]:
        return set().union(*(tables for _sid, tables in self.levels))

    def add(self, table: str) -> None:
        self.levels[-1][1].add(table)

    def opened(self, sid: str) -> None:
        self.levels.append((sid, set()))

    def released(self, sid: str) -> None:
        """What was written inside savepoint `sid` now belongs to the level around it."""
        at = self._level_of(sid)
        if at is None:
            return  # opened before the first write: every table stays where it is
        kept = set().union(*(tables for _sid, tables in self.levels[at:]))
        del self.levels[at:]
        self.levels[-1][1].update(kept)

    def rolled_back(self, sid: str) -> None:
        """Forget what was written since savepoint `sid` (which stays open, empty)."""
        at = self._level_of(sid)
        if at is None:
            # Opened before this transaction's first write: every table was written after it.
            # (When an atomic block opened it, Django drops this callback with it, too.)
            self.levels = [(None, set())]
        else:
            del self.levels[at:]
            self.levels.append((sid, set()))

    def _level_of(self, sid: str) -> int | None:
        for at, (level_sid, _tables) in enumerate(self.levels):
            if level_sid == sid:
                return at
        return None

    def committed(self) -> None:
        """On commit: every table the transaction wrote (and any due already) in one statement."""
        if self.done:
            return
        self.done = True
        connection = connections[self.alias]
        connection.__dict__.pop("_writes_seen", None)
        due: set[str] = connection.__dict__.get("_versions_due") or set()
        connection.__dict__["_versions_due"] = set()
        _move_on(connection, self.tables() | due)


def _open_writes(connection: BaseDatabaseWrapper) -> _Written | None:
    """What this connection's open transaction wrote, if it wrote anything.

    Django's list of on-commit callbacks (the one `TestCase.captureOnCommitCallbacks` reads)
    holds it. Django replaces that list by a new one whenever it drops or runs callbacks (a
    commit, a rollback, a savepoint rolled back), so while the list is the one seen last,
    the answer found then still holds: a transaction of many writes scans it once.
    """
    if not connection.in_atomic_block:
        return None
    callbacks = connection.run_on_commit
    seen: tuple[_Written, list[Any]] | None = connection.__dict__.get("_writes_seen")
    if seen is not None and seen[1] is callbacks and not seen[0].done:
        return seen[0]
    for entry in callbacks:  # (savepoint ids, callback, robust)
        written = getattr(entry[1], "__self__", None)
        if isinstance(written, _Written) and not written.done:
            connection.__dict__["_writes_seen"] = (written, callbacks)
            return written
    return None


def _written(connection: BaseDatabaseWrapper, table: str) -> None:
    _forget_versions_read(connection)
    if not connection.in_atomic_block:
        # Committed already, but its cursor may still hold rows to read (an INSERT's
        # RETURNING on SQLite): the version moves before the connection's next statement,
        # or at the end of the request, the task, the thread or the process.
        connection.__dict__.setdefault("_versions_due", set()).add(table)
        return
    written = _open_writes(connection)
    if written is None:
        written = _Written(connection)
        connection.__dict__["_writes_seen"] = (written, connection.run_on_commit)
    written.add(table)


def _savepoint_moved(connection: BaseDatabaseWrapper, statement: str, sid: str) -> None:
    written = _open_writes(connection)
    if written is None:
        return  # nothing written yet: no savepoint matters
    if statement == "SAVEPOINT":
        written.opened(sid)
    elif statement.startswith("RELEASE"):
        written.released(sid)
    else:
        written.rolled_back(sid)


def _committed_so_far(connection: BaseDatabaseWrapper) -> bool:
    """Whether every write this connection made is committed: no atomic block is open, and
    no transaction managed by hand (`set_autocommit(False)`) either, which has no on-commit
    callbacks; what it wrote moves on once autocommit is back."""
    return not connection.in_atomic_block and connection.autocommit


def move_on_due(connection: BaseDatabaseWrapper) -> None:
    """Move on the tables written outside a transaction since the last time (one statement)."""
    due: set[str] = connection.__dict__.get("_versions_due") or set()
    connection.__dict__["_versions_due"] = set()
    _move_on(connection, due)


def move_on_everywhere(**kwargs: Any) -> None:
    """Receiver of the ends of work (a request, a django-q2 task, the process): nothing stays due."""
    for connection in connections.all(initialized_only=True):
        if connection.__dict__.get("_versions_due") and _committed_so_far(connection):
            move_on_due(connection)


def move_on_at_exit() -> None:
    """`atexit` hook: a management command or a shell that wrote outside a transaction leaves
    nothing due. Never fails the exit (the database may be gone by then: a test run's)."""
    try:
        move_on_everywhere()
    except Exception:  # the process is ending: say so, do not raise
        logger.exception("Could not move the versions due on at exit")


def close_connections() -> None:
    """The end of a thread of one's own (the publishing engine's senders): move on what it
    wrote outside a transaction, then close its connections, which die with the thread."""
    move_on_everywhere()
    connections.close_all()


class FreshnessMiddleware:
    """Moves on what the request wrote outside a transaction before the response leaves
    (request_finished would run after the connection is closed, and reopen it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        connection = connections["default"]
        connection.__dict__["_versions_read"] = {}
        try:
            response = self.get_response(request)
        finally:
            connection.__dict__.pop("_versions_read", None)
        move_on_everywhere()
        return response


def _move_on(connection: BaseDatabaseWrapper, tables: Iterable[str]) -> None:
    """Give each of `tables` a new random version: one upsert, tables in order (two processes
    moving the same tables on lock their rows in the same order on PostgreSQL)."""
    tables = sorted(tables)
    if not tables:
        return
    _forget_versions_read(connection)
    # One plain statement: bulk_create(update_conflicts=True) says the same but wraps it in a
    # transaction of its own, two more round trips after every commit. SQLite and PostgreSQL
    # both speak this dialect of upsert.
    quote = connection.ops.quote_name
    meta = TableVersion._meta
    table, key, version = (
        quote(meta.db_table),
        quote(str(meta.get_field("table").column)),
        quote(str(meta.get_field("version").column)),
    )
    rows = ", ".join(["(%s, %s)"] * len(tables))
    sql = (
        f"INSERT INTO {table} ({key}, {version}) VALUES {rows} "  # noqa: S608 (names from the model)
        f"ON CONFLICT ({key}) DO UPDATE SET {version} = EXCLUDED.{version}"
    )
    params = [value for name in tables for value in (name, secrets.randbits(62))]
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        if meta.db_table not in connection.introspection.table_names():
            return  # migrating a new database: no fragment is stored yet
        # The writes themselves are committed; their fragments age out after FRAGMENT_SECONDS.
        logger.exception("Could not move the versions of %s on", ", ".join(tables))


def tables_of(sources: Iterable[type[models.Model] | str]) -> list[str]:
    """The tables of these models (and of their many-to-many links), sorted; strings are table names."""
    tables = set()
    for source in sources:
        if isinstance(source, str):
            tables.add(source)
            continue
        tables.add(source._meta.db_table)
        for field in source._meta.local_many_to_many:
            through = field.remote_field.through  # set for every field once the models are loaded
            if through is not None:
                tables.add(through._meta.db_table)
    return sorted(tables)


def written_here(tables: Iterable[str], using: str = "default") -> bool:
    """Whether this connection's open transaction has written one of these tables (and not
    rolled that write back)."""
    written = _open_writes(connections[using])
    return written is not None and not written.tables().isdisjoint(tables)


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


def _forget_versions_read(connection: BaseDatabaseWrapper) -> None:
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
        return build_declared(name, reads, compute)
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = build_declared(name, reads, compute)
        cache.set(key, found, FRAGMENT_SECONDS)
    return cast(T, found)


def build_declared(name: str, reads: Iterable[type[models.Model] | str], build: Callable[[], T]) -> T:
    """Build the fragment or value `name`, which says it reads only `reads`: the one place
    every build passes, where the tests check that claim (tests/fragment_reads.py)."""
    return build()


def _fragment(
    name: str, *, reads: Iterable[type[models.Model] | str], shape: object, build: Callable[[], str]
) -> SafeString:
    key = current_key(name, reads=reads, shape=shape)
    if key is None:
        return mark_safe(build_declared(name, reads, build))  # noqa: S308 (a template's output)
    html: str | None = cache.get(key)
    if html is None:
        html = build_declared(name, reads, build)
        cache.set(key, str(html), FRAGMENT_SECONDS)
    # Built from a template (escaped there), stored as text.
    return mark_safe(html)  # noqa: S308
