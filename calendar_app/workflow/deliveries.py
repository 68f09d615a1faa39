"""Publishing outcomes: settle a publication from its deliveries, record or retry a delivery."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import notifications, permissions
from calendar_app.models import Delivery, DeliveryStatus, Publication, PublicationStatus
from calendar_app.workflow.core import TransitionNotAllowed, record_event
from calendar_app.workflow.crisis import hold_what_active_crises_cover
from diplomacy.models import User


def settle_publication(publication_id: int) -> str:
    """Approved → published once every delivery is delivered, → failed if one failed for good.

    Called by the engine (no actor); compare-and-set on `approved`, with a history row.
    """
    statuses = set(Delivery.objects.filter(publication_id=publication_id).values_list("status", flat=True))
    if not statuses:
        return ""
    if statuses == {DeliveryStatus.DELIVERED}:
        target, verb = PublicationStatus.PUBLISHED, "published"
    elif DeliveryStatus.FAILED in statuses:
        target, verb = PublicationStatus.FAILED, "delivery_failed"
    else:
        return ""
    with transaction.atomic():
        if not Publication.objects.filter(pk=publication_id, status=PublicationStatus.APPROVED).update(
            status=target, updated_at=timezone.now()
        ):
            return ""
        publication = Publication.objects.get(pk=publication_id)
        record_event(publication, None, verb, from_status=PublicationStatus.APPROVED, to_status=target)
        if target == PublicationStatus.FAILED:
            # Reported to the post, with the platform's reason.
            errors = Delivery.objects.filter(publication_id=publication_id, status=DeliveryStatus.FAILED)
            notifications.notify(
                "delivery_failed", publication, None, "; ".join(errors.values_list("error", flat=True))
            )
    return target


def record_delivery(actor: User, delivery, url: str):
    """Staff posted it by hand, or checked an unknown outcome: delivered, with its live address.

    Who: the post's staff and central. From: a pending or unknown delivery of an
    approved publication.
    """

    if not permissions.can_record_delivery(actor, delivery.publication):
        raise PermissionDenied
    with transaction.atomic():
        return _record_delivery(actor, delivery, url)


def _record_delivery(actor: User, delivery, url: str):
    hold_what_active_crises_cover()
    # Only for a publication that may go out now: approved, neither held nor missed (a
    # subquery, so that the compare-and-set itself names only the delivery's columns).
    sendable = Delivery.objects.filter(
        pk=delivery.pk,
        publication__status=PublicationStatus.APPROVED,
        publication__held_by__isnull=True,
        publication__missed_in__isnull=True,
    )
    if not sendable.exists():
        raise TransitionNotAllowed(
            _("This publication may not go out now (held by a crisis, or not approved).")
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
    delivery.refresh_from_db()
    record_event(
        delivery.publication,
        actor,
        "delivery_recorded",
        from_status=delivery.publication.status,
        data={"channel": delivery.channel_id, "url": url},
    )
    settle_publication(delivery.publication_id)
    return delivery


def retry_delivery(actor: User, delivery):
    """After checking the channel: the unknown delivery did not go out; send it again."""
    if not permissions.can_record_delivery(actor, delivery.publication):
        raise PermissionDenied
    if not Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNKNOWN).update(
        status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=timezone.now(), error=""
    ):
        raise TransitionNotAllowed(_("Only a delivery whose outcome is unknown can be sent again."))
    record_event(delivery.publication, actor, "delivery_retried", from_status=delivery.publication.status)
    return delivery
