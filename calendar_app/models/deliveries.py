"""Deliveries: each attempt to put a publication on one channel, with its outcome, and
the parts (platform posts) it is made of."""

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

    What it sends is its parts (DeliveryPart), frozen at its first claim: one platform
    post, or several (a thread, separate posts per language). It is delivered when
    every part is; its platform id and address are those of its first part.
    """

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    #: The sending process holding the claim (its SenderHeartbeat.token), "" when unknown: a
    #: claim whose holder stopped beating is dead long before CLAIM_EXPIRY.
    claimed_by = models.CharField(max_length=64, blank=True)
    #: Sent to platforms that accept one, so that a repeated request cannot post twice.
    idempotency_key = models.CharField(max_length=64, default=secrets.token_hex)
    platform_post_id = models.CharField(max_length=200, blank=True)
    url = models.URLField(_("live address"), blank=True, max_length=500)
    error = models.TextField(blank=True)
    #: Of a part sent when its outcome became unknown: True once the whole request was
    #: written to the platform's server, False when it surely did not fully leave, None
    #: when nobody knows (a worker stopped while sending). Shown to the person who checks.
    request_sent = models.BooleanField(null=True, blank=True)
    #: What the platform last answered about this, short ("HTTP 503: ..."), or "".
    platform_said = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    #: The channel's language plan when the parts were frozen (empty until then): a
    #: thread chains its parts as replies, whatever the channel says by the time it resumes.
    plan = models.CharField(max_length=20, blank=True)
    #: The number of the approved revision the parts were frozen from: approved again with
    #: other texts, the parts not yet sent are made anew (see publishing.parts.freeze).
    revision = models.PositiveIntegerField(null=True, blank=True)
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

    @property
    def part_to_check(self) -> DeliveryPart | None:
        """Of a delivery whose outcome is unknown, the part that may have gone out (reads
        its parts: prefetch them); None otherwise."""
        if self.status != DeliveryStatus.UNKNOWN:
            return None
        return unknown_part_of(list(self.parts.all()))

    @property
    def continuable_part(self) -> DeliveryPart | None:
        """The part to check when parts follow it: a person who finds it live records its
        address and the engine sends the rest (workflow.continue_delivery)."""
        part = self.part_to_check
        if part is None or part.number >= max(row.number for row in self.parts.all()):
            return None
        return part


class DeliveryPart(models.Model):
    """One platform post of a delivery, as it was sent (or is to be sent).

    Made at the delivery's first claim from calendar_app.sending, so that what goes out
    is frozen then. Each part is claimed (claimed_at) before its platform call and its
    platform id stored the moment the platform answers, before the next part is sent: a
    thread that stops half-way resumes after its last live part, never repeating one.
    """

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="parts")
    #: 1 for the first post; in a thread, part n answers part n - 1.
    number = models.PositiveSmallIntegerField()
    #: The part's languages, comma-separated in the order they appear ("nl", "nl,fr").
    languages = models.CharField(max_length=100)
    text = models.TextField()
    #: How many of the publication's images (the first ones) this part carries.
    images = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    platform_post_id = models.CharField(max_length=200, blank=True)
    #: What a reply needs besides the id, where the platform asks for it (Bluesky: the cid).
    platform_ref = models.CharField(max_length=200, blank=True)
    url = models.URLField(_("live address"), blank=True, max_length=500)
    error = models.TextField(blank=True)
    #: Of a part sent when its outcome became unknown: True once the whole request was
    #: written to the platform's server, False when it surely did not fully leave, None
    #: when nobody knows (a worker stopped while sending). Shown to the person who checks.
    request_sent = models.BooleanField(null=True, blank=True)
    #: What the platform last answered about this, short ("HTTP 503: ..."), or "".
    platform_said = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    #: Part 1 keeps its delivery's key, so what was idempotent before parts stays so.
    idempotency_key = models.CharField(max_length=64, default=secrets.token_hex)

    class Meta:
        ordering = ["delivery", "number"]
        verbose_name = _("part of a delivery")
        verbose_name_plural = _("parts of deliveries")
        constraints = [
            # A delivery's part n is made once, even when two claims race to freeze them.
            models.UniqueConstraint(fields=["delivery", "number"], name="delivery_part_once"),
            models.CheckConstraint(condition=Q(number__gte=1), name="delivery_part_number_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed", "unknown"]),
                name="delivery_part_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} part {self.number}: {self.status}"

    @property
    def language_list(self) -> list[str]:
        return [language for language in self.languages.split(",") if language]


def unknown_part_of(rows: list[DeliveryPart]) -> DeliveryPart | None:
    """The part of an unknown delivery that may have gone out: the unknown one; else (a
    worker stopped between two parts) the first not yet live; None without parts."""
    ordered = sorted(rows, key=lambda row: row.number)
    unknown = next((row for row in ordered if row.status == DeliveryStatus.UNKNOWN), None)
    return unknown or next((row for row in ordered if row.status != DeliveryStatus.DELIVERED), None)


class SenderHeartbeat(models.Model):
    """A process that sends deliveries (the dispatcher, a django-q2 publishing job), alive
    while `beaten_at` is recent: it beats every few seconds while it holds claims.

    A claim (Delivery.claimed_by) whose holder has not beaten for a minute belongs to a
    process that died mid-request: its delivery becomes unknown for a person to check,
    after a minute rather than after the ten of the last-resort expiry. `beaten_at` is
    written with the database's clock, and compared with it: a host whose clock jumps
    neither kills the claims of others nor keeps its own alive.
    """

    #: Unique per process start: host, process id and a random suffix.
    token = models.CharField(max_length=64, unique=True)
    #: "dispatcher" or "job".
    kind = models.CharField(max_length=20)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    beaten_at = models.DateTimeField()

    class Meta:
        verbose_name = _("sending process")
        verbose_name_plural = _("sending processes")

    def __str__(self) -> str:
        return f"{self.kind} {self.token}"
