"""Every change to a publication's content, time or status, one function each.

Each function: authorises through calendar_app.permissions (PermissionDenied),
guards the state, changes the row with a compare-and-set update on the
revision it expects (so two people saving at once cannot both win, on SQLite
and PostgreSQL alike), and writes a history row in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calendar_app import permissions
from calendar_app.models import (
    Asset,
    Campaign,
    Proposal,
    ProposalEvent,
    ProposalStatus,
    Publication,
    PublicationEvent,
    PublicationKind,
    PublicationStatus,
    Variant,
    instant_for,
)
from calendar_app.timezones import check_local_time
from diplomacy import roles
from diplomacy.models import Channel, Post, User


class StaleEdit(Exception):
    """Someone saved the publication since the form was loaded; nothing was changed."""

    def __init__(self, current: Publication) -> None:
        super().__init__("stale")
        self.current = current


class TransitionNotAllowed(Exception):
    """The publication's state does not allow this move."""


@dataclass
class PublicationContent:
    """Everything an editor may change, as the form cleaned it."""

    title: str
    kind: str
    campaign: Campaign | None
    channels: list[Channel]
    local_date: date
    local_time: time
    #: {language: text}; an empty text removes the variant.
    variants: dict[str, str]
    #: {language: {platform: text}}
    platform_texts: dict[str, dict[str, str]] = field(default_factory=dict)
    new_assets: list[Asset] = field(default_factory=list)
    removed_asset_ids: list[int] = field(default_factory=list)
    #: Descriptions typed for the image already shown (the first one), by language.
    shown_alt_texts: dict[str, str] = field(default_factory=dict)


def record_event(
    publication: Publication,
    actor: User | None,
    verb: str,
    *,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    data: dict | None = None,
) -> PublicationEvent:
    """Append a history row (never updated, never deleted)."""
    return PublicationEvent.objects.create(
        publication=publication,
        actor=actor,
        verb=verb,
        from_status=from_status,
        to_status=to_status or from_status,
        comment=comment,
        revision=publication.revision,
        data=data or {},
    )


def _check_channels(post: Post, channels: list[Channel]) -> None:
    # Rule: a publication only goes to channels of its own post. The database
    # cannot say this across the many-to-many table, so every write checks it.
    foreign = [channel for channel in channels if channel.post_id != post.pk]
    if foreign:
        raise ValidationError(_("A channel of another post cannot be chosen."), code="foreign_channel")


def _write_variants(publication: Publication, content: PublicationContent) -> None:
    existing = {variant.language: variant for variant in publication.variants.all()}
    for language, text in content.variants.items():
        text = text.strip()
        overrides = {p: t.strip() for p, t in content.platform_texts.get(language, {}).items() if t.strip()}
        variant = existing.get(language)
        if not text:
            if variant:
                variant.delete()
            continue
        if variant is None:
            Variant.objects.create(
                publication=publication, language=language, text=text, platform_texts=overrides
            )
        elif variant.text != text or variant.platform_texts != overrides:
            variant.text, variant.platform_texts = text, overrides
            variant.save(update_fields=["text", "platform_texts"])


def create_publication(actor: User, post: Post, content: PublicationContent) -> Publication:
    """Plan a new publication as a draft.

    Who: the post's staff, or central. Triggers nothing else.
    """
    if not permissions.can_create_publication(actor, post):
        raise PermissionDenied
    _check_channels(post, content.channels)
    scheduled_at = check_local_time(content.local_date, content.local_time, post.timezone)
    with transaction.atomic():
        publication = Publication.objects.create(
            post=post,
            title=content.title,
            kind=content.kind,
            campaign=content.campaign,
            local_date=content.local_date,
            local_time=content.local_time,
            timezone=post.timezone,
            scheduled_at=scheduled_at,
            author=actor,
        )
        publication.channels.set(content.channels)
        _write_variants(publication, content)
        if content.new_assets:
            publication.assets.add(*content.new_assets)
        record_event(publication, actor, "created", to_status=publication.status)
    return publication


def content_snapshot(publication: Publication) -> dict:
    return {
        "title": publication.title,
        "kind": publication.kind,
        "campaign": publication.campaign_id,
        "channels": sorted(c.pk for c in publication.channels.all()),
        "local_date": publication.local_date.isoformat(),
        "local_time": publication.local_time.strftime("%H:%M"),
        "variants": {v.language: [v.text, v.platform_texts] for v in publication.variants.all()},
        # The descriptions belong to what is approved too.
        "assets": sorted([a.pk, a.alt_texts] for a in publication.assets.all()),
    }


def _describe_shown_image(publication: Publication, alt_texts: dict[str, str]) -> None:
    """New descriptions for the publication's first image; copied first when the image is
    shared (a duplicate, an adopted proposal), so nobody else's content changes."""
    shown = next(iter(publication.assets.order_by("pk")), None)
    merged = {**shown.alt_texts, **alt_texts} if shown else {}
    if shown is None or merged == shown.alt_texts:
        return
    shared = shown.publications.exclude(pk=publication.pk).exists() or shown.proposals.exists()
    if shared:
        copy = Asset.objects.get(pk=shown.pk)
        copy.pk = None
        copy.alt_texts = merged
        copy.save()
        publication.assets.remove(shown)
        publication.assets.add(copy)
    else:
        shown.alt_texts = merged
        shown.save(update_fields=["alt_texts"])


