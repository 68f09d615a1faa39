"""A delivery whose outcome is unknown gets a person: its publication reads "Needs a check"
(not "Approved") wherever it is listed, the post and the reviewers on call are told once,
and the pages say whether the request reached the platform and what the platform said."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app import notifications, workflow
from calendar_app.models import Delivery, DeliveryPart, Notification, Publication, PublicationStatus
from calendar_app.publishing import engine
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_user


def _unknown(
    post, author, *, request_sent: bool | None = None, platform_said: str = "", title: str = ""
) -> Delivery:
    """An approved publication due a minute ago whose webhook delivery's outcome is unknown."""
    channel = make_channel(post=post, platform="mastodon", handle=f"@be{Delivery.objects.count()}")
    channel.connector, channel.endpoint = "webhook", "https://hooks.example/in"
    channel.save()
    publication = make_publication(
        post=post, author=author, status=PublicationStatus.APPROVED, channels=[channel], title=title or None
    )
    due = (timezone.now() - timedelta(minutes=1)).replace(second=0, microsecond=0)
    local = due.astimezone(post.zone)
    Publication.objects.filter(pk=publication.pk).update(
        scheduled_at=due, local_date=local.date(), local_time=local.time()
    )
    delivery = Delivery.objects.create(
        publication=Publication.objects.get(pk=publication.pk),
        channel=channel,
        status="unknown",
        error="No answer within 10 seconds.",
        request_sent=request_sent,
        platform_said=platform_said,
    )
    DeliveryPart.objects.create(delivery=delivery, number=1, languages="en", text="Hello.", status="unknown")
    return delivery


@pytest.fixture
def on_call(reviewer):
    notifications.set_on_call(reviewer, True)
    return reviewer


# --- The sweep ---------------------------------------------------------------------------------


def test_the_post_and_the_reviewers_on_call_are_told_once_per_unknown_delivery(
    istanbul, editor, manager, on_call, second_reviewer
):
    delivery = _unknown(istanbul, editor, request_sent=True, platform_said="HTTP 504: gateway time-out")
    assert workflow.report_unknown_deliveries() == 1
    assert workflow.report_unknown_deliveries() == 0  # run twice: told once
    told = Notification.objects.filter(verb="delivery_unknown", publication=delivery.publication)
    # The second reviewer is not on call: the on-call one hears, the others do not.
    assert sorted(told.values_list("recipient", flat=True)) == sorted([editor.pk, manager.pk, on_call.pk])
    comment = told.first().comment
    assert "The whole request reached the platform" in comment
    assert "HTTP 504: gateway time-out" in comment
    assert delivery.publication.events.filter(verb="delivery_unknown").count() == 1


def test_nobody_on_call_means_every_central_reviewer_hears(istanbul, editor, reviewer, second_reviewer):
    delivery = _unknown(istanbul, editor)
    workflow.report_unknown_deliveries()
    told = set(
        Notification.objects.filter(verb="delivery_unknown", publication=delivery.publication).values_list(
            "recipient", flat=True
        )
    )
    assert {reviewer.pk, second_reviewer.pk, editor.pk} <= told


def test_a_delivery_sent_again_that_turns_unknown_again_is_reported_again(istanbul, editor, manager):
    delivery = _unknown(istanbul, editor)
    workflow.report_unknown_deliveries()
    workflow.retry_delivery(manager, delivery)
    assert workflow.report_unknown_deliveries() == 0  # pending now: nothing to report
    Delivery.objects.filter(pk=delivery.pk).update(status="unknown")
    assert workflow.report_unknown_deliveries() == 1
    assert Notification.objects.filter(verb="delivery_unknown", recipient=editor).count() == 2


def test_the_publishing_job_runs_the_sweep(istanbul, editor, monkeypatch):
    delivery = _unknown(istanbul, editor)
    monkeypatch.setattr(engine, "claim_due", lambda *args, **kwargs: [])  # nothing sent
    engine.publish_due()
    assert Notification.objects.filter(verb="delivery_unknown", publication=delivery.publication).exists()


def test_the_notification_reads_for_a_person(istanbul, editor):
    delivery = _unknown(istanbul, editor, title="Consular hours")
    workflow.report_unknown_deliveries()
    row = Notification.objects.filter(verb="delivery_unknown", recipient=editor).get()
    assert notifications.message(row) == (
        "Nobody knows whether “Consular hours” went out on a channel: "
        "look at the channel and say what you found."
    )
    assert delivery.publication_id == row.publication_id


