"""Deliveries with parts: a thread is several platform posts, each sent at most once.

Each part is claimed before its platform call and its platform id stored as soon as the
platform answers. A part that surely failed stops the thread there and the next try
resumes at it; a part whose outcome is unknown waits for a person; a delivered part is
never sent again. Against the local fake of X's API (nothing leaves 127.0.0.1).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from calendar_app import workflow
from calendar_app.models import Delivery, DeliveryPart, DeliveryStatus, Publication, PublicationStatus
from calendar_app.publishing import engine, parts
from diplomacy.models import Channel, LanguagePlan
from tests.factories import make_channel
from tests.fake_platforms import FAKES
from tests.test_connectors import VARIANTS, due_delivery, make_api_channel

#: The thread's four parts, in the channel's order.
ORDER = ["nl", "fr", "en", "tr"]


class WorkerKilled(BaseException):
    """A worker stopping dead: nothing after it runs."""


pytestmark = pytest.mark.usefixtures("platforms_on_loopback")


@pytest.fixture
def fake():
    server = FAKES["x"]()
    yield server
    server.close()


@pytest.fixture
def thread(fake, istanbul, editor, reviewer) -> Delivery:
    """A due delivery of a four-language publication on an X channel that threads them."""
    channel = make_api_channel(
        post=istanbul, connector="x", endpoint=fake.url, plan=LanguagePlan.THREAD, languages=",".join(ORDER)
    )
    return due_delivery(channel, editor, reviewer)


def deliver(delivery: Delivery) -> Delivery:
    engine.deliver(delivery.pk)
    return Delivery.objects.get(pk=delivery.pk)


def try_again(delivery: Delivery) -> Delivery:
    """The back-off skipped: the next claim."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    return deliver(delivery)


def posted_texts(fake) -> list[str]:
    """The texts X made into posts (a refused request made none)."""
    return [document["text"] for document in fake.tweets.values()]


def statuses(delivery: Delivery) -> list[str]:
    return list(
        DeliveryPart.objects.filter(delivery=delivery).order_by("number").values_list("status", flat=True)
    )


def test_a_thread_is_delivered_part_after_part_each_answering_the_one_before(thread, fake):
    delivery = deliver(thread)
    rows = list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))
    assert [row.languages for row in rows] == ORDER
    assert posted_texts(fake) == [VARIANTS[language] for language in ORDER]
    replies = [call.json().get("reply") for call in fake.calls("post")]
    assert replies == [None] + [{"in_reply_to_tweet_id": row.platform_post_id} for row in rows[:-1]]
    assert (delivery.status, delivery.platform_post_id, delivery.url) == (
        "delivered",
        rows[0].platform_post_id,
        rows[0].url,
    )
    assert {row.status for row in rows} == {"delivered"}
    assert Publication.objects.get(pk=delivery.publication_id).status == PublicationStatus.PUBLISHED
    assert fake.problems == []


def test_part_one_keeps_the_deliverys_idempotency_key_and_the_others_get_their_own(thread):
    deliver(thread)
    keys = list(
        DeliveryPart.objects.filter(delivery=thread)
        .order_by("number")
        .values_list("idempotency_key", flat=True)
    )
    assert keys[0] == thread.idempotency_key
    assert len(set(keys)) == 4


def test_a_failure_at_part_three_stops_the_thread_there_and_the_next_try_resumes_at_part_three(thread, fake):
    fake.script("post", 503, {"title": "Service Unavailable"}, after=2)
    delivery = deliver(thread)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.error.startswith(
        "Parts 1–2 of 4 are live; part 3 failed: X had a server error (HTTP 503)"
    )
    assert statuses(delivery) == ["delivered", "delivered", "pending", "pending"]
    assert len(fake.calls("post")) == 3  # part 4 was not tried after part 3 failed
    first = DeliveryPart.objects.get(delivery=delivery, number=1)
    assert (delivery.platform_post_id, delivery.url) == (first.platform_post_id, first.url)

    del fake.scripted["post"]
    delivery = try_again(delivery)
    assert delivery.status == "delivered" and delivery.error == ""
    # Parts 1 and 2 went out once; part 3 answers part 2 (sent before the failure).
    assert posted_texts(fake) == [VARIANTS[language] for language in ORDER]
    rows = list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))
    assert fake.calls("post")[3].json()["reply"] == {"in_reply_to_tweet_id": rows[1].platform_post_id}
    assert fake.problems == []


