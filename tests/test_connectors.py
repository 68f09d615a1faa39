"""API connectors (Mastodon, Bluesky, Facebook, X, LinkedIn) against local fakes of their
documented APIs, the channel credentials they use (encrypted at rest, write-only in the
form), and the "Test connection" button. Nothing here leaves 127.0.0.1."""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.contrib.messages import get_messages
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from PIL import Image as PILImage

from calendar_app import images, sending, workflow
from calendar_app.models import Delivery, Publication
from calendar_app.publishing import (
    OutcomeUnknown,
    SurelyFailed,
    bluesky,
    connector_for,
    engine,
    facebook,
    http,
    linkedin,
    mastodon,
    parts,
)
from calendar_app.sending import Part
from calendar_app.views.publications import _store_asset
from diplomacy import credentials
from diplomacy.models import Channel
from tests.calendar_factories import make_publication
from tests.factories import make_channel
from tests.fake_platforms import CREDENTIALS, FAKES, GARBAGE, TID_RE, FakeBluesky, FakeFacebook, FakeLinkedIn

PLATFORMS = list(FAKES)
HANDLES = {
    "mastodon": "@belgium@diplo.social",
    "bluesky": "@belgium.bsky.social",
    "facebook": "@Belgium.Istanbul",
    "x": "@BelgiumInTR",
    "linkedin": "Belgium in Türkiye",
}
#: The route each fake answers a connection test on.
CHECK_ROUTE = {
    "mastodon": "check",
    "bluesky": "session",
    "facebook": "check",
    "x": "check",
    "linkedin": "check",
}
VARIANTS = {
    "en": "Belgium at the Istanbul fair: https://www.belgium.be/en (stand 12) #TeamBelgium",
    "fr": "La Belgique à la foire d’Istanbul, stand 12.",
    "nl": "België op de beurs van Istanbul, stand 12.",
    "tr": "Belçika İstanbul fuarında, stand 12.",
}


pytestmark = pytest.mark.usefixtures("platforms_on_loopback")


@pytest.fixture(autouse=True)
def _quick(monkeypatch):
    """Mastodon's media polling does not wait between polls against the fake."""
    monkeypatch.setattr(mastodon, "MEDIA_POLL_SECONDS", 0)


@pytest.fixture(params=PLATFORMS)
def platform(request) -> str:
    return request.param


@pytest.fixture
def fake(platform):
    server = FAKES[platform]()
    yield server
    server.close()


def store(channel: Channel, values: dict[str, str]) -> None:
    channel.set_credentials_token(
        credentials.encrypt({"connector": channel.connector, "endpoint": channel.endpoint, **values})
    )
    channel.save()


def make_api_channel(
    *,
    post,
    connector: str,
    endpoint: str,
    values: dict[str, str] | None = None,
    plan: str = "combined",
    languages: str = "en,fr,nl",
) -> Channel:
    channel = make_channel(
        post=post, platform=connector, handle=HANDLES[connector], content_languages=languages
    )
    channel.connector, channel.endpoint, channel.language_plan = connector, endpoint, plan
    store(channel, CREDENTIALS[connector] if values is None else values)
    return channel


@pytest.fixture
def channel(fake, istanbul) -> Channel:
    return make_api_channel(post=istanbul, connector=fake.name, endpoint=fake.url)


def make_photo(owner, post, alt: str = "The consulate's garden in spring"):
    buffer = io.BytesIO()
    PILImage.new("RGB", (1600, 900), (180, 40, 40)).save(buffer, "PNG")
    # Every language published needs a description (the alt-text guideline).
    return _store_asset(owner, post, images.clean_image(buffer.getvalue()), dict.fromkeys(VARIANTS, alt))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def due_delivery(channel: Channel, editor, reviewer, *, assets=()) -> Delivery:
    """An approved publication on `channel` whose time has come, and its delivery."""
    publication = make_publication(
        post=channel.post,
        author=editor,
        status="draft",
        local_date=(timezone.now() + timedelta(days=3)).date(),
        channels=[channel],
        variants=VARIANTS,
    )
    if assets:
        publication.assets.add(*assets)
    workflow.submit(editor, publication)
    workflow.approve(
        reviewer, Publication.objects.get(pk=publication.pk), expected_revision=publication.revision
    )
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(seconds=5))
    engine.create_due_deliveries()
    return Delivery.objects.select_related("publication__post", "channel").get(
        publication=publication, channel=channel
    )


def shown(delivery: Delivery) -> list[Part]:
    """The parts sending.for_channels shows for the delivery's channel (the approved texts)."""
    content = parts.approved_content(delivery.publication)
    assert content is not None
    [channel] = sending.for_channels(
        [delivery.channel], content.texts, content.overrides, images=content.images
    )
    return channel.parts


def post_text(delivery: Delivery) -> str:
    """The text of the one post the channel makes of the publication."""
    [part] = shown(delivery)
    return part.text


