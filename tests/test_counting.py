"""Text length per social platform, as each platform counts it."""

import unicodedata

import pytest

from calendar_app.counting import LIMITS, Count, count_for_platform, counts, over_limit

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # man ZWJ woman ZWJ girl
THUMBS_UP_MEDIUM_SKIN = "\U0001f44d\U0001f3fd"
BELGIAN_FLAG = "\U0001f1e7\U0001f1ea"
E_ACUTE_DECOMPOSED = "e\u0301"


def test_x_counts_a_long_url_as_23():
    url = "https://example.org/" + "a" * 80
    assert len(url) == 100
    assert count_for_platform(url, "x") == 23
    assert count_for_platform(f"Read {url} now", "x") == 5 + 23 + 4


def test_x_counts_a_www_link_as_23_and_leaves_sentence_punctuation_out_of_it():
    assert count_for_platform("www.example.org/page", "x") == 23
    assert count_for_platform("See https://example.org/page.", "x") == 4 + 23 + 1


def test_x_counts_each_japanese_character_as_2():
    assert count_for_platform("日" * 140, "x") == 280
    assert over_limit("日" * 141, "x") == 2


def test_x_counts_latin_accents_and_typographic_quotes_as_1():
    assert count_for_platform("Café “déjà vu” — ok", "x") == len("Café “déjà vu” — ok")


def test_x_counts_an_emoji_with_a_skin_tone_as_2():
    assert count_for_platform(THUMBS_UP_MEDIUM_SKIN, "x") == 2


def test_x_counts_a_zwj_family_as_2():
    assert count_for_platform(FAMILY, "x") == 2


def test_x_normalises_to_nfc_first():
    assert count_for_platform(E_ACUTE_DECOMPOSED, "x") == 1


def test_bluesky_counts_a_flag_as_1():
    assert count_for_platform(BELGIAN_FLAG, "bluesky") == 1
    assert count_for_platform(BELGIAN_FLAG * 2, "bluesky") == 2


def test_bluesky_counts_a_decomposed_e_acute_as_1():
    assert count_for_platform(E_ACUTE_DECOMPOSED, "bluesky") == 1


def test_bluesky_counts_the_family_emoji_and_a_skin_toned_emoji_as_1():
    assert count_for_platform(FAMILY, "bluesky") == 1
    assert count_for_platform(THUMBS_UP_MEDIUM_SKIN, "bluesky") == 1


def test_bluesky_counts_crlf_as_1_and_urls_in_full():
    assert count_for_platform("a\r\nb", "bluesky") == 3
    assert count_for_platform("https://example.org/page", "bluesky") == 24


@pytest.mark.parametrize(
    ("text", "characters"),
    [
        ("กำลัง", 3),  # Thai: SARA AM is a spacing mark of the letter before
        ("ກຳລັງ", 3),  # Lao, the same
        ("ភាសាខ្មែរ", 4),  # Khmer: the coeng joins a subscript consonant
        ("မြန်မာ", 4),  # Myanmar: medial and killer signs
    ],
)
def test_bluesky_counts_southeast_asian_scripts_as_a_browser_segments_them(text, characters):
    assert count_for_platform(text, "bluesky") == characters


def test_bluesky_counts_decomposed_korean_and_a_hindi_conjunct_as_one_character_each():
    assert count_for_platform(unicodedata.normalize("NFD", "한"), "bluesky") == 1
    assert count_for_platform("क्ष", "bluesky") == 1


def test_mastodon_counts_a_url_as_23():
    assert count_for_platform("https://example.org/" + "a" * 80, "mastodon") == 23


def test_mastodon_counts_a_www_link_in_full():
    assert count_for_platform("www.example.org", "mastodon") == 15


def test_mastodon_counts_only_the_user_part_of_a_remote_mention():
    assert count_for_platform("@someone@mastodon.social", "mastodon") == len("@someone") == 8
    assert count_for_platform("Hi @someone", "mastodon") == 11


def test_code_point_platforms_count_code_points():
    text = "Café " + FAMILY
    for platform in ("threads", "instagram", "linkedin", "facebook", "youtube"):
        assert count_for_platform(text, platform) == 5 + 5


def test_a_line_break_counts_the_same_whether_submitted_as_crlf_or_lf():
    for platform in LIMITS:
        assert count_for_platform("a\r\nb", platform) == count_for_platform("a\nb", platform)


def test_each_platform_has_its_limit():
    assert LIMITS == {
        "x": 280,
        "bluesky": 300,
        "mastodon": 500,
        "threads": 500,
        "instagram": 2200,
        "linkedin": 3000,
        "facebook": 63206,
        "youtube": 5000,
    }


@pytest.mark.parametrize("platform", list(LIMITS))
def test_a_text_at_the_limit_fits_and_one_more_character_is_over(platform):
    limit = LIMITS[platform]
    assert over_limit("a" * limit, platform) == 0
    assert over_limit("a" * (limit + 1), platform) == 1


def test_counts_gives_one_count_per_platform_in_order():
    result = counts("a" * 290, ["x", "bluesky"])
    assert result == [Count("x", 290, 280), Count("bluesky", 290, 300)]
    assert (result[0].over, result[0].ok) == (10, False)
    assert (result[1].over, result[1].ok) == (0, True)


def test_an_unknown_platform_raises():
    with pytest.raises(ValueError):
        count_for_platform("hello", "myspace")
    with pytest.raises(ValueError):
        counts("hello", ["x", "myspace"])