def update_publication(
    actor: User, publication: Publication, content: PublicationContent, *, expected_revision: int
) -> Publication:
    """Save an editor's changes.

    Who: the post's staff and central, until published or cancelled. A change
    to an approved publication's text, channels, images or time sends it back
    to review (an approval covers one exact revision). A form loaded at an
    older revision raises StaleEdit and changes nothing.
    """
    if not permissions.can_edit_publication(actor, publication):
        raise PermissionDenied
    _check_channels(publication.post, content.channels)
    scheduled_at = check_local_time(content.local_date, content.local_time, publication.timezone)
    with transaction.atomic():
        before = content_snapshot(publication)
        # Compare-and-set on the revision: an edit made from an older form is refused.
        claimed = Publication.objects.filter(pk=publication.pk, revision=expected_revision).exclude(
            status__in=[PublicationStatus.PUBLISHED, PublicationStatus.CANCELLED]
        )
        updated = claimed.update(
            title=content.title,
            kind=content.kind,
            campaign=content.campaign,
            local_date=content.local_date,
            local_time=content.local_time,
            scheduled_at=scheduled_at,
            revision=F("revision") + 1,
            updated_at=timezone.now(),
        )
        if not updated:
            raise StaleEdit(Publication.objects.get(pk=publication.pk))
        publication.refresh_from_db()
        # The status as it is now, not as the form saw it: an approval that landed in
        # between must not cover this unreviewed content (the edit rule below applies).
        from_status = to_status = publication.status
        publication.channels.set(content.channels)
        _write_variants(publication, content)
        if content.removed_asset_ids:
            publication.assets.remove(*content.removed_asset_ids)
        if content.shown_alt_texts:
            _describe_shown_image(publication, content.shown_alt_texts)
        if content.new_assets:
            publication.assets.add(*content.new_assets)
        after = content_snapshot(publication)
        changed = sorted(key for key in after if after[key] != before[key])
        if from_status == PublicationStatus.APPROVED and changed:
            to_status = PublicationStatus.IN_REVIEW
            Publication.objects.filter(pk=publication.pk).update(
                status=to_status, held_by=None, missed_in=None, released_from=None
            )
            publication.status = to_status
            publication.held_by_id = publication.missed_in_id = None
        if to_status == PublicationStatus.IN_REVIEW:
            # The reviewer decides on what is there now: a revision for the new number, checked again.
            _snapshot_revision(actor, publication)
        record_event(
            publication,
            actor,
            "edited" if to_status == from_status else "edited_after_approval",
            from_status=from_status,
            to_status=to_status,
            data={"changed": changed},
        )
        if to_status == PublicationStatus.IN_REVIEW and changed:
            from calendar_app import notifications

            notifications.notify("submitted", publication, actor)
    return publication


def reschedule_publication(
    actor: User,
    publication: Publication,
    *,
    local_date: date,
    local_time: time,
    expected_revision: int | None = None,
) -> Publication:
    """Move a publication to another post-local date and time.

    Who: whoever may edit it. An approved publication moved by its post goes
    back to review; moved by a central reviewer it keeps its approval. Both are
    recorded with the old and the new time.
    """
    if not permissions.can_reschedule(actor, publication):
        raise PermissionDenied
    scheduled_at = check_local_time(local_date, local_time, publication.timezone)
    expected = publication.revision if expected_revision is None else expected_revision
    with transaction.atomic():
        old = {"date": publication.local_date.isoformat(), "time": publication.local_time.strftime("%H:%M")}
        from_status = publication.status
        to_status = from_status
        if from_status == PublicationStatus.APPROVED and not roles.is_central(actor):
            to_status = PublicationStatus.IN_REVIEW
        if to_status == PublicationStatus.APPROVED and scheduled_at <= timezone.now():
            # It would go out at once, late (a missed publication moved to an hour gone by).
            raise ValidationError(_("Choose a time that has not passed yet."))
        changes = {}
        if to_status != PublicationStatus.APPROVED:
            changes["held_by"] = None
        updated = Publication.objects.filter(pk=publication.pk, revision=expected, status=from_status).update(
            local_date=local_date,
            local_time=local_time,
            scheduled_at=scheduled_at,
            status=to_status,
            revision=F("revision") + 1,
            updated_at=timezone.now(),
            # A new time takes it off the missed list: it goes out then (still held if a crisis is on).
            missed_in=None,
            **changes,
        )
        if not updated:
            raise StaleEdit(Publication.objects.get(pk=publication.pk))
        publication.refresh_from_db()
        if to_status == PublicationStatus.APPROVED and publication.held_by_id is None:
            _hold_if_in_crisis(actor, publication)
        if to_status == PublicationStatus.IN_REVIEW:
            from calendar_app import notifications

            _snapshot_revision(actor, publication)
            notifications.notify("submitted", publication, actor)
        record_event(
            publication,
            actor,
            "rescheduled",
            from_status=from_status,
            to_status=to_status,
            data={"from": old, "to": {"date": local_date.isoformat(), "time": local_time.strftime("%H:%M")}},
        )
    return publication


def duplicate_publication(
    actor: User,
    publication: Publication,
    *,
    local_date: date,
    local_time: time,
    posts: list[Post] | None = None,
) -> list[Publication]:
    """Copy a publication as new drafts: to another date, and (central) to other posts.

    On another post the copy goes to that post's channels on the same platforms.
    """
    if not permissions.can_duplicate(actor, publication):
        raise PermissionDenied
    targets = posts or [publication.post]
    if any(
        post.pk != publication.post_id for post in targets
    ) and not permissions.can_duplicate_to_other_posts(actor):
        raise PermissionDenied
    platforms = {channel.platform for channel in publication.channels.all()}
    variants = list(publication.variants.all())
    copies = []
    with transaction.atomic():
        for post in targets:
            channels = (
                list(publication.channels.all())
                if post.pk == publication.post_id
                else list(post.channels.filter(active=True, platform__in=platforms))
            )
            content = PublicationContent(
                title=publication.title,
                kind=publication.kind,
                campaign=publication.campaign,
                channels=channels,
                local_date=local_date,
                local_time=local_time,
                variants={v.language: v.text for v in variants},
                platform_texts={v.language: dict(v.platform_texts) for v in variants},
                new_assets=list(publication.assets.all()),
            )
            copy = create_publication(actor, post, content)
            record_event(copy, actor, "duplicated", to_status=copy.status, data={"from": publication.pk})
            copies.append(copy)
    return copies


def recompute_instants_for_zone(zone_name: str) -> int:
    """After a change of a zone's rules: re-derive the UTC instant of future publications.

    The post-local wall time is the source of truth, so "09:00 in Istanbul"
    stays 09:00 there. Returns how many publications moved.
    """
    moved = 0
    future = Publication.objects.filter(timezone=zone_name, scheduled_at__gte=timezone.now()).exclude(
        status__in=[PublicationStatus.PUBLISHED, PublicationStatus.CANCELLED]
    )
    for publication in future.only("pk", "local_date", "local_time", "timezone", "scheduled_at"):
        instant = instant_for(publication.local_date, publication.local_time, publication.timezone)
        if instant != publication.scheduled_at:
            # A new revision and time: calendar clients see SEQUENCE and LAST-MODIFIED change.
            Publication.objects.filter(pk=publication.pk).update(
                scheduled_at=instant, revision=F("revision") + 1, updated_at=timezone.now()
            )
            publication.refresh_from_db()
            record_event(
                publication,
                None,
                "zone_rules_changed",
                from_status=publication.status,
                data={"zone": zone_name, "utc": instant.isoformat()},
            )
            moved += 1
    return moved


# --- Review: one function per transition -------------------------------------------

S = PublicationStatus

