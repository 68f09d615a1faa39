"""What goes out, where and when: campaigns, publications, their variants and images.

A publication's time is kept as the post-local wall time plus the zone (the
source of truth: "09:00 in Istanbul" stays 09:00 there) and the UTC instant
derived from them (`scheduled_at`, indexed, what the calendar and the
publisher query). `recompute_scheduled_at` re-derives the instant when a
country changes its time-zone rules.
"""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import date, datetime, time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField

from diplomacy import roles
from diplomacy.models import Channel, Partner, Post, validate_timezone

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

#: Content languages every publication may use, besides each post's host languages.
NETWORK_LANGUAGES = ("nl", "fr", "de", "en")


def language_name(code: str) -> str:
    """“Turkish” for "tr", in the interface language; the code itself when unknown."""
    from django.utils.translation import get_language_info

    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def is_whole_number(value: object) -> bool:
    """ "12" yes; "²", "1.5", "-3" no (str.isdigit alone accepts "²", which int() refuses)."""
    text = str(value)
    return text.isascii() and text.isdigit()


def language_names(codes: list[str]) -> str:
    """ "French (fr), Dutch (nl)" for ["fr", "nl"], for messages."""
    return ", ".join(
        f"{language_name(code)} ({code})" if language_name(code) != code else code for code in codes
    )


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


class ProposalStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class ProposalTarget(models.TextChoices):
    NETWORK = "network", _("The whole network")
    COUNTRIES = "countries", _("Some countries")
    POSTS = "posts", _("Some posts")


class ProposalQuerySet(models.QuerySet["Proposal"]):
    def targeting(self, post: Post) -> ProposalQuerySet:
        """Proposals aimed at `post`: the whole network, its country, or the post itself."""
        return self.filter(
            Q(target=ProposalTarget.NETWORK)
            | Q(target=ProposalTarget.COUNTRIES, target_countries__regex=rf"(^|,){post.country.code}(,|$)")
            | Q(target=ProposalTarget.POSTS, target_posts=post)
        ).distinct()


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
    assets = models.ManyToManyField("Asset", blank=True, related_name="proposals")
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


