"""Crisis mode: declare, hold, release, end, acknowledge; advisories, break-glass and the
review after the fact."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_countries import countries as all_countries

from calendar_app import guidelines, notifications, permissions, sending, tasks, translation
from calendar_app.models import (
    NETWORK_LANGUAGES,
    Broadcast,
    Crisis,
    CrisisEvent,
    Delivery,
    DeliveryStatus,
    Publication,
    PublicationEvent,
    PublicationKind,
    PublicationStatus,
    Variant,
    instant_for,
    language_names,
)
from calendar_app.workflow.core import (
    MAX_COMMENT,
    CrisisRefused,
    GuidelinesFailed,
    TransitionNotAllowed,
    action_transaction,
    move,
    record_event,
    snapshot_revision,
)
from diplomacy.models import Channel, Post, User


def _crisis_event(
    crisis: Crisis,
    actor: User | None,
    verb: str,
    *,
    publication: Publication | None = None,
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> CrisisEvent:
    return CrisisEvent.objects.create(
        crisis=crisis, actor=actor, verb=verb, publication=publication, comment=comment, data=data or {}
    )


def _events_for(publications: list[Publication], actor: User | None, verb: str, **fields: Any) -> None:
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


def hold_if_in_crisis(actor: User, publication: Publication) -> None:
    """An approval during a crisis at the post: the publication waits with the others."""
    if publication.crisis_id is not None:
        return  # an advisory goes out during its crisis
    crises = Crisis.objects.active().affecting(publication.post)
    if publication.released_from_id:
        crises = crises.exclude(pk=publication.released_from_id)
    # A publication due before a crisis was declared is not that crisis's to hold.
    crisis = crises.filter(declared_at__lte=publication.scheduled_at).first()
    if crisis is None:
        return
    # Compare-and-set: only an approved publication nothing holds yet is held.
    if not Publication.objects.filter(
        pk=publication.pk, status=PublicationStatus.APPROVED, held_by__isnull=True
    ).update(held_by=crisis):
        return
    publication.held_by = crisis
    record_event(publication, actor, "held", from_status=publication.status, data={"crisis": crisis.pk})
    _crisis_event(crisis, actor, "held", publication=publication, data={"count": 1})


def fast_track(actor: User, publication: Publication) -> None:
    """An approved advisory goes out now if its moment passed while it waited for approval."""
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
) -> Crisis:
    """Declare a crisis for the whole network, some countries or some posts.

    Who: central for any scope; a post manager for posts they manage. Holds every
    approved publication of the affected posts but advisories, writes the timeline,
    and tells on-call reviewers (and the affected posts) after commit.
    """
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
    with action_transaction():
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


def _hold_publications(crisis: Crisis, actor: User | None) -> int:
    """Hold the approved, not yet delivered publications of the crisis's posts (advisories go on).

    Only those due from the declaration on: one already overdue when the crisis began did
    not miss its time because of it (it goes out within MAX_LATENESS, or the lateness
    sweep marks it missed with the true reason), so ending the crisis never lists it.
    """
    candidates = list(
        Publication.objects.filter(
            status=PublicationStatus.APPROVED,
            scheduled_at__gte=crisis.declared_at,
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
    if not permissions.can_release_hold(actor, publication):
        raise PermissionDenied
    # can_release_hold refuses a publication that nothing holds.
    assert publication.held_by_id is not None
    crisis = Crisis.objects.get(pk=publication.held_by_id)
    now = timezone.now()
    late = publication.scheduled_at <= now
    with action_transaction():
        changes: dict[str, Any] = {"held_by": None, "released_from": crisis, "updated_at": now}
        if late:
            # Missed, a status of its own: never sent late; `missed_in` says which crisis.
            changes.update(missed_in=crisis, status=PublicationStatus.MISSED)
        if not Publication.objects.filter(
            pk=publication.pk, held_by=crisis, status=PublicationStatus.APPROVED
        ).update(**changes):
            raise TransitionNotAllowed(_("This publication is no longer held."))
        verb = "missed" if late else "released"
        from_status = publication.status
        publication.held_by_id = None
        publication.missed_in_id = crisis.pk if late else None
        if late:
            publication.status = PublicationStatus.MISSED
            fail_waiting_deliveries([publication.pk], _("Not sent: its time passed while a crisis held it."))
        record_event(
            publication,
            actor,
            verb,
            from_status=from_status,
            to_status=publication.status,
            data={"crisis": crisis.pk},
        )
        _crisis_event(crisis, actor, verb if late else "released", publication=publication)
        if late:
            notifications.notify("missed", publication, actor, _("Its time passed while a crisis held it."))
    return verb


def fail_waiting_deliveries(publication_ids: list[int], reason: str) -> int:
    """The pending deliveries of these publications that no worker holds become failed with
    `reason` (a compare-and-set on pending and unclaimed: a claimed one may be in flight, an
    unknown one may be live; both are left for the engine and for a person). Returns how many."""
    return Delivery.objects.filter(
        publication_id__in=publication_ids, status=DeliveryStatus.PENDING, claimed_at__isnull=True
    ).update(status=DeliveryStatus.FAILED, error=reason[:2000], next_attempt_at=None)


def end_crisis(actor: User, crisis: Crisis) -> dict[str, int]:
    """End a crisis: held publications come back; those whose time passed are listed as missed.

    Who: central, or the post manager for a crisis of their own posts. From: active.
    A publication another active crisis covers stays held by that one. Nothing is
    sent late: missed publications wait for a person to reschedule them.
    """
    if not permissions.can_end_crisis(actor, crisis):
        raise PermissionDenied
    now = timezone.now()
    with action_transaction():
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
        changes: dict[str, dict[str, Crisis | None]] = {
            "released": {"held_by": None},
            "missed": {"held_by": None, "missed_in": crisis},
        }
        moved["released"] = [
            p
            for p in moved["released"]
            if Publication.objects.filter(pk=p.pk, held_by=crisis).update(**changes["released"])
        ]
        _events_for(moved["released"], actor, "released", data={"crisis": crisis.pk})
        # Missed is a status of its own (never sent late); `missed_in` says which crisis.
        moved["missed"] = [
            p
            for p in moved["missed"]
            if Publication.objects.filter(pk=p.pk, held_by=crisis, status=PublicationStatus.APPROVED).update(
                status=PublicationStatus.MISSED, updated_at=now, **changes["missed"]
            )
        ]
        PublicationEvent.objects.bulk_create(
            [
                PublicationEvent(
                    publication=p,
                    actor=actor,
                    verb="missed",
                    from_status=PublicationStatus.APPROVED,
                    to_status=PublicationStatus.MISSED,
                    revision=p.revision,
                    data={"crisis": crisis.pk},
                )
                for p in moved["missed"]
            ]
        )
        fail_waiting_deliveries(
            [p.pk for p in moved["missed"]], _("Not sent: its time passed while a crisis held it.")
        )
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


def acknowledge_crisis(actor: User, crisis: Crisis) -> None:
    """A central reviewer takes the crisis up: the on-call escalation stops.

    Who: central, not the declarer. Once per reviewer.
    """
    if not permissions.can_acknowledge_crisis(actor, crisis):
        raise PermissionDenied
    with action_transaction():
        if crisis.events.filter(verb="acknowledged", actor=actor).exists():
            return
        _crisis_event(crisis, actor, "acknowledged")


@dataclass
class AdvisoryContent:
    """An advisory as the composer cleaned it."""

    title: str
    #: {language: text}: the guidelines' advisory languages required (Dutch and French
    #: unless central changed them), others optional.
    variants: dict[str, str]
    platforms: list[str]
    #: {language: machine draft} as the composer carries them (the others a person wrote).
    machine_texts: dict[str, translation.MachineText] = field(default_factory=dict)
    #: The channels ticked in the composer; None: every active channel on the platforms.
    channel_ids: list[int] | None = None


def _advisory_languages_for(
    post: Post, variants: dict[str, str], required: list[str] | None = None
) -> dict[str, str]:
    """The advisory's texts a post publishes: the network languages, the advisory languages
    the guidelines require (`required` when the caller read them already), and the post's
    own host languages."""
    required = guidelines.advisory_languages() if required is None else required
    own = set(NETWORK_LANGUAGES) | set(required) | set(post.host_language_list)
    return {language: text for language, text in variants.items() if text.strip() and language in own}


def _advisory_moment(post: Post) -> tuple[date, time, datetime]:
    """This minute where the post is: an advisory is due at once and goes out when approved."""
    local = timezone.now().astimezone(post.zone).replace(second=0, microsecond=0)
    return local.date(), local.time(), instant_for(local.date(), local.time(), post.timezone)


def _check_advisory(content: AdvisoryContent) -> None:
    if not content.title.strip():
        raise CrisisRefused(_("Give the advisory a title."))
    required = guidelines.advisory_languages()
    missing = [code for code in required if not content.variants.get(code, "").strip()]
    if missing:
        raise CrisisRefused(
            _("An advisory is published in %(required)s: add the text in %(languages)s.")
            % {"required": language_names(required), "languages": language_names(missing)}
        )
    if not content.platforms:
        raise CrisisRefused(_("Choose at least one platform."))


def _new_advisory(
    actor: User,
    crisis: Crisis,
    post: Post,
    channels: list[Channel],
    content: AdvisoryContent,
    broadcast: Broadcast | None = None,
) -> Publication:
    local_date, local_time, scheduled_at = _advisory_moment(post)
    publication = Publication.objects.create(
        post=post,
        title=content.title.strip()[:200],
        kind=PublicationKind.CRISIS_ADVISORY,
        crisis=crisis,
        broadcast=broadcast,
        local_date=local_date,
        local_time=local_time,
        timezone=post.timezone,
        scheduled_at=scheduled_at,
        author=actor,
    )
    publication.channels.set(channels)
    Variant.objects.bulk_create(
        [
            Variant(
                publication=publication,
                language=language,
                text=text.strip(),
                **translation.provenance_fields(text, content.machine_texts.get(language), actor),
            )
            for language, text in sorted(_advisory_languages_for(post, content.variants).items())
        ]
    )
    record_event(publication, actor, "created", to_status=publication.status, data={"crisis": crisis.pk})
    return publication


#: The same advisory sent again within this time is a second click, not a second advisory.
REPEAT_WINDOW = timedelta(minutes=2)


def _refuse_a_repeat(actor: User, crisis: Crisis, posts: list[Post], content: AdvisoryContent) -> None:
    recent = Publication.objects.filter(
        crisis=crisis,
        author=actor,
        post__in=posts,
        title=content.title.strip()[:200],
        created_at__gte=timezone.now() - REPEAT_WINDOW,
    )
    if recent.exists():
        raise CrisisRefused(_("This advisory was sent a moment ago: it is not sent twice."))


def _channels_by_post(posts: list[Post], content: AdvisoryContent) -> dict[int, list[Channel]]:
    """Each post's active channels on the chosen platforms that publish at least one of the
    advisory's languages: a channel in English or Turkish only gets nothing from a Dutch and
    French advisory, and is left out rather than holding the whole advisory back. When the
    composer says which channels were ticked, only those."""
    by_post: dict[int, list[Channel]] = {}
    channels = Channel.objects.filter(post__in=posts, platform__in=content.platforms, active=True)
    if content.channel_ids is not None:
        channels = channels.filter(pk__in=content.channel_ids)
    # The guidelines' advisory languages read once, not once per channel of 107 posts.
    required = guidelines.advisory_languages()
    for channel in channels.select_related("post").order_by("platform", "handle"):
        texts = _advisory_languages_for(channel.post, content.variants, required)
        if sending.languages_sent(sending.ChannelPlan.of(channel), texts):
            by_post.setdefault(channel.post_id, []).append(channel)
    return by_post


def advisory_reach(posts: list[Post], content: AdvisoryContent) -> dict[int, list[Channel]]:
    """The channels `broadcast_advisory` would send `content` to, by post: the composer's
    counts follow the very rule the broadcast applies."""
    return _channels_by_post(posts, content)


def broadcast_advisory(
    actor: User, crisis: Crisis, content: AdvisoryContent
) -> tuple[list[Publication], list[Post]]:
    """One advisory to every affected post's channels on the chosen platforms, sent to review.

    Who: central, while the crisis is active. Each post gets its own publication
    (kind crisis advisory, linked to the crisis, all in one Broadcast reviewed as one),
    checked by the guidelines and put in the queue at once; one blocking failure
    refuses the whole broadcast. On-call
    reviewers hear of it. Returns the publications and the posts without a channel.
    """
    if not permissions.can_compose_advisory(actor, crisis):
        raise PermissionDenied
    _check_advisory(content)
    posts = list(crisis.affected_posts().filter(active=True).order_by("name"))
    by_post = _channels_by_post(posts, content)
    skipped = [post for post in posts if post.pk not in by_post]
    if not by_post:
        raise CrisisRefused(
            _(
                "None of the affected posts has a channel on the platforms chosen "
                "that publishes these languages."
            )
        )
    _refuse_a_repeat(actor, crisis, posts, content)
    made: list[Publication] = []
    with action_transaction():
        # One group: the queue shows the advisory once and a reviewer decides it at once.
        broadcast = Broadcast.objects.create(
            title=content.title.strip()[:200], crisis=crisis, created_by=actor
        )
        for post in posts:
            if post.pk not in by_post:
                continue
            publication = _new_advisory(actor, crisis, post, by_post[post.pk], content, broadcast)
            revision, results = snapshot_revision(actor, publication)
            failures = guidelines.blocking_failures(results)
            if failures:
                for failure in failures:
                    failure.problems = [f"{post.name}: {problem}" for problem in failure.problems]
                raise GuidelinesFailed(failures)
            move(
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


def break_glass(
    actor: User, crisis: Crisis, post: Post, content: AdvisoryContent, *, reason: str
) -> Publication:
    """A post manager publishes an advisory for their own post at once, without review.

    Who: a manager of `post`, during a crisis that takes it in; the reason is
    required. The guidelines still apply (the advisory languages). Audited on the
    publication and flagged on the crisis timeline; central reviews it after the fact.
    """
    if not permissions.can_break_glass(actor, post, crisis):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise CrisisRefused(_("Say why this cannot wait for central's approval."))
    _check_advisory(content)
    channels = _channels_by_post([post], content).get(post.pk, [])
    if not channels:
        raise CrisisRefused(
            _("Your post has no channel on the platforms chosen that publishes these languages.")
        )
    _refuse_a_repeat(actor, crisis, [post], content)
    with action_transaction():
        publication = _new_advisory(actor, crisis, post, channels, content)
        revision, results = snapshot_revision(actor, publication)
        failures = guidelines.blocking_failures(results)
        if failures:
            raise GuidelinesFailed(failures)
        move(
            actor,
            publication,
            "break_glass",
            comment=reason[:MAX_COMMENT],
            data={"revision": revision.number, "crisis": crisis.pk},
        )
        _crisis_event(crisis, actor, "break_glass", publication=publication, comment=reason[:MAX_COMMENT])
        notifications.notify_crisis("break_glass", crisis, actor, publication=publication, comment=reason)
        tasks.wake_dispatcher()
    return publication


def review_after_the_fact(actor: User, publication: Publication, *, comment: str = "") -> None:
    """Central looks at a break-glass publication after it went out; it leaves the list.

    Who: central reviewers. Once per publication.
    """
    if not permissions.can_review_after_the_fact(actor):
        raise PermissionDenied
    with action_transaction():
        events = publication.events.filter(verb__in=["break_glass", "reviewed_after"])
        verbs = set(events.values_list("verb", flat=True))
        if "break_glass" not in verbs:
            raise TransitionNotAllowed(_("This publication was not published with break-glass."))
        if "reviewed_after" in verbs:
            raise TransitionNotAllowed(_("This publication was already reviewed after the fact."))
        comment = (comment or "").strip()[:MAX_COMMENT]
        record_event(publication, actor, "reviewed_after", from_status=publication.status, comment=comment)
        if publication.crisis_id:
            _crisis_event(
                Crisis.objects.get(pk=publication.crisis_id),
                actor,
                "reviewed_after",
                publication=publication,
                comment=comment,
            )
