"""Campaigns: themed sets of publications over a period, owned by central comms or a partner."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from diplomacy.models import Partner, Post

#: Colours of campaigns: each has at least 4.5:1 contrast against white text.
CAMPAIGN_COLOURS = [
    ("#0b4f8a", _("Blue")),
    ("#1d6b36", _("Green")),
    ("#8a1c4f", _("Wine")),
    ("#6b3fa0", _("Purple")),
    ("#8a4b00", _("Brown")),
    ("#0f5f64", _("Teal")),
    ("#a1141b", _("Red")),
    ("#3d4a5c", _("Slate")),
]


class Campaign(models.Model):
    """A themed set of publications over a period, owned by central comms or a partner."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    partner = models.ForeignKey(
        Partner,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("partner"),
        help_text=_("Empty: a campaign of central communications."),
    )
    hashtags = models.CharField(
        _("hashtags"), max_length=300, blank=True, help_text=_("Separated by spaces, e.g. #BelgiumAbroad")
    )
    colour = models.CharField(_("colour"), max_length=7, choices=CAMPAIGN_COLOURS, default="#0b4f8a")
    target_countries = models.CharField(
        _("target countries"),
        max_length=500,
        blank=True,
        help_text=_("ISO country codes separated by commas; empty: the whole network."),
    )
    target_posts = models.ManyToManyField(
        Post, blank=True, related_name="campaigns", verbose_name=_("target posts")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="campaign_ends_after_it_starts"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def hashtag_list(self) -> list[str]:
        return [tag for tag in self.hashtags.split() if tag.startswith("#")]
