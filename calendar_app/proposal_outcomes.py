"""What became of a partner's proposals: read by the partner's home page.

For each proposal: its state in words, who it is offered to (countries and posts by name),
how many posts adopted it and the live posts it became (a delivery's live address, https
only). Posts are named, people never: a partner does not see central's or the posts' staff.
Four queries whatever the number of proposals and adoptions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calendar_app.models import (
    Delivery,
    DeliveryStatus,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    PublicationStatus,
)
from diplomacy.geography import country_of
from diplomacy.models import Post

#: How many proposals the home page lists (the newest first); the proposals page lists all.
HOME_PROPOSALS = 20

#: A proposal's state as its partner reads it: what happens next, not the internal word.
STATE_SENTENCES = {
    ProposalStatus.DRAFT: gettext_lazy("Draft: not sent to central communications yet."),
    ProposalStatus.SUBMITTED: gettext_lazy("Sent: central communications will read it and decide."),
    ProposalStatus.ACCEPTED: gettext_lazy("Accepted: offered to the posts, which may adopt it."),
    ProposalStatus.DECLINED: gettext_lazy("Declined by central communications."),
    ProposalStatus.WITHDRAWN: gettext_lazy("Withdrawn: no post is offered it any more."),
}


@dataclass
class LiveLink:
    """A publication as it went out on one channel: the platform's name and the live address."""

    platform: str
    url: str


@dataclass
class LivePost:
    """Where one post published the proposal: a link per channel."""

    post_name: str
    links: list[LiveLink] = field(default_factory=list)


@dataclass
class ProposalOutcome:
    proposal: Proposal
    state: str
    #: Who it is for, in words: "the whole network", or the countries or posts by name.
    offered_to: list[str]
    #: Posts that adopted it into a publication not cancelled.
    adopted_by: int
    live: list[LivePost] = field(default_factory=list)


@dataclass
class PartnerOverview:
    outcomes: list[ProposalOutcome]
    #: The partner's proposals in all (the list shows at most HOME_PROPOSALS).
    total: int
    waiting: int
    accepted: int


def offered_to(proposal: Proposal) -> list[str]:
    """The proposal's target as names in the active language (countries sorted by name)."""
    if proposal.target == ProposalTarget.COUNTRIES:
        return sorted(str(country_of(code).name or code) for code in proposal.target_country_list)
    if proposal.target == ProposalTarget.POSTS:
        return [post.name for post in proposal.target_posts.all()]
    return [_("the whole network")]


def partner_overview(partner_ids: Collection[int], limit: int = HOME_PROPOSALS) -> PartnerOverview:
    """The partners' newest proposals with their outcomes, and counts over all of them."""
    adopting = Count(
        "publications__post", filter=~Q(publications__status=PublicationStatus.CANCELLED), distinct=True
    )
    own = Proposal.objects.filter(partner_id__in=partner_ids)
    proposals = list(
        own.annotate(adopted_by=adopting)
        .prefetch_related(Prefetch("target_posts", queryset=Post.objects.only("pk", "name").order_by("name")))
        .order_by("-created_at", "-pk")[:limit]
    )
    live: dict[int, list[LivePost]] = defaultdict(list)
    deliveries = (
        Delivery.objects.filter(
            publication__proposal__in=[proposal.pk for proposal in proposals],
            status=DeliveryStatus.DELIVERED,
            url__startswith="https://",
        )
        .select_related("publication", "publication__post", "channel")
        .only("url", "publication__proposal_id", "publication__post__name", "channel__platform")
        .order_by("publication__post__name", "channel__platform", "pk")
    )
    for delivery in deliveries:
        posts = live[delivery.publication.proposal_id or 0]
        name = delivery.publication.post.name
        if not posts or posts[-1].post_name != name:
            posts.append(LivePost(post_name=name))
        posts[-1].links.append(LiveLink(platform=delivery.channel.get_platform_display(), url=delivery.url))
    totals = own.aggregate(
        total=Count("pk"),
        waiting=Count("pk", filter=Q(status=ProposalStatus.SUBMITTED)),
        accepted=Count("pk", filter=Q(status=ProposalStatus.ACCEPTED)),
    )
    outcomes = [
        ProposalOutcome(
            proposal=proposal,
            state=str(STATE_SENTENCES.get(ProposalStatus(proposal.status), proposal.get_status_display())),
            offered_to=offered_to(proposal),
            adopted_by=proposal.adopted_by,
            live=live.get(proposal.pk, []),
        )
        for proposal in proposals
    ]
    return PartnerOverview(
        outcomes=outcomes,
        total=totals["total"],
        waiting=totals["waiting"],
        accepted=totals["accepted"],
    )
