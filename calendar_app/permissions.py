"""Who may do what to publications, proposals and crises.

Built on diplomacy.roles (who is who). Views, tasks and workflow functions ask
these predicates and nothing else; templates ask `allowed_actions`, which takes
the moves a state allows from the workflow's transition tables and adds who may
take each.
"""

from __future__ import annotations

from collections.abc import Sequence

from calendar_app.models import (
    CLOSED_STATUSES,
    Asset,
    Broadcast,
    Crisis,
    Proposal,
    ProposalStatus,
    Publication,
    PublicationStatus,
)

# The workflow asks these predicates and this module reads the workflow's tables: the
# import works in either order because neither module uses the other before a call.
from calendar_app.workflow.core import PROPOSAL_TRANSITIONS, TRANSITIONS, actions_from
from diplomacy import roles
from diplomacy.models import Post
from diplomacy.roles import AnyUser


def can_use_calendar(user: AnyUser) -> bool:
    """The shared calendar is for ministry staff; partners get their own pages."""
    return roles.is_internal(user)


def can_view_publication(user: AnyUser, publication: Publication) -> bool:
    """Central sees everything; a post's staff see all of their post's publications;
    the rest of the network sees approved and published ones only."""
    return publication.is_visible_to(user)


def can_create_publication(user: AnyUser, post: Post) -> bool:
    """A post's staff plan for their own post; central may plan for any post."""
    return roles.is_central(user) or roles.works_for_post(user, post)


def can_plan_publications(user: AnyUser) -> bool:
    """Whether `user` may plan for at least one post."""
    return roles.is_central(user) or bool(roles.post_ids(user))


def posts_for_new_publication(user: AnyUser) -> list[Post] | None:
    """The posts `user` may plan for; None means every post (central)."""
    if roles.is_central(user):
        return None
    return roles.posts_of(user)


def can_edit_publication(user: AnyUser, publication: Publication) -> bool:
    """The post's staff and central edit until it is published or cancelled.

    A failed publication is not edited either: its approved text is what failed to go
    out; it is cancelled (or, once retrying exists, sent again as approved).
    A missed one is not edited either: its approved text waits for a new time
    (`can_reschedule_missed`), and an edit would slip past the approval.
    """
    if publication.status in CLOSED_STATUSES or publication.status in (
        PublicationStatus.FAILED,
        PublicationStatus.MISSED,
    ):
        return False
    return roles.is_central(user) or roles.works_for_post(user, publication.post)


def can_reschedule(user: AnyUser, publication: Publication) -> bool:
    return can_edit_publication(user, publication) and publication.status != PublicationStatus.FAILED


def can_reschedule_missed(user: AnyUser, publication: Publication) -> bool:
    """The post's staff (back to review) and central (approved again) give a missed
    publication a new time."""
    if publication.status != PublicationStatus.MISSED:
        return False
    return roles.is_central(user) or roles.works_for_post(user, publication.post)


def can_duplicate(user: AnyUser, publication: Publication) -> bool:
    return can_view_publication(user, publication) and (
        roles.is_central(user) or roles.works_for_post(user, publication.post)
    )


def can_duplicate_to_other_posts(user: AnyUser) -> bool:
    return roles.is_central(user)


def can_view_asset(
    user: AnyUser, asset: Asset, publications: Sequence[Publication], proposals: Sequence[Proposal] = ()
) -> bool:
    """An image is visible to its owner, its post's staff, central, and whoever sees
    a publication or a proposal that uses it."""
    if roles.is_central(user) or asset.owner_id == getattr(user, "pk", None):
        return True
    if asset.post_id and asset.post_id in roles.post_ids(user):
        return True
    return any(can_view_publication(user, publication) for publication in publications) or any(
        can_view_proposal(user, proposal) for proposal in proposals
    )


