"""The filters a user used last on a page (calendar, approval queue), applied when they open it
again without filters."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FilteredPage(models.TextChoices):
    CALENDAR = "calendar", _("Calendar")
    APPROVALS = "approvals", _("Approval queue")


class SavedFilter(models.Model):
    """One user's last filters on one page, as URL parameters: {name: [value, ...]}.

    Kept as the values people chose (post codes, campaign ids), not as rows: a post deleted
    since is found when the filter is applied again, and dropped with a message then."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    page = models.CharField(_("page"), max_length=20, choices=FilteredPage.choices)
    query = models.JSONField(_("filters"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        constraints = [
            # One remembered set of filters per user and page: saving replaces it.
            models.UniqueConstraint(fields=["user", "page"], name="saved_filter_one_per_user_and_page"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.page}"
