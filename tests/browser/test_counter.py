"""The live character counter in the browser counts exactly as the server does.

`static/js/counter.js` (window.CalendarCounter) and `calendar_app.counting` apply the
same rules twice; an editor who sees "X: 280 / 280" must not be refused by the server,
nor the other way round. Each text below is counted on every platform of
`counting.LIMITS` in the browser, as the editor's page loads the script, and in Python.

The counters count what each ticked channel sends: the browser assembles a channel's parts
(CalendarCounter.partsFor) as `calendar_app.sending.parts_for` does, and the editor shows,
under each text, the count of the part that holds it.
"""

import unicodedata

import pytest
from playwright.sync_api import expect

from calendar_app.counting import LIMITS, count_for_platform
from calendar_app.sending import ChannelPlan, parts_for
from diplomacy.models import Channel
from tests.browser.browsing import LiveCheck, text_field
from tests.factories import make_channel

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


# --- The parts each channel sends: sending.parts_for in the browser and in Python ----------

TEXTS = {
    "nl": "Welkom in het Belgische consulaat in Istanbul 🇧🇪 https://diplomatie.belgium.be/nl",
    "fr": "  Bienvenue au consulat de Belgique à Istanbul\u00a0! ",
    "en": "日本語 and emoji 👨‍👩‍👧‍👦 " * 12,
    "tr": "İstanbul'daki Belçika Başkonsolosluğuna hoş geldiniz.\n\nwww.example.org",
    "de": " \u3000\n",  # only spaces, as Python's str.strip() sees them: no German post
}

PLANS = [
    ChannelPlan(platform="x", plan="thread", languages=("nl", "fr", "en", "tr")),
    ChannelPlan(platform="bluesky", plan="thread", languages=("tr", "en", "de", "nl")),
    ChannelPlan(platform="mastodon", plan="separate", languages=("tr", "en")),
    ChannelPlan(platform="facebook", plan="combined", languages=("fr", "nl", "de"), separator="\n\n—\n\n"),
    ChannelPlan(platform="linkedin", plan="combined", languages=("en", "fr"), separator="\n\n· · ·\n\n"),
    ChannelPlan(platform="x", plan="single", languages=("fr",)),
    ChannelPlan(platform="threads", plan="single", languages=("de",)),
    ChannelPlan(platform="instagram", plan="combined", languages=("nl", "fr", "en", "tr")),
]

OVERRIDES = [
    {},
    {"nl": {"x": "Kort: https://diplomatie.belgium.be", "facebook": ""}, "fr": {"facebook": "   "}},
    {"en": {"bluesky": "Short 👋🏽"}, "de": {"facebook": "Nur auf Facebook"}},
]

_PARTS_ALL = """
(cases) => cases.map(([plan, texts, overrides]) =>
  window.CalendarCounter.partsFor(plan, texts, overrides).map(
    (part) => [part.number, part.languages, part.text, part.used, part.limit]))
"""


def test_the_browser_assembles_each_channels_parts_as_sending_does(editor_page):
    cases = [(plan, overrides) for plan in PLANS for overrides in OVERRIDES]
    arguments = [
        [
            {
                "platform": plan.platform,
                "plan": plan.plan,
                "languages": list(plan.languages),
                "separator": plan.separator,
            },
            TEXTS,
            overrides,
        ]
        for plan, overrides in cases
    ]

    in_browser = editor_page.evaluate(_PARTS_ALL, arguments)

    for (plan, overrides), browser in zip(cases, in_browser, strict=True):
        expected = [
            [part.number, list(part.languages), part.text, part.used, part.limit]
            for part in parts_for(plan, TEXTS, overrides)
        ]
        assert browser == expected, (plan, overrides)


def test_the_browser_strips_texts_as_python_does(editor_page):
    texts = ["\u00a0a\u3000", "\x1c\x1fb\x85", "\ufeffc\ufeff", "\u200bd", "\t\r\ne \n"]

    assert editor_page.evaluate("(texts) => texts.map(window.CalendarCounter.strip)", texts) == [
        text.strip() for text in texts
    ]


# --- What the editor shows under each text -------------------------------------------------


