"""How people hear of the calendar: the bell, their email preference, their ICS feed."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from calendar_app.models.crisis import Crisis
from calendar_app.models.proposals import Proposal
from calendar_app.models.publications import Publication


class Notification(models.Model):
    """An in-app notification (the bell); emails are sent from the same row by a task."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    verb = models.CharField(max_length=40)
    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, null=True, related_name="+")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    #: When the mail server accepted its email (alone or in a digest); never before.
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Sending, as a compare-and-set claim: a task sets `email_claim` (a token of its own)
    # only where it is empty, so two workers never mail one notification twice; the claim
    # is cleared when the mail went out or failed, and one left by a dead worker is
    # released by tasks.retry_emails once `email_claimed_at` is old.
    email_claim = models.CharField(max_length=32, blank=True, default="")
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    #: Failed sends so far (mail server down, refused, timed out); retried with back-off
    #: until tasks.EMAIL_MAX_ATTEMPTS, then left alone: it stays in the bell.
    email_attempts = models.PositiveSmallIntegerField(default=0)
    email_error = models.CharField(max_length=300, blank=True, default="")
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread_idx"),
            # The retry job's minute query: unsent emails whose next attempt has come.
            models.Index(
                fields=["email_next_attempt_at"],
                name="notification_email_retry_idx",
                condition=models.Q(emailed_at__isnull=True, email_attempts__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.verb}"


class NotificationPreference(models.Model):
    """How a user wants to hear about things: email at once, a daily digest, or in-app only."""

    EMAIL_NOW = "now"
    EMAIL_DIGEST = "digest"
    EMAIL_NEVER = "never"
    EMAIL_CHOICES = [
        (EMAIL_NOW, _("Email me at once")),
        (EMAIL_DIGEST, _("One email a day with everything")),
        (EMAIL_NEVER, _("No email, only in the calendar")),
    ]

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.CharField(_("email"), max_length=10, choices=EMAIL_CHOICES, default=EMAIL_NOW)
    #: A central reviewer on call hears first of crises and advisories awaiting approval.
    on_call = models.BooleanField(_("on call"), default=False)

    def __str__(self) -> str:
        return f"{self.user}: {self.email}"


class CalendarFeed(models.Model):
    """A user's secret, revocable address for subscribing to the calendar (ICS).

    Calendar clients cannot log in, so the token in the URL is the key; it is
    shown to its owner again on the calendar page, and renewing it revokes the
    old address.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.user}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)
