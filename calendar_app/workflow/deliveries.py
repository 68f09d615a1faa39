"""Publishing outcomes: settle a publication from its deliveries; record, retry or continue
a delivery after a person checked the channel."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import notifications, permissions, tasks
from calendar_app.models import Delivery, DeliveryPart, DeliveryStatus, Publication, PublicationStatus
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
from calendar_app.workflow.crisis import hold_what_active_crises_cover
from diplomacy.models import LanguagePlan, User


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
    # Only for a publication that may go out now (a subquery, so that the compare-and-set
    # itself names only the delivery's columns).
    sendable = Delivery.objects.filter(pk=delivery.pk, publication__in=Publication.objects.may_go_out())
    if not sendable.exists():
        raise TransitionNotAllowed(
            _("This publication may not go out now (not approved, not yet due, or held by a crisis).")
        )
    # Not while a worker holds it (claimed_at): it may be posting a part this very moment.
    updated = (
        Delivery.objects.filter(pk=delivery.pk)
        .filter(Q(status=DeliveryStatus.UNKNOWN) | Q(status=DeliveryStatus.PENDING, claimed_at__isnull=True))
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
    with action_transaction():
        if not Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNKNOWN).update(
            status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=timezone.now(), error=""
        ):
            raise TransitionNotAllowed(_("Only a delivery whose outcome is unknown can be sent again."))
        DeliveryPart.objects.filter(delivery=delivery, status=DeliveryStatus.UNKNOWN).update(
            status=DeliveryStatus.PENDING, claimed_at=None, error=""
        )
        record_event(delivery.publication, actor, "delivery_retried", from_status=delivery.publication.status)
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


def _continue_delivery(
    actor: User, delivery: Delivery, checked: DeliveryPart, published: Published
) -> Delivery:
    hold_what_active_crises_cover()
    sendable = Delivery.objects.filter(pk=delivery.pk, publication__in=Publication.objects.may_go_out())
    if not sendable.exists():
        raise TransitionNotAllowed(
            _("This publication may not go out now (not approved, not yet due, or held by a crisis).")
        )
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
        data={"channel": delivery.channel_id, "part": part.number, "url": published.url},
    )
    if last:
        _settle(delivery.publication_id)
    return delivery