#: The allowed moves, in one place: action -> (from states, to state).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((S.DRAFT,), S.IN_REVIEW),
    "resubmit": ((S.CHANGES_REQUESTED,), S.IN_REVIEW),
    "approve": ((S.IN_REVIEW,), S.APPROVED),
    "request_changes": ((S.IN_REVIEW,), S.CHANGES_REQUESTED),
    "withdraw": ((S.IN_REVIEW, S.APPROVED), S.DRAFT),
    "cancel": ((S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.FAILED), S.CANCELLED),
    # A delivery failed for good (e.g. expired credentials, fixed since): send it again.
    "retry": ((S.FAILED,), S.APPROVED),
}
MAX_COMMENT = 5000


class GuidelinesFailed(Exception):
    """Blocking guideline failures stop a submission; `results` says what to fix."""

    def __init__(self, results: list) -> None:
        super().__init__("blocking guidelines")
        self.results = results


class DecisionRefused(Exception):
    """A review decision that cannot be taken now; the message says why."""


def _guard(publication: Publication, action: str) -> str:
    sources, target = TRANSITIONS[action]
    if publication.status not in sources:
        raise TransitionNotAllowed(
            _("This publication is “%(status)s”: it cannot be %(action)s now.")
            % {"status": publication.get_status_display(), "action": ACTION_LABELS[action]}
        )
    return target


ACTION_LABELS = {
    "submit": gettext_lazy("submitted"),
    "resubmit": gettext_lazy("resubmitted"),
    "approve": gettext_lazy("approved"),
    "request_changes": gettext_lazy("sent back"),
    "withdraw": gettext_lazy("withdrawn"),
    "cancel": gettext_lazy("cancelled"),
    "retry": gettext_lazy("sent again"),
}


def _move(
    actor: User,
    publication: Publication,
    action: str,
    *,
    expected_revision: int | None = None,
    comment: str = "",
    data: dict | None = None,
) -> str:
    """Compare-and-set the status (and revision, when given); refuse if someone got there first.

    Must run inside a transaction; writes the history row in it.
    """
    target = _guard(publication, action)
    source = publication.status
    rows = Publication.objects.filter(pk=publication.pk, status=source)
    if expected_revision is not None:
        rows = rows.filter(revision=expected_revision)
    changes = {"status": target, "updated_at": timezone.now()}
    if target != S.APPROVED:
        # A crisis holds approved publications only; one that leaves approved is no longer held.
        changes.update(held_by=None, missed_in=None, released_from=None)
    if not rows.update(**changes):
        raise StaleEdit(Publication.objects.get(pk=publication.pk))
    publication.status = target
    if target != S.APPROVED:
        publication.held_by_id = publication.missed_in_id = None
    record_event(publication, actor, action, from_status=source, to_status=target, comment=comment, data=data)
    return target


def _snapshot_revision(actor: User, publication: Publication) -> tuple:
    """Store the content under review as a revision, with its guideline results."""
    from calendar_app import guidelines
    from calendar_app.models import PublicationRevision

    results = guidelines.check(guidelines.CheckContext.for_publication(publication))
    snapshot = content_snapshot(publication)
    revision, _created = PublicationRevision.objects.update_or_create(
        publication=publication,
        number=publication.revision,
        defaults={
            "content": snapshot,
            "submitted_by": actor,
            "checks": [
                {"code": r.code, "severity": r.severity, "passed": r.passed, "problems": r.problems}
                for r in results
            ],
            "has_warnings": any(not r.passed and not r.blocking for r in results),
            "has_blocking": any(r.blocking for r in results),
        },
    )
    publication.__dict__["latest_revision"] = revision
    return revision, results


def submit(actor: User, publication: Publication) -> Publication:
    """Send a draft to review.

    Who: the post's staff or central. From: draft. Runs the guidelines: blocking
    failures raise GuidelinesFailed and change nothing; warnings go with the
    revision to the reviewer. Notifies central reviewers after commit.
    """
    return _send_to_review(actor, publication, "submit")


def resubmit(actor: User, publication: Publication) -> Publication:
    """Send a publication back to review after changes were requested.

    Who: the post's staff or central. From: changes requested. As `submit`.
    """
    return _send_to_review(actor, publication, "resubmit")


def _send_to_review(actor: User, publication: Publication, action: str) -> Publication:
    from calendar_app import guidelines, notifications

    if not permissions.can_submit(actor, publication):
        raise PermissionDenied
    _guard(publication, action)
    with transaction.atomic():
        if publication.reviews.filter(revision__number=publication.revision).exists():
            # That revision was decided already (sent back unchanged): number a new one.
            bumped = Publication.objects.filter(
                pk=publication.pk, revision=publication.revision, status=publication.status
            ).update(revision=F("revision") + 1)
            if not bumped:
                raise StaleEdit(Publication.objects.get(pk=publication.pk))
            publication.revision += 1
        revision, results = _snapshot_revision(actor, publication)
        failures = guidelines.blocking_failures(results)
        if failures:
            raise GuidelinesFailed(failures)  # leaving the block rolls the revision back
        _move(
            actor,
            publication,
            action,
            expected_revision=publication.revision,
            data={"revision": revision.number},
        )
        notifications.notify("submitted", publication, actor)
    return publication


def approve(
    actor: User, publication: Publication, *, expected_revision: int, comment: str = ""
) -> Publication:
    """Approve the exact revision the reviewer saw.

    Who: a central reviewer who is not the author or the submitter (four eyes).
    From: in review. Refused when the content changed since (StaleEdit), when
    the revision has blocking failures, or when its time has passed (it goes
    to the expired list for rescheduling). Notifies the post after commit.
    """
    return _decide(actor, publication, "approve", expected_revision=expected_revision, comment=comment)


def request_changes(
    actor: User, publication: Publication, *, expected_revision: int, comment: str
) -> Publication:
    """Send a publication back to its post with a comment saying what to change.

    Who: a central reviewer, not the author. From: in review. The comment is
    required. Notifies the author and the post's staff after commit.
    """
    return _decide(
        actor, publication, "request_changes", expected_revision=expected_revision, comment=comment
    )


