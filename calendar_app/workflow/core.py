"""What every workflow action shares: the errors, the transition tables, the history rows
and the one compare-and-set that moves a status.

The tables are the one statement of which moves exist: `move` refuses any other,
and permissions derives the actions it offers from them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calendar_app import guidelines
from calendar_app.models import (
    Proposal,
    ProposalEvent,
    ProposalStatus,
    Publication,
    PublicationEvent,
    PublicationRevision,
    PublicationStatus,
)
from diplomacy.models import User

# --- Errors -------------------------------------------------------------------------------


class WorkflowError(Exception):
    """An action refused for a reason the user can act on; nothing was changed.

    Views catch this one class to tell the user why (each subclass says more).
    """


class StaleEdit(WorkflowError):
    """Someone changed the row since it was loaded (the compare-and-set matched nothing).

    `current` is the row as it is now, for the user to compare with.
    """

    def __init__(self, current: Model) -> None:
        super().__init__("stale")
        self.current = current


class TransitionNotAllowed(WorkflowError):
    """The state does not allow this move (the transition table says no)."""


class GuidelinesFailed(WorkflowError):
    """Blocking guideline failures stop a submission; `results` says what to fix."""

    def __init__(self, results: list[guidelines.Result]) -> None:
        super().__init__("blocking guidelines")
        self.results = results


class DecisionRefused(WorkflowError):
    """A review decision that cannot be taken now; the message says why."""


class CrisisRefused(WorkflowError):
    """A crisis action that cannot be taken as asked; the message says why."""


class AddressRefused(WorkflowError):
    """A live address that does not name the post it is given for; the message says why."""


MAX_COMMENT = 5000


def action_transaction() -> transaction.Atomic:
    """The transaction of one public action: durable, so it cannot run inside a caller's
    block, and what it reports done (its history row, the notifications queued on commit)
    is committed when it returns, never rolled back later by someone else's error."""
    return transaction.atomic(durable=True)


# --- The transition tables -----------------------------------------------------------------

S = PublicationStatus

#: Every allowed move of a publication, in one place: action -> (from states, to state).
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((S.DRAFT,), S.IN_REVIEW),
    "resubmit": ((S.CHANGES_REQUESTED,), S.IN_REVIEW),
    "approve": ((S.IN_REVIEW,), S.APPROVED),
    "request_changes": ((S.IN_REVIEW,), S.CHANGES_REQUESTED),
    "withdraw": ((S.IN_REVIEW, S.APPROVED), S.DRAFT),
    "cancel": ((S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.FAILED, S.MISSED), S.CANCELLED),
    # A delivery failed for good (e.g. expired credentials, fixed since): send it again.
    "retry": ((S.FAILED,), S.APPROVED),
    # An approval covers one exact revision: its post changing the content or the time
    # sends it back to review (the edit and reschedule actions take this move).
    # A missed publication given a new time by its post goes back to review the same way
    # (the approval covered the old time).
    "reopen_review": ((S.APPROVED, S.MISSED), S.IN_REVIEW),
    # A missed publication given a new time by central keeps its approval, as central's
    # move of an approved publication does (central is who approves).
    "reschedule_missed": ((S.MISSED,), S.APPROVED),
    # A post manager's crisis advisory, published at once; central reviews it afterwards.
    "break_glass": ((S.DRAFT,), S.APPROVED),
    # The engine's outcomes, from the deliveries (no person takes these).
    "publish": ((S.APPROVED,), S.PUBLISHED),
    "fail": ((S.APPROVED,), S.FAILED),
    # Not sent within MAX_LATENESS of its time, or its time passed while a crisis held it:
    # never sent late; a person reschedules or cancels it.
    "miss": ((S.APPROVED,), S.MISSED),
}

#: The moves people take on a publication page (one endpoint each); the others are steps
#: of another action (edit, reschedule, break-glass) or the engine's.
USER_ACTIONS = ("submit", "resubmit", "approve", "request_changes", "withdraw", "cancel", "retry")

#: Leaving approved for a state where a person decides again ends whatever a crisis did to
#: it (held, missed, released): a crisis holds approved publications only. The engine's
#: outcomes keep them, as the record of how it went out.
CLEARS_CRISIS_MARKS = (S.DRAFT, S.IN_REVIEW, S.CHANGES_REQUESTED, S.CANCELLED)

ACTION_LABELS = {
    "submit": gettext_lazy("submitted"),
    "resubmit": gettext_lazy("resubmitted"),
    "approve": gettext_lazy("approved"),
    "request_changes": gettext_lazy("sent back"),
    "withdraw": gettext_lazy("withdrawn"),
    "cancel": gettext_lazy("cancelled"),
    "retry": gettext_lazy("sent again"),
    "reopen_review": gettext_lazy("resubmitted"),
    "break_glass": gettext_lazy("approved"),
    "publish": gettext_lazy("published"),
    "fail": gettext_lazy("failed"),
    "miss": gettext_lazy("marked missed"),
    "reschedule_missed": gettext_lazy("rescheduled"),
}

P = ProposalStatus

