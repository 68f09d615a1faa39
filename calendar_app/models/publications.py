"""What goes out, where and when: publications, their variants and history.

A publication's time is kept as the post-local wall time plus the zone (the
source of truth: "09:00 in Istanbul" stays 09:00 there) and the UTC instant
derived from them (`scheduled_at`, indexed, what the calendar and the
publisher query). `recompute_scheduled_at` re-derives the instant when a
country changes its time-zone rules.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from calendar_app.models.assets import Asset
from calendar_app.models.broadcasts import Broadcast
from calendar_app.models.campaigns import Campaign
from calendar_app.models.crisis import Crisis
from calendar_app.models.proposals import Proposal
from calendar_app.models.statuses import (
    CLOSED_STATUSES,
    NETWORK_VISIBLE_STATUSES,
    STATUS_ICONS,
    DeliveryStatus,
    PublicationKind,
    PublicationStatus,
)
from diplomacy import roles
from diplomacy.models import Channel, Post, validate_timezone
from diplomacy.roles import AnyUser

if TYPE_CHECKING:
    from calendar_app.models.review import PublicationRevision


#: The derived state of a publication with a delivery whose outcome is unknown (not a status).
NEEDS_A_CHECK_LABEL = _("Needs a check")
NEEDS_A_CHECK_ICON = "?"


def fast_tracked() -> Q:
    """An advisory written in crisis mode while its crisis is on: one approval sends it at
    once, whatever its time (a publication whose kind merely says "crisis advisory" is not)."""
    return Q(crisis__isnull=False, crisis__ended_at__isnull=True)


def has_unknown_delivery() -> Exists:
    """Whether the publication of the outer query has a delivery whose outcome is unknown
    (served by the delivery's unique index on publication and channel)."""
    from calendar_app.models.deliveries import Delivery  # defined after Publication

    return Exists(Delivery.objects.filter(publication=OuterRef("pk"), status=DeliveryStatus.UNKNOWN))


def in_time_for_review(now: datetime) -> Q:
    """Still decidable: its moment is ahead, or it is fast-tracked. The negation of
    `expired_in_review`, as a condition for counting both in one query."""
    return Q(scheduled_at__gt=now) | fast_tracked()


class PublicationQuerySet(models.QuerySet["Publication"]):
    def visible_to(self, user: AnyUser) -> PublicationQuerySet:
        """What `user` may see: central everything, a post's staff their posts' publications
        and the rest of the network's approved and published ones, anybody else nothing
        (the instance form: `Publication.is_visible_to`)."""
        if roles.is_central(user):
            return self
        if not roles.is_post_staff(user):
            return self.none()
        own_posts = roles.post_ids(user)
        return self.filter(Q(post_id__in=own_posts) | Q(status__in=NETWORK_VISIBLE_STATUSES))

    def in_care_of(self, user: AnyUser) -> PublicationQuerySet:
        """What `user` works on: central every publication, a post's staff their own posts'
        ones (not the network's), anybody else none. Crisis pages and the publish-now list."""
        if roles.is_central(user):
            return self
        return self.filter(post_id__in=roles.post_ids(user))

    def awaiting_review(self) -> PublicationQuerySet:
        """Sent to review and not decided yet, in time or not (the approval queue)."""
        return self.filter(status=PublicationStatus.IN_REVIEW)

    def fast_tracked(self) -> PublicationQuerySet:
        return self.filter(fast_tracked())

    def expired_in_review(self, now: datetime | None = None) -> PublicationQuerySet:
        """In review, its moment passed: nobody may approve it until the post moves it. An
        advisory of an active crisis never expires (it goes out when approved)."""
        return self.awaiting_review().exclude(in_time_for_review(now or timezone.now()))

    def may_go_out(self, now: datetime | None = None) -> PublicationQuerySet:
        """Approved, its time come and not more than MAX_LATENESS past, neither held by a
        crisis nor missed during one: what the engine sends and staff may post by hand (the
        instance form: `Publication.may_go_out`). The one rule of "never late": a delivery
        left pending, retried with back-off or moved to an API channel stops here too."""
        now = now or timezone.now()
        return self.filter(
            status=PublicationStatus.APPROVED,
            scheduled_at__lte=now,
            scheduled_at__gte=now - settings.MAX_LATENESS,
            held_by__isnull=True,
            missed_in__isnull=True,
        )

    def too_late(self, now: datetime | None = None) -> PublicationQuerySet:
        """Approved, not held, its time more than MAX_LATENESS past: what the sweep marks
        missed (workflow.miss_late_publications). A held one waits for its crisis to end."""
        now = now or timezone.now()
        return self.filter(
            status=PublicationStatus.APPROVED,
            scheduled_at__lt=now - settings.MAX_LATENESS,
            held_by__isnull=True,
        )

    def needing_a_check(self) -> PublicationQuerySet:
        """Publications with a delivery whose outcome is unknown: a person must look at the
        channel (the instance form: `Publication.needs_a_check`). Derived, not a status."""
        return self.filter(has_unknown_delivery())

    def with_check_flag(self) -> PublicationQuerySet:
        """Annotate `has_unknown_delivery` (one subquery), so that lists read
        `needs_a_check` without a query per row."""
        return self.annotate(has_unknown_delivery=has_unknown_delivery())

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
    assets = models.ManyToManyField(Asset, blank=True, related_name="publications")
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
    #: The group it was sent with (an advisory to every post, copies to several posts):
    #: the approval queue shows the group as one item and a reviewer decides it at once.
    broadcast = models.ForeignKey(
        Broadcast, on_delete=models.SET_NULL, null=True, blank=True, related_name="publications"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PublicationQuerySet.as_manager()

    # Not fields: what a calendar entry writes, set on the entries of one page by
    # calendar.label_entries and calendar.mark_movable (declared here for the type checker).
    status_label: str
    platform_labels: list[str]
    time_label: str
    zone_label: str
    can_move: bool

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

    def is_visible_to(self, user: AnyUser) -> bool:
        """The rule of `PublicationQuerySet.visible_to`, for one publication already loaded."""
        if roles.is_central(user):
            return True
        if not roles.is_post_staff(user):
            return False
        return self.post_id in roles.post_ids(user) or self.status in NETWORK_VISIBLE_STATUSES

    @property
    def is_fast_tracked(self) -> bool:
        """See `fast_tracked()`; reads the crisis (a query unless it was selected)."""
        crisis = self.crisis  # None without a query when there is no crisis
        return crisis is not None and crisis.is_active

    def is_expired_in_review(self, now: datetime | None = None) -> bool:
        """The rule of `PublicationQuerySet.expired_in_review`, for one publication. The
        crisis is read only for a publication in review whose moment passed."""
        return (
            self.status == PublicationStatus.IN_REVIEW
            and self.scheduled_at <= (now or timezone.now())
            and not self.is_fast_tracked
        )

    def may_go_out(self, now: datetime | None = None) -> bool:
        """The rule of `PublicationQuerySet.may_go_out`, for one publication."""
        now = now or timezone.now()
        return (
            self.status == PublicationStatus.APPROVED
            and now - settings.MAX_LATENESS <= self.scheduled_at <= now
            and not self.is_held
        )

    def is_too_late(self, now: datetime | None = None) -> bool:
        """Its time is more than MAX_LATENESS past: it is never sent any more."""
        return self.scheduled_at < (now or timezone.now()) - settings.MAX_LATENESS

    @cached_property
    def needs_a_check(self) -> bool:
        """The rule of `PublicationQuerySet.needing_a_check`: reads the annotation of
        `with_check_flag` when there is one, else asks the database."""
        flag = getattr(self, "has_unknown_delivery", None)
        if flag is not None:
            return bool(flag)
        return self.deliveries.filter(status=DeliveryStatus.UNKNOWN).exists()

    @property
    def state_label(self) -> str:
        """What people read for its state: the status, or "Needs a check" while a delivery's
        outcome is unknown (it may or may not be on the channel: "Approved" would mislead)."""
        if self.needs_a_check:
            return str(NEEDS_A_CHECK_LABEL)
        return str(self.get_status_display())

    @property
    def state_icon(self) -> str:
        return NEEDS_A_CHECK_ICON if self.needs_a_check else self.status_icon


def instant_for(local_date: date, local_time: time, zone_name: str) -> datetime:
    """The UTC instant of a wall time in a zone (fold=0 for ambiguous times).

    Forms refuse nonexistent and ambiguous times before calling this
    (calendar_app.timezones.check_local_time).
    """
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
    # Provenance of a machine-drafted text (calendar_app.translation). Not part of the
    # approved revision's content: an approval covers the words, these say who vouched for them.
    #: The service that drafted the text ("deepl", "libretranslate"); blank: a person wrote it.
    machine_translated = models.CharField(_("machine translated by"), max_length=20, blank=True)
    #: The language it was translated from.
    translated_from = models.CharField(_("translated from"), max_length=2, blank=True)
    translated_at = models.DateTimeField(_("translated at"), null=True, blank=True)
    #: Who read the machine's text and confirmed or corrected it; null: nobody yet.
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("checked by"),
    )
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)

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

    @property
    def is_unchecked_translation(self) -> bool:
        """A machine's text nobody has confirmed or corrected yet: not to be submitted."""
        return bool(self.machine_translated) and self.checked_by_id is None