def _decide(
    actor: User, publication: Publication, action: str, *, expected_revision: int, comment: str
) -> Publication:
    from calendar_app import guidelines, notifications
    from calendar_app.models import Review, ReviewDecision

    if not permissions.can_review(actor, publication):
        raise PermissionDenied
    _guard(publication, action)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DecisionRefused(_("A comment has at most %(max)s characters.") % {"max": MAX_COMMENT})
    if action == "request_changes" and not comment:
        raise DecisionRefused(_("Say what to change: a comment is required."))
    revision = publication.latest_revision
    if revision is None or revision.number != expected_revision or publication.revision != expected_revision:
        raise StaleEdit(Publication.objects.get(pk=publication.pk))
    # Fast track: an advisory written in crisis mode, while its crisis is on (not merely
    # a publication whose kind says "crisis advisory").
    is_advisory = publication.crisis_id is not None and publication.crisis.is_active
    if action == "approve":
        if any(c["severity"] == guidelines.BLOCKING and not c["passed"] for c in revision.checks):
            raise DecisionRefused(_("This revision fails a blocking guideline: request changes instead."))
        if publication.scheduled_at <= timezone.now() and not is_advisory:
            raise DecisionRefused(_("Its time has passed: the post must reschedule it first."))
    with transaction.atomic():
        _move(actor, publication, action, expected_revision=expected_revision, comment=comment)
        if action == "approve" and is_advisory:
            _fast_track(actor, publication)
        elif action == "approve":
            _hold_if_in_crisis(actor, publication)
        Review.objects.create(
            publication=publication,
            revision=revision,
            reviewer=actor,
            decision=ReviewDecision.APPROVE if action == "approve" else ReviewDecision.REQUEST_CHANGES,
            comment=comment,
            guideline_version=guidelines.current_version(),
        )
        if comment:
            # The decision's comment also belongs to the thread between post and central.
            from calendar_app.models import Comment

            Comment.objects.create(publication=publication, author=actor, text=comment)
        notifications.notify(
            "approved" if action == "approve" else "changes_requested", publication, actor, comment
        )
        if action == "approve":
            _schedule_delivery(publication)
    return publication


def withdraw(actor: User, publication: Publication) -> Publication:
    """Take a publication out of review (or back from approved) into draft.

    Who: the post's staff or central. From: in review, approved.
    """
    if not permissions.can_withdraw(actor, publication):
        raise PermissionDenied
    with transaction.atomic():
        _move(actor, publication, "withdraw")
    return publication


def cancel(actor: User, publication: Publication, *, comment: str = "") -> Publication:
    """Cancel a publication that has not gone out.

    Who: the post's staff or central. From: any state but published and cancelled.
    """
    if not permissions.can_cancel(actor, publication):
        raise PermissionDenied
    with transaction.atomic():
        _move(actor, publication, "cancel", comment=(comment or "")[:MAX_COMMENT])
    return publication


def retry(actor: User, publication: Publication) -> Publication:
    """Send a failed publication again, on the channels where it failed.

    Who: the post's staff or central. From: failed. Its failed deliveries go back to
    pending for the engine; delivered ones stay delivered (nothing is posted twice).
    """
    from calendar_app.models import Delivery, DeliveryStatus

    if not permissions.can_retry(actor, publication):
        raise PermissionDenied
    with transaction.atomic():
        _move(actor, publication, "retry")
        Delivery.objects.filter(publication=publication, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            claimed_at=None,
            next_attempt_at=timezone.now(),
            error="",
        )
        _hold_if_in_crisis(actor, publication)
    _schedule_delivery(publication)
    return publication


def add_comment(actor: User, publication: Publication, text: str):
    """Add a message to the publication's thread; notifies the other side after commit."""
    from calendar_app import notifications
    from calendar_app.models import Comment

    if not permissions.can_comment(actor, publication):
        raise PermissionDenied
    text = (text or "").strip()
    if not text:
        raise DecisionRefused(_("Write a comment first."))
    if len(text) > MAX_COMMENT:
        raise DecisionRefused(_("A comment has at most %(max)s characters.") % {"max": MAX_COMMENT})
    with transaction.atomic():
        comment = Comment.objects.create(publication=publication, author=actor, text=text)
        notifications.notify("commented", publication, actor, text)
    return comment


# --- Partner proposals: one function per transition -----------------------------------

P = ProposalStatus

PROPOSAL_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((P.DRAFT,), P.SUBMITTED),
    "withdraw": ((P.DRAFT, P.SUBMITTED, P.ACCEPTED), P.WITHDRAWN),
    "accept": ((P.SUBMITTED,), P.ACCEPTED),
    "decline": ((P.SUBMITTED,), P.DECLINED),
}


def _move_proposal(actor: User, proposal: Proposal, action: str, *, comment: str = "", **changes) -> None:
    """Compare-and-set a proposal's status and write its history row (inside a transaction)."""
    sources, target = PROPOSAL_TRANSITIONS[action]
    if proposal.status not in sources:
        raise TransitionNotAllowed(
            _("This proposal is “%(status)s”: it cannot be %(action)s now.")
            % {"status": proposal.get_status_display(), "action": PROPOSAL_ACTION_LABELS[action]}
        )
    source = proposal.status
    if not Proposal.objects.filter(pk=proposal.pk, status=source).update(
        status=target, updated_at=timezone.now(), **changes
    ):
        raise TransitionNotAllowed(_("Someone else acted on this proposal first."))
    proposal.status = target
    for name, value in changes.items():
        setattr(proposal, name, value)
    ProposalEvent.objects.create(
        proposal=proposal, actor=actor, verb=action, from_status=source, to_status=target, comment=comment
    )


PROPOSAL_ACTION_LABELS = {
    "submit": gettext_lazy("submitted"),
    "withdraw": gettext_lazy("withdrawn"),
    "accept": gettext_lazy("accepted"),
    "decline": gettext_lazy("declined"),
}


def submit_proposal(actor: User, proposal: Proposal) -> Proposal:
    """Send a partner's proposal to central comms.

    Who: the partner's contributors. From: draft. It needs a text in at least one
    language. Notifies central reviewers after commit.
    """
    from calendar_app import notifications

    if not permissions.can_submit_proposal(actor, proposal):
        raise PermissionDenied
    if not proposal.variants.exists():
        raise DecisionRefused(_("Write a suggested text in at least one language first."))
    with transaction.atomic():
        _move_proposal(actor, proposal, "submit", submitted_at=timezone.now())
        notifications.notify_proposal("proposal_submitted", proposal, actor)
    return proposal


def withdraw_proposal(actor: User, proposal: Proposal) -> Proposal:
    """Take a proposal back. Who: the partner's contributors. From: draft, submitted, accepted.

    Publications already adopted from it stay with their posts.
    """
    if not permissions.can_withdraw_proposal(actor, proposal):
        raise PermissionDenied
    with transaction.atomic():
        _move_proposal(actor, proposal, "withdraw")
    return proposal