def first_part(delivery: Delivery) -> parts.OutgoingPart:
    """The delivery's first part as the engine hands it to a connector."""
    rows = parts.freeze(delivery)
    return parts.outgoing(rows[0], delivery.channel.platform, len(rows))


def deliver(delivery: Delivery) -> Delivery:
    engine.deliver(delivery.pk)
    return Delivery.objects.get(pk=delivery.pk)


def deliver_until_settled(delivery: Delivery) -> Delivery:
    """Try again (the back-off skipped) until the delivery is no longer pending."""
    for _ in range(engine.MAX_ATTEMPTS + 1):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        delivery = deliver(delivery)
        if delivery.status != "pending":
            break
    return delivery


def answer_with(fake, route: str, answer: tuple[int, dict[str, str], bytes]) -> None:
    status, answer_headers, body = answer
    fake.script(route, status, body, answer_headers)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Each platform, as documented ------------------------------------------------------


def test_mastodon_posts_one_status_with_the_first_language_and_the_idempotency_key(
    istanbul, editor, reviewer
):
    fake = FAKES["mastodon"]()
    try:
        channel = make_api_channel(post=istanbul, connector="mastodon", endpoint=fake.url)
        delivery = deliver(due_delivery(channel, editor, reviewer))
        [call] = fake.calls("post")
        form = call.form()
        assert form["status"] == [post_text(delivery)]
        assert form["language"] == ["en"]
        assert call.headers["Idempotency-Key"] == delivery.idempotency_key
        assert call.headers["Authorization"] == f"Bearer {fake.TOKEN}"
        status_id = fake.statuses_by_key[delivery.idempotency_key]["id"]
        assert (delivery.status, delivery.platform_post_id, delivery.url) == (
            "delivered",
            status_id,
            f"https://diplo.social/@belgium/{status_id}",
        )
        assert fake.problems == []
    finally:
        fake.close()


def test_mastodon_answers_a_repeated_request_with_the_status_it_already_made(istanbul, editor, reviewer):
    fake = FAKES["mastodon"]()
    try:
        channel = make_api_channel(post=istanbul, connector="mastodon", endpoint=fake.url)
        delivery = due_delivery(channel, editor, reviewer)
        first = mastodon.publish(delivery, first_part(delivery), None)
        again = mastodon.publish(delivery, first_part(delivery), None)
        assert first == again
        assert len(fake.statuses_by_key) == 1
    finally:
        fake.close()


def test_mastodon_uploads_images_with_their_description_and_waits_while_they_process(
    istanbul, editor, reviewer, media
):
    fake = FAKES["mastodon"]()
    fake.processing = True
    try:
        channel = make_api_channel(post=istanbul, connector="mastodon", endpoint=fake.url)
        delivery = deliver(due_delivery(channel, editor, reviewer, assets=[make_photo(editor, istanbul)]))
        [upload] = fake.calls("media")
        fields, files = upload.multipart()
        assert fields["description"] == "The consulate's garden in spring"
        assert files["file"][1] == "image/jpeg"  # the landscape rendition
        assert len(fake.calls("media_status")) == 2  # 206, then 200
        [post] = fake.calls("post")
        assert post.form()["media_ids[]"] == ["media-1"]
        assert delivery.status == "delivered"
        assert fake.problems == []
    finally:
        fake.close()


def test_bluesky_creates_a_post_record_with_languages_and_a_fixed_record_key(istanbul, editor, reviewer):
    fake = FakeBluesky()
    try:
        channel = make_api_channel(post=istanbul, connector="bluesky", endpoint=fake.url)
        delivery = deliver(due_delivery(channel, editor, reviewer))
        [session] = fake.calls("session")
        assert session.json() == {"identifier": FakeBluesky.HANDLE, "password": FakeBluesky.APP_PASSWORD}
        [call] = fake.calls("post")
        document = call.json()
        rkey = bluesky.record_key(Delivery.objects.get(pk=delivery.pk), first_part(delivery))
        assert document["rkey"] == rkey and TID_RE.match(rkey)
        record = document["record"]
        assert record["text"] == post_text(delivery)
        assert record["langs"] == ["en", "fr", "nl"]  # at most three
        assert {facet["features"][0]["$type"] for facet in record["facets"]} == {
            "app.bsky.richtext.facet#link",
            "app.bsky.richtext.facet#tag",
        }
        assert delivery.status == "delivered"
        assert delivery.platform_post_id == f"at://{FakeBluesky.DID}/app.bsky.feed.post/{rkey}"
        assert delivery.url == f"https://bsky.app/profile/{FakeBluesky.HANDLE}/post/{rkey}"
        assert fake.problems == []
    finally:
        fake.close()


