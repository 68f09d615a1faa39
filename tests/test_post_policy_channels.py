"""A post's publishing-language policy is what its channels without languages of their own
publish: changing it, on the post form or by importing a posts file, must not silently
change what those channels send, nor leave a channel with no valid plan."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Publication
from diplomacy.forms import policy_problems
from diplomacy.importing import import_network_file
from diplomacy.models import Channel, Post
from tests.calendar_factories import make_publication
from tests.factories import make_channel

#: Dutch and French make one X post of 262 characters (limit 280); with English, 394.
TEXTS = {"nl": "n" * 130, "fr": "f" * 130, "en": "e" * 130}

POSTS_HEADER = "code,kind,name,city,country_iso2,timezone,host_languages,publishing_languages"


def with_policy(post: Post, policy: str) -> Post:
    Post.objects.filter(pk=post.pk).update(publishing_languages=policy)
    post.refresh_from_db()
    return post


def combined_x_channel(post: Post, *, languages: str = "") -> Channel:
    """An X account that puts every language in one post; with no languages of its own it
    publishes the post's policy."""
    channel = make_channel(post=post, platform="x", handle="@BelgiumInIstanbul", content_languages=languages)
    Channel.objects.filter(pk=channel.pk).update(language_plan="combined")
    channel.refresh_from_db()
    return channel


def one_language_channel(post: Post, language: str) -> Channel:
    channel = make_channel(post=post, platform="x", handle="@BelgiqueTurquie", content_languages=language)
    Channel.objects.filter(pk=channel.pk).update(language_plan="single")
    channel.refresh_from_db()
    return channel


def approved_on(post: Post, author, channel: Channel) -> Publication:
    return make_publication(
        post=post,
        author=author,
        title="Flemish cleantech mission",
        status="approved",
        local_date=(timezone.now() + timedelta(days=5)).date(),
        channels=[channel],
        variants=TEXTS,
    )


def post_data(post: Post, **changes: str) -> dict[str, str]:
    data = {
        "kind": post.kind,
        "name": post.name,
        "city": post.city,
        "country": str(post.country.code),
        "timezone": post.timezone,
        "host_languages": post.host_languages,
        "publishing_languages": post.publishing_languages,
        "active": "on",
    }
    data.update(changes)
    return data


def posts_row(post: Post, policy: str) -> str:
    """The post's line in a posts file, with `policy` ("nl;fr") as its publishing languages."""
    return (
        f"{post.code},{post.kind},{post.name},{post.city},{post.country.code},{post.timezone},"
        f"{post.host_languages},{policy}"
    )


