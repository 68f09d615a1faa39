"""The publishing engine: due approved publications go out, channel by channel.

Every delivery is claimed with a compare-and-set before its connector is called,
so two senders (two dispatchers, a dispatcher and the minute job, a task django-q2
runs twice) never send it twice. What is sent is the approved revision's text, not
whatever the row holds now, as the channel's language plan makes it into parts
(calendar_app.sending, frozen at the first claim by calendar_app.publishing.parts):
one platform post, a thread, or separate posts.

Each part is claimed in its turn and its platform id stored the moment the platform
answers, before the next part goes. A part that surely failed stops the delivery
there (tried again later, from that part); a part whose outcome is unknown makes the
delivery unknown for a person to check. A delivered part is never sent again.

Two processes send: `manage.py dispatch` (calendar_app.publishing.dispatcher), which
wakes at each due instant, and the minute job `publish_due`, the safety net. Both
prepare the same way (`prepare_due`) and send through a `Sender`: many platform
requests in flight in a thread pool that never touches the database, while the one
thread that owns the database connection claims in batches and writes the answers
in batches. Each sender beats (SenderHeartbeat) while it holds claims: a claim whose
holder stopped beating (`heartbeat_timeout`) becomes unknown within about a minute.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import queue
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Greatest, Now
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import workflow
from calendar_app.models import (
    Delivery,
    DeliveryPart,
    DeliveryStatus,
    Publication,
    PublicationStatus,
    SenderHeartbeat,
)
from calendar_app.publishing import (
    Connector,
    ManualOnly,
    OutcomeUnknown,
    Published,
    SurelyFailed,
    Thread,
    connector_for,
    parts,
)
from diplomacy import freshness
from diplomacy.models import LanguagePlan

logger = logging.getLogger(__name__)

#: Tries of a delivery that surely failed before it is marked failed.
MAX_ATTEMPTS = 5
#: The last resort: a claim older than this is dead whoever holds it (a sender alive but
#: stuck for ten minutes on one delivery is no better). The outcome is unknown, never
#: retried blindly.
CLAIM_EXPIRY = timedelta(minutes=10)


def heartbeat_seconds() -> float:
    """How often a sending process writes its heartbeat (DISPATCH_HEARTBEAT_SECONDS, 10)."""
    return float(getattr(settings, "DISPATCH_HEARTBEAT_SECONDS", 10))


def heartbeat_timeout() -> timedelta:
    """A claim whose holder has not beaten for this long belongs to a process that died
    (DISPATCH_DEAD_AFTER_SECONDS, 60: six missed beats, so a sender busy or briefly cut off
    from the database keeps its claims)."""
    return timedelta(seconds=float(getattr(settings, "DISPATCH_DEAD_AFTER_SECONDS", 60)))


#: The minute job claims nothing after this many seconds: with a connector's own time-out
#: it ends well inside django-q2's task timeout, so the cluster never kills it mid-delivery
#: (that would leave `unknown` deliveries for people to check).
JOB_BUDGET_SECONDS = 30
#: A delivery starts no further part this many seconds after it began sending: a thread
#: whose platform is slow stops between two parts (nothing half-sent) and goes on from
#: there in the next run.
PARTS_BUDGET_SECONDS = 60
#: Deliveries claimed in one statement at most.
CLAIM_BATCH = 200


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8... minutes between tries."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def next_attempt(exc: SurelyFailed, claimed_at: datetime, attempts: int) -> datetime:
    """When to try a delivery again: after the back-off, and never before the platform's
    own `retry_after` seconds (a 429's Retry-After), counted from its answer."""
    not_before = claimed_at + backoff(attempts)
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, int | float) and retry_after > 0:
        not_before = max(not_before, timezone.now() + timedelta(seconds=retry_after))
    return not_before


def approved_texts(publication: Publication, platform: str) -> dict[str, str]:
    """{language: text} of the approved revision on `platform`, every language written.

    Not what a channel sends (its languages and plan decide that): pages showing what
    goes out take `parts.for_delivery`, connectors get the parts themselves.
    """
    content = parts.approved_content(publication)
    if content is None:
        return {}
    return {
        language: (content.overrides.get(language) or {}).get(platform) or text
        for language, text in content.texts.items()
    }


