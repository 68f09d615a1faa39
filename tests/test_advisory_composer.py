"""The advisory composer's defaults: only channels active in the last 30 days are ticked, the
counts are shown before sending, and a reviewer may still tick a quiet channel."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_app import workflow
from calendar_app.forms.crisis import recently_active_channel_ids
from calendar_app.models import Delivery, Publication, PublicationStatus
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post

S = PublicationStatus
TEXTS = {
    "text_nl": "Blijf binnen.",
    "text_fr": "Restez à l'intérieur.",
    "text_en": "Stay indoors.",
}


def delivered(channel, author, *, days_ago: int, recorded: bool = False) -> Delivery:
    """Something that went out on `channel` `days_ago` days ago (by the engine or recorded by hand)."""
    publication = make_publication(post=channel.post, author=author, status=S.APPROVED, channels=[channel])
    return Delivery.objects.create(
        publication=publication,
        channel=channel,
        status="delivered",
        delivered_at=timezone.now() - timedelta(days=days_ago),
        recorded_by=author if recorded else None,
    )


def published(channel, author, *, days_ago: int) -> Publication:
    """A publication published on `channel` `days_ago` days ago (no delivery row: posted before)."""
    when = (timezone.now() - timedelta(days=days_ago)).astimezone(channel.post.zone)
    return make_publication(
        post=channel.post,
        author=author,
        status=S.PUBLISHED,
        channels=[channel],
        local_date=when.date(),
        local_time=when.time().replace(second=0, microsecond=0),
    )


@pytest.fixture
def world(reviewer):
    """Three posts in Turkey: Ankara active on Facebook (delivered) and X (published), Izmir
    active on Facebook by hand and quiet on X, Antalya quiet (its last post 40 days ago)."""
    ankara = make_post(name="Embassy of Belgium in Ankara")
    izmir = make_post(name="Consulate of Belgium in Izmir")
    antalya = make_post(name="Honorary consulate in Antalya")
    channels = {
        "ankara_fb": make_channel(post=ankara, platform="facebook", handle="@be.ankara"),
        "ankara_x": make_channel(post=ankara, platform="x", handle="@BEinAnkara"),
        "izmir_fb": make_channel(post=izmir, platform="facebook", handle="@be.izmir"),
        "izmir_x": make_channel(post=izmir, platform="x", handle="@BEinIzmir"),
        "antalya_fb": make_channel(post=antalya, platform="facebook", handle="@be.antalya"),
    }
    delivered(channels["ankara_fb"], reviewer, days_ago=5)
    published(channels["ankara_x"], reviewer, days_ago=10)
    delivered(channels["izmir_fb"], reviewer, days_ago=29, recorded=True)
    delivered(channels["antalya_fb"], reviewer, days_ago=40)
    published(channels["izmir_x"], reviewer, days_ago=31)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    return {"crisis": crisis, **channels}


def url(world) -> str:
    return reverse("advisory_compose", args=[world["crisis"].pk])


def ticked(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="channels" value="(\d+)" id="id_channels_\d+" checked', html)}


def page_text(response) -> str:
    """The page's words, without tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def test_a_channel_is_active_with_a_delivery_or_a_publication_in_the_last_30_days(world):
    ids = [world[name].pk for name in ("ankara_fb", "ankara_x", "izmir_fb", "izmir_x", "antalya_fb")]
    assert recently_active_channel_ids(ids) == {
        world["ankara_fb"].pk,
        world["ankara_x"].pk,
        world["izmir_fb"].pk,
    }


def test_the_composer_ticks_only_active_channels_says_the_rule_and_counts(client, reviewer, world):
    client.force_login(reviewer)
    response = client.get(url(world))
    html = response.content.decode()
    assert ticked(html) == {world["ankara_fb"].pk, world["ankara_x"].pk, world["izmir_fb"].pk}
    text = page_text(response)
    assert "the channels active in the last 30 days, that is with a delivery delivered or recorded" in text
    assert (
        "2 posts, 2 Facebook pages, 1 X account (only channels active in the last 30 days are ticked)" in text
    )
    assert "1 affected post gets nothing" in text
    assert "(quiet)" in text


def test_sending_as_ticked_reaches_only_the_active_channels(client, reviewer, world):
    client.force_login(reviewer)
    data = {
        "title": "Stay indoors",
        **TEXTS,
        "platforms": ["facebook", "x"],
        "channels_shown": "1",
        "channels": [world["ankara_fb"].pk, world["ankara_x"].pk, world["izmir_fb"].pk],
    }
    response = client.post(url(world), data)
    assert response.status_code == 302
    made = Publication.objects.filter(crisis=world["crisis"])
    by_post = {p.post.name: sorted(c.handle for c in p.channels.all()) for p in made}
    assert by_post == {
        "Embassy of Belgium in Ankara": ["@BEinAnkara", "@be.ankara"],
        "Consulate of Belgium in Izmir": ["@be.izmir"],
    }


def test_a_reviewer_can_still_tick_a_quiet_channel(client, reviewer, world):
    client.force_login(reviewer)
    data = {
        "title": "Stay indoors",
        **TEXTS,
        "platforms": ["facebook"],
        "channels_shown": "1",
        "channels": [world["ankara_fb"].pk, world["antalya_fb"].pk],
    }
    assert client.post(url(world), data).status_code == 302
    posts = set(Publication.objects.filter(crisis=world["crisis"]).values_list("post__name", flat=True))
    assert posts == {"Embassy of Belgium in Ankara", "Honorary consulate in Antalya"}


