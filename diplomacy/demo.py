"""The demo network: Belgian posts and channels, regional partners, demo users.

The data ship with the project (diplomacy/data/). Every function updates what
it made before and adds nothing twice. `seed_demo` (calendar_app) calls them.
"""

import csv
import random
from pathlib import Path

from allauth.account.models import EmailAddress

from diplomacy import importing
from diplomacy.models import Channel, Membership, Partner, Platform, Post, Role, User

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_PASSWORD = "demo-calendar-2026"

#: (email, full name, role, post code or partner code)
DEMO_USERS = [
    ("central.reviewer@example.org", "Charlotte Claes", Role.CENTRAL_REVIEWER, None),
    ("second.reviewer@example.org", "Samir Lambert", Role.CENTRAL_REVIEWER, None),
    ("editor.istanbul@example.org", "Elif Peeters", Role.POST_EDITOR, "be-cg-istanbul"),
    ("manager.istanbul@example.org", "Marc Dubois", Role.POST_MANAGER, "be-cg-istanbul"),
    ("editor.thehague@example.org", "Hanne Janssens", Role.POST_EDITOR, "be-emb-den-haag"),
    ("partner.fit@example.org", "Femke Wouters", Role.PARTNER_CONTRIBUTOR, "fit"),
    ("partner.awex@example.org", "Antoine Leclercq", Role.PARTNER_CONTRIBUTOR, "awex"),
]
ADMIN_EMAIL = "admin@example.org"

#: In 2018, 95 of 109 posts were on Facebook and 34 on Twitter (now X).
FACEBOOK_SHARE = 95 / 109
X_SHARE = 34 / 109
#: Posts that certainly have both, so that the demo journeys have them.
ALWAYS_FACEBOOK_AND_X = {
    "be-cg-istanbul",
    "be-emb-ankara",
    "be-emb-den-haag",
    "be-emb-berlin",
    "be-emb-paris",
}


def handle_for(post: Post, platform: str) -> str:
    city = "".join(part.capitalize() for part in post.city.replace("-", " ").split())
    if platform == Platform.X:
        return f"@BelgiumIn{city}"[:16]
    return f"@Belgium.{city}"


def channel_url(platform: str, handle: str) -> str:
    name = handle.lstrip("@")
    bases: dict[str, str] = {
        Platform.FACEBOOK: "https://www.facebook.com/",
        Platform.X: "https://x.com/",
        Platform.INSTAGRAM: "https://www.instagram.com/",
        Platform.LINKEDIN: "https://www.linkedin.com/company/",
    }
    return bases[platform] + name


def load_partners() -> None:
    with open(DATA_DIR / "partners.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            Partner.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name": row["name"],
                    "region": row["region"],
                    "focus": row["focus"],
                    "website": row["website"],
                },
            )


def load_posts() -> None:
    report = importing.import_network_file((DATA_DIR / "posts.csv").read_bytes())
    if not report.ok:
        problems = "; ".join(f"line {e.line}: {e.message}" for e in report.errors[:5])
        raise ValueError(f"The shipped posts file does not import: {problems}")


def create_channels() -> None:
    # A fixed seed: the same demo network on every machine.
    rng = random.Random(2018)
    for post in Post.objects.order_by("code"):
        platforms = []
        sure = post.code in ALWAYS_FACEBOOK_AND_X
        if sure or rng.random() < FACEBOOK_SHARE:
            platforms.append(Platform.FACEBOOK)
        if sure or rng.random() < X_SHARE:
            platforms.append(Platform.X)
        if rng.random() < 0.15:
            platforms.append(Platform.INSTAGRAM)
        if post.kind == "permanent_representation" and rng.random() < 0.5:
            platforms.append(Platform.LINKEDIN)
        languages = ",".join(dict.fromkeys(post.host_language_list[:1] + ["en"]))
        for platform in platforms:
            handle = handle_for(post, platform)
            Channel.objects.update_or_create(
                post=post,
                platform=platform,
                handle=handle,
                defaults={
                    "url": channel_url(platform, handle),
                    "content_languages": languages,
                    "weekly_target": 3 if platform == Platform.FACEBOOK else 5,
                },
            )


def create_users(password: str) -> None:
    scopes = [u[3] for u in DEMO_USERS]
    # Keyed by code or None: a central reviewer's scope is None, which finds nothing.
    posts: dict[str | None, Post] = {p.code: p for p in Post.objects.filter(code__in=scopes)}
    partners: dict[str | None, Partner] = {p.code: p for p in Partner.objects.filter(code__in=scopes)}
    for email, name, role, scope in DEMO_USERS:
        user = _user(email, name, password)
        Membership.objects.get_or_create(
            user=user,
            role=role,
            post=posts.get(scope) if role in (Role.POST_EDITOR, Role.POST_MANAGER) else None,
            partner=partners.get(scope) if role == Role.PARTNER_CONTRIBUTOR else None,
        )
    admin = _user(ADMIN_EMAIL, "Network administrator", password)
    admin.is_staff = admin.is_superuser = True
    admin.save(update_fields=["is_staff", "is_superuser"])


def _user(email: str, name: str, password: str) -> User:
    user, _ = User.objects.get_or_create(email=email, defaults={"full_name": name})
    user.full_name = name
    user.set_password(password)
    user.save()
    # Demo addresses count as verified: allauth refuses unverified logins.
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user
