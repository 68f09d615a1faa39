"""Crises: the emergency, its timeline and the advisory texts central keeps ready."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from diplomacy.geography import country_of
from diplomacy.models import Post


class CrisisQuerySet(models.QuerySet["Crisis"]):
    def active(self) -> CrisisQuerySet:
        return self.filter(ended_at__isnull=True)

    def affecting(self, post: Post) -> CrisisQuerySet:
        """Crises whose scope takes in `post`: the whole network, its country, or the post itself."""
        return self.filter(
            Q(whole_network=True)
            | Q(posts=post)
            | Q(countries__regex=rf"(^|,){country_of(post.country).code}(,|$)")
        ).distinct()


class Crisis(models.Model):
    """An emergency for some countries or posts, the whole network at most.

    While it is active, approved publications of the posts it takes in are held
    (`Publication.held_by`), advisories are fast-tracked, and every affected
    user sees a banner. Ending it releases the held publications; those whose
    time passed are listed as missed (`Publication.missed_in`), never sent late.
    """

    title = models.CharField(_("title"), max_length=200)
    reason = models.TextField(_("reason"), max_length=5000)
    whole_network = models.BooleanField(_("the whole network"), default=False)
    #: ISO codes, comma-separated.
    countries = models.CharField(_("countries"), max_length=500, blank=True)
    posts = models.ManyToManyField(Post, blank=True, related_name="crises", verbose_name=_("posts"))
    declared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("declared by")
    )
    declared_at = models.DateTimeField(_("declared at"), db_index=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    #: Nobody acknowledged the declaration within the on-call delay: everyone central was told.
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = CrisisQuerySet.as_manager()

    class Meta:
        ordering = ["-declared_at", "-pk"]
        verbose_name = _("crisis")
        verbose_name_plural = _("crises")
        constraints = [
            # A crisis ends after it began.
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("declared_at")),
                name="crisis_ends_after_it_begins",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("crisis_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.ended_at is None

    @property
    def country_list(self) -> list[str]:
        return [code for code in self.countries.split(",") if code]

    def affected_posts(self) -> models.QuerySet[Post]:
        """The posts this crisis takes in (one query)."""
        if self.whole_network:
            return Post.objects.all()
        return Post.objects.filter(Q(crises=self) | Q(country__in=self.country_list)).distinct()

    def takes_in(self, post: Post, post_ids: set[int] | None = None) -> bool:
        """Whether `post` is in scope; pass the crisis's own post ids to save a query."""
        if self.whole_network or country_of(post.country).code in self.country_list:
            return True
        if post_ids is None:
            post_ids = {p.pk for p in self.posts.all()}
        return post.pk in post_ids


CRISIS_VERBS = {
    "declared": _("declared the crisis"),
    "acknowledged": _("acknowledged it"),
    "escalated": _("nobody on call acted: all central reviewers were told"),
    "held": _("held the scheduled publications"),
    "released": _("released a held publication"),
    "advisory_broadcast": _("broadcast an advisory"),
    "advisory_approved": _("approved an advisory"),
    "break_glass": _("published an advisory without review (break-glass)"),
    "reviewed_after": _("reviewed a break-glass publication after the fact"),
    "missed": _("listed publications whose time passed for rescheduling"),
    "ended": _("ended the crisis"),
}


class CrisisEvent(models.Model):
    """The crisis timeline: append-only, one row for everything done during it."""

    crisis = models.ForeignKey(Crisis, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verb = models.CharField(max_length=40)
    publication = models.ForeignKey(
        "Publication", on_delete=models.SET_NULL, null=True, blank=True, related_name="crisis_events"
    )
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("crisis timeline entry")
        verbose_name_plural = _("crisis timeline")
        constraints = [
            # An advisory is escalated once, even when the job runs twice at the same time.
            models.UniqueConstraint(
                fields=["crisis", "publication", "verb"],
                condition=Q(verb="escalated", publication__isnull=False),
                name="crisis_event_escalated_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crisis_id} {self.verb}"

    @property
    def verb_label(self) -> str:
        return str(CRISIS_VERBS.get(self.verb, self.verb))

    @property
    def is_flagged(self) -> bool:
        """Break-glass publishing stands out on the timeline."""
        return self.verb == "break_glass"


class CrisisTemplate(models.Model):
    """A ready text central keeps for advisories (stay indoors, avoid travel, ...).

    `texts` is {language: text}; the composer pre-fills its fields from it.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    texts = models.JSONField(_("texts"), default=dict, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("crisis template")
        verbose_name_plural = _("crisis templates")

    def __str__(self) -> str:
        return self.name
