"""Publishing outcomes: settle a publication from its deliveries; record, retry or continue
a delivery after a person checked the channel; the sweeps that mark late publications
missed and bring unknown deliveries to a person."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from calendar_app import notifications, permissions, tasks
from calendar_app.models import (
    Delivery,
    DeliveryPart,
    DeliveryStatus,
    Publication,
    PublicationEvent,
    PublicationStatus,
)
from calendar_app.models.deliveries import unknown_part_of
from calendar_app.publishing import ManualOnly, NotAPostAddress, Published, SurelyFailed, connector_for, parts
from calendar_app.workflow.core import (
    AddressRefused,
    StaleEdit,
    TransitionNotAllowed,
    action_transaction,
    move,
    record_event,
)
from calendar_app.workflow.crisis import fail_waiting_deliveries, hold_what_active_crises_cover
from diplomacy.models import LanguagePlan, User

logger = logging.getLogger(__name__)


def settle_publication(publication_id: int) -> str:
    """Approved → published once every delivery is delivered, → failed if one failed for good.

    Called by the engine (no actor), any number of times: the move is a compare-and-set
    on `approved`, so only one call settles it (with its history row; a failure is
    reported to the post after commit). Returns the new status, or "" when nothing moved.
    Not durable: the engine's jobs may run inside a transaction (django-q2's scheduler
    runs a synchronous task inside its own).
    """
    with transaction.atomic():
        return _settle(publication_id)


def _settle(publication_id: int) -> str:
    statuses = set(Delivery.objects.filter(publication_id=publication_id).values_list("status", flat=True))
    if statuses == {DeliveryStatus.DELIVERED}:
        action, verb = "publish", "published"
    elif DeliveryStatus.FAILED in statuses:
        action, verb = "fail", "delivery_failed"
    else:
        return ""
    publication = Publication.objects.get(pk=publication_id)
    if publication.status != PublicationStatus.APPROVED:
        return ""  # settled already
    try:
        target = move(None, publication, action, verb=verb)
    except StaleEdit:
        return ""  # another worker settled it first
    if target == PublicationStatus.FAILED:
        # Reported to the post, with the platform's reason.
        errors = Delivery.objects.filter(publication_id=publication_id, status=DeliveryStatus.FAILED)
        notifications.notify(
            "delivery_failed", publication, None, "; ".join(errors.values_list("error", flat=True))
        )
    return target


def record_delivery(actor: User, delivery: Delivery, url: str) -> Delivery:
    """Staff posted it by hand, or checked an unknown outcome: delivered, with its live address.

    Who: the post's staff and central. From: a pending or unknown delivery of an
    approved publication. Its parts not yet live are recorded live with it (a person
    posted them), the address on the first; parts an API posted keep their own ids.
    """
    if not permissions.can_record_delivery(actor, delivery.publication):
        raise PermissionDenied
    with action_transaction():
        return _record_delivery(actor, delivery, url)


def _record_delivery(actor: User, delivery: Delivery, url: str) -> Delivery:
    hold_what_active_crises_cover()
    if Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNKNOWN).exists():
        # An unknown delivery went out (or not) at its time: the person who finds it live
        # records a fact, however long the check took and whatever its publication became
        # meanwhile (failed on another channel, missed, held), except cancelled. Nothing is
        # sent by recording it; the publication settles after as the rules say.
        publications = Publication.objects.exclude(status=PublicationStatus.CANCELLED)
        state = Q(status=DeliveryStatus.UNKNOWN)
    else:
        # Posting by hand is sending: only for a publication that may go out now (a
        # subquery, so that the compare-and-set itself names only the delivery's columns).
        publications = Publication.objects.may_go_out()
        # Not while a worker holds it (claimed_at): it may be posting a part this very moment.
        state = Q(status=DeliveryStatus.UNKNOWN) | Q(status=DeliveryStatus.PENDING, claimed_at__isnull=True)
    sendable = Delivery.objects.filter(pk=delivery.pk, publication__in=publications)
    if not sendable.exists():
        raise _may_not_go_out(delivery)
    updated = (
        Delivery.objects.filter(pk=delivery.pk)
        .filter(state)
        .filter(pk__in=sendable.values("pk"))
        .update(
            status=DeliveryStatus.DELIVERED, url=url, delivered_at=timezone.now(), recorded_by=actor, error=""
        )
    )
    if not updated:
        if Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.PENDING).exists():
            raise TransitionNotAllowed(
                _("This delivery is being sent at this moment: wait for its outcome, then look again.")
            )
        raise TransitionNotAllowed(_("This delivery was already recorded."))
    now = timezone.now()
    # What the person posted, frozen now if the engine never froze it (a manual channel).
    try:
        rows = parts.freeze(delivery)
    except parts.ApprovedAgain:
        # The person posted what they saw: the parts as they stand are recorded.
        rows = list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))
    waiting = [row for row in rows if row.status != DeliveryStatus.DELIVERED]
    for row in waiting:
        DeliveryPart.objects.filter(pk=row.pk).exclude(status=DeliveryStatus.DELIVERED).update(
            status=DeliveryStatus.DELIVERED,
            # The address given is that of the first post the person made.
            url=url if row is waiting[0] else "",
            delivered_at=now,
            claimed_at=None,
            error="",
        )
    first = rows[0] if rows else None
    if first is not None and first.status == DeliveryStatus.DELIVERED and first.url:
        # The thread's first post went out through the API: the delivery keeps its address.
        Delivery.objects.filter(pk=delivery.pk).update(url=first.url, platform_post_id=first.platform_post_id)
    delivery.refresh_from_db()
    record_event(
        delivery.publication,
        actor,
        "delivery_recorded",
        from_status=delivery.publication.status,
        data={"channel": delivery.channel_id, "url": url},
    )
    _settle(delivery.publication_id)
    return delivery


def retry_delivery(actor: User, delivery: Delivery) -> Delivery:
    """After checking the channel: the unknown delivery did not go out; send it again.

    Who: the post's staff and central. From: an unknown delivery (compare-and-set). Only
    its unknown part goes back to pending: the engine resumes there, after the parts
    that are live, and never sends one of those again.
    """
    if not permissions.can_record_delivery(actor, delivery.publication):
        raise PermissionDenied
    if delivery.publication.is_too_late():
        raise TransitionNotAllowed(
            _(
                "Its time is more than %(limit)s past: it is not sent late. If it did not go out, "
                "make a copy at a new time."
            )
            % {"limit": duration_words(settings.MAX_LATENESS)}
        )
    with action_transaction():
        if not Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNKNOWN).update(
            status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=timezone.now(), error=""
        ):
            raise TransitionNotAllowed(_("Only a delivery whose outcome is unknown can be sent again."))
        DeliveryPart.objects.filter(delivery=delivery, status=DeliveryStatus.UNKNOWN).update(
            status=DeliveryStatus.PENDING, claimed_at=None, error=""
        )
        record_event(
            delivery.publication,
            actor,
            "delivery_retried",
            from_status=delivery.publication.status,
            # Names the delivery: the unknown-delivery sweep reports it again if it turns unknown again.
            data={"delivery": delivery.pk, "channel": delivery.channel_id},
        )
        tasks.wake_dispatcher()
    return delivery


def continue_delivery(actor: User, delivery: Delivery, url: str) -> Delivery:
    """After checking the channel: the part whose outcome was unknown did go out, at `url`;
    the engine sends the parts after it.

    Who: the post's staff and central. From: an unknown delivery of a publication that may
    go out now (compare-and-set). The part is recorded live with its address and, in a
    thread, what the next part answers (the platform id, and Bluesky's cid), which the
    channel's connector reads from the address (AddressRefused when it names no post of the
    channel: nothing changes). The delivery goes back to pending and the engine resumes after
    that part, never sending a live one again; after the last part it is delivered and the
    publication settled.
    """
    if not permissions.can_record_delivery(actor, delivery.publication):
        raise PermissionDenied
    checked = _part_to_continue(delivery)
    # Read before the transaction: no database lock is held while a platform is asked.
    published = _published_at(delivery, url)
    with action_transaction():
        tasks.wake_dispatcher()  # on commit: the parts after it go at once
        return _continue_delivery(actor, delivery, checked, published)


def _not_waiting() -> TransitionNotAllowed:
    return TransitionNotAllowed(
        _("This delivery is not waiting for a check (its outcome is not unknown): nothing was changed.")
    )


def _part_to_continue(delivery: Delivery) -> DeliveryPart:
    if not Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNKNOWN).exists():
        raise _not_waiting()
    part = unknown_part_of(list(DeliveryPart.objects.filter(delivery_id=delivery.pk)))
    if part is None:
        raise TransitionNotAllowed(
            _("Nothing of this delivery was prepared to go out yet: record it by hand or send it again.")
        )
    return part


def _published_at(delivery: Delivery, url: str) -> Published:
    """The post at `url` as the next part of a thread answers it; outside a thread (nothing
    answers it), the address alone."""
    plan = Delivery.objects.values_list("plan", flat=True).get(pk=delivery.pk)
    if plan != LanguagePlan.THREAD:
        return Published(post_id="", url=url)
    try:
        return connector_for(delivery.channel.connector).reference_from_url(delivery.channel, url)
    except ManualOnly:
        return Published(post_id="", url=url)  # a person posts the rest too
    except NotAPostAddress as exc:
        raise AddressRefused(str(exc)) from exc
    except SurelyFailed as exc:
        raise AddressRefused(
            _("The post at this address could not be looked up: %(error)s Nothing was changed.")
            % {"error": exc}
        ) from exc


def _may_not_go_out(delivery: Delivery) -> TransitionNotAllowed:
    if Publication.objects.get(pk=delivery.publication_id).is_too_late():
        return TransitionNotAllowed(
            _(
                "Its time is more than %(limit)s past: it is not posted late. "
                "Give the publication a new time, or cancel it."
            )
            % {"limit": duration_words(settings.MAX_LATENESS)}
        )
    return TransitionNotAllowed(
        _("This publication may not go out now (not approved, not yet due, or held by a crisis).")
    )


def _continue_delivery(
    actor: User, delivery: Delivery, checked: DeliveryPart, published: Published
) -> Delivery:
    hold_what_active_crises_cover()
    # The parts after the one found live would be sent now: never late.
    sendable = Delivery.objects.filter(pk=delivery.pk, publication__in=Publication.objects.may_go_out())
    if not sendable.exists():
        raise _may_not_go_out(delivery)
    rows = list(DeliveryPart.objects.filter(delivery_id=delivery.pk).order_by("number"))
    part = unknown_part_of(rows)
    if part is None or part.pk != checked.pk:
        raise _not_waiting()  # it moved on since the address was read
    now = timezone.now()
    last = part.number == rows[-1].number
    changes: dict[str, object] = (
        {"status": DeliveryStatus.DELIVERED, "delivered_at": now, "recorded_by": actor}
        if last
        else {"status": DeliveryStatus.PENDING, "next_attempt_at": now}
    )
    changes.update(claimed_at=None, error="")
    if part.number == 1:  # the delivery carries its first post's id and address
        changes.update(platform_post_id=published.post_id[:200], url=published.url[:500])
    # Compare-and-set on `unknown`: two people checking the channel at once, or one sending
    # it again while the other records it, cannot both act on it.
    if (
        not Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNKNOWN)
        .filter(pk__in=sendable.values("pk"))
        .update(**changes)
    ):
        raise _not_waiting()
    DeliveryPart.objects.filter(pk=part.pk).update(
        status=DeliveryStatus.DELIVERED,
        platform_post_id=published.post_id[:200],
        platform_ref=published.ref[:200],
        url=published.url[:500],
        delivered_at=now,
        claimed_at=None,
        error="",
    )
    delivery.refresh_from_db()
    record_event(
        delivery.publication,
        actor,
        "delivery_continued",
        from_status=delivery.publication.status,
        data={
            "delivery": delivery.pk,
            "channel": delivery.channel_id,
            "part": part.number,
            "url": published.url,
        },
    )
    if last:
        _settle(delivery.publication_id)
    return delivery


# --- Never late: the sweeps the publishing job runs first ------------------------------------


def duration_words(delta: timedelta) -> str:
    """A lateness as a person says it: "16 min", "2 h 10 min", "4 days 3 h"."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return ngettext("%(days)s day %(hours)s h", "%(days)s days %(hours)s h", days) % {
            "days": days,
            "hours": hours,
        }
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