# --- Pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("request_sent", "words"),
    [
        (True, "Sent in full: the platform received the whole request"),
        (False, "Not sent in full: the request did not fully leave"),
        (None, "Not known: nobody knows whether the request reached the platform"),
    ],
)
def test_the_publication_page_says_needs_a_check_and_what_is_known_of_the_request(
    client, istanbul, editor, request_sent, words
):
    delivery = _unknown(istanbul, editor, request_sent=request_sent, platform_said="HTTP 502: bad gateway")
    client.force_login(editor)
    page = client.get(reverse("publication_detail", args=[delivery.publication_id])).content.decode()
    assert "?</span> Needs a check</dd>" in page
    assert "✓</span> Approved" not in page
    assert words in page
    assert "HTTP 502: bad gateway" in page


def test_a_platform_that_said_nothing_is_said_so(client, istanbul, editor):
    delivery = _unknown(istanbul, editor)
    client.force_login(editor)
    page = client.get(reverse("publication_detail", args=[delivery.publication_id])).content.decode()
    assert "Nothing: no answer came." in page


def test_the_check_form_says_what_is_known_of_the_request(client, istanbul, editor):
    delivery = _unknown(istanbul, editor, request_sent=False, platform_said="connection reset")
    client.force_login(editor)
    response = client.post(reverse("delivery_continue", args=[delivery.pk]), {"url": "not an address"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Not sent in full" in page and "connection reset" in page
    publish_now = client.get(reverse("publish_now")).content.decode()
    assert "Not sent in full" in publish_now and "connection reset" in publish_now


@pytest.mark.parametrize("view", ["agenda", "month", "week"])
def test_the_calendar_shows_needs_a_check(client, istanbul, editor, view):
    delivery = _unknown(istanbul, editor, title="Consular hours")
    client.force_login(editor)
    day = Publication.objects.get(pk=delivery.publication_id).local_date.isoformat()
    page = client.get(reverse("calendar"), {"view": view, "date": day}).content.decode()
    assert "Consular hours" in page
    assert "Needs a check" in page
    assert delivery.publication.status == PublicationStatus.APPROVED


def test_centrals_home_lists_every_publication_needing_a_check(client, istanbul, ankara, editor, reviewer):
    _unknown(istanbul, editor, title="Istanbul check")
    ankara_editor = make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)
    _unknown(ankara, ankara_editor, title="Ankara check")
    client.force_login(reviewer)
    home = client.get(reverse("home")).content.decode()
    section = home.split('id="checks-heading"')[1].split("</section>")[0]
    assert "Istanbul check" in section and "Ankara check" in section
    assert "Needs a check" in section


def test_a_posts_home_lists_its_own_only(client, istanbul, ankara, editor):
    _unknown(istanbul, editor, title="Istanbul check")
    ankara_editor = make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)
    _unknown(ankara, ankara_editor, title="Ankara check")
    client.force_login(editor)
    home = client.get(reverse("home")).content.decode()
    section = home.split('id="own-checks-heading"')[1].split("</section>")[0]
    assert "Istanbul check" in section
    assert "Ankara check" not in home


def test_once_checked_the_home_list_forgets_it(client, istanbul, editor):
    delivery = _unknown(istanbul, editor, title="Istanbul check")
    client.force_login(editor)
    assert "Istanbul check" in client.get(reverse("home")).content.decode()
    workflow.record_delivery(editor, delivery, "https://social.example/@be/1")
    home = client.get(reverse("home")).content.decode()
    section = home.split('id="own-checks-heading"')[1].split("</section>")[0]
    assert "Istanbul check" not in section


def test_a_post_found_live_long_after_its_time_is_still_recorded(istanbul, editor, time_machine, settings):
    settings.MAX_LATENESS = timedelta(minutes=15)
    delivery = _unknown(istanbul, editor)
    time_machine.move_to(timezone.now() + timedelta(hours=2), tick=False)
    workflow.miss_late_publications()  # it may be live: never "missed"
    assert Publication.objects.get(pk=delivery.publication_id).status == PublicationStatus.APPROVED
    workflow.record_delivery(editor, delivery, "https://social.example/@be/1")
    assert Delivery.objects.get(pk=delivery.pk).status == "delivered"
    assert Publication.objects.get(pk=delivery.publication_id).status == PublicationStatus.PUBLISHED


def test_a_manual_delivery_past_the_limit_is_not_recorded_and_says_why(
    istanbul, editor, time_machine, settings
):
    settings.MAX_LATENESS = timedelta(minutes=15)
    channel = make_channel(post=istanbul, platform="facebook")
    publication = make_publication(
        post=istanbul, author=editor, status=PublicationStatus.APPROVED, channels=[channel]
    )
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(hours=1))
    delivery = Delivery.objects.create(publication=publication, channel=channel)
    with pytest.raises(workflow.TransitionNotAllowed, match="more than 15 min past: it is not posted late"):
        workflow.record_delivery(editor, delivery, "https://facebook.com/p/1")
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
