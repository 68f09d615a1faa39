"""The publishing engine: deliveries claimed once, outcomes recorded, the approved text sent."""

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Delivery, DeliveryStatus, Publication, PublicationStatus
from calendar_app.publishing import engine
from tests.calendar_factories import make_publication
from tests.factories import make_channel


class FakeWebhook:
    """A receiver on loopback that answers as told and remembers what it got."""

    def __init__(self) -> None:
        self.received: list[tuple[dict, dict]] = []
        self.status = 200
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.received.append((dict(self.headers), json.loads(body)))
                fake.bodies.append(body)
                time.sleep(fake.delay)
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(
                    json.dumps({"id": "post-42", "url": "https://social.example/post-42"}).encode()
                )

            def log_message(self, *args) -> None:
                pass

        self.bodies: list[bytes] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        # A short poll interval: `shutdown()` waits for it at the end of every test.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    fake = FakeWebhook()
    yield fake
    fake.close()


@pytest.fixture
def approved(editor, reviewer, istanbul, webhook):
    """An approved publication, due now, on a webhook channel and a manual one."""
    hooked = make_channel(post=istanbul, platform="mastodon", handle="@belgium")
    hooked.connector, hooked.endpoint = "webhook", webhook.url
    hooked.save()
    manual = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    publication = make_publication(
        post=istanbul,
        author=editor,
        status="draft",
        local_date=(timezone.now() + timedelta(days=3)).date(),
        channels=[hooked, manual],
        variants={"en": "The approved text.", "nl": "De tekst.", "fr": "Le texte.", "tr": "Metin."},
    )
    workflow.submit(editor, publication)
    workflow.approve(
        reviewer, Publication.objects.get(pk=publication.pk), expected_revision=publication.revision
    )
    # Its time comes.
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(seconds=5))
    return Publication.objects.get(pk=publication.pk), hooked, manual


def test_a_due_publication_goes_to_the_webhook_once_with_the_approved_text_signed(
    approved, webhook, settings
):
    publication, hooked, _manual = approved
    # An edit of the row after approval is not what goes out.
    publication.variants.filter(language="en").update(text="Changed after approval.")
    engine.publish_due()
    engine.publish_due()  # a second run (a redelivered task) sends nothing twice
    assert len(webhook.received) == 1
    headers, body = webhook.received[0]
    # The channel publishes English only, in one post: nothing else is sent.
    assert body["part"] == {"number": 1, "of": 1, "languages": ["en"], "text": "The approved text."}
    assert (body["plan"], body["in_reply_to"], body["images"]) == ("combined", None, 0)
    assert "texts" not in body
    delivery = Delivery.objects.get(channel=hooked)
    assert headers["Idempotency-Key"] == delivery.idempotency_key
    expected = (
        "sha256="
        + hmac.new(settings.WEBHOOK_SIGNING_KEY.encode(), webhook.bodies[0], hashlib.sha256).hexdigest()
    )
    assert headers["X-Signature"] == expected
    assert (delivery.status, delivery.platform_post_id, delivery.url) == (
        "delivered",
        "post-42",
        "https://social.example/post-42",
    )


def test_the_publication_is_published_once_the_manual_channel_is_recorded(approved, editor, client):
    publication, _hooked, manual = approved
    engine.publish_due()
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.APPROVED
    client.force_login(editor)
    page = client.get(reverse("publish_now")).content.decode()
    assert "The approved text." in page
    delivery = Delivery.objects.get(channel=manual)
    response = client.post(
        reverse("delivery_record", args=[delivery.pk]), {"url": "https://facebook.com/p/1"}
    )
    assert response.status_code == 302
    publication.refresh_from_db()
    assert publication.status == PublicationStatus.PUBLISHED
    assert publication.events.filter(verb="published").count() == 1


def test_a_bad_live_address_is_refused_and_nothing_recorded(approved, editor, client):
    publication, _hooked, manual = approved
    engine.create_due_deliveries()
    delivery = Delivery.objects.get(channel=manual)
    client.force_login(editor)
    client.post(reverse("delivery_record", args=[delivery.pk]), {"url": "javascript:alert(1)"})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


def test_another_posts_staff_cannot_record_a_delivery(approved, client, ankara):
    from diplomacy.models import Role
    from tests.factories import make_user

    publication, _hooked, manual = approved
    engine.create_due_deliveries()
    delivery = Delivery.objects.get(channel=manual)
    client.force_login(make_user(role=Role.POST_EDITOR, post=ankara))
    assert (
        client.post(
            reverse("delivery_record", args=[delivery.pk]), {"url": "https://x.example/1"}
        ).status_code
        == 403
    )


