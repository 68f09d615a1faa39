"""Proposals: content a partner suggests, its texts, its history and the posts that said no."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calendar_app.models.assets import Asset
from calendar_app.models.campaigns import Campaign
from calendar_app.models.statuses import ProposalStatus, ProposalTarget
from diplomacy import roles
from diplomacy.geography import country_of
from diplomacy.models import Partner, Post
from diplomacy.roles import AnyUser


def aimed_at(posts: Iterable[Post]) -> Q:
    """Proposals aimed at any of `posts`: the whole network, one of their countries, or one of
    them by name. The named posts are read in a subquery: no join, so no duplicate rows."""
    posts = list(posts)
    if not posts:
        return Q(pk__in=[])
    countries = "|".join(sorted({country_of(post.country).code for post in posts}))
    named = Proposal.target_posts.through.objects.filter(post__in=[post.pk for post in posts])
    return (
        Q(target=ProposalTarget.NETWORK)
        | Q(target=ProposalTarget.COUNTRIES, target_countries__regex=rf"(^|,)({countries})(,|$)")
        | Q(target=ProposalTarget.POSTS, pk__in=named.values("proposal_id"))
    )


def open_for_adoption(today: date) -> Q:
    """Accepted, and its window not over."""
    return Q(status=ProposalStatus.ACCEPTED) & (Q(window_ends_on__isnull=True) | Q(window_ends_on__gte=today))


class ProposalQuerySet(models.QuerySet["Proposal"]):
    def targeting(self, post: Post) -> ProposalQuerySet:
        """Proposals aimed at `post`: the whole network, its country, or the post itself."""
        return self.filter(aimed_at([post]))

    def open_for(self, post: Post, today: date | None = None) -> ProposalQuerySet:
        """What `post` may adopt: accepted, in its window, aimed at the post (the instance
        form: `Proposal.is_open_for`). A post that said "not for us" may still adopt it."""
        return self.filter(open_for_adoption(today or timezone.localdate())).targeting(post)

    def visible_to(self, user: AnyUser) -> ProposalQuerySet:
        """What `user` may see: their partner's own proposals, every proposal sent to central
        (for central), the accepted ones aimed at their posts (for a post's staff); partners
        never see another partner's work (the instance form: `Proposal.is_visible_to`)."""
        seen = Q(partner_id__in=roles.partner_ids(user))
        if roles.is_central(user):
            # Central sees what was sent to it, even if withdrawn later; never an unsent draft.
            seen |= Q(submitted_at__isnull=False)
        if roles.is_post_staff(user):
            seen |= Q(status=ProposalStatus.ACCEPTED) & aimed_at(roles.posts_of(user))
        return self.filter(seen)


class Proposal(models.Model):
    """Content a partner suggests for the network; posts adopt it into publications."""

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("partner")
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True, max_length=5000)
    status = models.CharField(
        _("status"), max_length=20, choices=ProposalStatus.choices, default=ProposalStatus.DRAFT
    )
    target = models.CharField(
        _("target"), max_length=20, choices=ProposalTarget.choices, default=ProposalTarget.NETWORK
    )
    #: ISO codes, comma-separated, when the target is some countries.
    target_countries = models.CharField(_("target countries"), max_length=500, blank=True)
    target_posts = models.ManyToManyField(
        Post, blank=True, related_name="targeted_by_proposals", verbose_name=_("target posts")
    )
    window_starts_on = models.DateField(_("from"), null=True, blank=True)
    window_ends_on = models.DateField(_("until"), null=True, blank=True)
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("campaign"),
    )
    contact = models.CharField(
        _("contact"),
        max_length=300,
        blank=True,
        help_text=_("Who posts can ask about it: name, email, phone."),
    )
    assets = models.ManyToManyField(Asset, blank=True, related_name="proposals")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(_("reason"), blank=True, max_length=5000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        indexes = [models.Index(fields=["status", "window_ends_on"], name="proposal_status_window_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(window_ends_on__isnull=True)
                | Q(window_starts_on__isnull=True)
                | Q(window_ends_on__gte=models.F("window_starts_on")),
                name="proposal_window_ends_after_it_starts",
            ),
            # A declined proposal says why.
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""), name="proposal_decline_has_a_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("proposal_detail", args=[self.pk])

    @property
    def target_country_list(self) -> list[str]:
        return [code for code in self.target_countries.split(",") if code]

    def is_aimed_at(self, post: Post) -> bool:
        """See `aimed_at`; reads the named posts (prefetched, or one query)."""
        if self.target == ProposalTarget.NETWORK:
            return True
        if self.target == ProposalTarget.COUNTRIES:
            return country_of(post.country).code in self.target_country_list
        return any(target.pk == post.pk for target in self.target_posts.all())

    def is_open_for(self, post: Post, today: date | None = None) -> bool:
        """The rule of `ProposalQuerySet.open_for`, for one proposal."""
        today = today or timezone.localdate()
        in_window = self.window_ends_on is None or self.window_ends_on >= today
        return self.status == ProposalStatus.ACCEPTED and in_window and self.is_aimed_at(post)

    def is_visible_to(self, user: AnyUser) -> bool:
        """The rule of `ProposalQuerySet.visible_to`, for one proposal."""
        if self.partner_id in roles.partner_ids(user):
            return True
        if roles.is_central(user) and self.submitted_at is not None:
            return True
        return (
            roles.is_post_staff(user)
            and self.status == ProposalStatus.ACCEPTED
            and any(self.is_aimed_at(post) for post in roles.posts_of(user))
        )


class ProposalVariant(models.Model):
    """A suggested text of a proposal in one language."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="variants")
    language = models.CharField(_("language"), max_length=2)
    text = models.TextField(_("text"), max_length=63206)

    class Meta:
        ordering = ["proposal", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "language"], name="proposal_variant_one_per_language"
            ),
            models.CheckConstraint(
                condition=Q(language__regex=r"^[a-z]{2}$"), name="proposal_variant_language_is_a_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal} [{self.language}]"


class ProposalEvent(models.Model):
    """Append-only history of a proposal: who moved it from which state to which."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verb = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.proposal_id} {self.verb}"


class ProposalDismissal(models.Model):
    """A post said "not for us" to an accepted proposal (central can read why)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="dismissals")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="dismissed_proposals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.TextField(_("reason"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["proposal", "post"], name="proposal_dismissed_once_per_post"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal} / {self.post}"
