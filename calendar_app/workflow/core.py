"""What every workflow action shares: the errors, the transition tables, the history rows
and the compare-and-set that moves a status.

The tables are the one statement of which moves exist; permissions derives the
actions it offers from them, and every status change goes through them.
"""

from __future__ import annotations

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


class StaleEdit(Exception):
    """Someone saved the publication since the form was loaded; nothing was changed."""

    def __init__(self, current: Publication) -> None:
        super().__init__("stale")
        self.current = current


class TransitionNotAllowed(Exception):
    """The publication's state does not allow this move."""


class CrisisRefused(Exception):
    """A crisis action that cannot be taken as asked; the message says why."""


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


def snapshot_revision(actor: User, publication: Publication) -> tuple:
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


def guard(publication: Publication, action: str) -> str:
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


def move(
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
    target = guard(publication, action)
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


P = ProposalStatus

PROPOSAL_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((P.DRAFT,), P.SUBMITTED),
    "withdraw": ((P.DRAFT, P.SUBMITTED, P.ACCEPTED), P.WITHDRAWN),
    "accept": ((P.SUBMITTED,), P.ACCEPTED),
    "decline": ((P.SUBMITTED,), P.DECLINED),
}


def move_proposal(actor: User, proposal: Proposal, action: str, *, comment: str = "", **changes) -> None:
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