def test_bluesky_facets_locate_links_and_tags_by_utf8_byte_offsets():
    text = "Türkiye 🇧🇪: voir https://www.belgium.be/fr?q=é. #TeamBelgium (#2026, https://x.be/a_(b))"
    facets = bluesky.link_and_tag_facets(text)
    encoded = text.encode()
    covered = [encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets]
    assert covered == ["https://www.belgium.be/fr?q=é", "#TeamBelgium", "https://x.be/a_(b)"]
    # Character offsets would be wrong: "ü" and the flag take more than one byte each.
    assert facets[0]["index"]["byteStart"] == len("Türkiye 🇧🇪: voir ".encode()) != text.index("https")


def test_bluesky_refuses_a_second_record_for_the_same_delivery(istanbul, editor, reviewer):
    fake = FakeBluesky()
    try:
        channel = make_api_channel(post=istanbul, connector="bluesky", endpoint=fake.url)
        delivery = due_delivery(channel, editor, reviewer)
        bluesky.publish(delivery, first_part(delivery), None)
        with pytest.raises(SurelyFailed, match="Record already exists"):
            bluesky.publish(delivery, first_part(delivery), None)
        assert len(fake.records) == 1
    finally:
        fake.close()


def test_bluesky_embeds_uploaded_images_with_alt_text_and_aspect_ratio(istanbul, editor, reviewer, media):
    fake = FakeBluesky()
    try:
        channel = make_api_channel(post=istanbul, connector="bluesky", endpoint=fake.url)
        delivery = deliver(due_delivery(channel, editor, reviewer, assets=[make_photo(editor, istanbul)]))
        [blob] = fake.calls("media")
        assert blob.headers["Content-Type"] == "image/jpeg"
        [image] = fake.calls("post")[0].json()["record"]["embed"]["images"]
        assert image["alt"] == "The consulate's garden in spring"
        assert image["aspectRatio"] == {"width": 1200, "height": 628}
        assert image["image"]["ref"] == {"$link": "bafkreiblob1"}
        assert delivery.status == "delivered"
        assert fake.problems == []
    finally:
        fake.close()


def test_facebook_posts_text_to_the_page_feed_and_one_image_as_a_photo(istanbul, editor, reviewer, media):
    fake = FakeFacebook()
    try:
        channel = make_api_channel(post=istanbul, connector="facebook", endpoint=fake.url)
        text_only = deliver(due_delivery(channel, editor, reviewer))
        [feed] = fake.calls("post")
        assert feed.path == f"/{facebook.GRAPH_VERSION}/{FakeFacebook.PAGE_ID}/feed"
        assert feed.form()["message"] == [post_text(text_only)]
        assert text_only.url == f"https://www.facebook.com/{text_only.platform_post_id}"
        assert text_only.platform_post_id.startswith(f"{FakeFacebook.PAGE_ID}_")

        with_photo = deliver(due_delivery(channel, editor, reviewer, assets=[make_photo(editor, istanbul)]))
        photo = fake.calls("post")[1]
        fields, files = photo.multipart()
        assert photo.path.endswith("/photos") and fields["message"] == post_text(with_photo)
        assert files["source"][1] == "image/jpeg"
        assert with_photo.status == "delivered"
        assert fake.problems == []
    finally:
        fake.close()


def test_facebook_attaches_several_images_uploaded_unpublished(istanbul, editor, reviewer, media):
    fake = FakeFacebook()
    try:
        channel = make_api_channel(post=istanbul, connector="facebook", endpoint=fake.url)
        photos = [make_photo(editor, istanbul), make_photo(editor, istanbul, alt="The garden in winter")]
        delivery = deliver(due_delivery(channel, editor, reviewer, assets=photos))
        assert len(fake.calls("media")) == 2
        [feed] = fake.calls("post")
        assert sorted(key for key in feed.form() if key.startswith("attached_media")) == [
            "attached_media[0]",
            "attached_media[1]",
        ]
        assert delivery.status == "delivered"
        assert fake.problems == []
    finally:
        fake.close()


def test_facebook_reads_an_expired_token_and_a_rate_limit_from_its_error_codes(istanbul, editor, reviewer):
    fake = FakeFacebook()
    try:
        channel = make_api_channel(post=istanbul, connector="facebook", endpoint=fake.url)
        delivery = due_delivery(channel, editor, reviewer)
        answer_with(fake, *fake.expired())
        with pytest.raises(SurelyFailed, match="credentials were refused.*Session has expired"):
            connector_for("facebook").publish(delivery, first_part(delivery), None)
        fake.script("post", 400, {"error": {"message": "Page request limit reached", "code": 32}})
        with pytest.raises(SurelyFailed, match="limiting the number of requests") as refused:
            connector_for("facebook").publish(delivery, first_part(delivery), None)
        assert refused.value.retry_after is None
    finally:
        fake.close()


