"""Demo calendar: campaigns and publications spread over the past and coming months.

Deterministic (a fixed random seed) so that every machine shows the same demo,
and fast (bulk inserts) so that the benchmark can ask for 50,000.
"""

from __future__ import annotations

import csv
import functools
import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from calendar_app import sending
from calendar_app.models import (
    Campaign,
    Comment,
    Crisis,
    CrisisEvent,
    CrisisTemplate,
    Delivery,
    DeliveryStatus,
    PriorityCountry,
    Proposal,
    ProposalEvent,
    ProposalVariant,
    Publication,
    PublicationEvent,
    PublicationKind,
    PublicationRevision,
    PublicationStatus,
    Review,
    ReviewDecision,
    Variant,
)
from calendar_app.timezones import check_local_time
from calendar_app.workflow import content_snapshot
from diplomacy.demo import DATA_DIR
from diplomacy.geography import country_of
from diplomacy.models import Channel, Membership, Partner, Post, Role, User

#: (name, days from today to start, length in days, partner code or None, hashtags, colour)
CAMPAIGNS = [
    ("Travel safely this winter", -20, 90, None, "#TravellersOnline #TravelSafe", "#a1141b"),
    ("King's Feast", -20, 4, None, "#KingsFeast #Koningsdag #FeteDuRoi", "#0b4f8a"),
    ("Belgian winter traditions", 0, 40, None, "#BelgiumAbroad #Christmas", "#1d6b36"),
    ("Flanders cleantech missions", -40, 150, "fit", "#FlandersInvestment #Cleantech", "#6b3fa0"),
    ("Wallonia export days", 10, 60, "awex", "#WalloniaExport #AWEX", "#8a4b00"),
    ("Brussels design week", -70, 20, "hub-brussels", "#hubbrussels #Design", "#0f5f64"),
    ("Europalia and Belgian culture", -80, 120, "wbi", "#Europalia #CultureBE", "#8a1c4f"),
    ("East Belgium, a region to discover", 30, 50, "tao", "#Ostbelgien", "#3d4a5c"),
]

#: Texts per kind, per language, written in that language. The places are filled in as
#: that language writes them (`place_words`): {city} and {country} everywhere, and in
#: French {at_city} ("à Istanbul", "au Caire"), {in_country} ("en Malaisie", "au Japon")
#: and {of_country} ("de Malaisie", "du Japon"); {country} is French with its article
#: ("la Malaisie") and German in the dative ("der Türkei").
TEXTS = {
    PublicationKind.REGULAR: {
        "en": "Our team in {city} met partners today to strengthen the ties between Belgium and {country}.",
        "nl": "Ons team in {city} ontmoette vandaag partners om de banden tussen België en {country} te versterken.",
        "fr": "Notre équipe {at_city} a rencontré des partenaires aujourd'hui pour renforcer les liens entre la "
        "Belgique et {country}.",
        "de": "Unser Team in {city} traf heute Partner, um die Beziehungen zwischen Belgien und {country} zu stärken.",
    },
    PublicationKind.EVENT: {
        "en": "Join us in {city} for an evening of Belgian music and food. Registration: https://example.org/events",
        "nl": "Kom naar onze avond met Belgische muziek en gerechten in {city}. Inschrijven: https://example.org/events",
        "fr": "Rejoignez-nous {at_city} pour une soirée de musique et de cuisine belges. Inscription : "
        "https://example.org/events",
        "de": "Besuchen Sie uns in {city} zu einem Abend mit belgischer Musik und Küche. https://example.org/events",
    },
    PublicationKind.CONSULAR_ADVICE: {
        "nl": "Reist u naar {country}? Registreer uw reis op Travellers Online en lees het reisadvies: "
        "https://diplomatie.belgium.be",
        "fr": "Vous voyagez {in_country} ? Enregistrez votre voyage sur Travellers Online et consultez les conseils "
        "aux voyageurs : https://diplomatie.belgium.be",
        "en": "Travelling to {country}? Register your trip on Travellers Online and read the travel advice: "
        "https://diplomatie.belgium.be",
    },
    PublicationKind.CRISIS_ADVISORY: {
        "nl": "Belgen in {country}: blijf binnen, volg de instructies van de lokale overheden en registreer u op "
        "Travellers Online.",
        "fr": "Belges {in_country} : restez à l'intérieur, suivez les consignes des autorités locales et "
        "enregistrez-vous sur Travellers Online.",
        "en": "Belgians in {country}: stay indoors, follow the local authorities' instructions and register on "
        "Travellers Online.",
    },
    PublicationKind.PARTNER_RELAY: {
        "en": "Belgian companies are in {city} this week to meet partners from {country}. #BelgiumAbroad",
        "nl": "Belgische bedrijven zijn deze week in {city} om partners uit {country} te ontmoeten.",
        "fr": "Des entreprises belges sont {at_city} cette semaine pour rencontrer des partenaires {of_country}.",
    },
}

