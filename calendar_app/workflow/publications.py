"""A publication's content and time: create, edit, reschedule, duplicate, comment.

Each function authorises through calendar_app.permissions (PermissionDenied), changes
the row with a compare-and-set update on the revision it expects (so two people saving
at once cannot both win, on SQLite and PostgreSQL alike), and writes a history row in
the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import notifications, permissions, translation
from calendar_app.models import (
    Asset,
    Broadcast,
    Campaign,
    Comment,
    Publication,
    PublicationStatus,
    Variant,
    instant_for,
)
from calendar_app.timezones import check_local_time
from calendar_app.workflow.core import (
    MAX_COMMENT,
    DecisionRefused,
    StaleEdit,
    action_transaction,
    content_snapshot,
    move,
    record_event,
    snapshot_revision,
)
from calendar_app.workflow.crisis import hold_if_in_crisis
from diplomacy import roles
from diplomacy.models import Channel, Post, User


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
    #: {language: machine draft} as the editor carries them; a language without one was
    #: written by a person. None: the caller does not speak of drafts (the rows keep theirs).
    machine_texts: dict[str, translation.MachineText] | None = None


def _check_channels(post: Post, channels: list[Channel]) -> None:
    # Rule: a publication only goes to channels of its own post. The database
    # cannot say this across the many-to-many table, so every write checks it.
    foreign = [channel for channel in channels if channel.post_id != post.pk]
    if foreign:
        raise ValidationError(_("A channel of another post cannot be chosen."), code="foreign_channel")


def _write_variants(publication: Publication, content: PublicationContent, actor: User | None) -> None:
    existing = {variant.language: variant for variant in publication.variants.all()}
    machine_texts = content.machine_texts or {}
    for language, text in content.variants.items():
        text = text.strip()
        overrides = {p: t.strip() for p, t in content.platform_texts.get(language, {}).items() if t.strip()}
        variant = existing.get(language)
        if not text:
            if variant:
                variant.delete()
            continue
        # Who vouched for a machine-drafted text: kept on the row, not in the approved content.
        provenance = translation.provenance_fields(
            text,
            machine_texts.get(language),
            actor,
            current=variant,
            speaks_of_provenance=content.machine_texts is not None,
        )
        if variant is None:
            Variant.objects.create(
                publication=publication, language=language, text=text, platform_texts=overrides, **provenance
            )
            continue
        if (
            variant.text != text
            or variant.platform_texts != overrides
            or translation.provenance_differs(variant, provenance)
        ):
            variant.text, variant.platform_texts = text, overrides
            for name, value in provenance.items():
                setattr(variant, name, value)
            variant.save(update_fields=["text", "platform_texts", *provenance])


def create_publication(actor: User, post: Post, content: PublicationContent) -> Publication:
    """Plan a new publication as a draft.

    Who: the post's staff, or central. Triggers nothing else.
    """
    if not permissions.can_create_publication(actor, post):
        raise PermissionDenied
    _check_channels(post, content.channels)
    scheduled_at = check_local_time(content.local_date, content.local_time, post.timezone)
    # Not durable: the editor view stores the uploaded image in the same transaction, and
    # duplicating and adopting create publications inside their own.
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
        _write_variants(publication, content, actor)
        if content.new_assets:
            publication.assets.add(*content.new_assets)
        record_event(publication, actor, "created", to_status=publication.status)
    return publication


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
    # Not durable: the editor view stores the uploaded image in the same transaction.
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
        _write_variants(publication, content, actor)
        if content.removed_asset_ids:
            publication.assets.remove(*content.removed_asset_ids)
        if content.shown_alt_texts:
            _describe_shown_image(publication, content.shown_alt_texts)
        if content.new_assets:
            publication.assets.add(*content.new_assets)
        after = content_snapshot(publication)
        changed = sorted(key for key in after if after[key] != before[key])
        if from_status == PublicationStatus.APPROVED and changed:
            to_status = move(
                actor, publication, "reopen_review", verb="edited_after_approval", data={"changed": changed}
            )
        else:
            record_event(publication, actor, "edited", from_status=from_status, data={"changed": changed})
        if to_status == PublicationStatus.IN_REVIEW:
            # The reviewer decides on what is there now: a revision for the new number, checked again.
            snapshot_revision(actor, publication)
        if to_status == PublicationStatus.IN_REVIEW and changed:
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
    with action_transaction():
        old = {"date": publication.local_date.isoformat(), "time": publication.local_time.strftime("%H:%M")}
        data = {"from": old, "to": {"date": local_date.isoformat(), "time": local_time.strftime("%H:%M")}}
        times: dict[str, Any] = {
            "local_date": local_date,
            "local_time": local_time,
            "scheduled_at": scheduled_at,
            "revision": F("revision") + 1,
            # A new time takes it off the missed list: it goes out then (still held if a crisis is on).
            "missed_in": None,
        }
        from_status = publication.status
        if from_status == PublicationStatus.APPROVED and not roles.is_central(actor):
            # Moved by its post: the approval covered the old time.
            move(
                actor,
                publication,
                "reopen_review",
                expected_revision=expected,
                verb="rescheduled",
                data=data,
                **times,
            )
            snapshot_revision(actor, publication)
            notifications.notify("submitted", publication, actor)
            return publication
        if from_status == PublicationStatus.APPROVED and scheduled_at <= timezone.now():
            # It would go out at once, late (a missed publication moved to an hour gone by).
            raise ValidationError(_("Choose a time that has not passed yet."))
        # The same state, a new time: a compare-and-set on the revision the form saw.
        if not Publication.objects.filter(pk=publication.pk, revision=expected, status=from_status).update(
            updated_at=timezone.now(), **times
        ):
            raise StaleEdit(Publication.objects.get(pk=publication.pk))
        publication.refresh_from_db()
        if from_status == PublicationStatus.APPROVED and publication.held_by_id is None:
            hold_if_in_crisis(actor, publication)
        if from_status == PublicationStatus.IN_REVIEW:
            # The reviewers decide on a revision: the new time is one, or nobody could approve it.
            snapshot_revision(actor, publication)
            notifications.notify("submitted", publication, actor)
        record_event(publication, actor, "rescheduled", from_status=from_status, data=data)
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

    On another post the copy goes to that post's channels on the same platforms. Copies to
    several posts form one Broadcast: once submitted, the queue shows them as one item.
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
    with action_transaction():
        # Copies to several posts are one piece of content: reviewed as one group.
        group = (
            Broadcast.objects.create(title=publication.title, created_by=actor) if len(targets) > 1 else None
        )
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
            # A copy's texts are what they were: a draft nobody checked stays unchecked.
            translation.copy_provenance(variants, copy)
            if group is not None:
                Publication.objects.filter(pk=copy.pk).update(broadcast=group)
                copy.broadcast = group
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
    with action_transaction():
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


def add_comment(actor: User, publication: Publication, text: str) -> Comment:
    """Add a message to the publication's thread; notifies the other side after commit."""
    if not permissions.can_comment(actor, publication):
        raise PermissionDenied
    text = (text or "").strip()
    if not text:
        raise DecisionRefused(_("Write a comment first."))
    if len(text) > MAX_COMMENT:
        raise DecisionRefused(_("A comment has at most %(max)s characters.") % {"max": MAX_COMMENT})
    with action_transaction():
        comment = Comment.objects.create(publication=publication, author=actor, text=text)
        notifications.notify("commented", publication, actor, text)
    return comment
