"""The states and kinds of the calendar's rows, each a word people read (never a bare code).

Kept apart from the models so that reports, permissions and forms can name a status
without importing the aggregate that carries it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ProposalTarget(models.TextChoices):
    NETWORK = "network", _("The whole network")
    COUNTRIES = "countries", _("Some countries")
    POSTS = "posts", _("Some posts")


class PublicationKind(models.TextChoices):
    REGULAR = "regular", _("Regular")
    CONSULAR_ADVICE = "consular_advice", _("Consular advice")
    CRISIS_ADVISORY = "crisis_advisory", _("Crisis advisory")
    EVENT = "event", _("Event")
    PARTNER_RELAY = "partner_relay", _("Partner relay")


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    #: Not delivered within settings.MAX_LATENESS of its time, or its time passed while a
    #: crisis held it: never sent late by surprise; a person reschedules or cancels it.
    MISSED = "missed", _("Missed")


#: Status is shown as text and icon, never as colour alone.
STATUS_ICONS: dict[str, str] = {
    PublicationStatus.DRAFT: "✎",
    PublicationStatus.IN_REVIEW: "◔",
    PublicationStatus.CHANGES_REQUESTED: "↩",
    PublicationStatus.APPROVED: "✓",
    PublicationStatus.PUBLISHED: "●",
    PublicationStatus.FAILED: "⚠",
    PublicationStatus.CANCELLED: "✕",
    PublicationStatus.MISSED: "⌛",
}


#: What the rest of the network sees of a post's publications.
NETWORK_VISIBLE_STATUSES = (PublicationStatus.APPROVED, PublicationStatus.PUBLISHED)
#: A publication in these states is over: no more edits or moves.
CLOSED_STATUSES = (PublicationStatus.PUBLISHED, PublicationStatus.CANCELLED)


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REQUEST_CHANGES = "request_changes", _("Changes requested")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown: check the channel")