def lateness_reason(publication: Publication, deliveries: list[Delivery], now: datetime) -> str:
    """Why a publication did not go out, in words its post understands (the history, the
    notification and the failed deliveries carry it)."""
    waiting = [d for d in deliveries if d.status == DeliveryStatus.PENDING and d.claimed_at is None]
    causes: list[str] = []
    by_hand = [str(d.channel) for d in waiting if d.channel.connector == "manual"]
    refused = [d for d in waiting if d.channel.connector != "manual" and d.attempts]
    unsent = [d for d in waiting if d.channel.connector != "manual" and not d.attempts]
    if not deliveries:
        causes.append(_("the publishing service was not running at its time"))
    if by_hand:
        causes.append(
            _("nobody recorded it as posted by hand on %(channels)s") % {"channels": ", ".join(by_hand)}
        )
    if refused:
        causes.append(
            _("the platform refused it until then (%(error)s)")
            % {"error": "; ".join(d.error or d.platform_said or "?" for d in refused)[:300]}
        )
    if unsent:
        causes.append(_("the publishing service did not send it in time"))
    return _("Not sent: %(late)s past its time (nothing goes out more than %(limit)s late); %(causes)s.") % {
        "late": duration_words(now - publication.scheduled_at),
        "limit": duration_words(settings.MAX_LATENESS),
        "causes": "; ".join(causes) or _("it was not sent in time"),
    }