class CrisisQuerySet(models.QuerySet["Crisis"]):
    def active(self) -> CrisisQuerySet:
        return self.filter(ended_at__isnull=True)

    def affecting(self, post: Post) -> CrisisQuerySet:
        """Crises whose scope takes in `post`: the whole network, its country, or the post itself."""
        return self.filter(
            Q(whole_network=True) | Q(posts=post) | Q(countries__regex=rf"(^|,){post.country.code}(,|$)")
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
        if self.whole_network or post.country.code in self.country_list:
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


class PublicationKind(models.TextChoices):
    REGULAR = "regular", _("Regular")
    CONSULAR_ADVICE = "consular_advice", _("Consular advice")
    CRISIS_ADVISORY = "crisis_advisory", _("Crisis advisory")
    EVENT = "event", _("Event")
    PARTNER_RELAY = "partner_relay", _("Partner relay")


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


#: Status is shown as text and icon, never as colour alone.
STATUS_ICONS = {
    PublicationStatus.DRAFT: "✎",
    PublicationStatus.IN_REVIEW: "◔",
    PublicationStatus.CHANGES_REQUESTED: "↩",
    PublicationStatus.APPROVED: "✓",
    PublicationStatus.PUBLISHED: "●",
    PublicationStatus.FAILED: "⚠",
    PublicationStatus.CANCELLED: "✕",
}

#: What the rest of the network sees of a post's publications.
NETWORK_VISIBLE_STATUSES = (PublicationStatus.APPROVED, PublicationStatus.PUBLISHED)
#: A publication in these states is over: no more edits or moves.
CLOSED_STATUSES = (PublicationStatus.PUBLISHED, PublicationStatus.CANCELLED)


class PublicationQuerySet(models.QuerySet["Publication"]):
    def visible_to(self, user) -> PublicationQuerySet:
        """What `user` may see on the calendar (rule: calendar_app.permissions)."""
        if roles.is_central(user):
            return self
        if not roles.is_post_staff(user):
            return self.none()
        own_posts = roles.post_ids(user)
        return self.filter(Q(post_id__in=own_posts) | Q(status__in=NETWORK_VISIBLE_STATUSES))

    def between(self, start: datetime, end: datetime) -> PublicationQuerySet:
        """Publications whose UTC instant falls in [start, end) (served by the index)."""
        return self.filter(scheduled_at__gte=start, scheduled_at__lt=end)


class Publication(models.Model):
    """One planned social-media message, for one post, on one or more of its channels."""

    post = models.ForeignKey(
        Post, on_delete=models.PROTECT, related_name="publications", verbose_name=_("post")
    )
    channels = models.ManyToManyField(
        Channel, related_name="publications", verbose_name=_("channels"), blank=True
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="publications",
        verbose_name=_("campaign"),
    )
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="publications",
        verbose_name=_("proposal"),
    )
    title = models.CharField(_("internal title"), max_length=200)
    kind = models.CharField(
        _("kind"), max_length=20, choices=PublicationKind.choices, default=PublicationKind.REGULAR
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT
    )
    # The source of truth for the time: the wall time where the post is.
    local_date = models.DateField(_("date"))
    local_time = models.TimeField(_("time"))
    timezone = models.CharField(_("time zone"), max_length=64, validators=[validate_timezone])
    # Derived from the three above; what queries use.
    scheduled_at = models.DateTimeField(_("scheduled at (UTC)"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="publications",
        verbose_name=_("author"),
    )
    # Optimistic locking: every saved edit bumps it; a form carrying an older
    # number is refused instead of silently overwriting the other person.
    revision = models.PositiveIntegerField(default=1)
    assets = models.ManyToManyField("Asset", blank=True, related_name="publications")
    #: The crisis an advisory was written for.
    crisis = models.ForeignKey(
        Crisis, on_delete=models.SET_NULL, null=True, blank=True, related_name="advisories"
    )
    #: Set while a crisis holds this approved publication: the engine does not send it.
    held_by = models.ForeignKey(
        Crisis, on_delete=models.SET_NULL, null=True, blank=True, related_name="held_publications"
    )
    #: Its time passed while it was held: it waits to be rescheduled, never sent late.
    missed_in = models.ForeignKey(
        Crisis, on_delete=models.SET_NULL, null=True, blank=True, related_name="missed_publications"
    )
    #: Central let it go out during this crisis: the crisis does not hold it again.
    released_from = models.ForeignKey(
        Crisis, on_delete=models.SET_NULL, null=True, blank=True, related_name="released_publications"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["scheduled_at", "pk"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        indexes = [
            # The calendar and the publisher read time windows, network-wide or per post.
            models.Index(fields=["scheduled_at"], name="publication_time_idx"),
            models.Index(fields=["post", "scheduled_at"], name="publication_post_time_idx"),
            models.Index(fields=["status", "scheduled_at"], name="publication_status_time_idx"),
            models.Index(fields=["post", "local_date"], name="publication_post_day_idx"),
            # Network-wide month, week and agenda windows count, rank and sort on the
            # post-local day and time: an index-only scan instead of a scan and a sort.
            models.Index(fields=["local_date", "local_time", "id"], name="publication_day_time_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=PublicationStatus.values), name="publication_status_known"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=PublicationKind.values), name="publication_kind_known"
            ),
            models.CheckConstraint(condition=Q(revision__gte=1), name="publication_revision_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("publication_detail", args=[self.pk])

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def local_datetime(self) -> datetime:
        return self.scheduled_at.astimezone(self.zone)

    def recompute_scheduled_at(self) -> datetime:
        """The UTC instant of the stored wall time under today's zone rules."""
        return instant_for(self.local_date, self.local_time, self.timezone)

    @cached_property
    def latest_revision(self) -> PublicationRevision | None:
        """The last submitted revision (uses prefetched revisions when there are)."""
        revisions = list(self.revisions.all())
        return max(revisions, key=lambda revision: revision.number) if revisions else None

    @property
    def status_icon(self) -> str:
        return STATUS_ICONS.get(self.status, "")

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def is_held(self) -> bool:
        return self.held_by_id is not None or self.missed_in_id is not None


def instant_for(local_date: date, local_time: time, zone_name: str) -> datetime:
    """The UTC instant of a wall time in a zone (fold=0 for ambiguous times).

    Forms refuse nonexistent and ambiguous times before calling this
    (calendar_app.timezones.check_local_time).
    """
    from datetime import UTC

    local = datetime.combine(local_date, local_time).replace(tzinfo=zoneinfo.ZoneInfo(zone_name))
    return local.astimezone(UTC)


class Variant(models.Model):
    """The text of a publication in one language."""

    publication = models.ForeignKey(
        Publication, on_delete=models.CASCADE, related_name="variants", verbose_name=_("publication")
    )
    language = models.CharField(_("language"), max_length=2)
    text = models.TextField(_("text"), max_length=63206)
    #: Optional text per platform ({"x": "shorter text"}) when one platform needs its own.
    platform_texts = models.JSONField(_("text per platform"), default=dict, blank=True)

    class Meta:
        ordering = ["publication", "language"]
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        constraints = [
            # One text per language per publication.
            models.UniqueConstraint(fields=["publication", "language"], name="variant_one_per_language"),
            models.CheckConstraint(
                condition=Q(language__regex=r"^[a-z]{2}$"), name="variant_language_is_a_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.publication} [{self.language}]"

    def text_for(self, platform: str) -> str:
        return self.platform_texts.get(platform) or self.text


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


#: The registered history verbs and how the history reads them.
EVENT_VERBS = {
    "created": _("created it"),
    "edited": _("edited it"),
    "edited_after_approval": _("edited it after approval: back to review"),
    "rescheduled": _("moved it"),
    "duplicated": _("copied it from another publication"),
    "submit": _("sent it to review"),
    "resubmit": _("sent it to review again"),
    "approve": _("approved it"),
    "request_changes": _("asked for changes"),
    "withdraw": _("withdrew it to draft"),
    "cancel": _("cancelled it"),
    "retry": _("sent it again after a failed delivery"),
    "published": _("published it"),
    "delivery_failed": _("could not be delivered"),
    "delivery_recorded": _("recorded it as published on a channel"),
    "delivery_retried": _("sent it again to a channel"),
    "zone_rules_changed": _("moved it in UTC after a change of the zone's rules (same local time)"),
    "held": _("held it: a crisis was declared"),
    "released": _("released it from the crisis hold"),
    "missed": _("its time passed during the crisis: to be rescheduled"),
    "break_glass": _("published it at once without review (break-glass)"),
    "reviewed_after": _("reviewed the break-glass publication after the fact"),
    "advisory_retimed": _("moved the advisory to the moment of approval"),
}


class PublicationEvent(models.Model):
    """Append-only history of a publication: who did what, when, from which state to which.

    Rows are only ever inserted (workflow.record_event); nothing updates or
    deletes them.
    """

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    verb = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    comment = models.TextField(blank=True)
    revision = models.PositiveIntegerField()
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("history entry")
        verbose_name_plural = _("history")

    def __str__(self) -> str:
        return f"{self.publication_id} {self.verb}"

    @property
    def verb_label(self) -> str:
        return str(EVENT_VERBS.get(self.verb, self.verb))

    @property
    def from_label(self) -> str:
        return PublicationStatus(self.from_status).label if self.from_status else ""

    @property
    def to_label(self) -> str:
        return PublicationStatus(self.to_status).label if self.to_status else ""


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


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REQUEST_CHANGES = "request_changes", _("Changes requested")


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
        return str(self.country.name)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    UNKNOWN = "unknown", _("Unknown: check the channel")


class Delivery(models.Model):
    """One attempt to put a publication on one channel, with its outcome.

    A delivery is claimed (claimed_at) with a compare-and-set before the platform
    is called, so two workers never send it twice; an outcome that cannot be known
    is `unknown` and waits for a person, never retried blindly.
    """

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="deliveries")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    #: Sent to platforms that accept one, so that a repeated request cannot post twice.
    idempotency_key = models.CharField(max_length=64, default=secrets.token_hex)
    platform_post_id = models.CharField(max_length=200, blank=True)
    url = models.URLField(_("live address"), blank=True, max_length=500)
    error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["publication", "channel"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]
        constraints = [
            # A publication goes to a channel at most once.
            models.UniqueConstraint(fields=["publication", "channel"], name="delivery_once_per_channel"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "delivered", "failed", "unknown"]),
                name="delivery_status_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.publication_id} → {self.channel_id}: {self.status}"

    @property
    def awaits_a_person(self) -> bool:
        """Posted by hand and not yet recorded, or an outcome someone must check."""
        return self.status == DeliveryStatus.UNKNOWN or (
            self.status == DeliveryStatus.PENDING and self.channel.connector == "manual"
        )