def test_x_posts_the_text_with_uploaded_media_and_its_alt_text(istanbul, editor, reviewer, media):
    fake = FAKES["x"]()
    try:
        channel = make_api_channel(post=istanbul, connector="x", endpoint=fake.url)
        delivery = deliver(due_delivery(channel, editor, reviewer, assets=[make_photo(editor, istanbul)]))
        assert len(fake.calls("media")) == 1
        [metadata] = fake.calls("metadata")
        media_id = metadata.json()["id"]
        assert metadata.json()["metadata"]["alt_text"]["text"] == "The consulate's garden in spring"
        [post] = fake.calls("post")
        assert post.json() == {"text": post_text(delivery), "media": {"media_ids": [media_id]}}
        assert delivery.status == "delivered"
        assert delivery.url == f"https://x.com/BelgiumInTR/status/{delivery.platform_post_id}"
        assert fake.problems == []
    finally:
        fake.close()


def test_linkedin_posts_escaped_commentary_and_takes_the_id_from_the_restli_header(
    istanbul, editor, reviewer, media
):
    fake = FakeLinkedIn()
    try:
        channel = make_api_channel(post=istanbul, connector="linkedin", endpoint=fake.url)
        delivery = deliver(due_delivery(channel, editor, reviewer, assets=[make_photo(editor, istanbul)]))
        [post] = fake.calls("post")
        document = post.json()
        assert document["commentary"] == linkedin.escape_little_text(post_text(delivery))
        assert "\\(stand 12\\)" in document["commentary"]
        assert document["content"]["media"]["altText"] == "The consulate's garden in spring"
        assert document["content"]["media"]["id"] in fake.uploaded
        assert re.fullmatch(r"\d{6}", post.headers["LinkedIn-Version"])
        assert delivery.platform_post_id.startswith("urn:li:share:")
        assert delivery.url == f"https://www.linkedin.com/feed/update/{delivery.platform_post_id}/"
        assert fake.problems == []
    finally:
        fake.close()


def test_linkedin_little_text_escapes_reserved_characters_but_not_links_or_hashtags():
    assert (
        linkedin.escape_little_text("Visit (now) https://x.be/a_b?c=(1) #Belgium @home [1] C# *x* ~")
        == "Visit \\(now\\) https://x.be/a_b?c=(1) #Belgium \\@home \\[1\\] C\\# \\*x\\* \\~"
    )


# --- Every platform, every outcome ----------------------------------------------------


def test_a_due_publication_is_delivered_with_the_platforms_id_and_address(channel, fake, editor, reviewer):
    delivery = deliver(due_delivery(channel, editor, reviewer))
    assert delivery.status == "delivered"
    assert delivery.platform_post_id and delivery.url.startswith("https://")
    assert len(fake.calls("post")) == 1
    engine.publish_due()  # a second run sends nothing again
    assert len(fake.calls("post")) == 1
    assert fake.problems == []


def test_refused_credentials_fail_with_a_clear_message_and_for_good_after_the_limit(
    fake, istanbul, editor, reviewer
):
    wrong = {**CREDENTIALS[fake.name], "secret": "revoked-or-mistyped"}
    channel = make_api_channel(post=istanbul, connector=fake.name, endpoint=fake.url, values=wrong)
    delivery = deliver(due_delivery(channel, editor, reviewer))
    assert delivery.status == "pending"
    assert "The channel's credentials were refused: renew them in the channel settings." in delivery.error
    delivery = deliver_until_settled(delivery)
    assert (delivery.status, delivery.attempts) == ("failed", engine.MAX_ATTEMPTS)
    assert "credentials were refused" in delivery.error


def test_expired_credentials_ask_for_new_ones(channel, fake, editor, reviewer):
    delivery = due_delivery(channel, editor, reviewer)
    answer_with(fake, *fake.expired())
    with pytest.raises(SurelyFailed, match="credentials were refused: renew them in the channel settings"):
        connector_for(fake.name).publish(delivery, first_part(delivery), None)
    assert "renew them" in deliver(delivery).error


def test_a_rate_limit_says_when_to_try_again(channel, fake, editor, reviewer):
    delivery = due_delivery(channel, editor, reviewer)
    fake.script(
        "post", 429, {"error": "Too many requests", "message": "Rate Limit Exceeded"}, {"Retry-After": "120"}
    )
    with pytest.raises(SurelyFailed) as refused:
        connector_for(fake.name).publish(delivery, first_part(delivery), None)
    assert refused.value.retry_after == 120
    assert "limiting the number of requests" in str(refused.value)
    delivery = deliver(delivery)
    assert delivery.status == "pending"
    # The engine waits at least what the platform asked.
    assert delivery.next_attempt_at >= timezone.now() + timedelta(seconds=110)


