"""The approval queue: who sees it, its order and filters, the expired list, bulk approval, query budgets."""

from datetime import date, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calendar_app import workflow
from calendar_app.models import Publication, PublicationRevision, PublicationStatus, Review
from tests.calendar_factories import make_campaign, make_publication
from tests.factories import make_channel, make_post

NOW = "2026-11-28 10:00:00+00:00"
DAY = date(2026, 12, 10)
TEXTS = {"nl": "Hallo.", "fr": "Bonjour.", "en": "Hello.", "tr": "Merhaba."}
S = PublicationStatus


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def facebook(istanbul):
    return make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")


@pytest.fixture
def tokyo(db):
    return make_post(
        code="be-emb-tokyo",
        name="Embassy of Belgium in Tokyo",
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
        host_languages="ja",
        publishing_languages="en,ja",
    )


def waiting(
    post, author, *, title=None, day=DAY, at=time(9), kind="regular", variants=None, channels=None, **flags
):
    """A publication in review with its revision, as `submit` leaves it (checks given, not run)."""
    publication = make_publication(
        post=post,
        author=author,
        title=title,
        status=S.IN_REVIEW,
        local_date=day,
        local_time=at,
        kind=kind,
        variants=variants or TEXTS,
        channels=channels,
    )
    blocking = flags.get("has_blocking", False)
    checks = (
        [{"code": "https-links", "severity": "blocking", "passed": False, "problems": ["http"]}]
        if blocking
        else []
    )
    if flags.get("has_warnings"):
        checks.append(
            {"code": "sensitive-terms", "severity": "warning", "passed": False, "problems": ["coup"]}
        )
    PublicationRevision.objects.create(
        publication=publication,
        number=publication.revision,
        content={},
        submitted_by=author,
        checks=checks,
        has_warnings=flags.get("has_warnings", False),
        has_blocking=blocking,
    )
    return publication


def titles(response) -> list[str]:
    return [entry["item"].title for entry in response.context["items"]]


# --- Who and what --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["editor", "manager", "partner_user", "outsider"], indirect=True)
def test_the_approval_queue_is_for_central_reviewers_only(client, persona):
    client.force_login(persona)
    assert client.get(reverse("approvals")).status_code == 403
    assert client.post(reverse("approvals_bulk"), {"selected": ["1:1"]}).status_code == 403


def test_a_central_reviewer_opens_the_queue(client, reviewer, istanbul, editor):
    waiting(istanbul, editor, title="Trade fair")
    client.force_login(reviewer)
    response = client.get(reverse("approvals"))
    assert response.status_code == 200
    assert titles(response) == ["Trade fair"]


def test_crisis_advisories_come_first_then_the_soonest(client, reviewer, istanbul, editor):
    waiting(istanbul, editor, title="Later", day=DAY + timedelta(days=5))
    waiting(istanbul, editor, title="Sooner", day=DAY)
    waiting(istanbul, editor, title="Advisory", day=DAY + timedelta(days=9), kind="crisis_advisory")
    make_publication(post=istanbul, author=editor, title="A draft", local_date=DAY)
    make_publication(post=istanbul, author=editor, title="Approved", local_date=DAY, status=S.APPROVED)
    client.force_login(reviewer)
    assert titles(client.get(reverse("approvals"))) == ["Advisory", "Sooner", "Later"]


@pytest.fixture
def spread(istanbul, tokyo, editor, reviewer, frozen):
    """Four publications in review that differ in post, country, region, campaign, kind, language,
    waiting time and warnings."""
    campaign = make_campaign(name="Trade week", starts_on=date(2026, 11, 1))
    with time_machine.travel("2026-11-24 10:00:00+00:00", tick=False):
        old = waiting(istanbul, editor, title="Istanbul, four days", has_warnings=True)
    with time_machine.travel("2026-11-26 10:00:00+00:00", tick=False):
        two_days = waiting(istanbul, editor, title="Istanbul, two days", kind="consular_advice")
    Publication.objects.filter(pk=two_days.pk).update(campaign=campaign)
    waiting(tokyo, reviewer, title="Tokyo, today", variants={"en": "Hello.", "ja": "こんにちは"})
    waiting(istanbul, editor, title="Istanbul, today")
    return {"campaign": campaign, "old": old}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"post": "be-emb-tokyo"}, ["Tokyo, today"]),
        ({"country": "TR"}, ["Istanbul, four days", "Istanbul, two days", "Istanbul, today"]),
        ({"region": "asia"}, ["Tokyo, today"]),
        ({"kind": "consular_advice"}, ["Istanbul, two days"]),
        ({"language": "ja"}, ["Tokyo, today"]),
        ({"waiting": "1"}, ["Istanbul, four days", "Istanbul, two days"]),
        ({"waiting": "3"}, ["Istanbul, four days"]),
        ({"warnings": "true"}, ["Istanbul, four days"]),
        ({"warnings": "false"}, ["Istanbul, two days", "Tokyo, today", "Istanbul, today"]),
    ],
)
def test_the_queue_filters(client, reviewer, spread, query, expected):
    client.force_login(reviewer)
    response = client.get(reverse("approvals"), query)
    assert response.status_code == 200
    assert sorted(titles(response)) == sorted(expected)


