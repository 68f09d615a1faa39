"""What a channel sends: calendar_app.sending.parts_for, the one answer for every page and connector."""

from __future__ import annotations

import pytest

from calendar_app import counting
from calendar_app.sending import ChannelPlan, languages_left_out, parts_for

TEXTS = {"nl": "Hallo Istanbul", "fr": "Bonjour Istanbul", "en": "Hello Istanbul", "tr": "Merhaba İstanbul"}


def plan(
    platform: str = "x", kind: str = "thread", languages: str = "nl,fr,en,tr", separator: str = "\n\n"
) -> ChannelPlan:
    return ChannelPlan(
        platform=platform, plan=kind, languages=tuple(languages.split(",")), separator=separator
    )


def test_a_thread_is_one_post_per_language_in_the_channels_order_with_the_images_on_the_first():
    parts = parts_for(plan(languages="tr,nl,fr,en"), TEXTS, images=2)

    assert [part.languages for part in parts] == [("tr",), ("nl",), ("fr",), ("en",)]
    assert [part.text for part in parts] == [TEXTS["tr"], TEXTS["nl"], TEXTS["fr"], TEXTS["en"]]
    assert [part.images for part in parts] == [2, 0, 0, 0]
    assert [part.number for part in parts] == [1, 2, 3, 4]


def test_separate_posts_each_carry_the_images():
    parts = parts_for(plan(kind="separate"), TEXTS, images=5)

    assert [part.images for part in parts] == [4, 4, 4, 4]  # X takes four


def test_a_combined_post_joins_the_languages_in_order_with_the_channels_separator():
    parts = parts_for(plan("facebook", "combined", "fr,nl", "\n\n—\n\n"), TEXTS, images=1)

    assert len(parts) == 1
    assert parts[0].text == "Bonjour Istanbul\n\n—\n\nHallo Istanbul"
    assert parts[0].languages == ("fr", "nl")
    assert parts[0].used == len(parts[0].text)
    assert parts[0].images == 1


def test_a_one_language_channel_sends_only_its_language():
    parts = parts_for(plan("x", "single", "fr"), TEXTS)

    assert [part.text for part in parts] == ["Bonjour Istanbul"]
    assert languages_left_out(plan("x", "single", "fr"), TEXTS) == ["en", "nl", "tr"]


def test_languages_the_channel_does_not_publish_are_left_out_and_empty_texts_skipped():
    texts = {"nl": "Hallo", "fr": "  ", "de": "Guten Tag"}

    parts = parts_for(plan("mastodon", "thread", "nl,fr,en"), texts)

    assert [part.languages for part in parts] == [("nl",)]
    assert languages_left_out(plan("mastodon", "thread", "nl,fr,en"), texts) == ["de"]


def test_nothing_to_send_when_no_text_is_in_the_channels_languages():
    assert parts_for(plan("x", "thread", "tr"), {"nl": "Hallo"}) == []


def test_a_text_for_one_platform_replaces_the_languages_text_on_that_platform_only():
    overrides = {"nl": {"x": "Kort"}}

    on_x = parts_for(plan("x", "combined", "nl,fr"), TEXTS, overrides)
    on_facebook = parts_for(plan("facebook", "combined", "nl,fr"), TEXTS, overrides)

    assert on_x[0].text == "Kort\n\nBonjour Istanbul"
    assert on_facebook[0].text == "Hallo Istanbul\n\nBonjour Istanbul"


@pytest.mark.parametrize("platform", sorted(counting.LIMITS))
def test_each_part_is_counted_the_way_its_platform_counts_it(platform):
    text = "Zie https://diplomatie.belgium.be/nl " + "é" * 300
    parts = parts_for(plan(platform, "combined", "nl,fr"), {"nl": text, "fr": text})

    assert parts[0].used == counting.count_for_platform(parts[0].text, platform)
    assert parts[0].limit == counting.LIMITS[platform]
    assert parts[0].over == max(0, parts[0].used - parts[0].limit)


def test_a_text_for_one_platform_of_only_spaces_leaves_the_languages_own_text():
    parts = parts_for(plan("x", "combined", "nl,fr"), TEXTS, {"nl": {"x": "   "}})

    assert parts[0].text == "Hallo Istanbul\n\nBonjour Istanbul"
