"""Partner proposals: write a draft, submit, withdraw, accept, decline; posts adopt or
dismiss them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app import notifications, permissions
from calendar_app.models import (
    Asset,
    Campaign,
    Proposal,
    ProposalDismissal,
    ProposalStatus,
    ProposalTarget,
    ProposalVariant,
    Publication,
    PublicationKind,
    PublicationStatus,
)
from calendar_app.workflow.core import (
    MAX_COMMENT,
    DecisionRefused,
    TransitionNotAllowed,
    action_transaction,
    move,
    record_event,
    record_proposal_event,
)
from calendar_app.workflow.publications import PublicationContent, create_publication
from diplomacy.models import Post, User


@dataclass
class ProposalContent:
    """Everything a partner writes in a proposal, as the form cleaned it."""

    title: str
    summary: str
    target: str
    target_countries: list[str]
    target_posts: list[Post]
    window_starts_on: date | None
    window_ends_on: date | None
    campaign: Campaign | None
    contact: str
    #: {language: text}; a language left out loses its text.
    texts: dict[str, str]
    new_assets: list[Asset] = field(default_factory=list)


def save_proposal(actor: User, proposal: Proposal, content: ProposalContent) -> Proposal:
    """Write a partner's draft: a new proposal (not saved yet), or changes to a draft.

    Who: the partner's contributors. From: draft only: a proposal a colleague sent
    meanwhile is refused (TransitionNotAllowed) and nothing is written. Recorded in
    its history. Not durable: the view stores the uploaded photo in the same transaction.
    """
    allowed = (
        permissions.can_edit_proposal(actor, proposal)
        if proposal.pk
        else permissions.can_create_proposal(actor)
    )
    if not allowed:
        raise PermissionDenied
    fields = {
        "title": content.title,
        "summary": content.summary,
        "target": content.target,
        "target_countries": ",".join(content.target_countries),
        "window_starts_on": content.window_starts_on,
        "window_ends_on": content.window_ends_on,
        "campaign": content.campaign,
        "contact": content.contact,
    }
    verb = "edited" if proposal.pk else "created"
    with transaction.atomic():
        if proposal.pk:
            # Only the fields of the form, and only while it is a draft: a colleague who
            # submitted it meanwhile wins (a plain save would write the old status back).
            if not Proposal.objects.filter(pk=proposal.pk, status=ProposalStatus.DRAFT).update(
                updated_at=timezone.now(), **fields
            ):
                raise TransitionNotAllowed(_("This proposal was sent meanwhile: it can no longer be edited."))
            for name, value in fields.items():
                setattr(proposal, name, value)
        else:
            for name, value in fields.items():
                setattr(proposal, name, value)
            proposal.save()
        proposal.target_posts.set(content.target_posts if content.target == ProposalTarget.POSTS else [])
        proposal.variants.exclude(language__in=list(content.texts)).delete()
        for language, text in content.texts.items():
            ProposalVariant.objects.update_or_create(
                proposal=proposal, language=language, defaults={"text": text}
            )
        if content.new_assets:
            proposal.assets.add(*content.new_assets)
        record_proposal_event(proposal, actor, verb, from_status=proposal.status)
    return proposal


def submit_proposal(actor: User, proposal: Proposal) -> Proposal:
    """Send a partner's proposal to central comms.

    Who: the partner's contributors. From: draft. It needs a text in at least one
    language. Notifies central reviewers after commit.
    """
    if not permissions.can_submit_proposal(actor, proposal):
        raise PermissionDenied
    if not proposal.variants.exists():
        raise DecisionRefused(_("Write a suggested text in at least one language first."))
    with action_transaction():
        move(actor, proposal, "submit", submitted_at=timezone.now())
        notifications.notify_proposal("proposal_submitted", proposal, actor)
    return proposal


def withdraw_proposal(actor: User, proposal: Proposal) -> Proposal:
    """Take a proposal back. Who: the partner's contributors. From: draft, submitted, accepted.

    Publications already adopted from it stay with their posts.
    """
    if not permissions.can_withdraw_proposal(actor, proposal):
        raise PermissionDenied
    with action_transaction():
        move(actor, proposal, "withdraw")
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
    if not permissions.can_triage_proposal(actor, proposal):
        raise PermissionDenied
    changes: dict[str, Any] = {"decided_by": actor, "decided_at": timezone.now()}
    if target:
        changes["target"] = target
        changes["target_countries"] = ",".join(countries or []) if target == "countries" else ""
    if campaign is not None:
        changes["campaign"] = campaign
    with action_transaction():
        move(actor, proposal, "accept", **changes)
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
    if not permissions.can_triage_proposal(actor, proposal):
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise DecisionRefused(_("Say why the proposal is declined: the partner reads it."))
    if len(reason) > MAX_COMMENT:
        raise DecisionRefused(_("A comment has at most %(max)s characters.") % {"max": MAX_COMMENT})
    with action_transaction():
        move(
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
    with action_transaction():
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
        record_proposal_event(
            proposal,
            actor,
            "adopted",
            from_status=proposal.status,
            data={"post": post.code, "publication": publication.pk},
        )
    return publication


def dismiss_proposal(actor: User, proposal: Proposal, post: Post, *, reason: str = "") -> None:
    """A post says "not for us"; it leaves the post's library. Central can read the reason."""
    if not permissions.can_adopt_proposal(actor, proposal, post):
        raise PermissionDenied
    with action_transaction():
        ProposalDismissal.objects.update_or_create(
            proposal=proposal, post=post, defaults={"user": actor, "reason": (reason or "").strip()[:2000]}
        )
