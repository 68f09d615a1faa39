"""Every way into "approved" respects a crisis: nothing it takes in goes out unless released,
and nothing goes out late. (Holes a review found; each test is one path.)"""

from __future__ import annotations

from datetime import time, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import CrisisEvent, Delivery, Publication, PublicationStatus
from calendar_app.publishing import Published, SurelyFailed, engine
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user
from tests.test_crisis import _advisory, _api_channel, _approved


@pytest.fixture
def platform(monkeypatch):
    """A connector that fails while `fail` is set, else publishes and counts (no network)."""
    state = SimpleNamespace(fail=False, calls=[])

    def publish(delivery, part, reply_to):
        if state.fail:
            raise SurelyFailed("HTTP 503")
        state.calls.append(delivery.pk)
        return Published(post_id=str(delivery.pk), url=f"https://social.example/{delivery.pk}")

    monkeypatch.setattr(engine, "connector_for", lambda name: SimpleNamespace(publish=publish))
    return state


def _due_now(publication: Publication) -> None:
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now())


def _declared_before_its_time(crisis, publication: Publication) -> None:
    """The crisis began a minute before the publication's time (a crisis holds only what is
    due from its declaration on)."""
    scheduled_at = Publication.objects.get(pk=publication.pk).scheduled_at
    type(crisis).objects.filter(pk=crisis.pk).update(declared_at=scheduled_at - timedelta(minutes=1))


def test_a_failed_publication_sent_again_during_a_crisis_is_held(
    reviewer, second_reviewer, editor, istanbul, platform, monkeypatch
):
    publication = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    _due_now(publication)
    monkeypatch.setattr(engine, "MAX_ATTEMPTS", 1)
    platform.fail = True
    engine.publish_due()
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.FAILED
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    _declared_before_its_time(crisis, publication)
    platform.fail = False
    workflow.retry(editor, Publication.objects.get(pk=publication.pk))
    engine.publish_due()
    publication.refresh_from_db()
    assert (publication.status, publication.held_by) == (PublicationStatus.APPROVED, crisis)
    assert platform.calls == []


def test_a_publication_only_labelled_crisis_advisory_is_held_and_not_fast_tracked(
    reviewer, second_reviewer, editor, istanbul, platform
):
    labelled = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    Publication.objects.filter(pk=labelled.pk).update(kind="crisis_advisory")
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    assert Publication.objects.get(pk=labelled.pk).held_by == crisis

    waiting = make_publication(
        post=istanbul,
        author=editor,
        kind="crisis_advisory",
        variants={"nl": "Tekst.", "fr": "Texte.", "en": "Text.", "tr": "Metin."},
        local_date=(timezone.now() + timedelta(days=3)).date(),
    )
    workflow.submit(editor, waiting)
    _due_now(waiting)
    waiting = Publication.objects.get(pk=waiting.pk)
    with pytest.raises(workflow.DecisionRefused):  # its time passed: no fast track without a crisis link
        workflow.approve(second_reviewer, waiting, expected_revision=waiting.revision)


def test_a_missed_publication_rescheduled_by_central_during_a_new_crisis_is_held(
    reviewer, second_reviewer, editor, istanbul, platform
):
    passed = _approved(
        istanbul,
        editor,
        second_reviewer,
        channels=[_api_channel(istanbul)],
        when=timezone.now() + timedelta(hours=1),
    )
    first = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        workflow.end_crisis(reviewer, first)
        second = workflow.declare_crisis(reviewer, title="Quake", reason="Quake.", countries=["TR"])
        later = (timezone.now() + timedelta(days=1)).astimezone(istanbul.zone)
        workflow.reschedule_missed(
            reviewer, Publication.objects.get(pk=passed.pk), local_date=later.date(), local_time=time(10, 0)
        )
    passed.refresh_from_db()
    assert (passed.status, passed.missed_in, passed.held_by) == (PublicationStatus.APPROVED, None, second)


def test_central_cannot_move_an_approved_publication_into_the_past(
    reviewer, second_reviewer, editor, istanbul
):
    publication = _approved(istanbul, editor, second_reviewer)
    yesterday = (timezone.now() - timedelta(days=1)).astimezone(istanbul.zone).date()
    with pytest.raises(ValidationError):
        workflow.reschedule_publication(reviewer, publication, local_date=yesterday, local_time=time(10, 0))
    assert Publication.objects.get(pk=publication.pk).scheduled_at == publication.scheduled_at