def test_a_server_error_is_retried_later_and_fails_after_the_limit(approved, webhook):
    publication, hooked, _manual = approved
    webhook.status = 503
    engine.publish_due()
    delivery = Delivery.objects.get(channel=hooked)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at > timezone.now()
    for _ in range(engine.MAX_ATTEMPTS):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        engine.publish_due()
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert len(webhook.received) == engine.MAX_ATTEMPTS
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.FAILED


def test_no_answer_in_time_is_unknown_and_never_retried_blindly(approved, webhook, monkeypatch):
    from calendar_app.publishing import webhook as connector

    publication, hooked, _manual = approved
    monkeypatch.setattr(connector, "TIMEOUT_SECONDS", 0.3)
    webhook.delay = 1.0
    engine.publish_due()
    delivery = Delivery.objects.get(channel=hooked)
    assert delivery.status == "unknown"
    engine.publish_due()
    assert len(webhook.received) == 1


def test_a_person_checks_an_unknown_delivery_and_sends_it_again(
    approved, webhook, editor, client, monkeypatch
):
    from calendar_app.publishing import webhook as connector

    publication, hooked, _manual = approved
    monkeypatch.setattr(connector, "TIMEOUT_SECONDS", 0.3)
    webhook.delay = 1.0
    engine.publish_due()
    delivery = Delivery.objects.get(channel=hooked)
    client.force_login(editor)
    client.post(reverse("delivery_retry", args=[delivery.pk]))
    webhook.delay = 0
    engine.publish_due()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


def test_a_claim_left_by_a_dead_worker_becomes_unknown(approved):
    publication, hooked, _manual = approved
    engine.create_due_deliveries()
    Delivery.objects.filter(channel=hooked).update(claimed_at=timezone.now() - timedelta(hours=1))
    engine.publish_due()
    assert Delivery.objects.get(channel=hooked).status == "unknown"


def test_a_delivery_already_claimed_is_not_sent_again(approved, webhook):
    publication, hooked, _manual = approved
    engine.create_due_deliveries()
    delivery = Delivery.objects.get(channel=hooked)
    Delivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now())
    assert engine.deliver(delivery.pk) == "skipped"
    assert webhook.received == []


def test_a_delivery_made_before_central_moved_the_publication_later_waits_for_its_new_time(
    approved, reviewer, webhook, time_machine
):
    publication, hooked, _manual = approved
    engine.create_due_deliveries()
    later = timezone.now() + timedelta(days=2)
    workflow.reschedule_publication(
        reviewer, publication, local_date=later.date(), local_time=publication.local_time
    )
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.APPROVED
    assert engine.deliver(Delivery.objects.get(channel=hooked).pk) == "skipped"
    engine.publish_due()
    assert webhook.received == []
    # Its new time comes (and it goes out then, not later than MAX_LATENESS after).
    time_machine.move_to(Publication.objects.get(pk=publication.pk).scheduled_at + timedelta(minutes=1))
    engine.publish_due()
    assert len(webhook.received) == 1


def test_the_partner_sees_the_live_link_of_an_adopted_publication(approved, client, fit, partner_user):
    from tests.calendar_factories import make_proposal

    publication, hooked, manual = approved
    proposal = make_proposal(partner=fit)
    Publication.objects.filter(pk=publication.pk).update(proposal=proposal)
    engine.publish_due()
    client.force_login(partner_user)
    page = client.get(reverse("proposal_detail", args=[proposal.pk])).content.decode()
    assert "https://social.example/post-42" in page


def test_the_activity_report_counts_publications_delivered_on_time(approved, webhook, reviewer, client):
    from calendar_app import reports

    publication, _hooked, manual = approved
    engine.publish_due()
    delivery = Delivery.objects.get(channel=manual)
    workflow.record_delivery(reviewer, delivery, "https://facebook.example/1")
    start = timezone.now() - timedelta(days=7)
    assert reports.on_time_share([publication.post_id], start) == {
        "delivered": 1,
        "on_time": 1,
        "share": 100.0,
    }
    # Recorded an hour late: not on time.
    Delivery.objects.filter(pk=delivery.pk).update(delivered_at=publication.scheduled_at + timedelta(hours=1))
    assert reports.on_time_share([publication.post_id], start)["on_time"] == 0
    client.force_login(reviewer)
    page = client.get(reverse("activity")).content.decode()
    assert "Delivered on time" in page


def test_the_publication_page_offers_to_record_only_deliveries_awaiting_a_person(approved, editor, client):
    publication, hooked, manual = approved
    engine.publish_due()  # the webhook one is delivered, the manual one waits
    client.force_login(editor)
    page = client.get(publication.get_absolute_url()).content.decode()
    assert reverse("delivery_record", args=[Delivery.objects.get(channel=manual).pk]) in page
    assert reverse("delivery_record", args=[Delivery.objects.get(channel=hooked).pk]) not in page