def allowed_actions(user: AnyUser, publication: Publication) -> set[str]:
    """The action names `user` may take on `publication`, for templates.

    The moves are those TRANSITIONS allows from its status that a person takes on the
    page, each kept when its predicate says `user` may; then the actions that are not moves.
    """
    moves = {
        action
        for action in actions_from(TRANSITIONS, publication.status)
        if action in _MOVE_PREDICATES and _MOVE_PREDICATES[action](user, publication)
    }
    others = {
        "view": can_view_publication(user, publication),
        "edit": can_edit_publication(user, publication),
        # Posted by hand: only what may go out now (approved, due, not held by a crisis).
        "record_delivery": publication.may_go_out() and can_record_delivery(user, publication),
        # What a person found on the channel after an unknown outcome is a fact, recorded
        # whatever became of the publication since (failed, missed), unless it was cancelled.
        "record_checked_delivery": publication.status != PublicationStatus.CANCELLED
        and can_record_delivery(user, publication),
        "comment": can_comment(user, publication),
        "reschedule": can_reschedule(user, publication) or can_reschedule_missed(user, publication),
        "duplicate": can_duplicate(user, publication),
        "duplicate_to_posts": can_duplicate(user, publication) and can_duplicate_to_other_posts(user),
    }
    return moves | {name for name, allowed in others.items() if allowed}


def _can_approve(user: AnyUser, publication: Publication) -> bool:
    return can_review(user, publication) and not publication.is_expired_in_review()


# --- Review workflow ---------------------------------------------------------------


def _is_own(user: AnyUser, publication: Publication) -> bool:
    """Four eyes: the author, and whoever submitted the revision under review, are not reviewers."""
    if publication.author_id == getattr(user, "pk", None):
        return True
    latest = getattr(publication, "latest_revision", None)
    return bool(latest and latest.submitted_by_id == getattr(user, "pk", None))


def can_submit(user: AnyUser, publication: Publication) -> bool:
    """The post's staff (and central) send their publication to review."""
    return can_edit_publication(user, publication)


def can_review(user: AnyUser, publication: Publication) -> bool:
    """Only central reviewers decide, and never on their own publication."""
    return roles.is_central(user) and not _is_own(user, publication)


def can_withdraw(user: AnyUser, publication: Publication) -> bool:
    return can_edit_publication(user, publication)


def can_cancel(user: AnyUser, publication: Publication) -> bool:
    if publication.status in CLOSED_STATUSES:
        return False
    return roles.is_central(user) or roles.works_for_post(user, publication.post)


def can_retry(user: AnyUser, publication: Publication) -> bool:
    """The post's staff (or central) send a failed publication again."""
    if publication.status in CLOSED_STATUSES:
        return False
    return roles.is_central(user) or roles.works_for_post(user, publication.post)


def _can_retry_now(user: AnyUser, publication: Publication) -> bool:
    """The button only while sending again can still send it (never late: may_go_out)."""
    return can_retry(user, publication) and not publication.is_too_late()


def can_comment(user: AnyUser, publication: Publication) -> bool:
    """The thread is between the post's staff and central."""
    return roles.is_central(user) or roles.works_for_post(user, publication.post)


#: Who may take each move of TRANSITIONS that a person takes on a publication page; the
#: table's other moves (the engine's, steps of editing and break-glass) are offered nowhere.
_MOVE_PREDICATES = {
    "submit": can_submit,
    "resubmit": can_submit,
    "approve": _can_approve,
    "request_changes": can_review,
    "withdraw": can_withdraw,
    "cancel": can_cancel,
    "retry": _can_retry_now,
}


def can_use_approvals(user: AnyUser) -> bool:
    return roles.is_central(user)


def can_decide_broadcast(user: AnyUser, broadcast: Broadcast) -> bool:
    """Central reviewers decide a group as one; four eyes is then asked of each of its
    publications (`can_review`), since the group's author is each one's author."""
    return roles.is_central(user)


def can_manage_guidelines(user: AnyUser) -> bool:
    return roles.is_central(user)


