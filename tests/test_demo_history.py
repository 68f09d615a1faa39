"""The demo looks like a year of work: every history dated in the past at plausible moments,
central's turnaround plausible every week, crises ended with their advisories decided."""

import random
import statistics
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import F

from calendar_app import demo
from calendar_app.models import (
    Comment,
    Crisis,
    CrisisEvent,
    Publication,
    PublicationEvent,
    PublicationKind,
    PublicationRevision,
    PublicationStatus,
    Review,
)
from calendar_app.reports.activity import activity
from calendar_app.views.review import approval_queryset
from diplomacy.models import Post

#: A Thursday morning: the current week has days behind it, as on most days the demo is opened.
SEEDED_AT = datetime(2026, 12, 10, 11, 0, tzinfo=UTC)
S = PublicationStatus
#: The steps that may follow each other in a publication's history.
WORKFLOW_ORDER = {
    ("submit", "approve"),
    ("submit", "request_changes"),
    ("request_changes", "resubmit"),
    ("resubmit", "approve"),
    ("resubmit", "request_changes"),
    ("approve", "published"),
}


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    # Frozen: a row stamped with the seed's own time would carry exactly SEEDED_AT.
    with time_machine.travel(SEEDED_AT, tick=False):
        call_command("seed_demo", "--password", "demo-pass-123", "--publications", "300", verbosity=0)
        yield


def test_central_decides_within_hours_to_days_every_week_of_the_activity_report(seeded):
    report = activity(Post.objects.all(), weeks=8)
    assert len(report.turnaround) == 8
    for week in report.turnaround:
        assert week["count"] >= 5, week
        assert 0 < week["median"] < 72, week
        assert week["median"] <= week["p90"], week


def test_no_two_decisions_share_a_moment_and_none_carries_the_seeds_time(seeded):
    moments = list(Review.objects.values_list("created_at", flat=True))
    assert len(moments) > 100
    assert len(set(moments)) == len(moments)
    assert max(moments) < SEEDED_AT


def test_every_history_row_is_dated_in_the_past_and_in_order(seeded):
    for model in (Publication, PublicationEvent, PublicationRevision, Review, Comment, CrisisEvent):
        assert not model.objects.filter(created_at__gte=SEEDED_AT).exists(), model.__name__
    for review in Review.objects.select_related("revision", "publication"):
        assert review.revision.created_at < review.created_at, review.publication
        if review.decision == "approve":
            # An advisory goes out the moment it is approved (workflow: advisory_retimed).
            assert review.created_at <= review.publication.scheduled_at, review.publication
    for publication in Publication.objects.prefetch_related("events"):
        events = list(publication.events.all())  # by their moments
        assert events[0].verb in ("created", "adopted"), publication
        assert publication.created_at <= events[0].created_at, publication
        # In time, the workflow's order: a decision follows its sending, a new sending follows
        # a request for changes, publishing follows the approval.
        steps = [
            e.verb
            for e in events
            if e.verb in ("submit", "resubmit", "approve", "request_changes", "published")
        ]
        for step, following in zip(steps, steps[1:], strict=False):
            assert (step, following) in WORKFLOW_ORDER, (publication, steps)


def test_decisions_mostly_come_within_hours_with_a_tail_of_days_and_slower_weekends(seeded):
    reviews = Review.objects.filter(publication__crisis__isnull=True).select_related("revision")
    waits = {r.pk: (r.created_at - r.revision.created_at).total_seconds() / 3600 for r in reviews}
    hours = sorted(waits.values())
    assert sum(h <= 12 for h in hours) / len(hours) > 0.6
    assert sum(h >= 24 for h in hours) / len(hours) > 0.04
    assert hours[-1] < 24 * 5
    weekend = [waits[r.pk] for r in reviews if r.revision.created_at.astimezone(demo.BRUSSELS).weekday() >= 5]
    weekday = [waits[r.pk] for r in reviews if r.revision.created_at.astimezone(demo.BRUSSELS).weekday() < 5]
    assert weekend and statistics.median(weekend) > statistics.median(weekday)


def test_several_reviewers_decide_and_some_publications_were_sent_back_and_answered_first(seeded):
    assert Review.objects.values("reviewer").distinct().count() >= 2
    assert not Review.objects.filter(reviewer_id=F("publication__author_id")).exists()
    twice = Publication.objects.filter(revision=2, status__in=[S.APPROVED, S.PUBLISHED, S.FAILED])
    assert twice.exists()
    publication = twice.first()
    assert publication is not None
    decisions = list(publication.reviews.order_by("created_at").values_list("decision", flat=True))
    assert decisions == ["request_changes", "approve"]
    verbs = list(publication.events.values_list("verb", flat=True))
    assert verbs[:5] == ["created", "submit", "request_changes", "resubmit", "approve"]
    thread = list(publication.comments.all())
    assert len(thread) == 2 and thread[1].author == publication.author


def test_every_crisis_ended_in_the_past_with_its_advisories_decided(seeded):
    crises = list(Crisis.objects.all())
    assert len(crises) >= 3
    for crisis in crises:
        assert crisis.ended_at is not None and crisis.ended_at < SEEDED_AT
        advisories = Publication.objects.filter(crisis=crisis)
        assert advisories.exists(), crisis
        assert set(advisories.values_list("status", flat=True)) <= {S.PUBLISHED, S.CANCELLED}, crisis
        timeline = crisis.events.all()
        assert {"declared", "ended"} <= set(timeline.values_list("verb", flat=True))
        for event in timeline:
            assert crisis.declared_at <= event.created_at <= crisis.ended_at + timedelta(seconds=1), (
                event.verb
            )
        for entry in PublicationEvent.objects.filter(publication__in=advisories).exclude(verb="created"):
            assert crisis.declared_at <= entry.created_at <= crisis.ended_at, (crisis, entry.verb)


def test_no_advisory_waits_in_the_approval_queue_without_an_active_crisis(seeded):
    queue = approval_queryset()
    assert queue.exists()
    assert not queue.filter(kind=PublicationKind.CRISIS_ADVISORY).exists()
    assert not queue.filter(crisis__isnull=False).exists()


def test_the_queue_shows_waits_of_hours_mostly_and_of_days_for_some(seeded):
    # submitted_at: annotated by the queue (its latest revision's time).
    waits = [(SEEDED_AT - p.submitted_at).total_seconds() / 3600 for p in approval_queryset()]  # type: ignore[attr-defined]
    assert all(0 < hours < 24 * 7 for hours in waits)
    assert any(hours < 12 for hours in waits) and any(hours > 24 for hours in waits)


def test_a_decision_waits_for_the_office_and_the_weekend_may_wait_for_monday():
    rng = random.Random(1)
    friday_night = datetime(2026, 12, 11, 22, 0, tzinfo=UTC)  # 23:00 in Brussels
    decided = [demo.decision_time(rng, friday_night) for _ in range(200)]
    assert all(d > friday_night for d in decided)
    local = [d.astimezone(demo.BRUSSELS) for d in decided]
    # Nobody decides at night: the office or the weekend's duty reviewer, by day.
    assert all(moment.hour >= 8 for moment in local)
    assert any(moment.weekday() == 0 for moment in local), "some wait for Monday"
    assert any(moment.weekday() == 5 for moment in local), "the duty reviewer takes some"


def test_the_inserts_keep_the_given_moments_and_leave_django_stamping_afterwards(db):
    field = Review._meta.get_field("created_at")
    with pytest.raises(RuntimeError), demo.dated(Review):
        assert not field.auto_now_add
        raise RuntimeError
    assert field.auto_now_add