def create_due_deliveries(now: datetime | None = None, publication_id: int | None = None) -> int:
    """One pending Delivery per channel of every approved publication whose time has come
    (of that one publication only, when `publication_id` is given)."""
    now = now or timezone.now()
    # A crisis holds publications (held_by) and lists those it made miss their time
    # (missed_in): neither goes out until a person releases or reschedules it.
    due = Publication.objects.may_go_out(now)
    if publication_id is not None:
        due = due.filter(pk=publication_id)
    # Leaving out the deliveries made already keeps the count honest (bulk_create counts
    # what it was given, inserted or not) and the minute job's insert small.
    made = Delivery.objects.filter(
        publication_id=OuterRef("publication_id"), channel_id=OuterRef("channel_id")
    )
    rows = [
        Delivery(publication_id=due_id, channel_id=channel_id, next_attempt_at=now)
        for due_id, channel_id in Publication.channels.through.objects.filter(publication__in=due)
        .exclude(Exists(made))
        .values_list("publication_id", "channel_id")
    ]
    # The unique constraint (publication, channel) makes this idempotent, even when two jobs race.
    created = Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def expire_stale_claims(now: datetime | None = None) -> int:
    """Claims left by a dead sender; returns how many became unknown.

    Dead means: its holder has not beaten for `heartbeat_timeout` (by the database's clock,
    the one every host shares), or, the last resort, the claim is older than CLAIM_EXPIRY.
    The part the sender was sending (claimed, no platform id) may be live: it becomes
    unknown with its delivery (request_sent unknown: nobody knows), and the delivery's
    error says which parts are live. A dead claim with no such part never let a request
    leave (each part is claimed, committed, before its platform call): it is given back
    to be sent, from its first part not yet live; one as old as the last resort goes to a
    person all the same, as it always did.
    """
    now = now or timezone.now()
    dead_after = heartbeat_timeout()
    alive = SenderHeartbeat.objects.filter(token=OuterRef("claimed_by"), beaten_at__gte=Now() - dead_after)
    stale = Delivery.objects.filter(status=DeliveryStatus.PENDING, claimed_at__isnull=False).filter(
        Q(claimed_at__lt=now - CLAIM_EXPIRY)
        # A claim younger than a heartbeat's timeout is left alone whatever the heartbeats
        # say: its holder wrote its beat before claiming, but this host's clock may differ.
        | (Q(claimed_at__lt=now - dead_after) & ~Exists(alive))
    )
    expired = 0
    for delivery_id, claimed_at in stale.values_list("pk", "claimed_at"):
        with transaction.atomic():
            rows = list(DeliveryPart.objects.filter(delivery_id=delivery_id).order_by("number"))
            hanging = next(
                (
                    row
                    for row in rows
                    if row.status == DeliveryStatus.PENDING
                    and row.claimed_at is not None
                    and not row.platform_post_id
                ),
                None,
            )
            # Compare-and-set on the very claim seen: a sender that was only slow and has
            # just finished keeps its outcome.
            claim = stale.filter(pk=delivery_id, claimed_at=claimed_at)
            if hanging is None and claimed_at is not None and claimed_at >= now - CLAIM_EXPIRY:
                # Nothing was in flight: sent again, not counted as a try. (A claim as old as
                # the last resort is handed to a person as it always was.)
                claim.update(claimed_at=None, claimed_by="", attempts=Greatest(F("attempts") - 1, 0))
                continue
            error = _("The worker stopped while sending: check the channel, then record it or send it again.")
            if hanging is not None:
                error = progress(rows, hanging.number, error, unknown=True)
            if not claim.update(status=DeliveryStatus.UNKNOWN, error=error, request_sent=None):
                continue
            if hanging is not None:
                DeliveryPart.objects.filter(pk=hanging.pk, status=DeliveryStatus.PENDING).update(
                    status=DeliveryStatus.UNKNOWN, error=error, request_sent=None
                )
            expired += 1
    return expired


def progress(rows: list[DeliveryPart], number: int, error: str, *, unknown: bool) -> str:
    """The error of a delivery stopped at part `number`, saying which parts are live
    ("Parts 1–2 of 4 are live; part 3 failed: ..."); a one-part delivery's is the error."""
    total = len(rows)
    if total <= 1:
        return error
    live = sum(1 for row in rows if row.status == DeliveryStatus.DELIVERED)
    if live == 0:
        said = _("None of the %(total)s parts is live") % {"total": total}
    elif live == 1:
        said = _("Part 1 of %(total)s is live") % {"total": total}
    else:
        said = _("Parts 1–%(live)s of %(total)s are live") % {"live": live, "total": total}
    if unknown:
        what = _("part %(number)s may have gone out: %(error)s") % {"number": number, "error": error}
    else:
        what = _("part %(number)s failed: %(error)s") % {"number": number, "error": error}
    return f"{said}; {what}"


def prepare_due(now: datetime | None = None, *, settle: bool = True) -> dict[str, int]:
    """What every sending pass does before it claims: hold what active crises cover, mark
    what is too late missed, bring unknown deliveries to a person, make the deliveries of
    publications whose time has come, expire dead claims, settle publications whose
    deliveries are all done (`settle`: the dispatcher does it every few cycles, the minute
    job every time). The dispatcher runs it every cycle, the minute job every minute:
    whatever a pass must do first goes here, once.

    Each step is on its own: one that fails (a bug in one row's data, a lost lock) is
    logged and the others go on, and so does the claim after them: a failing sweep never
    stops the sending. (The sweeps isolate their rows the same way.)
    """
    now = now or timezone.now()
    done = {"created": 0, "expired_claims": 0, "settled": 0}
    steps: list[tuple[str, Callable[[], int]]] = [
        ("held", workflow.hold_what_active_crises_cover),
        # Nothing goes out late: what is past MAX_LATENESS becomes missed before any claim.
        ("missed", lambda: workflow.miss_late_publications(now)),
        ("reported", workflow.report_unknown_deliveries),
        ("created", lambda: create_due_deliveries(now)),
        ("expired_claims", lambda: expire_stale_claims(now)),
    ]
    if settle:
        steps.append(("settled", settle_finished))
    for name, step in steps:
        try:
            count = step()
        except Exception:
            logger.exception("The %s step of the publishing pass failed; the others go on", name)
            continue
        if name in done:
            done[name] = count
    return done


