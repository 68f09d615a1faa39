"""The demo network: Belgian posts and channels, regional partners, demo users.

The data ship with the project (diplomacy/data/). Every function updates what
it made before and adds nothing twice. `seed_demo` (calendar_app) calls them.
"""

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from allauth.account.models import EmailAddress

from diplomacy import importing
from diplomacy.models import (
    Channel,
    LanguagePlan,
    Membership,
    Partner,
    Platform,
    Post,
    Role,
    Separator,
    User,
    default_plan,
    plan_problems,
    split_languages,
)

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
#: Newer platforms, on a share of the posts.
BLUESKY_SHARE = 0.12
MASTODON_SHARE = 0.08
MASTODON_SERVER = "mastodon.social"


@dataclass(frozen=True)
class DemoChannel:
    """One demo channel: what `create_channels` writes. An empty plan or separator takes
    central's default for the platform (diplomacy.models.default_plan)."""

    platform: str
    handle: str
    #: Empty: the post's publishing-language policy.
    content_languages: str = ""
    plan: str = ""
    separator: str = ""


#: Channels some posts have beyond the generated ones, to show every language plan.
#: The Consulate-General in Istanbul publishes nl,fr,en,tr: a thread of four on X, the four
#: under each other on Facebook, and two one-language accounts, in French and in Dutch.
SPECIAL_CHANNELS: dict[str, list[DemoChannel]] = {
    "be-cg-istanbul": [
        DemoChannel(Platform.X, "@BelgiumInIstanbul", "", LanguagePlan.THREAD),
        DemoChannel(Platform.FACEBOOK, "@Belgium.Istanbul", "", LanguagePlan.COMBINED, Separator.DASH),
        DemoChannel(Platform.X, "@BelgiqueTurquie", "fr", LanguagePlan.SINGLE),
        DemoChannel(Platform.BLUESKY, "@belgieinturkije.bsky.social", "nl", LanguagePlan.SINGLE),
    ],
    "be-emb-den-haag": [
        DemoChannel(
            Platform.X, handle="@BelgiumInTheHag", content_languages="nl,fr", plan=LanguagePlan.SEPARATE
        ),
    ],
}
#: Handles an earlier demo gave, renamed in place so that seeding an old database again
#: does not add a second channel for the same account.
RENAMED_HANDLES = {("be-cg-istanbul", Platform.X, "@BelgiumInIstanb"): "@BelgiumInIstanbul"}


def handle_for(post: Post, platform: str) -> str:
    city = "".join(part.capitalize() for part in post.city.replace("-", " ").split())
    if platform == Platform.X:
        return f"@BelgiumIn{city}"[:16]
    if platform == Platform.BLUESKY:
        return f"@belgiumin{city.lower()}.bsky.social"
    if platform == Platform.MASTODON:
        return f"@BelgiumIn{city}@{MASTODON_SERVER}"
    return f"@Belgium.{city}"


def channel_url(platform: str, handle: str) -> str:
    name = handle.lstrip("@")
    if platform == Platform.MASTODON:
        account, _, server = name.partition("@")
        return f"https://{server or MASTODON_SERVER}/@{account}"
    bases: dict[str, str] = {
        Platform.FACEBOOK: "https://www.facebook.com/",
        Platform.X: "https://x.com/",
        Platform.INSTAGRAM: "https://www.instagram.com/",
        Platform.LINKEDIN: "https://www.linkedin.com/company/",
        Platform.BLUESKY: "https://bsky.app/profile/",
        Platform.THREADS: "https://www.threads.net/@",
        Platform.YOUTUBE: "https://www.youtube.com/@",
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


def demo_channels(post: Post, rng: random.Random, variety: random.Random) -> list[DemoChannel]:
    """The channels of one post: Facebook and X in the 2018 shares, some Instagram and
    LinkedIn, and a few Bluesky and Mastodon accounts. `rng` draws the platforms as the
    demo always did (the same network as before); `variety` draws what came later
    (the newer platforms, plans, separators, languages), so that it moves nothing else."""
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
    if variety.random() < BLUESKY_SHARE:
        platforms.append(Platform.BLUESKY)
    if variety.random() < MASTODON_SHARE:
        platforms.append(Platform.MASTODON)
    host_and_english = ",".join(dict.fromkeys(post.host_language_list[:1] + ["en"]))
    special = SPECIAL_CHANNELS.get(post.code, [])
    channels = []
    for platform in platforms:
        if any(c.platform == platform for c in special):
            continue  # the post's own channels on that platform replace the generated one
        handle = handle_for(post, platform)
        # Languages: the post's whole policy (nl, fr, en and the host's) on about half the
        # pages and accounts, the host language and English on the others.
        languages = "" if variety.random() < 0.5 else host_and_english
        plan = separator = ""
        if platform == Platform.FACEBOOK:
            separator = variety.choice(list(Separator))
        elif platform in (Platform.INSTAGRAM, Platform.LINKEDIN):
            # Posts in several languages as one post each, or all in one.
            plan = LanguagePlan.SEPARATE if variety.random() < 0.35 else LanguagePlan.COMBINED
            separator = variety.choice(list(Separator))
        elif platform in (Platform.X, Platform.MASTODON) and variety.random() < 0.15:
            plan = LanguagePlan.SEPARATE
        channels.append(DemoChannel(platform, handle, languages, plan, separator))
    return channels + special


def create_channels() -> None:
    """Write the demo channels (see `demo_channels`). Each one's language plan is checked
    with diplomacy.models.plan_problems: the demo holds only channels the forms accept."""
    # Fixed seeds: the same demo network on every machine.
    rng = random.Random(2018)
    variety = random.Random(2026)
    defaults: dict[str, tuple[str, str]] = {}
    for (code, platform, old), new in RENAMED_HANDLES.items():
        Channel.objects.filter(post__code=code, platform=platform, handle=old).exclude(
            post__channels__handle=new
        ).update(handle=new)
    for post in Post.objects.order_by("code"):
        for spec in demo_channels(post, rng, variety):
            if spec.platform not in defaults:
                defaults[spec.platform] = default_plan(spec.platform)
            plan = spec.plan or defaults[spec.platform][0]
            separator = spec.separator or defaults[spec.platform][1]
            problems = plan_problems(
                spec.platform, plan, split_languages(spec.content_languages), post.publishing_language_list
            )
            if problems:
                raise ValueError(f"Demo channel {spec.handle} of {post.code}: {problems}")
            Channel.objects.update_or_create(
                post=post,
                platform=spec.platform,
                handle=spec.handle,
                defaults={
                    "url": channel_url(spec.platform, spec.handle),
                    "content_languages": spec.content_languages,
                    "language_plan": plan,
                    "separator": separator,
                    "weekly_target": 3 if spec.platform == Platform.FACEBOOK else 5,
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
