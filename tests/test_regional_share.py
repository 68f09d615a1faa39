"""The regional content share report: how much partner content the network relays, per
partner, per region of Belgium, per post and per month and region of the world."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date, time

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_app import reports, workflow
from calendar_app.models import Proposal, ProposalVariant
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_partner, make_post, make_user

NOW = "2026-03-15 12:00:00+00:00"
LOGIN = "login"
HEADER = [
    "partner",
    "region",
    "proposals",
    "accepted",
    "declined",
    "acceptance_rate",
    "adoptions",
    "adopting_posts",
    "published",
]
EUROPE, NORTH_AMERICA, ASIA = 0, 3, 5  # positions in geography.REGIONS

_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def awex_user(awex):
    return make_user(email="partner.awex@example.org", role=Role.PARTNER_CONTRIBUTOR, partner=awex)


@pytest.fixture
def hub(db):
    return make_partner(code="hub-brussels", name="hub.brussels", region="brussels")


@pytest.fixture
def tokyo(db):
    return make_post(
        code="be-emb-tokyo",
        name="Embassy of Belgium in Tokyo",
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
    )


@pytest.fixture
def new_york(db):
    return make_post(
        code="be-cg-new-york",
        name="Consulate-General of Belgium in New York",
        kind="consulate_general",
        city="New York",
        country="US",
        timezone="America/New_York",
    )


def make_proposal_full(*, partner, status: str = "accepted", title: str | None = None) -> Proposal:
    """A proposal as the workflow leaves it in `status` (sent unless a draft, with a text)."""
    proposal = Proposal.objects.create(
        partner=partner,
        title=title or f"Proposal {next(_sequence)}",
        status=status,
        submitted_at=None if status == "draft" else timezone.now(),
        decided_at=timezone.now() if status in ("accepted", "declined") else None,
        decline_reason="Not this quarter." if status == "declined" else "",
    )
    ProposalVariant.objects.create(proposal=proposal, language="en", text="Discover Belgium's regions.")
    return proposal


def adopt(proposal: Proposal, post, author, status: str, day: date):
    return make_publication(
        post=post,
        author=author,
        proposal=proposal,
        kind="partner_relay",
        status=status,
        local_date=day,
        local_time=time(10, 0),
        title=f"{proposal.title} in {post.city}",
    )


@pytest.fixture
def network(fit, awex, hub, istanbul, tokyo, new_york, editor):
    """fit: 5 sent (2 accepted, 1 declined, 1 submitted, 1 withdrawn) and a draft; 3 adoptions
    by 2 posts, 1 published. awex: 2 sent (1 accepted, 1 declined), adopted once, published.
    hub.brussels: nothing yet."""
    cleantech = make_proposal_full(partner=fit, title="Flemish cleantech mission")
    food = make_proposal_full(partner=fit, title="Flanders food fair")
    for status in ("declined", "submitted", "withdrawn", "draft"):
        make_proposal_full(partner=fit, status=status)
    export = make_proposal_full(partner=awex, title="Wallonia export days")
    make_proposal_full(partner=awex, status="declined")
    adopt(cleantech, istanbul, editor, "published", date(2026, 1, 20))
    adopt(cleantech, tokyo, editor, "draft", date(2026, 2, 10))
    adopt(food, istanbul, editor, "approved", date(2026, 3, 20))
    adopt(export, new_york, editor, "published", date(2026, 2, 5))
    make_publication(post=istanbul, author=editor, title="Not from a partner", status="published")
    return {"cleantech": cleantech, "food": food, "export": export}


def by_code(rows: list[dict]) -> dict[str, dict]:
    return {row["code"]: row for row in rows}


# --- The figures --------------------------------------------------------------------------------


def test_each_partner_has_its_proposals_decisions_adoptions_and_publications_counted(network):
    report = reports.regional_share()

    partners = by_code(report.partners)
    assert [row["code"] for row in report.partners] == ["hub-brussels", "fit", "awex"]  # by region
    fields = [
        "proposals",
        "accepted",
        "declined",
        "acceptance_rate",
        "adoptions",
        "adopting_posts",
        "published",
    ]
    assert [partners["fit"][f] for f in fields] == [5, 2, 1, 66.7, 3, 2, 1]
    assert [partners["awex"][f] for f in fields] == [2, 1, 1, 50.0, 1, 1, 1]
    assert [partners["hub-brussels"][f] for f in fields] == [0, 0, 0, None, 0, 0, 0]


def test_each_region_of_belgium_adds_up_its_partners(network):
    make_proposal_full(partner=make_partner(code="vlaio", name="VLAIO"), status="declined")

    regions = {row["region"]: row for row in reports.regional_share().regions}

    assert set(regions) == {"brussels", "flanders", "wallonia"}
    flanders = regions["flanders"]
    assert (flanders["label"], flanders["proposals"], flanders["accepted"], flanders["declined"]) == (
        "Flanders",
        6,
        2,
        2,
    )
    assert (flanders["acceptance_rate"], flanders["adoptions"], flanders["published"]) == (50.0, 3, 1)
    assert regions["wallonia"]["acceptance_rate"] == 50.0
    assert regions["brussels"]["proposals"] == 0
    assert regions["brussels"]["acceptance_rate"] is None


def test_the_posts_table_counts_partner_publications_per_post_without_cancelled_ones(
    network, istanbul, tokyo, editor
):
    adopt(network["food"], tokyo, editor, "cancelled", date(2026, 3, 25))

    posts = [(row["post__code"], row["total"], row["published"]) for row in reports.regional_share().posts]

    assert posts == [
        ("be-cg-istanbul", 2, 1),
        ("be-cg-new-york", 1, 1),
        ("be-emb-tokyo", 1, 0),
    ]


def test_the_trend_counts_partner_publications_per_month_and_region_of_the_world(network):
    trend = reports.regional_share().trend

    months = dict(trend)
    assert list(months) == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    assert months[date(2026, 1, 1)][EUROPE] == 1
    assert months[date(2026, 2, 1)][ASIA] == months[date(2026, 2, 1)][NORTH_AMERICA] == 1
    assert months[date(2026, 3, 1)][EUROPE] == 1
    assert [sum(counts) for counts in months.values()] == [1, 2, 1]


def test_the_trend_leaves_out_what_is_older_than_six_months(network, istanbul, editor):
    adopt(network["food"], istanbul, editor, "published", date(2025, 8, 10))

    months = [month for month, _counts in reports.regional_share().trend]

    assert date(2025, 8, 1) not in months
    assert months[0] == date(2026, 1, 1)


def test_the_trend_counts_the_whole_first_month(network, istanbul, editor):
    # 15 March 2026 12:00 UTC - 186 days = 10 September 2025 12:00 -> the trend starts in September.
    adopt(network["food"], istanbul, editor, "published", date(2025, 9, 1))  # 10:00 in Istanbul, 07:00 UTC

    months = dict(reports.regional_share().trend)

    assert months[date(2025, 9, 1)][EUROPE] == 1


def test_a_draft_withdrawn_before_it_was_sent_is_not_counted_as_sent(fit, partner_user):
    never_sent = make_proposal_full(partner=fit, status="draft")
    workflow.withdraw_proposal(partner_user, never_sent)

    assert by_code(reports.regional_share().partners)["fit"]["proposals"] == 0


def test_a_cancelled_adoption_counts_in_neither_table(network, tokyo, editor, awex):
    adopt(network["export"], tokyo, editor, "cancelled", date(2026, 3, 25))

    report = reports.regional_share()

    assert sum(row["total"] for row in report.posts) == sum(row["adoptions"] for row in report.partners)
    assert by_code(report.partners)["awex"]["adopting_posts"] == 1


# --- The page and its CSV -----------------------------------------------------------------------


def test_the_page_shows_partners_regions_posts_and_the_trend(client, reviewer, network):
    client.force_login(reviewer)

    response = client.get(reverse("regional_share"))

    assert response.status_code == 200
    page = response.content.decode()
    for text in (
        "Flanders Investment &amp; Trade",
        "AWEX",
        "hub.brussels",
        "66.7 %",
        "50.0 %",
        "Wallonia",
        "Brussels",
        "Consulate-General of Belgium in Istanbul",
        "Embassy of Belgium in Tokyo",
        "January 2026",
        "February 2026",
        "March 2026",
        "North America",
        "?format=csv",
    ):
        assert text in page, text
    assert "Not from a partner" not in page


def test_the_page_says_so_when_nothing_was_relayed_yet(client, reviewer, fit):
    client.force_login(reviewer)

    page = client.get(reverse("regional_share")).content.decode()

    assert "No post has relayed partner content yet." in page
    assert "Nothing yet." in page


def test_the_csv_has_a_header_and_one_row_per_partner(client, reviewer, network):
    client.force_login(reviewer)

    response = client.get(reverse("regional_share"), {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="regional-content.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        HEADER,
        ["hub-brussels", "brussels", "0", "0", "0", "", "0", "0", "0"],
        ["fit", "flanders", "5", "2", "1", "66.7", "3", "2", "1"],
        ["awex", "wallonia", "2", "1", "1", "50.0", "1", "1", "1"],
    ]


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "CSV"])
def test_an_unknown_format_answers_400(client, reviewer, fmt):
    client.force_login(reviewer)

    response = client.get(reverse("regional_share"), {"format": fmt})

    assert response.status_code == 400
    assert "Unknown format: use csv, or leave it out." in response.content.decode()


PERSONAS = ["anonymous", "outsider", "editor", "manager", "reviewer", "partner_user", "awex_user"]
ANSWERS = (LOGIN, 403, 403, 403, 200, 403, 403)


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_the_report_is_for_central_only(client, request, persona, fmt, fit):
    expected = ANSWERS[PERSONAS.index(request.node.callspec.params["persona"])]
    if persona is not None:
        client.force_login(persona)

    response = client.get(reverse("regional_share"), {"format": fmt} if fmt == "csv" else {})

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
        if expected == 403:
            assert b"Not allowed" in response.content
            assert b"Flanders Investment" not in response.content


def fill(size: int, *, posts: list, author) -> None:
    """`size` partners, each with proposals in several states, adopted by some posts."""
    for n in range(size):
        partner = make_partner(region=["flanders", "wallonia", "brussels", "german_speaking"][n % 4])
        accepted = make_proposal_full(partner=partner)
        make_proposal_full(partner=partner, status=["declined", "submitted", "withdrawn"][n % 3])
        for k, post in enumerate(posts[: 1 + n % len(posts)]):
            adopt(accepted, post, author, ["published", "approved", "draft"][k % 3], date(2026, 1 + n % 3, 5))


@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_the_report_runs_the_same_queries_at_two_data_sizes(
    client, reviewer, editor, istanbul, tokyo, new_york, fmt
):
    client.force_login(reviewer)
    params = {"format": "csv"} if fmt == "csv" else {}
    posts = [istanbul, tokyo, new_york]

    def count_queries() -> int:
        client.get(reverse("regional_share"), params)  # warm-up: session, memberships
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("regional_share"), params).status_code == 200
        return len(captured)

    fill(3, posts=posts, author=editor)
    small = count_queries()
    fill(30, posts=posts, author=editor)

    assert count_queries() == small
    assert len(reports.regional_share().partners) == 33
