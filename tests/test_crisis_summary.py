"""The crisis pages answer "is it out?" first and summarise the posts a crisis takes in by
region and country; the long lists are folded; the queries do not grow with the rows."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from calendar_app import workflow
from calendar_app.models import Delivery, Publication, PublicationKind, PublicationStatus
from calendar_app.views.crisis import advisory_outcome, posts_by_region, reach_in_words
from diplomacy.models import Post
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post

pytestmark = pytest.mark.django_db

DAY = date(2027, 6, 10)
ADVISORY = {"nl": "Blijf binnen.", "fr": "Restez à l'intérieur."}


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def post_in(country: str, name: str) -> Post:
    return make_post(name=name, country=country, city=name.rsplit(" ", 1)[-1])


def declare(actor, *, countries=("TR",), whole_network=False):
    return workflow.declare_crisis(
        actor,
        title="Storm",
        reason="Severe storms.",
        whole_network=whole_network,
        countries=list(countries),
        posts=[],
    )


def advisory(post: Post, author, crisis, status: str, *, delivery: str | None = None) -> Publication:
    channel = make_channel(post=post, platform="facebook")
    made = make_publication(
        post=post,
        author=author,
        kind=PublicationKind.CRISIS_ADVISORY,
        status=status,
        local_date=DAY,
        variants=ADVISORY,
        channels=[channel],
    )
    Publication.objects.filter(pk=made.pk).update(crisis=crisis)
    if delivery:
        Delivery.objects.create(publication=made, channel=channel, status=delivery)
    return made


# --- Posts by region and country --------------------------------------------------------------


def test_posts_are_grouped_by_region_then_country_by_name_with_counts(istanbul, ankara):
    berlin = post_in("DE", "Embassy of Belgium in Berlin")
    tokyo = post_in("JP", "Embassy of Belgium in Tokyo")
    with translation.override("en"):
        regions = posts_by_region([ankara, berlin, istanbul, tokyo])
        assert [region.label for region in regions] == ["Europe", "Asia"]
        europe = regions[0]
        assert [(c.name, [p.name for p in c.posts]) for c in europe.countries] == [
            ("Germany", ["Embassy of Belgium in Berlin"]),
            ("Türkiye", [ankara.name, istanbul.name]),
        ]
        assert europe.summary == "Europe: 3 posts in 2 countries"
        assert regions[1].summary == "Asia: 1 post in 1 country"
        assert reach_in_words([ankara, berlin, istanbul, tokyo]) == "4 posts in 3 countries"


def test_countries_are_sorted_by_their_name_in_the_readers_language(db):
    posts = [post_in("DE", "Berlin"), post_in("AT", "Vienna"), post_in("NL", "The Hague")]
    with translation.override("en"):
        assert [c.name for c in posts_by_region(posts)[0].countries] == ["Austria", "Germany", "Netherlands"]
    with translation.override("nl"):
        assert [c.name for c in posts_by_region(posts)[0].countries] == [
            "Duitsland",
            "Nederland",
            "Oostenrijk",
        ]


def test_the_crisis_page_summarises_the_affected_posts_and_folds_their_names(
    client, reviewer, istanbul, ankara
):
    crisis = declare(reviewer, countries=("TR", "DE"))
    post_in("DE", "Embassy of Belgium in Berlin")
    client.force_login(reviewer)
    page = text(client.get(reverse("crisis_detail", args=[crisis.pk])))
    assert "3 posts in 2 countries" in page
    assert "<li>Europe: 3 posts in 2 countries</li>" in page
    # The names are in a folded list, grouped by country; countries named, not coded.
    folded = page.split("Every post, by region and country")[1]
    assert (
        "<strong>Türkiye</strong> (2): Consulate-General of Belgium in Istanbul; Embassy of Belgium in Ankara"
        in folded
    )
    assert "Countries: Germany, Türkiye" in page
    assert "Countries: DE" not in page and "TR," not in page


def test_a_crisis_of_many_countries_folds_their_names(client, reviewer, istanbul):
    countries = ["TR", "DE", "FR", "NL", "AT", "IT", "ES", "PT", "PL", "CZ", "SK", "HU"]
    crisis = declare(reviewer, countries=countries)
    client.force_login(reviewer)
    page = text(client.get(reverse("crisis_detail", args=[crisis.pk])))
    assert "<summary>12 countries</summary>" in page


def test_the_crisis_list_summarises_each_active_crisis_by_region(client, reviewer, istanbul, ankara):
    declare(reviewer, countries=("TR",))
    post_in("JP", "Embassy of Belgium in Tokyo")
    declare(reviewer, whole_network=True)
    client.force_login(reviewer)
    page = text(client.get(reverse("crisis_list")))
    assert "Posts affected:</strong> 2 posts in 1 country" in page
    assert "Posts affected:</strong> 3 posts in 2 countries" in page
    assert "<li>Asia: 1 post in 1 country</li>" in page


# --- Is it out? ------------------------------------------------------------------------------


def test_advisories_are_counted_as_delivered_waiting_needing_a_check_or_not_going_out(reviewer, istanbul):
    crisis = declare(reviewer)
    posts = [post_in("TR", f"Consulate {n}") for n in range(7)]
    advisory(posts[0], reviewer, crisis, PublicationStatus.PUBLISHED, delivery="delivered")
    advisory(posts[1], reviewer, crisis, PublicationStatus.PUBLISHED, delivery="delivered")
    advisory(posts[2], reviewer, crisis, PublicationStatus.IN_REVIEW)
    advisory(posts[3], reviewer, crisis, PublicationStatus.APPROVED, delivery="pending")
    advisory(posts[4], reviewer, crisis, PublicationStatus.APPROVED, delivery="unknown")
    advisory(posts[5], reviewer, crisis, PublicationStatus.FAILED, delivery="failed")
    advisory(posts[6], reviewer, crisis, PublicationStatus.CANCELLED)
    counts = advisory_outcome(Publication.objects.filter(crisis=crisis))
    assert counts == {"total": 7, "delivered": 2, "waiting": 2, "needs_a_check": 2, "not_going_out": 1}


def test_the_crisis_page_says_whether_it_is_out_before_anything_else(client, reviewer, istanbul):
    crisis = declare(reviewer)
    advisory(istanbul, reviewer, crisis, PublicationStatus.PUBLISHED, delivery="delivered")
    advisory(
        post_in("TR", "Consulate in Izmir"), reviewer, crisis, PublicationStatus.APPROVED, delivery="unknown"
    )
    advisory(post_in("TR", "Consulate in Antalya"), reviewer, crisis, PublicationStatus.IN_REVIEW)
    client.force_login(reviewer)
    page = text(client.get(reverse("crisis_detail", args=[crisis.pk])))
    main = page.split('<main id="main"', 1)[1]
    outcome = main.index("Is it out? 3 advisories")
    assert outcome < main.index("Reason") and outcome < main.index("Posts affected")
    assert "1 delivered" in page
    assert "1 waiting (review or sending)" in page
    assert "1 needs a check first" in page
    # The row of each post, folded, the one needing a check flagged.
    assert "Each post's advisory (3)" in page
    assert page.count('class="needs-check"') == 1


def test_post_staff_count_only_their_own_posts_advisories(client, reviewer, manager, istanbul, ankara):
    crisis = declare(reviewer)
    advisory(istanbul, reviewer, crisis, PublicationStatus.PUBLISHED, delivery="delivered")
    advisory(ankara, reviewer, crisis, PublicationStatus.IN_REVIEW)
    client.force_login(manager)
    response = client.get(reverse("crisis_detail", args=[crisis.pk]))
    assert response.context["outcome"]["total"] == 1
    assert response.context["outcome"]["delivered"] == 1


def test_the_wide_tables_scroll_in_a_focusable_labelled_region(client, reviewer, istanbul):
    crisis = declare(reviewer)
    advisory(istanbul, reviewer, crisis, PublicationStatus.IN_REVIEW)
    client.force_login(reviewer)
    page = text(client.get(reverse("crisis_detail", args=[crisis.pk])))
    assert '<div class="table-wrap" role="region" tabindex="0" aria-labelledby="advisories-caption">' in page


# --- Query budgets ----------------------------------------------------------------------------


def _queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("size", [2, 8])
def test_the_crisis_page_runs_the_same_queries_with_few_and_many_posts(client, reviewer, size):
    crisis = declare(reviewer, countries=("TR", "DE", "JP"))
    for n in range(size):
        post = post_in(["TR", "DE", "JP"][n % 3], f"Post {n}")
        advisory(post, reviewer, crisis, PublicationStatus.PUBLISHED, delivery="delivered")
    client.force_login(reviewer)
    url = reverse("crisis_detail", args=[crisis.pk])
    client.get(url)  # warm up (session, content types)
    queries = _queries(client, url)
    # Pinned: a new query here needs a reason (the page's same count at two sizes).
    assert len(queries) == PINNED_DETAIL_QUERIES, "\n".join(queries)


#: The crisis page for central, whatever the number of posts and advisories.
PINNED_DETAIL_QUERIES = 17