def miss_late_publications(now: datetime | None = None) -> int:
    """Approved publications more than MAX_LATENESS past their time and not delivered → missed.

    Called by the publishing job before it sends anything (no actor, any number of times).
    A publication nothing of which went out (no delivery or part delivered, none unknown,
    none claimed by a worker) moves to `missed` by a compare-and-set on `approved`, with a
    history row giving the reason in plain words; its pending unclaimed deliveries fail with
    that reason, and its post's staff and central are notified after commit.

    Some channels delivered (or possibly delivered: unknown, claimed) and others late: the
    publication is not "missed" (it is on some channels, and cannot be given one new time
    for the rest). Its late deliveries fail with the reason and it settles as the existing
    rules say (`settle_publication`: failed, reported to the post); unknown and claimed
    deliveries are left alone, they may be live or in flight. Held publications are left to
    their crisis (ending it marks them missed). Returns how many became missed.

    Each publication is decided on its row as it is now, locked (PostgreSQL) before its
    deliveries are read, and moved by a compare-and-set on its revision, its time still too
    late and no hold: a reschedule or a crisis hold committed since the list was read wins,
    and a dispatcher's claim either committed before the lock (then it counts as in flight)
    or re-checks the publication after this decision (engine.Sender.start) and gives the
    claim back. The publications it would only look at and leave (one unknown, claimed or
    delivered delivery and none waiting to fail) are left out in SQL: the dispatcher runs
    this every second. One publication that fails is logged; the others go on.
    """
    now = now or timezone.now()
    missed = 0
    for publication_id in late_to_examine(now).values_list("pk", flat=True):
        try:
            # One short transaction each (not durable: the engine may run inside one).
            with transaction.atomic():
                missed += _miss_or_settle(publication_id, now)
        except Exception:
            # One row's trouble must stop neither the other rows nor the sending after the sweep.
            logger.exception("Could not mark late publication %s missed", publication_id)
    return missed


