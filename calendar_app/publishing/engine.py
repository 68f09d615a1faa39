"""The publishing engine: due approved publications go out, channel by channel.

Every delivery is claimed with a compare-and-set before its connector is called,
so two workers (or a task django-q2 runs twice) never send it twice. What is sent
is the approved revision's text, not whatever the row holds now, as the channel's
language plan makes it into parts (calendar_app.sending, frozen at the first claim by
calendar_app.publishing.parts): one platform post, a thread, or separate posts.

Each part is claimed in its turn and its platform id stored the moment the platform
answers, before the next part goes. A part that surely failed stops the delivery
there (tried again later, from that part); a part whose outcome is unknown makes the
delivery unknown for a person to check. A delivered part is never sent again.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import workflow
from calendar_app.models import (
    Delivery,
    DeliveryPart,
    DeliveryStatus,
    Publication,
    PublicationStatus,
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
#: A delivery starts no further part this many seconds after it began sending: a thread
#: whose platform is slow stops between two parts (nothing half-sent) and goes on from
#: there in the next run, rather than running into django-q2's task timeout (300 s),
#: which would kill it mid-part and leave a person to check the channel.
PARTS_BUDGET_SECONDS = 60


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
    """Claims left by a dead worker: the platform may have posted, so a person checks.

    The part the worker was sending (claimed, no platform id) becomes unknown with its
    delivery; the delivery's error says which parts are live.
    """
    now = now or timezone.now()
    stale = Delivery.objects.filter(status=DeliveryStatus.PENDING, claimed_at__lt=now - CLAIM_EXPIRY)
    expired = 0
    for delivery_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            # Compare-and-set on the delivery first: a worker that was only slow and has
            # just finished keeps its outcome.
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
            error = _("The worker stopped while sending: check the channel, then record it or send it again.")
            if hanging is not None:
                error = progress(rows, hanging.number, error, unknown=True)
            if not stale.filter(pk=delivery_id).update(status=DeliveryStatus.UNKNOWN, error=error):
                continue
            if hanging is not None:
                DeliveryPart.objects.filter(pk=hanging.pk, status=DeliveryStatus.PENDING).update(
                    status=DeliveryStatus.UNKNOWN, error=error
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


def deliver(delivery_id: int) -> str:
    """Send one delivery if it is due and nobody else holds it, part after part from the
    first not yet live; returns its status after."""
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
    delivery = Delivery.objects.select_related("publication__post", "channel__post").get(pk=delivery_id)
    try:
        rows = parts.freeze(delivery)
    except parts.ApprovedAgain as exc:
        # Part of the old revision is live: nothing more is sent until a person looked.
        Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.UNKNOWN, error=str(exc)[:2000])
        return DeliveryStatus.UNKNOWN
    if not rows:
        nothing = SurelyFailed(_("There is no approved text in this channel's languages: nothing was sent."))
        return surely_failed(delivery, now, nothing, rows, None)
    return send_parts(delivery, connector_for(delivery.channel.connector), rows, now)


def send_parts(
    delivery: Delivery, connector: Connector, rows: list[DeliveryPart], claimed_at: datetime
) -> str:
    """Send the claimed delivery's parts in order, from the first not yet live."""
    platform = delivery.channel.platform
    chained = delivery.plan == LanguagePlan.THREAD
    thread: Thread | None = None
    first: Published | None = None
    sent_last = False
    began = time.monotonic()
    sent_now = 0
    for row in rows:
        if row.status != DeliveryStatus.DELIVERED:
            break
        first, thread = _extend(first, thread, published_of(row))
    for row in rows:
        if row.status == DeliveryStatus.DELIVERED:
            continue
        if sent_now and time.monotonic() - began > PARTS_BUDGET_SECONDS:
            # Between two parts: the claim is given back (not counted as a try) and the
            # next run goes on from this part.
            Delivery.objects.filter(pk=delivery.pk).update(
                claimed_at=None, attempts=F("attempts") - 1, next_attempt_at=timezone.now()
            )
            return DeliveryStatus.PENDING
        if row.status == DeliveryStatus.UNKNOWN or not _claim_part(row):
            # A part that may be live is never sent again blindly: a person checks.
            error = row.error or _("A part may have gone out already: check the channel.")
            return outcome_unknown(delivery, rows, row, OutcomeUnknown(error))
        try:
            result = connector.publish(
                delivery, parts.outgoing(row, platform, len(rows)), thread if chained else None
            )
        except ManualOnly:
            DeliveryPart.objects.filter(pk=row.pk).update(claimed_at=None)
            Delivery.objects.filter(pk=delivery.pk).update(claimed_at=None, attempts=F("attempts") - 1)
            return DeliveryStatus.PENDING
        except OutcomeUnknown as exc:
            return outcome_unknown(delivery, rows, row, exc)
        except SurelyFailed as exc:
            return surely_failed(delivery, claimed_at, exc, rows, row)
        store_published(row, result, last=row.number == rows[-1].number)
        row.status = DeliveryStatus.DELIVERED
        sent_now += 1
        first, thread = _extend(first, thread, result)
        sent_last = row.number == rows[-1].number
    if not sent_last:
        # Every part was live before this claim (a person recorded the last one, or it
        # was stored before its delivery's row): the delivery is delivered all the same.
        _mark_delivered(delivery.pk, first)
    workflow.settle_publication(delivery.publication_id)
    return DeliveryStatus.DELIVERED


