"""Who hears about what: in-app notifications now, emails by a task after commit.

`notify` runs inside the workflow's transaction and only writes rows; the
email task is queued with `transaction.on_commit`, so a rolled-back change
notifies nobody and a request never waits for a mail server.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from calendar_app.models import (
    Crisis,
    CrisisEvent,
    Notification,
    NotificationPreference,
    Proposal,
    Publication,
    PublicationKind,
)
from diplomacy import freshness
from diplomacy.models import Membership, Role, User
from diplomacy.roles import AnyUser

#: What each verb says, in the recipient's language.
VERBS = {
    "submitted": _("%(actor)s sent “%(title)s” to review."),
    "approved": _("%(actor)s approved “%(title)s”."),
    "changes_requested": _("%(actor)s asks for changes to “%(title)s”."),
    "commented": _("%(actor)s commented on “%(title)s”."),
    "due_soon": _("“%(title)s” goes out within 24 hours and is still in review."),
    "delivery_failed": _("“%(title)s” could not be published on every channel: check why and send it again."),
    "missed": _(
        "“%(title)s” did not go out at its time and will not be sent late: give it a new time or cancel it."
    ),
    "delivery_unknown": _(
        "Nobody knows whether “%(title)s” went out on a channel: look at the channel and say what you found."
    ),
    "proposal_submitted": _("%(actor)s proposes “%(title)s”."),
    "proposal_accepted": _("Your proposal “%(title)s” is accepted and offered to the posts."),
    "proposal_declined": _("Your proposal “%(title)s” is declined."),
    "crisis_declared": _("%(actor)s declared a crisis: “%(title)s”. Scheduled publications there are held."),
    "crisis_escalated": _("Nobody on call has taken up the crisis “%(title)s” yet: please act."),
    "advisory_submitted": _(
        "%(actor)s broadcast an advisory for the crisis “%(title)s”: it awaits approval."
    ),
    "advisory_escalated": _("Advisories for the crisis “%(title)s” have waited 15 minutes for approval."),
    "break_glass": _(
        "%(actor)s published an advisory without review for “%(title)s”: review it after the fact."
    ),
    "crisis_ended": _("%(actor)s ended the crisis “%(title)s”."),
}

#: Crisis news is emailed at once, whatever the recipient chose for the rest.
URGENT_VERBS = {
    "crisis_declared",
    "crisis_escalated",
    "advisory_submitted",
    "advisory_escalated",
    "break_glass",
}
#: How long on-call reviewers have before everyone central is told.
ESCALATE_AFTER = timedelta(minutes=15)


def recipients(verb: str, publication: Publication, actor: User | None) -> list[int]:
    """User ids to notify: reviewers for work to review, the post for decisions."""
    ids: QuerySet[Membership, int] | list[int]
    if verb in ("submitted", "due_soon"):
        ids = Membership.objects.filter(role=Role.CENTRAL_REVIEWER).values_list("user_id", flat=True)
    elif verb in ("approved", "changes_requested", "delivery_failed"):
        ids = list(Membership.objects.filter(post=publication.post).values_list("user_id", flat=True)) + [
            publication.author_id
        ]
    elif verb == "commented":
        post_staff = list(Membership.objects.filter(post=publication.post).values_list("user_id", flat=True))
        reviewers = list(publication.reviews.values_list("reviewer_id", flat=True))
        if not reviewers and getattr(actor, "pk", None) in post_staff + [publication.author_id]:
            # Nobody at central has looked at it yet: the post's question goes to every reviewer.
            reviewers = list(
                Membership.objects.filter(role=Role.CENTRAL_REVIEWER).values_list("user_id", flat=True)
            )
        # Only people who may still read the thread: the post's staff and central reviewers.
        central = set(Membership.objects.filter(role=Role.CENTRAL_REVIEWER).values_list("user_id", flat=True))
        ids = [*post_staff, *(r for r in reviewers if r in central)]
        if publication.author_id in central or publication.author_id in post_staff:
            ids.append(publication.author_id)
    elif verb == "missed":
        # The post reschedules it; central sees its calendar lose a publication.
        ids = [
            *Membership.objects.filter(post=publication.post).values_list("user_id", flat=True),
            publication.author_id,
            *central_reviewer_ids(),
        ]
    elif verb == "delivery_unknown":
        # The post can look at its channel; the reviewers on call (everyone central when
        # nobody is) can too, at any hour.
        ids = [
            *Membership.objects.filter(post=publication.post).values_list("user_id", flat=True),
            *(on_call_ids() or central_reviewer_ids()),
        ]
    else:
        raise ValueError(f"Unknown notification verb {verb!r}")
    actor_id = getattr(actor, "pk", None)
    active = set(User.objects.filter(pk__in=set(ids), is_active=True).values_list("pk", flat=True))
    return sorted(active - {actor_id})


def notify(verb: str, publication: Publication, actor: User | None, comment: str = "") -> list[Notification]:
    """Write the notifications of `verb` and queue their emails after commit."""
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id, verb=verb, publication=publication, actor=actor, comment=comment[:2000]
            )
            for user_id in recipients(verb, publication, actor)
        ]
    )
    ids = [row.pk for row in rows if row.pk]
    if ids:
        transaction.on_commit(lambda: _queue_emails(ids))
    return rows


def _queue_emails(ids: list[int]) -> None:
    from django_q.tasks import async_task

    async_task("calendar_app.tasks.email_notifications", ids)


def message(notification: Notification) -> str:
    subject = notification.crisis or notification.publication or notification.proposal
    return str(VERBS[notification.verb]) % {
        "actor": notification.actor or _("Someone"),
        "title": subject.title if subject else "",
    }


def notify_proposal(
    verb: str, proposal: Proposal, actor: User | None, comment: str = ""
) -> list[Notification]:
    """Proposals: submissions go to central, decisions to the partner's contributors."""
    if verb == "proposal_submitted":
        ids = Membership.objects.filter(role=Role.CENTRAL_REVIEWER).values_list("user_id", flat=True)
    else:
        ids = Membership.objects.filter(partner=proposal.partner).values_list("user_id", flat=True)
    users = User.objects.filter(pk__in=set(ids), is_active=True)
    if actor is not None:
        users = users.exclude(pk=actor.pk)
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id, verb=verb, proposal=proposal, actor=actor, comment=comment[:2000]
            )
            for user_id in sorted(users.values_list("pk", flat=True))
        ]
    )
    ids_ = [row.pk for row in rows if row.pk]
    if ids_:
        transaction.on_commit(lambda: _queue_emails(ids_))
    return rows


