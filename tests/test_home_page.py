"""The home page of post staff: the posts' local time, and the drafts it lists."""

from __future__ import annotations

from datetime import date

import time_machine
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from diplomacy.models import Membership, Role
from tests.calendar_factories import make_publication
from tests.factories import make_post, make_user


def test_post_staff_see_their_posts_local_time_not_utc(client, istanbul, editor):
    # 05:34 UTC is 08:34 in Istanbul (UTC+3 all year).
    client.force_login(editor)
    with time_machine.travel("2026-12-07 05:34:00+00:00", tick=False):
        response = client.get(reverse("home"))
    assertContains(response, "Local time: 08:34 Istanbul (UTC+3)")
    assertNotContains(response, "05:34")


def test_each_post_shows_its_own_local_time_across_a_dst_change(client, istanbul):
    # Brussels moves to summer time on 29 March 2026; Istanbul does not.
    brussels = make_post(
        code="be-emb-brussels-test", city="Brussels", country="BE", timezone="Europe/Brussels"
    )
    person = make_user(role=Role.POST_EDITOR, post=istanbul)
    Membership.objects.create(user=person, role=Role.POST_EDITOR, post=brussels)
    client.force_login(person)
    with time_machine.travel("2026-03-29 01:30:00+00:00", tick=False):
        response = client.get(reverse("home"))
    assertContains(response, "Local time: 04:30 Istanbul (UTC+3)")
    assertContains(response, "Local time: 03:30 Brussels (UTC+2)")


def test_the_manager_sees_the_drafts_of_the_post_under_a_label_that_says_so(
    client, istanbul, editor, manager
):
    make_publication(post=istanbul, author=editor, title="The editor's draft", local_date=date(2026, 12, 9))
    client.force_login(manager)
    with time_machine.travel("2026-12-07 08:00:00+00:00", tick=False):
        response = client.get(reverse("home"))
    assertContains(response, "Drafts of your post")
    assertNotContains(response, "Your drafts")
    assertContains(response, "The editor&#x27;s draft")