def _extend(first: Published | None, thread: Thread | None, published: Published) -> tuple[Published, Thread]:
    """The thread after one more live part."""
    root = first or published
    return root, Thread(root=root, parent=published)


def published_of(row: DeliveryPart) -> Published:
    return Published(post_id=row.platform_post_id, url=row.url, ref=row.platform_ref)


def _claim_part(row: DeliveryPart) -> bool:
    """Compare-and-set on the part before its platform call; False when it is claimed
    already (a worker died while sending it: its outcome is unknown)."""
    claimed = DeliveryPart.objects.filter(
        pk=row.pk,
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED],
        claimed_at__isnull=True,
    ).update(claimed_at=timezone.now(), status=DeliveryStatus.PENDING)
    return bool(claimed)


def outcome_unknown(
    delivery: Delivery, rows: list[DeliveryPart], row: DeliveryPart, exc: OutcomeUnknown
) -> str:
    """The part may be live: it and its delivery wait for a person, never retried blindly."""
    error = progress(rows, row.number, str(exc), unknown=True)[:2000]
    with transaction.atomic():
        DeliveryPart.objects.filter(pk=row.pk).update(status=DeliveryStatus.UNKNOWN, error=str(exc)[:2000])
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.UNKNOWN, error=error)
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
    final = delivery.attempts >= MAX_ATTEMPTS
    with transaction.atomic():
        if row is not None:
            DeliveryPart.objects.filter(pk=row.pk).update(
                claimed_at=None,
                status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
                error=str(exc)[:2000],
            )
        if final:
            Delivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.FAILED, claimed_at=None, error=error
            )
        else:
            Delivery.objects.filter(pk=delivery.pk).update(
                claimed_at=None, next_attempt_at=next_attempt(exc, claimed_at, delivery.attempts), error=error
            )
    if final:
        workflow.settle_publication(delivery.publication_id)
        return DeliveryStatus.FAILED
    return DeliveryStatus.PENDING


def store_published(row: DeliveryPart, result: Published, *, last: bool) -> None:
    """The platform's id is stored the moment it answers, before the next part is sent. A
    worker that dies before this leaves the part's claim, which expires into `unknown`: a
    person checks, nothing is resent. The delivery takes part 1's id and address, and is
    delivered with its last part."""
    now = timezone.now()
    with transaction.atomic():
        DeliveryPart.objects.filter(pk=row.pk).update(
            status=DeliveryStatus.DELIVERED,
            platform_post_id=result.post_id[:200],
            platform_ref=result.ref[:200],
            url=result.url[:500],
            delivered_at=now,
            error="",
        )
        changes: dict[str, object] = {}
        if row.number == 1:
            changes.update(platform_post_id=result.post_id[:200], url=result.url[:500])
        if last:
            changes.update(status=DeliveryStatus.DELIVERED, delivered_at=now, error="")
        if changes:
            Delivery.objects.filter(pk=row.delivery_id).update(**changes)


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
    workflow.miss_late_publications(now)
    workflow.report_unknown_deliveries()
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
