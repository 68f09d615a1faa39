"""A post manager sets how a channel publishes several languages; central sets where new
channels start. Every page passes the accessibility check, with and without errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from diplomacy.models import Channel, PlatformDefault

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]


def test_a_manager_adds_a_french_only_account_after_a_refused_thread_on_facebook(visitor, manager, istanbul):
    visitor.log_in(manager.email)
    page = visitor.page
    visitor.goto(f"/network/posts/{istanbul.code}/channels/new/")
    page.locator("#id_platform").select_option("facebook")
    page.locator("#id_handle").fill("@BelgiqueTurquie")
    page.get_by_label("A thread: one post per language, each answering the one before").check()

    visitor.submit("form.narrow")

    expect(
        page.get_by_text("Facebook has no threads: choose one combined post or separate posts.")
    ).to_be_visible()
    page.locator("#id_platform").select_option("x")
    page.locator("#id_content_languages").fill("fr")
    page.get_by_label("One language only: the account publishes in one language").check()
    visitor.submit("form.narrow")

    channel = Channel.objects.get(handle="@BelgiqueTurquie")
    assert (channel.platform, channel.language_plan, channel.content_languages) == ("x", "single", "fr")
    expect(page.get_by_role("cell", name="Only fr")).to_be_visible()


def test_central_sets_a_platform_default_and_is_told_when_a_platform_has_no_threads(visitor, reviewer):
    visitor.log_in(reviewer.email)
    page = visitor.page
    visitor.goto("/network/")
    page.get_by_role("link", name="Platform defaults").click()
    page.wait_for_url("**/network/platforms/")
    visitor.audit()

    page.get_by_label("LinkedIn: languages go out as").select_option("thread")
    page.get_by_label("Mastodon: languages go out as").select_option("separate")
    visitor.submit("main form")

    expect(page.get_by_text("LinkedIn has no threads")).to_be_visible()
    assert not PlatformDefault.objects.exists()
    page.get_by_label("LinkedIn: languages go out as").select_option("combined")
    visitor.submit("main form")

    expect(page.get_by_text("Saved for Mastodon.")).to_be_visible()
    assert list(PlatformDefault.objects.values_list("platform", "language_plan")) == [
        ("mastodon", "separate")
    ]
