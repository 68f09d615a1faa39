"""Small keyword-only factories returning saved objects with good defaults."""

from __future__ import annotations

import itertools

from allauth.account.models import EmailAddress

from diplomacy.models import Channel, Membership, Partner, Post, User

_sequence = itertools.count(1)

PASSWORD = "correct-horse-battery-9"


def make_post(
    *,
    code: str | None = None,
    name: str | None = None,
    kind: str = "embassy",
    city: str = "Ankara",
    country: str = "TR",
    timezone: str = "Europe/Istanbul",
    host_languages: str = "tr",
    publishing_languages: str = "nl,fr,en,tr",
    active: bool = True,
) -> Post:
    n = next(_sequence)
    return Post.objects.create(
        code=code or f"be-test-{n}",
        name=name or f"Embassy of Belgium number {n}",
        kind=kind,
        city=city,
        country=country,
        timezone=timezone,
        host_languages=host_languages,
        publishing_languages=publishing_languages,
        active=active,
    )


def make_channel(
    *,
    post: Post,
    platform: str = "facebook",
    handle: str | None = None,
    weekly_target: int = 3,
    active: bool = True,
    content_languages: str = "en",
) -> Channel:
    return Channel.objects.create(
        post=post,
        platform=platform,
        handle=handle or f"@handle{next(_sequence)}",
        weekly_target=weekly_target,
        active=active,
        content_languages=content_languages,
    )


def make_partner(*, code: str | None = None, name: str | None = None, region: str = "flanders") -> Partner:
    n = next(_sequence)
    return Partner.objects.create(
        code=code or f"partner-{n}", name=name or f"Partner {n}", region=region, focus="trade"
    )


def make_user(
    *,
    email: str | None = None,
    role: str | None = None,
    post: Post | None = None,
    partner: Partner | None = None,
    password: str = PASSWORD,
    language: str = "",
    **extra,
) -> User:
    email = email or f"user{next(_sequence)}@example.org"
    user = User.objects.create_user(email=email, password=password, language=language, **extra)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if role:
        Membership.objects.create(user=user, role=role, post=post, partner=partner)
    return user
