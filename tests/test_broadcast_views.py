"""The approval queue with groups: one item per broadcast, one decision for it, and "approve
all that pass" across pages after a confirmation."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calendar_app import workflow
from calendar_app.models import Broadcast, Publication, PublicationRevision, PublicationStatus
from calendar_app.views import review as review_views
from calendar_app.workflow import AdvisoryContent
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post

S = PublicationStatus
ADVISORY = AdvisoryContent(
    title="Stay indoors",
    variants={
        "nl": "Blijf binnen.\nVermijd luchthavens.\nRegistreer op Travellers Online.\nVolg de media.",
        "fr": "Restez à l'intérieur.",
        "en": "Stay indoors.",
    },
    platforms=["facebook"],
)
DAY = date(2027, 6, 10)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def broadcast(reviewer, size: int, country: str = "TR") -> tuple[Broadcast, list[Publication]]:
    for n in range(size):
        post = make_post(name=f"Embassy of Belgium {country} {n:03d}", country=country)
        make_channel(post=post, platform="facebook", handle=f"@belgium.{country}.{n}")
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=[country])
    made, _skipped = workflow.broadcast_advisory(reviewer, crisis, ADVISORY)
    return made[0].broadcast, made


def waiting(post, author, *, title: str, warnings: bool = False, blocking: bool = False) -> Publication:
    """An ordinary publication in review with its revision (checks given, not run)."""
    publication = make_publication(
        post=post, author=author, title=title, status=S.IN_REVIEW, local_date=DAY, local_time=time(9)
    )
    checks = []
    if blocking:
        checks.append({"code": "https-links", "severity": "blocking", "passed": False, "problems": ["http"]})
    if warnings:
        checks.append(
            {"code": "sensitive-terms", "severity": "warning", "passed": False, "problems": ["coup"]}
        )
    PublicationRevision.objects.create(
        publication=publication,
        number=1,
        content={},
        submitted_by=author,
        checks=checks,
        has_warnings=warnings,
        has_blocking=blocking,
    )
    return publication


def decide(client, group, made, decision="approve", **extra):
    data = {"member": [f"{p.pk}:{p.revision}" for p in made], "decision": decision, **extra}
    return client.post(reverse("broadcast_decide", args=[group.pk]), data)


# --- The group in the queue ----------------------------------------------------------------


def test_the_queue_shows_a_broadcast_as_one_item_with_its_texts_once(client, reviewer, second_reviewer):
    group, made = broadcast(reviewer, 3)
    client.force_login(second_reviewer)
    html = client.get(reverse("approvals")).content.decode()
    assert html.count("Advisory “Stay indoors”, 3 posts") == 1
    assert html.count('class="approval-item') == 1
    assert html.count("Restez à l&#x27;intérieur.") == 1  # the French text once, not per post
    # The Dutch text is long: its first lines are shown, the rest folded.
    assert "Read the whole text [nl]" in html
    for publication in made:
        assert f'name="member" value="{publication.pk}:{publication.revision}"' in html
        assert f'name="exclude" value="{publication.post_id}"' in html
        assert f'id="approval-{publication.pk}"' not in html
    assert "@belgium.TR.2" in html


def test_a_post_with_its_own_text_is_flagged_in_its_row(client, reviewer, second_reviewer):
    group, made = broadcast(reviewer, 3)
    made[1].variants.filter(language="en").update(text="Stay indoors, and away from the windows.")
    client.force_login(second_reviewer)
    html = client.get(reverse("approvals")).content.decode()
    assert html.count("Its own text [en]") == 1
    assert "away from the windows" in html


def test_the_author_of_the_advisory_sees_the_group_is_for_another_reviewer(client, reviewer):
    broadcast(reviewer, 2)
    client.force_login(reviewer)
    html = client.get(reverse("approvals")).content.decode()
    assert "2 of these you wrote or sent to review" in html


def _queue_queries(client, user) -> int:
    client.get(reverse("approvals"))  # the first view reads what later views find remembered
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("approvals"))
    assert response.status_code == 200
    return len(captured)


def test_the_queue_runs_the_same_queries_for_a_small_and_a_large_group(client, reviewer, second_reviewer):
    client.force_login(second_reviewer)
    broadcast(reviewer, 2, "TR")
    few = _queue_queries(client, second_reviewer)
    Publication.objects.filter(crisis__isnull=False).update(broadcast=None, status=S.CANCELLED)
    broadcast(reviewer, 25, "DE")
    many = _queue_queries(client, second_reviewer)
    assert few == many


# --- One decision -------------------------------------------------------------------------


def test_one_decision_approves_every_post_and_an_excluded_one_waits_on_its_own(
    client, reviewer, second_reviewer
):
    group, made = broadcast(reviewer, 3)
    client.force_login(second_reviewer)

    response = decide(client, group, made, exclude=[made[0].post_id])

    assert response.status_code == 302
    assert messages_of(response) == [
        "2 approved.",
        f"1 post was taken out of the group: {made[0].post.name}. "
        "It waits in the queue as an item of its own.",
    ]
    assert [Publication.objects.get(pk=p.pk).status for p in made] == [S.IN_REVIEW, S.APPROVED, S.APPROVED]
    html = client.get(reverse("approvals")).content.decode()
    assert f'id="approval-{made[0].pk}"' in html  # an item of its own now
    assert "Advisory “Stay indoors”" not in html


def test_a_publication_changed_since_the_page_was_opened_is_reported_and_waits(
    client, reviewer, second_reviewer
):
    group, made = broadcast(reviewer, 3)
    client.force_login(second_reviewer)
    data = {
        "member": [f"{p.pk}:{p.revision + (1 if p == made[2] else 0)}" for p in made],
        "decision": "approve",
    }
    response = client.post(reverse("broadcast_decide", args=[group.pk]), data)
    assert messages_of(response) == ["2 approved; 1 had changed since you opened the page and waits for you."]
    html = client.get(reverse("approvals")).content.decode()
    assert "Advisory “Stay indoors”, 1 post" in html


def test_requesting_changes_on_a_group_without_a_comment_is_refused(client, reviewer, second_reviewer):
    group, made = broadcast(reviewer, 2)
    client.force_login(second_reviewer)
    response = decide(client, group, made, decision="request_changes")
    assert messages_of(response) == ["Say what to change: a comment is required."]
    assert set(Publication.objects.values_list("status", flat=True)) == {S.IN_REVIEW}
    response = decide(client, group, made, decision="request_changes", comment="Add the hotline.")
    assert messages_of(response)[-1] == "2 sent back to their posts."
    assert set(Publication.objects.values_list("status", flat=True)) == {S.CHANGES_REQUESTED}


@pytest.mark.parametrize("persona", ["editor", "manager", "partner_user", "outsider"], indirect=True)
def test_a_forged_decision_by_anyone_but_central_is_forbidden(client, reviewer, persona):
    group, made = broadcast(reviewer, 2)
    client.force_login(persona)
    assert decide(client, group, made).status_code == 403
    assert set(Publication.objects.values_list("status", flat=True)) == {S.IN_REVIEW}


def test_a_decision_needs_a_login_a_post_and_a_group_that_exists(client, reviewer, second_reviewer):
    group, made = broadcast(reviewer, 2)
    assert decide(client, group, made).status_code == 302  # to the login page
    client.force_login(second_reviewer)
    assert client.get(reverse("broadcast_decide", args=[group.pk])).status_code == 405
    assert client.post(reverse("broadcast_decide", args=[group.pk + 99]), {}).status_code == 404
    response = client.post(
        reverse("broadcast_decide", args=[group.pk]), {"member": ["x:1", "1:y", "¹:1"], "decision": "approve"}
    )
    assert response.status_code == 302
    assert messages_of(response) == ["Nothing of this group waits for a decision any more: reload the page."]
    assert set(Publication.objects.values_list("status", flat=True)) == {S.IN_REVIEW}


def test_a_decision_on_members_of_another_group_touches_nothing(client, reviewer, second_reviewer):
    group, made = broadcast(reviewer, 2, "TR")
    other, others = broadcast(reviewer, 2, "DE")
    client.force_login(second_reviewer)
    response = client.post(
        reverse("broadcast_decide", args=[group.pk]),
        {"member": [f"{p.pk}:{p.revision}" for p in others], "decision": "approve"},
    )
    assert response.status_code == 302
    assert set(Publication.objects.values_list("status", flat=True)) == {S.IN_REVIEW}


# --- Approve all that pass, across pages -----------------------------------------------------


@pytest.fixture
def queue(reviewer, editor, istanbul, ankara):
    """25 publications that pass (two pages), and one of each kind that is left out."""
    passing = [waiting(istanbul if n % 2 else ankara, editor, title=f"Passes {n:02d}") for n in range(25)]
    left_out = {
        "warning": waiting(istanbul, editor, title="Has a warning", warnings=True),
        "blocking": waiting(istanbul, editor, title="Fails a rule", blocking=True),
        "own": waiting(istanbul, reviewer, title="Written by the reviewer"),
    }
    return passing, left_out


def test_approve_all_that_pass_confirms_how_many_and_which_are_left_out_and_why(client, reviewer, queue):
    passing, left_out = queue
    client.force_login(reviewer)
    assert "Approve all that pass" in client.get(reverse("approvals")).content.decode()

    response = client.get(reverse("approvals_approve_all"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "25 publications matching your filters, on every page of the queue, pass every guideline" in html
    assert len(re.findall(r'name="selected"', html)) == 25
    assert "Left out: 3" in html
    assert "Has a warning</a> — Consulate-General of Belgium in Istanbul: its guideline checks found" in html
    assert "Fails a rule</a> — Consulate-General of Belgium in Istanbul: its guideline checks found" in html
    assert "Written by the reviewer</a> — Consulate-General of Belgium in Istanbul: you wrote it" in html
    assert set(Publication.objects.values_list("status", flat=True)) == {S.IN_REVIEW}  # nothing yet

    selected = re.findall(r'name="selected" value="([0-9:]+)"', html)
    response = client.post(reverse("approvals_bulk"), {"selected": selected, "next": reverse("approvals")})

    assert messages_of(response) == ["25 publications approved."]
    assert Publication.objects.filter(status=S.APPROVED).count() == 25
    assert all(Publication.objects.get(pk=p.pk).status == S.IN_REVIEW for p in left_out.values())


def test_approve_all_lists_at_most_its_limit_and_says_how_many_wait_for_the_next_round(
    client, reviewer, queue, monkeypatch
):
    monkeypatch.setattr(review_views, "APPROVE_ALL_LIMIT", 10)
    client.force_login(reviewer)
    html = client.get(reverse("approvals_approve_all")).content.decode()
    assert len(re.findall(r'name="selected"', html)) == 10
    assert "15 more pass too" in html


def test_approve_all_follows_the_filters(client, reviewer, queue, istanbul):
    client.force_login(reviewer)
    html = client.get(reverse("approvals_approve_all"), {"post": istanbul.code}).content.decode()
    assert "12 publications matching your filters" in html
    assert "?post=be-cg-istanbul" in html  # back to the queue as filtered


def test_approve_all_leaves_a_group_out_to_be_decided_as_one(client, reviewer, second_reviewer):
    broadcast(reviewer, 2)
    client.force_login(second_reviewer)
    html = client.get(reverse("approvals_approve_all")).content.decode()
    assert "0 publications matching your filters" in html
    assert html.count("part of a group: decide the group in the queue") == 2


@pytest.mark.parametrize("persona", ["editor", "manager", "partner_user", "outsider"], indirect=True)
def test_approve_all_is_for_central_only(client, persona, queue):
    passing, _left_out = queue
    client.force_login(persona)
    assert client.get(reverse("approvals_approve_all")).status_code == 403
    forged = {"selected": [f"{p.pk}:1" for p in passing]}
    assert client.post(reverse("approvals_bulk"), forged).status_code == 403
    assert not Publication.objects.filter(status=S.APPROVED).exists()


def test_a_forged_confirmation_with_the_reviewers_own_publication_does_not_approve_it(
    client, reviewer, queue
):
    _passing, left_out = queue
    client.force_login(reviewer)
    own = left_out["own"]
    response = client.post(reverse("approvals_bulk"), {"selected": [f"{own.pk}:1"]})
    assert messages_of(response) == ["Not approved: “Written by the reviewer”: your own publication"]
    assert Publication.objects.get(pk=own.pk).status == S.IN_REVIEW


def test_approve_all_with_a_bad_filter_is_a_400(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("approvals_approve_all"), {"waiting": "forever"}).status_code == 400


def test_the_crisis_page_shows_each_groups_progress_to_central(client, reviewer, second_reviewer, editor):
    group, made = broadcast(reviewer, 3)
    client.force_login(second_reviewer)
    decide(client, group, made[:2])
    html = re.sub(r"\s+", " ", client.get(reverse("crisis_detail", args=[group.crisis_id])).content.decode())
    assert (
        "<strong>“Stay indoors”</strong>: 3 posts — 1 in review, 0 sent back, 2 approved, 0 published" in html
    )


def _approve_all_queries(client) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("approvals_approve_all"))
    assert response.status_code == 200
    return len(captured)


def test_the_confirmation_runs_the_same_queries_for_few_and_many_items(client, reviewer, editor, istanbul):
    client.force_login(reviewer)
    waiting(istanbul, editor, title="First")
    client.get(reverse("approvals_approve_all"))  # the bell's count is then kept
    few = _approve_all_queries(client)
    for n in range(30):
        waiting(istanbul, editor, title=f"More {n}", warnings=n % 3 == 0)
    assert _approve_all_queries(client) == few


def test_copies_to_several_posts_are_one_item_once_submitted(
    client, reviewer, second_reviewer, editor, istanbul
):
    texts = {"nl": "Belgische week.", "fr": "Semaine belge.", "en": "Belgian week.", "tr": "Belçika haftası."}
    facebook = make_channel(post=istanbul, platform="facebook")
    original = make_publication(
        post=istanbul,
        author=editor,
        title="Belgian Week",
        local_date=DAY,
        variants=texts,
        channels=[facebook],
    )
    others = [make_post(name=f"Embassy of Belgium {n}") for n in range(3)]
    for post in others:
        make_channel(post=post, platform="facebook")
    copies = workflow.duplicate_publication(
        reviewer, original, local_date=DAY, local_time=time(10), posts=others
    )
    for copy in copies:
        workflow.submit(reviewer, copy)
    client.force_login(second_reviewer)
    html = client.get(reverse("approvals")).content.decode()
    assert html.count('class="approval-item') == 1
    assert "“Belgian Week”, copied to 3 posts" in html
    response = decide(client, copies[0].broadcast, [Publication.objects.get(pk=c.pk) for c in copies])
    assert messages_of(response) == ["3 approved."]
