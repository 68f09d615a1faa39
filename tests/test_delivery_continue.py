"""A part of a thread whose outcome was unknown did go out: a person records its address
and the engine sends the rest, after it, never repeating a live part.

Against the local fakes of X's, Bluesky's and Mastodon's APIs (nothing leaves 127.0.0.1).
"""

from __future__ import annotations

import time

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from calendar_app import workflow
from calendar_app.models import Delivery, DeliveryPart, DeliveryStatus, Publication, PublicationStatus
from calendar_app.publishing import (
    NotAPostAddress,
    Published,
    bluesky,
    engine,
    facebook,
    linkedin,
    mastodon,
    webhook,
    x,
)
from diplomacy.models import LanguagePlan, Role
from tests.factories import make_channel, make_user
from tests.fake_platforms import FAKES
from tests.fake_receiver import FakeReceiver
from tests.test_connectors import VARIANTS, due_delivery, make_api_channel

ORDER = ["nl", "fr", "en", "tr"]


pytestmark = pytest.mark.usefixtures("platforms_on_loopback")


@pytest.fixture
def fake_x():
    server = FAKES["x"]()
    yield server
    server.close()


@pytest.fixture
def fake_bluesky():
    server = FAKES["bluesky"]()
    yield server
    server.close()


def thread_delivery(fake, post, editor, reviewer, *, languages: list[str] = ORDER) -> Delivery:
    channel = make_api_channel(
        post=post,
        connector=fake.name,
        endpoint=fake.url,
        plan=LanguagePlan.THREAD,
        languages=",".join(languages),
    )
    return due_delivery(channel, editor, reviewer)


def made(fake) -> list[str]:
    """What the fake made into posts, in order: X's post ids, Bluesky's record keys,
    Mastodon's status ids."""
    return list(getattr(fake, {"x": "tweets", "bluesky": "records", "mastodon": "statuses"}[fake.name]))


def unknown_at(delivery: Delivery, fake, number: int) -> Delivery:
    """Deliver until part `number`, whose answer comes after the connector gave up: the
    platform made the post, the delivery does not know it."""
    fake.script("post", delay=1.0, after=number - 1)
    assert engine.deliver(delivery.pk) == DeliveryStatus.UNKNOWN
    del fake.scripted["post"]
    deadline = time.monotonic() + 5
    while len(made(fake)) < number and time.monotonic() < deadline:
        time.sleep(0.02)  # the late answer is still on its way
    assert len(made(fake)) == number
    return Delivery.objects.select_related("publication__post", "channel__post").get(pk=delivery.pk)


def statuses(delivery: Delivery) -> list[str]:
    return list(
        DeliveryPart.objects.filter(delivery=delivery).order_by("number").values_list("status", flat=True)
    )


def snapshot(delivery: Delivery) -> tuple:
    """Everything continuing could change: the delivery, its parts, the history."""
    row = Delivery.objects.get(pk=delivery.pk)
    return (
        (row.status, row.claimed_at, row.next_attempt_at, row.error, row.url, row.platform_post_id),
        list(
            DeliveryPart.objects.filter(delivery=delivery)
            .order_by("number")
            .values_list("status", "platform_post_id", "platform_ref", "url")
        ),
        delivery.publication.events.count(),
    )


def x_address(post_id: str, handle: str = "BelgiumInTR") -> str:
    return f"https://x.com/{handle}/status/{post_id}"


def continue_through_the_page(client, user, delivery: Delivery, url: str):
    client.force_login(user)
    return client.post(reverse("delivery_continue", args=[delivery.pk]), {"url": url})


