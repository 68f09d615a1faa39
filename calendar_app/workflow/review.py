"""Review: submit, resubmit, approve, request changes, withdraw, cancel, retry.

One function per move of TRANSITIONS: authorise, guard the state, compare-and-set,
history row in the same transaction, notifications after commit.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import guidelines, notifications, permissions, tasks
from calendar_app.models import Comment, Delivery, DeliveryStatus, Publication, Review, ReviewDecision
from calendar_app.workflow.core import (
    MAX_COMMENT,
    DecisionRefused,
    GuidelinesFailed,
    StaleEdit,
    action_transaction,
    guard,
    move,
    snapshot_revision,
)
from calendar_app.workflow.crisis import fast_track, hold_if_in_crisis
from diplomacy.models import User


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
    if not permissions.can_submit(actor, publication):
        raise PermissionDenied
    guard(publication, action)
    with action_transaction():
        if publication.reviews.filter(revision__number=publication.revision).exists():
            # That revision was decided already (sent back unchanged): number a new one.
            bumped = Publication.objects.filter(
                pk=publication.pk, revision=publication.revision, status=publication.status
            ).update(revision=F("revision") + 1)
            if not bumped:
                raise StaleEdit(Publication.objects.get(pk=publication.pk))
            publication.revision += 1
        revision, results = snapshot_revision(actor, publication)
        failures = guidelines.blocking_failures(results)
        if failures:
            raise GuidelinesFailed(failures)  # leaving the block rolls the revision back
        move(
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
    if not permissions.can_review(actor, publication):
        raise PermissionDenied
    guard(publication, action)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DecisionRefused(_("A comment has at most %(max)s characters.") % {"max": MAX_COMMENT})
    if action == "request_changes" and not comment:
        raise DecisionRefused(_("Say what to change: a comment is required."))
    revision = publication.latest_revision
    if revision is None or revision.number != expected_revision or publication.revision != expected_revision:
        raise StaleEdit(Publication.objects.get(pk=publication.pk))
    is_advisory = publication.is_fast_tracked
    if action == "approve":
        if any(c["severity"] == guidelines.BLOCKING and not c["passed"] for c in revision.checks):
            raise DecisionRefused(_("This revision fails a blocking guideline: request changes instead."))
        if publication.is_expired_in_review():
            raise DecisionRefused(_("Its time has passed: the post must reschedule it first."))
        # What goes out is what was checked: a channel may have changed its plan or
        # languages since the revision was submitted, so the posts are judged again.
        changed = guidelines.sending_failures(publication)
        if changed:
            raise DecisionRefused(
                _(
                    "What a channel would send no longer passes the guidelines: %(problems)s "
                    "Request changes instead."
                )
                % {"problems": " ".join(problem for result in changed for problem in result.problems)}
            )
    with action_transaction():
        move(actor, publication, action, expected_revision=expected_revision, comment=comment)
        if action == "approve" and is_advisory:
            fast_track(actor, publication)
        elif action == "approve":
            hold_if_in_crisis(actor, publication)
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
            Comment.objects.create(publication=publication, author=actor, text=comment)
        notifications.notify(
            "approved" if action == "approve" else "changes_requested", publication, actor, comment
        )
        if action == "approve":
            tasks.wake_dispatcher()
    return publication


def withdraw(actor: User, publication: Publication) -> Publication:
    """Take a publication out of review (or back from approved) into draft.

    Who: the post's staff or central. From: in review, approved.
    """
    if not permissions.can_withdraw(actor, publication):
        raise PermissionDenied
    with action_transaction():
        move(actor, publication, "withdraw")
    return publication


def cancel(actor: User, publication: Publication, *, comment: str = "") -> Publication:
    """Cancel a publication that has not gone out.

    Who: the post's staff or central. From: any state but published and cancelled.
    """
    if not permissions.can_cancel(actor, publication):
        raise PermissionDenied
    with action_transaction():
        move(actor, publication, "cancel", comment=(comment or "")[:MAX_COMMENT])
    return publication


def retry(actor: User, publication: Publication) -> Publication:
    """Send a failed publication again, on the channels where it failed.

    Who: the post's staff or central. From: failed. Its failed deliveries go back to
    pending for the engine; delivered ones stay delivered (nothing is posted twice).
    """
    if not permissions.can_retry(actor, publication):
        raise PermissionDenied
    with action_transaction():
        move(actor, publication, "retry")
        Delivery.objects.filter(publication=publication, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING,
            attempts=0,
            claimed_at=None,
            next_attempt_at=timezone.now(),
            error="",
        )
        hold_if_in_crisis(actor, publication)
        tasks.wake_dispatcher()
    return publication