@pytest.mark.parametrize(
    ("platform", "header", "value"),
    [
        ("mastodon", "X-RateLimit-Reset", lambda now: (now + timedelta(seconds=90)).isoformat()),
        ("bluesky", "RateLimit-Reset", lambda now: str(int(now.timestamp()) + 90)),
        ("x", "x-rate-limit-reset", lambda now: str(int(now.timestamp()) + 90)),
    ],
)
def test_a_rate_limit_without_retry_after_uses_the_platforms_reset_header(
    channel, fake, editor, reviewer, header, value
):
    delivery = due_delivery(channel, editor, reviewer)
    fake.script("post", 429, {"error": "Too many requests"}, {header: value(datetime.now(UTC))})
    with pytest.raises(SurelyFailed) as refused:
        connector_for(fake.name).publish(delivery, first_part(delivery), None)
    assert 80 <= refused.value.retry_after <= 91


def test_a_server_error_posted_nothing_and_the_next_try_delivers(channel, fake, editor, reviewer):
    delivery = due_delivery(channel, editor, reviewer)
    fake.script("post", 503, {"error": "Service Unavailable"})
    delivery = deliver(delivery)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "server error (HTTP 503): nothing was posted" in delivery.error
    assert delivery.next_attempt_at > timezone.now()
    del fake.scripted["post"]
    delivery = deliver_until_settled(delivery)
    assert delivery.status == "delivered"


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_gateway_error_after_posting_is_unknown_where_the_platform_cannot_refuse_a_repeat(
    channel, fake, editor, reviewer, status
):
    delivery = due_delivery(channel, editor, reviewer)
    fake.script("post", status, {"error": "Bad gateway"})
    delivery = deliver(delivery)
    if fake.name in ("mastodon", "bluesky"):
        # The repeat carries the same idempotency or record key: retrying is safe.
        assert delivery.status == "pending"
    else:
        assert delivery.status == "unknown"
        assert f"server error (HTTP {status}) after the publication was sent" in delivery.error
        engine.publish_due()
        assert len(fake.calls("post")) == 1


def test_no_answer_in_time_after_sending_is_unknown_and_never_retried_blindly(
    channel, fake, editor, reviewer
):
    delivery = due_delivery(channel, editor, reviewer)
    fake.script("post", delay=1.0)  # the platform takes longer than the connector waits
    delivery = deliver(delivery)
    assert delivery.status == "unknown"
    assert "did not answer in time after the publication was sent" in delivery.error
    engine.publish_due()
    assert len(fake.calls("post")) == 1


def test_a_garbage_answer_after_posting_is_unknown(channel, fake, editor, reviewer):
    delivery = due_delivery(channel, editor, reviewer)
    status = 201 if fake.name == "linkedin" else 200  # LinkedIn: a 201 without its x-restli-id
    fake.script("post", status, GARBAGE, {"Content-Type": "text/html"})
    with pytest.raises(OutcomeUnknown, match="answer could not be read"):
        connector_for(fake.name).publish(delivery, first_part(delivery), None)
    assert deliver(delivery).status == "unknown"


def test_a_failed_image_upload_posts_nothing_and_is_tried_again(channel, fake, editor, reviewer, media):
    photos = [make_photo(editor, channel.post), make_photo(editor, channel.post)]
    delivery = due_delivery(channel, editor, reviewer, assets=photos)
    fake.script("media", 500, {"error": "Internal error"})
    with pytest.raises(SurelyFailed):
        connector_for(fake.name).publish(delivery, first_part(delivery), None)
    assert deliver(delivery).status == "pending"
    assert fake.calls("post") == []


def test_a_refused_connection_sent_nothing_and_is_tried_again(platform, istanbul, editor, reviewer):
    channel = make_api_channel(
        post=istanbul, connector=platform, endpoint=f"http://127.0.0.1:{closed_port()}"
    )
    delivery = deliver(due_delivery(channel, editor, reviewer))
    assert delivery.status == "pending"
    assert "Could not reach" in delivery.error and "Nothing was sent" in delivery.error


def test_credentials_are_never_sent_to_an_address_they_were_not_entered_for(channel, fake, editor, reviewer):
    other = FAKES[fake.name]()
    try:
        Channel.objects.filter(pk=channel.pk).update(endpoint=other.url)  # e.g. changed in the admin
        delivery = deliver(due_delivery(Channel.objects.get(pk=channel.pk), editor, reviewer))
        assert delivery.status == "pending"
        assert "entered for another connector or address" in delivery.error
        assert other.received == [] and fake.received == []
    finally:
        other.close()


# --- Test connection --------------------------------------------------------------------

ACCOUNT_NAMES = {
    "mastodon": "Belgium in Türkiye (@belgium)",
    "bluesky": "@belgium.bsky.social",
    "facebook": "Belgium in Türkiye",
    "x": "@BelgiumInTR",
    "linkedin": "Belgium in Türkiye",
}