def accept_proposal(
    actor: User,
    proposal: Proposal,
    *,
    target: str | None = None,
    countries: list[str] | None = None,
    posts: list[Post] | None = None,
    campaign: Campaign | None = None,
) -> Proposal:
    """Accept a proposal and route it, optionally narrowing its targets and attaching a campaign.

    Who: central reviewers. From: submitted. Notifies the partner after commit.
    """
    from calendar_app import notifications

    if not permissions.can_triage_proposal(actor, proposal):
        raise PermissionDenied
    changes: dict = {"decided_by": actor, "decided_at": timezone.now()}
    if target:
        changes["target"] = target
        changes["target_countries"] = ",".join(countries or []) if target == "countries" else ""
    if campaign is not None:
        changes["campaign"] = campaign
    with transaction.atomic():
        _move_proposal(actor, proposal, "accept", **changes)
        if target == "posts":
            proposal.target_posts.set(posts or [])
        elif target:
            proposal.target_posts.clear()
        notifications.notify_proposal("proposal_accepted", proposal, actor)
    return proposal


def decline_proposal(actor: User, proposal: Proposal, *, reason: str) -> Proposal:
    """Decline a proposal, saying why. Who: central reviewers. From: submitted.

    Notifies the partner, in their language, after commit.
    """
    from calendar_app import notifications

    if not permissions.can_triage_proposal(actor, proposal):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise DecisionRefused(_("Say why the proposal is declined: the partner reads it."))
    if len(reason) > MAX_COMMENT:
        raise DecisionRefused(_("A comment has at most %(max)s characters.") % {"max": MAX_COMMENT})
    with transaction.atomic():
        _move_proposal(
            actor,
            proposal,
            "decline",
            comment=reason,
            decline_reason=reason,
            decided_by=actor,
            decided_at=timezone.now(),
        )
        notifications.notify_proposal("proposal_declined", proposal, actor, reason)
    return proposal


def adopt_proposal(actor: User, proposal: Proposal, post: Post) -> Publication:
    """Make a draft publication of `post` from an accepted proposal, linked to it.

    Who: the post's staff, while the proposal is accepted, aimed at the post and
    inside its window. The draft then follows the normal guidelines and review.
    """
    if not permissions.can_adopt_proposal(actor, proposal, post):
        raise PermissionDenied
    today = timezone.localdate()
    start = (
        proposal.window_starts_on if proposal.window_starts_on and proposal.window_starts_on > today else None
    )
    local_date = start or today + timedelta(days=3)
    if proposal.window_ends_on and local_date > proposal.window_ends_on:
        local_date = max(proposal.window_ends_on, today)  # inside the window, and not in the past
    local_time = time(10, 0)
    if (
        Publication.objects.filter(proposal=proposal, post=post)
        .exclude(status=PublicationStatus.CANCELLED)
        .exists()
    ):
        raise DecisionRefused(_("Your post already adopted this proposal: find it on the calendar."))
    with transaction.atomic():
        content = PublicationContent(
            title=proposal.title[:200],
            kind=PublicationKind.PARTNER_RELAY,
            campaign=proposal.campaign,
            channels=list(post.channels.filter(active=True)),
            local_date=local_date,
            local_time=local_time,
            variants={variant.language: variant.text for variant in proposal.variants.all()},
            new_assets=list(proposal.assets.all()),
        )
        publication = create_publication(actor, post, content)
        Publication.objects.filter(pk=publication.pk).update(proposal=proposal)
        publication.proposal = proposal
        record_event(
            publication, actor, "adopted", to_status=publication.status, data={"proposal": proposal.pk}
        )
        ProposalEvent.objects.create(
            proposal=proposal,
            actor=actor,
            verb="adopted",
            from_status=proposal.status,
            to_status=proposal.status,
            data={"post": post.code, "publication": publication.pk},
        )
    return publication


def dismiss_proposal(actor: User, proposal: Proposal, post: Post, *, reason: str = "") -> None:
    """A post says "not for us"; it leaves the post's library. Central can read the reason."""
    from calendar_app.models import ProposalDismissal

    if not permissions.can_adopt_proposal(actor, proposal, post):
        raise PermissionDenied
    ProposalDismissal.objects.update_or_create(
        proposal=proposal, post=post, defaults={"user": actor, "reason": (reason or "").strip()[:2000]}
    )


# --- Publishing: the outcome of deliveries ---------------------------------------------


def settle_publication(publication_id: int) -> str:
    """Approved → published once every delivery is delivered, → failed if one failed for good.

    Called by the engine (no actor); compare-and-set on `approved`, with a history row.
    """
    from calendar_app.models import Delivery, DeliveryStatus

    statuses = set(Delivery.objects.filter(publication_id=publication_id).values_list("status", flat=True))
    if not statuses:
        return ""
    if statuses == {DeliveryStatus.DELIVERED}:
        target, verb = PublicationStatus.PUBLISHED, "published"
    elif DeliveryStatus.FAILED in statuses:
        target, verb = PublicationStatus.FAILED, "delivery_failed"
    else:
        return ""
    with transaction.atomic():
        if not Publication.objects.filter(pk=publication_id, status=PublicationStatus.APPROVED).update(
            status=target, updated_at=timezone.now()
        ):
            return ""
        publication = Publication.objects.get(pk=publication_id)
        record_event(publication, None, verb, from_status=PublicationStatus.APPROVED, to_status=target)
        if target == PublicationStatus.FAILED:
            from calendar_app import notifications

            # Reported to the post, with the platform's reason.
            errors = Delivery.objects.filter(publication_id=publication_id, status=DeliveryStatus.FAILED)
            notifications.notify(
                "delivery_failed", publication, None, "; ".join(errors.values_list("error", flat=True))
            )
    return target


def record_delivery(actor: User, delivery, url: str):
    """Staff posted it by hand, or checked an unknown outcome: delivered, with its live address.

    Who: the post's staff and central. From: a pending or unknown delivery of an
    approved publication.
    """

    if not permissions.can_record_delivery(actor, delivery.publication):
        raise PermissionDenied
    with transaction.atomic():
        return _record_delivery(actor, delivery, url)


def _record_delivery(actor: User, delivery, url: str):
    from calendar_app.models import Delivery, DeliveryStatus

    hold_what_active_crises_cover()
    # Only for a publication that may go out now: approved, neither held nor missed (a
    # subquery, so that the compare-and-set itself names only the delivery's columns).
    sendable = Delivery.objects.filter(
        pk=delivery.pk,
        publication__status=PublicationStatus.APPROVED,
        publication__held_by__isnull=True,
        publication__missed_in__isnull=True,
    )
    if not sendable.exists():
        raise TransitionNotAllowed(
            _("This publication may not go out now (held by a crisis, or not approved).")
        )
    updated = (
        Delivery.objects.filter(pk=delivery.pk, status__in=[DeliveryStatus.PENDING, DeliveryStatus.UNKNOWN])
        .filter(pk__in=sendable.values("pk"))
        .update(
            status=DeliveryStatus.DELIVERED, url=url, delivered_at=timezone.now(), recorded_by=actor, error=""
        )
    )
    if not updated:
        raise TransitionNotAllowed(_("This delivery was already recorded."))
    delivery.refresh_from_db()
    record_event(
        delivery.publication,
        actor,
        "delivery_recorded",
        from_status=delivery.publication.status,
        data={"channel": delivery.channel_id, "url": url},
    )
    settle_publication(delivery.publication_id)
    return delivery


