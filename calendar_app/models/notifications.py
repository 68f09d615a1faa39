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
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

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
