"""The partner's home page: what became of each proposal (its state in words, who it is offered
to by name, how many posts adopted it, the live posts it became) and where to start a new one."""

from __future__ import annotations

import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from pytest_django.asserts import assertContains, assertNotContains

from calendar_app import proposal_outcomes
from calendar_app.models import Delivery, Proposal, ProposalStatus, PublicationStatus
from diplomacy.models import Role
from tests.calendar_factories import make_proposal, make_publication
from tests.factories import make_channel, make_post, make_user

NOW = "2026-03-02 10:00:00+00:00"


def adopt(proposal: Proposal, post, *, status: str = PublicationStatus.PUBLISHED, urls: dict | None = None):
    """A publication of `post` from `proposal`, with a delivery per channel (platform -> live address)."""
    author = make_user(role=Role.POST_EDITOR, post=post)
    publication = make_publication(post=post, author=author, status=status, proposal=proposal)
    for platform, url in (urls or {}).items():
        channel = make_channel(post=post, platform=platform)
        Delivery.objects.create(publication=publication, channel=channel, status="delivered", url=url)
    return publication


def home(client, user):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.get(reverse("home"))


def test_the_partner_sees_each_proposal_with_what_became_of_it(client, fit, partner_user, istanbul, ankara):
    proposal = make_proposal(partner=fit, title="Flemish cleantech mission", status=ProposalStatus.ACCEPTED)
    Proposal.objects.filter(pk=proposal.pk).update(target="countries", target_countries="TR,DE")
    adopt(
        proposal,
        istanbul,
        urls={
            "facebook": "https://www.facebook.com/Belgium.Istanbul/posts/1",
            "x": "https://x.com/be/status/2",
        },
    )
    adopt(proposal, ankara, status=PublicationStatus.APPROVED)
    make_proposal(partner=fit, title="Waiting one", status=ProposalStatus.SUBMITTED)

    response = home(client, partner_user)

    assertContains(response, "Flemish cleantech mission")
    assertContains(response, "Accepted: offered to the posts, which may adopt it.")
    assertContains(response, "Germany, Türkiye")
    assertContains(response, "2 posts")
    assertContains(response, 'href="https://www.facebook.com/Belgium.Istanbul/posts/1"')
    assertContains(response, 'href="https://x.com/be/status/2"')
    assertContains(response, istanbul.name)
    assertContains(response, "Sent: central communications will read it and decide.")
    assertContains(response, "2 proposals · 1 waiting for a decision · 1 accepted")
    assertContains(response, f'href="{reverse("proposal_new")}"')
    assertContains(response, "Propose content")


def test_only_https_live_addresses_of_delivered_posts_are_linked(client, fit, partner_user, istanbul):
    proposal = make_proposal(partner=fit, title="Links")
    publication = adopt(proposal, istanbul, urls={"facebook": "http://insecure.example.org/post/1"})
    channel = make_channel(post=istanbul, platform="x")
    Delivery.objects.create(
        publication=publication, channel=channel, status="failed", url="https://x.com/be/status/9"
    )

    response = home(client, partner_user)

    assertNotContains(response, "http://insecure.example.org/post/1")
    assertNotContains(response, "https://x.com/be/status/9")
    assertContains(response, "Not yet")


def test_the_partner_never_sees_staff_names_or_addresses(client, fit, partner_user, istanbul, reviewer):
    reviewer.full_name = "Renée Reviewer"
    reviewer.save()
    proposal = make_proposal(partner=fit, title="Seen by posts")
    Proposal.objects.filter(pk=proposal.pk).update(decided_by=reviewer)
    publication = adopt(proposal, istanbul, urls={"facebook": "https://www.facebook.com/p/1"})

    publication.author.full_name = "Eddy Editor"
    publication.author.save()
    page = home(client, partner_user).content.decode()
    for person in (reviewer, publication.author):
        assert person.email not in page
        assert person.full_name not in page