def channel_with_plan(
    post, *, platform: str, handle: str, plan: str, languages: str = "", separator: str = ""
):
    channel = make_channel(post=post, platform=platform, handle=handle, content_languages=languages)
    Channel.objects.filter(pk=channel.pk).update(language_plan=plan, separator=separator or "blank_line")
    channel.refresh_from_db()
    return channel


def shown_lines(channels, language: str, texts, overrides) -> list[str]:
    """What the list under `language`'s text must say, with every count from sending.parts_for."""
    lines = []
    for channel in channels:
        plan = ChannelPlan.of(channel)
        label = str(channel)
        publishes = plan.languages[0] == language if plan.plan == "single" else language in plan.languages
        if not publishes:
            lines.append(f"{label}: does not publish this language")
            continue
        parts = parts_for(plan, texts, overrides)
        part = next((part for part in parts if language in part.languages), None)
        limit = LIMITS[channel.platform]
        if part is None:
            line = f"{label}: 0 / {limit}"
        elif len(part.languages) > 1:
            line = f"{label}, combined: {part.used} / {limit}"
        elif len(parts) > 1:
            line = f"{label}, post {part.number} of {len(parts)}: {part.used} / {limit}"
        else:
            line = f"{label}: {part.used} / {limit}"
        if part is not None and part.over:
            line += f" ({part.over} too many)"
        lines.append(line)
    return lines


def test_every_count_under_every_text_is_that_of_the_part_the_channel_sends(visitor, editor, istanbul):
    channels = [  # in the editor's order: platform, then handle
        channel_with_plan(istanbul, platform="bluesky", handle="@belgium-ist.bsky.social", plan="separate"),
        channel_with_plan(
            istanbul,
            platform="facebook",
            handle="Belgium.Istanbul",
            plan="combined",
            languages="fr,nl,tr",
            separator="dash",
        ),
        channel_with_plan(
            istanbul, platform="mastodon", handle="@be@diplo.social", plan="thread", languages="tr,en"
        ),
        channel_with_plan(istanbul, platform="x", handle="@BelgiqueTurquie", plan="single", languages="fr"),
        channel_with_plan(istanbul, platform="x", handle="@BelgiumInIstanbul", plan="thread"),
    ]
    texts = {
        "nl": "Welkom in het Belgische consulaat in Istanbul 🇧🇪 https://diplomatie.belgium.be/nl",
        "fr": "Bienvenue au consulat de Belgique à Istanbul ! " * 7,  # over X's 280 alone
        "en": "",
        "tr": "İstanbul'daki Belçika Başkonsolosluğuna hoş geldiniz.\n\nwww.example.org",
        "de": "",
    }
    overrides = {"nl": {"x": "Kort: https://diplomatie.belgium.be 👋🏽"}}
    visitor.log_in(editor.email)
    page = visitor.page
    check = LiveCheck(page)
    visitor.goto("/publications/new/")
    for channel in channels:
        page.get_by_label(str(channel), exact=True).check()
    for language, name in {"nl": "Dutch", "fr": "French", "tr": "Turkish"}.items():
        text_field(page, name).fill(texts[language])
    page.locator(".variant", has=text_field(page, "Dutch")).get_by_text(
        "A different text for one platform"
    ).click()
    page.get_by_label("Text in Dutch for X only").fill(overrides["nl"]["x"])

    for language in ("nl", "fr", "de", "en", "tr"):
        expect(page.locator(f"#counts-id_variant_{language} li")).to_have_text(
            shown_lines(channels, language, texts, overrides)
        )
    # The French text alone is over X's limit (and Bluesky's): those lines show as errors.
    over = sum("too many" in line for line in shown_lines(channels, "fr", texts, overrides))
    assert over == 3
    expect(page.locator("#counts-id_variant_fr li.over")).to_have_count(over)
    # Unticking a channel drops its line everywhere; the Turkish text's thread on X is
    # post 3 of 3 (nl, fr, tr written; en empty).
    page.get_by_label(str(channels[0]), exact=True).uncheck()
    expect(page.locator("#counts-id_variant_tr li")).to_have_text(
        shown_lines(channels[1:], "tr", texts, overrides)
    )
    assert "X @BelgiumInIstanbul, post 3 of 3:" in page.locator("#counts-id_variant_tr li").last.inner_text()
    check.settle()
    visitor.audit()