def claim_due(
    now: datetime,
    limit: int,
    holder: str,
    *,
    only: Iterable[int] | None = None,
    exclude: Iterable[int] = (),
    before_claim: Callable[[], None] | None = None,
) -> list[int]:
    """Claim up to `limit` due deliveries for `holder` in one statement; returns their ids.

    `UPDATE ... WHERE id = ANY(ARRAY(SELECT ... FOR UPDATE SKIP LOCKED)) AND <the claim's
    own conditions> RETURNING id`: on PostgreSQL, dispatchers on several hosts each take rows
    the others have not locked, without waiting. The outer UPDATE repeats the conditions on
    the delivery's own columns because PostgreSQL re-checks only those after a concurrent
    change of the row (see tests/test_dispatcher.py): the subquery's view of other tables
    (the publication may go out, the channel is no manual one) is the statement's snapshot,
    so `Sender.start` looks at the publication again once the claim is committed. SQLite has
    no row locks (and one writer at a time): the same compare-and-set without the lock clause.

    A plain read comes first and, when nothing is due, is all it does: an idle dispatcher asks
    every second, and must write nothing (on SQLite even an UPDATE of no row takes the one
    write lock, and would move the deliveries' table version under every cached page).
    `before_claim` runs once something is due, before the claim (a sender's heartbeat).
    """
    candidates = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING, claimed_at__isnull=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        # What may go out is the publications' rule (approved, due, not held nor missed).
        .filter(publication__in=Publication.objects.may_go_out(now))
        .exclude(channel__connector="manual")
    )
    if only is not None:
        candidates = candidates.filter(pk__in=list(only))
    excluded = list(exclude)
    if excluded:
        candidates = candidates.exclude(pk__in=excluded)
    if limit <= 0 or not candidates.exists():  # served by delivery_due_idx (status, next_attempt_at)
        return []
    if before_claim is not None:
        before_claim()
    ordered = candidates.order_by("next_attempt_at", "pk").values("pk")[:limit]
    ops, quote = connection.ops, connection.ops.quote_name
    moment = ops.adapt_datetimefield_value(now)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            ordered = ordered.select_for_update(skip_locked=True, of=("self",))
        subquery, params = ordered.query.sql_with_params()
        # On PostgreSQL `id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)` may be run again for
        # each row the planner looks at, each run skipping the rows the last one locked: more
        # than n rows claimed (tests/test_dispatcher.py saw 3 of a limit of 2). ANY(ARRAY(...))
        # runs the subquery once.
        picked = f"= ANY(ARRAY({subquery}))" if connection.vendor == "postgresql" else f"IN ({subquery})"
        sql = (
            f"UPDATE {quote(Delivery._meta.db_table)} "  # noqa: S608 (names from the model)
            f"SET {quote('claimed_at')} = %s, {quote('claimed_by')} = %s, "
            f"{quote('attempts')} = {quote('attempts')} + 1 "
            f"WHERE {quote('id')} {picked} "
            f"AND {quote('status')} = %s AND {quote('claimed_at')} IS NULL "
            f"AND ({quote('next_attempt_at')} IS NULL OR {quote('next_attempt_at')} <= %s) "
            f"RETURNING {quote('id')}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [moment, holder, *params, DeliveryStatus.PENDING, moment])
            return sorted(row[0] for row in cursor.fetchall())


def _claim_parts(row_ids: list[int], now: datetime) -> set[int]:
    """Compare-and-set on parts before their platform calls, in one statement; returns the
    ids claimed (a part claimed already belongs to a sender that died while sending it)."""
    if not row_ids:
        return set()
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(row_ids))
    sql = (
        f"UPDATE {quote(DeliveryPart._meta.db_table)} "  # noqa: S608 (names from the model)
        f"SET {quote('claimed_at')} = %s, {quote('status')} = %s "
        f"WHERE {quote('id')} IN ({marks}) AND {quote('claimed_at')} IS NULL "
        f"AND {quote('status')} IN (%s, %s) RETURNING {quote('id')}"
    )
    params = [
        connection.ops.adapt_datetimefield_value(now),
        DeliveryStatus.PENDING,
        *row_ids,
        DeliveryStatus.PENDING,
        DeliveryStatus.FAILED,
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _extend(first: Published | None, thread: Thread | None, published: Published) -> tuple[Published, Thread]:
    """The thread after one more live part."""
    root = first or published
    return root, Thread(root=root, parent=published)


def published_of(row: DeliveryPart) -> Published:
    return Published(post_id=row.platform_post_id, url=row.url, ref=row.platform_ref)


def outcome_unknown(
    delivery: Delivery, rows: list[DeliveryPart], row: DeliveryPart, exc: OutcomeUnknown
) -> str:
    """The part may be live: it and its delivery wait for a person, never retried blindly.
    What the connector knew (the request sent or not, what the platform said) is kept for
    the person who checks."""
    error = progress(rows, row.number, str(exc), unknown=True)[:2000]
    request_sent = getattr(exc, "request_sent", None)
    said = str(getattr(exc, "platform_said", "") or "")[:2000]
    with transaction.atomic():
        DeliveryPart.objects.filter(pk=row.pk).update(
            status=DeliveryStatus.UNKNOWN,
            error=str(exc)[:2000],
            request_sent=request_sent,
            platform_said=said,
        )
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.UNKNOWN, error=error, request_sent=request_sent, platform_said=said
        )
    return DeliveryStatus.UNKNOWN


def surely_failed(
    delivery: Delivery,
    claimed_at: datetime,
    exc: SurelyFailed,
    rows: list[DeliveryPart],
    row: DeliveryPart | None,
) -> str:
    """Nothing of `row` was posted: the delivery waits for its next try (from that part), or
    fails for good after MAX_ATTEMPTS; the parts live before it stay live."""
    error = (progress(rows, row.number, str(exc), unknown=False) if row is not None else str(exc))[:2000]
    said = str(getattr(exc, "platform_said", "") or "")[:2000]
    final = delivery.attempts >= MAX_ATTEMPTS
    with transaction.atomic():
        if row is not None:
            DeliveryPart.objects.filter(pk=row.pk).update(
                claimed_at=None,
                status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
                error=str(exc)[:2000],
                platform_said=said,
            )
        if final:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.FAILED, claimed_at=None, error=error, platform_said=said
            )
        else:
            Delivery.objects.filter(pk=delivery.pk).update(
                claimed_at=None,
                next_attempt_at=next_attempt(exc, claimed_at, delivery.attempts),
                error=error,
                platform_said=said,
            )
    if final:
        workflow.settle_publication(delivery.publication_id)
        return DeliveryStatus.FAILED
    return DeliveryStatus.PENDING


def unexpected(exc: Exception) -> OutcomeUnknown:
    """A connector raised something none of its three outcomes: it may have posted, so the
    part is unknown for a person (nobody knows whether the request left)."""
    # Staff read this: plain words; the exception itself goes to the server's log (the caller).
    return OutcomeUnknown(
        _(
            "The connector stopped with an unexpected error (the details are in the server's log): "
            "check the channel."
        ),
        request_sent=None,
    )


