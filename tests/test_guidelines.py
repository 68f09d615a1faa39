"""The common guidelines: each rule of the catalogue, central's settings, the pages and the live check."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from calendar_app import guidelines, workflow
from calendar_app.guidelines import CheckContext
from calendar_app.models import Guideline, GuidelineVersion, Publication, PublicationStatus, Review
from calendar_app.sending import ChannelPlan
from diplomacy.models import Channel, Role
from tests.calendar_factories import make_campaign, make_publication
from tests.factories import make_channel, make_post, make_user

NOW = "2026-11-28 10:00:00+00:00"
NOW_DT = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
DAY = date(2026, 12, 10)
TEXTS = {
    "nl": "Belgische bedrijven bezoeken Istanbul deze week.",
    "fr": "Des entreprises belges visitent Istanbul cette semaine.",
    "en": "Belgian companies visit Istanbul this week.",
    "tr": "Belçikalı şirketler bu hafta İstanbul'u ziyaret ediyor.",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def context(post, **fields) -> CheckContext:
    values = {
        "post": post,
        "kind": "regular",
        "platforms": ["facebook"],
        "variants": dict(TEXTS),
        "platform_texts": {},
        "alt_texts": [],
        "campaign_hashtags": [],
        "scheduled_at": NOW_DT + timedelta(days=10),
        "local_date": DAY,
    }
    values.update(fields)
    return CheckContext(**values)


def run(code: str, ctx: CheckContext):
    """The result of one rule as central configured it, or None when it does not apply."""
    rules = [rule for rule in guidelines.configured_rules() if rule.code == code]
    results = guidelines.check(ctx, rules)
    assert len(results) <= 1
    return results[0] if results else None


def passes(code: str, ctx: CheckContext) -> bool:
    result = run(code, ctx)
    assert result is not None, f"{code} did not run"
    return result.passed


# --- Each rule: a passing and a failing case --------------------------------------------


def channel(platform: str = "x", plan: str = "thread", languages: str = "nl,fr,en,tr", handle: str = ""):
    return ChannelPlan(
        platform=platform,
        plan=plan,
        languages=tuple(languages.split(",")),
        handle=handle or f"@BelgiumIn{platform.capitalize()}",
    )


@pytest.mark.parametrize(
    ("platform", "limit"), [("x", 280), ("bluesky", 300), ("mastodon", 500), ("instagram", 2200)]
)
def test_text_length_is_measured_against_each_platforms_limit(istanbul, platform, limit):
    on = [channel(platform, "separate", "en")]
    fits = context(istanbul, platforms=[platform], variants={"en": "a" * limit}, channel_plans=on)
    too_long = context(istanbul, platforms=[platform], variants={"en": "a" * (limit + 1)}, channel_plans=on)
    assert passes("text-length", fits)
    assert not passes("text-length", too_long)
    result = run("text-length", too_long)
    assert result.blocking
    assert f"{limit + 1} characters" in result.problems[0]


def test_text_length_uses_a_platforms_own_text_when_there_is_one(istanbul):
    long_text = "a" * 400
    plans = [channel("facebook", "combined", "en"), channel("x", "thread", "en")]
    ctx = context(istanbul, platforms=["facebook", "x"], variants={"en": long_text}, channel_plans=plans)
    assert not passes("text-length", ctx)
    ctx.platform_texts = {"en": {"x": "A short text for X."}}
    assert passes("text-length", ctx)


def test_a_thread_fits_where_the_same_texts_combined_in_one_post_do_not(istanbul):
    texts = {"nl": "n" * 176, "fr": "f" * 143, "en": "e" * 139}
    thread = context(istanbul, variants=texts, channel_plans=[channel("x", "thread", "nl,fr,en")])
    combined = context(istanbul, variants=texts, channel_plans=[channel("x", "combined", "nl,fr,en")])

    assert passes("text-length", thread)
    result = run("text-length", combined)
    assert result.blocking
    # 176 + 143 + 139 characters and two blank lines between them: 462, 182 over X's 280.
    assert result.problems == [
        "X @BelgiumInX: the combined post is 462 characters; the limit is 280 (182 too many). "
        "Its post manager can make it a thread: one post per language."
    ]


def test_a_too_long_post_of_a_thread_is_named_by_its_number_and_language(istanbul):
    texts = {"nl": "Kort.", "fr": "f" * 290, "tr": "Kısa."}
    result = run("text-length", context(istanbul, variants=texts, channel_plans=[channel("x", "thread")]))

    assert result.problems == [
        "X @BelgiumInX: post 2 of 3, French is 290 characters; the limit is 280 (10 too many)."
    ]


def test_a_combined_post_on_a_platform_without_threads_is_not_told_to_become_one(istanbul):
    texts = {"nl": "n" * 1500, "fr": "f" * 1500}
    result = run(
        "text-length",
        context(istanbul, variants=texts, channel_plans=[channel("instagram", "combined", "nl,fr")]),
    )

    assert result.problems == [
        "Instagram @BelgiumInInstagram: the combined post is 3002 characters; "
        "the limit is 2200 (802 too many)."
    ]


def test_a_one_language_channel_is_measured_on_its_language_only(istanbul):
    texts = {"nl": "n" * 400, "fr": "Bonjour Istanbul."}
    french_only = [channel("x", "single", "fr", handle="@BelgiqueTurquie")]

    assert passes("text-length", context(istanbul, variants=texts, channel_plans=french_only))
    assert passes("channel-languages", context(istanbul, variants=texts, channel_plans=french_only))


def test_a_channel_with_no_text_in_its_languages_has_nothing_to_send(istanbul):
    french_only = [channel("x", "single", "fr", handle="@BelgiqueTurquie")]
    result = run("channel-languages", context(istanbul, variants={"nl": "Hallo."}, channel_plans=french_only))

    assert result.blocking
    assert result.problems == [
        "X @BelgiqueTurquie publishes in French (fr): write the text in one of them, or untick the channel."
    ]


def test_a_channel_that_publishes_no_language_is_named(istanbul):
    nothing = [ChannelPlan(platform="facebook", plan="combined", languages=(), handle="@Belgium.Istanbul")]
    result = run("channel-languages", context(istanbul, channel_plans=nothing))

    assert result.problems == [
        "Facebook @Belgium.Istanbul publishes no language: its post manager sets them on the channel's page."
    ]


def test_languages_a_channel_does_not_publish_are_no_failure(istanbul):
    # Dutch, French, English and Turkish written; the account publishes English only.
    english_only = [channel("bluesky", "thread", "en")]

    assert passes("channel-languages", context(istanbul, channel_plans=english_only))
    assert passes("text-length", context(istanbul, channel_plans=english_only))


def test_the_rules_on_what_a_channel_sends_come_first_in_the_catalogue():
    assert [rule.code for rule in guidelines.CATALOGUE][:3] == [
        "text-length",
        "channel-languages",
        "required-languages",
    ]


def test_a_saved_publication_is_checked_on_its_channels_plans_and_images(istanbul, editor):
    x = make_channel(post=istanbul, platform="x", handle="@BelgiumInIstanbul", content_languages="")
    Channel.objects.filter(pk=x.pk).update(language_plan="combined")
    texts = {"nl": "n" * 176, "fr": "f" * 143, "en": "e" * 139}
    publication = make_publication(post=istanbul, author=editor, channels=[x], variants=texts)

    ctx = CheckContext.for_publication(Publication.objects.get(pk=publication.pk))

    assert ctx.channel_plans == [
        ChannelPlan(
            platform="x",
            plan="combined",
            languages=("nl", "fr", "en", "tr"),
            channel_id=x.pk,
            handle=x.handle,
        )
    ]
    assert ctx.images == 0
    assert "(182 too many)" in run("text-length", ctx).problems[0]


def test_consular_advice_needs_dutch_and_french(istanbul):
    only_dutch = context(istanbul, kind="consular_advice", variants={"nl": "Reisadvies."})
    result = run("required-languages", only_dutch)
    assert result.blocking
    assert result.problems == ["Add the text in: French (fr)."]
    both = context(istanbul, kind="consular_advice", variants={"nl": "Reisadvies.", "fr": "Conseil."})
    # The post's own policy (nl, fr, en, tr) does not apply to advice: Dutch and French suffice.
    assert passes("required-languages", both)


def test_a_regular_publication_follows_the_posts_language_policy(istanbul):
    assert passes("required-languages", context(istanbul))
    missing_turkish = context(istanbul, variants={k: v for k, v in TEXTS.items() if k != "tr"})
    assert run("required-languages", missing_turkish).problems == ["Add the text in: Turkish (tr)."]
    english_post = make_post(code="be-emb-london", publishing_languages="en", host_languages="en")
    assert passes("required-languages", context(english_post, variants={"en": "Hello London."}))


def test_every_image_needs_alt_text_in_every_language_published(istanbul):
    variants = {"en": "Hello.", "fr": "Bonjour."}
    assert passes("alt-text", context(istanbul, variants=variants, alt_texts=[]))
    described = [{"en": "The consul at the fair.", "fr": "Le consul à la foire."}]
    assert passes("alt-text", context(istanbul, variants=variants, alt_texts=described))
    half = [{"en": "The consul at the fair.", "fr": " "}]
    result = run("alt-text", context(istanbul, variants=variants, alt_texts=half))
    assert result.blocking
    assert result.problems == ["Image 1 has no description (alt text) in: French (fr)."]


def test_lead_time_asks_for_48_hours_before_the_publication(istanbul):
    assert passes("lead-time", context(istanbul, scheduled_at=NOW_DT + timedelta(hours=49)))
    result = run("lead-time", context(istanbul, scheduled_at=NOW_DT + timedelta(hours=47)))
    assert result.blocking
    assert "48 hours" in result.problems[0]


def test_crisis_advisories_are_exempt_from_the_lead_time_but_consular_advice_is_not(istanbul):
    soon = NOW_DT + timedelta(hours=1)
    assert run("lead-time", context(istanbul, kind="crisis_advisory", scheduled_at=soon)) is None
    assert not passes("lead-time", context(istanbul, kind="consular_advice", scheduled_at=soon))


def test_a_campaign_publication_uses_one_of_its_hashtags_in_every_language(istanbul):
    tags = ["#BelgiumAbroad", "#TradeMission"]
    tagged = {"en": "Meet us in Istanbul #tradeMission", "fr": "Rendez-vous à Istanbul #BelgiumAbroad"}
    assert passes("campaign-hashtag", context(istanbul, variants=tagged, campaign_hashtags=tags))
    untagged = {**tagged, "fr": "Rendez-vous à Istanbul"}
    result = run("campaign-hashtag", context(istanbul, variants=untagged, campaign_hashtags=tags))
    assert not result.passed and not result.blocking  # a warning
    assert result.problems[0].endswith("in: French (fr).")
    assert passes("campaign-hashtag", context(istanbul, variants=untagged, campaign_hashtags=[]))


def test_sensitive_terms_are_pointed_out_as_whole_words(istanbul):
    assert passes("sensitive-terms", context(istanbul, variants={"en": "A coupon for the fair."}))
    result = run("sensitive-terms", context(istanbul, variants={"en": "No Coup today. New sanctions."}))
    assert not result.passed and result.severity == guidelines.WARNING
    assert result.problems == ["Sensitive terms to double-check: coup, sanctions."]


def test_links_must_use_https(istanbul):
    assert passes("https-links", context(istanbul, variants={"en": "See https://diplomatie.belgium.be/en"}))
    result = run("https-links", context(istanbul, variants={"en": "See http://diplomatie.belgium.be/en"}))
    assert result.blocking
    assert "http://diplomatie.belgium.be/en" in result.problems[0]


def test_frequency_warns_above_a_channels_weekly_target(istanbul, editor):
    channel = make_channel(post=istanbul, weekly_target=2)
    ctx = context(istanbul, channel_ids=[channel.pk], local_date=DAY)
    make_publication(post=istanbul, author=editor, channels=[channel], local_date=DAY - timedelta(days=1))
    make_publication(post=istanbul, author=editor, channels=[channel], local_date=DAY, status="cancelled")
    make_publication(post=istanbul, author=editor, channels=[channel], local_date=DAY + timedelta(days=7))
    assert passes("frequency", ctx)  # one planned that week, a cancelled one and next week's do not count
    make_publication(post=istanbul, author=editor, channels=[channel], local_date=DAY + timedelta(days=1))
    result = run("frequency", ctx)
    assert not result.passed and not result.blocking
    assert "3 publications that week; its target is 2" in result.problems[0]


def test_a_publication_is_not_counted_twice_against_its_own_target(istanbul, editor):
    channel = make_channel(post=istanbul, weekly_target=1)
    publication = make_publication(post=istanbul, author=editor, channels=[channel], local_date=DAY)
    assert passes("frequency", CheckContext.for_publication(publication))


# --- Central configures the rules -----------------------------------------------------------


def rule_form(**fields) -> dict:
    data = {"enabled": "on", "severity": "blocking"}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def test_each_change_of_a_rule_makes_the_next_guidelines_version(client, reviewer):
    client.force_login(reviewer)
    url = reverse("guideline_edit", args=["lead-time"])
    assert guidelines.current_version() == 0
    response = client.post(url, rule_form(param_hours="72", explanation_fr="Soumettez trois jours avant."))
    assert response.status_code == 302
    row = Guideline.objects.get(code="lead-time")
    assert (row.enabled, row.severity, row.params, row.explanations) == (
        True,
        "blocking",
        {"hours": 72},
        {"fr": "Soumettez trois jours avant."},
    )
    assert client.post(url, rule_form(param_hours="24", severity="warning")).status_code == 302
    versions = list(GuidelineVersion.objects.order_by("number").values_list("number", "change", "changed_by"))
    assert versions == [(1, "lead-time", reviewer.pk), (2, "lead-time", reviewer.pk)]
    assert GuidelineVersion.objects.get(number=2).snapshot["lead-time"]["severity"] == "warning"
    configured = next(rule for rule in guidelines.configured_rules() if rule.code == "lead-time")
    assert (configured.params["hours"], configured.severity) == (24, "warning")


def test_a_review_records_the_guidelines_version_it_was_made_under(
    client, reviewer, second_reviewer, editor, istanbul
):
    channel = make_channel(post=istanbul)
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[channel], variants=TEXTS
    )
    workflow.submit(editor, publication)
    client.force_login(second_reviewer)
    for hours in ("72", "24", "48"):
        client.post(reverse("guideline_edit", args=["lead-time"]), rule_form(param_hours=hours))
    publication = Publication.objects.get(pk=publication.pk)
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    assert Review.objects.get().guideline_version == 3


def test_a_rule_switched_off_no_longer_runs_and_says_so_on_the_page(client, reviewer, istanbul):
    with_http = context(istanbul, variants={"en": "See http://example.org"})
    assert not passes("https-links", with_http)
    client.force_login(reviewer)
    response = client.post(reverse("guideline_edit", args=["https-links"]), rule_form(enabled=None))
    assert response.status_code == 302
    assert run("https-links", with_http) is None
    assert all(result.code != "https-links" for result in guidelines.check(with_http))
    page = client.get(reverse("guidelines")).content.decode()
    rule = page.split('id="rule-https-links"')[1].split("</li>")[0]
    assert "Switched off." in rule


def test_a_rule_scoped_to_a_kind_of_post_skips_the_others(client, reviewer, istanbul):
    embassy = make_post(code="be-emb-ankara2", kind="embassy")
    client.force_login(reviewer)
    client.post(reverse("guideline_edit", args=["https-links"]), rule_form(post_kinds=["embassy"]))
    variants = {"en": "See http://example.org"}
    assert not passes("https-links", context(embassy, variants=variants))
    assert run("https-links", context(istanbul, variants=variants)) is None  # a consulate-general


def test_a_rule_scoped_to_a_platform_skips_publications_that_do_not_go_there(client, reviewer, istanbul):
    client.force_login(reviewer)
    client.post(reverse("guideline_edit", args=["https-links"]), rule_form(platforms=["x", "bluesky"]))
    variants = {"en": "See http://example.org"}
    assert run("https-links", context(istanbul, platforms=["facebook"], variants=variants)) is None
    assert not passes("https-links", context(istanbul, platforms=["facebook", "x"], variants=variants))


def test_a_rule_scoped_to_a_kind_of_publication_skips_the_others(client, reviewer, istanbul):
    client.force_login(reviewer)
    client.post(
        reverse("guideline_edit", args=["sensitive-terms"]),
        rule_form(publication_kinds=["consular_advice"], param_terms="evacuation", severity="warning"),
    )
    variants = {"en": "No evacuation is planned."}
    assert run("sensitive-terms", context(istanbul, variants=variants)) is None
    assert not passes("sensitive-terms", context(istanbul, kind="consular_advice", variants=variants))


def test_central_can_make_the_lead_time_apply_to_crisis_advisories_explicitly(client, reviewer, istanbul):
    client.force_login(reviewer)
    client.post(
        reverse("guideline_edit", args=["lead-time"]),
        rule_form(publication_kinds=["crisis_advisory"], param_hours="2"),
    )
    soon = NOW_DT + timedelta(hours=1)
    assert not passes("lead-time", context(istanbul, kind="crisis_advisory", scheduled_at=soon))


def test_a_parameter_that_is_not_a_number_is_refused_and_nothing_is_saved(client, reviewer):
    client.force_login(reviewer)
    response = client.post(reverse("guideline_edit", args=["lead-time"]), rule_form(param_hours="two days"))
    assert response.status_code == 400
    assert "Enter a whole number." in response.content.decode()
    assert not Guideline.objects.exists()
    assert not GuidelineVersion.objects.exists()


def test_an_unknown_rule_is_not_found(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("guideline_edit", args=["no-such-rule"])).status_code == 404


@pytest.mark.parametrize("persona", ["editor", "manager", "partner_user", "outsider"], indirect=True)
def test_only_central_reviewers_configure_the_rules(client, persona):
    client.force_login(persona)
    url = reverse("guideline_edit", args=["lead-time"])
    assert client.get(url).status_code == 403
    assert client.post(url, rule_form(param_hours="1")).status_code == 403
    assert not Guideline.objects.exists()


def test_the_rule_form_shows_central_its_current_settings(client, reviewer):
    client.force_login(reviewer)
    client.post(reverse("guideline_edit", args=["lead-time"]), rule_form(param_hours="60"))
    page = client.get(reverse("guideline_edit", args=["lead-time"])).content.decode()
    assert 'name="param_hours"' in page and 'value="60"' in page


# --- The guidelines page -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["editor", "manager", "reviewer", "partner_user", "outsider"], indirect=True
)
def test_every_logged_in_user_reads_the_guidelines(client, persona):
    client.force_login(persona)
    response = client.get(reverse("guidelines"))
    assert response.status_code == 200
    page = response.content.decode()
    for rule in guidelines.CATALOGUE:
        assert f'id="rule-{rule.code}"' in page


def test_the_guidelines_page_asks_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("guidelines"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_only_central_sees_the_configure_links(client, editor, reviewer):
    client.force_login(editor)
    assert (
        reverse("guideline_edit", args=["lead-time"])
        not in client.get(reverse("guidelines")).content.decode()
    )
    client.force_login(reviewer)
    assert reverse("guideline_edit", args=["lead-time"]) in client.get(reverse("guidelines")).content.decode()


def test_explanations_are_shown_in_the_readers_language_when_central_wrote_them(client, reviewer, istanbul):
    client.force_login(reviewer)
    client.post(
        reverse("guideline_edit", args=["lead-time"]),
        rule_form(
            param_hours="48",
            explanation_fr="Soumettez deux jours avant la publication.",
            explanation_nl="Dien twee dagen vooraf in.",
        ),
    )
    french = make_user(email="fr.editor@example.org", role=Role.POST_EDITOR, post=istanbul, language="fr")
    english = make_user(email="en.editor@example.org", role=Role.POST_EDITOR, post=istanbul, language="en")
    client.force_login(french)
    page = client.get(reverse("guidelines")).content.decode()
    assert "Soumettez deux jours avant la publication." in page
    assert "Dien twee dagen vooraf in." not in page
    client.force_login(english)
    page = client.get(reverse("guidelines")).content.decode()
    assert "Soumettez deux jours avant la publication." not in page
    # No English text written by central: the catalogue's explanation.
    assert str(guidelines.RULES["lead-time"].explanation) in page


# --- The live check ----------------------------------------------------------------------------


@pytest.fixture
def facebook(istanbul):
    return make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")


def check_form(post, channel, **extra) -> dict:
    data = {
        "post": post.code,
        "title": "Flemish cleantech mission",
        "kind": "regular",
        "channels": [channel.pk],
        "local_date": DAY.isoformat(),
        "local_time": "09:00",
        **{f"variant_{lang}": text for lang, text in TEXTS.items()},
    }
    data.update(extra)
    return data


def test_the_live_check_returns_the_results_partial_with_links_to_each_rule(
    client, editor, istanbul, facebook
):
    client.force_login(editor)
    response = client.post(
        reverse("publication_check"),
        check_form(istanbul, facebook, variant_fr="", variant_en="See http://example.org"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "calendar_app/_check_results.html"
    page = response.content.decode()
    assert "<html" not in page
    for code in ("required-languages", "https-links"):
        assert f'href="/guidelines/#rule-{code}"' in page
    assert "Add the text in: French (fr)." in page
    assert "check-blocking" in page


def test_the_live_check_passes_a_publication_that_follows_the_rules(client, editor, istanbul, facebook):
    client.force_login(editor)
    page = client.post(reverse("publication_check"), check_form(istanbul, facebook)).content.decode()
    assert "check-blocking" not in page and "check-warning" not in page
    assert page.count('class="check check-ok"') == len(guidelines.CATALOGUE)


def test_the_live_check_knows_the_campaign_and_the_time(client, editor, istanbul, facebook):
    campaign = make_campaign(name="Trade week", hashtags="#TradeWeek", starts_on=date(2026, 11, 1))
    client.force_login(editor)
    data = check_form(istanbul, facebook, campaign=campaign.pk, local_date="2026-11-29")
    page = client.post(reverse("publication_check"), data).content.decode()
    assert 'href="/guidelines/#rule-campaign-hashtag"' in page and "#TradeWeek" in page
    assert "Submit at least 48 hours before the publication time" in page


def test_the_live_check_is_forbidden_for_another_posts_editor(client, editor, ankara, istanbul, facebook):
    client.force_login(editor)
    response = client.post(reverse("publication_check"), check_form(ankara, facebook))
    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["partner_user", "outsider"], indirect=True)
def test_the_live_check_is_forbidden_outside_the_ministry(client, persona, istanbul, facebook):
    client.force_login(persona)
    assert client.post(reverse("publication_check"), check_form(istanbul, facebook)).status_code == 403


def test_each_stored_failed_check_links_to_its_rule_on_the_publication_page(
    client, editor, reviewer, istanbul, facebook
):
    texts = {**TEXTS, "en": "New sanctions announced."}
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[facebook], variants=texts
    )
    workflow.submit(editor, publication)
    client.force_login(reviewer)
    page = client.get(reverse("approvals")).content.decode()
    assert 'href="/guidelines/#rule-sensitive-terms"' in page
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.IN_REVIEW