def csv_file(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


# The post form ------------------------------------------------------------------------


def test_a_policy_that_would_make_an_approved_publication_too_long_for_a_combined_x_post_is_refused(
    client, reviewer, editor, istanbul
):
    with_policy(istanbul, "nl,fr")
    approved_on(istanbul, editor, combined_x_channel(istanbul))
    client.force_login(reviewer)

    response = client.post(
        reverse("post_edit", args=[istanbul.code]), post_data(istanbul, publishing_languages="nl,fr,en")
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "channels of this post would not publish as they should" in page
    assert "X @BelgiumInIstanbul" in page
    assert "Flemish cleantech mission" in page
    assert "394 characters; the limit is 280 (114 too many)" in page
    istanbul.refresh_from_db()
    assert istanbul.publishing_languages == "nl,fr"


def test_dropping_the_language_of_a_one_language_channel_from_the_policy_is_refused(
    client, reviewer, istanbul
):
    one_language_channel(istanbul, "tr")
    client.force_login(reviewer)

    response = client.post(
        reverse("post_edit", args=[istanbul.code]), post_data(istanbul, publishing_languages="nl,fr,en")
    )

    assert response.status_code == 400
    errors = response.context["form"].non_field_errors()
    assert any("X @BelgiqueTurquie: The post publishes nothing in tr" in error for error in errors)
    istanbul.refresh_from_db()
    assert istanbul.publishing_languages == "nl,fr,en,tr"


def test_a_policy_every_channel_still_carries_is_saved(client, reviewer, editor, istanbul):
    with_policy(istanbul, "nl,fr")
    approved_on(istanbul, editor, combined_x_channel(istanbul))
    one_language_channel(istanbul, "fr")
    client.force_login(reviewer)

    response = client.post(
        reverse("post_edit", args=[istanbul.code]), post_data(istanbul, publishing_languages="fr,nl,tr")
    )

    assert response.status_code == 302
    istanbul.refresh_from_db()
    assert istanbul.publishing_languages == "fr,nl,tr"


def test_a_channel_with_languages_of_its_own_does_not_hold_the_policy(client, reviewer, editor, istanbul):
    with_policy(istanbul, "nl,fr")
    approved_on(istanbul, editor, combined_x_channel(istanbul, languages="nl,fr"))
    client.force_login(reviewer)

    response = client.post(
        reverse("post_edit", args=[istanbul.code]), post_data(istanbul, publishing_languages="nl,fr,en")
    )

    assert response.status_code == 302
    istanbul.refresh_from_db()
    assert istanbul.publishing_languages == "nl,fr,en"


def test_an_edit_that_leaves_the_policy_alone_is_saved_without_checking_the_channels(
    client, reviewer, editor, istanbul
):
    # Already too long under the policy as it is (set before these checks existed).
    approved_on(istanbul, editor, combined_x_channel(istanbul))
    client.force_login(reviewer)

    response = client.post(reverse("post_edit", args=[istanbul.code]), post_data(istanbul, name="Renamed"))

    assert response.status_code == 302
    istanbul.refresh_from_db()
    assert istanbul.name == "Renamed"


def test_a_problem_a_channel_already_had_does_not_hold_up_a_policy_change(client, reviewer, istanbul):
    one_language_channel(istanbul, "de")  # the policy (nl,fr,en,tr) has no German already
    client.force_login(reviewer)

    response = client.post(
        reverse("post_edit", args=[istanbul.code]), post_data(istanbul, publishing_languages="nl,fr,en")
    )

    assert response.status_code == 302


def test_an_emptied_policy_names_every_channel_left_without_a_language(istanbul):
    combined_x_channel(istanbul)
    make_channel(post=istanbul, platform="facebook", handle="BelgiumInTurkey", content_languages="tr")
    stored = istanbul.publishing_language_list
    istanbul.publishing_languages = ""

    problems = policy_problems(istanbul, stored)

    assert len(problems) == 1
    assert problems[0].startswith("X @BelgiumInIstanbul: This channel publishes no language")


def test_checking_a_policy_leaves_the_post_and_its_channels_as_stored(editor, istanbul):
    with_policy(istanbul, "nl,fr")
    channel = combined_x_channel(istanbul)
    approved_on(istanbul, editor, channel)
    istanbul.publishing_languages = "nl,fr,en"

    assert policy_problems(istanbul, ["nl", "fr"])
    assert Post.objects.get(pk=istanbul.pk).publishing_languages == "nl,fr"
    assert Channel.objects.get(pk=channel.pk).language_plan == "combined"


# The posts import ---------------------------------------------------------------------


def test_an_import_whose_policy_would_make_a_planned_publication_too_long_is_refused_on_its_line(
    editor, istanbul, ankara
):
    with_policy(istanbul, "nl,fr")
    approved_on(istanbul, editor, combined_x_channel(istanbul))

    report = import_network_file(
        csv_file(POSTS_HEADER, posts_row(ankara, "nl;fr;en"), posts_row(istanbul, "nl;fr;en"))
    )

    assert not report.ok
    assert [error.line for error in report.errors] == [3]
    message = report.errors[0].message
    assert "a channel of the post would not publish as it should" in message
    assert "X @BelgiumInIstanbul" in message
    assert "394 characters" in message
    assert Post.objects.get(pk=istanbul.pk).publishing_languages == "nl,fr"
    assert Post.objects.get(pk=ankara.pk).publishing_languages == "nl,fr,en,tr"


def test_an_import_dropping_a_one_language_channels_language_is_refused_on_its_line(istanbul):
    one_language_channel(istanbul, "tr")

    report = import_network_file(csv_file(POSTS_HEADER, posts_row(istanbul, "nl;fr")))

    assert [error.line for error in report.errors] == [2]
    assert "X @BelgiqueTurquie: The post publishes nothing in tr" in report.errors[0].message
    assert Post.objects.get(pk=istanbul.pk).publishing_languages == "nl,fr,en,tr"


def test_an_import_with_a_policy_every_channel_carries_is_written(editor, istanbul):
    with_policy(istanbul, "nl,fr")
    approved_on(istanbul, editor, combined_x_channel(istanbul))
    one_language_channel(istanbul, "fr")

    report = import_network_file(csv_file(POSTS_HEADER, posts_row(istanbul, "fr;nl;tr")))

    assert report.ok, report.errors
    assert report.updated == 1
    assert Post.objects.get(pk=istanbul.pk).publishing_languages == "fr,nl,tr"


def test_an_import_that_leaves_the_policy_alone_is_not_held_by_the_channels(editor, istanbul):
    approved_on(istanbul, editor, combined_x_channel(istanbul))  # too long already

    report = import_network_file(csv_file(POSTS_HEADER, posts_row(istanbul, "nl;fr;en;tr")))

    assert report.ok, report.errors
    assert report.unchanged == 1


def test_the_import_page_answers_a_refused_policy_with_a_400_and_the_line(client, reviewer, istanbul):
    one_language_channel(istanbul, "tr")
    client.force_login(reviewer)
    content = csv_file(POSTS_HEADER, posts_row(istanbul, "nl;fr"))

    response = client.post(
        reverse("network_import"),
        {"file": SimpleUploadedFile("posts.csv", content, content_type="text/csv"), "import": "1"},
    )

    assert response.status_code == 400
    assert "The post publishes nothing in tr" in response.content.decode()
    assert Post.objects.get(pk=istanbul.pk).publishing_languages == "nl,fr,en,tr"