def store_published(answers: list[tuple[DeliveryPart, Published, bool]]) -> None:
    """The platform's ids, stored the moment they answer, before any next part is sent: in
    one transaction for every answer in hand (one batched statement a table, one version
    move, however many). A sender that dies before this leaves the parts' claims, which
    expire into `unknown`: a person checks, nothing is resent. A delivery takes its part 1's
    id and address, and is delivered with its last part (`last`)."""
    if not answers:
        return
    moment = connection.ops.adapt_datetimefield_value(timezone.now())
    parts_done: list[tuple[Any, ...]] = []
    firsts: list[tuple[Any, ...]] = []
    lasts: list[tuple[Any, ...]] = []
    for row, result, last in answers:
        post_id, ref, url = result.post_id[:200], result.ref[:200], result.url[:500]
        row.status, row.platform_post_id, row.platform_ref, row.url = (
            DeliveryStatus.DELIVERED,
            post_id,
            ref,
            url,
        )
        parts_done.append((DeliveryStatus.DELIVERED, post_id, ref, url, moment, row.pk))
        if last:
            # Part 1's id and address stay the delivery's when a later part ends it.
            first_id, first_url = (post_id, url) if row.number == 1 else (None, None)
            lasts.append(
                (DeliveryStatus.DELIVERED, moment, first_id, first_id, first_url, first_url, row.delivery_id)
            )
        elif row.number == 1:
            firsts.append((post_id, url, row.delivery_id))
    quote = connection.ops.quote_name
    part_table, delivery_table = quote(DeliveryPart._meta.db_table), quote(Delivery._meta.db_table)
    # executemany: one statement sent with many rows (psycopg pipelines them); Django's
    # bulk_update would build a CASE a row and field, slower than the requests it follows.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {part_table} SET status = %s, platform_post_id = %s, platform_ref = %s, "  # noqa: S608
            "url = %s, delivered_at = %s, error = '' WHERE id = %s",
            parts_done,
        )
        if firsts:
            cursor.executemany(
                f"UPDATE {delivery_table} SET platform_post_id = %s, url = %s WHERE id = %s",  # noqa: S608
                firsts,
            )
        if lasts:
            cursor.executemany(
                f"UPDATE {delivery_table} SET status = %s, delivered_at = %s, error = '', "  # noqa: S608
                "platform_said = '', "
                "platform_post_id = CASE WHEN %s IS NULL THEN platform_post_id ELSE %s END, "
                "url = CASE WHEN %s IS NULL THEN url ELSE %s END WHERE id = %s",
                lasts,
            )


def _mark_delivered(delivery_id: int, first: Published | None) -> None:
    changes: dict[str, object] = {
        "status": DeliveryStatus.DELIVERED,
        "delivered_at": timezone.now(),
        "error": "",
    }
    if first is not None:
        changes.update(platform_post_id=first.post_id[:200], url=first.url[:500])
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(**changes)


def settle_finished() -> int:
    """Settle approved publications whose deliveries are all done (a sender that died between
    storing the last answer and settling left them approved); returns how many moved."""
    deliveries = Delivery.objects.filter(publication=OuterRef("pk"))
    finished = Publication.objects.filter(status=PublicationStatus.APPROVED).filter(
        Exists(deliveries.filter(status=DeliveryStatus.FAILED))
        | (Exists(deliveries) & ~Exists(deliveries.exclude(status=DeliveryStatus.DELIVERED)))
    )
    settled = [workflow.settle_publication(pk) for pk in finished.values_list("pk", flat=True)]
    return sum(1 for target in settled if target)


def settle_many(publication_ids: set[int]) -> None:
    """Settle the publications whose deliveries just ended, those that are done only: one read
    for all of them, then each move in one transaction (one version bump)."""
    if not publication_ids:
        return
    statuses: dict[int, set[str]] = {}
    for publication_id, status in Delivery.objects.filter(publication_id__in=publication_ids).values_list(
        "publication_id", "status"
    ):
        statuses.setdefault(publication_id, set()).add(status)
    done = sorted(
        pk
        for pk, found in statuses.items()
        if found == {DeliveryStatus.DELIVERED} or DeliveryStatus.FAILED in found
    )
    if not done:
        return
    with transaction.atomic():
        for publication_id in done:
            try:
                workflow.settle_publication(publication_id)  # a savepoint of its own
            except Exception:
                # The minute job's settle_finished tries again; the answers are stored already.
                logger.exception("Could not settle publication %s", publication_id)


def _settle_in_thread(publication_ids: set[int]) -> None:
    try:
        settle_many(publication_ids)
    except Exception:  # the next pass's settle_finished tries again
        logger.exception("Could not settle publications %s", sorted(publication_ids))
    finally:
        freshness.move_on_everywhere()  # writes outside a transaction: versions moved now


# --- Sending -------------------------------------------------------------------------------


#: What a sender's queue says besides answers: wake up (a NOTIFY, a stop).
WAKE = "wake"


@dataclass
class _Sending:
    """A claimed delivery while its parts go out."""

    delivery: Delivery
    rows: list[DeliveryPart]
    connector: Connector
    claimed_at: datetime
    began: float
    first: Published | None = None
    thread: Thread | None = None
    sent_now: int = 0
    row: DeliveryPart | None = None  # the part sent (its answer not written yet)
    #: Its request is in a pool thread now (its answer not taken from the queue yet): what
    #: counts against the sender's concurrency.
    in_flight: bool = False


def holder_token(kind: str) -> str:
    """Who holds a claim: unique per process start (a pid is reused, a restart is not the
    same holder)."""
    return f"{kind}:{socket.gethostname()[:30]}:{os.getpid()}:{secrets.token_hex(4)}"[:64]


