"""A delivery that fails for good is reported to the post; the post sends the publication again."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Delivery, DeliveryStatus, Notification, Publication, PublicationStatus
from calendar_app.publishing import Published, SurelyFailed, engine
from tests.calendar_factories import make_publication
from tests.factories import make_channel


@pytest.fixture
def platform(monkeypatch):
    """A connector that refuses while `refuse` is set, else publishes (no network)."""
    state = SimpleNamespace(refuse=True, calls=[])

    def publish(delivery, part, reply_to):
        state.calls.append(delivery.channel_id)
        if state.refuse and delivery.channel.platform == "x":
            raise SurelyFailed("HTTP 401: the channel's credentials were refused.")
        return Published(post_id=str(delivery.pk), url=f"https://social.example/{delivery.pk}")

    monkeypatch.setattr(engine, "connector_for", lambda name: SimpleNamespace(publish=publish))
    return state


@pytest.fixture
def failed(editor, reviewer, istanbul, platform):
    channels = []
    for name in ("facebook", "x"):
        channel = make_channel(post=istanbul, platform=name)
        channel.connector, channel.endpoint = "webhook", "https://hooks.example/in"
        channel.save()
        channels.append(channel)
    publication = make_publication(
        post=istanbul,
        author=editor,
        local_date=(timezone.now() + timedelta(days=3)).date(),
        channels=channels,
        variants={"nl": "Tekst.", "fr": "Texte.", "en": "Text.", "tr": "Metin."},
    )
    workflow.submit(editor, publication)
    publication = Publication.objects.get(pk=publication.pk)
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    for _ in range(engine.MAX_ATTEMPTS):
        engine.publish_due()
        Delivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())
    return Publication.objects.get(pk=publication.pk)


def test_a_delivery_failing_for_good_fails_the_publication_and_tells_the_post_why(manager, editor, failed):
    assert failed.status == PublicationStatus.FAILED
    told = Notification.objects.filter(verb="delivery_failed", publication=failed)
    assert {n.recipient for n in told} >= {editor, manager}
    assert "credentials were refused" in told.first().comment


def test_sending_a_failed_publication_again_retries_only_the_failed_channel(failed, editor, platform):
    delivered_before = Delivery.objects.get(publication=failed, channel__platform="facebook")
    platform.refuse = False
    platform.calls.clear()
    workflow.retry(editor, failed)
    assert Publication.objects.get(pk=failed.pk).status == PublicationStatus.APPROVED
    engine.publish_due()
    assert Publication.objects.get(pk=failed.pk).status == PublicationStatus.PUBLISHED
    x = Delivery.objects.get(publication=failed, channel__platform="x")
    assert platform.calls == [x.channel_id]  # facebook is not posted twice
    assert Delivery.objects.get(pk=delivered_before.pk).delivered_at == delivered_before.delivered_at


def test_only_the_posts_staff_and_central_send_it_again(failed, partner_user, client):
    with pytest.raises(PermissionDenied):
        workflow.retry(partner_user, failed)
    client.force_login(partner_user)
    assert client.post(f"/publications/{failed.pk}/retry/").status_code in (403, 404)
    assert Publication.objects.get(pk=failed.pk).status == PublicationStatus.FAILED
