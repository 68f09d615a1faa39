"""Two reviewers deciding the same group at the same moment: each publication is decided once,
and the reviewer who came second is told which ones changed under them. Real threads, real
database (`transaction=True`): SQLite on a file and PostgreSQL."""

from __future__ import annotations

import pytest

from calendar_app import workflow
from calendar_app.models import BroadcastDecision, Publication, PublicationEvent, PublicationStatus, Review
from diplomacy.models import Role
from tests.factories import make_channel, make_post, make_user
from tests.test_concurrency import _sqlite_on_a_file, frozen, race  # noqa: F401 (fixtures)

S = PublicationStatus
SIZE = 4


def advisory_group(reviewer):
    for n in range(SIZE):
        make_channel(post=make_post(name=f"Embassy of Belgium number {n}"), platform="facebook")
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    content = workflow.AdvisoryContent(
        title="Stay indoors",
        variants={"nl": "Blijf binnen.", "fr": "Restez à l'intérieur.", "en": "Stay indoors."},
        platforms=["facebook"],
    )
    made, _skipped = workflow.broadcast_advisory(reviewer, crisis, content)
    return made[0].broadcast, {p.pk: p.revision for p in made}


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_deciding_a_group_at_once_decide_each_publication_once(reviewer, second_reviewer):
    third = make_user(email="third.reviewer@example.org", role=Role.CENTRAL_REVIEWER)
    group, seen = advisory_group(reviewer)
    outcomes: dict[str, workflow.BroadcastOutcome] = {}

    def act(who, decision, comment=""):
        def run(_loaded):
            outcomes[decision] = workflow.decide_broadcast(
                who, group, decision, revisions=seen, comment=comment
            )

        return run

    results = race(
        (lambda: None, act(second_reviewer, "approve")),
        (lambda: None, act(third, "request_changes", "Add the hotline.")),
    )

    assert results == ["ok", "ok"], results
    decided = {name: len(outcome.decided) for name, outcome in outcomes.items()}
    changed = {name: len(outcome.changed) for name, outcome in outcomes.items()}
    assert sum(decided.values()) == SIZE, (decided, changed)
    assert {decided[name] + changed[name] for name in outcomes} == {SIZE}
    for pk in seen:
        assert Review.objects.filter(publication_id=pk).count() == 1
        assert (
            PublicationEvent.objects.filter(
                publication_id=pk, verb__in=["approve", "request_changes"]
            ).count()
            == 1
        )
    statuses = list(Publication.objects.filter(pk__in=seen).values_list("status", flat=True))
    assert statuses.count(S.APPROVED) == decided["approve"]
    assert statuses.count(S.CHANGES_REQUESTED) == decided["request_changes"]
    assert BroadcastDecision.objects.count() == 2