def test_a_declined_proposal_says_why(client, fit, partner_user):
    proposal = make_proposal(partner=fit, title="Too early", status=ProposalStatus.SUBMITTED)
    Proposal.objects.filter(pk=proposal.pk).update(
        status=ProposalStatus.DECLINED, decline_reason="The fair was moved to June."
    )

    response = home(client, partner_user)

    assertContains(response, "Declined by central communications.")
    assertContains(response, "Why: The fair was moved to June.")


def test_another_partners_proposals_are_not_listed(client, fit, awex, partner_user):
    make_proposal(partner=awex, title="AWEX only")

    response = home(client, partner_user)

    assertNotContains(response, "AWEX only")
    assertContains(response, "You have not proposed anything yet.")


def test_target_posts_and_the_whole_network_are_named(client, fit, partner_user, istanbul):
    named = make_proposal(partner=fit, title="For Istanbul")
    Proposal.objects.filter(pk=named.pk).update(target="posts")
    named.target_posts.set([istanbul])
    make_proposal(partner=fit, title="For all")

    response = home(client, partner_user)

    assertContains(response, f"<dd>{istanbul.name}</dd>", html=False)
    assertContains(response, "<dd>the whole network</dd>", html=False)


def test_countries_are_named_in_the_readers_language(fit):
    proposal = make_proposal(partner=fit)
    Proposal.objects.filter(pk=proposal.pk).update(target="countries", target_countries="TR,DE")
    proposal.refresh_from_db()
    with translation.override("fr"):
        assert proposal_outcomes.offered_to(proposal) == ["Allemagne", "Turquie"]
    with translation.override("nl"):
        assert proposal_outcomes.offered_to(proposal) == ["Duitsland", "Turkije"]


def test_post_staff_get_no_partner_section(client, editor):
    response = home(client, editor)

    assertNotContains(response, 'id="partner-heading"')


def test_the_home_lists_the_newest_proposals_and_links_to_all_when_there_are_more(client, fit, partner_user):
    for n in range(proposal_outcomes.HOME_PROPOSALS + 2):
        make_proposal(partner=fit, title=f"Proposal number {n}")

    response = home(client, partner_user)

    assertContains(response, "Proposal number 21")
    assertNotContains(response, "Proposal number 0<")
    assertContains(response, f'href="{reverse("proposal_list")}"')
    assertContains(response, "All 22 proposals")


def _fill(fit, posts, *, proposals: int, adoptions: int) -> None:
    for n in range(proposals):
        proposal = make_proposal(partner=fit, title=f"Filled {n}")
        if n % 2:
            Proposal.objects.filter(pk=proposal.pk).update(target="posts")
            proposal.target_posts.set(posts)
        for post in posts[:adoptions]:
            adopt(
                proposal,
                post,
                urls={
                    "facebook": f"https://www.facebook.com/{post.code}/{n}",
                    "x": f"https://x.com/{post.code}/{n}",
                },
            )


def _queries(client, user) -> list[str]:
    """The queries of one cold rendering of the home page."""
    client.force_login(user)
    cache.clear()
    with time_machine.travel(NOW, tick=False), CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return [query["sql"] for query in queries.captured_queries]


def test_the_partner_home_costs_the_same_queries_with_few_or_many_proposals_and_adoptions(
    client, fit, partner_user
):
    posts = [make_post(code=f"be-emb-q{n}", name=f"Embassy {n}", city=f"City {n}") for n in range(4)]
    _fill(fit, posts, proposals=1, adoptions=1)
    few = _queries(client, partner_user)

    _fill(fit, posts, proposals=12, adoptions=4)
    many = _queries(client, partner_user)

    # Session, user, memberships (with their posts and partners), the table versions, the unread
    # notifications; then the proposals, their named posts, their live posts, the counts.
    assert len(few) == len(many) == HOME_QUERIES, "\n".join(many)


HOME_QUERIES = 9
