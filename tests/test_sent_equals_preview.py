"""What every connector sends is what the preview shows: for X, Bluesky, Mastodon, Facebook,
LinkedIn and the webhook, the requests the local fake received carry exactly the parts
`sending.for_channels` gives for the channel (each part's text, in order, its language,
its place in the thread and how many images it carries). Nothing here leaves 127.0.0.1."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from calendar_app import sending
from calendar_app.models import Delivery, DeliveryPart
from calendar_app.publishing import engine, http, linkedin, parts
from tests.factories import make_channel
from tests.fake_platforms import FAKES, FakeBluesky, Received
from tests.fake_receiver import FakeReceiver
from tests.test_connectors import due_delivery, make_api_channel, make_photo

#: Each connector's channel: its plan and languages, in the order they go out.
CHANNELS = {
    "x": ("thread", "nl,fr,en,tr"),
    "bluesky": ("thread", "fr,nl,en"),
    "mastodon": ("thread", "nl,fr,en,tr"),
    "facebook": ("separate", "nl,fr"),
    "linkedin": ("separate", "fr,nl"),
    "webhook": ("thread", "nl,fr,en"),
}
#: Platforms whose post carries its language(s).
WITH_LANGUAGES = {"bluesky", "mastodon", "webhook"}


pytestmark = pytest.mark.usefixtures("platforms_on_loopback")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(http, "TIMEOUT_SECONDS", 2)


@dataclass(frozen=True)
class Posted:
    """One post as the platform received it."""

    text: str
    #: The language metadata sent with it (None where the platform takes none).
    languages: list[str] | None
    #: The platform id of the post it answers (None: not a reply).
    reply_to: str | None
    images: int


def posted_x(call: Received) -> Posted:
    document = call.json()
    return Posted(
        text=document["text"],
        languages=None,
        reply_to=document.get("reply", {}).get("in_reply_to_tweet_id"),
        images=len(document.get("media", {}).get("media_ids", [])),
    )


def posted_bluesky(call: Received) -> Posted:
    record = call.json()["record"]
    return Posted(
        text=record["text"],
        languages=record["langs"],
        reply_to=record.get("reply", {}).get("parent", {}).get("uri"),
        images=len(record.get("embed", {}).get("images", [])),
    )


def posted_mastodon(call: Received) -> Posted:
    form = call.form()
    return Posted(
        text=form["status"][0],
        languages=form["language"],
        reply_to=form.get("in_reply_to_id", [None])[0],
        images=len(form.get("media_ids[]", [])),
    )


def posted_facebook(call: Received) -> Posted:
    if call.path.endswith("/photos"):  # one image: the photo is the post
        fields, _files = call.multipart()
        return Posted(text=fields["message"], languages=None, reply_to=None, images=1)
    form = call.form()
    attached = [key for key in form if key.startswith("attached_media[")]
    return Posted(text=form["message"][0], languages=None, reply_to=None, images=len(attached))


def posted_linkedin(call: Received) -> Posted:
    document = call.json()
    media = document.get("content", {})
    images = 1 if "media" in media else len(media.get("multiImage", {}).get("images", []))
    return Posted(text=document["commentary"], languages=None, reply_to=None, images=images)


READ = {
    "x": posted_x,
    "bluesky": posted_bluesky,
    "mastodon": posted_mastodon,
    "facebook": posted_facebook,
    "linkedin": posted_linkedin,
}


def expected(platform: str, part: sending.Part, previous: DeliveryPart | None, chained: bool) -> Posted:
    """What the platform must have received for `part` (and its answer to the part before)."""
    text = linkedin.escape_little_text(part.text) if platform == "linkedin" else part.text
    return Posted(
        text=text,
        languages=list(part.languages) if platform in WITH_LANGUAGES else None,
        reply_to=previous.platform_post_id if (chained and previous is not None) else None,
        images=part.images,
    )


def shown_parts(delivery: Delivery) -> list[sending.Part]:
    """The preview: what sending.for_channels shows for the channel, from the approved texts."""
    content = parts.approved_content(delivery.publication)
    assert content is not None
    [channel] = sending.for_channels(
        [delivery.channel], content.texts, content.overrides, images=content.images
    )
    return channel.parts


@pytest.mark.parametrize("connector", list(CHANNELS))
def test_every_connector_sends_exactly_the_parts_the_preview_shows(connector, istanbul, editor, reviewer):
    plan, languages = CHANNELS[connector]
    server: FakeReceiver | object = FakeReceiver() if connector == "webhook" else FAKES[connector]()
    try:
        if isinstance(server, FakeReceiver):
            channel = make_channel(post=istanbul, platform="mastodon", content_languages=languages)
            channel.connector, channel.endpoint, channel.language_plan = "webhook", server.url, plan
            channel.save()
        else:
            channel = make_api_channel(
                post=istanbul, connector=connector, endpoint=server.url, plan=plan, languages=languages
            )
        photos = [make_photo(editor, istanbul), make_photo(editor, istanbul, alt="The garden in winter")]
        delivery = due_delivery(channel, editor, reviewer, assets=photos)
        preview = shown_parts(delivery)
        assert [part.languages for part in preview] == [(language,) for language in languages.split(",")]

        assert engine.deliver(delivery.pk) == "delivered"

        if isinstance(server, FakeReceiver):
            sent = [
                Posted(
                    text=call.body["part"]["text"],
                    languages=call.body["part"]["languages"],
                    reply_to=call.body["in_reply_to"],
                    images=call.body["images"],
                )
                for call in server.received
            ]
            assert [call.body["part"]["number"] for call in server.received] == [p.number for p in preview]
            assert {call.body["part"]["of"] for call in server.received} == {len(preview)}
            assert len(server.per_key()) == len(preview)  # a key of its own per part
        else:
            sent = [READ[connector](call) for call in server.calls("post")]
        stored = list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))
        chained = plan == "thread"
        assert sent == [
            expected(connector, part, stored[index - 1] if index else None, chained)
            for index, part in enumerate(preview)
        ]
        # What was stored is what was sent, and the delivery points at its first post.
        assert [(row.text, tuple(row.language_list), row.images) for row in stored] == [
            (part.text, part.languages, part.images) for part in preview
        ]
        assert {row.status for row in stored} == {"delivered"}
        delivery.refresh_from_db()
        assert (delivery.status, delivery.platform_post_id) == ("delivered", stored[0].platform_post_id)
        assert server.problems == []
    finally:
        server.close()  # type: ignore[attr-defined]


def test_a_bluesky_thread_names_its_first_post_as_root_and_the_one_before_as_parent(
    istanbul, editor, reviewer
):
    fake = FakeBluesky()
    try:
        channel = make_api_channel(
            post=istanbul, connector="bluesky", endpoint=fake.url, plan="thread", languages="nl,fr,en"
        )
        delivery = due_delivery(channel, editor, reviewer)
        engine.deliver(delivery.pk)
        rows = list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))
        replies = [call.json()["record"].get("reply") for call in fake.calls("post")]
        assert replies[0] is None
        for row, reply in zip(rows[1:], replies[1:], strict=True):
            before = rows[row.number - 2]
            assert reply == {
                "root": {"uri": rows[0].platform_post_id, "cid": rows[0].platform_ref},
                "parent": {"uri": before.platform_post_id, "cid": before.platform_ref},
            }
        assert fake.problems == []
    finally:
        fake.close()


def test_a_channel_publishing_one_language_sends_only_that_language(istanbul, editor, reviewer):
    fake = FAKES["x"]()
    try:
        channel = make_api_channel(
            post=istanbul, connector="x", endpoint=fake.url, plan="single", languages="fr"
        )
        delivery = due_delivery(channel, editor, reviewer)
        engine.deliver(delivery.pk)
        [post] = fake.calls("post")
        assert post.json() == {"text": "La Belgique à la foire d’Istanbul, stand 12."}
    finally:
        fake.close()
