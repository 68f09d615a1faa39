"""Each role's navigation, and the pages each role reaches, all accessible."""

import pytest
from django.urls import reverse

from tests.browser.browsing import expected_nav
from tests.factories import make_channel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INTERNAL = ["editor", "manager", "reviewer"]


@pytest.fixture
def network(istanbul, ankara):
    """Two posts with channels, so that lists and tables have rows to check."""
    make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    make_channel(post=istanbul, platform="x", handle="@BelgiumInIst", active=False)
    make_channel(post=ankara, platform="facebook", handle="@Belgium.Ankara")
    return [istanbul, ankara]


def follow_every_nav_link(visitor) -> None:
    """Open each link of the main navigation; each page answers and marks itself current."""
    links = visitor.page.locator('nav[aria-label="Main"] a')
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for href in hrefs:
        visitor.goto(href)
        current = visitor.page.locator('nav[aria-label="Main"] a[aria-current="page"]')
        assert current.count() == 1 and current.get_attribute("href") == href


@pytest.mark.parametrize("persona", ["editor", "manager", "reviewer", "partner_user"], indirect=True)
def test_each_role_sees_exactly_its_navigation(visitor, persona, network):
    visitor.log_in(persona.email)

    assert visitor.path == "/"
    assert visitor.nav_labels() == expected_nav(persona)
    follow_every_nav_link(visitor)


@pytest.mark.parametrize("persona", ["editor", "manager"], indirect=True)
def test_post_staff_reach_the_network_and_posts_but_not_central_pages(visitor, persona, network, istanbul):
    visitor.log_in(persona.email)

    visitor.goto("/network/")
    assert visitor.page.get_by_role("link", name=istanbul.name).count() >= 1
    visitor.goto(istanbul.get_absolute_url())
    assert visitor.page.get_by_role("heading", level=1).inner_text() == istanbul.name
    add_channel = visitor.page.get_by_role("link", name="Add a channel")
    assert add_channel.count() == (1 if persona.email.startswith("manager") else 0)
    visitor.goto(reverse("invitation_list"), status=403)
    visitor.goto(reverse("network_import"), status=403)


def test_a_central_reviewer_reaches_every_network_page(visitor, reviewer, network, istanbul):
    visitor.log_in(reviewer.email)

    visitor.goto("/network/")
    visitor.goto(istanbul.get_absolute_url())
    assert visitor.page.get_by_role("link", name="Edit this post").count() == 1
    visitor.goto(reverse("invitation_list"))
    assert visitor.page.get_by_role("heading", level=1).inner_text() == "Invite a person"
    visitor.goto(reverse("network_import"))
    assert visitor.page.locator('input[type="file"]').count() == 1


def test_a_partner_contributor_is_refused_the_network(visitor, partner_user, network, istanbul):
    visitor.log_in(partner_user.email)

    visitor.goto("/network/", status=403)
    assert visitor.page.get_by_role("heading", level=1).inner_text() == "Not allowed"
    assert visitor.nav_labels() == expected_nav(partner_user)
    visitor.goto(istanbul.get_absolute_url(), status=403)
    visitor.goto(reverse("invitation_list"), status=403)


def test_the_account_pages_in_the_header_are_accessible(visitor, editor):
    visitor.log_in(editor.email)

    account_nav = visitor.page.locator('nav[aria-label="Account"] a')
    hrefs = [account_nav.nth(i).get_attribute("href") for i in range(account_nav.count())]
    assert set(hrefs) == {
        reverse("notification_list"),
        reverse("account_email"),
        reverse("mfa_index"),
        reverse("usersessions_list"),
    }
    for href in hrefs:
        visitor.goto(href)
    visitor.log_out()
    assert visitor.path.startswith(reverse("account_login"))
    assert visitor.page.locator('nav[aria-label="Main"]').count() == 0


def test_the_network_pages_central_comms_edit_with_are_accessible(visitor, reviewer, network, istanbul):
    visitor.log_in(reviewer.email)

    visitor.goto(reverse("post_create"))
    visitor.goto(reverse("post_edit", args=[istanbul.code]))
    visitor.goto(reverse("channel_create", args=[istanbul.code]))
    # A form sent back with errors names them next to the fields.
    visitor.submit('main form:has(select[name="platform"])')
    assert visitor.page.locator('main [aria-invalid="true"]').count() >= 1
