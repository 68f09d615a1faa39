"""Personal calendar feeds (RFC 5545).

Times are written in UTC (no VTIMEZONE needed); each publication keeps one
UID for its whole life, and SEQUENCE (its revision) plus LAST-MODIFIED tell
clients to update their copy.

A central reviewer's feed holds every publication from 30 days back to a year
ahead: tens of thousands of events. Two things keep it cheap:

- the document is written directly, line by line, byte for byte what the
  icalendar library writes for the same events (tests/test_feeds.py compares
  the two), without building an object per property;
- the finished document is kept in Django's cache under a key that holds the
  token, the owner's rights, the filters, the hour and the versions of the
  tables the feed reads (diplomacy.freshness): any committed write to them
  changes the key, and a calendar client polling an unchanged feed costs a
  lookup of those versions. The hour moves the window's edges along; entries
  live FEED_CACHE_SECONDS at most, the max-age the response announces anyway;
- the feeds a process served last also stay in its memory (RecentFeeds, up to
  RECENT_FEEDS_BYTES): Django's cache hands out a new copy at every get, and
  unpickling a 23 MB feed took 12 ms of a 16 ms poll.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.db import connection
from django.db.models import CharField, F, Func, Model, QuerySet
from django.urls import reverse
from django.utils import timezone

from calendar_app import permissions
from calendar_app.models import CalendarFeed, Publication, PublicationQuerySet, PublicationStatus, Variant
from diplomacy import freshness, roles
from diplomacy.models import Membership, Partner, Post, User

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

#: What a query expression compiles to: SQL and its parameters.
SqlAndParams = tuple[str, tuple[str | int, ...]]

#: A feed covers the recent past and the coming year.
PAST_DAYS = 30
FUTURE_DAYS = 365
#: How long a calendar entry lasts (a publication is an instant).
ENTRY_MINUTES = 15
UID_DOMAIN = "content-calendar"
#: A cached feed is served at most this long; the response's max-age is the same.
FEED_CACHE_SECONDS = 300
#: What a process keeps of the feeds it served last, in bytes (a network-wide feed of
#: 33,000 events is 23 MB).
RECENT_FEEDS_BYTES = 64 * 1024 * 1024
#: Lines longer than this many octets are folded (RFC 5545 3.1; icalendar folds at 75 excluded).
FOLD_OCTETS = 74

HEADER = (
    b"BEGIN:VCALENDAR\r\n"
    b"VERSION:2.0\r\n"
    b"PRODID:-//Diplomatic network content calendar//EN\r\n"
    b"CALSCALE:GREGORIAN\r\n"
    b"X-WR-CALNAME:Content calendar\r\n"
)
FOOTER = b"END:VCALENDAR\r\n"
#: A stand-in publication id, to reverse the detail URL once per feed rather than per event.
_PK_PLACEHOLDER = 987654321987


def feed_publications(queryset: PublicationQuerySet) -> PublicationQuerySet:
    now = timezone.now()
    return (
        queryset.between(now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS))
        .select_related("post")
        .only(
            "pk",
            "title",
            "status",
            "kind",
            "scheduled_at",
            "updated_at",
            "created_at",
            "revision",
            "post__name",
            "post__code",
        )
        .order_by("scheduled_at", "pk")
    )


def feed_texts(publications: QuerySet[Publication]) -> dict[int, list[tuple[str, str]]]:
    """Every variant of the feed's publications in one query, by publication, languages in order.

    (A prefetch with a chunked iterator would cost one query per chunk: the query
    count would grow with the data.)
    """
    texts: dict[int, list[tuple[str, str]]] = {}
    rows = (
        Variant.objects.filter(publication__in=publications.values("pk"))
        .order_by("publication_id", "language")
        .values_list("publication_id", "language", "text")
    )
    for publication_id, language, text in rows.iterator(chunk_size=5000):
        texts.setdefault(publication_id, []).append((language, text))
    return texts


@dataclass(frozen=True)
class FeedOwner:
    """Whose feed a token is, and what their roles let them see (diplomacy.roles.rights_of)."""

    user_id: int
    rights: tuple[tuple[str, int, int], ...]


#: What decides whose feed a token is and whether they may use the calendar (memberships are
#: read with their post and partner).
OWNER_READS = (CalendarFeed, User, Membership, Post, Partner)


def feed_owner(token: str) -> FeedOwner | None:
    """The owner of the feed `token`, if they may use the calendar: from the cache while feeds,
    users and memberships are unchanged (a poll then reads no row of them)."""
    return freshness.remembered(
        "feed-token-owner", reads=OWNER_READS, shape=token, compute=lambda: _owner_of(token)
    )


def _owner_of(token: str) -> FeedOwner | None:
    feed = CalendarFeed.objects.select_related("user").filter(token=token).first()
    if feed is None or not feed.user.is_active or not permissions.can_use_calendar(feed.user):
        return None
    return FeedOwner(feed.user_id, roles.rights_of(feed.user))


class RecentFeeds:
    """The feed documents this process served last, by cache key, within a byte budget (the
    least recently served goes first); an entry expires when the cache's copy does."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # gunicorn threads, the test server

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= time.time():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, body: bytes, expires: float) -> None:
        if len(body) > self.budget:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (expires, body)
            self._bytes += len(body)
            while self._bytes > self.budget:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        _expires, body = self._entries.pop(key)
        self._bytes -= len(body)


