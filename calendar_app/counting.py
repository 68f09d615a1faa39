"""How long a text is on each social platform, counted the way that platform counts it.

Each platform has its own idea of a "character": X weighs code points and shortens links,
Bluesky counts what a reader sees as one character (a grapheme), Mastodon shortens links
and remote mentions, and the others count code points. `count_for_platform` applies the
right rule; `static/js/counter.js` applies the same rules in the browser, so any change
here must be made there too (a browser test compares the two).

Every rule first turns CRLF into LF: a browser shows a textarea's line breaks as LF but
submits them as CRLF, and a line break must count the same in the page as on the server.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import regex

LIMITS: dict[str, int] = {
    "x": 280,
    "bluesky": 300,
    "mastodon": 500,
    "threads": 500,
    "instagram": 2200,
    "linkedin": 3000,
    "facebook": 63206,
    "youtube": 5000,
}

# X (through its link shortener) and Mastodon count every link as this many characters.
URL_LENGTH = 23

# A link, as an approximation of the twitter-text extractor that X and Mastodon both use.
# It finds links that start with http:// or https:// and links that start with www.; it
# does not find bare domains such as example.com/path (twitter-text does, with a list of
# every top-level domain). Mastodon only shortens the links with a scheme (see below).
_URL_PATH_CHAR = r"[A-Za-z0-9\u00c0-\u024f\u0400-\u04ff\-._~!$&'*+,;=:@/?#%\[\]|]"
URL_RE = re.compile(
    # Not glued to a word, a handle or a hashtag ("abchttp://..." is not a link).
    r"(?<![A-Za-z0-9@#$\uff20\uff03\uff04])"
    r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww]{3}\.)"
    # A host with at least one dot and an ASCII top-level domain; the domain stops before
    # non-ASCII text, so "www.example.comを" in Japanese prose ends at ".com".
    r"(?:[\w-]+\.)+(?:xn--[A-Za-z0-9-]+|[A-Za-z]{2,63})(?![A-Za-z0-9_-])"
    r"(?::[0-9]{1,5})?"
    # A path, query or fragment, with balanced parentheses (Wikipedia links) but not a
    # closing one that belongs to the prose around the link...
    rf"(?:[/?#](?:{_URL_PATH_CHAR}|\({_URL_PATH_CHAR}*\))*)?"
    # ...and without the punctuation that ends the sentence ("see https://x.org/a.").
    r"(?<![.,:;!?'*])"
)

# Code points drawn as emoji, roughly Unicode's Extended_Pictographic property. © and ®
# are text unless followed by the emoji variation selector U+FE0F.
_PICTOGRAPHIC = (
    r"[\u203c\u2049\u2122\u2139\u2194-\u21ff\u2300-\u23ff\u24c2\u25a0-\u27bf\u2900-\u297f"
    r"\u2b00-\u2bff\u3030\u303d\u3297\u3299\U0001f000-\U0001faff]"
)
# What may follow an emoji within one emoji: variation selectors, skin tones, and the
# tag characters of subdivision flags (England, Scotland, Wales).
_EMOJI_EXTEND = r"[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f]"
_EMOJI_UNIT = rf"(?:[\u00a9\u00ae]\ufe0f|{_PICTOGRAPHIC}){_EMOJI_EXTEND}*"
_EMOJI_RE = re.compile(
    r"[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    r"|[#*0-9]\ufe0f?\u20e3"  # a keycap: 1️⃣
    rf"|{_EMOJI_UNIT}(?:\u200d{_EMOJI_UNIT})*"  # an emoji, or several joined by ZWJ
)

# X's code points of weight 1; every other code point weighs 2.
_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
_X_EMOJI_WEIGHT = 2

# One extended grapheme cluster: what a reader sees as one character.
_GRAPHEME_RE = regex.compile(r"\X")

# A Mastodon mention of a remote account, @user@domain, of which only @user counts.
_MASTODON_MENTION_RE = re.compile(r"(?<![=/\w])@([A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)@[\w.-]*\w")


@dataclass(frozen=True)
class Count:
    """A text's length on one platform, against that platform's limit."""

    platform: str
    used: int
    limit: int

    @property
    def over(self) -> int:
        return max(0, self.used - self.limit)

    @property
    def ok(self) -> bool:
        return self.used <= self.limit


def count_for_platform(text: str, platform: str) -> int:
    """The length of `text` as `platform` counts it; ValueError for an unknown platform."""
    _check_platform(platform)
    text = text.replace("\r\n", "\n")
    if platform == "x":
        return _x_length(text)
    if platform == "bluesky":
        return _grapheme_count(text)
    if platform == "mastodon":
        return _mastodon_length(text)
    return _code_point_length(text)


def over_limit(text: str, platform: str) -> int:
    """How many characters `text` has beyond `platform`'s limit; 0 when it fits."""
    return max(0, count_for_platform(text, platform) - LIMITS[platform])


