"""What goes out is what was checked: a channel whose languages or plan change after a
publication was checked can neither slip an unchecked post through approval nor be changed
under publications planned on it without the person being told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Publication, PublicationStatus
from calendar_app.workflow import DecisionRefused
from diplomacy.models import Channel
from tests.calendar_factories import make_publication
from tests.factories import make_channel

#: Each text fits X alone; Dutch, French and English in one post are 462 characters (limit
#: 280). The post's policy also asks for Turkish, which the X account does not publish.
LONG = {"nl": "n" * 176, "fr": "f" * 143, "en": "e" * 139, "tr": "t" * 120}
SHORT = {"nl": "Hallo", "fr": "Bonjour", "en": "Hello", "tr": "Merhaba"}


def x_channel(post, *, plan: str = "thread", languages: str = "nl,fr,en") -> Channel:
    channel = make_channel(post=post, platform="x", handle="@BelgiumInIstanbul", content_languages=languages)
    Channel.objects.filter(pk=channel.pk).update(language_plan=plan)
    channel.refresh_from_db()
    return channel


def submitted(post, editor, channel: Channel, texts: dict[str, str] = LONG) -> Publication:
    publication = make_publication(
        post=post,
        author=editor,
        title="Flemish cleantech mission",
        local_date=(timezone.now() + timedelta(days=5)).date(),
        channels=[channel],
        variants=texts,
    )
    workflow.submit(editor, publication)
    return Publication.objects.get(pk=publication.pk)


def test_a_publication_whose_channel_became_one_combined_post_after_submission_is_not_approved(
    istanbul, editor, reviewer
):
    channel = x_channel(istanbul)
    publication = submitted(istanbul, editor, channel)
    Channel.objects.filter(pk=channel.pk).update(language_plan="combined")

    with pytest.raises(DecisionRefused) as refused:
        workflow.approve(reviewer, publication, expected_revision=1)

    assert "X @BelgiumInIstanbul: the combined post is 462 characters" in str(refused.value)
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.IN_REVIEW


def test_a_publication_whose_channels_did_not_change_is_approved(istanbul, editor, reviewer):
    publication = submitted(istanbul, editor, x_channel(istanbul))

    workflow.approve(reviewer, publication, expected_revision=1)

    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.APPROVED


def test_a_channel_left_with_nothing_to_send_is_refused_at_approval_too(istanbul, editor, reviewer):
    channel = x_channel(istanbul)
    publication = submitted(istanbul, editor, channel)
    Channel.objects.filter(pk=channel.pk).update(content_languages="de")

    with pytest.raises(DecisionRefused) as refused:
        workflow.approve(reviewer, publication, expected_revision=1)

    assert "X @BelgiumInIstanbul publishes in German" in str(refused.value)


def channel_form(channel: Channel, **changes: str) -> dict[str, str | int]:
    data: dict[str, str | int] = {
        "platform": channel.platform,
        "handle": channel.handle,
        "content_languages": channel.content_languages,
        "language_plan": channel.language_plan,
        "separator": channel.separator,
        "weekly_target": channel.weekly_target,
        "active": "on",
        "connector": "manual",
    }
    data.update(changes)
    return data


def test_a_channel_cannot_become_a_combined_post_that_a_planned_publication_would_not_fit(
    client, istanbul, editor, reviewer, manager
):
    channel = x_channel(istanbul)
    publication = submitted(istanbul, editor, channel)
    workflow.approve(reviewer, publication, expected_revision=1)
    client.force_login(manager)

    response = client.post(
        reverse("channel_edit", args=[channel.pk]), channel_form(channel, language_plan="combined")
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "publications planned on this channel would not go out as they were checked" in page
    assert "Flemish cleantech mission" in page
    assert "462 characters; the limit is 280 (182 too many)" in page
    channel.refresh_from_db()
    assert channel.language_plan == "thread"


def test_a_channel_cannot_move_to_a_language_its_planned_publications_lack(client, istanbul, editor, manager):
    channel = x_channel(istanbul)
    submitted(istanbul, editor, channel, SHORT)
    client.force_login(manager)

    response = client.post(
        reverse("channel_edit", args=[channel.pk]), channel_form(channel, content_languages="de")
    )

    assert response.status_code == 400
    assert "nothing to send in this channel" in response.content.decode()
    channel.refresh_from_db()
    assert channel.content_languages == "nl,fr,en"


def test_language_settings_under_which_every_planned_publication_still_fits_are_saved(
    client, istanbul, editor, manager
):
    channel = x_channel(istanbul)
    submitted(istanbul, editor, channel, SHORT)
    client.force_login(manager)

    response = client.post(
        reverse("channel_edit", args=[channel.pk]), channel_form(channel, language_plan="combined")
    )

    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.language_plan == "combined"


def test_a_publication_already_sent_to_the_channel_does_not_hold_its_settings(
    client, istanbul, editor, reviewer, manager
):
    from calendar_app.models import Delivery

    channel = x_channel(istanbul)
    publication = submitted(istanbul, editor, channel)
    workflow.approve(reviewer, publication, expected_revision=1)
    Delivery.objects.create(publication=publication, channel=channel, status="delivered")
    client.force_login(manager)

    response = client.post(
        reverse("channel_edit", args=[channel.pk]), channel_form(channel, language_plan="combined")
    )

    assert response.status_code == 302


def test_an_approved_publication_whose_time_came_but_not_yet_sent_holds_its_channels_settings(
    client, istanbul, editor, reviewer, manager
):
    channel = x_channel(istanbul)
    publication = submitted(istanbul, editor, channel)
    workflow.approve(reviewer, publication, expected_revision=1)
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(minutes=1))
    client.force_login(manager)

    response = client.post(
        reverse("channel_edit", args=[channel.pk]), channel_form(channel, language_plan="combined")
    )

    assert response.status_code == 400


def test_an_import_that_would_make_a_planned_publication_too_long_is_refused_on_its_line(
    istanbul, editor, reviewer
):
    from diplomacy.importing import import_network_file

    channel = x_channel(istanbul)
    workflow.approve(reviewer, submitted(istanbul, editor, channel), expected_revision=1)
    rows = "post_code,platform,handle,language_plan\nbe-cg-istanbul,x,@BelgiumInIstanbul,combined\n"

    report = import_network_file(rows.encode())

    assert not report.ok
    assert [error.line for error in report.errors] == [2]
    assert "would not go out as it was checked" in report.errors[0].message
    assert "462 characters" in report.errors[0].message
    channel.refresh_from_db()
    assert channel.language_plan == "thread"
