"""The live character counter in the browser counts exactly as the server does.

`static/js/counter.js` (window.CalendarCounter) and `calendar_app.counting` apply the
same rules twice; an editor who sees "X: 280 / 280" must not be refused by the server,
nor the other way round. Each text below is counted on every platform of
`counting.LIMITS` in the browser, as the editor's page loads the script, and in Python.
"""

import unicodedata

import pytest
from playwright.sync_api import expect

from calendar_app.counting import LIMITS, count_for_platform

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: name -> text. Each one is a way two implementations of the rules could part.
TRICKY_TEXTS = {
    # Links: X and Mastodon count 23 for a link, Bluesky and the others count it in full.
    "long link": "Read https://example.org/" + "a" * 80 + " now",
    "link, sentence punctuation after it": "See https://example.org/page. And www.example.be/x, ok!",
    "links in a list": "https://a.example.org/x;https://b.example.org,http://c.example.org!",
    "link with balanced parentheses": "https://en.wikipedia.org/wiki/Belgium_(disambiguation) (see)",
    "link with port, query, fragment": "http://example.org:8080/a?b=c&d=e#frag' end",
    "links glued to words, handles, hashtags": "abchttps://example.org x@www.example.org #https://a.org",
    "internationalised domains": "https://xn--bcher-kva.example/ and https://exämple.org/päth",
    "link inside Japanese prose": "詳しくはwww.example.comを見てください",
    "link in capitals": "HTTPS://EXAMPLE.ORG/PAGE and WWW.EXAMPLE.ORG",
    "no link: bare domain": "example.org/path and belgium.be",
    # Chinese, Japanese, Korean weigh 2 on X.
    "CJK": "日本語のテキスト、中文文本，한국어 텍스트",
    "CJK at the X limit": "日" * 140,
    "CJK fullwidth punctuation": "「ベルギー」（ブリュッセル）！？",
    # Emoji: one emoji, whatever its code points, weighs 2 on X and is 1 on Bluesky.
    "emoji with skin tones": "👍🏽 👋🏿 🧑🏻‍💻 🤝🏼",
    "ZWJ families and couples": "👨‍👩‍👧‍👦 👩‍❤️‍💋‍👨 👨‍👨‍👦",
    "ZWJ sequences with variation selectors": "🏳️‍🌈 👁️‍🗨️ 🏳️‍⚧️",
    "flags": "🇧🇪🇹🇷🇪🇺🇺🇳",
    "subdivision flags (tags)": "🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
    "odd number of regional indicators": "🇧🇪🇹",
    "keycaps": "1️⃣ #️⃣ *️⃣ 9⃣",
    "text-style symbols and emoji-style ones": "© ®️ ™ ‼ 〰 ❤️ ☺︎",
    "a lone skin tone and a dangling ZWJ": "🏽x 👍\u200d a\u200db",
    # Accents written as separate code points: X normalises to NFC first.
    "combining accents": "e\u0301te\u0301 Cafe\u0301 n\u0303 a\u0308\u0304 Z\u0335\u0321a\u0336",
    "decomposed Dutch and French": unicodedata.normalize("NFD", "één crème brûlée, naïef, coördinatie"),
    "decomposed Korean": unicodedata.normalize("NFD", "한국어 대사관"),
    # Mastodon counts only @user of a remote @user@domain.
    "Mastodon mentions": "Hello @ambassade@mastodon.social and @x_y@social.example.be!",
    "Mastodon mention look-alikes": "mail info@example.org or a=@b@c.org or /@d@e.org or @local",
    "Mastodon mentions with dots and dashes": "@be.diplo-mat@social.example.org, @a..b@c.d.",
    # The languages of the network and of its host countries.
    "Turkish": "İstanbul'da Belçika Başkonsolosluğu: ğüşıöç İĞÜŞÖÇ",
    "Arabic": "مرحبا بكم في القنصلية العامة لبلجيكا",
    "Hindi conjuncts": "क्षत्रिय नमस्ते हिन्दी",
    "Greek and Cyrillic": "Καλημέρα, Доброе утро",
    # Line breaks: a textarea submits CRLF, shows LF.
    "CRLF line breaks": "line one\r\nline two\r\n\r\nend",
    "tabs and control characters": "a\tb\x00c\x7f",
    "empty": "",
    "typographic quotes, dashes, primes": "“Quoted” — ‘single’ – 5′ 3″ …",
}

#: Bluesky counts grapheme clusters: the browser asks Intl.Segmenter, the server the `regex`
#: module (counting._grapheme_count). A hand-written approximation used to miss spacing marks
#: that are letters (Thai and Lao AM), the Khmer coeng and Myanmar's medial and killer signs.
SOUTHEAST_ASIAN = {
    "Thai": "กำลัง",
    "Lao": "ກຳລັງ",
    "Khmer": "ភាសាខ្មែរ",
    "Myanmar": "မြန်မာ",
}

_COUNT_ALL = """
(cases) => cases.map(([text, platform]) => window.CalendarCounter.count(text, platform))
"""


@pytest.fixture
def editor_page(visitor, editor):
    """The editor's page, which loads counter.js under the site's CSP."""
    visitor.log_in(editor.email)
    visitor.goto("/publications/new/")
    assert visitor.page.evaluate("() => typeof window.CalendarCounter") == "object"
    # The page's live guideline check has answered: no request of this page is left running
    # when the test ends (the live server's requests share the test's database connection).
    expect(visitor.page.locator(".live-check #check-results")).to_be_visible()
    return visitor.page


def mismatches(page, texts: dict[str, str]) -> list[str]:
    cases = [(name, text, platform) for name, text in texts.items() for platform in LIMITS]
    in_browser = page.evaluate(_COUNT_ALL, [[text, platform] for _name, text, platform in cases])
    return [
        f"{name!r} on {platform}: browser {browser}, server {count_for_platform(text, platform)}"
        for (name, text, platform), browser in zip(cases, in_browser, strict=True)
        if browser != count_for_platform(text, platform)
    ]


def test_the_browser_counts_every_tricky_text_as_the_server_on_every_platform(editor_page):
    assert editor_page.evaluate("() => ({...window.CalendarCounter.LIMITS})") == LIMITS

    found = mismatches(editor_page, TRICKY_TEXTS)

    assert not found, "counter.js and counting.py disagree:\n" + "\n".join(found)


def test_both_refuse_an_unknown_platform(editor_page):
    error = editor_page.evaluate(
        "() => { try { window.CalendarCounter.count('a', 'myspace'); return null; }"
        " catch (e) { return e.name; } }"
    )
    assert error == "RangeError"
    with pytest.raises(ValueError, match="myspace"):
        count_for_platform("a", "myspace")


def test_the_browser_counts_southeast_asian_scripts_as_the_server_on_bluesky(editor_page):
    found = mismatches(editor_page, SOUTHEAST_ASIAN)

    assert not found, "counter.js and counting.py disagree:\n" + "\n".join(found)