def retry_delivery(actor: User, delivery):
    """After checking the channel: the unknown delivery did not go out; send it again."""
    from calendar_app.models import Delivery, DeliveryStatus

    if not permissions.can_record_delivery(actor, delivery.publication):
        raise PermissionDenied
    if not Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNKNOWN).update(
        status=DeliveryStatus.PENDING, claimed_at=None, next_attempt_at=timezone.now(), error=""
    ):
        raise TransitionNotAllowed(_("Only a delivery whose outcome is unknown can be sent again."))
    record_event(delivery.publication, actor, "delivery_retried", from_status=delivery.publication.status)
    return delivery


def _schedule_delivery(publication: Publication) -> None:
    """After commit, a task for the publication's exact time (the minute job is the safety net)."""
    from calendar_app.tasks import schedule_publication

    schedule_publication(publication)


# --- Crisis mode -----------------------------------------------------------------------


class CrisisRefused(Exception):
    """A crisis action that cannot be taken as asked; the message says why."""


def _crisis_event(crisis, actor: User | None, verb: str, *, publication=None, comment: str = "", data=None):
    from calendar_app.models import CrisisEvent

    return CrisisEvent.objects.create(
        crisis=crisis, actor=actor, verb=verb, publication=publication, comment=comment, data=data or {}
    )


def _events_for(publications: list[Publication], actor: User | None, verb: str, **fields) -> None:
    """One history row per publication, in one query (holds touch many rows at once)."""
    PublicationEvent.objects.bulk_create(
        [
            PublicationEvent(
                publication=publication,
                actor=actor,
                verb=verb,
                from_status=publication.status,
                to_status=publication.status,
                revision=publication.revision,
                **fields,
            )
            for publication in publications
        ]
    )


def _hold_if_in_crisis(actor: User, publication: Publication) -> None:
    """An approval during a crisis at the post: the publication waits with the others."""
    from calendar_app.models import Crisis

    if publication.crisis_id is not None:
        return  # an advisory goes out during its crisis
    crises = Crisis.objects.active().affecting(publication.post)
    if publication.released_from_id:
        crises = crises.exclude(pk=publication.released_from_id)
    crisis = crises.first()
    if crisis is None:
        return
    Publication.objects.filter(pk=publication.pk).update(held_by=crisis)
    publication.held_by = crisis
    record_event(publication, actor, "held", from_status=publication.status, data={"crisis": crisis.pk})
    _crisis_event(crisis, actor, "held", publication=publication, data={"count": 1})


def _fast_track(actor: User, publication: Publication) -> None:
    """An approved advisory goes out now if its moment passed while it waited for approval."""
    from calendar_app.models import Crisis

    now = timezone.now()
    if publication.scheduled_at <= now:
        local = now.astimezone(publication.zone)
        Publication.objects.filter(pk=publication.pk).update(
            local_date=local.date(),
            local_time=local.time().replace(second=0, microsecond=0),
            scheduled_at=now,
        )
        old = publication.scheduled_at.isoformat()
        publication.refresh_from_db()
        record_event(
            publication,
            actor,
            "advisory_retimed",
            data={"from": old, "to": publication.scheduled_at.isoformat()},
        )
    if publication.crisis_id:
        crisis = Crisis.objects.get(pk=publication.crisis_id)
        _crisis_event(crisis, actor, "advisory_approved", publication=publication)


def _valid_countries(codes: list[str]) -> list[str]:
    from django_countries import countries as all_countries

    cleaned = sorted({code.strip().upper() for code in codes if code.strip()})
    unknown = [code for code in cleaned if code not in all_countries]
    if unknown:
        raise CrisisRefused(_("Unknown country code: %(codes)s.") % {"codes": ", ".join(unknown)})
    return cleaned


def declare_crisis(
    actor: User,
    *,
    title: str,
    reason: str,
    whole_network: bool = False,
    countries: list[str] | None = None,
    posts: list[Post] | None = None,
):
    """Declare a crisis for the whole network, some countries or some posts.

    Who: central for any scope; a post manager for posts they manage. Holds every
    approved publication of the affected posts but advisories, writes the timeline,
    and tells on-call reviewers (and the affected posts) after commit.
    """
    from calendar_app import notifications
    from calendar_app.models import Crisis

    title, reason = (title or "").strip(), (reason or "").strip()
    countries = _valid_countries(countries or [])
    posts = list(posts or [])
    if not permissions.can_declare_crisis_for(
        actor, whole_network=whole_network, countries=countries, posts=posts
    ):
        raise PermissionDenied
    if not title or not reason:
        raise CrisisRefused(_("Give the crisis a title and say why it is declared."))
    if not (whole_network or countries or posts):
        raise CrisisRefused(_("Say where the crisis is: the whole network, some countries or some posts."))
    with transaction.atomic():
        crisis = Crisis.objects.create(
            title=title[:200],
            reason=reason[:5000],
            whole_network=whole_network,
            countries=",".join(countries),
            declared_by=actor,
            declared_at=timezone.now(),
        )
        crisis.posts.set(posts)
        _crisis_event(
            crisis,
            actor,
            "declared",
            comment=crisis.reason,
            data={"whole_network": whole_network, "countries": countries, "posts": [p.pk for p in posts]},
        )
        held = _hold_publications(crisis, actor)
        if held:
            _crisis_event(crisis, actor, "held", data={"count": held})
        notifications.notify_crisis("crisis_declared", crisis, actor)
    return crisis


def _hold_publications(crisis, actor: User | None) -> int:
    """Hold the approved, not yet delivered publications of the crisis's posts (advisories go on)."""
    candidates = list(
        Publication.objects.filter(
            status=PublicationStatus.APPROVED,
            post__in=crisis.affected_posts(),
            held_by__isnull=True,
            missed_in__isnull=True,
            # Advisories of any crisis go out; what central released from this one stays released.
            crisis__isnull=True,
        ).exclude(released_from=crisis)
    )
    ids = [publication.pk for publication in candidates]
    # Compare-and-set: a publication another crisis held in between stays with that one.
    Publication.objects.filter(pk__in=ids, status=PublicationStatus.APPROVED, held_by__isnull=True).update(
        held_by=crisis
    )
    mine = set(Publication.objects.filter(pk__in=ids, held_by=crisis).values_list("pk", flat=True))
    held = [publication for publication in candidates if publication.pk in mine]
    _events_for(held, actor, "held", data={"crisis": crisis.pk})
    return len(held)