def test_counting_again_shows_the_counts_for_what_is_ticked_and_sends_nothing(client, reviewer, world):
    client.force_login(reviewer)
    data = {
        "title": "Stay indoors",
        **TEXTS,
        "platforms": ["facebook"],
        "channels_shown": "1",
        "channels": [world["ankara_fb"].pk, world["izmir_fb"].pk, world["antalya_fb"].pk],
        "check": "1",
    }
    response = client.post(url(world), data)
    assert response.status_code == 200
    assert "3 posts, 3 Facebook pages (only channels" in page_text(response)
    assert ticked(response.content.decode()) == {
        world["ankara_fb"].pk,
        world["izmir_fb"].pk,
        world["antalya_fb"].pk,
    }
    assert not Publication.objects.filter(crisis=world["crisis"]).exists()


def test_a_ticked_channel_publishing_none_of_the_languages_still_gets_nothing(client, reviewer, world):
    turkish = make_channel(
        post=world["antalya_fb"].post, platform="x", handle="@tr.only", content_languages="tr"
    )
    client.force_login(reviewer)
    data = {
        "title": "Stay indoors",
        **TEXTS,
        "platforms": ["x"],
        "channels_shown": "1",
        "channels": [world["ankara_x"].pk, turkish.pk],
    }
    response = client.post(url(world), {**data, "check": "1"})
    assert "1 post, 1 X account (only" in page_text(response)
    assert "2 affected posts get nothing" in page_text(response)
    assert client.post(url(world), data).status_code == 302
    assert list(Publication.objects.filter(crisis=world["crisis"]).values_list("post__name", flat=True)) == [
        "Embassy of Belgium in Ankara"
    ]


def test_nothing_ticked_sends_nothing_and_says_why(client, reviewer, world):
    client.force_login(reviewer)
    data = {"title": "Stay indoors", **TEXTS, "platforms": ["facebook"], "channels_shown": "1"}
    response = client.post(url(world), data)
    assert response.status_code == 400
    assert "None of the affected posts has a channel" in page_text(response)
    assert not Publication.objects.filter(crisis=world["crisis"]).exists()


def test_a_forged_channel_of_a_post_outside_the_crisis_is_refused(client, reviewer, world):
    elsewhere = make_channel(
        post=make_post(name="Embassy of Belgium in Berlin", country="DE"), platform="facebook"
    )
    client.force_login(reviewer)
    data = {
        "title": "Stay indoors",
        **TEXTS,
        "platforms": ["facebook"],
        "channels_shown": "1",
        "channels": [world["ankara_fb"].pk, elsewhere.pk],
    }
    response = client.post(url(world), data)
    assert response.status_code == 400
    assert not Publication.objects.filter(crisis=world["crisis"]).exists()


@pytest.mark.parametrize("forged", ["²", "1" * 40, "-3", "7.5"])
@pytest.mark.parametrize("action", ["count", "send"])
def test_a_channel_value_that_is_no_id_is_left_out_without_an_error(client, reviewer, world, forged, action):
    client.force_login(reviewer)
    data = {
        "title": "Stay indoors",
        **TEXTS,
        "platforms": ["facebook"],
        "channels_shown": "1",
        "channels": [forged],
    }
    if action == "count":
        data["check"] = "1"
    response = client.post(url(world), data)
    assert response.status_code in (200, 400)
    assert not Publication.objects.filter(crisis=world["crisis"]).exists()


def _composer_queries(client, crisis) -> int:
    client.get(reverse("advisory_compose", args=[crisis.pk]))  # the bell's count is then kept
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("advisory_compose", args=[crisis.pk]))
    assert response.status_code == 200
    return len(captured)


def test_the_composer_runs_the_same_queries_for_few_and_many_posts(client, reviewer):
    client.force_login(reviewer)
    counts = []
    for country, size in (("TR", 2), ("DE", 20)):
        for n in range(size):
            post = make_post(name=f"Post {country} {n}", country=country)
            channel = make_channel(post=post, platform="facebook")
            if n % 2:
                delivered(channel, reviewer, days_ago=3)
        crisis = workflow.declare_crisis(reviewer, title=f"Crisis {country}", reason="r", countries=[country])
        counts.append(_composer_queries(client, crisis))
    assert counts[0] == counts[1]


def test_break_glass_keeps_every_active_channel_of_the_post(client, manager, reviewer, istanbul):
    channel = make_channel(post=istanbul, platform="facebook")  # quiet, but break-glass has no choice
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="r", countries=["TR"])
    content = workflow.AdvisoryContent(
        title="Stay indoors",
        variants={"nl": "Blijf.", "fr": "Restez.", "en": "Stay."},
        platforms=["facebook"],
    )
    publication = workflow.break_glass(manager, crisis, istanbul, content, reason="Central unreachable.")
    assert list(publication.channels.all()) == [channel]


def test_with_htmx_the_counts_come_back_alone_as_boxes_change(client, reviewer, world):
    client.force_login(reviewer)
    data = {
        "platforms": ["facebook"],
        "channels_shown": "1",
        "channels": [world["ankara_fb"].pk],
        "check": "1",
    }
    response = client.post(url(world), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="advisory-reach"' in html
    assert "1 post, 1 Facebook page (only channels" in page_text(response)
    assert not Publication.objects.filter(crisis=world["crisis"]).exists()
