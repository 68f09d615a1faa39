"""Who hears about what: in-app notifications now, emails by a task after commit.

`notify` runs inside the workflow's transaction and only writes rows; the
email task is queued with `transaction.on_commit`, so a rolled-back change
notifies nobody and a request never waits for a mail server.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from calendar_app.models import Notification, Proposal, Publication
from diplomacy.models import Membership, Role, User

#: What each verb says, in the recipient's language.
VERBS = {
    "submitted": _("%(actor)s sent “%(title)s” to review."),
    "approved": _("%(actor)s approved “%(title)s”."),
    "changes_requested": _("%(actor)s asks for changes to “%(title)s”."),
    "commented": _("%(actor)s commented on “%(title)s”."),
    "due_soon": _("“%(title)s” goes out within 24 hours and is still in review."),
    "proposal_submitted": _("%(actor)s proposes “%(title)s”."),
    "proposal_accepted": _("Your proposal “%(title)s” is accepted and offered to the posts."),
    "proposal_declined": _("Your proposal “%(title)s” is declined."),
}


def recipients(verb: str, publication: Publication, actor: User | None) -> list[int]:
    """User ids to notify: reviewers for work to review, the post for decisions."""
    if verb in ("submitted", "due_soon"):
        ids = Membership.objects.filter(role=Role.CENTRAL_REVIEWER).values_list("user_id", flat=True)
    elif verb in ("approved", "changes_requested"):
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
    subject = notification.publication or notification.proposal
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
    actor_id = getattr(actor, "pk", None)
    users = (
        User.objects.filter(pk__in=set(ids), is_active=True).exclude(pk=actor_id).values_list("pk", flat=True)
    )
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id, verb=verb, proposal=proposal, actor=actor, comment=comment[:2000]
            )
            for user_id in sorted(users)
        ]
    )
    ids_ = [row.pk for row in rows if row.pk]
    if ids_:
        transaction.on_commit(lambda: _queue_emails(ids_))
    return rows


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