def test_continuing_an_x_thread_from_part_two_sends_parts_three_and_four_answering_part_two(
    fake_x, istanbul, editor, reviewer, client
):
    delivery = unknown_at(thread_delivery(fake_x, istanbul, editor, reviewer), fake_x, 2)
    assert statuses(delivery) == ["delivered", "unknown", "pending", "pending"]
    second = made(fake_x)[1]

    response = continue_through_the_page(client, editor, delivery, x_address(second))
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.claimed_at, delivery.error) == ("pending", None, "")
    assert statuses(delivery) == ["delivered", "delivered", "pending", "pending"]
    part_two = DeliveryPart.objects.get(delivery=delivery, number=2)
    assert (part_two.platform_post_id, part_two.url) == (second, x_address(second))

    engine.publish_due()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    calls = fake_x.calls("post")
    # Parts 1 and 2 went out once each (part 2: the request whose answer came late).
    assert [call.json()["text"] for call in calls] == [VARIANTS[language] for language in ORDER]
    rows = list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))
    assert calls[2].json()["reply"] == {"in_reply_to_tweet_id": second}
    assert calls[3].json()["reply"] == {"in_reply_to_tweet_id": rows[2].platform_post_id}
    assert Publication.objects.get(pk=delivery.publication_id).status == PublicationStatus.PUBLISHED
    event = delivery.publication.events.get(verb="delivery_continued")
    assert (event.actor, event.data["part"], event.data["url"]) == (editor, 2, x_address(second))
    assert fake_x.problems == []


def test_continuing_a_bluesky_thread_reads_the_cid_of_the_post_found_live(
    fake_bluesky, istanbul, editor, reviewer
):
    delivery = unknown_at(thread_delivery(fake_bluesky, istanbul, editor, reviewer), fake_bluesky, 2)
    rkey = made(fake_bluesky)[1]
    uri = f"at://{fake_bluesky.DID}/app.bsky.feed.post/{rkey}"

    workflow.continue_delivery(editor, delivery, f"https://bsky.app/profile/belgium.bsky.social/post/{rkey}")
    part_two = DeliveryPart.objects.get(delivery=delivery, number=2)
    assert (part_two.status, part_two.platform_post_id, part_two.platform_ref) == (
        "delivered",
        uri,
        fake_bluesky.cids[uri],
    )
    assert len(fake_bluesky.calls("record")) == 1

    engine.publish_due()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    calls = fake_bluesky.calls("post")
    assert [call.json()["record"]["text"] for call in calls] == [VARIANTS[language] for language in ORDER]
    first = DeliveryPart.objects.get(delivery=delivery, number=1)
    assert calls[2].json()["record"]["reply"] == {
        "root": {"uri": first.platform_post_id, "cid": first.platform_ref},
        "parent": {"uri": uri, "cid": fake_bluesky.cids[uri]},
    }
    assert fake_bluesky.problems == []  # every reply a strong reference the PDS knows


def test_a_bluesky_address_given_with_the_accounts_did_is_understood_too(
    fake_bluesky, istanbul, editor, reviewer
):
    delivery = unknown_at(thread_delivery(fake_bluesky, istanbul, editor, reviewer), fake_bluesky, 2)
    rkey = made(fake_bluesky)[1]
    url = f"https://bsky.app/profile/{fake_bluesky.DID}/post/{rkey}"
    workflow.continue_delivery(editor, delivery, url)
    assert DeliveryPart.objects.get(delivery=delivery, number=2).platform_ref


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("https://x.com/SomeoneElse/status/1445880500002", "not of this channel's account @BelgiumInTR"),
        ("https://example.org/BelgiumInTR/status/1", "not the address of a post on X"),
        ("https://x.com/BelgiumInTR", "not the address of a post on X"),
        ("javascript:alert(1)", "Give the live address of the post"),
        ("", "Give the live address of the post"),
    ],
)
def test_a_wrong_address_is_refused_with_a_400_and_nothing_changes(
    fake_x, istanbul, editor, reviewer, client, address, said
):
    delivery = unknown_at(thread_delivery(fake_x, istanbul, editor, reviewer), fake_x, 2)
    before = snapshot(delivery)
    response = continue_through_the_page(client, editor, delivery, address)
    assert response.status_code == 400
    page = response.content.decode()
    assert said in page.replace("&#x27;", "'")
    assert 'aria-invalid="true"' in page or not address  # the form again, to correct it
    assert snapshot(delivery) == before
    engine.publish_due()
    assert len(fake_x.calls("post")) == 2  # nothing more was sent