def hold_what_active_crises_cover() -> int:
    """Hold approved publications that active crises take in but that no step held yet.

    Declaring a crisis and approving during one hold publications; this sweep, run by
    the publishing jobs before they send anything, catches every other way in: a post
    whose country changed into a crisis, a failed publication sent again, an approval
    that committed while a declaration did. Returns how many it held.
    """
    from calendar_app.models import Crisis

    held = 0
    for crisis in Crisis.objects.active():
        with transaction.atomic():
            count = _hold_publications(crisis, None)
            if count:
                _crisis_event(crisis, None, "held", data={"count": count})
        held += count
    return held


def release_publication(actor: User, publication: Publication) -> str:
    """Let one held publication go: at its time, or onto the missed list if its time passed.

    Who: central reviewers. From: approved and held. Returns "released" or "missed".
    """
    from calendar_app.models import Crisis

    if not permissions.can_release_hold(actor, publication):
        raise PermissionDenied
    crisis = Crisis.objects.get(pk=publication.held_by_id)
    late = publication.scheduled_at <= timezone.now()
    with transaction.atomic():
        changes = {"held_by": None, "released_from": crisis}
        if late:
            changes["missed_in"] = crisis
        if not Publication.objects.filter(
            pk=publication.pk, held_by=crisis, status=PublicationStatus.APPROVED
        ).update(**changes):
            raise TransitionNotAllowed(_("This publication is no longer held."))
        verb = "missed" if late else "released"
        publication.held_by_id = None
        publication.missed_in_id = crisis.pk if late else None
        record_event(publication, actor, verb, from_status=publication.status, data={"crisis": crisis.pk})
        _crisis_event(crisis, actor, verb if late else "released", publication=publication)
    return verb


def end_crisis(actor: User, crisis) -> dict[str, int]:
    """End a crisis: held publications come back; those whose time passed are listed as missed.

    Who: central, or the post manager for a crisis of their own posts. From: active.
    A publication another active crisis covers stays held by that one. Nothing is
    sent late: missed publications wait for a person to reschedule them.
    """
    from calendar_app import notifications
    from calendar_app.models import Crisis

    if not permissions.can_end_crisis(actor, crisis):
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        if not Crisis.objects.filter(pk=crisis.pk, ended_at__isnull=True).update(
            ended_at=now, ended_by=actor
        ):
            raise TransitionNotAllowed(_("This crisis has already ended."))
        crisis.ended_at, crisis.ended_by = now, actor
        others = list(Crisis.objects.active().prefetch_related("posts"))
        held = list(Publication.objects.filter(held_by=crisis).select_related("post"))
        moved: dict[str, list[Publication]] = {"released": [], "missed": []}
        handed_over: dict[int, list[int]] = {}
        for publication in held:
            other = next(
                (c for c in others if c.takes_in(publication.post, {p.pk for p in c.posts.all()})), None
            )
            if other is not None:
                handed_over.setdefault(other.pk, []).append(publication.pk)
            elif publication.scheduled_at <= now:
                moved["missed"].append(publication)
            else:
                moved["released"].append(publication)
        # One compare-and-set a row (a crisis holds tens, not thousands): a publication a
        # colleague released in the meantime is neither moved nor recorded twice.
        still_held = 0
        for other_pk, ids in handed_over.items():
            still_held += Publication.objects.filter(pk__in=ids, held_by=crisis).update(held_by=other_pk)
        changes = {"released": {"held_by": None}, "missed": {"held_by": None, "missed_in": crisis}}
        for verb in ("released", "missed"):
            moved[verb] = [
                p
                for p in moved[verb]
                if Publication.objects.filter(pk=p.pk, held_by=crisis).update(**changes[verb])
            ]
            _events_for(moved[verb], actor, verb, data={"crisis": crisis.pk})
        counts = {
            "released": len(moved["released"]),
            "missed": len(moved["missed"]),
            "still_held": still_held,
        }
        if counts["missed"]:
            _crisis_event(crisis, actor, "missed", data={"count": counts["missed"]})
        _crisis_event(crisis, actor, "ended", data=counts)
        notifications.notify_crisis("crisis_ended", crisis, actor, missed=counts["missed"])
    return counts


def acknowledge_crisis(actor: User, crisis) -> None:
    """A central reviewer takes the crisis up: the on-call escalation stops.

    Who: central, not the declarer. Once per reviewer.
    """
    if not permissions.can_acknowledge_crisis(actor, crisis):
        raise PermissionDenied
    with transaction.atomic():
        if crisis.events.filter(verb="acknowledged", actor=actor).exists():
            return
        _crisis_event(crisis, actor, "acknowledged")


@dataclass
class AdvisoryContent:
    """An advisory as the composer cleaned it."""

    title: str
    #: {language: text}: Dutch and French required, English and host languages optional.
    variants: dict[str, str]
    platforms: list[str]


def _advisory_languages_for(post: Post, variants: dict[str, str]) -> dict[str, str]:
    """The advisory's texts a post publishes: the network languages, and its own host languages."""
    from calendar_app.models import NETWORK_LANGUAGES

    own = set(NETWORK_LANGUAGES) | set(post.host_language_list)
    return {language: text for language, text in variants.items() if text.strip() and language in own}


def _advisory_moment(post: Post) -> tuple[date, time, object]:
    """This minute where the post is: an advisory is due at once and goes out when approved."""
    local = timezone.now().astimezone(post.zone).replace(second=0, microsecond=0)
    return local.date(), local.time(), instant_for(local.date(), local.time(), post.timezone)


def _check_advisory(content: AdvisoryContent) -> None:
    if not content.title.strip():
        raise CrisisRefused(_("Give the advisory a title."))
    missing = [code for code in ("nl", "fr") if not content.variants.get(code, "").strip()]
    if missing:
        from calendar_app.models import language_names

        raise CrisisRefused(
            _("An advisory is published in Dutch and French: add the text in %(languages)s.")
            % {"languages": language_names(missing)}
        )
    if not content.platforms:
        raise CrisisRefused(_("Choose at least one platform."))