def test_a_part_failing_for_good_fails_the_publication_and_sending_it_again_resumes_at_that_part(
    thread, fake, editor
):
    fake.script("post", 503, {"title": "Service Unavailable"}, after=1)
    delivery = deliver(thread)
    for _attempt in range(engine.MAX_ATTEMPTS - 1):
        delivery = try_again(delivery)
    assert (delivery.status, delivery.attempts) == ("failed", engine.MAX_ATTEMPTS)
    assert delivery.error.startswith("Part 1 of 4 is live; part 2 failed:")
    assert statuses(delivery) == ["delivered", "failed", "pending", "pending"]
    publication = Publication.objects.get(pk=delivery.publication_id)
    assert publication.status == PublicationStatus.FAILED

    del fake.scripted["post"]
    workflow.retry(editor, publication)
    engine.publish_due()
    assert Delivery.objects.get(pk=delivery.pk).status == "delivered"
    assert posted_texts(fake) == [VARIANTS[language] for language in ORDER]
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.PUBLISHED


def test_a_part_whose_outcome_is_unknown_is_never_retried_blindly(thread, fake):
    fake.script("post", delay=1.0, after=1)  # part 2: X takes longer than the connector waits
    delivery = deliver(thread)
    assert delivery.status == "unknown"
    assert delivery.error.startswith("Part 1 of 4 is live; part 2 may have gone out:")
    assert statuses(delivery) == ["delivered", "unknown", "pending", "pending"]
    del fake.scripted["post"]
    engine.publish_due()
    engine.publish_due()
    assert len(fake.calls("post")) == 2
    assert Delivery.objects.get(pk=delivery.pk).awaits_a_person


def test_after_a_person_says_the_unknown_part_did_not_go_out_the_thread_resumes_there(thread, fake, editor):
    fake.script("post", delay=1.0, after=1)
    delivery = deliver(thread)
    del fake.scripted["post"]
    workflow.retry_delivery(editor, delivery)
    assert statuses(delivery) == ["delivered", "pending", "pending", "pending"]
    engine.publish_due()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    sent = [call.json()["text"] for call in fake.calls("post")]
    # Part 1 once; part 2 twice (the request the person checked, and the one sent again).
    assert sent == [VARIANTS["nl"], VARIANTS["fr"], VARIANTS["fr"], VARIANTS["en"], VARIANTS["tr"]]


def test_a_claim_left_mid_thread_by_a_dead_worker_makes_that_part_unknown(thread, fake, monkeypatch):
    real = engine.connector_for("x")

    class Dying:
        @staticmethod
        def publish(delivery, part, reply_to):
            if part.number == 3:
                raise WorkerKilled
            return real.publish(delivery, part, reply_to)

    with monkeypatch.context() as patched:
        patched.setattr(engine, "connector_for", lambda name: Dying)
        with pytest.raises(WorkerKilled):
            engine.deliver(thread.pk)
    assert statuses(thread) == ["delivered", "delivered", "pending", "pending"]
    engine.publish_due()  # the claim holds: nothing is sent
    assert len(fake.calls("post")) == 2
    with time_machine.travel(timezone.now() + engine.CLAIM_EXPIRY + timedelta(minutes=1), tick=False):
        assert engine.publish_due()["expired_claims"] == 1
    delivery = Delivery.objects.get(pk=thread.pk)
    assert delivery.status == "unknown"
    assert delivery.error.startswith("Parts 1–2 of 4 are live; part 3 may have gone out:")
    assert statuses(delivery) == ["delivered", "delivered", "unknown", "pending"]
    assert len(fake.calls("post")) == 2