def counts(text: str, platforms: Iterable[str]) -> list[Count]:
    """The length of `text` on each of `platforms`, in the order given."""
    return [Count(platform, count_for_platform(text, platform), LIMITS[platform]) for platform in platforms]


def _check_platform(platform: str) -> None:
    if platform not in LIMITS:
        raise ValueError(f"Unknown platform {platform!r}; known: {', '.join(LIMITS)}.")


def _split(pattern: re.Pattern[str], text: str) -> Iterator[tuple[str, bool]]:
    """`text` cut into the pieces that match `pattern` (True) and the gaps between them."""
    start = 0
    for match in pattern.finditer(text):
        yield text[start : match.start()], False
        yield match.group(), True
        start = match.end()
    yield text[start:], False


def _x_length(text: str) -> int:
    """X's "weighted length" (twitter-text version 3), limit 280.

    The text is first normalised to NFC. Each link counts 23 whatever its length. Each
    emoji counts 2, including a sequence drawn as one emoji: an emoji with a skin tone or
    a variation selector, emoji joined by zero-width joiners (a family), a flag, a keycap.
    Every other code point counts 1 in the ranges U+0000-U+10FF (Latin, Greek, Cyrillic,
    Hebrew, Arabic, Indic scripts...), U+2000-U+200D, U+2010-U+201F and U+2032-U+2037
    (spaces, dashes, quotes, primes), and 2 elsewhere (Chinese, Japanese, Korean, emoji).
    """
    length = 0
    for piece, is_url in _split(URL_RE, unicodedata.normalize("NFC", text)):
        if is_url:
            length += URL_LENGTH
            continue
        for part, is_emoji in _split(_EMOJI_RE, piece):
            length += _X_EMOJI_WEIGHT if is_emoji else sum(_x_weight(char) for char in part)
    return length


def _x_weight(char: str) -> int:
    code = ord(char)
    return 1 if any(low <= code <= high for low, high in _X_LIGHT_RANGES) else 2


def _grapheme_count(text: str) -> int:
    """Bluesky's length: user-perceived characters (extended grapheme clusters), limit 300.

    Links count in full. The clusters are Unicode's (UAX #29, through the `regex` module's
    \\X), as the browser's Intl.Segmenter finds them: an accent written as a separate code
    point, an emoji with its skin tone or a family joined by zero-width joiners, a flag, a
    Hindi conjunct such as क्ष, a Thai ำ or a Khmer subscript consonant each belong to the
    character before them. CRLF is one.
    """
    return sum(1 for _cluster in _GRAPHEME_RE.finditer(text))


def _mastodon_length(text: str) -> int:
    """Mastodon's length, limit 500 code points.

    Each link with a scheme (http:// or https://) counts 23 whatever its length; a link
    starting with www. counts in full. A mention of a remote account, @user@domain, counts
    only its @user part. Everything else counts one per code point. (Mastodon's server
    counts grapheme clusters, so an emoji or a decomposed accent counts more here than
    there: this errs on the safe side.)
    """
    text = URL_RE.sub(
        lambda match: "x" * URL_LENGTH if match.group()[:4].lower() == "http" else match.group(), text
    )
    return len(_MASTODON_MENTION_RE.sub(r"@\1", text))


def _code_point_length(text: str) -> int:
    """Threads, Instagram, LinkedIn, Facebook and YouTube: one per Unicode code point.

    These platforms count UTF-16 code units in places, where an emoji outside the Basic
    Multilingual Plane is 2; that nuance is ignored.
    """
    return len(text)