def can_view_guidelines(user: AnyUser) -> bool:
    """The common guidelines are for everybody who writes for the network, partners too."""
    return user.is_authenticated


# --- Partner proposals ----------------------------------------------------------------


def proposal_targets_post(proposal: Proposal, post: Post) -> bool:
    """Whether an accepted proposal is aimed at `post` (network, its country, or itself)."""
    return proposal.is_aimed_at(post)


def is_own_partner(user: AnyUser, proposal: Proposal) -> bool:
    return proposal.partner_id in roles.partner_ids(user)


def can_view_proposal(user: AnyUser, proposal: Proposal) -> bool:
    """The partner's own people; central once submitted; posts it is offered to."""
    return proposal.is_visible_to(user)


def can_create_proposal(user: AnyUser) -> bool:
    return roles.is_partner_contributor(user)


def can_edit_proposal(user: AnyUser, proposal: Proposal) -> bool:
    """A partner edits its proposal until it is submitted."""
    return is_own_partner(user, proposal) and proposal.status == ProposalStatus.DRAFT


def can_submit_proposal(user: AnyUser, proposal: Proposal) -> bool:
    return can_edit_proposal(user, proposal)


def can_withdraw_proposal(user: AnyUser, proposal: Proposal) -> bool:
    """The partner takes its own proposal back, from wherever the table allows it."""
    return is_own_partner(user, proposal) and "withdraw" in actions_from(
        PROPOSAL_TRANSITIONS, proposal.status
    )


def can_triage_proposal(user: AnyUser, proposal: Proposal) -> bool:
    """Central decides on proposals (the workflow says when a decision is no longer possible)."""
    return roles.is_central(user)


def can_adopt_proposal(user: AnyUser, proposal: Proposal, post: Post) -> bool:
    """A post's staff adopt an accepted proposal aimed at their post, inside its window."""
    return roles.works_for_post(user, post) and proposal.is_open_for(post)


def posts_that_may_adopt(user: AnyUser, proposal: Proposal) -> list[Post]:
    return [post for post in roles.posts_of(user) if can_adopt_proposal(user, proposal, post)]


def can_view_regional_share(user: AnyUser) -> bool:
    return roles.is_central(user)


def proposal_actions(user: AnyUser, proposal: Proposal) -> set[str]:
    """The action names `user` may take on `proposal`, for templates: the moves
    PROPOSAL_TRANSITIONS allows from its status that `user` may take, then the others."""
    moves = {
        action
        for action in actions_from(PROPOSAL_TRANSITIONS, proposal.status)
        if _PROPOSAL_MOVE_PREDICATES[action](user, proposal)
    }
    others = {
        "edit": can_edit_proposal(user, proposal),
        "adopt": bool(posts_that_may_adopt(user, proposal)),
        "see_adoptions": is_own_partner(user, proposal) or roles.is_central(user),
    }
    return moves | {name for name, allowed in others.items() if allowed}


#: Who may take each move of PROPOSAL_TRANSITIONS.
_PROPOSAL_MOVE_PREDICATES = {
    "submit": can_submit_proposal,
    "withdraw": can_withdraw_proposal,
    "accept": can_triage_proposal,
    "decline": can_triage_proposal,
}


# --- Network insight ---------------------------------------------------------------------


def can_view_reports(user: AnyUser) -> bool:
    """Coverage and activity answer central comms' questions."""
    return roles.is_central(user)


def can_manage_priorities(user: AnyUser) -> bool:
    return roles.is_central(user)


def can_record_delivery(user: AnyUser, publication: Publication) -> bool:
    """The post's staff, who post by hand, and central."""
    return roles.is_central(user) or roles.works_for_post(user, publication.post)


# --- Crisis mode ---------------------------------------------------------------------


def can_view_crises(user: AnyUser) -> bool:
    """Ministry staff see the crisis page; partners do not."""
    return roles.is_internal(user)


