"""The common guidelines as central sets them, their versions, and the priority countries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from diplomacy.geography import country_of


def _codes(value: str) -> list[str]:
    return [code for code in value.split(",") if code]


class Guideline(models.Model):
    """Central's settings for one rule of the catalogue (calendar_app.guidelines).

    The rule itself (what it checks) is code; this row holds whether it is on,
    how severe it is, where it applies, its parameters and its explanation.
    """

    code = models.SlugField(_("code"), max_length=50, unique=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    severity = models.CharField(
        _("severity"), max_length=10, choices=[("blocking", _("Blocking")), ("warning", _("Warning"))]
    )
    post_kinds = models.CharField(_("post kinds"), max_length=200, blank=True)
    platforms = models.CharField(_("platforms"), max_length=200, blank=True)
    publication_kinds = models.CharField(_("publication kinds"), max_length=200, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    #: {"en": "...", "nl": "...", "fr": "..."}; empty: the catalogue's explanation.
    explanations = models.JSONField(_("explanations"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("guideline")
        verbose_name_plural = _("guidelines")
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__in=["blocking", "warning"]), name="guideline_severity_known"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def post_kind_list(self) -> list[str]:
        return _codes(self.post_kinds)

    @property
    def platform_list(self) -> list[str]:
        return _codes(self.platforms)

    @property
    def publication_kind_list(self) -> list[str]:
        return _codes(self.publication_kinds)


class GuidelineVersion(models.Model):
    """One state of the whole set of guidelines; a review records the number it checked."""

    number = models.PositiveIntegerField(unique=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    change = models.CharField(max_length=200)
    #: Every rule's settings as they were after this change.
    snapshot = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("guidelines version")
        verbose_name_plural = _("guidelines versions")

    def __str__(self) -> str:
        return f"v{self.number}"


class PriorityCountry(models.Model):
    """A country where central comms want the network present (neighbours, key partners).

    The coverage report flags a platform where such a country has no active
    presence while less important countries do.
    """

    country = CountryField(_("country"), unique=True)
    note = models.CharField(_("why"), max_length=200, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["country"]
        verbose_name = _("priority country")
        verbose_name_plural = _("priority countries")

    def __str__(self) -> str:
        return str(country_of(self.country).name)