def test_what_goes_out_is_frozen_at_the_first_claim(thread, fake):
    fake.script("post", 503, {"title": "Service Unavailable"}, after=1)
    deliver(thread)
    # The channel's manager changes its languages and plan meanwhile.
    thread.channel.content_languages, thread.channel.language_plan = "en", LanguagePlan.COMBINED
    thread.channel.save()
    del fake.scripted["post"]
    delivery = try_again(thread)
    assert delivery.status == "delivered"
    assert posted_texts(fake) == [VARIANTS[language] for language in ORDER]
    assert fake.problems == []  # still a thread: each part answers the one before


def test_recording_a_manual_thread_records_every_part_with_the_address_on_the_first(
    istanbul, editor, reviewer
):
    channel = make_channel(post=istanbul, platform="x", content_languages="nl,fr")
    channel.language_plan = LanguagePlan.THREAD
    channel.save()
    delivery = due_delivery(channel, editor, reviewer)
    assert engine.deliver(delivery.pk) == "skipped"  # posted by a person
    workflow.record_delivery(editor, delivery, "https://x.com/BelgiumInTR/status/1")
    rows = list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))
    assert [(row.languages, row.status, row.url) for row in rows] == [
        ("nl", "delivered", "https://x.com/BelgiumInTR/status/1"),
        ("fr", "delivered", ""),
    ]
    assert Delivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED


def test_a_channel_with_no_text_in_its_languages_sends_nothing_and_says_why(fake, istanbul, editor, reviewer):
    channel = make_api_channel(post=istanbul, connector="x", endpoint=fake.url, plan="single", languages="fr")
    due = due_delivery(channel, editor, reviewer)
    # After the approval, its post manager makes it a German account (no text in German).
    Channel.objects.filter(pk=channel.pk).update(content_languages="de")
    delivery = deliver(due)
    assert delivery.status == "pending"
    assert "no approved text in this channel's languages" in delivery.error
    assert fake.calls("post") == []
    assert not DeliveryPart.objects.filter(delivery=delivery).exists()


def test_a_thread_taking_too_long_stops_between_two_parts_and_goes_on_in_the_next_run(
    thread, fake, monkeypatch
):
    monkeypatch.setattr(engine, "PARTS_BUDGET_SECONDS", -1)  # every part takes "too long"
    delivery = deliver(thread)
    assert (delivery.status, delivery.attempts, delivery.claimed_at) == ("pending", 0, None)
    assert statuses(delivery) == ["delivered", "pending", "pending", "pending"]
    for expected in (2, 3, 4):
        engine.publish_due()  # one part a run
        assert len(fake.calls("post")) == expected
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert posted_texts(fake) == [VARIANTS[language] for language in ORDER]
    assert fake.problems == []


def test_mastodon_gets_each_parts_own_key_and_language_so_a_repeated_part_cannot_post_twice(
    istanbul, editor, reviewer
):
    fake = FAKES["mastodon"]()
    try:
        channel = make_api_channel(
            post=istanbul,
            connector="mastodon",
            endpoint=fake.url,
            plan=LanguagePlan.THREAD,
            languages="nl,fr,en",
        )
        delivery = due_delivery(channel, editor, reviewer)
        # Part 2: a gateway error. Mastodon refuses a repeated key, so it is tried again.
        fake.script("post", 502, {"error": "Bad gateway"}, after=1)
        delivery = deliver(delivery)
        assert delivery.status == "pending"
        assert delivery.error.startswith("Part 1 of 3 is live; part 2 failed:")
        del fake.scripted["post"]
        delivery = try_again(delivery)
        assert delivery.status == "delivered"
        rows = list(DeliveryPart.objects.filter(delivery=delivery).order_by("number"))
        calls = fake.calls("post")
        assert [call.headers["Idempotency-Key"] for call in calls] == [
            rows[0].idempotency_key,
            rows[1].idempotency_key,  # refused by the gateway
            rows[1].idempotency_key,
            rows[2].idempotency_key,
        ]
        assert [call.form()["language"] for call in calls] == [["nl"], ["fr"], ["fr"], ["en"]]
        assert [status["in_reply_to_id"] for status in fake.statuses.values()] == [
            None,
            rows[0].platform_post_id,
            rows[1].platform_post_id,
        ]
        assert fake.problems == []
    finally:
        fake.close()