recent_feeds = RecentFeeds(RECENT_FEEDS_BYTES)


def cached_feed(
    publications: Callable[[], PublicationQuerySet],
    *,
    base_url: str,
    key: object,
    reads: Iterable[type[Model] | str],
) -> tuple[bytes, str]:
    """The feed document and its ETag: from the cache while none of the tables it `reads`
    changed (diplomacy.freshness), else built from `publications()` (called only then).

    `key` names the feed and what shapes it (token, rights, filters); the language, the base
    URL and the hour are added here: the feed's window moves with the clock.
    """
    hour = timezone.now().replace(minute=0, second=0, microsecond=0).isoformat()
    cache_key = freshness.current_key("ics-feed", reads=reads, shape=(key, base_url, hour))
    if cache_key is None:
        # This transaction wrote what the feed shows: built, never stored, tagged by content.
        document = _build_declared(publications, base_url=base_url, reads=reads)
        return document, hashlib.sha256(document).hexdigest()[:32]
    body = recent_feeds.get(cache_key)
    if body is None:
        # Stored with its expiry, so that this process's copy expires with the shared one.
        expires, body = cache.get(cache_key) or (0.0, None)
        if body is None:
            body = _build_declared(publications, base_url=base_url, reads=reads)
            expires = time.time() + FEED_CACHE_SECONDS
            cache.set(cache_key, (expires, body), FEED_CACHE_SECONDS)
        recent_feeds.put(cache_key, body, expires)
    return body, hashlib.sha256(cache_key.encode()).hexdigest()[:32]


def _build_declared(
    publications: Callable[[], PublicationQuerySet], *, base_url: str, reads: Iterable[type[Model] | str]
) -> bytes:
    """Build the document where every fragment is built, which checks (in the tests) that
    it reads only the tables of `reads`."""
    return freshness.build_declared("ics-feed", reads, lambda: build_feed(publications(), base_url=base_url))


def build_feed(queryset: PublicationQuerySet, *, base_url: str) -> bytes:
    """The ICS document for the publications of `queryset` in the feed's window."""
    publications = feed_publications(queryset)
    texts = feed_texts(publications)
    if connection.vendor in UtcStamp.VENDORS:
        # The database writes the times as iCalendar text: parsing 100,000 timestamps into
        # datetimes only to format them again was a third of the feed's time.
        publications = publications.annotate(
            ical_start=UtcStamp("scheduled_at"),
            ical_end=UtcStamp("scheduled_at", minutes=ENTRY_MINUTES),
            ical_modified=UtcStamp("updated_at"),
            ical_created=UtcStamp("created_at"),
        )
    else:  # datetimes, formatted in Python by serialise()
        publications = publications.annotate(
            ical_start=F("scheduled_at"),
            ical_end=F("scheduled_at"),
            ical_modified=F("updated_at"),
            ical_created=F("created_at"),
        )
    rows = publications.values_list(
        "pk",
        "title",
        "status",
        "ical_start",
        "ical_end",
        "ical_modified",
        "ical_created",
        "revision",
        "post__name",
    )
    return serialise(rows.iterator(chunk_size=5000), texts, stamp=timezone.now(), base_url=base_url)


class UtcStamp(Func):
    """A timestamp as an iCalendar UTC DATE-TIME ("20260312T063000Z", seconds truncated, as
    icalendar writes it), formatted by the database."""

    VENDORS = ("postgresql", "sqlite")
    output_field = CharField()

    def __init__(self, expression: str, *, minutes: int = 0, **extra: Any) -> None:
        """`minutes` later than the timestamp (the entry's end), added in SQL: on SQLite,
        Django's date arithmetic is a Python callback per row."""
        super().__init__(expression, **extra)
        self.minutes = int(minutes)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        # to_char, not a cast to text: a cast follows the server's DateStyle.
        moment = (
            f"(%(expressions)s + interval '{self.minutes} minutes')" if self.minutes else "%(expressions)s"
        )
        template = f"to_char({moment} AT TIME ZONE 'UTC', 'YYYYMMDD\"T\"HH24MISS\"Z\"')"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> SqlAndParams:
        # %% twice: once for this template, once for the driver's parameter style.
        shift = f", '+{self.minutes} minutes'" if self.minutes else ""
        template = f"strftime('%%%%Y%%%%m%%%%dT%%%%H%%%%M%%%%SZ', %(expressions)s{shift})"
        return self.as_sql(compiler, connection, template=template, **extra)


