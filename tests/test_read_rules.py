"""The read-side rules beside the models: each queryset method and its instance predicate
give the same answer on a grid of cases, and that answer is the rule DESIGN.md states."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from calendar_app.models import (
    Crisis,
    Proposal,
    ProposalStatus,
    ProposalTarget,
    Publication,
    PublicationStatus,
)
from diplomacy.models import Role
from tests.calendar_factories import make_proposal, make_publication
from tests.factories import make_post, make_user

S = PublicationStatus
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
#: MAX_LATENESS as the settings give it by default (the tests read the setting, not this).
LATENESS = timedelta(minutes=15)
#: Long past, exactly MAX_LATENESS past (still sent), a second more (never sent: late), a
#: minute past, exactly at and after `NOW`.
MOMENTS = {
    "long past": NOW - timedelta(hours=1),
    "a second too late": NOW - LATENESS - timedelta(seconds=1),
    "late by the limit": NOW - LATENESS,
    "past": NOW - timedelta(minutes=1),
    "now": NOW,
    "future": NOW + timedelta(hours=1),
}
#: The moments at which an approved, free publication may go out at NOW.
IN_TIME = {"late by the limit", "past", "now"}


def _crisis(declared_by, *, ended: bool) -> Crisis:
    declared = timezone.now() - timedelta(days=2)
    return Crisis.objects.create(
        title="Coup attempt",
        reason="Reports of fighting.",
        countries="TR",
        declared_by=declared_by,
        declared_at=declared,
        ended_at=declared + timedelta(days=1) if ended else None,
    )


def _at(publication: Publication, moment: datetime, **changes) -> Publication:
    """The publication at `moment` (only the instant the rules read), with `changes` saved."""
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=moment, **changes)
    return Publication.objects.get(pk=publication.pk)


def _ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


# --- May go out now ---------------------------------------------------------------------------


def test_may_go_out_is_the_same_rule_for_a_queryset_and_for_one_publication(
    istanbul, editor, reviewer, settings
):
    settings.MAX_LATENESS = LATENESS
    active = _crisis(reviewer, ended=False)
    holds = {"free": {}, "held": {"held_by": active}, "missed": {"missed_in": active}}
    grid = {}
    for status, moment, hold in itertools.product(S.values, MOMENTS, holds):
        publication = make_publication(post=istanbul, author=editor, status=status)
        grid[(status, moment, hold)] = _at(publication, MOMENTS[moment], **holds[hold])
    # Approved, its time come and not more than MAX_LATENESS ago, nothing holding it.
    expected = {key for key in grid if key[0] == S.APPROVED and key[1] in IN_TIME and key[2] == "free"}
    assert {key for key, publication in grid.items() if publication.may_go_out(NOW)} == expected
    assert _ids(Publication.objects.may_go_out(NOW)) == {grid[key].pk for key in expected}


def test_too_late_is_the_same_rule_for_a_queryset_and_for_one_publication(
    istanbul, editor, reviewer, settings
):
    settings.MAX_LATENESS = LATENESS
    active = _crisis(reviewer, ended=False)
    holds = {"free": {}, "held": {"held_by": active}}
    grid = {}
    for status, moment, hold in itertools.product(S.values, MOMENTS, holds):
        publication = make_publication(post=istanbul, author=editor, status=status)
        grid[(status, moment, hold)] = _at(publication, MOMENTS[moment], **holds[hold])
    late = {"long past", "a second too late"}
    assert {key for key, publication in grid.items() if publication.is_too_late(NOW)} == {
        key for key in grid if key[1] in late
    }
    # The sweep takes the approved ones nothing holds (a held one waits for its crisis's end).
    expected = {key for key in grid if key[0] == S.APPROVED and key[1] in late and key[2] == "free"}
    assert _ids(Publication.objects.too_late(NOW)) == {grid[key].pk for key in expected}
    # What may go out is never too late, and the other way round.
    assert not _ids(Publication.objects.may_go_out(NOW)) & _ids(Publication.objects.too_late(NOW))


def test_the_lateness_is_read_from_the_settings(istanbul, editor, settings):
    publication = _at(
        make_publication(post=istanbul, author=editor, status=S.APPROVED), NOW - timedelta(hours=1)
    )
    settings.MAX_LATENESS = timedelta(minutes=15)
    assert not publication.may_go_out(NOW)
    settings.MAX_LATENESS = timedelta(hours=2)
    assert publication.may_go_out(NOW)
    assert _ids(Publication.objects.may_go_out(NOW)) == {publication.pk}


def test_may_go_out_reads_the_clock_when_no_moment_is_given(istanbul, editor):
    now = timezone.now()
    due = _at(make_publication(post=istanbul, author=editor, status=S.APPROVED), now - timedelta(minutes=1))
    long_ago = make_publication(post=istanbul, author=editor, status=S.APPROVED, local_date=date(2020, 1, 6))
    later = make_publication(post=istanbul, author=editor, status=S.APPROVED, local_date=date(2099, 1, 5))
    assert due.may_go_out() and not later.may_go_out() and not long_ago.may_go_out()
    assert _ids(Publication.objects.may_go_out()) == {due.pk}


# --- Needing a check ------------------------------------------------------------------------


def test_needing_a_check_is_the_same_rule_for_a_queryset_for_one_publication_and_for_a_list(
    istanbul, editor, django_assert_num_queries
):
    from calendar_app.models import Delivery
    from tests.factories import make_channel

    channels = [make_channel(post=istanbul, platform=name) for name in ("x", "facebook")]
    grid = {}
    for statuses in itertools.product(["none", "pending", "delivered", "failed", "unknown"], repeat=2):
        publication = make_publication(post=istanbul, author=editor, status=S.APPROVED, channels=channels)
        for channel, status in zip(channels, statuses, strict=True):
            if status != "none":
                Delivery.objects.create(publication=publication, channel=channel, status=status)
        grid[statuses] = publication
    expected = {key for key in grid if "unknown" in key}
    assert {key for key, p in grid.items() if Publication.objects.get(pk=p.pk).needs_a_check} == expected
    assert _ids(Publication.objects.needing_a_check()) == {grid[key].pk for key in expected}
    listed = list(Publication.objects.with_check_flag())
    with django_assert_num_queries(0):  # the annotation answers, no query per row
        flagged = {p.pk for p in listed if p.needs_a_check}
    assert flagged == {grid[key].pk for key in expected}
    # Its state reads "Needs a check", not "Approved"; the status stays approved.
    shown = next(p for p in listed if p.pk == grid[("unknown", "delivered")].pk)
    assert (shown.status, shown.state_label) == (S.APPROVED, "Needs a check")


# --- Awaiting review, expired in review ---------------------------------------------------------


def test_expired_in_review_is_the_same_rule_for_a_queryset_and_for_one_publication(
    istanbul, editor, reviewer
):
    crises = {
        "none": None,
        "active": _crisis(reviewer, ended=False),
        "ended": _crisis(reviewer, ended=True),
    }
    grid = {}
    for status, moment, crisis in itertools.product(S.values, MOMENTS, crises):
        publication = make_publication(post=istanbul, author=editor, status=status, kind="crisis_advisory")
        grid[(status, moment, crisis)] = _at(publication, MOMENTS[moment], crisis=crises[crisis])
    # Its moment passed (or is now) while in review, and no active crisis fast-tracks it: an
    # advisory of an ended crisis expires like any other publication.
    expected = {key for key in grid if key[0] == S.IN_REVIEW and key[1] != "future" and key[2] != "active"}
    assert {key for key, publication in grid.items() if publication.is_expired_in_review(NOW)} == expected
    assert _ids(Publication.objects.expired_in_review(NOW)) == {grid[key].pk for key in expected}
    assert _ids(Publication.objects.awaiting_review()) == {
        publication.pk for key, publication in grid.items() if key[0] == S.IN_REVIEW
    }


def test_a_kind_alone_does_not_fast_track(istanbul, editor):
    labelled = make_publication(post=istanbul, author=editor, status=S.IN_REVIEW, kind="crisis_advisory")
    labelled = _at(labelled, MOMENTS["past"])
    assert not labelled.is_fast_tracked
    assert labelled.is_expired_in_review(NOW)
    assert _ids(Publication.objects.fast_tracked()) == set()


def test_the_crisis_is_read_only_when_the_moment_passed(
    istanbul, editor, reviewer, django_assert_num_queries
):
    crisis = _crisis(reviewer, ended=False)
    ahead = _at(
        make_publication(post=istanbul, author=editor, status=S.IN_REVIEW), MOMENTS["future"], crisis=crisis
    )
    passed = _at(
        make_publication(post=istanbul, author=editor, status=S.IN_REVIEW), MOMENTS["past"], crisis=crisis
    )
    with django_assert_num_queries(0):
        assert not ahead.is_expired_in_review(NOW)
    with django_assert_num_queries(1):
        assert not passed.is_expired_in_review(NOW)


# --- Visible to ---------------------------------------------------------------------------------


@pytest.fixture
def other_post(db):
    return make_post(
        code="be-emb-thehague", name="Embassy of Belgium in The Hague", country="NL", city="The Hague"
    )


@pytest.fixture
def users(editor, manager, reviewer, partner_user, outsider, other_post):
    other_editor = make_user(email="editor.thehague@example.org", role=Role.POST_EDITOR, post=other_post)
    return {
        "editor": editor,
        "manager": manager,
        "reviewer": reviewer,
        "partner": partner_user,
        "outsider": outsider,
        "other_editor": other_editor,
    }


def test_visible_to_is_the_same_rule_for_a_queryset_and_for_one_publication(
    istanbul, other_post, editor, users
):
    grid = {
        (status, post.code): make_publication(post=post, author=editor, status=status)
        for status, post in itertools.product(S.values, (istanbul, other_post))
    }
    everything = set(grid)
    shared = {key for key in grid if key[0] in (S.APPROVED, S.PUBLISHED)}
    expected = {
        "reviewer": everything,
        "editor": shared | {key for key in grid if key[1] == istanbul.code},
        "manager": shared | {key for key in grid if key[1] == istanbul.code},
        "other_editor": shared | {key for key in grid if key[1] == other_post.code},
        "partner": set(),
        "outsider": set(),
    }
    for name, user in users.items():
        seen = {key for key, publication in grid.items() if publication.is_visible_to(user)}
        assert seen == expected[name], name
        assert _ids(Publication.objects.visible_to(user)) == {grid[key].pk for key in expected[name]}, name


def test_in_care_of_is_every_publication_for_central_and_the_own_posts_for_staff(
    istanbul, other_post, editor, users
):
    own = make_publication(post=istanbul, author=editor, status=S.APPROVED)
    theirs = make_publication(post=other_post, author=editor, status=S.APPROVED)
    assert _ids(Publication.objects.in_care_of(users["reviewer"])) == {own.pk, theirs.pk}
    assert _ids(Publication.objects.in_care_of(users["editor"])) == {own.pk}
    assert _ids(Publication.objects.in_care_of(users["partner"])) == set()


# --- Proposals: open for a post, visible to a user ---------------------------------------------

TODAY = date(2026, 11, 28)
WINDOWS = {
    "none": None,
    "over": TODAY - timedelta(days=1),
    "today": TODAY,
    "ahead": TODAY + timedelta(days=9),
}


@pytest.fixture
def proposal_grid(fit, istanbul, other_post):
    """Every status x window end x target, aimed (or not) at Istanbul."""
    targets = {
        "network": (ProposalTarget.NETWORK, "", []),
        "its_country": (ProposalTarget.COUNTRIES, "NL,TR", []),
        "other_country": (ProposalTarget.COUNTRIES, "NL,TRX", []),
        "named": (ProposalTarget.POSTS, "", [istanbul, other_post]),
        "other_named": (ProposalTarget.POSTS, "", [other_post]),
    }
    grid = {}
    for status, window, target in itertools.product(ProposalStatus.values, WINDOWS, targets):
        kind, countries, posts = targets[target]
        proposal = make_proposal(partner=fit, status=ProposalStatus.DRAFT)
        Proposal.objects.filter(pk=proposal.pk).update(
            status=status,
            window_ends_on=WINDOWS[window],
            target=kind,
            target_countries=countries,
            submitted_at=None if status == ProposalStatus.DRAFT else timezone.now(),
            decline_reason="Not for now." if status == ProposalStatus.DECLINED else "",
        )
        proposal.refresh_from_db()
        proposal.target_posts.set(posts)
        grid[(status, window, target)] = proposal
    return grid


def test_open_for_is_the_same_rule_for_a_queryset_and_for_one_proposal(istanbul, proposal_grid):
    expected = {
        key
        for key in proposal_grid
        if key[0] == ProposalStatus.ACCEPTED
        and key[1] != "over"
        and key[2] in ("network", "its_country", "named")
    }
    assert {key for key, p in proposal_grid.items() if p.is_open_for(istanbul, TODAY)} == expected
    assert _ids(Proposal.objects.open_for(istanbul, TODAY)) == {proposal_grid[key].pk for key in expected}
    # A proposal named for two posts is listed once.
    assert Proposal.objects.open_for(istanbul, TODAY).count() == len(expected)


def test_proposals_visible_to_is_the_same_rule_for_a_queryset_and_for_one_proposal(
    fit, awex, istanbul, proposal_grid, users
):
    foreign = make_proposal(partner=awex, status=ProposalStatus.DRAFT)
    aimed = {"network", "its_country", "named"}
    everything = set(proposal_grid)
    accepted = {key for key in everything if key[0] == ProposalStatus.ACCEPTED}
    expected = {
        "partner": everything,
        "reviewer": {key for key in everything if key[0] != ProposalStatus.DRAFT},
        "editor": {key for key in accepted if key[2] in aimed},
        "manager": {key for key in accepted if key[2] in aimed},
        # The Hague is named in "named" and "other_named", in the Netherlands for "its_country"
        # and "other_country", and in the network.
        "other_editor": accepted,
        "outsider": set(),
    }
    for name, user in users.items():
        seen = {key for key, p in proposal_grid.items() if p.is_visible_to(user)}
        assert seen == expected[name], name
        assert _ids(Proposal.objects.visible_to(user).exclude(pk=foreign.pk)) == {
            proposal_grid[key].pk for key in expected[name]
        }, name
        assert foreign.is_visible_to(user) is False
        assert not Proposal.objects.visible_to(user).filter(pk=foreign.pk).exists()
