"""Wide tables scroll inside a region a keyboard can reach, named after its table.

On a phone the report and network tables are wider than the screen: they scroll inside
their own box (`.table-wrap`), never the page. A box that scrolls must take focus
(`tabindex="0"`, or keyboard users cannot scroll it: axe's `scrollable-region-focusable`)
and, as a focusable region, have a name a screen reader reads out.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Proposal
from diplomacy.models import Invitation
from tests.calendar_factories import make_proposal, make_publication
from tests.factories import make_channel

WRAP = re.compile(r"<div\b[^>]*\bclass=\"table-wrap\"[^>]*>")


def wraps_and_ids(page: str) -> tuple[list[str], set[str]]:
    return WRAP.findall(page), set(re.findall(r'\bid="([^"]+)"', page))


def assert_labelled_focusable_regions(page: str) -> int:
    wraps, ids = wraps_and_ids(page)
    for wrap in wraps:
        assert 'role="region"' in wrap, wrap
        assert 'tabindex="0"' in wrap, wrap
        label = re.search(r'aria-labelledby="([^"]+)"', wrap)
        assert label, wrap
        assert label.group(1) in ids, f"{wrap} names a missing element"
    return len(wraps)


@pytest.fixture
def reports_data(istanbul, editor, fit):
    channel = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    today = timezone.localdate()
    make_publication(
        post=istanbul,
        author=editor,
        status="published",
        local_date=today - timedelta(days=3),
        channels=[channel],
        variants={"nl": "Tekst", "fr": "Texte"},
        proposal=make_proposal(partner=fit),
    )
    proposal = make_proposal(partner=fit, title="Trade mission", status="submitted")
    Proposal.objects.filter(pk=proposal.pk).update(submitted_at=timezone.now())
    return channel


@pytest.mark.parametrize(
    ("name", "kwargs", "tables"),
    [
        ("activity", {}, 4),
        ("coverage", {}, 2),
        ("regional_share", {}, 4),
        ("network", {}, 1),
        ("post_detail", {"code": "be-cg-istanbul"}, 1),
        ("platform_defaults", {}, 1),
        ("proposal_list", {}, 1),
    ],
)
def test_every_wide_table_of_central_pages_scrolls_in_a_labelled_focusable_region(
    client, reviewer, reports_data, name, kwargs, tables
):
    client.force_login(reviewer)
    response = client.get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200
    assert assert_labelled_focusable_regions(response.content.decode()) == tables


def test_the_invitation_list_scrolls_in_a_labelled_focusable_region(client, reviewer, istanbul):
    Invitation.objects.create(
        email="new@example.org",
        role="post_editor",
        post=istanbul,
        token_hash="x" * 64,
        invited_by=reviewer,
        expires_at=timezone.now() + timedelta(days=7),
    )
    client.force_login(reviewer)
    response = client.get(reverse("invitation_list"))
    assert assert_labelled_focusable_regions(response.content.decode()) == 1


def test_the_weekly_channel_table_of_post_staffs_home_scrolls_in_a_labelled_region(
    client, editor, reports_data
):
    client.force_login(editor)
    response = client.get(reverse("home"))
    assert assert_labelled_focusable_regions(response.content.decode()) == 1