def test_the_queue_filters_by_campaign(client, reviewer, spread):
    client.force_login(reviewer)
    response = client.get(reverse("approvals"), {"campaign": spread["campaign"].pk})
    assert titles(response) == ["Istanbul, two days"]


@pytest.mark.parametrize(
    "query",
    [
        {"post": "be-emb-nowhere"},
        {"country": "XX"},
        {"region": "atlantis"},
        {"campaign": "999999"},
        {"kind": "rumour"},
        {"language": "xyz"},
        {"waiting": "7"},
    ],
)
def test_an_unknown_filter_value_is_a_bad_request(client, reviewer, spread, query):
    client.force_login(reviewer)
    assert client.get(reverse("approvals"), query).status_code == 400


def test_an_unknown_warnings_value_is_a_bad_request(client, reviewer, spread):
    client.force_login(reviewer)
    assert client.get(reverse("approvals"), {"warnings": "maybe"}).status_code == 400


# --- Expired and due soon ---------------------------------------------------------------------


def test_the_expired_list_holds_what_passed_its_time_in_review(client, reviewer, istanbul, editor):
    waiting(istanbul, editor, title="Tomorrow", day=date(2026, 11, 29))
    past = waiting(istanbul, editor, title="This morning", day=date(2026, 11, 28), at=time(8))
    client.force_login(reviewer)
    assert titles(client.get(reverse("approvals"))) == ["Tomorrow"]
    response = client.get(reverse("approvals"), {"list": "expired"})
    assert titles(response) == ["This morning"]
    assert response.context["counts"] == {"waiting": 1, "due_soon": 1, "expired": 1}
    assert "must move them to a new time" in response.content.decode()
    # ... and it cannot be approved, however it is asked.
    url = reverse("publication_transition", args=[past.pk, "approve"])
    response = client.post(url, {"revision": past.revision}, follow=True)
    assert "Its time has passed" in response.content.decode()
    client.post(reverse("approvals_bulk"), {"selected": [f"{past.pk}:{past.revision}"]})
    assert Publication.objects.get(pk=past.pk).status == S.IN_REVIEW
    assert not Review.objects.exists()


def test_the_expired_list_offers_no_approval(client, reviewer, istanbul, editor):
    past = waiting(istanbul, editor, title="This morning", day=date(2026, 11, 28), at=time(8))
    client.force_login(reviewer)
    page = client.get(reverse("approvals"), {"list": "expired"}).content.decode()
    assert reverse("publication_transition", args=[past.pk, "approve"]) not in page
    assert f'value="{past.pk}:{past.revision}"' not in page


def test_items_due_within_24_hours_are_highlighted(client, reviewer, istanbul, editor):
    soon = waiting(istanbul, editor, title="Tomorrow morning", day=date(2026, 11, 29), at=time(9))
    later = waiting(istanbul, editor, title="Next month", day=DAY)
    client.force_login(reviewer)
    page = client.get(reverse("approvals")).content.decode()
    soon_item = page.split(f'id="approval-{soon.pk}"')[0].rsplit("<li", 1)[1]
    later_item = page.split(f'id="approval-{later.pk}"')[0].rsplit("<li", 1)[1]
    assert "due-soon" in soon_item and "due-soon" not in later_item
    assert page.count("due within 24 hours</strong>") == 1


# --- Bulk approval ------------------------------------------------------------------------------


def test_bulk_approval_approves_what_passes_and_says_why_it_skipped_the_rest(
    client, reviewer, istanbul, editor, facebook
):
    good = waiting(istanbul, editor, title="Good one")
    blocked = waiting(istanbul, editor, title="Plain http link", has_blocking=True)
    own = waiting(istanbul, reviewer, title="My own")
    changed = waiting(istanbul, editor, title="Edited meanwhile")
    loaded_revision = changed.revision
    Publication.objects.filter(pk=changed.pk).update(revision=2)
    PublicationRevision.objects.create(publication=changed, number=2, content={}, submitted_by=editor)
    client.force_login(reviewer)
    response = client.post(
        reverse("approvals_bulk"),
        {
            "selected": [
                f"{good.pk}:{good.revision}",
                f"{blocked.pk}:{blocked.revision}",
                f"{own.pk}:{own.revision}",
                f"{changed.pk}:{loaded_revision}",
                "nonsense",
            ]
        },
        follow=True,
    )
    statuses = dict(Publication.objects.values_list("title", "status"))
    assert statuses == {
        "Good one": S.APPROVED,
        "Plain http link": S.IN_REVIEW,
        "My own": S.IN_REVIEW,
        "Edited meanwhile": S.IN_REVIEW,
    }
    assert list(Review.objects.values_list("publication__title", flat=True)) == ["Good one"]
    texts = [str(message) for message in response.context["messages"]]
    assert "1 publication approved." in texts
    skipped = next(text for text in texts if text.startswith("Not approved:"))
    assert "“Plain http link”: This revision fails a blocking guideline" in skipped
    assert "“My own”: your own publication" in skipped
    assert "“Edited meanwhile”: changed meanwhile" in skipped
    assert "Good one" not in skipped


