"""The partner's side: the home page (what became of each proposal: its state in words, who it is
offered to by name, how many posts adopted it, the live posts it became; where to start a new
one) and the proposal form (the target's fields, the preview of the texts, the browser's copy,
bad input)."""

from __future__ import annotations

import pytest
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


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


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


# --- The proposal form ------------------------------------------------------------------------------


def form_data(**overrides) -> dict:
    data = {
        "title": "Flemish cleantech mission",
        "target": "network",
        "text_nl": "Vlaamse cleantechbedrijven bezoeken Istanbul.",
        "save": "1",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def post_form(client, user, data, url=None):
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        return client.post(url or reverse("proposal_new"), data)


def test_the_form_shows_every_target_field_saying_when_it_counts(client, partner_user):
    client.force_login(partner_user)
    response = client.get(reverse("proposal_new"))

    assertContains(response, 'data-target-field="countries"')
    assertContains(response, 'data-target-field="posts"')
    assertContains(response, "Only for “Some countries”: type a country’s name.")
    assertContains(response, "Only for “Some posts”: type a post’s name or city.")
    assertContains(response, "js/proposal_form.js")
    assertContains(response, f'data-draft-key="proposal-draft-{partner_user.pk}-new"')


def test_the_country_picker_names_countries_in_the_users_language(client, partner_user):
    client.force_login(partner_user)
    response = client.get(reverse("proposal_new"), HTTP_ACCEPT_LANGUAGE="fr")

    assertContains(response, '<option value="TR">Turquie</option>', html=True)
    assertContains(response, '<option value="DE">Allemagne</option>', html=True)


def test_a_preview_shows_each_text_by_language_with_its_length_and_saves_nothing(client, partner_user):
    long_english = "Flemish companies " * 20
    response = post_form(client, partner_user, form_data(title="", text_en=long_english, preview="1"))

    assert response.status_code == 200
    assert not Proposal.objects.exists()
    previews = response.context["previews"]
    assert [(p.language, p.language_name) for p in previews] == [("nl", "Dutch"), ("en", "English")]
    assert previews[1].too_long_for == ["X", "Bluesky"]
    assertContains(response, "Too long for X, Bluesky: the posts will shorten it there.")
    assertContains(response, "Fits on every platform.")
    # Still writing: the form is not judged yet (the title is missing, and no error says so).
    assertNotContains(response, "This field is required.")


def test_the_live_preview_answers_with_the_preview_alone(client, partner_user):
    client.force_login(partner_user)
    response = client.post(
        reverse("proposal_new"),
        form_data(text_fr="Des entreprises flamandes.", preview="1"),
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page and "<form" not in page
    assert '<p class="preview-text" lang="fr" dir="auto">Des entreprises flamandes.</p>' in page
    assert not Proposal.objects.exists()


def test_a_preview_of_a_draft_being_edited_changes_nothing(client, fit, partner_user):
    draft = make_proposal(partner=fit, title="Saved title", status=ProposalStatus.DRAFT)

    response = post_form(
        client,
        partner_user,
        form_data(title="Typed title", text_de="Flämische Firmen.", preview="1"),
        draft.get_absolute_url(),
    )

    assert response.status_code == 200
    draft.refresh_from_db()
    assert draft.title == "Saved title"
    assert not draft.variants.exists()
    assert [p.language for p in response.context["previews"]] == ["nl", "de"]


def test_the_proposal_page_shows_the_texts_under_their_language_names(client, fit, partner_user):
    proposal = make_proposal(partner=fit, status=ProposalStatus.SUBMITTED)
    proposal.variants.create(language="tr", text="Flaman şirketleri İstanbul'da.")

    client.force_login(partner_user)
    response = client.get(proposal.get_absolute_url())

    assertContains(response, "<h3>Turkish</h3>", html=True)
    assertNotContains(response, "[tr]")


def test_after_a_save_the_next_page_tells_the_browser_to_forget_its_copy_once(client, partner_user):
    response = post_form(client, partner_user, form_data())
    assert response.status_code == 302

    first = client.get(response["Location"])
    again = client.get(response["Location"])

    assertContains(first, f'data-forget-draft="proposal-draft-{partner_user.pk}-new"')
    assertNotContains(again, "data-forget-draft")


def test_a_refused_save_keeps_the_browsers_copy(client, partner_user):
    response = post_form(client, partner_user, form_data(title=""))
    assert response.status_code == 400

    assert "forget_proposal_draft" not in client.session


def test_saving_an_edited_draft_forgets_the_copy_of_that_draft(client, fit, partner_user):
    draft = make_proposal(partner=fit, title="Draft", status=ProposalStatus.DRAFT)

    response = post_form(client, partner_user, form_data(title="Edited"), draft.get_absolute_url())

    assert response.status_code == 302
    assertContains(
        client.get(response["Location"]), f'data-forget-draft="proposal-draft-{partner_user.pk}-{draft.pk}"'
    )


# --- Bad input: a clear message, 400, nothing saved -------------------------------------------------


def assert_refused(response, message: str) -> None:
    assert response.status_code == 400
    assertContains(response, message, status_code=400)
    assert not Proposal.objects.exists()


def test_unknown_country_codes_are_refused_naming_them(client, partner_user):
    response = post_form(
        client, partner_user, form_data(target="countries", target_countries=["TR", "QQ", "XX"])
    )

    assert_refused(response, "Unknown country code: QQ, XX.")


def test_some_posts_without_a_post_is_refused(client, partner_user):
    response = post_form(client, partner_user, form_data(target="posts"))

    assert_refused(response, "Choose at least one post.")


def test_a_post_that_is_not_in_the_network_is_refused(client, partner_user, istanbul):
    gone = make_post(code="be-emb-closed", name="Closed embassy", active=False)

    for value in ([istanbul.pk, gone.pk], [istanbul.pk, 999999], ["not-a-number"]):
        response = post_form(client, partner_user, form_data(target="posts", target_posts=value))
        assert_refused(response, "A chosen post is not in the network any more: choose the posts again.")


def test_a_language_named_without_a_text_is_refused(client, partner_user):
    response = post_form(client, partner_user, form_data(extra_language_1="tr", extra_text_1="   "))

    assert_refused(response, "Write the text in this language, or clear the language.")
    assert 'class="more-languages" open' in response.content.decode()


def test_an_empty_title_is_refused(client, partner_user):
    response = post_form(client, partner_user, form_data(title="  "))

    assert_refused(response, "This field is required.")
