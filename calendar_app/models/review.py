"""Review: the revisions submitted, central's decisions on them, and the thread beside them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from calendar_app.models.publications import Publication
from calendar_app.models.statuses import ReviewDecision


class PublicationRevision(models.Model):
    """The content of a publication as submitted for review (what an approval covers)."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    content = models.JSONField()
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    #: Guideline results at submission: [{"code", "severity", "passed", "problems"}]
    checks = models.JSONField(default=list, blank=True)
    # Derived from `checks`, stored so that the approval queue can filter on them.
    has_warnings = models.BooleanField(default=False)
    has_blocking = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["publication", "number"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "number"], name="revision_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.publication_id} r{self.number}"

    @property
    def warnings(self) -> list[dict]:
        return [check for check in self.checks if not check["passed"]]


class Review(models.Model):
    """A central reviewer's decision on one exact revision of a publication."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="reviews")
    revision = models.ForeignKey(PublicationRevision, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices)
    comment = models.TextField(blank=True, max_length=5000)
    guideline_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            # A request for changes always says what to change.
            models.CheckConstraint(
                condition=~Q(decision="request_changes") | ~Q(comment=""),
                name="review_changes_have_a_comment",
            ),
            # One decision per revision: two reviewers cannot both decide the same one.
            models.UniqueConstraint(fields=["revision"], name="review_one_decision_per_revision"),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} ({self.reviewer})"


class Comment(models.Model):
    """A message in a publication's thread between post staff and central reviewers."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("comment"), max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("comment")
        verbose_name_plural = _("comments")

    def __str__(self) -> str:
        return self.text[:50]