def serialise(
    rows: Iterable[tuple], texts: dict[int, list[tuple[str, str]]], *, stamp: datetime, base_url: str
) -> bytes:
    """The calendar for `rows` of (pk, title, status, start, end, last modified, created,
    revision, post name), properties in icalendar's order and folded as it folds them.

    The times are iCalendar text already (UtcStamp) or aware datetimes; a datetime given
    as the end is the start, to which the entry's length is added here.
    """
    url = base_url.rstrip("/") + reverse("publication_detail", args=[_PK_PLACEHOLDER])
    url_before, url_after = url.split(str(_PK_PLACEHOLDER))
    dtstamp = _utc(stamp)
    # The label in the active language, as get_status_display() gives it.
    labels = {value: str(label) for value, label in PublicationStatus.choices}
    entry = timedelta(minutes=ENTRY_MINUTES)
    chunks = [HEADER]
    append = chunks.append
    for pk, title, status, start, end, modified, created, revision, post_name in rows:
        status_line = f"Status: {labels.get(status, status)}"
        variants = texts.get(pk)
        if variants:
            description = status_line + "\n\n" + "\n\n".join(f"[{lang}] {text}" for lang, text in variants)
        else:
            description = status_line
        append(
            "".join(
                (
                    "BEGIN:VEVENT\r\n",
                    _fold("SUMMARY:" + _escape(f"{title} ({post_name})")),
                    "\r\nDTSTART:",
                    start if isinstance(start, str) else _utc(start),
                    "\r\nDTEND:",
                    end if isinstance(end, str) else _utc(end + entry),
                    "\r\nDTSTAMP:",
                    dtstamp,
                    f"\r\nUID:publication-{pk}@{UID_DOMAIN}\r\nSEQUENCE:{revision}\r\nCREATED:",
                    created if isinstance(created, str) else _utc(created),
                    "\r\n",
                    _fold("DESCRIPTION:" + _escape(description)),
                    "\r\nLAST-MODIFIED:",
                    modified if isinstance(modified, str) else _utc(modified),
                    "\r\nSTATUS:",
                    "CANCELLED" if status == PublicationStatus.CANCELLED else "CONFIRMED",
                    f"\r\n{_fold('URL:' + url_before + str(pk) + url_after)}\r\nEND:VEVENT\r\n",
                )
            ).encode()
        )
    append(FOOTER)
    return b"".join(chunks)


def _utc(moment: datetime) -> str:
    """A DATE-TIME in UTC form (seconds, no fraction), as icalendar writes an aware datetime."""
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _escape(text: str) -> str:
    r"""TEXT escaping (RFC 5545 3.3.11), in icalendar's order: \N, backslash, ;, , and line ends."""
    if "\\" not in text and "\r" not in text:  # the common case: three of the seven steps
        return text.replace(";", r"\;").replace(",", r"\,").replace("\n", r"\n")
    return (
        text.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


def _fold(line: str) -> str:
    """Fold a content line into pieces of at most FOLD_OCTETS octets, never inside a UTF-8
    character, and (as icalendar does) never right after a backslash or caret, so that an
    escape is not split across lines."""
    if line.isascii():
        if len(line) <= FOLD_OCTETS:
            return line
        return "\r\n ".join(_ascii_pieces(line))
    data = line.encode()
    if len(data) <= FOLD_OCTETS:
        return line
    return b"\r\n ".join(_utf8_pieces(data)).decode()


def _ascii_pieces(line: str) -> list[str]:
    """_fold's pieces of an ASCII line: one character is one octet."""
    pieces = []
    start = 0
    while len(line) - start > FOLD_OCTETS:
        end = start + FOLD_OCTETS
        if line[end - 1] in "\\^":
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return pieces


def _utf8_pieces(data: bytes) -> list[bytes]:
    """_fold's pieces of an encoded line, each ending on a character's last byte."""
    pieces = []
    start = 0
    while len(data) - start > FOLD_OCTETS:
        end = start + FOLD_OCTETS
        while data[end] & 0xC0 == 0x80:  # a continuation byte: the character starts earlier
            end -= 1
        if data[end - 1] in b"\\^":
            end -= 1
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return pieces