def test_a_bluesky_post_that_cannot_be_found_is_refused_and_the_delivery_stays_unknown(
    fake_bluesky, istanbul, editor, reviewer, client
):
    delivery = unknown_at(thread_delivery(fake_bluesky, istanbul, editor, reviewer), fake_bluesky, 2)
    before = snapshot(delivery)
    response = continue_through_the_page(
        client, editor, delivery, "https://bsky.app/profile/belgium.bsky.social/post/3kzzzzzzzzzz2"
    )
    assert response.status_code == 400
    assert "could not be looked up" in response.content.decode()
    assert "Could not locate record" in response.content.decode()
    assert snapshot(delivery) == before


def test_a_bluesky_lookup_that_hangs_is_refused_and_nothing_changes(fake_bluesky, istanbul, editor, reviewer):
    delivery = unknown_at(thread_delivery(fake_bluesky, istanbul, editor, reviewer), fake_bluesky, 2)
    before = snapshot(delivery)
    fake_bluesky.script("record", delay=1.0)
    with pytest.raises(workflow.AddressRefused, match="could not be looked up"):
        workflow.continue_delivery(
            editor, delivery, f"https://bsky.app/profile/belgium.bsky.social/post/{made(fake_bluesky)[1]}"
        )
    assert snapshot(delivery) == before


def test_a_mastodon_address_on_another_server_is_refused(istanbul, editor, reviewer):
    fake = FAKES["mastodon"]()
    try:
        delivery = unknown_at(thread_delivery(fake, istanbul, editor, reviewer), fake, 2)
        status_id = made(fake)[1]
        with pytest.raises(workflow.AddressRefused, match="not on the channel's server"):
            workflow.continue_delivery(editor, delivery, f"https://mastodon.social/@belgium/{status_id}")
        workflow.continue_delivery(editor, delivery, f"{fake.url}/@belgium/{status_id}")
        engine.publish_due()
        assert [status["in_reply_to_id"] for status in fake.statuses.values()][2] == status_id
        assert Delivery.objects.get(pk=delivery.pk).status == "delivered"
        assert fake.problems == []
    finally:
        fake.close()


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("editor", True),
        ("manager", True),
        ("reviewer", True),
        ("other_editor", False),
        ("partner_user", False),
        ("outsider", False),
    ],
    indirect=["persona"],
)
def test_who_may_continue_a_delivery(fake_x, istanbul, editor, reviewer, client, persona, allowed):
    delivery = unknown_at(thread_delivery(fake_x, istanbul, editor, reviewer), fake_x, 2)
    before = snapshot(delivery)
    response = continue_through_the_page(client, persona, delivery, x_address(made(fake_x)[1]))
    if allowed:
        assert response.status_code == 302
        assert Delivery.objects.get(pk=delivery.pk).status == "pending"
    else:
        assert response.status_code == 403
        assert snapshot(delivery) == before


@pytest.fixture
def other_editor(ankara):
    return make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)


def test_continuing_from_the_last_part_delivers_it_and_publishes_the_publication(
    fake_x, istanbul, editor, reviewer
):
    delivery = unknown_at(
        thread_delivery(fake_x, istanbul, editor, reviewer, languages=["nl", "fr"]), fake_x, 2
    )
    assert delivery.continuable_part is None  # nothing follows it: the record form does it too
    last = made(fake_x)[1]
    delivery = workflow.continue_delivery(reviewer, delivery, x_address(last))
    assert (delivery.status, delivery.recorded_by, delivery.error) == ("delivered", reviewer, "")
    assert statuses(delivery) == ["delivered", "delivered"]
    assert Publication.objects.get(pk=delivery.publication_id).status == PublicationStatus.PUBLISHED
    engine.publish_due()
    assert len(fake_x.calls("post")) == 2


def test_continuing_a_delivery_that_is_not_unknown_is_refused_with_a_message(
    fake_x, istanbul, editor, reviewer, client
):
    delivery = thread_delivery(fake_x, istanbul, editor, reviewer)
    engine.deliver(delivery.pk)
    before = snapshot(delivery)
    response = continue_through_the_page(client, editor, delivery, x_address(made(fake_x)[1]))
    assert response.status_code == 302
    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert said == [
        "This delivery is not waiting for a check (its outcome is not unknown): nothing was changed."
    ]
    assert snapshot(delivery) == before
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.continue_delivery(editor, delivery, x_address(made(fake_x)[1]))


