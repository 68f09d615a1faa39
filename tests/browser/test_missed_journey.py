"""A publication that missed its time, rescheduled from its page.

The task worker was down: an approved open-day announcement of the Istanbul consulate is
two hours past its time when the publishing job runs again. It is not sent late but
marked missed, and the editor hears of it. From the home page's "Missed" list the editor
opens it, reads why it did not go out, gives it a new time in the post's zone (named on
the form), and it goes back to review. Every page passes the accessibility check.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app import workflow
from calendar_app.models import Notification, Publication, PublicationStatus
from calendar_app.publishing import engine
from tests.calendar_factories import make_publication
from tests.factories import make_channel

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

TITLE = "Open day at the consulate"


@pytest.fixture
def missed(istanbul, editor, reviewer, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(
        engine,
        "connector_for",
        lambda name: SimpleNamespace(publish=lambda delivery, part, reply_to: calls.append(delivery.pk)),
    )
    channel = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    channel.connector, channel.endpoint = "webhook", "https://hooks.example/in"
    channel.save()
    publication = make_publication(
        post=istanbul,
        author=editor,
        title=TITLE,
        local_date=(timezone.now() + timedelta(days=3)).date(),
        channels=[channel],
        variants={"nl": "Open dag.", "fr": "Portes ouvertes.", "en": "Open day.", "tr": "Açık gün."},
    )
    workflow.submit(editor, publication)
    workflow.approve(
        reviewer, Publication.objects.get(pk=publication.pk), expected_revision=publication.revision
    )
    # Its time came two hours ago, while the task worker was down.
    passed = (timezone.now() - timedelta(hours=2)).replace(second=0, microsecond=0)
    local = passed.astimezone(istanbul.zone)
    Publication.objects.filter(pk=publication.pk).update(
        scheduled_at=passed, local_date=local.date(), local_time=local.time()
    )
    engine.publish_due()  # the worker is back
    publication = Publication.objects.get(pk=publication.pk)
    assert publication.status == PublicationStatus.MISSED
    assert calls == []  # not sent late
    return publication


def test_the_editor_reschedules_a_missed_publication_from_its_page(new_visitor, missed, editor, istanbul):
    assert Notification.objects.filter(verb="missed", recipient=editor, publication=missed).exists()
    writer = new_visitor()
    writer.log_in(editor.email)
    writer.goto("/")
    missed_list = writer.page.locator("section", has=writer.page.locator("#missed-heading"))
    expect(missed_list).to_contain_text(TITLE)
    with writer.page.expect_navigation():
        missed_list.get_by_role("link", name=TITLE).click()
    writer.audit()
    assert writer.path == f"/publications/{missed.pk}/"
    expect(writer.page.locator("dl.facts")).to_contain_text("Missed")
    expect(writer.page.locator(".missed-note")).to_contain_text("Not sent: 2 h 0 min past its time")
    form = writer.page.locator("section", has=writer.page.locator("#reschedule-heading"))
    expect(form).to_contain_text("in Istanbul (UTC+3)")

    # A moment gone by is refused, nothing changes.
    yesterday = (timezone.now() - timedelta(days=1)).astimezone(istanbul.zone).date()
    form.get_by_label("New date").fill(yesterday.isoformat())
    form.get_by_label("New time").fill("10:00")
    with writer.page.expect_navigation():
        form.get_by_role("button", name="Reschedule").click()
    writer.audit()
    expect(writer.page.get_by_role("status")).to_contain_text(
        "This time has already passed in Istanbul (UTC+3)"
    )
    assert Publication.objects.get(pk=missed.pk).status == PublicationStatus.MISSED

    new_day = (timezone.now() + timedelta(days=2)).astimezone(istanbul.zone).date()
    form = writer.page.locator("section", has=writer.page.locator("#reschedule-heading"))
    form.get_by_label("New date").fill(new_day.isoformat())
    form.get_by_label("New time").fill("10:00")
    with writer.page.expect_navigation():
        form.get_by_role("button", name="Reschedule").click()
    writer.audit()
    expect(writer.page.get_by_text("It goes back to review.")).to_be_visible()
    expect(writer.page.locator("dl.facts")).to_contain_text("In review")
    row = Publication.objects.get(pk=missed.pk)
    assert (row.status, row.local_date.isoformat(), row.local_time.strftime("%H:%M")) == (
        PublicationStatus.IN_REVIEW,
        new_day.isoformat(),
        "10:00",
    )