#: Every allowed move of a partner's proposal: action -> (from states, to state).
PROPOSAL_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((P.DRAFT,), P.SUBMITTED),
    "withdraw": ((P.DRAFT, P.SUBMITTED, P.ACCEPTED), P.WITHDRAWN),
    "accept": ((P.SUBMITTED,), P.ACCEPTED),
    "decline": ((P.SUBMITTED,), P.DECLINED),
}

PROPOSAL_ACTION_LABELS = {
    "submit": gettext_lazy("submitted"),
    "withdraw": gettext_lazy("withdrawn"),
    "accept": gettext_lazy("accepted"),
    "decline": gettext_lazy("declined"),
}


def table_for(obj: Publication | Proposal) -> dict[str, tuple[tuple[str, ...], str]]:
    """The transition table that governs `obj`."""
    return PROPOSAL_TRANSITIONS if isinstance(obj, Proposal) else TRANSITIONS


def actions_from(table: dict[str, tuple[tuple[str, ...], str]], status: str) -> set[str]:
    """The actions `table` allows from `status` (whoever asks)."""
    return {action for action, (sources, _target) in table.items() if status in sources}


def guard(obj: Publication | Proposal, action: str) -> str:
    """The state `action` moves `obj` to; TransitionNotAllowed when its table says no."""
    sources, target = table_for(obj)[action]
    if obj.status not in sources:
        if isinstance(obj, Proposal):
            message = _("This proposal is “%(status)s”: it cannot be %(action)s now.")
            label = PROPOSAL_ACTION_LABELS[action]
        else:
            message = _("This publication is “%(status)s”: it cannot be %(action)s now.")
            label = ACTION_LABELS[action]
        raise TransitionNotAllowed(message % {"status": obj.get_status_display(), "action": label})
    return target


# --- History -------------------------------------------------------------------------------


def record_event(
    publication: Publication,
    actor: User | None,
    verb: str,
    *,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    data: dict[str, Any] | None = None,
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


def record_proposal_event(
    proposal: Proposal,
    actor: User | None,
    verb: str,
    *,
    from_status: str = "",
    to_status: str = "",
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> ProposalEvent:
    """Append a row to a proposal's history (never updated, never deleted)."""
    return ProposalEvent.objects.create(
        proposal=proposal,
        actor=actor,
        verb=verb,
        from_status=from_status,
        to_status=to_status or from_status,
        comment=comment,
        data=data or {},
    )


# --- The one compare-and-set ---------------------------------------------------------------


def move(
    actor: User | None,
    obj: Publication | Proposal,
    action: str,
    *,
    expected_revision: int | None = None,
    expected: Q | None = None,
    verb: str = "",
    comment: str = "",
    data: dict[str, Any] | None = None,
    **changes: Any,
) -> str:
    """Move `obj` (a publication or a proposal) along its table; returns the new status.

    Guards the state (TransitionNotAllowed), then compare-and-sets the status, on the
    revision and the conditions `expected` too when given (a publication's; a proposal has
    none), with `changes` in the same UPDATE: when two people act at once only one UPDATE
    matches the state both saw, and the other gets StaleEdit carrying the row as it is now,
    on SQLite and PostgreSQL alike. Writes the history row (`verb`, the action by default).
    Must run inside the action's transaction.
    """
    target = guard(obj, action)
    source = obj.status
    rows: QuerySet[Publication] | QuerySet[Proposal]
    if isinstance(obj, Publication):
        rows = Publication.objects.filter(pk=obj.pk, status=source)
        if expected_revision is not None:
            rows = rows.filter(revision=expected_revision)
        if expected is not None:
            rows = rows.filter(expected)  # more of the state the caller saw (a sweep's "still late")
        if target in CLEARS_CRISIS_MARKS:
            changes = {"held_by": None, "missed_in": None, "released_from": None, **changes}
    else:
        if expected_revision is not None or expected is not None:
            raise TypeError("A proposal has no revision to compare.")
        rows = Proposal.objects.filter(pk=obj.pk, status=source)
    if not rows.update(status=target, updated_at=timezone.now(), **changes):
        raise StaleEdit(type(obj).objects.get(pk=obj.pk))
    obj.status = target
    computed = [name for name, value in changes.items() if hasattr(value, "resolve_expression")]
    for name, value in changes.items():
        if name not in computed:
            setattr(obj, name, value)
    if computed:
        obj.refresh_from_db(fields=computed)
    if isinstance(obj, Proposal):
        record_proposal_event(
            obj, actor, verb or action, from_status=source, to_status=target, comment=comment, data=data
        )
    else:
        record_event(
            obj, actor, verb or action, from_status=source, to_status=target, comment=comment, data=data
        )
    return target


# --- The revision under review -------------------------------------------------------------


def content_snapshot(publication: Publication) -> dict[str, Any]:
    """What an approval covers: the content, the channels, the time and the images."""
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


def snapshot_revision(
    actor: User, publication: Publication
) -> tuple[PublicationRevision, list[guidelines.Result]]:
    """Store the content under review as a revision, with its guideline results."""
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
