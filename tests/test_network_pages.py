"""The network registry pages: list with filters and counts, post page, edits."""

import pytest
from django.urls import reverse

from diplomacy.models import Channel, Post
from tests.factories import make_channel, make_post


@pytest.fixture
def network(istanbul, ankara):
    paris = make_post(
        code="be-emb-paris",
        name="Embassy of Belgium in Paris",
        city="Paris",
        country="FR",
        timezone="Europe/Paris",
        host_languages="fr",
        publishing_languages="fr,nl",
    )
    make_channel(post=istanbul, platform="facebook")
    make_channel(post=istanbul, platform="x")
    make_channel(post=ankara, platform="facebook")
    make_channel(post=paris, platform="x", active=False)
    return {"istanbul": istanbul, "ankara": ankara, "paris": paris}


def names(response) -> list[str]:
    return [post.code for post in response.context["posts"]]


def test_the_network_lists_every_post_with_counts_per_platform(client, editor, network):
    client.force_login(editor)
    response = client.get(reverse("network"))
    assert response.status_code == 200
    assert sorted(names(response)) == ["be-cg-istanbul", "be-emb-ankara", "be-emb-paris"]
    assert response.context["total"] == 3
    counts = dict(response.context["platform_counts"])
    assert counts["Facebook"] == 2
    assert counts["X"] == 1  # Paris's X account is inactive


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"country": "FR"}, ["be-emb-paris"]),
        ({"kind": "consulate_general"}, ["be-cg-istanbul"]),
        ({"platform": "x"}, ["be-cg-istanbul"]),
        ({"no_channel": "true"}, ["be-emb-paris"]),
        ({"no_channel": "false"}, ["be-cg-istanbul", "be-emb-ankara"]),
        ({"language": "fr"}, ["be-cg-istanbul", "be-emb-ankara", "be-emb-paris"]),
        ({"language": "tr"}, ["be-cg-istanbul", "be-emb-ankara"]),
        ({"q": "paris"}, ["be-emb-paris"]),
    ],
)
def test_the_network_filters_narrow_the_list(client, editor, network, query, expected):
    client.force_login(editor)
    response = client.get(reverse("network"), query)
    assert response.status_code == 200
    assert sorted(names(response)) == expected


@pytest.mark.parametrize(
    "query", [{"country": "ZZ"}, {"kind": "palace"}, {"platform": "myspace"}, {"language": "french"}]
)
def test_an_unknown_filter_value_is_a_400_with_a_message(client, editor, network, query):
    client.force_login(editor)
    response = client.get(reverse("network"), query)
    assert response.status_code == 400
    assert response.context["filter"].form.errors


def test_the_network_page_runs_the_same_queries_at_two_sizes(client, editor, django_assert_num_queries):
    client.force_login(editor)
    client.get(reverse("network"))  # warm the session and the memberships

    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("network")).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(3):
        post = make_post()
        make_channel(post=post)
    small = count_queries()
    for _ in range(30):
        post = make_post()
        make_channel(post=post, platform="facebook")
        make_channel(post=post, platform="x")
    assert count_queries() == small


def test_the_post_page_shows_the_local_time_and_names_the_zone(client, editor, istanbul):
    client.force_login(editor)
    response = client.get(reverse("post_detail", args=[istanbul.code]))
    assert response.status_code == 200
    assert "Istanbul (UTC+3)" in response.content.decode()
    assert "Europe/Istanbul" not in response.content.decode()
    assert response.context["local_now"].utcoffset().total_seconds() == 3 * 3600


def test_post_staff_are_listed_for_the_post_itself_but_not_for_other_posts(
    client, editor, manager, istanbul, ankara
):
    client.force_login(editor)
    own = client.get(reverse("post_detail", args=[istanbul.code])).content.decode()
    assert "manager.istanbul@example.org" in own
    foreign = client.get(reverse("post_detail", args=[ankara.code]))
    assert foreign.context["staff"] == []


def test_a_central_reviewer_creates_a_post(client, reviewer):
    client.force_login(reviewer)
    response = client.post(
        reverse("post_create"),
        {
            "code": "be-emb-tirana",
            "kind": "embassy",
            "name": "Embassy of Belgium in Tirana",
            "city": "Tirana",
            "country": "AL",
            "timezone": "Europe/Tirane",
            "host_languages": "SQ",
            "publishing_languages": "nl; fr en sq",
            "active": "on",
        },
    )
    assert response.status_code == 302
    post = Post.objects.get(code="be-emb-tirana")
    assert post.publishing_languages == "nl,fr,en,sq"
    assert post.host_languages == "sq"