class Sender:
    """Sends claimed deliveries with up to `concurrency` platform requests in flight.

    The requests wait in a thread pool whose threads never touch the database; the thread
    that made the Sender claims, freezes parts, claims parts and stores answers, in batches,
    on its one connection. Not thread-safe: one thread drives it (`claim`, `pump`).
    """

    def __init__(self, kind: str, concurrency: int | None = None, *, inline: bool = False) -> None:
        self.kind = kind
        #: One request at a time, in this thread (inside a caller's transaction it is so anyway).
        self.inline = inline
        self.owner = threading.current_thread()
        self.concurrency = max(1, concurrency or getattr(settings, "DISPATCH_CONCURRENCY", 32))
        self.token = holder_token(kind)
        self.pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix=f"{kind}-send")
        self.answers: queue.Queue[tuple[object, object]] = queue.Queue()
        self.sending: dict[int, _Sending] = {}
        self.outcomes: Counter[str] = Counter()
        #: Deliveries this sender gave back (a thread out of time, a publication moved
        #: meanwhile): not claimed again before `forget_given_back` (the next pass).
        self.given_back: set[int] = set()
        self._beaten_at = -math.inf
        self._settler: ThreadPoolExecutor | None = None
        self._settling: list[Future[None]] = []
        #: Answers taken from the queue and not written yet (the database was away): written
        #: at the next pump. An answer is a fact (a post is live) and is never dropped.
        self._in_hand: list[tuple[object, object]] = []
        #: Claims (and part claims) this sender could not give back (the database was away):
        #: given back before its next claim.
        self._unreturned: set[int] = set()
        self._unreturned_parts: set[int] = set()

    # -- heartbeat --

    def beat(self, *, force: bool = False) -> None:
        """Say this sender is alive (every `heartbeat_seconds`, or now with `force`)."""
        if not force and time.monotonic() - self._beaten_at < heartbeat_seconds():
            return
        self._beaten_at = time.monotonic()
        if not SenderHeartbeat.objects.filter(token=self.token).update(beaten_at=Now()):
            SenderHeartbeat.objects.create(
                token=self.token,
                kind=self.kind,
                host=socket.gethostname()[:255],
                pid=os.getpid(),
                beaten_at=Now(),
            )
            # Heartbeats of processes long gone: nobody reads them any more.
            SenderHeartbeat.objects.filter(beaten_at__lt=Now() - timedelta(days=1)).delete()

    def close(self) -> None:
        """Stop: requests still in flight are abandoned (their claims expire into unknown once
        the heartbeat, removed here, is missed); publications not settled yet are settled by
        the next pass (settle_finished)."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self._settler is not None:
            self._settler.submit(freshness.close_connections)  # the settler's own connection
            self._settler.shutdown(wait=True, cancel_futures=False)
            self._settler = None
        try:
            SenderHeartbeat.objects.filter(token=self.token).delete()
        except Exception:  # the database may be what stopped us
            logger.exception("Could not remove the heartbeat of %s", self.token)

    # -- claiming --

    @property
    def free(self) -> int:
        """Room for more requests: only those in flight count. A delivery whose answer waits
        to be written holds no thread, and never keeps the sender from claiming again."""
        return self.concurrency - sum(1 for sending in self.sending.values() if sending.in_flight)

    def claim(self, now: datetime | None = None, *, only: Iterable[int] | None = None) -> int:
        """Claim as many due deliveries as there is room for and start them; returns how many."""
        if self._unreturned:
            self._give_back(set(self._unreturned), part_ids=set(self._unreturned_parts))
        room = min(self.free, CLAIM_BATCH)
        if room <= 0:
            return 0
        now = now or timezone.now()
        ids = claim_due(
            now,
            room,
            self.token,
            only=only,
            exclude=self.given_back,
            # Beaten before holding any claim, and only then: an idle sender writes nothing.
            before_claim=lambda: self.beat(force=self._beaten_at == -math.inf),
        )
        if ids:
            self.start(ids, now)
        return len(ids)

    def start(self, ids: list[int], claimed_at: datetime) -> None:
        """Load the claimed deliveries, freeze their parts and send their first parts.

        Each delivery on its own: one whose own preparation fails is tried again later as a
        surely failed try (nothing was sent), with the reason logged; the others go. When the
        batch itself fails (the database away), every claim not started is given back (not
        counted as a try), never left to expire into `unknown` with nothing sent.
        """
        settled: set[int] = set()  # claims whose fate is decided (sent, ended or given back)
        try:
            self._start(ids, claimed_at, settled)
        except Exception:
            logger.exception("Starting claimed deliveries failed; the claims not started are given back")
            self._give_back([pk for pk in ids if pk not in settled])

    def _start(self, ids: list[int], claimed_at: datetime, settled: set[int]) -> None:
        deliveries = self._still_may_go_out(ids, settled)
        if not deliveries:
            return
        frozen = self._freeze(deliveries, claimed_at, settled)
        ready: list[_Sending] = []
        for delivery in deliveries:
            if delivery.pk in settled:
                continue
            try:
                sending = self._prepared(delivery, frozen[delivery.pk], claimed_at)
            except Exception as exc:
                logger.exception("Delivery %s could not be prepared; tried again later", delivery.pk)
                self._not_prepared(delivery, claimed_at, exc)
                sending = None
            settled.add(delivery.pk)
            if sending is not None:
                self.sending[delivery.pk] = sending
                ready.append(sending)
        self._send_next(ready)

    def _still_may_go_out(self, ids: list[int], settled: set[int]) -> list[Delivery]:
        """The claimed deliveries whose publication may still go out, loaded; the others
        (moved, cancelled, withdrawn, held or missed between the claim's snapshot and now) are
        given back untouched (not counted as a try)."""
        may_go = Publication.objects.may_go_out(timezone.now()).filter(pk=OuterRef("publication_id"))
        postgresql = connection.vendor == "postgresql"
        # SQLite: no transaction (its IMMEDIATE one would take the write lock for a read).
        with transaction.atomic() if postgresql else contextlib.nullcontext():
            if postgresql:
                # FOR SHARE on their publications: a lateness sweep deciding one of them holds
                # it FOR UPDATE, so this waits for its commit and then reads "missed" (and gives
                # the claim back); a sweep that comes after reads this claim as in flight. A
                # claim and a miss never both win. (SQLite: one writer at a time already.)
                quote = connection.ops.quote_name
                publications, deliveries = (
                    quote(Publication._meta.db_table),
                    quote(Delivery._meta.db_table),
                )
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"SELECT id FROM {publications} WHERE id IN "  # noqa: S608 (names from the model)
                        f"(SELECT publication_id FROM {deliveries} WHERE id = ANY(%s)) "
                        "ORDER BY id FOR SHARE",
                        [list(ids)],
                    )
            loaded = list(
                Delivery.objects.filter(pk__in=ids)
                .select_related("publication__post", "channel__post")
                .annotate(still_may_go_out=Exists(may_go))
            )
            gone = [d.pk for d in loaded if not d.still_may_go_out]
            if gone:
                Delivery.objects.filter(pk__in=gone, claimed_by=self.token).update(
                    claimed_at=None, claimed_by="", attempts=Greatest(F("attempts") - 1, 0)
                )
        if gone:
            self.outcomes["given_back"] += len(gone)
            self.given_back.update(gone)
            settled.update(gone)
        return [d for d in loaded if d.still_may_go_out]

    def _freeze(
        self, deliveries: list[Delivery], claimed_at: datetime, settled: set[int]
    ) -> dict[int, list[DeliveryPart] | parts.ApprovedAgain]:
        """Their parts, frozen in one batch; when the batch fails, one by one, so that one
        delivery's trouble stays its own."""
        try:
            return parts.freeze_many(deliveries)
        except Exception:
            logger.exception("Freezing the parts of a batch failed; freezing them one by one")
        frozen: dict[int, list[DeliveryPart] | parts.ApprovedAgain] = {}
        for delivery in deliveries:
            try:
                frozen.update(parts.freeze_many([delivery]))
            except Exception as exc:
                logger.exception(
                    "The parts of delivery %s could not be frozen; tried again later", delivery.pk
                )
                self._not_prepared(delivery, claimed_at, exc)
                settled.add(delivery.pk)
        return frozen

    def _prepared(
        self, delivery: Delivery, rows: list[DeliveryPart] | parts.ApprovedAgain, claimed_at: datetime
    ) -> _Sending | None:
        """The delivery ready to send its next part, or None when it ended here."""
        if isinstance(rows, parts.ApprovedAgain):
            # Part of the old revision is live: nothing more is sent until a person looked.
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.UNKNOWN, error=str(rows)[:2000]
            )
            self.outcomes[DeliveryStatus.UNKNOWN] += 1
            return None
        if not rows:
            nothing = SurelyFailed(
                _("There is no approved text in this channel's languages: nothing was sent.")
            )
            self.outcomes[surely_failed(delivery, claimed_at, nothing, rows, None)] += 1
            return None
        try:
            connector = connector_for(delivery.channel.connector)
        except KeyError:
            failed = SurelyFailed(_("This channel's connector is unknown: nothing was sent."))
            self.outcomes[surely_failed(delivery, claimed_at, failed, rows, None)] += 1
            return None
        sending = _Sending(delivery, rows, connector, claimed_at, time.monotonic())
        for row in rows:
            if row.status != DeliveryStatus.DELIVERED:
                break
            sending.first, sending.thread = _extend(sending.first, sending.thread, published_of(row))
        return sending

    def _not_prepared(
        self, delivery: Delivery, claimed_at: datetime, exc: Exception, row: DeliveryPart | None = None
    ) -> None:
        """A delivery whose own preparation failed: nothing was sent, so it is a surely failed
        try (its back-off, failed for good after MAX_ATTEMPTS, the reason on it for the post);
        given back when even that cannot be written."""
        self.sending.pop(delivery.pk, None)
        # Staff read this: plain words; the exception is in the server's log (the callers log it).
        failed = SurelyFailed(
            _("This delivery could not be prepared (the details are in the server's log): nothing was sent.")
        )
        try:
            rows = list(DeliveryPart.objects.filter(delivery_id=delivery.pk).order_by("number"))
            self.outcomes[surely_failed(delivery, claimed_at, failed, rows, row)] += 1
        except Exception:
            logger.exception("Could not record why delivery %s was not prepared", delivery.pk)
            self._give_back([delivery.pk], part_ids=[row.pk] if row is not None else [])

    def _give_back(self, ids: Iterable[int], *, part_ids: Iterable[int] = ()) -> None:
        """Claims this sender holds and never sent from: given back (not counted as a try),
        with the parts it claimed for them and sent no request for. Kept for the next claim
        when the database is away."""
        ids, part_ids = set(ids), set(part_ids)
        if not ids and not part_ids:
            return
        for pk in ids:
            self.sending.pop(pk, None)
        self.given_back.update(ids)
        try:
            with transaction.atomic():
                if part_ids:
                    DeliveryPart.objects.filter(
                        pk__in=part_ids, status=DeliveryStatus.PENDING, platform_post_id=""
                    ).update(claimed_at=None)
                Delivery.objects.filter(
                    pk__in=ids, claimed_by=self.token, status=DeliveryStatus.PENDING
                ).update(claimed_at=None, claimed_by="", attempts=Greatest(F("attempts") - 1, 0))
        except Exception:
            logger.exception("Could not give back the claims of deliveries %s; trying again", sorted(ids))
            self._unreturned |= ids
            self._unreturned_parts |= part_ids
            return
        self._unreturned -= ids
        self._unreturned_parts -= part_ids
        self.outcomes["given_back"] += len(ids)

    # -- sending --

    def _send_next(self, batch: list[_Sending]) -> None:
        """Each delivery's next part not yet live: claimed (one statement for all), then sent.
        Each delivery on its own: one that fails here is tried again later, the others go."""
        to_claim: list[tuple[_Sending, DeliveryPart]] = []
        for sending in batch:
            try:
                row = self._next_part(sending)
            except Exception:
                logger.exception("Delivery %s could not go on; its claim is given back", sending.delivery.pk)
                self._give_back([sending.delivery.pk])
                continue
            if row is not None:
                to_claim.append((sending, row))
        try:
            claimed = _claim_parts([row.pk for _s, row in to_claim], timezone.now())
        except Exception:
            logger.exception("Claiming the next parts failed; their deliveries' claims are given back")
            self._give_back([sending.delivery.pk for sending, _row in to_claim])
            return
        platform_parts = []
        for sending, row in to_claim:
            if row.pk not in claimed:
                error = _("A part may have gone out already: check the channel.")
                self._finished(
                    sending, outcome_unknown(sending.delivery, sending.rows, row, OutcomeUnknown(error))
                )
                continue
            try:
                outgoing = parts.outgoing(row, sending.delivery.channel.platform, len(sending.rows))
            except Exception as exc:
                logger.exception(
                    "Part %s of delivery %s could not be prepared", row.number, sending.delivery.pk
                )
                self._not_prepared(sending.delivery, sending.claimed_at, exc, row)
                continue
            sending.row = row
            row.claimed_at = timezone.now()
            chained = sending.delivery.plan == LanguagePlan.THREAD
            platform_parts.append((sending, outgoing, sending.thread if chained else None))
        for sending, outgoing, reply_to in platform_parts:
            sending.in_flight = True
            if self.inline or connection.in_atomic_block:
                # Inside a caller's transaction (a test, a shell's atomic block) the rows are
                # visible to this connection only, and connectors read some (a publication's
                # images): one request at a time, in this thread.
                self._call(sending.delivery.pk, sending.connector, sending.delivery, outgoing, reply_to)
                continue
            self.pool.submit(
                self._call, sending.delivery.pk, sending.connector, sending.delivery, outgoing, reply_to
            )

    def _next_part(self, sending: _Sending) -> DeliveryPart | None:
        """The part to claim next, or None when the delivery ended (or was given back) here."""
        row = next((r for r in sending.rows if r.status != DeliveryStatus.DELIVERED), None)
        if row is None:
            # Every part was live before this claim (a person recorded the last one, or it
            # was stored before its delivery's row): the delivery is delivered all the same.
            _mark_delivered(sending.delivery.pk, sending.first)
            self._finished(sending, DeliveryStatus.DELIVERED)
            return None
        if sending.sent_now and time.monotonic() - sending.began > PARTS_BUDGET_SECONDS:
            # Between two parts: the claim is given back (not counted as a try) and the
            # next pass goes on from this part.
            Delivery.objects.filter(pk=sending.delivery.pk).update(
                claimed_at=None, claimed_by="", attempts=F("attempts") - 1, next_attempt_at=timezone.now()
            )
            self.given_back.add(sending.delivery.pk)
            self._finished(sending, DeliveryStatus.PENDING)
            return None
        if row.status == DeliveryStatus.UNKNOWN or row.claimed_at is not None:
            # A part that may be live is never sent again blindly: a person checks.
            error = row.error or _("A part may have gone out already: check the channel.")
            self._finished(
                sending, outcome_unknown(sending.delivery, sending.rows, row, OutcomeUnknown(error))
            )
            return None
        return row

    def _call(
        self,
        key: int,
        connector: Connector,
        delivery: Delivery,
        part: parts.OutgoingPart,
        reply_to: Thread | None,
    ) -> None:
        """In a pool thread: the platform call alone; its answer (or what it raised) goes back
        to the sender's thread, which writes it."""
        try:
            answer: object = connector.publish(delivery, part, reply_to)
        except BaseException as exc:  # noqa: BLE001 - every outcome goes back to the owner
            answer = exc
        finally:
            # A connector that read the database (a publication's images) opened a connection
            # in this pool thread: closed, so that no request waiting holds one.
            if threading.current_thread() is not self.owner and any(
                c.connection is not None for c in connections.all(initialized_only=True)
            ):
                freshness.close_connections()
        self.answers.put((key, answer))

    def wake(self) -> None:
        """Make a `pump` waiting now return at once (thread-safe)."""
        self.answers.put((WAKE, None))

    def pump(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for answers, then write every answer in hand at once
        (those a failed write left too); returns True when woken (`wake`) rather than by an
        answer or the time-out. When writing fails, the answers not written stay in hand for
        the next pump, and what failed is raised."""
        items: list[tuple[object, object]] = []
        try:
            items.append(self.answers.get(timeout=max(timeout, 0)))
        except queue.Empty:
            if not self._in_hand:
                return False
        while True:
            try:
                items.append(self.answers.get_nowait())
            except queue.Empty:
                break
        woken = any(key == WAKE for key, _answer in items)
        for key, answer in items:
            if key == WAKE:
                continue
            sending = self.sending.get(key)  # type: ignore[call-overload]
            if sending is not None:
                sending.in_flight = False  # its thread is free; the answer is in hand
            self._in_hand.append((key, answer))
        self._handle()
        return woken

    def _handle(self) -> None:
        """Write the answers in hand; what cannot be written now stays in hand."""
        published: list[tuple[object, object]] = [
            (key, answer) for key, answer in self._in_hand if isinstance(answer, Published)
        ]
        others = [(key, answer) for key, answer in self._in_hand if not isinstance(answer, Published)]
        death: BaseException | None = None
        follow: tuple[list[_Sending], set[int]] = ([], set())
        try:
            follow = self._store(published)
            published = []
            while others:
                key, answer = others[0]
                death = self._write_outcome(key, answer) or death
                others.pop(0)
        finally:
            self._in_hand = published + others
            if death is None:
                # What was stored goes on even when a later write failed: its next part is
                # sent, its publication settled (else its claim would be held for nothing).
                self._follow(*follow)
        if death is not None:
            raise death

    def _follow(self, go_on: list[_Sending], settle: set[int]) -> None:
        try:
            self.settle(settle)
        except Exception:  # the next pass's settle_finished settles them
            logger.exception("Could not settle publications %s", sorted(settle))
        if go_on:
            self._send_next(go_on)

    def _store(self, published: list[tuple[object, object]]) -> tuple[list[_Sending], set[int]]:
        """The platforms' ids, in one transaction; returns the deliveries that go on to their
        next part and the publications to settle."""
        stored: list[tuple[_Sending, Published]] = []
        for key, answer in published:
            sending = self.sending.get(key)  # type: ignore[call-overload]
            if sending is not None and sending.row is not None and isinstance(answer, Published):
                stored.append((sending, answer))
        answers: list[tuple[DeliveryPart, Published, bool]] = []
        for sending, answer in stored:
            assert sending.row is not None  # set while its answer is not written
            answers.append((sending.row, answer, sending.row.number == sending.rows[-1].number))
        store_published(answers)
        go_on: list[_Sending] = []
        settle: set[int] = set()
        for sending, answer in stored:
            row = sending.row
            assert row is not None
            sending.row = None
            row.status = DeliveryStatus.DELIVERED
            sending.sent_now += 1
            sending.first, sending.thread = _extend(sending.first, sending.thread, answer)
            if row.number == sending.rows[-1].number:
                self._finished(sending, DeliveryStatus.DELIVERED, settle=False)
                settle.add(sending.delivery.publication_id)
            else:
                go_on.append(sending)
        return go_on, settle

    def _write_outcome(self, key: object, answer: object) -> BaseException | None:
        """Write an answer that is not a live post; returns it when it says the process stops."""
        sending = self.sending.get(key)  # type: ignore[call-overload]
        if sending is None or sending.row is None:
            return None
        row = sending.row
        if isinstance(answer, ManualOnly):
            with transaction.atomic():
                DeliveryPart.objects.filter(pk=row.pk).update(claimed_at=None)
                Delivery.objects.filter(pk=sending.delivery.pk).update(
                    claimed_at=None, claimed_by="", attempts=F("attempts") - 1
                )
            self.given_back.add(sending.delivery.pk)
            outcome: str = DeliveryStatus.PENDING
        elif isinstance(answer, OutcomeUnknown):
            outcome = outcome_unknown(sending.delivery, sending.rows, row, answer)
        elif isinstance(answer, SurelyFailed):
            outcome = surely_failed(sending.delivery, sending.claimed_at, answer, sending.rows, row)
        elif isinstance(answer, Exception):
            logger.error(
                "Connector %s raised an unexpected error on delivery %s",
                sending.delivery.channel.connector,
                sending.delivery.pk,
                exc_info=answer,
            )
            outcome = outcome_unknown(sending.delivery, sending.rows, row, unexpected(answer))
        else:
            # Not an Exception (a KeyboardInterrupt, SystemExit, a test's simulated death):
            # the process is stopping. What is stored stays stored; the rest expires.
            sending.row = None
            return answer  # type: ignore[return-value]
        sending.row = None
        self._finished(sending, outcome)
        return None

    def _finished(self, sending: _Sending, outcome: str, *, settle: bool = True) -> None:
        self.sending.pop(sending.delivery.pk, None)
        self.outcomes[outcome] += 1
        if settle and outcome == DeliveryStatus.DELIVERED:
            self.settle({sending.delivery.publication_id})

    def drain(self, limit: float) -> None:
        """Wait (at most `limit` seconds) for the requests in flight, write their answers and
        settle their publications."""
        deadline = time.monotonic() + limit
        while self.sending and time.monotonic() < deadline:
            self._pump_on(min(1.0, deadline - time.monotonic()))
            self.beat()
        wait_for_futures(self._settling, timeout=max(deadline - time.monotonic(), 1.0))
        done = [future for future in self._settling if future.done()]
        self._settling = [future for future in self._settling if not future.done()]
        for future in done:
            stopped = future.exception()
            if stopped is not None:
                raise stopped  # not an Exception (those are logged there): the process stops

    # -- settling --

    def settle(self, publication_ids: set[int]) -> None:
        """Settle these publications (those whose deliveries are all done). On PostgreSQL in a
        thread of its own, on its one connection: settling (a history row a publication) is
        the slowest write, and the answers coming in meanwhile need this thread. Inline on
        SQLite (one writer) and inside a caller's transaction."""
        if not publication_ids:
            return
        if self.inline or connection.in_atomic_block or connection.vendor != "postgresql":
            settle_many(publication_ids)
            return
        if self._settler is None:
            self._settler = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.kind}-settle")
        self._settling = [future for future in self._settling if not future.done()]
        self._settling.append(self._settler.submit(_settle_in_thread, set(publication_ids)))

    def run_until_idle(self, deadline: float) -> None:
        """Claim and send until nothing is due, claiming nothing after `deadline`
        (time.monotonic()), then wait for what is in flight."""
        while time.monotonic() < deadline:
            claimed = self.claim()
            if not self.sending:
                if not claimed:
                    return
                continue
            self._pump_on(1.0)
            self.beat()
        # Every request in flight ends within its connector's own time-out.
        self.drain(limit=PARTS_BUDGET_SECONDS + 30)

    def _pump_on(self, timeout: float) -> None:
        """`pump`, whose failure to write (the database away) is logged: the answers stay in
        hand and the next pump, a second later at most, writes them."""
        try:
            self.pump(timeout)
        except Exception:
            logger.exception("Storing the platforms' answers failed; trying again at the next pump")
            if not connection.in_atomic_block:
                with contextlib.suppress(Exception):
                    connection.close()  # a fresh connection for the next try

    def forget_given_back(self) -> None:
        """A new pass: what was given back may be claimed again."""
        self.given_back.clear()

    def counted(self) -> dict[str, int]:
        return {status: count for status, count in self.outcomes.items() if count}