def test_a_second_person_continuing_the_same_delivery_is_refused(fake_x, istanbul, editor, reviewer):
    delivery = unknown_at(thread_delivery(fake_x, istanbul, editor, reviewer), fake_x, 2)
    workflow.continue_delivery(editor, delivery, x_address(made(fake_x)[1]))
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.continue_delivery(reviewer, delivery, x_address(made(fake_x)[1]))
    assert delivery.publication.events.filter(verb="delivery_continued").count() == 1


def test_separate_posts_need_no_reference_only_the_address(istanbul, editor, reviewer):
    fake = FAKES["mastodon"]()
    try:
        channel = make_api_channel(
            post=istanbul,
            connector="mastodon",
            endpoint=fake.url,
            plan=LanguagePlan.SEPARATE,
            languages="nl,fr,en",
        )
        delivery = unknown_at(due_delivery(channel, editor, reviewer), fake, 2)
        workflow.continue_delivery(editor, delivery, "https://elsewhere.example/@belgium/2")
        part_two = DeliveryPart.objects.get(delivery=delivery, number=2)
        assert (part_two.status, part_two.platform_post_id, part_two.url) == (
            "delivered",
            "",
            "https://elsewhere.example/@belgium/2",
        )
        engine.publish_due()
        assert Delivery.objects.get(pk=delivery.pk).status == "delivered"
        assert len(fake.calls("post")) == 3
        assert [status["in_reply_to_id"] for status in fake.statuses.values()] == [None, None, None]
    finally:
        fake.close()


def test_the_publish_now_list_and_the_publication_page_offer_to_continue_from_the_unknown_post(
    fake_x, istanbul, editor, reviewer, client
):
    delivery = unknown_at(thread_delivery(fake_x, istanbul, editor, reviewer), fake_x, 2)
    client.force_login(editor)
    for page in (
        client.get(reverse("publish_now")).content.decode(),
        client.get(reverse("publication_detail", args=[delivery.publication_id])).content.decode(),
    ):
        assert reverse("delivery_continue", args=[delivery.pk]) in page
        assert f'<label for="continue-url-{delivery.pk}">Live address of post 2</label>' in page
        assert "Post 2 went out: record its address and send the rest" in page
        assert "It did not go out: send it again" in page
        assert "Record every post as published by hand" in page
        # Continuing comes first.
        assert page.index("Post 2 went out") < page.index("It did not go out")


def test_a_single_post_delivery_is_not_offered_to_continue(istanbul, editor, reviewer, client):
    fake = FAKES["x"]()
    try:
        channel = make_api_channel(
            post=istanbul, connector="x", endpoint=fake.url, plan="single", languages="fr"
        )
        delivery = unknown_at(due_delivery(channel, editor, reviewer), fake, 1)
        client.force_login(editor)
        page = client.get(reverse("publish_now")).content.decode()
        assert reverse("delivery_continue", args=[delivery.pk]) not in page
        assert "Record as published" in page
    finally:
        fake.close()


# --- The post at an address, per connector ------------------------------------------------


def x_channel(istanbul):
    return make_channel(post=istanbul, platform="x", handle="@BelgiumInTR")


@pytest.mark.parametrize(
    ("url", "post_id"),
    [
        ("https://x.com/BelgiumInTR/status/1445880500002", "1445880500002"),
        ("https://twitter.com/belgiumintr/status/1445880500002?s=20", "1445880500002"),
        ("https://mobile.twitter.com/BelgiumInTR/status/12/photo/1", "12"),
        ("https://x.com/i/web/status/77", "77"),
    ],
)
def test_an_x_address_gives_the_posts_id(istanbul, url, post_id):
    assert x.reference_from_url(x_channel(istanbul), url) == Published(post_id=post_id, url=url)


@pytest.mark.parametrize(
    "url",
    ["https://x.com/BelgiumInTR", "https://x.com/Other/status/1", "https://x.example/BelgiumInTR/status/1"],
)
def test_an_x_address_of_no_post_of_the_channel_is_refused(istanbul, url):
    with pytest.raises(NotAPostAddress):
        x.reference_from_url(x_channel(istanbul), url)


