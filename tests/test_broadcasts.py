"""A broadcast decided as one: every post's advisory (or copy) approved or sent back with one
decision, each publication checked as `approve` checks it. Workflow-level tests."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from calendar_app import workflow
from calendar_app.models import (
    Broadcast,
    BroadcastDecision,
    Comment,
    CrisisEvent,
    Publication,
    PublicationEvent,
    PublicationRevision,
    PublicationStatus,
    Review,
)
from calendar_app.workflow import AdvisoryContent
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user

S = PublicationStatus
ADVISORY = AdvisoryContent(
    title="Stay indoors",
    variants={"nl": "Blijf binnen.", "fr": "Restez à l'intérieur.", "en": "Stay indoors."},
    platforms=["facebook"],
)


def network(size: int, country: str = "TR") -> list:
    posts = [make_post(name=f"Embassy of Belgium number {n:03d}", country=country) for n in range(size)]
    for post in posts:
        make_channel(post=post, platform="facebook")
    return posts


def broadcast(reviewer, size: int = 3, country: str = "TR") -> tuple[Broadcast, list[Publication]]:
    """`size` posts in `country`, a crisis there, and one advisory broadcast to them by `reviewer`."""
    network(size, country)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=[country])
    made, _skipped = workflow.broadcast_advisory(reviewer, crisis, ADVISORY)
    return made[0].broadcast, made


def seen(publications) -> dict[int, int]:
    return {p.pk: p.revision for p in publications}


def statuses(publications) -> list[str]:
    return [Publication.objects.get(pk=p.pk).status for p in publications]


def test_a_broadcast_puts_every_posts_advisory_in_one_group(reviewer):
    group, made = broadcast(reviewer, 3)
    assert group.title == "Stay indoors"
    assert group.crisis == made[0].crisis
    assert group.created_by == reviewer
    assert set(group.publications.all()) == set(made)


def test_one_decision_approves_every_post_each_with_its_own_review_and_history(reviewer, second_reviewer):
    group, made = broadcast(reviewer, 3)

    outcome = workflow.decide_broadcast(second_reviewer, group, "approve", revisions=seen(made))

    assert len(outcome.decided) == 3 and not outcome.refused and not outcome.changed
    assert statuses(made) == [S.APPROVED] * 3
    decision = BroadcastDecision.objects.get()
    assert (decision.reviewer, decision.decision, decision.decided) == (second_reviewer, "approve", 3)
    for publication in made:
        review = Review.objects.get(publication=publication)
        assert review.reviewer == second_reviewer and review.revision.number == publication.revision
        event = PublicationEvent.objects.get(publication=publication, verb="approve")
        assert (event.from_status, event.to_status) == (S.IN_REVIEW, S.APPROVED)
        assert event.data["broadcast_decision"] == decision.pk
    assert CrisisEvent.objects.filter(verb="advisory_approved").count() == 3


@pytest.mark.parametrize("persona", ["editor", "manager", "partner_user", "outsider"], indirect=True)
def test_only_central_reviewers_decide_a_group(reviewer, persona):
    group, made = broadcast(reviewer, 2)
    with pytest.raises(PermissionDenied):
        workflow.decide_broadcast(persona, group, "approve", revisions=seen(made))
    assert statuses(made) == [S.IN_REVIEW] * 2
    assert not BroadcastDecision.objects.exists()


def test_the_reviewer_who_wrote_the_advisory_cannot_approve_any_of_it(reviewer):
    group, made = broadcast(reviewer, 2)
    outcome = workflow.decide_broadcast(reviewer, group, "approve", revisions=seen(made))
    assert not outcome.decided
    assert len(outcome.refused) == 2
    assert all("four eyes" in reason for _p, reason in outcome.refused)
    assert statuses(made) == [S.IN_REVIEW] * 2
    assert not Review.objects.exists()


def test_four_eyes_is_asked_of_each_publication_of_the_group(reviewer, second_reviewer):
    group, made = broadcast(reviewer, 3)
    # The second reviewer sent one of them to review again: that one is not theirs to approve.
    PublicationRevision.objects.filter(publication=made[1]).update(submitted_by=second_reviewer)

    outcome = workflow.decide_broadcast(second_reviewer, group, "approve", revisions=seen(made))

    assert [p.pk for p, _reason in outcome.refused] == [made[1].pk]
    assert statuses(made) == [S.APPROVED, S.IN_REVIEW, S.APPROVED]
    assert Publication.objects.get(pk=made[1].pk).broadcast == group  # still waits in the group


def test_an_excluded_post_leaves_the_group_and_stays_in_review_on_its_own(reviewer, second_reviewer):
    group, made = broadcast(reviewer, 3)
    left = made[2]

    outcome = workflow.decide_broadcast(
        second_reviewer, group, "approve", revisions=seen(made), exclude_posts=[left.post_id]
    )

    assert outcome.excluded == [left]
    assert statuses(made) == [S.APPROVED, S.APPROVED, S.IN_REVIEW]
    left.refresh_from_db()
    assert left.broadcast is None
    assert PublicationEvent.objects.filter(publication=left, verb="left_broadcast").count() == 1
    assert not Review.objects.filter(publication=left).exists()
    assert BroadcastDecision.objects.get().excluded == 1


def test_a_publication_changed_since_the_page_was_opened_waits_for_the_reviewer(reviewer, second_reviewer):
    group, made = broadcast(reviewer, 3)
    revisions = seen(made)
    revisions[made[0].pk] += 1  # the page showed another revision than the one in review now

    outcome = workflow.decide_broadcast(second_reviewer, group, "approve", revisions=revisions)

    assert outcome.changed == [made[0]]
    assert len(outcome.decided) == 2
    assert statuses(made) == [S.IN_REVIEW, S.APPROVED, S.APPROVED]
    assert Publication.objects.get(pk=made[0].pk).broadcast == group


def test_a_publication_decided_meanwhile_is_not_decided_twice(reviewer, second_reviewer):
    group, made = broadcast(reviewer, 2)
    workflow.approve(second_reviewer, made[0], expected_revision=made[0].revision)

    outcome = workflow.decide_broadcast(second_reviewer, group, "approve", revisions=seen(made))

    assert [p.pk for p in outcome.changed] == [made[0].pk]
    assert Review.objects.filter(publication=made[0]).count() == 1


def test_publications_the_page_did_not_show_are_not_decided(reviewer, second_reviewer):
    group, made = broadcast(reviewer, 3)
    outcome = workflow.decide_broadcast(second_reviewer, group, "approve", revisions=seen(made[:2]))
    assert len(outcome.decided) == 2
    assert statuses(made) == [S.APPROVED, S.APPROVED, S.IN_REVIEW]


def test_requesting_changes_needs_a_comment_and_then_sends_every_post_back(reviewer, second_reviewer):
    group, made = broadcast(reviewer, 2)
    with pytest.raises(workflow.DecisionRefused, match="comment is required"):
        workflow.decide_broadcast(
            second_reviewer, group, "request_changes", revisions=seen(made), comment=" "
        )
    assert statuses(made) == [S.IN_REVIEW] * 2
    assert not BroadcastDecision.objects.exists()

    outcome = workflow.decide_broadcast(
        second_reviewer, group, "request_changes", revisions=seen(made), comment="Add the hotline number."
    )

    assert len(outcome.decided) == 2
    assert statuses(made) == [S.CHANGES_REQUESTED] * 2
    for publication in made:
        assert Review.objects.get(publication=publication).comment == "Add the hotline number."
        assert Comment.objects.get(publication=publication).text == "Add the hotline number."


def test_an_unknown_decision_is_refused_and_changes_nothing(reviewer, second_reviewer):
    group, made = broadcast(reviewer, 2)
    with pytest.raises(workflow.DecisionRefused):
        workflow.decide_broadcast(second_reviewer, group, "publish", revisions=seen(made))
    assert statuses(made) == [S.IN_REVIEW] * 2


def test_a_publication_failing_a_blocking_guideline_is_not_approved_with_the_others(
    reviewer, second_reviewer
):
    group, made = broadcast(reviewer, 2)
    failing = [{"code": "https-links", "severity": "blocking", "passed": False, "problems": ["http"]}]
    PublicationRevision.objects.filter(publication=made[0]).update(checks=failing, has_blocking=True)

    outcome = workflow.decide_broadcast(second_reviewer, group, "approve", revisions=seen(made))

    assert [p.pk for p, _reason in outcome.refused] == [made[0].pk]
    assert statuses(made) == [S.IN_REVIEW, S.APPROVED]


def test_copies_to_several_posts_form_one_group_and_a_copy_to_one_post_none(reviewer, editor, istanbul):
    original = make_publication(post=istanbul, author=editor, local_date=date(2026, 12, 1))
    others = network(3)
    copies = workflow.duplicate_publication(
        reviewer, original, local_date=date(2026, 12, 20), local_time=time(10), posts=others
    )
    assert len({copy.broadcast_id for copy in copies}) == 1
    assert copies[0].broadcast is not None and copies[0].broadcast.crisis is None
    single = workflow.duplicate_publication(
        reviewer, original, local_date=date(2026, 12, 21), local_time=time(10)
    )
    assert single[0].broadcast is None


def _decision_queries(reviewer, second_reviewer, size: int, country: str) -> int:
    group, made = broadcast(reviewer, size, country)
    with CaptureQueriesContext(connection) as captured:
        outcome = workflow.decide_broadcast(second_reviewer, group, "approve", revisions=seen(made))
    assert len(outcome.decided) == size
    return len(captured)


#: What each publication of a group adds to its decision: its notifications (who is told, and
#: the rows). Everything else is one query for the whole group (its publishing schedule is
#: written after commit, outside this count).
PER_PUBLICATION = 3


def test_one_decision_on_a_group_costs_a_few_queries_per_post_not_hundreds(reviewer, second_reviewer):
    few = _decision_queries(reviewer, second_reviewer, 3, "TR")
    many = _decision_queries(reviewer, second_reviewer, 12, "DE")
    assert many - few <= PER_PUBLICATION * 9, (few, many)


def test_a_post_manager_excluded_from_a_group_still_cannot_decide_it(reviewer, istanbul):
    group, made = broadcast(reviewer, 1)
    manager = make_user(role=Role.POST_MANAGER, post=made[0].post)
    with pytest.raises(PermissionDenied):
        workflow.decide_broadcast(
            manager, group, "approve", revisions=seen(made), exclude_posts=[made[0].post_id]
        )
    assert Publication.objects.get(pk=made[0].pk).broadcast == group
