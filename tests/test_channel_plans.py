"""A channel's language plan on the registry pages: the channel form, central's platform
defaults, and the plan in words on the post's page."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.urls import reverse

from calendar_app.sending import ChannelPlan
from diplomacy.forms import current_defaults
from diplomacy.models import Channel, PlatformDefault
from diplomacy.templatetags.channel_plans import plan_in_words
from tests.factories import make_channel, make_post


def channel_with(*, post, platform: str = "x", plan: str = "thread", languages: str = "", **extra) -> Channel:
    channel = make_channel(post=post, platform=platform, content_languages=languages, **extra)
    Channel.objects.filter(pk=channel.pk).update(language_plan=plan)
    channel.refresh_from_db()
    return channel


def channel_data(**changes: str | int) -> dict[str, str | int]:
    data: dict[str, str | int] = {
        "platform": "x",
        "handle": "@BelgiumInIstanbul",
        "content_languages": "",
        "language_plan": "thread",
        "separator": "blank_line",
        "weekly_target": 3,
        "active": "on",
        "connector": "manual",
    }
    data.update(changes)
    return data


# --- A new channel starts at central's default ---------------------------------------


@pytest.mark.parametrize(
    ("platform", "plan"), [("x", "thread"), ("bluesky", "thread"), ("facebook", "combined")]
)
def test_a_new_channel_without_a_chosen_plan_takes_the_built_in_default_of_its_platform(
    client, manager, istanbul, platform, plan
):
    client.force_login(manager)
    response = client.post(
        reverse("channel_create", args=[istanbul.code]),
        channel_data(platform=platform, language_plan="", separator=""),
    )

    assert response.status_code == 302
    channel = Channel.objects.get(post=istanbul)
    assert (channel.language_plan, channel.separator) == (plan, "blank_line")


def test_a_new_channel_without_a_chosen_plan_takes_centrals_setting_for_its_platform(
    client, manager, istanbul
):
    PlatformDefault.objects.create(platform="x", language_plan="separate", separator="dots")
    client.force_login(manager)

    response = client.post(reverse("channel_create", args=[istanbul.code]), channel_data(language_plan=""))

    assert response.status_code == 302
    channel = Channel.objects.get(post=istanbul)
    assert (channel.language_plan, channel.separator) == ("separate", "blank_line")
    # Both left to central:
    client.post(
        reverse("channel_create", args=[istanbul.code]),
        channel_data(handle="@Other", language_plan="", separator=""),
    )
    assert Channel.objects.get(handle="@Other").separator == "dots"


def test_a_plan_chosen_on_the_form_wins_over_centrals_default(client, manager, istanbul):
    client.force_login(manager)

    client.post(
        reverse("channel_create", args=[istanbul.code]),
        channel_data(platform="facebook", language_plan="separate", separator="dash"),
    )

    channel = Channel.objects.get(post=istanbul)
    assert (channel.language_plan, channel.separator) == ("separate", "dash")


def test_the_new_channel_form_offers_centrals_default_and_says_what_it_is(client, manager, istanbul):
    PlatformDefault.objects.create(platform="facebook", language_plan="separate")
    client.force_login(manager)

    response = client.get(reverse("channel_create", args=[istanbul.code]))

    body = response.content.decode()
    assert 'name="language_plan" value="" ' in body
    assert "Facebook: separate posts" in body
    assert "X: thread" in body
    assert "Empty: the post&#x27;s policy (nl,fr,en,tr)" in body


def test_an_edit_without_the_plan_fields_keeps_the_channels_plan(client, manager, istanbul):
    channel = channel_with(post=istanbul, plan="separate")
    client.force_login(manager)

    data = channel_data(handle=channel.handle, weekly_target=5)
    del data["language_plan"], data["separator"]
    response = client.post(reverse("channel_edit", args=[channel.pk]), data)

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.language_plan, channel.weekly_target) == ("separate", 5)


# --- Bad input: a form error on the right field, a 400, nothing saved ------------------


def refused(response, field: str, words: str) -> None:
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert words in " ".join(errors[field]), errors[field]


@pytest.mark.parametrize("platform", ["facebook", "linkedin", "instagram", "youtube"])
def test_a_thread_on_a_platform_without_threads_is_refused_on_the_plan_field(
    client, manager, istanbul, platform
):
    client.force_login(manager)

    response = client.post(
        reverse("channel_create", args=[istanbul.code]),
        channel_data(platform=platform, language_plan="thread"),
    )

    refused(response, "language_plan", "has no threads: choose one combined post or separate posts")
    assert not Channel.objects.exists()


def test_moving_a_thread_channel_to_facebook_asks_for_another_plan(client, manager, istanbul):
    channel = channel_with(post=istanbul, platform="x", plan="thread")
    client.force_login(manager)

    response = client.post(
        reverse("channel_edit", args=[channel.pk]), channel_data(handle=channel.handle, platform="facebook")
    )

    refused(response, "language_plan", "Facebook has no threads")
    channel.refresh_from_db()
    assert channel.platform == "x"


@pytest.mark.parametrize("languages", ["", "fr,nl"])
def test_a_one_language_channel_must_name_exactly_one_language(client, manager, istanbul, languages):
    client.force_login(manager)

    response = client.post(
        reverse("channel_create", args=[istanbul.code]),
        channel_data(language_plan="single", content_languages=languages),
    )

    refused(response, "content_languages", "names exactly one language")
    assert not Channel.objects.exists()


def test_a_one_language_channel_in_a_language_the_post_does_not_publish_is_refused(client, manager, istanbul):
    client.force_login(manager)

    response = client.post(
        reverse("channel_create", args=[istanbul.code]),
        channel_data(language_plan="single", content_languages="de"),
    )

    refused(response, "content_languages", "The post publishes nothing in de (its policy is nl,fr,en,tr)")


def test_a_channel_that_would_publish_no_language_is_refused(client, reviewer):
    silent = make_post(code="be-emb-silent", publishing_languages="")
    client.force_login(reviewer)

    response = client.post(reverse("channel_create", args=[silent.code]), channel_data(content_languages=""))

    refused(response, "content_languages", "This channel publishes no language")
    assert not Channel.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"language_plan": "haiku"},
        {"separator": "<script>"},
        {"platform": "myspace", "language_plan": "thread"},
        {"platform": "", "language_plan": "single", "content_languages": ""},
    ],
)
def test_unknown_values_are_a_400_with_a_message_never_a_500(client, manager, istanbul, changes):
    client.force_login(manager)

    response = client.post(reverse("channel_create", args=[istanbul.code]), channel_data(**changes))

    assert response.status_code == 400
    assert response.context["form"].errors
    assert not Channel.objects.exists()


# --- Who may change a channel's plan ------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "own_post", "allowed"),
    [
        ("manager", True, True),
        ("manager", False, False),
        ("reviewer", True, True),
        ("reviewer", False, True),
        ("editor", True, False),
        ("partner_user", True, False),
        ("outsider", True, False),
    ],
    indirect=["persona"],
)
def test_who_may_change_a_channels_language_plan(client, persona, own_post, allowed, istanbul, ankara):
    channel = channel_with(post=istanbul if own_post else ankara, plan="thread")
    client.force_login(persona)

    response = client.post(
        reverse("channel_edit", args=[channel.pk]),
        channel_data(handle=channel.handle, language_plan="separate"),
    )

    channel.refresh_from_db()
    if allowed:
        assert response.status_code == 302
        assert channel.language_plan == "separate"
    else:
        assert response.status_code == 403
        assert channel.language_plan == "thread"


# --- Central's platform defaults ----------------------------------------------------


def defaults_data(**changes: str) -> dict[str, str]:
    data = {}
    for platform, (plan, separator) in current_defaults().items():
        data[f"plan_{platform}"] = plan
        data[f"separator_{platform}"] = separator
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("persona", "status"),
    [("reviewer", 200), ("manager", 403), ("editor", 403), ("partner_user", 403), ("outsider", 403)],
    indirect=["persona"],
)
def test_only_central_opens_the_platform_defaults(client, persona, status):
    client.force_login(persona)

    assert client.get(reverse("platform_defaults")).status_code == status
    response = client.post(reverse("platform_defaults"), defaults_data(plan_x="separate"))
    assert response.status_code == (302 if status == 200 else 403)
    assert PlatformDefault.objects.filter(platform="x").exists() == (status == 200)


def test_the_platform_defaults_page_is_linked_from_the_network_page_for_central_only(
    client, reviewer, manager
):
    client.force_login(reviewer)
    assert reverse("platform_defaults") in client.get(reverse("network")).content.decode()
    client.force_login(manager)
    assert reverse("platform_defaults") not in client.get(reverse("network")).content.decode()


def test_the_platform_defaults_page_shows_one_row_per_platform_and_says_existing_channels_keep_theirs(
    client, reviewer
):
    client.force_login(reviewer)

    body = client.get(reverse("platform_defaults")).content.decode()

    for platform in ("x", "bluesky", "mastodon", "threads", "facebook", "instagram", "linkedin", "youtube"):
        assert f'name="plan_{platform}"' in body
        assert f'name="separator_{platform}"' in body
    assert "existing channels keep their own plan" in body


def test_central_changes_a_default_for_new_channels_only(client, reviewer, istanbul):
    existing = channel_with(post=istanbul, platform="mastodon", plan="thread")
    client.force_login(reviewer)

    response = client.post(
        reverse("platform_defaults"), defaults_data(plan_mastodon="separate", separator_facebook="dash")
    )

    assert response.status_code == 302
    assert set(PlatformDefault.objects.values_list("platform", "language_plan", "separator")) == {
        ("mastodon", "separate", "blank_line"),
        ("facebook", "combined", "dash"),
    }
    existing.refresh_from_db()
    assert existing.language_plan == "thread"


def test_saving_the_defaults_unchanged_writes_nothing(client, reviewer):
    client.force_login(reviewer)

    response = client.post(reverse("platform_defaults"), defaults_data(), follow=True)

    assert not PlatformDefault.objects.exists()
    assert "Nothing changed" in response.content.decode()


def test_a_thread_default_on_a_platform_without_threads_is_refused_and_nothing_saved(client, reviewer):
    client.force_login(reviewer)

    response = client.post(
        reverse("platform_defaults"), defaults_data(plan_linkedin="thread", plan_x="separate")
    )

    assert response.status_code == 400
    assert "LinkedIn has no threads" in " ".join(response.context["form"].errors["plan_linkedin"])
    assert not PlatformDefault.objects.exists()


@pytest.mark.parametrize("changes", [{"plan_x": "haiku"}, {"separator_x": ""}, {"plan_facebook": ""}])
def test_bad_platform_defaults_are_a_400_not_a_500(client, reviewer, changes):
    client.force_login(reviewer)

    response = client.post(reverse("platform_defaults"), defaults_data(**changes))

    assert response.status_code == 400
    assert not PlatformDefault.objects.exists()


# --- The plan in words ----------------------------------------------------------------


def test_each_plan_reads_in_words_with_its_languages_in_order(istanbul):
    assert plan_in_words(channel_with(post=istanbul, plan="thread")) == "Thread, nl → fr → en → tr"
    assert (
        plan_in_words(channel_with(post=istanbul, plan="separate", languages="tr,en"))
        == "Separate posts, tr, en"
    )
    assert (
        plan_in_words(channel_with(post=istanbul, platform="facebook", plan="combined", languages="fr,nl"))
        == "One post, fr / nl (a blank line between)"
    )
    assert plan_in_words(channel_with(post=istanbul, plan="single", languages="fr")) == "Only fr"


def test_the_posts_page_lists_each_channels_plan_in_words(client, editor, istanbul):
    channel_with(post=istanbul, handle="@BelgiumInIstanbul", plan="thread")
    channel_with(post=istanbul, handle="@BelgiqueTurquie", plan="single", languages="fr")
    client.force_login(editor)

    body = client.get(reverse("post_detail", args=[istanbul.code])).content.decode()

    assert "Thread, nl → fr → en → tr" in body
    assert "Only fr" in body


# --- The editor's channel checkboxes carry each channel's plan -------------------------


def test_each_channel_checkbox_carries_its_plan_as_sending_gives_it(client, editor, istanbul):
    thread = channel_with(post=istanbul, handle="@BelgiumInIstanbul", plan="thread", languages="")
    french = channel_with(post=istanbul, handle="@BelgiqueTurquie", plan="single", languages="fr")
    page = channel_with(post=istanbul, platform="facebook", handle="Belgium.Istanbul", plan="combined")
    Channel.objects.filter(pk=page.pk).update(separator="dash")
    client.force_login(editor)

    body = client.get(reverse("publication_new")).content.decode()

    plans = {
        json.loads(html.unescape(value))["channel_id"]: json.loads(html.unescape(value))
        for value in re.findall(r'data-channel-plan="([^"]*)"', body)
    }
    assert plans[thread.pk] == {
        "platform": "x",
        "plan": "thread",
        "languages": ["nl", "fr", "en", "tr"],
        "separator": "\n\n",
        "channel_id": thread.pk,
        "handle": "@BelgiumInIstanbul",
        "label": "X @BelgiumInIstanbul",
    }
    assert plans[french.pk]["languages"] == ["fr"]
    assert plans[french.pk]["plan"] == "single"
    assert plans[page.pk]["separator"] == "\n\n—\n\n"
    page.refresh_from_db()
    assert plans[page.pk]["separator"] == ChannelPlan.of(page).separator


def test_a_plan_on_a_platform_nobody_knows_is_refused_with_a_message_not_an_error():
    from diplomacy.models import plan_problems

    problems = plan_problems("myspace", "thread", ["nl"], ["nl"])

    assert problems == {
        "language_plan": "myspace has no threads: choose one combined post or separate posts."
    }


@pytest.mark.django_db(transaction=True)  # the cache serves only what a committed transaction wrote
def test_the_empty_editor_comes_from_the_cache_and_shows_a_changed_plan_at_once(
    client, editor, istanbul, monkeypatch
):
    from calendar_app.views import publications

    built: list[str] = []
    render = publications.render_to_string
    monkeypatch.setattr(
        publications, "render_to_string", lambda name, context: built.append(name) or render(name, context)
    )
    channel = channel_with(post=istanbul, handle="@BelgiumInIstanbul", plan="thread")
    client.force_login(editor)
    client.get(reverse("publication_new"))
    client.get(reverse("publication_new"))
    assert built == ["calendar_app/_editor_fields.html"]  # built once, then from the cache

    channel.language_plan = "separate"
    channel.save()  # through the ORM, as the channel form saves: the channels' version moves
    body = client.get(reverse("publication_new")).content.decode()

    assert len(built) == 2
    assert "&quot;plan&quot;: &quot;separate&quot;" in body