def test_the_publish_now_list_can_show_a_manual_channels_parts_before_and_after_they_are_recorded(
    istanbul, editor, reviewer
):
    channel = make_channel(post=istanbul, platform="mastodon", content_languages="fr,nl")
    channel.language_plan = LanguagePlan.THREAD
    channel.save()
    delivery = due_delivery(channel, editor, reviewer)
    before = parts.for_delivery(delivery)
    assert [(part.languages, part.text) for part in before] == [
        (("fr",), VARIANTS["fr"]),
        (("nl",), VARIANTS["nl"]),
    ]
    workflow.record_delivery(editor, delivery, "https://diplo.social/@belgium/1")
    after = parts.for_delivery(
        Delivery.objects.select_related("channel__post", "publication").get(pk=delivery.pk)
    )
    assert [(part.number, part.languages, part.text) for part in after] == [
        (part.number, part.languages, part.text) for part in before
    ]


def approved_again_with(delivery: Delivery, editor, reviewer, **texts: str) -> None:
    """The publication edited (its texts), sent back to draft, submitted and approved again."""
    publication = Publication.objects.get(pk=delivery.publication_id)
    for language, text in texts.items():
        publication.variants.filter(language=language).update(text=text)
    workflow.withdraw(editor, publication)
    # Time for review again (the lead-time guideline), then due at once once approved.
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() + timedelta(days=3))
    publication = Publication.objects.get(pk=publication.pk)
    workflow.submit(editor, publication)
    publication = Publication.objects.get(pk=publication.pk)
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(seconds=5))


def test_a_thread_approved_again_before_any_part_went_out_sends_the_new_texts(thread, fake, editor, reviewer):
    fake.script("post", 503, {"title": "Service Unavailable"})
    delivery = deliver(thread)
    assert statuses(delivery) == ["pending"] * 4 and posted_texts(fake) == []
    del fake.scripted["post"]

    approved_again_with(delivery, editor, reviewer, nl="Nieuwe tekst: de missie is verschoven.")
    delivery = try_again(delivery)

    assert delivery.status == "delivered"
    assert posted_texts(fake)[0] == "Nieuwe tekst: de missie is verschoven."
    assert VARIANTS["nl"] not in posted_texts(fake)
    assert delivery.revision == Publication.objects.get(pk=delivery.publication_id).revision


def test_a_thread_approved_again_after_a_part_went_out_waits_for_a_person_and_sends_nothing_more(
    thread, fake, editor, reviewer
):
    fake.script("post", 503, {"title": "Service Unavailable"}, after=1)
    delivery = deliver(thread)
    assert statuses(delivery)[:2] == ["delivered", "pending"]
    del fake.scripted["post"]

    approved_again_with(delivery, editor, reviewer, fr="Nouveau texte : la mission est reportée.")
    delivery = try_again(delivery)

    assert delivery.status == "unknown"
    assert "approved again with other texts" in delivery.error
    assert posted_texts(fake) == [VARIANTS["nl"]]  # nothing of either revision after part 1


def test_a_delivery_a_worker_is_sending_cannot_be_recorded_by_hand_meanwhile(thread, editor):
    Delivery.objects.filter(pk=thread.pk).update(claimed_at=timezone.now())  # a worker holds it

    with pytest.raises(workflow.TransitionNotAllowed, match="being sent at this moment"):
        workflow.record_delivery(editor, thread, "https://x.com/BelgiumInTR/status/1")

    delivery = Delivery.objects.get(pk=thread.pk)
    assert (delivery.status, delivery.url) == ("pending", "")
