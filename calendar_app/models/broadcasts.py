"""Broadcasts: one piece of content sent to several posts at once, reviewed as one.

An advisory broadcast to every post a crisis takes in (or a publication copied to several
posts) makes one publication per post; they belong to one Broadcast, so that the approval
queue shows them as one item and a reviewer decides them with one decision. Each post's
publication still keeps its own revision, review and history: the group is how they are
shown and decided, never a way round a publication's own rules.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from calendar_app.models.crisis import Crisis
from calendar_app.models.statuses import ReviewDecision


class Broadcast(models.Model):
    """A group of publications, one per post, written once and reviewed as one."""

    title = models.CharField(_("title"), max_length=200)
    #: The crisis an advisory broadcast was written for; none for copies to several posts.
    crisis = models.ForeignKey(
        Crisis,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="broadcasts",
        verbose_name=_("crisis"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("broadcast")
        verbose_name_plural = _("broadcasts")

    def __str__(self) -> str:
        return self.title

    @property
    def is_advisory(self) -> bool:
        return self.crisis_id is not None


class BroadcastDecision(models.Model):
    """One reviewer's decision on a broadcast: what each publication's review and history
    row points at (`Review` and `PublicationEvent.data["broadcast_decision"]`).

    Append-only, like the history: the counts say how the decision went, the rows of each
    publication say what happened to it.
    """

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="decisions")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    comment = models.TextField(blank=True, max_length=5000)
    #: How many publications the decision moved, how many it could not (changed since the
    #: page was opened, four eyes, a failing guideline), and how many left the group.
    decided = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    excluded = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("decision on a broadcast")
        verbose_name_plural = _("decisions on broadcasts")
        constraints = [
            # As for a single publication: a request for changes always says what to change.
            models.CheckConstraint(
                condition=~Q(decision="request_changes") | ~Q(comment=""),
                name="broadcast_changes_have_a_comment",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id} {self.decision}"
