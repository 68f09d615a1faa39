"""Images: uploaded once, re-encoded without metadata, shared by publications and proposals."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from diplomacy.models import Post


def asset_path(instance: Asset, filename: str) -> str:
    # Random names: an upload's own name never reaches the file system.
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"assets/{secrets.token_hex(16)}.{extension}"


class Asset(models.Model):
    """An image, re-encoded without metadata, with alt text per language and renditions."""

    image = models.FileField(_("image"), upload_to=asset_path)
    content_type = models.CharField(max_length=40)
    alt_texts = models.JSONField(
        _("alt text per language"), default=dict, blank=True, help_text=_('{"en": "…", "nl": "…"}')
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assets", verbose_name=_("owner")
    )
    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="assets", verbose_name=_("post")
    )
    checksum = models.CharField(_("checksum (SHA-256)"), max_length=64, db_index=True)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    #: {"landscape": "assets/…-landscape.jpg", ...}
    renditions = models.JSONField(_("renditions"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self) -> str:
        return self.alt_text() or f"{self.width}×{self.height}"

    def get_absolute_url(self) -> str:
        return reverse("asset_file", args=[self.pk, "original"])

    def alt_text(self, language: str = "en") -> str:
        return self.alt_texts.get(language) or next(iter(self.alt_texts.values()), "")