@pytest.mark.parametrize(
    ("field", "value"),
    [("timezone", "Mars/Olympus"), ("country", "ZZ"), ("publishing_languages", "dutch"), ("kind", "palace")],
)
def test_a_post_with_bad_values_is_refused_with_a_message(client, reviewer, istanbul, field, value):
    client.force_login(reviewer)
    data = {
        "kind": istanbul.kind,
        "name": istanbul.name,
        "city": istanbul.city,
        "country": "TR",
        "timezone": istanbul.timezone,
        "host_languages": "tr",
        "publishing_languages": "nl,fr",
        "active": "on",
        field: value,
    }
    response = client.post(reverse("post_edit", args=[istanbul.code]), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    istanbul.refresh_from_db()
    assert getattr(istanbul, field) != value


def test_the_code_of_an_existing_post_cannot_be_changed(client, reviewer, istanbul):
    client.force_login(reviewer)
    response = client.post(
        reverse("post_edit", args=[istanbul.code]),
        {
            "code": "hijacked",
            "kind": istanbul.kind,
            "name": "Renamed",
            "city": istanbul.city,
            "country": "TR",
            "timezone": istanbul.timezone,
            "publishing_languages": "nl,fr",
        },
    )
    assert response.status_code == 302
    istanbul.refresh_from_db()
    assert (istanbul.code, istanbul.name) == ("be-cg-istanbul", "Renamed")


def test_a_post_manager_adds_a_channel_to_their_own_post(client, manager, istanbul):
    client.force_login(manager)
    response = client.post(
        reverse("channel_create", args=[istanbul.code]),
        {
            "platform": "mastodon",
            "handle": "@belgium@diplo.social",
            "url": "diplo.social/@belgium",
            "content_languages": "TR EN",
            "weekly_target": 2,
            "active": "on",
        },
    )
    assert response.status_code == 302
    channel = Channel.objects.get(post=istanbul, platform="mastodon")
    assert channel.content_languages == "tr,en"
    assert channel.url == "https://diplo.social/@belgium"


def test_a_forged_post_field_cannot_move_a_channel_to_another_post(client, manager, istanbul, ankara):
    client.force_login(manager)
    client.post(
        reverse("channel_create", args=[istanbul.code]),
        {"post": ankara.pk, "platform": "x", "handle": "@forged", "weekly_target": 1},
    )
    assert not Channel.objects.filter(post=ankara).exists()
    assert Channel.objects.get(handle="@forged").post == istanbul


def test_a_duplicate_channel_is_refused_with_a_message_not_a_500(client, manager, istanbul):
    make_channel(post=istanbul, platform="x", handle="@BelgiumIstanbul")
    client.force_login(manager)
    response = client.post(
        reverse("channel_create", args=[istanbul.code]),
        {"platform": "x", "handle": "@BelgiumIstanbul", "weekly_target": 1},
    )
    assert response.status_code == 400
    assert "already has this account" in str(response.context["form"].non_field_errors())
    assert Channel.objects.filter(post=istanbul).count() == 1


@pytest.mark.parametrize("target", ["-1", "101", "many"])
def test_an_impossible_weekly_target_is_refused(client, manager, istanbul, target):
    client.force_login(manager)
    response = client.post(
        reverse("channel_create", args=[istanbul.code]),
        {"platform": "x", "handle": "@ok", "weekly_target": target},
    )
    assert response.status_code == 400
    assert "weekly_target" in response.context["form"].errors
    assert not Channel.objects.exists()


def test_the_health_check_answers(client, db):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.content == b"ok"


def test_the_network_filters_name_their_empty_choices_and_offer_languages_by_name(client, editor, network):
    client.force_login(editor)
    page = client.get(reverse("network")).content.decode()
    assert "---------" not in page
    for label in ("All countries", "Any kind", "Any platform", "Any language", "Any"):
        assert f">{label}</option>" in page
    assert '<option value="tr">Turkish</option>' in page
    # The yes/no filter still reads the links made before it had its own words.
    assert client.get(reverse("network"), {"no_channel": "true"}).status_code == 200
