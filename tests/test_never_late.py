"""Nothing ever goes out late: a publication not sent within MAX_LATENESS of its time is
never sent but marked missed, with the reason in plain words and its post told; a person
gives it a new time or cancels it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    Publication,
    PublicationEvent,
    PublicationStatus,
)
from calendar_app.publishing import Published, SurelyFailed, engine
from diplomacy.models import Channel, Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_user

S = PublicationStatus
#: The event announced for 26 December 18:00 in Istanbul (15:00 UTC).
EVENT_AT = datetime(2026, 12, 26, 15, 0, tzinfo=UTC)
LATENESS = timedelta(minutes=15)


@pytest.fixture(autouse=True)
def _lateness(settings):
    settings.MAX_LATENESS = LATENESS


@pytest.fixture
def platform(monkeypatch):
    """A connector that refuses while `refuse` is set, else publishes; counts calls (no network)."""
    state = SimpleNamespace(refuse=False, calls=[])

    def publish(delivery, part, reply_to):
        state.calls.append(delivery.channel_id)
        if state.refuse:
            raise SurelyFailed("HTTP 503: the platform is busy.")
        return Published(post_id=str(delivery.pk), url=f"https://social.example/{delivery.pk}")

    monkeypatch.setattr(engine, "connector_for", lambda name: SimpleNamespace(publish=publish))
    return state


def _api_channel(post, platform: str = "x") -> Channel:
    channel = make_channel(post=post, platform=platform)
    channel.connector, channel.endpoint = "webhook", "https://hooks.example/in"
    channel.save()
    return channel


def _approved(post, author, reviewer, *, channels, at: datetime = EVENT_AT, title: str | None = None):
    """Approved through the workflow for the time `at` (the clock a week before it)."""
    local = at.astimezone(post.zone)
    publication = make_publication(
        post=post,
        author=author,
        title=title,
        local_date=local.date(),
        local_time=local.time(),
        channels=channels,
        variants={"nl": "Tekst.", "fr": "Texte.", "en": "Text.", "tr": "Metin."},
    )
    workflow.submit(author, publication)
    publication = Publication.objects.get(pk=publication.pk)
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    return Publication.objects.get(pk=publication.pk)


@pytest.fixture
def week_before(time_machine):
    time_machine.move_to(EVENT_AT - timedelta(days=7, hours=1), tick=False)
    return time_machine


# --- The rule at the engine ------------------------------------------------------------------


def test_with_the_worker_down_for_four_days_the_event_is_not_posted_but_missed_with_the_reason(
    week_before, istanbul, editor, manager, second_reviewer, reviewer, platform
):
    publication = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    week_before.move_to(EVENT_AT + timedelta(days=4, minutes=10), tick=False)  # the worker comes back
    engine.publish_due()
    publication.refresh_from_db()
    assert platform.calls == []
    assert publication.status == S.MISSED
    event = publication.events.get(verb="missed_late")
    assert (event.actor, event.from_status, event.to_status) == (None, S.APPROVED, S.MISSED)
    assert event.comment == (
        "Not sent: 4 days 0 h past its time (nothing goes out more than 15 min late); "
        "the publishing service was not running at its time."
    )
    told = set(
        Notification.objects.filter(verb="missed", publication=publication).values_list(
            "recipient", flat=True
        )
    )
    assert told == {editor.pk, manager.pk, reviewer.pk, second_reviewer.pk}
    engine.publish_due()  # the next run: nothing more
    assert publication.events.filter(verb="missed_late").count() == 1
    assert Notification.objects.filter(verb="missed").count() == 4


def test_at_exactly_the_limit_it_goes_out_and_a_second_later_it_does_not(
    week_before, istanbul, editor, second_reviewer, platform
):
    on_time = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    too_late = _approved(
        istanbul,
        editor,
        second_reviewer,
        channels=[_api_channel(istanbul, "facebook")],
        at=EVENT_AT - timedelta(seconds=1),
    )
    week_before.move_to(EVENT_AT + LATENESS, tick=False)
    engine.publish_due()
    assert Publication.objects.get(pk=on_time.pk).status == S.PUBLISHED
    assert Publication.objects.get(pk=too_late.pk).status == S.MISSED
    assert platform.calls == [on_time.channels.get().pk]


def test_a_manual_delivery_left_pending_says_nobody_posted_it_by_hand(
    week_before, istanbul, editor, second_reviewer, platform
):
    manual = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    publication = _approved(istanbul, editor, second_reviewer, channels=[manual])
    week_before.move_to(EVENT_AT + timedelta(minutes=1), tick=False)
    engine.publish_due()
    week_before.move_to(EVENT_AT + timedelta(minutes=20), tick=False)
    engine.publish_due()
    event = Publication.objects.get(pk=publication.pk).events.get(verb="missed_late")
    assert event.comment.endswith("nobody recorded it as posted by hand on Facebook @Belgium.Istanbul.")


def test_a_delivery_pending_on_a_manual_channel_switched_to_an_api_36_minutes_late_is_not_sent(
    week_before, istanbul, editor, second_reviewer, platform
):
    manual = make_channel(post=istanbul, platform="facebook")
    publication = _approved(istanbul, editor, second_reviewer, channels=[manual])
    week_before.move_to(EVENT_AT + timedelta(minutes=1), tick=False)
    engine.publish_due()
    delivery = Delivery.objects.get(publication=publication)
    assert delivery.status == DeliveryStatus.PENDING  # waiting for someone to post it by hand
    week_before.move_to(EVENT_AT + timedelta(minutes=36), tick=False)
    Channel.objects.filter(pk=manual.pk).update(connector="webhook", endpoint="https://hooks.example/in")
    # The claim itself refuses it, whether or not the sweep ran first.
    assert engine.deliver(delivery.pk) == "skipped"
    engine.publish_due()
    delivery.refresh_from_db()
    assert platform.calls == []
    assert delivery.status == DeliveryStatus.FAILED
    assert "36 min past its time" in delivery.error
    assert delivery.error.endswith("the publishing service did not send it in time.")
    assert Publication.objects.get(pk=publication.pk).status == S.MISSED


def test_a_failed_delivery_waiting_for_its_back_off_is_not_sent_after_the_limit(
    week_before, istanbul, editor, second_reviewer, platform
):
    publication = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    week_before.move_to(EVENT_AT, tick=False)
    platform.refuse = True
    engine.publish_due()
    delivery = Delivery.objects.get(publication=publication)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)
    platform.refuse = False
    week_before.move_to(EVENT_AT + LATENESS + timedelta(minutes=1), tick=False)
    engine.publish_due()
    delivery.refresh_from_db()
    assert len(platform.calls) == 1  # the first try only
    assert delivery.status == DeliveryStatus.FAILED
    assert "the platform refused it until then (HTTP 503: the platform is busy.)" in delivery.error
    assert Publication.objects.get(pk=publication.pk).status == S.MISSED


def test_a_publication_delivered_on_one_channel_and_late_on_another_fails_not_missed(
    week_before, istanbul, editor, second_reviewer, monkeypatch
):
    good, busy = _api_channel(istanbul, "facebook"), _api_channel(istanbul, "x")

    def publish(delivery, part, reply_to):
        if delivery.channel_id == busy.pk:
            raise SurelyFailed("HTTP 503")
        return Published(post_id="1", url="https://social.example/1")

    monkeypatch.setattr(engine, "connector_for", lambda name: SimpleNamespace(publish=publish))
    publication = _approved(istanbul, editor, second_reviewer, channels=[good, busy])
    week_before.move_to(EVENT_AT, tick=False)
    engine.publish_due()
    week_before.move_to(EVENT_AT + timedelta(hours=1), tick=False)
    engine.publish_due()
    publication.refresh_from_db()
    # It is on one channel: not "missed", it failed on the other, as failures settle.
    assert publication.status == S.FAILED
    assert Delivery.objects.get(channel=good).status == DeliveryStatus.DELIVERED
    late = Delivery.objects.get(channel=busy)
    assert late.status == DeliveryStatus.FAILED and late.error.startswith("Not sent: 1 h 0 min past its time")
    assert publication.events.filter(verb="delivery_failed_late").count() == 1
    # Sending it again cannot send it late: refused with the reason, not offered.
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.retry(editor, publication)
    from calendar_app import permissions

    assert "retry" not in permissions.allowed_actions(editor, publication)


def test_an_unknown_or_claimed_delivery_is_left_alone_and_only_the_waiting_one_fails(
    week_before, istanbul, editor, second_reviewer, platform
):
    channels = [_api_channel(istanbul, name) for name in ("x", "facebook", "bluesky")]
    publication = _approved(istanbul, editor, second_reviewer, channels=channels)
    unknown, claimed, waiting = (
        Delivery.objects.create(publication=publication, channel=channels[0], status="unknown"),
        Delivery.objects.create(publication=publication, channel=channels[1], claimed_at=EVENT_AT),
        Delivery.objects.create(publication=publication, channel=channels[2]),
    )
    week_before.move_to(EVENT_AT + timedelta(hours=2), tick=False)
    assert workflow.miss_late_publications() == 0
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {unknown.pk: "unknown", claimed.pk: "pending", waiting.pk: "failed"}
    # It may be live on a channel: never "missed".
    assert Publication.objects.get(pk=publication.pk).status != S.MISSED


def test_a_held_publication_is_left_to_its_crisis(
    week_before, istanbul, editor, second_reviewer, reviewer, platform
):
    publication = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    week_before.move_to(EVENT_AT + timedelta(hours=2), tick=False)
    assert workflow.miss_late_publications() == 0
    publication.refresh_from_db()
    assert (publication.status, publication.held_by) == (S.APPROVED, crisis)
    workflow.end_crisis(reviewer, crisis)
    publication.refresh_from_db()
    assert (publication.status, publication.missed_in) == (S.MISSED, crisis)


@pytest.mark.parametrize("change", ["rescheduled", "held"])
def test_a_reschedule_or_a_hold_committed_after_the_sweep_read_its_list_is_not_overwritten(
    week_before, istanbul, editor, second_reviewer, reviewer, platform, monkeypatch, change
):
    """The sweep reads the late list, then decides each publication: what committed in
    between (a new time, a crisis hold) wins; the publication is not marked missed."""
    from calendar_app.models import Crisis
    from calendar_app.workflow import deliveries

    publication = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    week_before.move_to(EVENT_AT + timedelta(hours=2), tick=False)
    later = timezone.now() + timedelta(days=1)
    real_reason = deliveries.lateness_reason

    def reason_after_a_change(*args: object, **kwargs: object) -> str:
        # Committed by someone else after the list was read, before the sweep's move.
        if change == "rescheduled":
            Publication.objects.filter(pk=publication.pk).update(scheduled_at=later)
        else:
            crisis = Crisis.objects.create(title="Coup", reason="Reports.", declared_by=reviewer)
            Publication.objects.filter(pk=publication.pk).update(held_by=crisis)
        return real_reason(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deliveries, "lateness_reason", reason_after_a_change)
    assert workflow.miss_late_publications() == 0
    publication.refresh_from_db()
    assert publication.status == S.APPROVED
    assert not publication.events.filter(verb="missed_late").exists()
    assert not Notification.objects.filter(verb="missed").exists()


def test_one_publication_failing_in_the_sweep_stops_neither_the_others_nor_the_sending(
    week_before, istanbul, editor, second_reviewer, platform, monkeypatch, caplog
):
    from calendar_app.workflow import deliveries

    broken = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    late = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul, "facebook")])
    due = _approved(
        istanbul,
        editor,
        second_reviewer,
        channels=[_api_channel(istanbul, "bluesky")],
        at=EVENT_AT + timedelta(hours=2),
    )
    week_before.move_to(EVENT_AT + timedelta(hours=2), tick=False)
    real_reason = deliveries.lateness_reason

    def reason(publication: Publication, *args: object, **kwargs: object) -> str:
        if publication.pk == broken.pk:
            raise RuntimeError("a bug in one publication's data")
        return real_reason(publication, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deliveries, "lateness_reason", reason)
    engine.publish_due()
    assert Publication.objects.get(pk=broken.pk).status == S.APPROVED  # left for the next pass
    assert Publication.objects.get(pk=late.pk).status == S.MISSED
    assert Publication.objects.get(pk=due.pk).status == S.PUBLISHED  # the sending still went
    assert f"Could not mark late publication {broken.pk} missed" in caplog.text


def test_an_unknown_delivery_of_a_publication_failed_meanwhile_is_still_recorded(
    week_before, istanbul, editor, second_reviewer, platform
):
    """Channel A's outcome is unknown, B waited; the sweep fails B, the publication settles
    failed. The person who finds A live records it: a fact, nothing is sent."""
    first, second = _api_channel(istanbul, "x"), _api_channel(istanbul, "facebook")
    publication = _approved(istanbul, editor, second_reviewer, channels=[first, second])
    unknown = Delivery.objects.create(publication=publication, channel=first, status="unknown")
    waiting = Delivery.objects.create(publication=publication, channel=second)
    week_before.move_to(EVENT_AT + timedelta(hours=2), tick=False)
    workflow.miss_late_publications()
    assert Delivery.objects.get(pk=waiting.pk).status == DeliveryStatus.FAILED
    assert Publication.objects.get(pk=publication.pk).status == S.FAILED
    workflow.record_delivery(editor, Delivery.objects.get(pk=unknown.pk), "https://x.example/be/1")
    recorded = Delivery.objects.get(pk=unknown.pk)
    assert (recorded.status, recorded.url) == (DeliveryStatus.DELIVERED, "https://x.example/be/1")
    # It settles as the rules say: failed, B did fail. Nothing was sent.
    assert Publication.objects.get(pk=publication.pk).status == S.FAILED
    assert platform.calls == []
    assert publication.events.filter(verb="delivery_recorded").count() == 1


def test_the_page_of_a_failed_publication_offers_to_record_its_unknown_delivery(
    client, week_before, istanbul, editor, second_reviewer, platform
):
    first, second = _api_channel(istanbul, "x"), _api_channel(istanbul, "facebook")
    publication = _approved(istanbul, editor, second_reviewer, channels=[first, second])
    unknown = Delivery.objects.create(publication=publication, channel=first, status="unknown")
    Delivery.objects.create(publication=publication, channel=second)
    week_before.move_to(EVENT_AT + timedelta(hours=2), tick=False)
    workflow.miss_late_publications()
    assert Publication.objects.get(pk=publication.pk).status == S.FAILED
    client.force_login(editor)
    page = client.get(reverse("publication_detail", args=[publication.pk])).content.decode()
    assert reverse("delivery_record", args=[unknown.pk]) in page
    # The late one that failed is not offered: nothing is posted late.
    failed = Delivery.objects.get(publication=publication, channel=second)
    assert reverse("delivery_record", args=[failed.pk]) not in page


def test_an_unknown_delivery_of_a_cancelled_publication_is_not_recorded(
    week_before, istanbul, editor, second_reviewer, platform
):
    channel = _api_channel(istanbul)
    publication = _approved(istanbul, editor, second_reviewer, channels=[channel])
    unknown = Delivery.objects.create(publication=publication, channel=channel, status="unknown")
    workflow.cancel(editor, Publication.objects.get(pk=publication.pk))
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.record_delivery(editor, Delivery.objects.get(pk=unknown.pk), "https://x.example/be/1")
    assert Delivery.objects.get(pk=unknown.pk).status == DeliveryStatus.UNKNOWN


# --- Moves from missed -----------------------------------------------------------------------


@pytest.fixture
def missed(week_before, istanbul, editor, second_reviewer, platform):
    """Refused by its platform at its time, then not sent again within the limit."""
    publication = _approved(istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)])
    week_before.move_to(EVENT_AT, tick=False)
    platform.refuse = True
    engine.publish_due()
    week_before.move_to(EVENT_AT + timedelta(hours=3), tick=False)
    engine.publish_due()
    platform.refuse = False
    publication = Publication.objects.get(pk=publication.pk)
    assert publication.status == S.MISSED
    assert Delivery.objects.get(publication=publication).status == DeliveryStatus.FAILED
    return publication


@pytest.fixture
def people(editor, manager, ankara, reviewer, partner_user):
    return {
        "editor": editor,
        "manager": manager,
        "foreign_editor": make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara),
        "central": reviewer,
        "partner": partner_user,
    }


#: role → what rescheduling a missed publication gives.
RESCHEDULE = {
    "editor": S.IN_REVIEW,  # its post moves it: the approval covered the old time
    "manager": S.IN_REVIEW,
    "foreign_editor": PermissionDenied,
    "central": S.APPROVED,  # central moves it: approved again at the new time
    "partner": PermissionDenied,
}


@pytest.mark.parametrize("role", RESCHEDULE)
def test_who_may_reschedule_a_missed_publication_and_what_it_becomes(role, missed, people, istanbul):
    actor = people[role]
    new = (timezone.now() + timedelta(days=2)).astimezone(istanbul.zone)
    events = missed.events.count()
    if RESCHEDULE[role] is PermissionDenied:
        with pytest.raises(PermissionDenied):
            workflow.reschedule_missed(actor, missed, local_date=new.date(), local_time=time(10, 0))
        assert Publication.objects.get(pk=missed.pk).status == S.MISSED
        assert missed.events.count() == events
        return
    workflow.reschedule_missed(actor, missed, local_date=new.date(), local_time=time(10, 0))
    row = Publication.objects.get(pk=missed.pk)
    assert (row.status, row.local_date, row.local_time) == (RESCHEDULE[role], new.date(), time(10, 0))
    event = row.events.get(verb="rescheduled_after_missed")
    assert (event.from_status, event.to_status, event.actor) == (S.MISSED, RESCHEDULE[role], actor)
    # The delivery the lateness failed waits again, for the new time.
    delivery = Delivery.objects.get(publication=row)
    assert (delivery.status, delivery.error) == (DeliveryStatus.PENDING, "")


@pytest.mark.parametrize("status", [s for s in S.values if s != S.MISSED])
def test_only_a_missed_publication_takes_the_missed_reschedule(status, istanbul, editor, reviewer):
    publication = make_publication(post=istanbul, author=editor, status=status)
    with pytest.raises(PermissionDenied):
        workflow.reschedule_missed(
            reviewer, publication, local_date=publication.local_date, local_time=time(9)
        )


@pytest.mark.parametrize("status", S.values)
def test_only_an_approved_publication_becomes_missed(status, istanbul, editor, time_machine):
    publication = make_publication(post=istanbul, author=editor, status=status)
    time_machine.move_to(publication.scheduled_at + timedelta(days=1), tick=False)
    workflow.miss_late_publications()
    after = Publication.objects.get(pk=publication.pk).status
    assert after == (S.MISSED if status == S.APPROVED else status)


def test_a_missed_publication_is_not_given_a_time_gone_by(missed, reviewer, istanbul):
    yesterday = (timezone.now() - timedelta(days=1)).astimezone(istanbul.zone)
    with pytest.raises(ValidationError):
        workflow.reschedule_missed(reviewer, missed, local_date=yesterday.date(), local_time=time(10, 0))
    assert Publication.objects.get(pk=missed.pk).status == S.MISSED


def test_rescheduled_by_central_it_goes_out_at_its_new_time(
    missed, reviewer, istanbul, week_before, platform
):
    new = (timezone.now() + timedelta(days=1)).astimezone(istanbul.zone)
    workflow.reschedule_missed(reviewer, missed, local_date=new.date(), local_time=time(10, 0))
    week_before.move_to(Publication.objects.get(pk=missed.pk).scheduled_at + timedelta(minutes=1), tick=False)
    engine.publish_due()
    assert Publication.objects.get(pk=missed.pk).status == S.PUBLISHED
    assert len(platform.calls) == 2  # refused at its first time, sent at its new one


def test_a_missed_publication_is_cancelled_but_not_edited_or_sent_again(missed, editor):
    from calendar_app import permissions

    actions = permissions.allowed_actions(editor, missed)
    assert {"reschedule", "cancel"} <= actions
    assert not {"edit", "retry", "withdraw", "submit", "record_delivery"} & actions
    workflow.cancel(editor, missed, comment="The event is over.")
    assert Publication.objects.get(pk=missed.pk).status == S.CANCELLED


# --- Pages -----------------------------------------------------------------------------------


def test_the_page_of_a_missed_publication_says_why_and_offers_a_reschedule_in_the_posts_zone(
    client, missed, editor
):
    client.force_login(editor)
    page = client.get(reverse("publication_detail", args=[missed.pk])).content.decode()
    assert "⌛</span> Missed" in page
    assert "Not sent: 3 h 0 min past its time" in page
    assert 'id="reschedule-heading">Reschedule</summary>' in page  # its fold open: see the page's test
    assert "in Istanbul (UTC+3)" in page
    assert "sends it back to review" in page
    assert "Record as published" not in page


def test_rescheduling_from_the_page_sends_it_back_to_review(client, missed, editor, istanbul):
    client.force_login(editor)
    new = (timezone.now() + timedelta(days=2)).astimezone(istanbul.zone).date()
    address = reverse("publication_reschedule", args=[missed.pk])
    response = client.post(
        address, {"local_date": new.isoformat(), "local_time": "10:00", "revision": missed.revision}
    )
    assert response.status_code == 302
    assert Publication.objects.get(pk=missed.pk).status == S.IN_REVIEW


def test_a_time_gone_by_or_nonsense_from_the_page_changes_nothing(client, missed, editor):
    client.force_login(editor)
    address = reverse("publication_reschedule", args=[missed.pk])
    for data in ({"local_date": "2026-01-01", "local_time": "10:00"}, {"local_date": "soon"}):
        response = client.post(address, data, HTTP_ACCEPT="application/json")
        assert response.status_code == 400
    assert Publication.objects.get(pk=missed.pk).status == S.MISSED


def test_another_post_and_a_partner_cannot_reschedule_it_from_the_page(client, missed, people):
    address = reverse("publication_reschedule", args=[missed.pk])
    data = {"local_date": "2027-01-10", "local_time": "10:00"}
    client.force_login(people["foreign_editor"])
    assert client.post(address, data).status_code == 404  # a post's missed publication is its own
    client.force_login(people["partner"])
    assert client.post(address, data).status_code == 403
    assert Publication.objects.get(pk=missed.pk).status == S.MISSED


@pytest.mark.parametrize("view", ["agenda", "month"])
def test_the_calendar_shows_missed_with_its_icon_and_filters_it(client, missed, editor, view):
    client.force_login(editor)
    day = missed.local_date.isoformat()
    page = client.get(reverse("calendar"), {"view": view, "date": day}).content.decode()
    assert missed.title in page and "⌛</span> Missed" in page
    only = client.get(reverse("calendar"), {"view": view, "date": day, "status": "missed"}).content.decode()
    assert missed.title in only
    none = client.get(reverse("calendar"), {"view": view, "date": day, "status": "approved"}).content.decode()
    assert missed.title not in none


def test_the_calendar_export_and_the_posts_home_list_it(client, missed, editor):
    client.force_login(editor)
    csv = b"".join(
        client.get(
            reverse("calendar"), {"view": "agenda", "date": missed.local_date.isoformat(), "format": "csv"}
        )
    ).decode()
    assert f"{missed.pk},{missed.post.code}" in csv and ",missed," in csv
    home = client.get(reverse("home")).content.decode()
    assert "Missed: give a new time or cancel" in home
    assert home.count(missed.title) >= 1


def test_the_history_reads_the_reason_for_a_person(client, missed, editor):
    client.force_login(editor)
    page = client.get(reverse("publication_detail", args=[missed.pk])).content.decode()
    assert "It did not go out in time: it is to be rescheduled" in page
    assert PublicationEvent.objects.filter(publication=missed, verb="missed_late").count() == 1


def test_the_post_is_emailed_why_it_missed_its_time(
    week_before, istanbul, editor, second_reviewer, platform, django_capture_on_commit_callbacks, mailoutbox
):
    publication = _approved(
        istanbul, editor, second_reviewer, channels=[_api_channel(istanbul)], title="Open day"
    )
    mailoutbox.clear()
    week_before.move_to(EVENT_AT + timedelta(hours=1), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        engine.publish_due()
    mail = next(m for m in mailoutbox if m.to == [editor.email])
    assert "“Open day” did not go out at its time and will not be sent late" in mail.body
    assert "Not sent: 1 h 0 min past its time" in mail.body
    assert Publication.objects.get(pk=publication.pk).status == S.MISSED
