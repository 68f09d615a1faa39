"""Small keyword-only factories for the calendar: publications and campaigns, saved."""

from __future__ import annotations

import itertools
from datetime import date, time, timedelta

from calendar_app.models import Campaign, Proposal, Publication, Variant, instant_for
from diplomacy.models import Channel, Partner, Post, User

_sequence = itertools.count(1)


def make_campaign(
    *,
    name: str | None = None,
    starts_on: date = date(2026, 1, 1),
    ends_on: date | None = None,
    partner: Partner | None = None,
    colour: str = "#0b4f8a",
    hashtags: str = "#BelgiumAbroad",
) -> Campaign:
    return Campaign.objects.create(
        name=name or f"Campaign {next(_sequence)}",
        starts_on=starts_on,
        ends_on=ends_on or starts_on + timedelta(days=90),
        partner=partner,
        colour=colour,
        hashtags=hashtags,
    )


def make_proposal(*, partner: Partner, title: str | None = None, status: str = "accepted") -> Proposal:
    return Proposal.objects.create(
        partner=partner, title=title or f"Proposal {next(_sequence)}", status=status
    )


def make_publication(
    *,
    post: Post,
    author: User,
    title: str | None = None,
    status: str = "draft",
    local_date: date = date(2026, 3, 10),
    local_time: time = time(9, 0),
    channels: list[Channel] | None = None,
    variants: dict[str, str] | None = None,
    campaign: Campaign | None = None,
    proposal: Proposal | None = None,
    kind: str = "regular",
    revision: int = 1,
) -> Publication:
    """A publication at `local_time` on `local_date` in its post's zone (scheduled_at derived)."""
    publication = Publication.objects.create(
        post=post,
        author=author,
        title=title or f"Publication {next(_sequence)}",
        status=status,
        kind=kind,
        local_date=local_date,
        local_time=local_time,
        timezone=post.timezone,
        scheduled_at=instant_for(local_date, local_time, post.timezone),
        campaign=campaign,
        proposal=proposal,
        revision=revision,
    )
    if channels:
        publication.channels.set(channels)
    for language, text in (variants if variants is not None else {"en": "Hello from Belgium."}).items():
        Variant.objects.create(publication=publication, language=language, text=text)
    return publication