def deliver(delivery_id: int) -> str:
    """Send one delivery if it is due and nobody else holds it, part after part from the
    first not yet live; returns its status after ("skipped" when it could not be claimed)."""
    sender = Sender("job", concurrency=1)
    try:
        if not sender.claim(only=[delivery_id]):
            return "skipped"
        sender.drain(limit=PARTS_BUDGET_SECONDS + 30)
        if sender.sending:
            return DeliveryStatus.PENDING
        return Delivery.objects.values_list("status", flat=True).get(pk=delivery_id)
    finally:
        sender.close()


def publish_due(deadline: float | None = None) -> dict[str, int]:
    """The periodic job (every minute, the safety net behind the dispatcher): prepare (make
    due deliveries, expire dead claims, settle), then send what is due until the job's
    time budget is spent (what is left waits for the next pass)."""
    if deadline is None:
        deadline = time.monotonic() + JOB_BUDGET_SECONDS
    sent = prepare_due(timezone.now())
    sender = Sender("job")
    try:
        sender.run_until_idle(deadline)
    finally:
        sender.close()
    sent.update(sender.counted())
    return sent


def publish_publication(publication_id: int) -> dict[str, int]:
    """Kept for the one-off jobs django-q2 may still hold from before the dispatcher (their
    schedules are gone, migration 0014): the minute job's pass, nothing more."""
    return publish_due()
