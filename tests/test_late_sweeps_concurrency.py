"""Two publishing jobs running the sweeps at the same moment (a task django-q2 runs twice, two
workers): a late publication is marked missed once and an unknown delivery reported once,
each with one history row and one notification per person.

Real threads against a real database (`transaction=True`): SQLite serialises the writers
(IMMEDIATE transactions), PostgreSQL the report by a row lock and the miss by its
compare-and-set (run with DATABASE_URL pointing there).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Delivery, Notification, Publication, PublicationEvent, PublicationStatus
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.test_concurrency import _sqlite_on_a_file, race  # noqa: F401  (the module's database file)

ROUNDS = 3


def _noop() -> None:
    return None


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_mark_a_late_publication_missed_once(editor, manager, istanbul, settings):
    settings.MAX_LATENESS = timedelta(minutes=15)
    channel = make_channel(post=istanbul, platform="facebook")
    for round_number in range(ROUNDS):
        publication = make_publication(
            post=istanbul, author=editor, status=PublicationStatus.APPROVED, channels=[channel]
        )
        Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(hours=1))
        Delivery.objects.create(publication=publication, channel=channel)
        outcomes = race(
            (_noop, lambda _: workflow.miss_late_publications()),
            (_noop, lambda _: workflow.miss_late_publications()),
        )
        assert outcomes == ["ok", "ok"], round_number
        assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.MISSED
        assert PublicationEvent.objects.filter(publication=publication, verb="missed_late").count() == 1
        told = Notification.objects.filter(publication=publication, verb="missed")
        assert sorted(told.values_list("recipient", flat=True)) == sorted([editor.pk, manager.pk])


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_report_an_unknown_delivery_once(editor, manager, istanbul):
    channel = make_channel(post=istanbul, platform="x")
    for round_number in range(ROUNDS):
        publication = make_publication(post=istanbul, author=editor, status=PublicationStatus.APPROVED)
        delivery = Delivery.objects.create(publication=publication, channel=channel, status="unknown")
        outcomes = race(
            (_noop, lambda _: workflow.report_unknown_deliveries()),
            (_noop, lambda _: workflow.report_unknown_deliveries()),
        )
        assert outcomes == ["ok", "ok"], round_number
        events = PublicationEvent.objects.filter(publication=publication, verb="delivery_unknown")
        assert list(events.values_list("data", flat=True)) == [
            {"delivery": delivery.pk, "channel": channel.pk}
        ]
        told = Notification.objects.filter(publication=publication, verb="delivery_unknown")
        assert sorted(told.values_list("recipient", flat=True)) == sorted([editor.pk, manager.pk])
