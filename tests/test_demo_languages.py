"""The demo in every language plan, its texts in their own language, and the audit that
checks what approved publications send (calendar_app.audit)."""

import csv

import pytest
from django.core.management import call_command

from calendar_app import audit
from calendar_app.demo import place_words
from calendar_app.models import Publication, PublicationRevision, Review, Variant
from calendar_app.workflow import content_snapshot
from diplomacy.demo import DATA_DIR
from diplomacy.geography import country_of
from diplomacy.models import Channel, LanguagePlan, Post
from tests.calendar_factories import make_publication
from tests.factories import make_channel


@pytest.fixture
def seeded(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--password", "demo-pass-123", "--publications", "200", verbosity=0)


def approve_as_is(publication: Publication, reviewer) -> None:
    """An approval of the publication's current content, as the workflow stores one."""
    revision = PublicationRevision.objects.create(
        publication=publication, number=1, content=content_snapshot(publication), checks=[]
    )
    Review.objects.create(
        publication=publication, revision=revision, reviewer=reviewer, decision="approve", guideline_version=0
    )


def test_no_approved_demo_publication_sends_a_part_over_its_limit_or_in_a_language_not_published(seeded):
    result = audit.audit_publications(Publication.objects.all())
    assert result.publications > 50
    assert result.parts > result.deliveries, "threads of several posts are among them"
    assert [f for f in result.findings if f.problem in audit.VIOLATIONS] == []
    assert result.violations == 0


def test_every_approved_demo_publication_has_a_revision_to_send_and_a_channel_that_sends_it(seeded):
    result = audit.audit_publications(Publication.objects.all())
    assert result.count(audit.NO_APPROVED_REVISION) == 0
    assert result.count(audit.NOTHING_TO_SEND) == 0


def test_the_audit_reads_for_each_publication_the_revision_the_engine_sends(seeded):
    from calendar_app.publishing import parts

    approved = Publication.objects.filter(status__in=audit.APPROVED_STATUSES)
    contents = audit.approved_contents(approved.values_list("pk", flat=True))

    for publication in approved:
        sent = parts.approved_content(publication)
        assert sent is not None
        assert audit.sending.revision_texts(contents[publication.pk]) == (sent.texts, sent.overrides)


def test_the_demo_has_channels_in_every_language_plan_and_none_the_forms_would_refuse(seeded):
    plans = set(Channel.objects.values_list("platform", "language_plan"))
    assert {("x", "thread"), ("bluesky", "thread"), ("mastodon", "thread"), ("facebook", "combined")} <= plans
    assert {plan for _platform, plan in plans} == set(LanguagePlan.values)
    assert set(Channel.objects.filter(platform="facebook").values_list("separator", flat=True)) == {
        "blank_line",
        "dash",
        "dots",
    }
    assert not Channel.objects.filter(
        language_plan="thread", platform__in=["facebook", "linkedin", "instagram"]
    )
    assert audit.invalid_channels() == []


def test_istanbul_publishes_its_four_languages_as_a_thread_on_x_and_combined_on_facebook(seeded):
    istanbul = Post.objects.get(code="be-cg-istanbul")
    assert istanbul.publishing_language_list == ["nl", "fr", "en", "tr"]
    channels = {c.handle: c for c in istanbul.channels.all()}
    x = channels["@BelgiumInIstanbul"]
    assert (x.platform, x.language_plan, x.publishing_languages) == ("x", "thread", ["nl", "fr", "en", "tr"])
    facebook = channels["@Belgium.Istanbul"]
    assert (facebook.language_plan, facebook.publishing_languages) == ("combined", ["nl", "fr", "en", "tr"])
    french = channels["@BelgiqueTurquie"]
    assert (french.platform, french.language_plan, french.publishing_languages) == ("x", "single", ["fr"])
    dutch = [c for c in channels.values() if c.language_plan == "single" and c.content_languages == "nl"]
    assert len(dutch) == 1


def test_seeding_again_keeps_one_channel_per_istanbul_account(seeded):
    before = sorted(Channel.objects.values_list("pk", "handle", "language_plan"))
    call_command("seed_demo", "--password", "demo-pass-123", verbosity=0)
    assert sorted(Channel.objects.values_list("pk", "handle", "language_plan")) == before


def test_country_names_are_written_in_the_language_of_the_text():
    post = Post(city="Kuala Lumpur", country="MY")
    assert place_words(post, "fr")["in_country"] == "en Malaisie"
    assert place_words(post, "nl")["country"] == "Maleisië"
    cairo = Post(city="Cairo", country="EG")
    assert place_words(cairo, "fr")["at_city"] == "au Caire"
    assert place_words(cairo, "fr")["of_country"] == "d'Égypte"
    assert place_words(Post(city="Washington", country="US"), "fr")["in_country"] == "aux États-Unis"
    assert place_words(Post(city="Tokyo", country="JP"), "fr")["in_country"] == "au Japon"
    assert place_words(Post(city="Singapore", country="SG"), "fr")["in_country"] == "à Singapour"
    assert place_words(Post(city="Ankara", country="TR"), "de")["country"] == "der Türkei"
    assert place_words(Post(city="The Hague", country="NL"), "nl")["city"] == "Den Haag"


def test_no_demo_text_in_dutch_french_or_german_names_its_country_in_english(seeded):
    with open(DATA_DIR / "country_names.csv", encoding="utf-8") as handle:
        names = {row["code"]: row for row in csv.DictReader(handle)}
    checked = 0
    for variant in Variant.objects.filter(language__in=["nl", "fr", "de"]).select_related(
        "publication__post"
    ):
        post = variant.publication.post
        row = names[country_of(post.country).code]
        english = row["en"].removeprefix("the ")
        # The city may rightly bear the country's English name ("à Mexico" is Mexico City).
        text = variant.text.replace(place_words(post, variant.language)["city"], "")
        if english not in row[variant.language]:
            checked += 1
            assert english not in text, (variant.language, variant.text)
    assert checked > 20


def test_the_audit_finds_a_combined_post_over_its_limit_and_names_the_channel(db, istanbul, editor, reviewer):
    x = make_channel(post=istanbul, platform="x", handle="@Combined", content_languages="nl,fr")
    Channel.objects.filter(pk=x.pk).update(language_plan="combined")
    texts = {"nl": "N" * 200, "fr": "F" * 200}
    publication = make_publication(
        post=istanbul, author=editor, status="approved", channels=[x], variants=texts
    )
    approve_as_is(publication, reviewer)
    result = audit.audit_publications(Publication.objects.all())
    assert result.violations == 1
    [finding] = result.findings
    assert finding.problem == audit.OVER_LIMIT
    assert "@Combined" in finding.detail
    assert "402 of 280, 122 over" in finding.detail


def test_the_same_texts_as_a_thread_pass_the_audit(db, istanbul, editor, reviewer):
    x = make_channel(post=istanbul, platform="x", handle="@Thread", content_languages="nl,fr")
    Channel.objects.filter(pk=x.pk).update(language_plan="thread")
    texts = {"nl": "N" * 200, "fr": "F" * 200}
    publication = make_publication(
        post=istanbul, author=editor, status="published", channels=[x], variants=texts
    )
    approve_as_is(publication, reviewer)
    result = audit.audit_publications(Publication.objects.all())
    assert (result.publications, result.parts, result.violations) == (1, 2, 0)


def test_the_audit_reads_the_approved_revision_not_a_later_edit(db, istanbul, editor, reviewer):
    x = make_channel(post=istanbul, platform="x", handle="@Edited", content_languages="en")
    publication = make_publication(
        post=istanbul, author=editor, status="approved", channels=[x], variants={"en": "E" * 300}
    )
    approve_as_is(publication, reviewer)
    Variant.objects.filter(publication=publication).update(text="Short now.")
    assert audit.audit_publications(Publication.objects.all()).count(audit.OVER_LIMIT) == 1


def test_the_audit_leaves_drafts_alone_and_reports_an_approved_publication_without_revision(
    db, istanbul, editor
):
    x = make_channel(post=istanbul, platform="x", content_languages="en")
    make_publication(post=istanbul, author=editor, status="draft", channels=[x], variants={"en": "E" * 300})
    make_publication(post=istanbul, author=editor, status="approved", channels=[x])
    result = audit.audit_publications(Publication.objects.all())
    assert result.publications == 1
    assert result.count(audit.NO_APPROVED_REVISION) == 1
    assert result.violations == 0


def test_seeding_an_older_demo_renames_its_istanbul_x_account_rather_than_adding_a_second(db):
    from diplomacy import demo as network_demo

    network_demo.load_posts()
    istanbul = Post.objects.get(code="be-cg-istanbul")
    old = Channel.objects.create(
        post=istanbul, platform="x", handle="@BelgiumInIstanb", content_languages="tr,en"
    )
    network_demo.create_channels()
    handles = set(istanbul.channels.filter(platform="x").values_list("handle", flat=True))
    assert handles == {"@BelgiumInIstanbul", "@BelgiqueTurquie"}
    old.refresh_from_db()
    assert (old.handle, old.language_plan, old.content_languages) == ("@BelgiumInIstanbul", "thread", "")


#: Words each language uses all the time and the others do not (enough to tell the demo's
#: short texts apart: a text scores highest in its own language).
COMMON_WORDS = {
    "en": {
        "the",
        "and",
        "our",
        "your",
        "this",
        "with",
        "to",
        "of",
        "for",
        "are",
        "at",
        "on",
        "from",
        "you",
        "their",
    },
    "nl": {
        "het",
        "een",
        "en",
        "van",
        "ons",
        "uw",
        "met",
        "voor",
        "deze",
        "naar",
        "op",
        "om",
        "tot",
        "uit",
        "u",
        "we",
        "bij",
    },
    "fr": {
        "le",
        "la",
        "les",
        "et",
        "des",
        "du",
        "une",
        "notre",
        "vous",
        "pour",
        "au",
        "sur",
        "cette",
        "à",
        "est",
        "votre",
    },
    "de": {"der", "die", "das", "und", "mit", "für", "von", "unser", "sie", "ein", "eine", "im", "aus", "zu"},
    "es": {"el", "los", "las", "y", "con", "entre", "para", "nuestro", "su", "lo", "que", "le"},
    "pt": {"o", "os", "com", "em", "para", "da", "do", "nosso", "que", "oferecem"},
    "it": {"il", "con", "per", "di", "del", "che", "vi", "insieme", "offrono"},
    "pl": {"z", "i", "w", "na", "się", "nasze", "co", "wspólnie"},
    "tr": {"ve", "ile", "bu", "için", "arasındaki", "birlikte"},
}
#: Languages written in a script of their own: at least one character of it.
SCRIPTS = {"ja": "[\u3040-\u30ff]", "zh": "[\u4e00-\u9fff]", "ar": "[\u0600-\u06ff]", "el": "[\u0370-\u03ff]"}


def scores(text: str) -> dict[str, int]:
    """How many of each language's COMMON_WORDS `text` uses."""
    words = [word.strip(".,:;!?()\"'") for word in text.lower().split()]
    return {language: sum(word in common for word in words) for language, common in COMMON_WORDS.items()}


def all_demo_texts() -> list[tuple[str, str]]:
    """(language, text) of every text the demo writes: publications, crises, proposals."""
    from calendar_app import demo

    texts = [
        (language, text)
        for titles in demo.TITLED_TEXTS.values()
        for written in titles.values()
        for language, text in written.items()
    ]
    texts += [(language, text) for host in demo.HOST_TEXTS.values() for language, text in host.items()]
    for scene in demo.PAST_CRISES:
        texts += [(language, text) for written in scene[5:7] for language, text in written.items()]
    texts += [
        (language, text) for _name, written in demo.CRISIS_TEMPLATES for language, text in written.items()
    ]
    texts += [(language, text) for proposal in demo.PROPOSALS for language, text in proposal[5].items()]
    return texts


def test_every_text_the_demo_writes_is_in_its_own_language():
    import re

    texts = all_demo_texts()
    assert {language for language, _text in texts} >= {"nl", "fr", "en", "de", "tr", "es", "ja", "ar", "el"}
    told = 0
    for language, text in texts:
        if language in SCRIPTS:
            assert re.search(SCRIPTS[language], text), (language, text)
            continue
        # No other language's words outnumber its own (a text filed under another
        # language would); most texts are told apart outright.
        score = scores(text)
        assert score[language] == max(score.values()), (language, text, score)
        told += sorted(score.values())[-2] < score[language]
    assert told > 0.85 * len([language for language, _text in texts if language not in SCRIPTS])


def test_each_title_has_its_own_text_in_dutch_french_and_english_and_no_two_languages_share_one():
    from calendar_app import demo

    for kind, titles in demo.TITLED_TEXTS.items():
        for title, written in titles.items():
            assert {"nl", "fr", "en"} <= set(written), (kind, title)
            assert len(set(written.values())) == len(written), (kind, title)
    assert "crisis_advisory" not in demo.TITLED_TEXTS, "advisories come with their crisis"


def test_every_demo_variant_says_what_its_title_says_in_its_own_language(seeded):
    from calendar_app import demo

    checked = 0
    for variant in Variant.objects.filter(publication__crisis__isnull=True).select_related(
        "publication__post"
    ):
        publication = variant.publication
        written = demo.TITLED_TEXTS.get(publication.kind, {}).get(publication.title.rsplit(" – ", 1)[0])
        if written is None:
            continue  # a proposal's texts (the partner's) or a scene of the crisis
        words = place_words(publication.post, variant.language)
        templates = [
            written.get(variant.language),
            demo.HOST_TEXTS.get(publication.kind, {}).get(variant.language),
        ]
        assert variant.text in {t.format(**words) for t in templates if t}, (variant.language, variant.text)
        checked += 1
    assert checked > 300