def test_bulk_approval_with_nothing_selected_says_so(client, reviewer):
    client.force_login(reviewer)
    response = client.post(reverse("approvals_bulk"), {}, follow=True)
    assert "Select at least one publication." in [str(m) for m in response.context["messages"]]


def test_items_with_blocking_failures_cannot_be_selected(client, reviewer, istanbul, editor):
    blocked = waiting(istanbul, editor, title="Plain http link", has_blocking=True)
    client.force_login(reviewer)
    page = client.get(reverse("approvals")).content.decode()
    checkbox_rest = page.split(f'id="select-{blocked.pk}"')[1].split(">")[0]
    assert checkbox_rest.strip() == "disabled"


# --- Query budgets -----------------------------------------------------------------------------


def count_queries(client, url: str, params: dict | None = None) -> tuple[int, list[str], str]:
    client.get(url, params)  # warm-up: sessions, content types
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(captured), [query["sql"] for query in captured], response.content.decode()


def fill(size: int, istanbul, tokyo, editor, reviewer, facebook, campaign) -> None:
    """`size` publications in review (each with a revision) plus drafts, requests and today's."""
    for n in range(size):
        post = istanbul if n % 2 else tokyo
        channels = [facebook] if post == istanbul else []
        expired = n % 5 == 0
        publication = waiting(
            post,
            editor,
            title=f"Expired {n}" if expired else f"In review {n}",
            day=date(2026, 11, 27) if expired else DAY + timedelta(days=n % 9),
            # (A crisis advisory never expires: it goes out when approved.)
            kind="crisis_advisory" if n % 7 == 0 and not expired else "regular",
            channels=channels,
            has_warnings=n % 3 == 0,
        )
        if n % 4 == 0:
            Publication.objects.filter(pk=publication.pk).update(campaign=campaign)
        make_publication(
            post=istanbul, author=editor, title=f"Draft {n}", local_date=DAY, channels=[facebook]
        )
        make_publication(
            post=istanbul, author=editor, title=f"Send back {n}", local_date=DAY, status=S.CHANGES_REQUESTED
        )
        make_publication(
            post=istanbul,
            author=editor,
            title=f"Today {n}",
            local_date=date(2026, 11, 28),
            local_time=time(18),
            status=S.APPROVED,
            channels=[facebook],
        )


@pytest.mark.parametrize(
    ("url_name", "persona", "params", "shown"),
    [
        ("approvals", "reviewer", None, "In review "),
        ("approvals", "reviewer", {"list": "expired"}, "Expired "),
        ("approvals", "reviewer", {"warnings": "true", "region": "europe"}, "In review "),
        ("home", "reviewer", None, "Today "),
        ("home", "editor", None, "Send back "),
    ],
)
def test_the_number_of_queries_does_not_grow_with_the_data(
    client, request, url_name, persona, params, shown, istanbul, tokyo, editor, reviewer, facebook
):
    user = request.getfixturevalue(persona)
    campaign = make_campaign(name="Trade week", starts_on=date(2026, 11, 1))
    client.force_login(user)
    fill(5, istanbul, tokyo, editor, reviewer, facebook, campaign)
    few, few_sql, _page = count_queries(client, reverse(url_name), params)
    fill(55, istanbul, tokyo, editor, reviewer, facebook, campaign)
    assert Publication.objects.filter(status=S.IN_REVIEW).count() == 60
    many, many_sql, page = count_queries(client, reverse(url_name), params)
    assert shown in page  # the rows are drawn, not only counted
    assert few == many, "\n".join(many_sql)


def test_an_approval_from_the_queue_goes_through_the_workflow(client, reviewer, istanbul, editor, facebook):
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[facebook], variants=TEXTS
    )
    workflow.submit(editor, publication)
    client.force_login(reviewer)
    client.post(reverse("approvals_bulk"), {"selected": [f"{publication.pk}:{publication.revision}"]})
    publication.refresh_from_db()
    assert publication.status == S.APPROVED
    event = publication.events.latest("pk")
    assert (event.actor, event.verb) == (reviewer, "approve")