#: A line in the host language for some posts, so that the calendar shows local variants.
#: Spanish names the country as Spanish does ({country}); the others say "with Belgium",
#: which needs no country name (Chinese is also the language of Taipei and Singapore).
HOST_LINES = {
    "tr": "Belçika ve Türkiye arasındaki dostluğu birlikte kutluyoruz.",
    "es": "Celebramos juntos la amistad entre Bélgica y {country}.",
    "pt": "Celebramos juntos a amizade com a Bélgica.",
    "it": "Celebriamo insieme l'amicizia con il Belgio.",
    "pl": "Wspólnie świętujemy przyjaźń z Belgią.",
    "ja": "ベルギーと日本の友好を共に祝いましょう。",
    "zh": "我们共同庆祝与比利时的友谊。",
    "ar": "نحتفل معًا بالصداقة مع بلجيكا.",
}


@functools.cache
def _place_names() -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """({country code: {language: name}}, {English city: {language: name}}) from the
    demo's data files (diplomacy/data/country_names.csv, city_names.csv)."""
    with open(DATA_DIR / "country_names.csv", encoding="utf-8") as handle:
        countries = {row.pop("code"): row for row in csv.DictReader(handle)}
    with open(DATA_DIR / "city_names.csv", encoding="utf-8") as handle:
        cities = {row.pop("city"): row for row in csv.DictReader(handle)}
    return countries, cities


def _french_in(country: str) -> tuple[str, str]:
    """("en Malaisie", "de Malaisie") of a French name with its article ("la Malaisie")."""
    for article, at, of in (
        ("la ", "en ", "de "),
        ("l'", "en ", "d'"),
        ("le ", "au ", "du "),
        ("les ", "aux ", "des "),
    ):
        if country.startswith(article):
            name = country[len(article) :]
            if of == "de " and name.startswith("République"):
                return at + name, "de la " + name
            return at + name, of + name
    # No article: cities and islands ("à Singapour", "à Cuba"), and Israël.
    if country[:1] in "AEIOUÉ":
        return "en " + country, "d'" + country
    return "à " + country, "de " + country


def place_words(post: Post, language: str) -> dict[str, str]:
    """The words `TEXTS` and `HOST_LINES` fill in for `post` in `language` (see `TEXTS`).
    A country or city the data files do not name keeps django-countries' name in that
    language, or the city as the post writes it."""
    countries, cities = _place_names()
    code = country_of(post.country).code
    country = countries.get(code, {}).get(language, "")
    if not country:
        with translation.override(language):
            country = str(country_of(post.country).name)
    city = cities.get(post.city, {}).get(language) or post.city
    words = {"city": city, "country": country}
    if language == "fr":
        words["in_country"], words["of_country"] = _french_in(country)
        for article, contracted in (("Le ", "au "), ("Les ", "aux ")):
            if city.startswith(article):
                words["at_city"] = contracted + city[len(article) :]
                break
        else:
            words["at_city"] = "à " + city
    return words


TITLES = {
    PublicationKind.REGULAR: [
        "Partner meeting",
        "Visit of the ambassador",
        "Trade and investment news",
        "Belgian week",
        "Bilateral talks",
        "Culture highlight",
    ],
    PublicationKind.EVENT: [
        "Belgian evening",
        "Concert of Belgian music",
        "Film screening",
        "Comic strip exhibition",
    ],
    PublicationKind.CONSULAR_ADVICE: [
        "Travel advice reminder",
        "Register on Travellers Online",
        "Passport renewal",
    ],
    PublicationKind.CRISIS_ADVISORY: ["Advice to Belgians"],
    PublicationKind.PARTNER_RELAY: ["Economic mission", "Regional trade fair", "Tourism campaign relay"],
}

KIND_WEIGHTS = [
    (PublicationKind.REGULAR, 60),
    (PublicationKind.EVENT, 15),
    (PublicationKind.CONSULAR_ADVICE, 12),
    (PublicationKind.PARTNER_RELAY, 10),
    (PublicationKind.CRISIS_ADVISORY, 3),
]
PAST_STATUSES = [
    (PublicationStatus.PUBLISHED, 80),
    (PublicationStatus.CANCELLED, 10),
    (PublicationStatus.FAILED, 5),
    (PublicationStatus.APPROVED, 5),
]
FUTURE_STATUSES = [
    (PublicationStatus.DRAFT, 25),
    (PublicationStatus.IN_REVIEW, 22),
    (PublicationStatus.CHANGES_REQUESTED, 8),
    (PublicationStatus.APPROVED, 40),
    (PublicationStatus.CANCELLED, 5),
]
#: The posts the demo journeys use get more publications.
BUSY_POSTS = {
    "be-cg-istanbul": 8,
    "be-emb-ankara": 5,
    "be-emb-berlin": 5,
    "be-emb-den-haag": 6,
    "be-emb-paris": 4,
}


