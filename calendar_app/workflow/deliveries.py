"""Publishing outcomes: settle a publication from its deliveries, record or retry a delivery."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import notifications, permissions
from calendar_app.models import Delivery, DeliveryPart, DeliveryStatus, Publication, PublicationStatus
from calendar_app.publishing import parts
from calendar_app.workflow.core import StaleEdit, TransitionNotAllowed, action_transaction, move, record_event
from calendar_app.workflow.crisis import hold_what_active_crises_cover
from diplomacy.models import User


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
    updated = (
        Delivery.objects.filter(pk=delivery.pk, status__in=[DeliveryStatus.PENDING, DeliveryStatus.UNKNOWN])
        .filter(pk__in=sendable.values("pk"))
        .update(
            status=DeliveryStatus.DELIVERED, url=url, delivered_at=timezone.now(), recorded_by=actor, error=""
        )
    )
    if not updated:
        raise TransitionNotAllowed(_("This delivery was already recorded."))
    now = timezone.now()
    # What the person posted, frozen now if the engine never froze it (a manual channel).
    rows = parts.freeze(delivery)
    waiting = [row for row in rows if row.status != DeliveryStatus.DELIVERED]
    for row in waiting:
        DeliveryPart.objects.filter(pk=row.pk).exclude(status=DeliveryStatus.DELIVERED).update(
            status=DeliveryStatus.DELIVERED,
            url=url if row.number == 1 else "",
            delivered_at=now,
            claimed_at=None,
            error="",
        )
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
    return delivery
