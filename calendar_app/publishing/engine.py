"""The publishing engine: due approved publications go out, channel by channel.

Every delivery is claimed with a compare-and-set before its connector is called,
so two workers (or a task django-q2 runs twice) never send it twice. What is sent
is the approved revision's text, not whatever the row holds now.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Delivery, DeliveryStatus, Publication, PublicationStatus, ReviewDecision
from calendar_app.publishing import ManualOnly, OutcomeUnknown, SurelyFailed, connector_for

#: Tries of a delivery that surely failed before it is marked failed.
MAX_ATTEMPTS = 5
#: A claim older than this belongs to a worker that died before the platform answered:
#: the outcome is unknown, never retried blindly.
CLAIM_EXPIRY = timedelta(minutes=10)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8... minutes between tries."""
    return timedelta(minutes=2 ** max(attempts - 1, 0))


def approved_texts(publication: Publication, platform: str) -> dict[str, str]:
    """{language: text} of the approved revision, as the platform should receive it."""
    review = (
        publication.reviews.filter(decision=ReviewDecision.APPROVE)
        .select_related("revision")
        .order_by("-created_at")
        .first()
    )
    if review is None:
        return {}
    texts = {}
    for language, (text, platform_texts) in review.revision.content.get("variants", {}).items():
        texts[language] = (platform_texts or {}).get(platform) or text
    return texts


def create_due_deliveries(now=None) -> int:
    """One pending Delivery per channel of every approved publication whose time has come."""
    now = now or timezone.now()
    due = Publication.objects.filter(status=PublicationStatus.APPROVED, scheduled_at__lte=now)
    rows = [
        Delivery(publication_id=publication_id, channel_id=channel_id, next_attempt_at=now)
        for publication_id, channel_id in Publication.channels.through.objects.filter(
            publication__in=due
        ).values_list("publication_id", "channel_id")
    ]
    # The unique constraint (publication, channel) makes this idempotent.
    created = Delivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(created)


def expire_stale_claims(now=None) -> int:
    """Claims left by a dead worker: the platform may have posted, so a person checks."""
    now = now or timezone.now()
    return Delivery.objects.filter(status=DeliveryStatus.PENDING, claimed_at__lt=now - CLAIM_EXPIRY).update(
        status=DeliveryStatus.UNKNOWN,
        error="The worker stopped while sending: check the channel, then record it or send it again.",
    )


def deliver(delivery_id: int) -> str:
    """Send one delivery if it is due and nobody else holds it; returns its status after."""
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, claimed_at__isnull=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(channel__connector="manual")
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
            claimed_at=None, next_attempt_at=now + backoff(delivery.attempts), error=str(exc)[:2000]
        )
        return DeliveryStatus.PENDING
    # The platform's id is stored the moment it answers.
    Delivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.DELIVERED,
        platform_post_id=result.post_id,
        url=result.url,
        delivered_at=timezone.now(),
        error="",
    )
    workflow.settle_publication(delivery.publication_id)
    return DeliveryStatus.DELIVERED


def publish_due() -> dict[str, int]:
    """The periodic job: make due deliveries, expire dead claims, send what is due."""
    now = timezone.now()
    made = create_due_deliveries(now)
    expired = expire_stale_claims(now)
    sent: dict[str, int] = {"created": made, "expired_claims": expired}
    due = (
        Delivery.objects.filter(status=DeliveryStatus.PENDING, claimed_at__isnull=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .exclude(channel__connector="manual")
        .values_list("pk", flat=True)[:200]
    )
    for delivery_id in list(due):
        outcome = deliver(delivery_id)
        sent[outcome] = sent.get(outcome, 0) + 1
    return sent


@transaction.atomic
def record_manual_delivery(actor, delivery: Delivery, url: str) -> Delivery:
    """A person posted it by hand (or checked an unknown outcome): record the live address."""
    return workflow.record_delivery(actor, delivery, url)