def can_view_crisis(user: AnyUser, crisis: Crisis) -> bool:
    """Central sees every crisis; a post's staff those that take in one of their posts."""
    if roles.is_central(user):
        return True
    if not roles.is_post_staff(user):
        return False
    post_ids = {post.pk for post in crisis.posts.all()}
    return any(crisis.takes_in(post, post_ids) for post in roles.posts_of(user))


def can_declare_crisis(user: AnyUser) -> bool:
    """Central reviewers, and post managers (for their own post)."""
    return roles.is_central(user) or bool(roles.managed_post_ids(user))


def can_declare_crisis_for(
    user: AnyUser, *, whole_network: bool, countries: list[str], posts: list[Post]
) -> bool:
    """Central declares for anything; a post manager only for posts they manage, by name."""
    if roles.is_central(user):
        return True
    if whole_network or countries or not posts:
        return False
    return {post.pk for post in posts} <= roles.managed_post_ids(user)


def _declared_for_own_posts_only(user: AnyUser, crisis: Crisis) -> bool:
    if crisis.whole_network or crisis.country_list:
        return False
    post_ids = {post.pk for post in crisis.posts.all()}
    return bool(post_ids) and post_ids <= roles.managed_post_ids(user)


def can_end_crisis(user: AnyUser, crisis: Crisis) -> bool:
    """Central ends any crisis; a post manager one that covers only posts they manage.

    Whether it is still active is the transition's to say (a clear message, not a 403).
    A crisis central declared is central's to end, even when it covers one post.
    """
    if roles.is_central(user):
        return True
    if not _declared_for_own_posts_only(user, crisis):
        return False
    return crisis.declared_by_id == getattr(user, "pk", None) or not roles.is_central(crisis.declared_by)


def can_acknowledge_crisis(user: AnyUser, crisis: Crisis) -> bool:
    """A central reviewer other than the one who declared it takes it up."""
    return crisis.is_active and roles.is_central(user) and crisis.declared_by_id != getattr(user, "pk", None)


def can_release_hold(user: AnyUser, publication: Publication) -> bool:
    """Only central lets a single held publication go out during a crisis."""
    return roles.is_central(user) and publication.held_by_id is not None


def can_compose_advisory(user: AnyUser, crisis: Crisis) -> bool:
    """Central writes advisories and broadcasts them to every affected post."""
    return crisis.is_active and roles.is_central(user)


def can_break_glass(user: AnyUser, post: Post, crisis: Crisis) -> bool:
    """A post manager may publish an advisory for their own post at once, during a crisis there."""
    return crisis.is_active and post.pk in roles.managed_post_ids(user) and crisis.takes_in(post)


def break_glass_posts(user: AnyUser, crisis: Crisis) -> list[Post]:
    """The posts `user` manages that `crisis` takes in (where they may break glass)."""
    if not crisis.is_active:
        return []
    managed = roles.managed_post_ids(user)
    post_ids = {post.pk for post in crisis.posts.all()}
    return [post for post in roles.posts_of(user) if post.pk in managed and crisis.takes_in(post, post_ids)]


def can_review_after_the_fact(user: AnyUser) -> bool:
    return roles.is_central(user)


def can_manage_crisis_templates(user: AnyUser) -> bool:
    return roles.is_central(user)


def can_be_on_call(user: AnyUser) -> bool:
    return roles.is_central(user)


def crisis_actions(user: AnyUser, crisis: Crisis) -> set[str]:
    """The action names `user` may take on `crisis`, for templates."""
    actions = {
        "end": crisis.is_active and can_end_crisis(user, crisis),
        "acknowledge": can_acknowledge_crisis(user, crisis),
        "compose": can_compose_advisory(user, crisis),
        "release": crisis.is_active and roles.is_central(user),
        "break_glass": crisis.is_active and bool(break_glass_posts(user, crisis)),
    }
    return {name for name, allowed in actions.items() if allowed}