def late_to_examine(now: datetime) -> QuerySet[Publication]:
    """The too-late publications the lateness sweep may change: nothing of them out or in
    flight (they become missed), or a delivery still waiting (it fails)."""
    deliveries = Delivery.objects.filter(publication_id=OuterRef("pk"))
    live_part = DeliveryPart.objects.filter(
        delivery__publication_id=OuterRef("pk"), status=DeliveryStatus.DELIVERED
    )
    out_or_in_flight = Q(
        Exists(
            deliveries.filter(
                Q(status__in=[DeliveryStatus.DELIVERED, DeliveryStatus.UNKNOWN])
                | Q(status=DeliveryStatus.PENDING, claimed_at__isnull=False)
            )
        )
    ) | Q(Exists(live_part))
    waiting = Q(Exists(deliveries.filter(status=DeliveryStatus.PENDING, claimed_at__isnull=True)))
    late = Publication.objects.too_late(now).filter(~out_or_in_flight | waiting)
    return late.order_by("scheduled_at", "pk")


def _miss_or_settle(publication_id: int, now: datetime) -> int:
    limit = now - settings.MAX_LATENESS
    # The row as it is now, locked on PostgreSQL until this decision commits: a dispatcher
    # re-checking its claim (FOR SHARE) waits for it, and the deliveries read below include
    # every claim committed before. SQLite's IMMEDIATE transaction serialises the writers.
    publication = Publication.objects.select_for_update().filter(pk=publication_id).first()
    if (
        publication is None
        or publication.status != PublicationStatus.APPROVED
        or publication.held_by_id is not None
        or publication.scheduled_at >= limit
    ):
        return 0  # rescheduled, held, cancelled or settled since the list was read
    deliveries = list(Delivery.objects.filter(publication_id=publication_id).select_related("channel"))
    reason = lateness_reason(publication, deliveries, now)
    out_or_in_flight = (
        any(
            d.status in (DeliveryStatus.DELIVERED, DeliveryStatus.UNKNOWN)
            or (d.status == DeliveryStatus.PENDING and d.claimed_at is not None)
            for d in deliveries
        )
        or DeliveryPart.objects.filter(
            delivery__publication_id=publication_id, status=DeliveryStatus.DELIVERED
        ).exists()
    )
    if out_or_in_flight:
        if fail_waiting_deliveries([publication_id], reason):
            record_event(
                publication, None, "delivery_failed_late", from_status=publication.status, comment=reason
            )
            _settle(publication_id)
        return 0
    late_minutes = int((now - publication.scheduled_at).total_seconds() // 60)
    try:
        # On the revision, the time and the hold read above as well as the status: what
        # committed in between (SQLite's other connections, a missing lock) is never overwritten.
        move(
            None,
            publication,
            "miss",
            expected_revision=publication.revision,
            expected=Q(scheduled_at__lt=limit, held_by__isnull=True),
            verb="missed_late",
            comment=reason,
            data={"late_minutes": late_minutes},
        )
    except (StaleEdit, TransitionNotAllowed):
        return 0  # someone moved it meanwhile (cancelled, edited, held)
    fail_waiting_deliveries([publication_id], reason)
    notifications.notify("missed", publication, None, reason)
    return 1


def unknown_delivery_words(delivery: Delivery) -> str:
    """What is known of a delivery whose outcome is unknown, in plain words: whether the
    request reached the platform, and what the platform last said."""
    sent = {
        True: _("The whole request reached the platform: the post is probably live."),
        False: _("The request did not fully leave: the post is probably not live."),
        None: _("Nobody knows whether the request reached the platform."),
    }[delivery.request_sent]
    if delivery.platform_said:
        return _("%(sent)s The platform last said: %(said)s") % {"sent": sent, "said": delivery.platform_said}
    return _("%(sent)s The platform said nothing.") % {"sent": sent}


def report_unknown_deliveries() -> int:
    """Each delivery that became unknown is brought to a person, once.

    Called by the publishing job before it sends anything (no actor, any number of times).
    Writes a "delivery_unknown" history row on its publication (naming the delivery: the
    memory of what was reported) and notifies the post's staff and the on-call reviewers
    after commit. A delivery sent again or continued after a check, that turns unknown once
    more, is reported again. Returns how many were reported.
    """
    reported = 0
    # The dispatcher runs this every second: one query finds the unknown deliveries whose
    # last word in the history is not already "delivery_unknown", so a pass with nothing
    # new to report costs that one query, however many unknown deliveries wait for a person.
    last_word = (
        PublicationEvent.objects.filter(
            publication_id=OuterRef("publication_id"),
            verb__in=["delivery_unknown", "delivery_retried", "delivery_continued"],
        )
        # The delivery named in the event, as a number: PostgreSQL compares no jsonb with a bigint.
        .annotate(about=Cast(KeyTextTransform("delivery", "data"), BigIntegerField()))
        .filter(about=OuterRef("pk"))
        .order_by("-pk")
        .values("verb")[:1]
    )
    unknown = (
        Delivery.objects.filter(status=DeliveryStatus.UNKNOWN)
        .annotate(last_word=Subquery(last_word))
        .filter(Q(last_word__isnull=True) | ~Q(last_word="delivery_unknown"))
        .select_related("publication__post", "channel")
    )
    for delivery in unknown.order_by("pk"):
        try:
            with transaction.atomic():
                reported += _report_unknown(delivery)
        except Exception:
            # One row's trouble must stop neither the other rows nor the sending after the sweep.
            logger.exception("Could not report unknown delivery %s", delivery.pk)
    return reported


def _report_unknown(delivery: Delivery) -> int:
    """Report one unknown delivery unless reported already; returns 1 when it was."""
    # On PostgreSQL the row lock makes two sweeps at once report it once; SQLite's
    # write transactions are serial already.
    locked = Delivery.objects.select_for_update().filter(pk=delivery.pk, status=DeliveryStatus.UNKNOWN)
    if not list(locked.values_list("pk", flat=True)):
        return 0
    last = (
        PublicationEvent.objects.filter(
            publication_id=delivery.publication_id,
            verb__in=["delivery_unknown", "delivery_retried", "delivery_continued"],
            data__delivery=delivery.pk,
        )
        .order_by("-pk")
        .values_list("verb", flat=True)
        .first()
    )
    if last == "delivery_unknown":
        return 0  # reported already, and nobody acted on it since
    words = _("%(channel)s: %(facts)s") % {
        "channel": delivery.channel,
        "facts": unknown_delivery_words(delivery),
    }
    publication = delivery.publication
    record_event(
        publication,
        None,
        "delivery_unknown",
        from_status=publication.status,
        comment=words,
        data={"delivery": delivery.pk, "channel": delivery.channel_id},
    )
    notifications.notify("delivery_unknown", publication, None, words)
    return 1
