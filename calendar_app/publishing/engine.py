"""The publishing engine: due approved publications go out, channel by channel.

Every delivery is claimed with a compare-and-set before its connector is called,
so two workers (or a task django-q2 runs twice) never send it twice. What is sent
is the approved revision's text, not whatever the row holds now.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import (
    Delivery,
    DeliveryStatus,
    Publication,
    PublicationRevision,
    PublicationStatus,
    ReviewDecision,
)
from calendar_app.publishing import ManualOnly, OutcomeUnknown, Published, SurelyFailed, connector_for
from diplomacy import freshness

#: Tries of a delivery that surely failed before it is marked failed.
MAX_ATTEMPTS = 5
#: A claim older than this belongs to a worker that died before the platform answered:
#: the outcome is unknown, never retried blindly.
CLAIM_EXPIRY = timedelta(minutes=10)
#: A job starts no delivery after this many seconds: with a connector's own time-out
#: (10 s) it ends well inside django-q2's task timeout (60 s), so the cluster never kills
#: it mid-delivery (that would leave `unknown` deliveries for people to check).
JOB_BUDGET_SECONDS = 30
#: Deliveries one job sends at once on PostgreSQL (see `send`).
SEND_THREADS = 8


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
    """{language: text} of the approved revision, as the platform should receive it."""
    review = (
        publication.reviews.filter(decision=ReviewDecision.APPROVE)
        .select_related("revision")
        .order_by("-created_at")
        .first()
    )
    revision: PublicationRevision | None
    if review is not None:
        revision = review.revision
    else:
        # A break-glass advisory goes out on the revision its post manager confirmed.
        event = publication.events.filter(verb="break_glass").order_by("-pk").first()
        if event is None:
            return {}
        revision = publication.revisions.filter(number=event.data.get("revision")).first()
        if revision is None:
            return {}
    texts = {}
    for language, (text, platform_texts) in revision.content.get("variants", {}).items():
        texts[language] = (platform_texts or {}).get(platform) or text
    return texts


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
    """Claims left by a dead worker: the platform may have posted, so a person checks."""
    now = now or timezone.now()
    return Delivery.objects.filter(status=DeliveryStatus.PENDING, claimed_at__lt=now - CLAIM_EXPIRY).update(
        status=DeliveryStatus.UNKNOWN,
        error="The worker stopped while sending: check the channel, then record it or send it again.",
    )


def deliver(delivery_id: int) -> str:
    """Send one delivery if it is due and nobody else holds it; returns its status after."""
    now = timezone.now()
    # Conditions on other tables (the publication, the channel) go in a subquery, and the
    # compare-and-set names only the delivery's own columns. A filter across a relation
    # makes Django write `UPDATE ... WHERE id IN (SELECT ... all conditions ...)`, which
    # PostgreSQL does not re-check after waiting for another worker's row lock: both
    # workers would claim the delivery and post it twice (tests/test_worker_crash.py).
    sendable = (
        Delivery.objects.filter(pk=delivery_id)
        # A delivery made before a crisis was declared waits while its publication is held;
        # one of a publication cancelled, withdrawn or sent back to review waits for good.
        .filter(publication__in=Publication.objects.may_go_out(now))
        .exclude(channel__connector="manual")
    )
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, claimed_at__isnull=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(pk__in=sendable.values("pk"))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related("publication__post", "channel").get(pk=delivery_id)
    texts = approved_texts(delivery.publication, delivery.channel.platform)
    try:
        result = connector_for(delivery.channel.connector).publish(delivery, texts)
    except ManualOnly:
        Delivery.objects.filter(pk=delivery_id).update(claimed_at=None, attempts=F("attempts") - 1)
        return DeliveryStatus.PENDING
    except OutcomeUnknown as exc:
        Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.UNKNOWN, error=str(exc)[:2000])
        return DeliveryStatus.UNKNOWN
    except SurelyFailed as exc:
        if delivery.attempts >= MAX_ATTEMPTS:
            Delivery.objects.filter(pk=delivery_id).update(
                status=DeliveryStatus.FAILED, claimed_at=None, error=str(exc)[:2000]
            )
            workflow.settle_publication(delivery.publication_id)
            return DeliveryStatus.FAILED
        Delivery.objects.filter(pk=delivery_id).update(
            claimed_at=None, next_attempt_at=next_attempt(exc, now, delivery.attempts), error=str(exc)[:2000]
        )
        return DeliveryStatus.PENDING
    store_published(delivery_id, result)
    workflow.settle_publication(delivery.publication_id)
    return DeliveryStatus.DELIVERED


def store_published(delivery_id: int, result: Published) -> None:
    """The platform's id is stored the moment it answers. A worker that dies before this
    leaves the claim, which expires into `unknown`: a person checks, nothing is resent."""
    Delivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.DELIVERED,
        platform_post_id=result.post_id,
        url=result.url,
        delivered_at=timezone.now(),
        error="",
    )


def settle_finished() -> int:
    """Settle approved publications whose deliveries are all done (a worker that died between
    storing the last answer and settling left them approved); returns how many moved."""
    deliveries = Delivery.objects.filter(publication=OuterRef("pk"))
    finished = Publication.objects.filter(status=PublicationStatus.APPROVED).filter(
        Exists(deliveries.filter(status=DeliveryStatus.FAILED))
        | (Exists(deliveries) & ~Exists(deliveries.exclude(status=DeliveryStatus.DELIVERED)))
    )
    settled = [workflow.settle_publication(pk) for pk in finished.values_list("pk", flat=True)]
    return sum(1 for target in settled if target)


def send(delivery_ids: list[int], deadline: float) -> dict[str, int]:
    """Deliver each (through the claim), starting none after `deadline` (time.monotonic());
    returns the outcomes counted.

    On PostgreSQL, SEND_THREADS at once, each thread on its own connection: the time goes
    in waiting for platforms. One by one on SQLite (it serialises writers anyway) and inside
    a transaction (a test, a caller's atomic block), whose rows other connections cannot see.
    """
    outcomes: Counter[str] = Counter()
    threads = min(SEND_THREADS, len(delivery_ids))
    if threads <= 1 or connection.vendor != "postgresql" or connection.in_atomic_block:
        for delivery_id in delivery_ids:
            if time.monotonic() >= deadline:
                break
            outcomes[deliver(delivery_id)] += 1
        return dict(outcomes)
    waiting = iter(delivery_ids)
    lock = threading.Lock()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            while time.monotonic() < deadline and not failures:
                with lock:
                    delivery_id = next(waiting, None)
                if delivery_id is None:
                    return
                outcome = deliver(delivery_id)
                with lock:
                    outcomes[outcome] += 1
        except BaseException as exc:  # re-raised below, in the job's own thread
            failures.append(exc)
        finally:
            freshness.close_connections()  # this thread's connections only

    pool = [threading.Thread(target=work, name=f"deliver-{n}") for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()  # each delivery ends within its connector's own time-out
    if failures:
        raise failures[0]
    return dict(outcomes)


def publish_due(deadline: float | None = None) -> dict[str, int]:
    """The periodic job (every minute, the safety net): make due deliveries, expire dead
    claims, settle finished publications, send what is due until the job's time budget is
    spent (what is left waits for the next run)."""
    if deadline is None:
        deadline = time.monotonic() + JOB_BUDGET_SECONDS
    now = timezone.now()
    workflow.hold_what_active_crises_cover()
    made = create_due_deliveries(now)
    expired = expire_stale_claims(now)
    sent: dict[str, int] = {"created": made, "expired_claims": expired, "settled": settle_finished()}
    due = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING, claimed_at__isnull=True)
        .filter(publication__in=Publication.objects.may_go_out(now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(channel__connector="manual")
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)
    )
    sent.update(send(list(due), deadline))
    return sent


def publish_publication(publication_id: int) -> dict[str, int]:
    """The one-off job at a publication's exact time (tasks.schedule_publication).

    Makes its deliveries if it is still approved, due and not held, then sends each
    through the same claim as `publish_due`: run twice, or racing the minute job, it
    sends nothing twice. Then it helps with whatever else is due, as the minute job
    would (`helped`: how many of those it sent). Returns the outcomes counted.
    """
    deadline = time.monotonic() + JOB_BUDGET_SECONDS
    workflow.hold_what_active_crises_cover()
    sent: dict[str, int] = {"created": create_due_deliveries(publication_id=publication_id)}
    own = list(
        Delivery.objects.filter(publication_id=publication_id, status=DeliveryStatus.PENDING)
        .filter(claimed_at__isnull=True)
        .exclude(channel__connector="manual")
        .values_list("pk", flat=True)
    )
    sent.update(send(own, deadline))
    # Then the minute job's pass, in what is left of the budget. Publications due at the
    # same instant each have a job, and a worker runs one job at a time: the first jobs
    # send everything that is due, the later ones find it sent. Without this, 1,000
    # publications due at once wait behind 1,000 jobs (bench/lateness.py).
    helped = publish_due(deadline)
    sent["helped"] = sum(helped.get(status, 0) for status in DeliveryStatus.values)
    return sent


