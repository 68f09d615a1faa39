"""The permission matrix of the network pages: role x page x own/foreign object."""

import pytest
from django.urls import reverse

from diplomacy import roles
from diplomacy.models import Role
from tests.factories import make_channel, make_user

PERSONAS = ["anonymous", "outsider", "editor", "manager", "reviewer", "partner_user"]

# page -> expected status per persona, in PERSONAS order. 302 = sent to login.
MATRIX = {
    "home": (302, 200, 200, 200, 200, 200),
    "network": (302, 403, 200, 200, 200, 403),
    "own_post": (302, 403, 200, 200, 200, 403),
    "foreign_post": (302, 403, 200, 200, 200, 403),
    "post_create": (302, 403, 403, 403, 200, 403),
    "own_post_edit": (302, 403, 403, 403, 200, 403),
    "foreign_post_edit": (302, 403, 403, 403, 200, 403),
    "own_channel_create": (302, 403, 403, 200, 200, 403),
    "foreign_channel_create": (302, 403, 403, 403, 200, 403),
    "own_channel_edit": (302, 403, 403, 200, 200, 403),
    "foreign_channel_edit": (302, 403, 403, 403, 200, 403),
    "import": (302, 403, 403, 403, 200, 403),
    "invitations": (302, 403, 403, 403, 200, 403),
    "platform_defaults": (302, 403, 403, 403, 200, 403),
}


@pytest.fixture
def urls(istanbul, ankara):
    own_channel = make_channel(post=istanbul)
    foreign_channel = make_channel(post=ankara)
    return {
        "home": reverse("home"),
        "network": reverse("network"),
        "own_post": reverse("post_detail", args=[istanbul.code]),
        "foreign_post": reverse("post_detail", args=[ankara.code]),
        "post_create": reverse("post_create"),
        "own_post_edit": reverse("post_edit", args=[istanbul.code]),
        "foreign_post_edit": reverse("post_edit", args=[ankara.code]),
        "own_channel_create": reverse("channel_create", args=[istanbul.code]),
        "foreign_channel_create": reverse("channel_create", args=[ankara.code]),
        "own_channel_edit": reverse("channel_edit", args=[own_channel.pk]),
        "foreign_channel_edit": reverse("channel_edit", args=[foreign_channel.pk]),
        "import": reverse("network_import"),
        "invitations": reverse("invitation_list"),
        "platform_defaults": reverse("platform_defaults"),
    }


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("page", list(MATRIX))
def test_each_role_gets_the_expected_answer_on_each_network_page(client, persona, page, urls, request):
    expected = MATRIX[page][PERSONAS.index(request.node.callspec.params["persona"])]
    if persona is not None:
        client.force_login(persona)
    response = client.get(urls[page])
    assert response.status_code == expected, (page, request.node.callspec.params["persona"])
    if expected == 302:
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("page", ["own_channel_edit", "foreign_channel_edit", "own_post_edit"])
def test_a_forged_post_request_changes_nothing_when_denied(client, persona, page, urls, request):
    """A POST is decided like the GET: denied means 403 and no change."""
    from diplomacy.models import Channel, Post

    expected = MATRIX[page][PERSONAS.index(request.node.callspec.params["persona"])]
    if persona is not None:
        client.force_login(persona)
    before = (
        list(Channel.objects.values_list("handle", flat=True)),
        list(Post.objects.values_list("name", flat=True)),
    )
    response = client.post(
        urls[page],
        {"platform": "x", "handle": "@forged", "weekly_target": 1, "name": "Forged", "active": "on"},
    )
    if expected != 200:
        assert response.status_code == expected
        after = (
            list(Channel.objects.values_list("handle", flat=True)),
            list(Post.objects.values_list("name", flat=True)),
        )
        assert after == before


def test_an_unknown_post_is_404_for_staff_and_403_for_partners(client, editor, partner_user):
    client.force_login(editor)
    assert client.get(reverse("post_detail", args=["no-such-post"])).status_code == 404
    client.force_login(partner_user)
    assert client.get(reverse("post_detail", args=["no-such-post"])).status_code == 403


def test_roles_of_a_user_with_several_memberships(istanbul, ankara, fit):
    user = make_user(role=Role.POST_EDITOR, post=istanbul)
    from diplomacy.models import Membership

    Membership.objects.create(user=user, role=Role.POST_MANAGER, post=ankara)
    roles.forget_memberships(user)
    assert roles.post_ids(user) == {istanbul.pk, ankara.pk}
    assert roles.managed_post_ids(user) == {ankara.pk}
    assert roles.can_manage_channels(user, ankara)
    assert not roles.can_manage_channels(user, istanbul)
    assert not roles.is_central(user)
    assert roles.is_internal(user)
    assert roles.posts_of(user) == sorted([istanbul, ankara], key=lambda post: post.name)


def test_memberships_are_loaded_once_per_user_object(editor, django_assert_num_queries):
    roles.forget_memberships(editor)
    with django_assert_num_queries(1):
        roles.is_central(editor)
        roles.post_ids(editor)
        roles.allowed_actions(editor)
        roles.navigation(editor)


def test_an_inactive_user_holds_no_role(editor):
    editor.is_active = False
    roles.forget_memberships(editor)
    assert roles.roles_of(editor) == set()
    assert not roles.can_view_network(editor)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        (
            "editor",
            ["home", "calendar", "publish_now", "crisis_list", "proposal_list", "network", "guidelines"],
        ),
        (
            "manager",
            ["home", "calendar", "publish_now", "crisis_list", "proposal_list", "network", "guidelines"],
        ),
        (
            "reviewer",
            [
                "home",
                "calendar",
                "publish_now",
                "crisis_list",
                "approvals",
                "proposal_list",
                "network",
                "invitation_list",
                "network_import",
                "guidelines",
            ],
        ),
        ("partner_user", ["home", "proposal_list", "guidelines"]),
        ("outsider", ["home", "guidelines"]),
    ],
    indirect=["persona"],
)
def test_the_navigation_shows_each_role_only_its_pages(persona, expected):
    assert [item.url_name for item in roles.navigation(persona)] == expected


def test_allowed_actions_on_a_post_follow_the_predicates(istanbul, ankara, manager, reviewer, editor):
    assert roles.allowed_actions(manager, istanbul) == {"view", "add_channel", "view_staff"}
    assert roles.allowed_actions(manager, ankara) == {"view"}
    assert roles.allowed_actions(editor, istanbul) == {"view", "view_staff"}
    assert roles.allowed_actions(reviewer, ankara) == {"view", "edit", "add_channel", "view_staff"}


def test_allowed_actions_on_the_network_offer_platform_defaults_to_central_only(manager, reviewer, editor):
    assert "platform_defaults" in roles.allowed_actions(reviewer)
    assert "platform_defaults" not in roles.allowed_actions(manager)
    assert "platform_defaults" not in roles.allowed_actions(editor)