def test_test_connection_says_whom_the_credentials_act_for(client, manager, channel, fake):
    client.force_login(manager)
    response = client.post(reverse("channel_test_connection", args=[channel.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("channel_edit", args=[channel.pk])
    assert messages_of(response) == [f"Connected as {ACCOUNT_NAMES[fake.name]}."]
    assert [call.method for call in fake.received] == ["POST" if fake.name == "bluesky" else "GET"]
    assert fake.problems == []


def test_test_connection_reports_refused_credentials(client, manager, channel, fake):
    _route, (_status, answer_headers, body) = fake.expired()
    fake.script(CHECK_ROUTE[fake.name], 401, body, answer_headers)
    client.force_login(manager)
    response = client.post(reverse("channel_test_connection", args=[channel.pk]))
    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith("The connection test failed: The channel's credentials were refused")


@pytest.mark.parametrize("trouble", ["hang", "garbage", "server error"])
def test_test_connection_turns_a_bad_answer_or_a_hang_into_a_message(client, manager, channel, fake, trouble):
    route = CHECK_ROUTE[fake.name]
    if trouble == "hang":
        fake.script(route, delay=1.0)
    elif trouble == "garbage":
        fake.script(route, 200, GARBAGE, {"Content-Type": "text/html"})
    else:
        fake.script(route, 500, b"")
    client.force_login(manager)
    response = client.post(reverse("channel_test_connection", args=[channel.pk]))
    assert response.status_code == 302
    [message] = messages_of(response)
    assert message.startswith("The connection test failed:")
    assert {"hang": "did not answer in time", "garbage": "could not be read", "server error": "HTTP 500"}[
        trouble
    ] in message


def test_only_who_may_edit_the_channel_may_test_it(client, editor, manager, istanbul):
    channel = make_api_channel(
        post=istanbul, connector="mastodon", endpoint=f"http://127.0.0.1:{closed_port()}"
    )
    url = reverse("channel_test_connection", args=[channel.pk])
    client.force_login(editor)  # a post editor does not manage channels
    assert client.post(url).status_code == 403
    client.force_login(manager)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302


def test_a_manual_channel_has_nothing_to_test_and_a_webhook_answers_a_head(client, manager, istanbul):
    manual = make_channel(post=istanbul, platform="facebook")
    client.force_login(manager)
    response = client.post(reverse("channel_test_connection", args=[manual.pk]))
    assert messages_of(response) == ["This channel is published by hand: there is no connection to test."]
    receiver = FAKES["mastodon"]()
    try:
        hooked = make_channel(post=istanbul, platform="x")
        hooked.connector, hooked.endpoint = "webhook", f"{receiver.url}/hook"
        hooked.save()
        response = client.post(reverse("channel_test_connection", args=[hooked.pk]))
        host = receiver.url.removeprefix("http://")
        assert messages_of(response)[-1] == f"Connected as {host}."
        assert [call.method for call in receiver.received] == []  # a HEAD matches no API route
    finally:
        receiver.close()


def test_the_channel_page_has_a_test_connection_button_for_connected_channels(client, manager, istanbul):
    channel = make_api_channel(post=istanbul, connector="x", endpoint="")
    client.force_login(manager)
    page = client.get(reverse("channel_edit", args=[channel.pk])).content.decode()
    assert f'action="{reverse("channel_test_connection", args=[channel.pk])}"' in page
    manual = make_channel(post=istanbul, platform="facebook")
    assert "test-connection" not in client.get(reverse("channel_edit", args=[manual.pk])).content.decode()


# --- Credentials: encrypted at rest, write-only ------------------------------------------------


def test_credentials_round_trip_and_are_encrypted_at_rest(istanbul):
    channel = make_api_channel(post=istanbul, connector="facebook", endpoint="")
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_token FROM diplomacy_channel WHERE id = %s", [channel.pk])
        [raw] = cursor.fetchone()
    assert raw.startswith("gAAAA")  # a Fernet token
    assert FakeFacebook.TOKEN not in raw and FakeFacebook.PAGE_ID not in raw
    assert Channel.objects.get(pk=channel.pk).read_credentials() == {
        "connector": "facebook",
        "endpoint": "",
        "account": FakeFacebook.PAGE_ID,
        "secret": FakeFacebook.TOKEN,
    }
    assert credentials.decrypt(credentials.encrypt({"secret": "é✓"})) == {"secret": "é✓"}


def test_credentials_stay_readable_with_the_old_key_after_a_new_key_is_added(istanbul, settings):
    channel = make_api_channel(post=istanbul, connector="x", endpoint="")
    settings.CHANNEL_CREDENTIALS_KEYS = [Fernet.generate_key().decode(), *settings.CHANNEL_CREDENTIALS_KEYS]
    assert Channel.objects.get(pk=channel.pk).read_credentials()["secret"] == CREDENTIALS["x"]["secret"]


def test_a_wrong_key_gives_a_clear_message_everywhere_not_a_500(
    client, manager, istanbul, editor, reviewer, settings
):
    fake = FAKES["mastodon"]()
    try:
        channel = make_api_channel(post=istanbul, connector="mastodon", endpoint=fake.url)
        settings.CHANNEL_CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
        with pytest.raises(
            credentials.CredentialsError, match="cannot be read with the server's current key"
        ):
            channel.read_credentials()
        delivery = deliver(due_delivery(channel, editor, reviewer))
        assert delivery.status == "pending" and "cannot be read" in delivery.error
        client.force_login(manager)
        response = client.post(reverse("channel_test_connection", args=[channel.pk]))
        assert response.status_code == 302 and "cannot be read" in messages_of(response)[0]
        edit = reverse("channel_edit", args=[channel.pk])
        assert client.get(edit).status_code == 200
        response = client.post(edit, channel_data(channel))
        assert response.status_code == 400
        assert "cannot be read" in str(response.context["form"].errors["credential_secret"])
        response = client.post(edit, channel_data(channel, credential_secret=FAKES["mastodon"].TOKEN))
        assert response.status_code == 302
        assert Channel.objects.get(pk=channel.pk).read_credentials()["secret"] == FAKES["mastodon"].TOKEN
        assert fake.received == []
    finally:
        fake.close()


def channel_data(channel: Channel, **changes: str) -> dict[str, str]:
    data = {
        "platform": channel.platform,
        "handle": channel.handle,
        "url": channel.url,
        "content_languages": channel.content_languages,
        "weekly_target": str(channel.weekly_target),
        "active": "on",
        "connector": channel.connector,
        "endpoint": channel.endpoint,
    }
    data.update(changes)
    return data


def test_the_form_stores_credentials_encrypted_and_never_shows_them_again(client, manager, istanbul):
    client.force_login(manager)
    response = client.post(
        reverse("channel_create", args=[istanbul.code]),
        {
            "platform": "facebook",
            "handle": "@Belgium.Istanbul",
            "weekly_target": "3",
            "connector": "facebook",
            "credential_account": FakeFacebook.PAGE_ID,
            "credential_secret": FakeFacebook.TOKEN,
        },
    )
    assert response.status_code == 302
    channel = Channel.objects.get(post=istanbul, platform="facebook")
    assert channel.read_credentials()["secret"] == FakeFacebook.TOKEN
    assert channel.credentials_stored_at is not None
    page = client.get(reverse("channel_edit", args=[channel.pk])).content.decode()
    assert "Credentials stored on" in page
    assert FakeFacebook.TOKEN not in page and FakeFacebook.PAGE_ID not in page
    assert channel.credentials_token not in page
    # Re-shown after an error elsewhere: what was typed is not echoed back either.
    response = client.post(
        reverse("channel_edit", args=[channel.pk]),
        channel_data(
            channel, weekly_target="500", credential_secret="new-secret-token", credential_account="42"
        ),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "new-secret-token" not in page and 'value="42"' not in page


def test_leaving_the_credentials_empty_keeps_them_and_the_box_removes_them(client, manager, istanbul):
    channel = make_api_channel(post=istanbul, connector="x", endpoint="")
    token = channel.credentials_token
    client.force_login(manager)
    edit = reverse("channel_edit", args=[channel.pk])
    assert client.post(edit, channel_data(channel, weekly_target="5")).status_code == 302
    channel.refresh_from_db()
    assert (channel.weekly_target, channel.credentials_token) == (5, token)
    # Removing them from a channel that still publishes through the API is refused.
    response = client.post(edit, channel_data(channel, remove_credentials="on"))
    assert response.status_code == 400
    assert "needs credentials" in str(response.context["form"].errors["credential_secret"])
    response = client.post(edit, channel_data(channel, connector="manual", remove_credentials="on"))
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.connector, channel.credentials_token, channel.credentials_stored_at) == (
        "manual",
        "",
        None,
    )
    assert "Credentials: none stored." in client.get(edit).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"connector": "mastodon", "endpoint": "https://mastodon.social"},
            "credential_secret",
            "needs credentials",
        ),
        ({"connector": "mastodon"}, "endpoint", "address of the Mastodon server"),
        ({"connector": "x", "credential_secret": "t"}, "connector", "publishes to X channels only"),
        ({"connector": "facebook", "credential_secret": "t"}, "credential_account", "page id"),
        (
            {
                "connector": "linkedin",
                "platform": "linkedin",
                "credential_secret": "t",
                "credential_account": "5515",
            },
            "credential_account",
            "author URN",
        ),
        ({"connector": "webhook"}, "endpoint", "needs the address"),
        ({"credential_secret": "t"}, "credential_secret", "only for an API connector"),
    ],
)
def test_the_form_refuses_an_api_connector_it_cannot_use(client, manager, istanbul, changes, field, message):
    client.force_login(manager)
    data = {
        "platform": "facebook",
        "handle": "@Belgium.Istanbul",
        "weekly_target": "3",
        "connector": "manual",
    }
    data.update(changes)
    if data["connector"] == "mastodon":
        data["platform"] = "mastodon"
    response = client.post(reverse("channel_create", args=[istanbul.code]), data)
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    assert not Channel.objects.exists()