T = TypeVar("T")


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    values = [value for value, _weight in weighted]
    weights = [weight for _value, weight in weighted]
    return rng.choices(values, weights=weights)[0]


def create_campaigns(today: date) -> list[Campaign]:
    partners = {p.code: p for p in Partner.objects.all()}
    campaigns = []
    for name, start, length, partner_code, hashtags, colour in CAMPAIGNS:
        campaign, _ = Campaign.objects.update_or_create(
            name=name,
            defaults={
                "starts_on": today + timedelta(days=start),
                "ends_on": today + timedelta(days=start + length),
                "partner": partners.get(partner_code) if partner_code else None,
                "hashtags": hashtags,
                "colour": colour,
                "description": f"{name}: a demo campaign.",
            },
        )
        campaigns.append(campaign)
    return campaigns


def post_authors(posts: list[Post]) -> dict[int, User]:
    """Each post's first editor; posts without one get a staff account that cannot log in."""
    authors: dict[int, User] = {}
    for membership in Membership.objects.filter(
        role__in=[Role.POST_EDITOR, Role.POST_MANAGER]
    ).select_related("user"):
        if membership.post_id is not None:  # always, for a post role
            authors.setdefault(membership.post_id, membership.user)
    for post in posts:
        if post.pk in authors:
            continue
        user, created = User.objects.get_or_create(
            email=f"staff.{post.code}@example.org", defaults={"full_name": f"Staff of {post.city}"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            Membership.objects.create(user=user, role=Role.POST_EDITOR, post=post)
        authors[post.pk] = user
    return authors


def create_publications(count: int, *, today: date | None = None, seed: int = 2026, days: int = 91) -> int:
    """Create `count` publications over `days` before and after `today`, in every status.

    Returns how many were created.
    """
    if count <= 0:
        return 0
    rng = random.Random(seed)
    today = today or timezone.localdate()
    channels_by_post: dict[int, list[Channel]] = {}
    for channel in Channel.objects.filter(active=True).select_related("post").order_by("pk"):
        channels_by_post.setdefault(channel.post_id, []).append(channel)
    plans = {c.pk: sending.ChannelPlan.of(c) for channels in channels_by_post.values() for c in channels}
    posts = list(Post.objects.filter(pk__in=channels_by_post).order_by("code"))
    if not posts:
        return 0
    weights = [BUSY_POSTS.get(post.code, 1) for post in posts]
    authors = post_authors(posts)
    campaigns = create_campaigns(today)
    now = timezone.now()

    rows: list[Publication] = []
    plan: list[tuple[list[Channel], dict[str, str]]] = []
    for _ in range(count):
        post = rng.choices(posts, weights=weights)[0]
        kind = _pick(rng, KIND_WEIGHTS)
        local_date = today + timedelta(days=rng.randint(-days, days))
        local_time = time(rng.randint(8, 19), rng.choice([0, 15, 30, 45]))
        try:
            instant = check_local_time(local_date, local_time, post.timezone)
        except ValidationError:
            local_time = time(12, 0)
            instant = check_local_time(local_date, local_time, post.timezone)
        status = _pick(rng, PAST_STATUSES if instant < now else FUTURE_STATUSES)
        running = [c for c in campaigns if c.starts_on <= local_date <= c.ends_on]
        campaign = rng.choice(running) if running and rng.random() < 0.35 else None
        channels = channels_by_post[post.pk]
        chosen = rng.sample(channels, k=rng.randint(1, len(channels)))
        texts = _texts(rng, kind, post)
        sent = _sending_channels(chosen, plans, texts)
        if not sent:
            # None of them publishes the languages written: write the first channel's too.
            missing = [plans[chosen[0].pk].languages[0], "en"]
            language = next((lang for lang in missing if lang in TEXTS[kind] and lang not in texts), None)
            if language:
                texts[language] = TEXTS[kind][language].format(**place_words(post, language))
                sent = _sending_channels(chosen, plans, texts)
        # Still none: keep them all, so that calendar_app.audit shows it rather than the demo hiding it.
        chosen = sent or chosen
        rows.append(
            Publication(
                post=post,
                title=f"{rng.choice(TITLES[kind])} – {post.city}",
                kind=kind,
                status=status,
                campaign=campaign,
                local_date=local_date,
                local_time=local_time,
                timezone=post.timezone,
                scheduled_at=instant,
                author=authors[post.pk],
            )
        )
        plan.append((chosen, texts))

    with transaction.atomic():
        created = Publication.objects.bulk_create(rows, batch_size=1000)
        through = Publication.channels.through
        through.objects.bulk_create(
            [
                through(publication_id=p.pk, channel_id=c.pk)
                for p, (chosen, _t) in zip(created, plan, strict=True)
                for c in chosen
            ],
            batch_size=2000,
        )
        Variant.objects.bulk_create(
            [
                Variant(publication=p, language=lang, text=text)
                for p, (_c, texts) in zip(created, plan, strict=True)
                for lang, text in texts.items()
            ],
            batch_size=2000,
        )
        _create_histories(rng, created, plan)
    return len(created)


def _sending_channels(
    chosen: list[Channel], plans: dict[int, sending.ChannelPlan], texts: dict[str, str]
) -> list[Channel]:
    """The chosen channels that send something of `texts` and whose every part fits
    (calendar_app.sending): a French-only account is not chosen for a publication without French."""
    return [
        channel
        for channel in chosen
        if (parts := sending.parts_for(plans[channel.pk], texts)) and all(part.fits for part in parts)
    ]


def _texts(rng: random.Random, kind: PublicationKind, post: Post) -> dict[str, str]:
    texts = {lang: template.format(**place_words(post, lang)) for lang, template in TEXTS[kind].items()}
    if kind == PublicationKind.REGULAR:
        # Regular publications follow the post's language policy, more or less.
        policy = [lang for lang in post.publishing_language_list if lang in texts] or ["en"]
        keep = set(rng.sample(policy, k=rng.randint(1, len(policy))))
        texts = {lang: text for lang, text in texts.items() if lang in keep}
    for lang in post.host_language_list:
        if lang in HOST_LINES and lang not in texts and rng.random() < 0.6:
            texts[lang] = HOST_LINES[lang].format(**place_words(post, lang))
    return texts


#: What reviewers wrote when they asked for changes, in the demo.
CHANGE_REQUESTS = [
    "Add the French version, please.",
    "The link must be https.",
    "Please add alt text to the photo.",
    "Shorter for X, please: it does not fit.",
    "Use the campaign hashtag.",
]
REVIEWED = {PublicationStatus.APPROVED, PublicationStatus.PUBLISHED, PublicationStatus.FAILED}
SUBMITTED = REVIEWED | {PublicationStatus.IN_REVIEW, PublicationStatus.CHANGES_REQUESTED}


def _event(
    publication: Publication, actor: User | None, verb: str, source: str, target: str, comment: str = ""
) -> PublicationEvent:
    return PublicationEvent(
        publication=publication,
        actor=actor,
        verb=verb,
        from_status=source,
        to_status=target,
        comment=comment,
        revision=1,
    )


def _create_histories(
    rng: random.Random, created: list[Publication], plan: list[tuple[list[Channel], dict[str, str]]]
) -> None:
    """Consistent histories: created, submitted, decided (approved or sent back), comments."""
    S = PublicationStatus
    reviewers = list(User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email"))
    events, revisions = [], []
    for publication, (chosen, texts) in zip(created, plan, strict=True):
        events.append(_event(publication, publication.author, "created", "", S.DRAFT))
        if publication.status == S.CANCELLED:
            events.append(_event(publication, publication.author, "cancel", S.DRAFT, S.CANCELLED))
        if publication.status not in SUBMITTED:
            continue
        content = {
            "title": publication.title,
            "kind": publication.kind,
            "campaign": publication.campaign_id,
            "channels": sorted(c.pk for c in chosen),
            "local_date": publication.local_date.isoformat(),
            "local_time": publication.local_time.strftime("%H:%M"),
            "variants": {lang: [text, {}] for lang, text in texts.items()},
            "assets": [],
        }
        revisions.append(
            PublicationRevision(
                publication=publication, number=1, content=content, submitted_by=publication.author, checks=[]
            )
        )
        events.append(_event(publication, publication.author, "submit", S.DRAFT, S.IN_REVIEW))
    PublicationEvent.objects.bulk_create(events, batch_size=2000)
    revisions = PublicationRevision.objects.bulk_create(revisions, batch_size=2000)
    if not reviewers:
        return
    reviews, decisions, comments = [], [], []
    for revision in revisions:
        publication = revision.publication
        if publication.status == S.IN_REVIEW:
            continue
        reviewer = rng.choice([r for r in reviewers if r.pk != publication.author_id] or reviewers)
        approve = publication.status in REVIEWED
        comment = "" if approve else rng.choice(CHANGE_REQUESTS)
        reviews.append(
            Review(
                publication=publication,
                revision=revision,
                reviewer=reviewer,
                comment=comment,
                decision=ReviewDecision.APPROVE if approve else ReviewDecision.REQUEST_CHANGES,
                guideline_version=0,
            )
        )
        if approve:
            decisions.append(_event(publication, reviewer, "approve", S.IN_REVIEW, S.APPROVED))
            if publication.status == S.PUBLISHED:
                decisions.append(_event(publication, None, "published", S.APPROVED, S.PUBLISHED))
        else:
            decisions.append(
                _event(publication, reviewer, "request_changes", S.IN_REVIEW, S.CHANGES_REQUESTED, comment)
            )
            comments.append(Comment(publication=publication, author=reviewer, text=comment))
    Review.objects.bulk_create(reviews, batch_size=2000)
    PublicationEvent.objects.bulk_create(decisions, batch_size=2000)
    Comment.objects.bulk_create(comments, batch_size=2000)


#: (partner, title, status, target, countries, texts, days from today to the window's start, length)
PROPOSALS = [
    (
        "fit",
        "Flemish cleantech mission to Istanbul",
        "accepted",
        "countries",
        "TR,DE",
        {
            "en": "Flemish cleantech companies visit Istanbul and Berlin to meet partners. #FlandersInvestment",
            "nl": "Vlaamse cleantechbedrijven bezoeken Istanbul en Berlijn. #FlandersInvestment",
            "tr": "Flaman temiz teknoloji şirketleri İstanbul'u ziyaret ediyor.",
        },
        5,
        30,
    ),
    (
        "fit",
        "Flanders at the world's biggest food fair",
        "accepted",
        "network",
        "",
        {"en": "Taste Flanders at the food fair this month.", "nl": "Proef Vlaanderen op de voedingsbeurs."},
        -10,
        60,
    ),
    (
        "awex",
        "Wallonia export days",
        "accepted",
        "countries",
        "FR,NL,DE",
        {
            "fr": "Les journées de l'export wallon arrivent près de chez vous.",
            "en": "Wallonia export days are coming.",
        },
        3,
        45,
    ),
    (
        "awex",
        "Biotech week in Wallonia",
        "submitted",
        "network",
        "",
        {"fr": "La semaine des biotechnologies en Wallonie.", "en": "Biotech week in Wallonia."},
        20,
        10,
    ),
    (
        "hub-brussels",
        "Brussels design week abroad",
        "declined",
        "network",
        "",
        {"en": "Brussels designers show their work abroad."},
        -30,
        20,
    ),
    (
        "visitflanders",
        "Christmas markets in Flanders",
        "accepted",
        "network",
        "",
        {
            "en": "Discover the Christmas markets of Bruges and Ghent.",
            "nl": "Ontdek de kerstmarkten van Brugge en Gent.",
            "fr": "Découvrez les marchés de Noël de Bruges et Gand.",
        },
        -5,
        40,
    ),
    (
        "wbi",
        "Belgian comic strip exhibition",
        "submitted",
        "countries",
        "JP,KR",
        {"fr": "Exposition de bande dessinée belge.", "en": "Belgian comic strip exhibition."},
        15,
        30,
    ),
    (
        "tao",
        "Winter in East Belgium",
        "draft",
        "network",
        "",
        {"de": "Winter in Ostbelgien entdecken.", "en": "Discover winter in East Belgium."},
        10,
        60,
    ),
    ("fit", "Flanders AI week", "withdrawn", "network", "", {"en": "Flanders AI week."}, 30, 7),
    (
        "hub-brussels",
        "Brussels start-ups in New York",
        "submitted",
        "posts",
        "",
        {"en": "Brussels start-ups meet investors in New York."},
        12,
        20,
    ),
]


def create_proposals(today: date | None = None) -> int:
    """Proposals of several partners in every status; accepted ones adopted (and some published)."""
    if Proposal.objects.exists():
        return 0
    today = today or timezone.localdate()
    partners = {p.code: p for p in Partner.objects.all()}
    reviewer = User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email").first()
    made = 0
    for code, title, status, target, countries, texts, start, length in PROPOSALS:
        partner = partners.get(code)
        if partner is None:
            continue
        author = User.objects.filter(memberships__partner=partner).first()
        proposal = Proposal.objects.create(
            partner=partner,
            title=title,
            summary=f"{title}: suggested by {partner.name}.",
            status=status,
            target=target,
            target_countries=countries,
            created_by=author,
            window_starts_on=today + timedelta(days=start),
            window_ends_on=today + timedelta(days=start + length),
            contact=f"{partner.name}, communications desk",
            submitted_at=None if status == "draft" else timezone.now(),
            decided_by=reviewer if status in ("accepted", "declined") else None,
            decided_at=timezone.now() if status in ("accepted", "declined") else None,
            decline_reason="Too far from the posts' priorities this quarter." if status == "declined" else "",
        )
        if target == "posts":
            proposal.target_posts.set(Post.objects.filter(code="be-cg-new-york"))
        ProposalVariant.objects.bulk_create(
            [ProposalVariant(proposal=proposal, language=lang, text=text) for lang, text in texts.items()]
        )
        ProposalEvent.objects.create(proposal=proposal, actor=author, verb="created", to_status="draft")
        if status != "draft":
            ProposalEvent.objects.create(
                proposal=proposal, actor=author, verb="submit", from_status="draft", to_status="submitted"
            )
        if status in ("accepted", "declined"):
            verb = "accept" if status == "accepted" else "decline"
            ProposalEvent.objects.create(
                proposal=proposal,
                actor=reviewer,
                verb=verb,
                from_status="submitted",
                to_status=status,
                comment=proposal.decline_reason,
            )
        if status == "accepted":
            _adopt_for_demo(proposal, today)
        made += 1
    return made


def _approved_revision(publication: Publication, reviewer: User | None) -> PublicationRevision:
    """The revision an approved or published demo publication goes out with, and its approval
    by `reviewer` (None: a break-glass, approved by no one yet), as the workflow leaves them:
    the publishing engine and calendar_app.audit read that revision."""
    revision = PublicationRevision.objects.create(
        publication=publication,
        number=publication.revision,
        content=content_snapshot(publication),
        submitted_by=publication.author,
        checks=[],
    )
    if reviewer is not None:
        Review.objects.create(
            publication=publication,
            revision=revision,
            reviewer=reviewer,
            decision=ReviewDecision.APPROVE,
            guideline_version=0,
        )
    return revision


def _adopt_for_demo(proposal: Proposal, today: date) -> None:
    """Two or three posts adopted it: one published, one approved, one still a draft."""
    posts = list(
        Post.objects.filter(channels__active=True)
        .filter(**({"country__in": proposal.target_country_list} if proposal.target_country_list else {}))
        .distinct()
        .order_by("code")[:3]
    )
    statuses = [PublicationStatus.PUBLISHED, PublicationStatus.APPROVED, PublicationStatus.DRAFT]
    authors = post_authors(posts)
    reviewer = User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email").first()
    for post, status in zip(posts, statuses, strict=False):
        day = (
            today - timedelta(days=2) if status == PublicationStatus.PUBLISHED else today + timedelta(days=6)
        )
        moment = time(10, 0)
        publication = Publication.objects.create(
            post=post,
            title=proposal.title[:200],
            kind=PublicationKind.PARTNER_RELAY,
            status=status,
            proposal=proposal,
            campaign=proposal.campaign,
            local_date=day,
            local_time=moment,
            timezone=post.timezone,
            scheduled_at=check_local_time(day, moment, post.timezone),
            author=authors[post.pk],
        )
        texts = {v.language: v.text for v in proposal.variants.all()}
        channels = list(post.channels.filter(active=True).select_related("post"))
        plans = {c.pk: sending.ChannelPlan.of(c) for c in channels}
        publication.channels.set(_sending_channels(channels, plans, texts) or channels)
        Variant.objects.bulk_create(
            [
                Variant(publication=publication, language=language, text=text)
                for language, text in texts.items()
            ]
        )
        PublicationEvent.objects.create(
            publication=publication,
            actor=authors[post.pk],
            verb="adopted",
            to_status=PublicationStatus.DRAFT,
            revision=1,
            data={"proposal": proposal.pk},
        )
        if status != PublicationStatus.DRAFT:
            _approved_revision(publication, reviewer)


#: Neighbours and key partners the demo's central comms watch.
PRIORITY_COUNTRIES = [
    ("NL", "Neighbour"),
    ("FR", "Neighbour"),
    ("DE", "Neighbour"),
    ("LU", "Neighbour"),
    ("GB", "Key partner"),
    ("US", "Key partner"),
    ("CD", "Key partner"),
    ("TR", "Large Belgian diaspora"),
    ("MA", "Large Belgian diaspora"),
    ("CN", "Key partner"),
]


def create_priority_countries() -> int:
    made = 0
    for code, note in PRIORITY_COUNTRIES:
        _obj, created = PriorityCountry.objects.get_or_create(country=code, defaults={"note": note})
        made += created
    return made


# --- Crisis mode and deliveries -------------------------------------------------------------

CRISIS_TEMPLATES = [
    (
        "Stay indoors",
        {
            "nl": "Blijf binnen en volg de instructies van de lokale autoriteiten. Vermijd samenscholingen.",
            "fr": "Restez à l'intérieur et suivez les consignes des autorités locales. Évitez les rassemblements.",
            "en": "Stay indoors and follow the instructions of the local authorities. Avoid gatherings.",
        },
    ),
    (
        "Avoid travel",
        {
            "nl": "Stel niet-noodzakelijke reizen uit. Luchthavens kunnen gesloten zijn: neem contact op met uw maatschappij.",
            "fr": "Reportez les voyages non essentiels. Les aéroports peuvent être fermés : contactez votre compagnie.",
            "en": "Postpone non-essential travel. Airports may be closed: contact your airline.",
        },
    ),
    (
        "Contact numbers",
        {
            "nl": "Belgen in nood bellen het crisisnummer van de ambassade, dag en nacht: +32 2 501 40 00.",
            "fr": "Les Belges en détresse appellent le numéro de crise, jour et nuit : +32 2 501 40 00.",
            "en": "Belgians in distress can call the crisis number, day and night: +32 2 501 40 00.",
        },
    ),
    (
        "Official travel advice",
        {
            "nl": "Registreer u op Travellers Online en volg het reisadvies: https://diplomatie.belgium.be/nl/reisadvies",
            "fr": "Inscrivez-vous sur Travellers Online et suivez les conseils aux voyageurs : https://diplomatie.belgium.be/fr/conseils-aux-voyageurs",
            "en": "Register on Travellers Online and follow the travel advice: https://diplomatie.belgium.be/en/travel-advice",
        },
    ),
]


def create_crisis_templates() -> int:
    for name, texts in CRISIS_TEMPLATES:
        CrisisTemplate.objects.update_or_create(name=name, defaults={"texts": texts})
    return len(CRISIS_TEMPLATES)


def _demo_publication(
    post: Post,
    author: User,
    title: str,
    kind: str,
    status: str,
    when: datetime,
    channels: list[Channel],
    texts: dict[str, str],
    **extra: Any,
) -> Publication:
    local = when.astimezone(post.zone)
    publication = Publication.objects.create(
        post=post,
        author=author,
        title=title,
        kind=kind,
        status=status,
        local_date=local.date(),
        local_time=local.time().replace(second=0, microsecond=0),
        timezone=post.timezone,
        scheduled_at=when,
        **extra,
    )
    publication.channels.set(channels)
    Variant.objects.bulk_create(
        [Variant(publication=publication, language=lang, text=t) for lang, t in texts.items()]
    )
    return publication


def create_past_crisis() -> int:
    """An earthquake in Türkiye a month ago: advisories, a break-glass, held and missed publications.

    Returns the number of publications it involves.
    """
    posts = list(Post.objects.filter(country="TR").order_by("code"))
    reviewers = list(User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email"))
    if not posts or len(reviewers) < 2:
        return 0
    central, second = reviewers[0], reviewers[1]
    manager = User.objects.filter(memberships__role=Role.POST_MANAGER, memberships__post__in=posts).first()
    now = timezone.now()
    start = now - timedelta(days=30)
    end = start + timedelta(days=3)
    S = PublicationStatus
    crisis = Crisis.objects.create(
        title="Earthquake in south-eastern Türkiye",
        reason="A magnitude 7 earthquake; roads and airports closed in the region.",
        countries="TR",
        declared_by=central,
        declared_at=start,
        ended_by=central,
        ended_at=end,
    )
    texts = dict(CRISIS_TEMPLATES[0][1])
    timeline: list[tuple] = [(start, central, "declared", None, crisis.reason, {"countries": ["TR"]})]
    involved = 0
    events, deliveries = [], []
    for number, post in enumerate(posts):
        channels = list(post.channels.filter(active=True, platform__in=["facebook", "x"]))
        if not channels:
            continue
        author = manager if (manager and number == 0) else central
        break_glass = author == manager
        when = start + timedelta(minutes=40 + number * 5)
        advisory = _demo_publication(
            post,
            author,
            "Earthquake: stay indoors",
            PublicationKind.CRISIS_ADVISORY,
            S.PUBLISHED,
            when,
            channels,
            texts,
            crisis=crisis,
        )
        involved += 1
        _approved_revision(advisory, None if break_glass else second)
        if break_glass:
            confirmed = _event(
                advisory, manager, "break_glass", S.DRAFT, S.APPROVED, "Headquarters could not be reached."
            )
            # The engine sends the revision the post manager confirmed.
            confirmed.data = {"revision": advisory.revision}
            events += [
                confirmed,
                _event(advisory, second, "reviewed_after", S.PUBLISHED, S.PUBLISHED, "Right call."),
            ]
            timeline += [
                (when, manager, "break_glass", advisory, "Headquarters could not be reached.", {}),
                (when + timedelta(hours=2), second, "reviewed_after", advisory, "Right call.", {}),
            ]
        else:
            events += [
                _event(advisory, central, "submit", S.DRAFT, S.IN_REVIEW),
                _event(advisory, second, "approve", S.IN_REVIEW, S.APPROVED),
            ]
            timeline += [
                (when - timedelta(minutes=10), central, "advisory_broadcast", advisory, advisory.title, {}),
                (when, second, "advisory_approved", advisory, "", {}),
            ]
        events.append(_event(advisory, None, "published", S.APPROVED, S.PUBLISHED))
        deliveries += [
            Delivery(
                publication=advisory,
                channel=channel,
                status=DeliveryStatus.DELIVERED,
                attempts=1,
                url=f"{channel.url or 'https://social.example'}/posts/{advisory.pk}",
                delivered_at=when + timedelta(seconds=20),
            )
            for channel in channels
        ]
        # One publication the crisis held, released after it ended and published then,
        # and one whose time passed during the hold: still waiting to be rescheduled.
        held_author = manager or central
        released = _demo_publication(
            post,
            held_author,
            f"Business week – {post.city}",
            PublicationKind.REGULAR,
            S.PUBLISHED,
            end + timedelta(days=2),
            channels[:1],
            {"en": "Belgian business week.", "tr": "Belçika iş haftası."},
        )
        missed = _demo_publication(
            post,
            held_author,
            f"National Day reception – {post.city}",
            PublicationKind.EVENT,
            S.APPROVED,
            start + timedelta(days=1),
            channels[:1],
            {"en": "Join us for the reception.", "tr": "Resepsiyona davetlisiniz."},
            missed_in=crisis,
        )
        involved += 2
        _approved_revision(released, central)
        _approved_revision(missed, central)
        events += [
            _event(released, central, "held", S.APPROVED, S.APPROVED),
            _event(released, central, "released", S.APPROVED, S.APPROVED),
            _event(released, None, "published", S.APPROVED, S.PUBLISHED),
            _event(missed, central, "held", S.APPROVED, S.APPROVED),
            _event(missed, central, "missed", S.APPROVED, S.APPROVED),
        ]
        deliveries.append(
            Delivery(
                publication=released,
                channel=channels[0],
                status=DeliveryStatus.DELIVERED,
                attempts=1,
                url=f"{channels[0].url or 'https://social.example'}/posts/{released.pk}",
                delivered_at=released.scheduled_at + timedelta(seconds=30),
            )
        )
    timeline += [
        (start + timedelta(minutes=1), central, "held", None, "", {"count": 2 * len(posts)}),
        (end, central, "missed", None, "", {"count": len(posts)}),
        (end, central, "ended", None, "", {"released": len(posts), "missed": len(posts)}),
    ]
    PublicationEvent.objects.bulk_create(events)
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    for when, actor, verb, publication, comment, data in sorted(timeline, key=lambda row: row[0]):
        event = CrisisEvent.objects.create(
            crisis=crisis, actor=actor, verb=verb, publication=publication, comment=comment, data=data
        )
        CrisisEvent.objects.filter(pk=event.pk).update(
            created_at=when
        )  # auto_now_add: set the past time after
    return involved


def create_deliveries() -> int:
    """Deliveries in every state for the demo's publications that went out or are due.

    Published: delivered on each channel; failed: one channel failed for good; due
    and approved: pending on hand-posted channels (the "publish now" list), and one
    whose outcome is unknown for a person to check.
    """
    now = timezone.now()
    through = Publication.channels.through
    links = through.objects.filter(
        publication__status__in=[
            PublicationStatus.PUBLISHED,
            PublicationStatus.FAILED,
            PublicationStatus.APPROVED,
        ],
        publication__scheduled_at__lte=now,
        publication__crisis__isnull=True,
        publication__missed_in__isnull=True,
    ).values_list(
        "publication_id", "publication__status", "publication__scheduled_at", "channel_id", "channel__url"
    )
    rows, failed_seen, unknown_done = [], set(), False
    for publication_id, status, scheduled_at, channel_id, url in links.order_by(
        "publication_id", "channel_id"
    ):
        delivery = Delivery(publication_id=publication_id, channel_id=channel_id, attempts=1)
        if status == PublicationStatus.PUBLISHED:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.url = f"{url or 'https://social.example'}/posts/{publication_id}"
            delivery.delivered_at = scheduled_at + timedelta(seconds=40)
        elif status == PublicationStatus.FAILED and publication_id not in failed_seen:
            failed_seen.add(publication_id)
            delivery.status = DeliveryStatus.FAILED
            delivery.attempts = 5
            delivery.error = "HTTP 401 from the platform: the channel's credentials were refused."
        elif status == PublicationStatus.FAILED:
            delivery.status = DeliveryStatus.DELIVERED
            delivery.delivered_at = scheduled_at + timedelta(seconds=40)
        elif not unknown_done:
            unknown_done = True
            delivery.status = DeliveryStatus.UNKNOWN
            delivery.claimed_at = scheduled_at
            delivery.error = "No answer from the platform in time: check whether it was published."
        else:
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = scheduled_at
        rows.append(delivery)
    Delivery.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)
