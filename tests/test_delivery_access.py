"""Who may record, continue or send again a delivery: the post's staff and central act; the
rest of the network, who see an approved publication, are refused (403); a delivery of a
publication they may not see answers as if it did not exist (404); anybody outside the
ministry is refused before anything is looked up."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Delivery, DeliveryPart, Publication, PublicationStatus
from diplomacy.models import Channel, Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_user

ACTIONS = ["delivery_retry", "delivery_record", "delivery_continue"]


@pytest.fixture
def other_editor(ankara):
    return make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)


def unknown_delivery(post, author, *, status: str = PublicationStatus.APPROVED) -> Delivery:
    """A webhook delivery of a publication due a minute ago whose outcome is unknown."""
    channel = make_channel(post=post, platform="mastodon")
    Channel.objects.filter(pk=channel.pk).update(connector="webhook", endpoint="https://hooks.example/in")
    publication = make_publication(post=post, author=author, status=status, channels=[channel])
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(minutes=1))
    delivery = Delivery.objects.create(
        publication=publication,
        channel=channel,
        status="unknown",
        error="No answer.",
        next_attempt_at=timezone.now() - timedelta(minutes=1),
    )
    DeliveryPart.objects.create(delivery=delivery, number=1, languages="en", text="Hello.", status="unknown")
    return delivery


def post(client, user, action: str, pk: int):
    if user is not None:
        client.force_login(user)
    return client.post(reverse(action, args=[pk]), {"url": "https://social.example/@be/1"})


@pytest.mark.parametrize("persona", ["editor", "manager", "reviewer"], indirect=True)
def test_the_posts_staff_and_central_send_an_unknown_delivery_again(client, istanbul, editor, persona):
    delivery = unknown_delivery(istanbul, editor)
    response = post(client, persona, "delivery_retry", delivery.pk)
    assert response.status_code == 302
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"


@pytest.mark.parametrize("action", ACTIONS)
def test_another_posts_staff_who_see_the_publication_are_refused(
    client, istanbul, editor, other_editor, action
):
    delivery = unknown_delivery(istanbul, editor)
    assert post(client, other_editor, action, delivery.pk).status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).status == "unknown"


@pytest.mark.parametrize("action", ACTIONS)
def test_a_delivery_of_a_publication_another_post_cannot_see_answers_as_if_it_did_not_exist(
    client, istanbul, editor, other_editor, action
):
    delivery = unknown_delivery(istanbul, editor, status=PublicationStatus.FAILED)
    missing = Delivery.objects.order_by("pk").last().pk + 1
    assert post(client, other_editor, action, delivery.pk).status_code == 404
    assert post(client, other_editor, action, missing).status_code == 404
    assert Delivery.objects.get(pk=delivery.pk).status == "unknown"


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("persona", ["partner_user", "outsider"], indirect=True)
def test_anybody_outside_the_ministry_is_refused_whether_the_delivery_exists_or_not(
    client, istanbul, editor, persona, action
):
    delivery = unknown_delivery(istanbul, editor)
    missing = Delivery.objects.order_by("pk").last().pk + 1
    assert post(client, persona, action, delivery.pk).status_code == 403
    assert post(client, persona, action, missing).status_code == 403
    assert Delivery.objects.get(pk=delivery.pk).status == "unknown"


def test_central_sends_again_a_delivery_of_a_failed_publication_it_sees(client, istanbul, editor, reviewer):
    delivery = unknown_delivery(istanbul, editor, status=PublicationStatus.FAILED)
    assert post(client, reviewer, "delivery_retry", delivery.pk).status_code == 302
    assert Delivery.objects.get(pk=delivery.pk).status == "pending"
