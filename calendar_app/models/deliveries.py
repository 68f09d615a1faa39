"""Deliveries: each attempt to put a publication on one channel, with its outcome."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from calendar_app.models.publications import Publication
from calendar_app.models.statuses import DeliveryStatus
from diplomacy.models import Channel


class Delivery(models.Model):
    """One attempt to put a publication on one channel, with its outcome.

    A delivery is claimed (claimed_at) with a compare-and-set before the platform
    is called, so two workers never send it twice; an outcome that cannot be known
    is `unknown` and waits for a person, never retried blindly.
    """

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    #: Sent to platforms that accept one, so that a repeated request cannot post twice.
    idempotency_key = models.CharField(max_length=64, default=secrets.token_hex)
    platform_post_id = models.CharField(max_length=200, blank=True)
    url = models.URLField(_("live address"), blank=True, max_length=500)
    error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["publication", "channel"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]
        constraints = [
            # A publication goes to a channel at most once.
            models.UniqueConstraint(fields=["publication", "channel"], name="delivery_once_per_channel"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed", "unknown"]),
                name="delivery_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.publication_id} → {self.channel_id}: {self.status}"

    @property
    def awaits_a_person(self) -> bool:
        """Posted by hand and not yet recorded, or an outcome someone must check."""
        return self.status == DeliveryStatus.UNKNOWN or (
            self.status == DeliveryStatus.PENDING and self.channel.connector == "manual"
        )
