"""Review: submit, resubmit, approve, request changes, withdraw, cancel, retry, and a new
time for a missed publication.

One function per move of TRANSITIONS: authorise, guard the state, compare-and-set,
history row in the same transaction, notifications after commit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import guidelines, notifications, permissions, tasks
from calendar_app.models import (
    Broadcast,
    BroadcastDecision,
    Comment,
    CrisisEvent,
    Delivery,
    DeliveryStatus,
    Publication,
    PublicationEvent,
    PublicationStatus,
    Review,
    ReviewDecision,
)
from calendar_app.timezones import check_local_time
from calendar_app.workflow.core import (
    CLEARS_CRISIS_MARKS,
    MAX_COMMENT,
    TRANSITIONS,
    DecisionRefused,
    GuidelinesFailed,
    StaleEdit,
    TransitionNotAllowed,
    action_transaction,
    guard,
    move,
    snapshot_revision,
)
from calendar_app.workflow.crisis import fast_track, hold_if_in_crisis
from calendar_app.workflow.deliveries import duration_words
from diplomacy import roles
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


def _clean_comment(action: str, comment: str) -> str:
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DecisionRefused(_("A comment has at most %(max)s characters.") % {"max": MAX_COMMENT})
    if action == "request_changes" and not comment:
        raise DecisionRefused(_("Say what to change: a comment is required."))
    return comment


def _decide(
    actor: User, publication: Publication, action: str, *, expected_revision: int, comment: str
) -> Publication:
    if not permissions.can_review(actor, publication):
        raise PermissionDenied
    guard(publication, action)
    comment = _clean_comment(action, comment)
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


# --- A broadcast, decided as one -------------------------------------------------------------


@dataclass
class BroadcastOutcome:
    """What one decision on a broadcast did, for the reviewer to read."""

    decision: BroadcastDecision | None
    #: The publications the decision moved (approved, or sent back).
    decided: list[Publication] = field(default_factory=list)
    #: Those it may not move, each with why (four eyes, a guideline, their time); they stay
    #: in review, in the group.
    refused: list[tuple[Publication, str]] = field(default_factory=list)
    #: Those edited or decided since the page was opened: they wait for the reviewer.
    changed: list[Publication] = field(default_factory=list)
    #: Those taken out of the group: in review on their own.
    excluded: list[Publication] = field(default_factory=list)


def decide_broadcast(
    actor: User,
    broadcast: Broadcast,
    decision: str,
    *,
    revisions: Mapping[int, int],
    exclude_posts: Collection[int] = (),
    comment: str = "",
) -> BroadcastOutcome:
    """Approve, or request changes on, every publication of a broadcast with one decision.

    Who: a central reviewer; each publication is checked exactly as `approve` checks it (four
    eyes, its revision as seen in `revisions` {publication id: number}, blocking failures, its
    time): one that fails stays in review and is reported, the others move together, each
    with its own compare-and-set, review and history row pointing at one BroadcastDecision.
    The publications of `exclude_posts` leave the group and wait in the queue on their own.
    Notifies each post after commit, as `approve` and `request_changes` do.
    """
    if not permissions.can_decide_broadcast(actor, broadcast):
        raise PermissionDenied
    if decision not in ("approve", "request_changes"):
        raise DecisionRefused(_("Choose a decision: approve, or request changes."))
    comment = _clean_comment(decision, comment)
    members = list(
        Publication.objects.filter(broadcast=broadcast)
        .select_related("post", "crisis", "campaign")
        .prefetch_related("revisions", "channels", "variants", "assets")
        .order_by("post__name", "pk")
    )
    excluded_posts = set(exclude_posts)
    outcome = BroadcastOutcome(decision=None)
    leaving = [p for p in members if p.post_id in excluded_posts and p.status == PublicationStatus.IN_REVIEW]
    candidates = [p for p in members if p.pk in revisions and p not in leaving]
    if not candidates and not leaving:
        raise DecisionRefused(_("Nothing of this group waits for a decision any more: reload the page."))
    rules = [rule for rule in guidelines.configured_rules() if rule.code in guidelines.SENDING_RULES]
    now = timezone.now()
    ready: list[Publication] = []
    for publication in candidates:
        reason = _why_not(actor, publication, decision, revisions[publication.pk], rules, now)
        if reason is None:
            ready.append(publication)
        elif reason == CHANGED_SINCE:
            outcome.changed.append(publication)
        else:
            outcome.refused.append((publication, reason))
    target = TRANSITIONS[decision][1]
    with action_transaction():
        if leaving:
            outcome.excluded = _leave_group(actor, broadcast, leaving)
        if ready:
            # Lock the rows still in review in this group (PostgreSQL; SQLite's IMMEDIATE
            # transaction holds the database already): what someone edited or decided
            # meanwhile shows here with another revision or state, and is left alone.
            now_in_review = dict(
                Publication.objects.select_for_update()
                .filter(pk__in=[p.pk for p in ready], broadcast=broadcast, status=PublicationStatus.IN_REVIEW)
                .values_list("pk", "revision")
            )
            outcome.changed += [p for p in ready if now_in_review.get(p.pk) != revisions[p.pk]]
            ready = [p for p in ready if now_in_review.get(p.pk) == revisions[p.pk]]
        if ready:
            changes = (
                {"held_by": None, "missed_in": None, "released_from": None}
                if target in CLEARS_CRISIS_MARKS
                else {}
            )
            # Compare-and-set on the state and the revision seen: one UPDATE per revision
            # number (a group's publications share one or two), never one per publication.
            by_revision: dict[int, list[int]] = {}
            for p in ready:
                by_revision.setdefault(revisions[p.pk], []).append(p.pk)
            moved = sum(
                Publication.objects.filter(
                    pk__in=ids, revision=number, status=PublicationStatus.IN_REVIEW
                ).update(status=target, updated_at=timezone.now(), **changes)
                for number, ids in by_revision.items()
            )
            if moved != len(ready):
                # The rows are locked: only a bug gets here; nothing half-done is kept.
                raise StaleEdit(broadcast)
            outcome.decided = ready
        outcome.decision = BroadcastDecision.objects.create(
            broadcast=broadcast,
            reviewer=actor,
            decision=decision,
            comment=comment,
            decided=len(outcome.decided),
            refused=len(outcome.refused) + len(outcome.changed),
            excluded=len(outcome.excluded),
        )
        if outcome.decided:
            _record_broadcast_decision(actor, outcome.decided, decision, target, comment, outcome.decision)
    return outcome


#: Why a publication of a broadcast was not decided: it changed since the page was opened.
CHANGED_SINCE = "changed"


def _why_not(
    actor: User,
    publication: Publication,
    decision: str,
    expected_revision: int,
    rules: list[guidelines.Configured],
    now: datetime,
) -> str | None:
    """The rules of `_decide`, for one publication of a broadcast: None when it may be
    decided, else what stops it (CHANGED_SINCE when it changed since the page was opened)."""
    if publication.status != PublicationStatus.IN_REVIEW:
        return CHANGED_SINCE
    revision = publication.latest_revision
    if revision is None or revision.number != expected_revision or publication.revision != expected_revision:
        return CHANGED_SINCE
    if not permissions.can_review(actor, publication):
        return _("you wrote it or sent it to review: another reviewer decides it (four eyes)")
    if decision != "approve":
        return None
    if any(c["severity"] == guidelines.BLOCKING and not c["passed"] for c in revision.checks):
        return _("it fails a blocking guideline")
    if publication.is_expired_in_review(now):
        return _("its time has passed: the post must reschedule it first")
    # What goes out is what was checked: a channel may have changed since submission.
    changed = guidelines.blocking_failures(
        guidelines.check(guidelines.CheckContext.for_publication(publication), rules)
    )
    if changed:
        return _("what a channel would send no longer passes the guidelines: %(problems)s") % {
            "problems": " ".join(problem for result in changed for problem in result.problems)
        }
    return None


def _leave_group(actor: User, broadcast: Broadcast, leaving: list[Publication]) -> list[Publication]:
    """Take publications out of the group (compare-and-set on the group): they stay in review."""
    # Locked as in the decision: two reviewers excluding the same post record it once.
    ids = set(
        Publication.objects.select_for_update()
        .filter(pk__in=[p.pk for p in leaving], broadcast=broadcast, status=PublicationStatus.IN_REVIEW)
        .values_list("pk", flat=True)
    )
    Publication.objects.filter(pk__in=ids, broadcast=broadcast).update(broadcast=None)
    left = [p for p in leaving if p.pk in ids]
    PublicationEvent.objects.bulk_create(
        [
            PublicationEvent(
                publication=p,
                actor=actor,
                verb="left_broadcast",
                from_status=p.status,
                to_status=p.status,
                revision=p.revision,
                data={"broadcast": broadcast.pk},
            )
            for p in left
        ]
    )
    for p in left:
        p.broadcast_id = None
    return left


def _record_broadcast_decision(
    actor: User,
    decided: list[Publication],
    decision: str,
    target: str,
    comment: str,
    row: BroadcastDecision,
) -> None:
    """Each publication's history row, review and comment in a few queries; then what
    `_decide` does after a decision (fast track or crisis hold, notifications, schedule)."""
    data = {"broadcast_decision": row.pk, "broadcast": row.broadcast_id}
    PublicationEvent.objects.bulk_create(
        [
            PublicationEvent(
                publication=p,
                actor=actor,
                verb=decision,
                from_status=PublicationStatus.IN_REVIEW,
                to_status=target,
                comment=comment,
                revision=p.revision,
                data=data,
            )
            for p in decided
        ]
    )
    version = guidelines.current_version()
    Review.objects.bulk_create(
        [
            Review(
                publication=p,
                revision=p.latest_revision,
                reviewer=actor,
                decision=ReviewDecision.APPROVE if decision == "approve" else ReviewDecision.REQUEST_CHANGES,
                comment=comment,
                guideline_version=version,
            )
            for p in decided
        ]
    )
    if comment:
        Comment.objects.bulk_create([Comment(publication=p, author=actor, text=comment) for p in decided])
    for p in decided:
        p.status = target
    if decision == "approve":
        advisories = [p for p in decided if p.is_fast_tracked]
        _fast_track_all(actor, advisories)
        for p in decided:
            if p not in advisories:
                hold_if_in_crisis(actor, p)
    for p in decided:
        notifications.notify("approved" if decision == "approve" else "changes_requested", p, actor, comment)
    if decision == "approve" and decided:
        tasks.wake_dispatcher()


def _fast_track_all(actor: User, advisories: list[Publication]) -> None:
    """`fast_track` for many advisories at once: those whose moment passed while they waited
    go out now (one UPDATE per time zone, since the wall time is kept in each post's zone)."""
    now = timezone.now()
    late = [p for p in advisories if p.scheduled_at <= now]
    by_zone: dict[str, list[Publication]] = {}
    for p in late:
        by_zone.setdefault(p.timezone, []).append(p)
    events = []
    for zone_publications in by_zone.values():
        local = now.astimezone(zone_publications[0].zone)
        local_time = local.time().replace(second=0, microsecond=0)
        Publication.objects.filter(pk__in=[p.pk for p in zone_publications]).update(
            local_date=local.date(), local_time=local_time, scheduled_at=now
        )
        for p in zone_publications:
            old = p.scheduled_at.isoformat()
            p.local_date, p.local_time, p.scheduled_at = local.date(), local_time, now
            events.append(
                PublicationEvent(
                    publication=p,
                    actor=actor,
                    verb="advisory_retimed",
                    from_status=p.status,
                    to_status=p.status,
                    revision=p.revision,
                    data={"from": old, "to": now.isoformat()},
                )
            )
    PublicationEvent.objects.bulk_create(events)
    CrisisEvent.objects.bulk_create(
        [
            CrisisEvent(crisis_id=p.crisis_id, actor=actor, verb="advisory_approved", publication=p)
            for p in advisories
            if p.crisis_id
        ]
    )


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
    guard(publication, "retry")
    if publication.is_too_late():
        # The engine would not send it (may_go_out): refuse rather than pretend.
        raise TransitionNotAllowed(
            _(
                "Its time is more than %(limit)s past: it is not sent late. Make a copy at a new "
                "time, or cancel it."
            )
            % {"limit": duration_words(settings.MAX_LATENESS)}
        )
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


def reschedule_missed(
    actor: User,
    publication: Publication,
    *,
    local_date: date,
    local_time: time,
    expected_revision: int | None = None,
) -> Publication:
    """Give a missed publication a new time (in its post's zone), which must be ahead.

    Who: the post's staff or central (permissions.can_reschedule_missed). From: missed.
    Moved by its post it goes back to review (the approval covered the old time, as for any
    move of an approved publication) and central reviewers are told; moved by central it
    is approved again at the new time. Its deliveries failed for lateness wait again.
    """
    if not permissions.can_reschedule_missed(actor, publication):
        raise PermissionDenied
    action = "reschedule_missed" if roles.is_central(actor) else "reopen_review"
    guard(publication, action)
    scheduled_at = check_local_time(local_date, local_time, publication.timezone)
    if scheduled_at <= timezone.now():
        raise ValidationError(_("Choose a time that has not passed yet."))
    expected = publication.revision if expected_revision is None else expected_revision
    data = {
        "from": {
            "date": publication.local_date.isoformat(),
            "time": publication.local_time.strftime("%H:%M"),
        },
        "to": {"date": local_date.isoformat(), "time": local_time.strftime("%H:%M")},
    }
    with action_transaction():
        move(
            actor,
            publication,
            action,
            expected_revision=expected,
            verb="rescheduled_after_missed",
            data=data,
            local_date=local_date,
            local_time=local_time,
            scheduled_at=scheduled_at,
            revision=F("revision") + 1,
            missed_in=None,
        )
        # The deliveries the lateness (or the crisis) failed go out at the new time; one
        # delivered already stays delivered (a missed publication has none).
        Delivery.objects.filter(publication=publication, status=DeliveryStatus.FAILED).update(
            status=DeliveryStatus.PENDING, attempts=0, claimed_at=None, next_attempt_at=scheduled_at, error=""
        )
        if action == "reopen_review":
            snapshot_revision(actor, publication)
            notifications.notify("submitted", publication, actor)
        else:
            hold_if_in_crisis(actor, publication)
            tasks.wake_dispatcher()
    return publication