def test_a_mastodon_address_gives_the_status_id_on_the_channels_server(istanbul):
    channel = make_channel(post=istanbul, platform="mastodon", handle="@belgium@diplo.social")
    channel.endpoint = "https://diplo.social"
    for url in ("https://diplo.social/@belgium/113", "https://diplo.social/users/belgium/statuses/113"):
        assert mastodon.reference_from_url(channel, url).post_id == "113"
    with pytest.raises(NotAPostAddress):
        mastodon.reference_from_url(channel, "https://diplo.social/@belgium")


def test_a_bluesky_address_elsewhere_than_the_app_is_refused_before_asking_the_server(istanbul):
    channel = make_channel(post=istanbul, platform="bluesky", handle="@belgium.bsky.social")
    with pytest.raises(NotAPostAddress):
        bluesky.reference_from_url(channel, "https://example.org/profile/belgium.bsky.social/post/3kabc")


def test_pages_and_webhooks_keep_the_address_and_the_id_where_it_is_plain(istanbul):
    channel = make_channel(post=istanbul, platform="facebook")
    assert facebook.reference_from_url(channel, "https://www.facebook.com/1049_2002") == Published(
        post_id="1049_2002", url="https://www.facebook.com/1049_2002"
    )
    assert facebook.reference_from_url(channel, "https://www.facebook.com/share/p/xyz/").post_id == ""
    urn = "urn:li:share:7000001"
    assert linkedin.reference_from_url(channel, f"https://www.linkedin.com/feed/update/{urn}/").post_id == urn
    assert webhook.reference_from_url(channel, "https://intranet.example/posts/9") == Published(
        post_id="", url="https://intranet.example/posts/9"
    )


def test_a_webhook_thread_continued_from_an_address_answers_it_by_that_address(
    istanbul, editor, reviewer, client, monkeypatch
):
    monkeypatch.setattr(webhook, "TIMEOUT_SECONDS", 0.6)

    receiver = FakeReceiver(delay=1.0)  # the first answer comes after the connector gave up
    try:
        channel = make_channel(
            post=istanbul, platform="mastodon", handle="@hook", content_languages="nl,fr,en"
        )
        channel.connector, channel.endpoint, channel.language_plan = (
            "webhook",
            receiver.url,
            LanguagePlan.THREAD,
        )
        channel.save()
        delivery = due_delivery(channel, editor, reviewer)
        assert engine.deliver(delivery.pk) == DeliveryStatus.UNKNOWN
        assert receiver.wait_for(1, timeout=5)
        receiver.delay = 0.0

        response = continue_through_the_page(client, editor, delivery, "https://social.example/post-1")
        assert response.status_code == 302
        engine.publish_due()

        assert receiver.wait_for(3, timeout=5)
        second = receiver.received[1].body
        assert second["part"]["number"] == 2
        assert second["in_reply_to"] is None  # the receiver's id of post 1 is not known
        assert second["in_reply_to_url"] == "https://social.example/post-1"
        assert receiver.received[2].body["in_reply_to"] == "post-2"
        assert receiver.problems == []
        assert len(receiver.received) == 3  # post 1 was not sent again
    finally:
        receiver.close()


def test_recording_by_hand_after_a_live_first_post_keeps_its_address_and_gives_the_new_one_to_the_next(
    fake_x, istanbul, editor, reviewer
):
    delivery = unknown_at(thread_delivery(fake_x, istanbul, editor, reviewer), fake_x, 2)
    first = DeliveryPart.objects.get(delivery=delivery, number=1)

    workflow.record_delivery(editor, delivery, x_address("999"))

    delivery.refresh_from_db()
    assert (delivery.status, delivery.url, delivery.platform_post_id) == (
        "delivered",
        first.url,
        first.platform_post_id,
    )
    urls = list(
        DeliveryPart.objects.filter(delivery=delivery).order_by("number").values_list("url", flat=True)
    )
    assert urls == [first.url, x_address("999"), "", ""]
    assert statuses(delivery) == ["delivered"] * 4