def unread_count(user: AnyUser) -> int:
    """The bell's number: asked on every page, so remembered while no notification changed."""
    if not user.is_authenticated:
        return 0
    return freshness.remembered(
        "unread-notifications",
        reads=[Notification],
        shape=user.pk,
        compute=lambda: Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
    )


# --- Crisis mode: on-call reviewers first -------------------------------------------------


def central_reviewer_ids() -> set[int]:
    return set(Membership.objects.filter(role=Role.CENTRAL_REVIEWER).values_list("user_id", flat=True))


def on_call_ids() -> set[int]:
    """Central reviewers who marked themselves on call."""
    return set(
        NotificationPreference.objects.filter(
            on_call=True, user__memberships__role=Role.CENTRAL_REVIEWER
        ).values_list("user_id", flat=True)
    )


def set_on_call(user: User, on_call: bool) -> None:
    """A central reviewer marks themselves on call (or off)."""
    NotificationPreference.objects.update_or_create(user=user, defaults={"on_call": on_call})


def _crisis_recipients(verb: str, crisis: Crisis) -> set[int]:
    if verb in ("crisis_declared", "advisory_submitted"):
        # On-call first; nobody on call means everyone central at once.
        central = on_call_ids() or central_reviewer_ids()
        if verb == "crisis_declared":
            central |= set(
                Membership.objects.filter(post__in=crisis.affected_posts()).values_list("user_id", flat=True)
            )
        return central
    if verb in ("crisis_escalated", "advisory_escalated", "break_glass"):
        return central_reviewer_ids()
    if verb == "crisis_ended":
        posts = Membership.objects.filter(post__in=crisis.affected_posts()).values_list("user_id", flat=True)
        return central_reviewer_ids() | set(posts)
    raise ValueError(f"Unknown crisis notification verb {verb!r}")