def test_a_held_publication_cannot_be_recorded_as_published_by_hand(
    reviewer, second_reviewer, editor, istanbul, client
):
    manual = make_channel(post=istanbul, platform="facebook")
    publication = _approved(istanbul, editor, second_reviewer, channels=[manual])
    _due_now(publication)
    engine.create_due_deliveries()
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    _declared_before_its_time(crisis, publication)
    workflow.hold_what_active_crises_cover()
    delivery = Delivery.objects.get(publication=publication)
    client.force_login(editor)
    page = client.get(f"/publications/{publication.pk}/").content.decode()
    assert f"/deliveries/{delivery.pk}/record/" not in page
    client.post(f"/deliveries/{delivery.pk}/record/", {"url": "https://facebook.com/p/1"})
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.record_delivery(editor, delivery, "https://facebook.com/p/1")
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.APPROVED


def test_a_delivery_waiting_to_retry_is_not_sent_once_its_publication_is_cancelled(
    second_reviewer, editor, istanbul, platform
):
    publication = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    _due_now(publication)
    platform.fail = True
    engine.publish_due()  # a 503: pending, to be tried again
    workflow.cancel(editor, Publication.objects.get(pk=publication.pk))
    platform.fail = False
    Delivery.objects.update(next_attempt_at=timezone.now())
    engine.publish_due()
    assert platform.calls == []


def test_a_post_that_enters_a_crisis_country_later_is_held_before_anything_is_sent(
    reviewer, second_reviewer, platform
):
    athens = make_post(
        name="Embassy of Belgium in Athens",
        country="GR",
        host_languages="el",
        publishing_languages="nl,fr,en",
    )
    author = make_user(email="editor.athens@example.org", role="post_editor", post=athens)
    publication = _approved(athens, author, second_reviewer, channels=[_api_channel(athens)])
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    athens.country = "TR"  # a registry correction after the declaration
    athens.save()
    _due_now(publication)
    engine.publish_due()
    assert platform.calls == []
    assert Publication.objects.get(pk=publication.pk).held_by == crisis


def test_what_central_released_is_not_held_again_by_the_sweep(
    reviewer, second_reviewer, editor, istanbul, platform
):
    publication = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    workflow.release_publication(reviewer, Publication.objects.get(pk=publication.pk))
    _due_now(publication)
    engine.publish_due()
    assert len(platform.calls) == 1
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.PUBLISHED


def test_a_released_publication_its_post_moves_is_a_new_decision_and_held_again(
    reviewer, second_reviewer, editor, istanbul
):
    """Central's release covered the approved time; moved by its post, the publication goes
    back to review, and its new approval during the crisis holds it like any other."""
    publication = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    workflow.release_publication(reviewer, Publication.objects.get(pk=publication.pk))
    released = Publication.objects.get(pk=publication.pk)
    moved = workflow.reschedule_publication(
        editor, released, local_date=released.local_date + timedelta(days=1), local_time=released.local_time
    )
    assert (moved.status, moved.released_from_id) == (PublicationStatus.IN_REVIEW, None)
    workflow.approve(second_reviewer, moved, expected_revision=moved.revision)
    assert Publication.objects.get(pk=publication.pk).held_by == crisis


def test_an_advisory_of_an_ended_crisis_is_not_sent_out_late_on_approval(reviewer, second_reviewer, istanbul):
    _api_channel(istanbul)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    (advisory,), _skipped = workflow.broadcast_advisory(reviewer, crisis, _advisory(platforms=["facebook"]))
    workflow.end_crisis(reviewer, crisis)
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        advisory = Publication.objects.get(pk=advisory.pk)
        with pytest.raises(workflow.DecisionRefused):
            workflow.approve(second_reviewer, advisory, expected_revision=advisory.revision)


def test_a_manager_does_not_end_a_crisis_central_declared_for_their_post(manager, reviewer, istanbul):
    central = workflow.declare_crisis(reviewer, title="Bomb threat", reason="Threat.", posts=[istanbul])
    with pytest.raises(PermissionDenied):
        workflow.end_crisis(manager, central)
    own = workflow.declare_crisis(manager, title="Fire", reason="Fire.", posts=[istanbul])
    workflow.end_crisis(manager, own)


def test_an_advisory_is_escalated_once_even_by_two_runs_at_once(reviewer, istanbul):
    _api_channel(istanbul)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    (advisory,), _skipped = workflow.broadcast_advisory(reviewer, crisis, _advisory(platforms=["facebook"]))
    CrisisEvent.objects.create(crisis=crisis, verb="escalated", publication=advisory)
    with pytest.raises(IntegrityError):
        CrisisEvent.objects.create(crisis=crisis, verb="escalated", publication=advisory)