def _new_advisory(actor: User, crisis, post: Post, channels: list[Channel], content: AdvisoryContent):
    local_date, local_time, scheduled_at = _advisory_moment(post)
    publication = Publication.objects.create(
        post=post,
        title=content.title.strip()[:200],
        kind=PublicationKind.CRISIS_ADVISORY,
        crisis=crisis,
        local_date=local_date,
        local_time=local_time,
        timezone=post.timezone,
        scheduled_at=scheduled_at,
        author=actor,
    )
    publication.channels.set(channels)
    Variant.objects.bulk_create(
        [
            Variant(publication=publication, language=language, text=text.strip())
            for language, text in sorted(_advisory_languages_for(post, content.variants).items())
        ]
    )
    record_event(publication, actor, "created", to_status=publication.status, data={"crisis": crisis.pk})
    return publication


#: The same advisory sent again within this time is a second click, not a second advisory.
REPEAT_WINDOW = timedelta(minutes=2)


def _refuse_a_repeat(actor: User, crisis, posts: list[Post], content: AdvisoryContent) -> None:
    recent = Publication.objects.filter(
        crisis=crisis,
        author=actor,
        post__in=posts,
        title=content.title.strip()[:200],
        created_at__gte=timezone.now() - REPEAT_WINDOW,
    )
    if recent.exists():
        raise CrisisRefused(_("This advisory was sent a moment ago: it is not sent twice."))


def _channels_by_post(posts, platforms: list[str]) -> dict[int, list[Channel]]:
    by_post: dict[int, list[Channel]] = {}
    for channel in Channel.objects.filter(post__in=posts, platform__in=platforms, active=True).order_by(
        "platform", "handle"
    ):
        by_post.setdefault(channel.post_id, []).append(channel)
    return by_post


def broadcast_advisory(actor: User, crisis, content: AdvisoryContent) -> tuple[list[Publication], list[Post]]:
    """One advisory to every affected post's channels on the chosen platforms, sent to review.

    Who: central, while the crisis is active. Each post gets its own publication
    (kind crisis advisory, linked to the crisis), checked by the guidelines and put
    in the queue at once; one blocking failure refuses the whole broadcast. On-call
    reviewers hear of it. Returns the publications and the posts without a channel.
    """
    from calendar_app import guidelines, notifications

    if not permissions.can_compose_advisory(actor, crisis):
        raise PermissionDenied
    _check_advisory(content)
    posts = list(crisis.affected_posts().filter(active=True).order_by("name"))
    by_post = _channels_by_post(posts, content.platforms)
    skipped = [post for post in posts if post.pk not in by_post]
    if not by_post:
        raise CrisisRefused(_("None of the affected posts has a channel on the platforms chosen."))
    _refuse_a_repeat(actor, crisis, posts, content)
    made: list[Publication] = []
    with transaction.atomic():
        for post in posts:
            if post.pk not in by_post:
                continue
            publication = _new_advisory(actor, crisis, post, by_post[post.pk], content)
            revision, results = _snapshot_revision(actor, publication)
            failures = guidelines.blocking_failures(results)
            if failures:
                for failure in failures:
                    failure.problems = [f"{post.name}: {problem}" for problem in failure.problems]
                raise GuidelinesFailed(failures)
            _move(
                actor,
                publication,
                "submit",
                expected_revision=publication.revision,
                data={"revision": revision.number},
            )
            made.append(publication)
        _crisis_event(
            crisis,
            actor,
            "advisory_broadcast",
            publication=made[0],
            comment=content.title.strip(),
            data={"publications": [p.pk for p in made], "skipped": [p.pk for p in skipped]},
        )
        notifications.notify_crisis("advisory_submitted", crisis, actor, publication=made[0], count=len(made))
    return made, skipped


def break_glass(actor: User, crisis, post: Post, content: AdvisoryContent, *, reason: str) -> Publication:
    """A post manager publishes an advisory for their own post at once, without review.

    Who: a manager of `post`, during a crisis that takes it in; the reason is
    required. The guidelines still apply (Dutch and French). Audited on the
    publication and flagged on the crisis timeline; central reviews it after the fact.
    """
    from calendar_app import guidelines, notifications

    if not permissions.can_break_glass(actor, post, crisis):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise CrisisRefused(_("Say why this cannot wait for central's approval."))
    _check_advisory(content)
    channels = _channels_by_post([post], content.platforms).get(post.pk, [])
    if not channels:
        raise CrisisRefused(_("Your post has no channel on the platforms chosen."))
    _refuse_a_repeat(actor, crisis, [post], content)
    with transaction.atomic():
        publication = _new_advisory(actor, crisis, post, channels, content)
        revision, results = _snapshot_revision(actor, publication)
        failures = guidelines.blocking_failures(results)
        if failures:
            raise GuidelinesFailed(failures)
        # Draft straight to approved: the one move outside TRANSITIONS, audited as such.
        if not Publication.objects.filter(pk=publication.pk, status=PublicationStatus.DRAFT).update(
            status=PublicationStatus.APPROVED, updated_at=timezone.now()
        ):
            raise StaleEdit(Publication.objects.get(pk=publication.pk))
        publication.status = PublicationStatus.APPROVED
        record_event(
            publication,
            actor,
            "break_glass",
            from_status=PublicationStatus.DRAFT,
            to_status=PublicationStatus.APPROVED,
            comment=reason[:MAX_COMMENT],
            data={"revision": revision.number, "crisis": crisis.pk},
        )
        _crisis_event(crisis, actor, "break_glass", publication=publication, comment=reason[:MAX_COMMENT])
        notifications.notify_crisis("break_glass", crisis, actor, publication=publication, comment=reason)
        _schedule_delivery(publication)
    return publication


def review_after_the_fact(actor: User, publication: Publication, *, comment: str = "") -> None:
    """Central looks at a break-glass publication after it went out; it leaves the list.

    Who: central reviewers. Once per publication.
    """
    if not permissions.can_review_after_the_fact(actor):
        raise PermissionDenied
    with transaction.atomic():
        events = publication.events.filter(verb__in=["break_glass", "reviewed_after"])
        verbs = set(events.values_list("verb", flat=True))
        if "break_glass" not in verbs:
            raise TransitionNotAllowed(_("This publication was not published with break-glass."))
        if "reviewed_after" in verbs:
            raise TransitionNotAllowed(_("This publication was already reviewed after the fact."))
        comment = (comment or "").strip()[:MAX_COMMENT]
        record_event(publication, actor, "reviewed_after", from_status=publication.status, comment=comment)
        if publication.crisis_id:
            from calendar_app.models import Crisis

            _crisis_event(
                Crisis.objects.get(pk=publication.crisis_id),
                actor,
                "reviewed_after",
                publication=publication,
                comment=comment,
            )