def notify_crisis(
    verb: str,
    crisis: Crisis,
    actor: User | None,
    *,
    publication: Publication | None = None,
    comment: str = "",
    exclude: set[int] | None = None,
    **numbers: int,
) -> list[Notification]:
    """Write crisis notifications (one per person, not per publication) and queue emails."""
    if numbers.get("missed"):
        comment = comment or ngettext(
            "%(count)s publication missed its time and waits to be rescheduled.",
            "%(count)s publications missed their time and wait to be rescheduled.",
            numbers["missed"],
        ) % {"count": numbers["missed"]}
    if numbers.get("count", 0) > 1:
        comment = comment or str(_("%(count)s publications, one per post.") % {"count": numbers["count"]})
    ids = _crisis_recipients(verb, crisis) - (exclude or set())
    users = User.objects.filter(pk__in=ids, is_active=True)
    if actor is not None:
        users = users.exclude(pk=actor.pk)
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id,
                verb=verb,
                crisis=crisis,
                publication=publication,
                actor=actor,
                comment=comment[:2000],
            )
            for user_id in sorted(users.values_list("pk", flat=True))
        ]
    )
    created = [row.pk for row in rows if row.pk]
    if created:
        transaction.on_commit(lambda: _queue_emails(created))
    return rows


def escalate_unanswered(now: datetime | None = None) -> dict[str, int]:
    """The every-minute job: tell everyone central what on-call reviewers left for 15 minutes.

    A crisis nobody acknowledged, and advisories still waiting for approval. Each is
    escalated once: the crisis by a compare-and-set on `escalated_at`, an advisory by
    its "escalated" row on the crisis timeline.
    """
    now = now or timezone.now()
    cutoff = now - ESCALATE_AFTER
    answered = CrisisEvent.objects.filter(
        crisis=OuterRef("pk"), verb__in=["acknowledged", "advisory_broadcast"]
    )
    crises = (
        Crisis.objects.active()
        .filter(declared_at__lte=cutoff, escalated_at__isnull=True)
        .exclude(Exists(answered))
    )
    escalated_crises = 0
    for crisis in crises:
        with transaction.atomic():
            if Crisis.objects.filter(pk=crisis.pk, escalated_at__isnull=True).update(escalated_at=now):
                CrisisEvent.objects.create(crisis=crisis, verb="escalated")
                notify_crisis("crisis_escalated", crisis, None)
                escalated_crises += 1
    already = CrisisEvent.objects.filter(publication=OuterRef("pk"), verb="escalated")
    waiting = (
        Publication.objects.awaiting_review()
        .fast_tracked()
        .filter(kind=PublicationKind.CRISIS_ADVISORY)
        .annotate(sent_at=Max("events__created_at", filter=Q(events__verb__in=["submit", "resubmit"])))
        .filter(sent_at__lte=cutoff)
        .exclude(Exists(already))
        .select_related("crisis")
    )
    by_crisis: dict[Crisis, list[Publication]] = {}
    for publication in waiting:
        if publication.crisis is not None:  # always: the query asks for a crisis
            by_crisis.setdefault(publication.crisis, []).append(publication)
    escalated_advisories = 0
    for crisis, advisories in by_crisis.items():
        claimed = []
        for advisory in advisories:
            # Claimed by its unique timeline row: a second run at the same time skips it.
            try:
                with transaction.atomic():
                    CrisisEvent.objects.create(crisis=crisis, verb="escalated", publication=advisory)
            except IntegrityError:
                continue
            claimed.append(advisory)
        if not claimed:
            continue
        escalated_advisories += len(claimed)
        # The authors cannot approve their own advisories (four eyes): the others are asked.
        notify_crisis(
            "advisory_escalated",
            crisis,
            None,
            publication=claimed[0],
            exclude={p.author_id for p in claimed},
            count=len(claimed),
        )
    return {"crises": escalated_crises, "advisories": escalated_advisories}