def test_a_second_click_on_break_glass_publishes_nothing_more(manager, reviewer, istanbul):
    _api_channel(istanbul)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    workflow.break_glass(manager, crisis, istanbul, _advisory(platforms=["facebook"]), reason="Urgent.")
    with pytest.raises(workflow.CrisisRefused, match="not sent twice"):
        workflow.break_glass(manager, crisis, istanbul, _advisory(platforms=["facebook"]), reason="Urgent.")
    assert Publication.objects.filter(crisis=crisis).count() == 1


# --- A crisis holds only what is due after its declaration -------------------------------------


def test_a_publication_already_overdue_when_the_crisis_is_declared_is_not_held_nor_listed_as_missed(
    reviewer, second_reviewer, editor, istanbul, platform, settings
):
    settings.MAX_LATENESS = timedelta(minutes=15)
    overdue = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    # Due ten minutes ago, not sent yet (the task worker was down).
    Publication.objects.filter(pk=overdue.pk).update(scheduled_at=timezone.now() - timedelta(minutes=10))
    ahead = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    assert Publication.objects.get(pk=overdue.pk).held_by is None
    assert Publication.objects.get(pk=ahead.pk).held_by == crisis
    engine.publish_due()  # the sweep does not hold it either
    assert Publication.objects.get(pk=overdue.pk).held_by is None
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        counts = workflow.end_crisis(reviewer, crisis)
        engine.publish_due()
    # The one it held is missed during the crisis; the overdue one never was the crisis's.
    assert counts["missed"] == 1
    assert Publication.objects.get(pk=ahead.pk).missed_in == crisis
    assert not Publication.objects.filter(missed_in=crisis, pk=overdue.pk).exists()
    assert not CrisisEvent.objects.filter(crisis=crisis, publication=overdue).exists()


def test_an_overdue_publication_past_the_limit_at_the_declaration_is_missed_for_its_lateness(
    reviewer, second_reviewer, editor, istanbul, platform, settings
):
    settings.MAX_LATENESS = timedelta(minutes=15)
    overdue = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    Publication.objects.filter(pk=overdue.pk).update(scheduled_at=timezone.now() - timedelta(hours=2))
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    engine.publish_due()
    overdue.refresh_from_db()
    assert (overdue.status, overdue.held_by, overdue.missed_in) == (PublicationStatus.MISSED, None, None)
    assert overdue.events.get(verb="missed_late").comment.startswith("Not sent: 2 h 0 min past its time")
    assert workflow.end_crisis(reviewer, crisis)["missed"] == 0
    assert platform.calls == []


def test_a_publication_overdue_within_the_limit_at_the_declaration_still_goes_out(
    reviewer, second_reviewer, editor, istanbul, platform
):
    overdue = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    Publication.objects.filter(pk=overdue.pk).update(scheduled_at=timezone.now() - timedelta(minutes=2))
    workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    engine.publish_due()
    assert Publication.objects.get(pk=overdue.pk).status == PublicationStatus.PUBLISHED
    assert len(platform.calls) == 1


def test_ending_a_crisis_makes_what_it_held_past_its_time_missed_with_the_crisis_named(
    reviewer, second_reviewer, editor, manager, istanbul, platform
):
    held = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        workflow.end_crisis(reviewer, crisis)
        engine.publish_due()
    held.refresh_from_db()
    assert (held.status, held.held_by, held.missed_in) == (PublicationStatus.MISSED, None, crisis)
    event = held.events.get(verb="missed")
    assert (event.from_status, event.to_status) == (PublicationStatus.APPROVED, PublicationStatus.MISSED)
    assert platform.calls == []


def test_releasing_a_held_publication_whose_time_passed_makes_it_missed_and_tells_the_post(
    reviewer, second_reviewer, editor, istanbul, platform
):
    held = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    with time_machine.travel(timezone.now() + timedelta(days=4)):
        assert workflow.release_publication(reviewer, Publication.objects.get(pk=held.pk)) == "missed"
        engine.publish_due()
    held.refresh_from_db()
    assert (held.status, held.missed_in, held.released_from) == (PublicationStatus.MISSED, crisis, crisis)
    from calendar_app.models import Notification

    assert Notification.objects.filter(verb="missed", publication=held, recipient=editor).exists()
    assert platform.calls == []