def test_a_new_api_address_needs_the_credentials_again(client, manager, istanbul):
    channel = make_api_channel(post=istanbul, connector="mastodon", endpoint="https://diplo.social")
    client.force_login(manager)
    edit = reverse("channel_edit", args=[channel.pk])
    response = client.post(edit, channel_data(channel, endpoint="https://elsewhere.example"))
    assert response.status_code == 400
    assert "entered for another connector or address" in str(
        response.context["form"].errors["credential_secret"]
    )
    response = client.post(
        edit, channel_data(channel, endpoint="https://elsewhere.example", credential_secret="t2")
    )
    assert response.status_code == 302
    assert Channel.objects.get(pk=channel.pk).read_credentials()["endpoint"] == "https://elsewhere.example"


def test_without_a_key_credentials_cannot_be_stored_and_the_form_says_why(
    client, manager, istanbul, settings
):
    settings.CHANNEL_CREDENTIALS_KEYS = []
    client.force_login(manager)
    response = client.post(
        reverse("channel_create", args=[istanbul.code]),
        {
            "platform": "x",
            "handle": "@BelgiumInTR",
            "weekly_target": "3",
            "connector": "x",
            "credential_secret": "t",
        },
    )
    assert response.status_code == 400
    assert "CHANNEL_CREDENTIALS_KEY" in str(response.context["form"].errors["credential_secret"])