#: The registered history verbs and how the history reads them.
EVENT_VERBS = {
    "created": _("created it"),
    "edited": _("edited it"),
    "edited_after_approval": _("edited it after approval: back to review"),
    "rescheduled": _("moved it"),
    "duplicated": _("copied it from another publication"),
    "adopted": _("adopted it from a partner’s proposal"),
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
    "delivery_continued": _("recorded a post found live on a channel after a check"),
    "zone_rules_changed": _("moved it in UTC after a change of the zone's rules (same local time)"),
    "held": _("held it: a crisis was declared"),
    "released": _("released it from the crisis hold"),
    "missed": _("its time passed during the crisis: to be rescheduled"),
    "missed_late": _("did not go out in time: to be rescheduled"),
    "delivery_failed_late": _("a channel was not sent to: its time had passed"),
    "delivery_unknown": _("a delivery's outcome became unknown: someone must check the channel"),
    "rescheduled_after_missed": _("gave it a new time after it was missed"),
    "break_glass": _("published it at once without review (break-glass)"),
    "reviewed_after": _("reviewed the break-glass publication after the fact"),
    "advisory_retimed": _("moved the advisory to the moment of approval"),
    "translation_checked": _("checked a machine translation"),
    "left_broadcast": _("took it out of its group: it is reviewed on its own"),
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
        return str(PublicationStatus(self.from_status).label) if self.from_status else ""

    @property
    def to_label(self) -> str:
        return str(PublicationStatus(self.to_status).label) if self.to_status else ""