def test_a_malformed_credentials_key_stops_start_up_with_its_name():
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=Path(__file__).resolve().parent.parent,
        env={**environment, "CHANNEL_CREDENTIALS_KEY": "not-a-fernet-key"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "CHANNEL_CREDENTIALS_KEY must be Fernet keys" in result.stderr


# --- The shared HTTP mapping ---------------------------------------------------------------


def headers(**values: str) -> Message:
    message = Message()
    for key, value in values.items():
        message[key.replace("_", "-")] = value
    return message


def test_retry_after_is_read_from_seconds_dates_and_reset_headers():
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert http.retry_after_seconds(headers(Retry_After="120"), now) == 120
    assert http.retry_after_seconds(headers(Retry_After="Sun, 29 Nov 2026 12:02:00 GMT"), now) == 120
    assert http.retry_after_seconds(headers(x_rate_limit_reset=str(int(now.timestamp()) + 60)), now) == 60
    assert http.retry_after_seconds(headers(X_RateLimit_Reset="2026-11-29T12:05:00.000Z"), now) == 300
    assert http.retry_after_seconds(headers(RateLimit_Reset="30"), now) == 30
    assert http.retry_after_seconds(headers(), now) is None
    assert http.retry_after_seconds(headers(Retry_After="999999"), now) == http.MAX_RETRY_AFTER


def test_surely_failed_carries_no_retry_after_unless_given():
    assert SurelyFailed("x").retry_after is None
    assert SurelyFailed("x", retry_after=30).retry_after == 30
    assert str(SurelyFailed("x", retry_after=30)) == "x"


def test_the_platforms_error_messages_are_read_from_each_documented_shape():
    assert http.platform_message({"error": "The access token is invalid"}) == "The access token is invalid"
    assert http.platform_message({"error": {"message": "Invalid OAuth", "code": 190}}) == "Invalid OAuth"
    assert http.platform_message({"error": "InvalidRequest", "message": "Record exists"}) == "Record exists"
    assert http.platform_message({"title": "Unauthorized", "detail": "Unauthorized"}) == "Unauthorized"
    assert http.platform_message({"errors": [{"message": "Your media IDs are invalid."}]}) == (
        "Your media IDs are invalid."
    )
    assert http.platform_message("<html>") == ""


def test_a_platform_api_redirect_is_not_followed(istanbul, editor, reviewer):
    fake = FAKES["x"]()
    try:
        channel = make_api_channel(post=istanbul, connector="x", endpoint=fake.url)
        delivery = due_delivery(channel, editor, reviewer)
        fake.script("post", 307, b"", {"Location": "http://127.0.0.1:9/elsewhere"})
        with pytest.raises(SurelyFailed, match="HTTP 307"):
            connector_for("x").publish(delivery, first_part(delivery), None)
    finally:
        fake.close()


def test_the_time_out_is_what_the_connectors_wait(istanbul, editor, reviewer, monkeypatch):
    fake = FAKES["x"]()
    try:
        channel = make_api_channel(post=istanbul, connector="x", endpoint=fake.url)
        delivery = due_delivery(channel, editor, reviewer)
        fake.script("post", delay=0.6)
        monkeypatch.setattr(http, "TIMEOUT_SECONDS", 0.2)
        began = time.monotonic()
        with pytest.raises(OutcomeUnknown):
            connector_for("x").publish(delivery, first_part(delivery), None)
        assert time.monotonic() - began < 0.6
    finally:
        fake.close()
