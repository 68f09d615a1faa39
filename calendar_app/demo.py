"""Demo calendar: campaigns and publications spread over the past and coming months.

Deterministic (a fixed random seed) so that every machine shows the same demo,
and fast (bulk inserts) so that the benchmark can ask for 50,000. Every history row
carries the moment it happened (`story`, `dated`): written, sent to review and decided
in the past, at the pace of a central team working office hours in Brussels; crises
ended with their advisories decided; each text in its own language, saying what its
title says (diplomacy/data/publication_texts.csv).
"""

from __future__ import annotations

import contextlib
import csv
import functools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, Model
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


def _publication_texts() -> tuple[dict[str, dict[str, dict[str, str]]], dict[str, dict[str, str]]]:
    """({kind: {title: {language: text}}}, {kind: {host language: text}}) from
    diplomacy/data/publication_texts.csv: each text written in its language, saying what its
    title says; a host language's text (no title) fits every title of its kind."""
    titled: dict[str, dict[str, dict[str, str]]] = {}
    host: dict[str, dict[str, str]] = {}
    with open(DATA_DIR / "publication_texts.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["title"]:
                titled.setdefault(row["kind"], {}).setdefault(row["title"], {})[row["language"]] = row["text"]
            else:
                host.setdefault(row["kind"], {})[row["language"]] = row["text"]
    return titled, host


#: Texts per kind and title, per language, written in that language. The places are filled
#: in as that language writes them (`place_words`): {city} and {country} everywhere, and in
#: French {at_city} ("à Istanbul", "au Caire"), {in_country} ("en Malaisie", "au Japon")
#: and {of_country} ("de Malaisie", "du Japon"); {country} is French with its article
#: ("la Malaisie") and German in the dative ("der Türkei"). In a host language, one text a
#: kind (`HOST_TEXTS`); Spanish names the country as Spanish does ({country}), the others
#: need no country name (Chinese is also the language of Taipei and Singapore).
TITLED_TEXTS, HOST_TEXTS = _publication_texts()
#: The titles of each kind, in the order of the data file.
TITLES = {kind: list(titles) for kind, titles in TITLED_TEXTS.items()}
#: Each kind's first title's texts, and the host-language lines of a regular publication
#: (bench/languages.py writes with them).
TEXTS = {kind: next(iter(titles.values())) for kind, titles in TITLED_TEXTS.items()}
HOST_LINES = HOST_TEXTS[PublicationKind.REGULAR]


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
    """The words `TITLED_TEXTS` and `HOST_TEXTS` fill in for `post` in `language` (see `TITLED_TEXTS`).
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


KIND_WEIGHTS = [
    (PublicationKind.REGULAR, 60),
    (PublicationKind.EVENT, 15),
    (PublicationKind.CONSULAR_ADVICE, 12),
    (PublicationKind.PARTNER_RELAY, 10),
    # No crisis advisory: those come with their crisis (create_past_crisis), all decided.
    # One drawn here would wait in review at the top of the approval queue for no crisis.
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
    # The histories draw from dice of their own: the calendar stays the one a seed always gave.
    history_rng = random.Random(seed + 1)
    zones: dict[str, ZoneInfo] = {}

    rows: list[Publication] = []
    plan: list[tuple[list[Channel], dict[str, str]]] = []
    stories: list[Story] = []
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
        title = rng.choice(TITLES[kind])
        texts = _texts(rng, kind, title, post)
        sent = _sending_channels(chosen, plans, texts)
        if not sent:
            # None of them publishes the languages written: write the first channel's too.
            missing = [plans[chosen[0].pk].languages[0], "en"]
            written = TITLED_TEXTS[kind][title]
            language = next((lang for lang in missing if lang in written and lang not in texts), None)
            if language:
                texts[language] = written[language].format(**place_words(post, language))
                sent = _sending_channels(chosen, plans, texts)
        # Still none: keep them all, so that calendar_app.audit shows it rather than the demo hiding it.
        chosen = sent or chosen
        zone = zones.get(post.timezone) or zones.setdefault(post.timezone, ZoneInfo(post.timezone))
        told = story(history_rng, status, instant, now, zone)
        stories.append(told)
        rows.append(
            Publication(
                post=post,
                title=f"{title} – {post.city}",
                kind=kind,
                status=status,
                campaign=campaign,
                local_date=local_date,
                local_time=local_time,
                timezone=post.timezone,
                scheduled_at=instant,
                author=authors[post.pk],
                revision=len(told.rounds) or 1,
                created_at=told.created,
                updated_at=told.last,
            )
        )
        plan.append((chosen, texts))

    with transaction.atomic():
        with dated(Publication):
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
        _create_histories(rng, created, plan, stories)
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


def _texts(rng: random.Random, kind: PublicationKind, title: str, post: Post) -> dict[str, str]:
    """The texts of a publication of `kind` and `title` at `post`, each in its language."""
    written = TITLED_TEXTS[kind][title]
    texts = {lang: template.format(**place_words(post, lang)) for lang, template in written.items()}
    if kind == PublicationKind.REGULAR:
        # Regular publications follow the post's language policy, more or less.
        policy = [lang for lang in post.publishing_language_list if lang in texts] or ["en"]
        keep = set(rng.sample(policy, k=rng.randint(1, len(policy))))
        texts = {lang: text for lang, text in texts.items() if lang in keep}
    host = HOST_TEXTS.get(kind, {})
    for lang in post.host_language_list:
        if lang in host and lang not in texts and rng.random() < 0.6:
            texts[lang] = host[lang].format(**place_words(post, lang))
    return texts


#: What reviewers wrote when they asked for changes, in the demo, and what the post answered.
CHANGE_REQUESTS = [
    ("Add the French version, please.", "Done: the French version is in."),
    ("The link must be https.", "Link fixed, thanks."),
    ("Please add alt text to the photo.", "Alt text added."),
    ("Shorter for X, please: it does not fit.", "Shortened, it fits now."),
    ("Use the campaign hashtag.", "Hashtag added."),
]
REVIEWED = {PublicationStatus.APPROVED, PublicationStatus.PUBLISHED, PublicationStatus.FAILED}
SUBMITTED = REVIEWED | {PublicationStatus.IN_REVIEW, PublicationStatus.CHANGES_REQUESTED}

# --- When things happened: the demo's histories -----------------------------------------------
#
# Every row of a history carries the moment it happened, in the past and before the
# publication's time: the activity report measures central's turnaround from them, and the
# approval queue shows how long each item has waited. Central works in Brussels office hours;
# a duty reviewer looks in twice a day at weekends.

BRUSSELS = ZoneInfo("Europe/Brussels")
OFFICE_OPENS, OFFICE_CLOSES = time(8, 0), time(19, 0)
#: The share of weekend submissions the duty reviewer decides before Monday.
WEEKEND_DUTY = 0.45
#: The share of decisions that wait one to three days (someone who knows the subject is away).
SLOW_DECISIONS = 0.1
#: How far back a publication planned beyond the next days may have been sent to review.
PLANNED_AHEAD_DAYS = 49
#: The share of decided publications sent back once before their approval.
SENT_BACK_FIRST = 0.18


def _hours(rng: random.Random, median: float, spread: float, low: float, high: float) -> timedelta:
    """A duration of about `median` hours, log-normally spread, kept within [low, high]."""
    return timedelta(hours=min(max(rng.lognormvariate(math.log(median), spread), low), high))


def _next_office_moment(rng: random.Random, moment: datetime) -> datetime:
    """The first moment from `moment` on when someone at central looks at the queue."""
    local = moment.astimezone(BRUSSELS)
    for _ in range(5):
        day = local.date()
        if local.weekday() >= 5:
            if rng.random() < WEEKEND_DUTY:
                slot = datetime.combine(day, time(rng.choice([10, 16]), rng.randint(0, 59)), BRUSSELS)
                if slot > local:
                    return slot
        elif local.time() < OFFICE_OPENS:
            return datetime.combine(day, time(8, rng.randint(0, 50)), BRUSSELS)
        elif local.time() < OFFICE_CLOSES:
            return local
        local = datetime.combine(day + timedelta(days=1), time(0), BRUSSELS)
    return local


def decision_time(rng: random.Random, submitted: datetime) -> datetime:
    """When central decides a revision sent at `submitted`: most within a few office hours,
    a tail of one to three days, and what comes in at night or at the weekend waits for
    the office (or the weekend's duty reviewer)."""
    if rng.random() < SLOW_DECISIONS:
        picked_up = _next_office_moment(rng, submitted + timedelta(hours=rng.uniform(24, 66)))
        return (picked_up + timedelta(minutes=rng.uniform(5, 90))).astimezone(UTC)
    start = _next_office_moment(rng, submitted)
    end = start + timedelta(minutes=min(rng.lognormvariate(math.log(90), 0.9), 300))
    closing = datetime.combine(start.date(), OFFICE_CLOSES, BRUSSELS)
    if start.weekday() < 5 and end > closing:
        # Not finished by closing time: the rest the next morning.
        end = _next_office_moment(rng, closing + timedelta(hours=6)) + (end - closing)
    return end.astimezone(UTC)


def _earlier_in_office_hours(rng: random.Random, moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment`, or earlier when it falls outside a post's working day: posts send during
    their own office hours (never later than asked: it must stay before the limit)."""
    local = moment.astimezone(zone)
    if local.hour >= 18:
        local = local.replace(hour=rng.randint(9, 17), minute=rng.randint(0, 59))
    elif local.hour < 8:
        local = (local - timedelta(days=1)).replace(hour=rng.randint(9, 17), minute=rng.randint(0, 59))
    return local.astimezone(UTC)


@dataclass
class Round:
    """One revision sent to review and central's answer (None: it still waits)."""

    submitted: datetime
    decided: datetime | None = None
    approved: bool = False
    #: The post's answer in the thread after a request for changes.
    answered: datetime | None = None


@dataclass
class Story:
    """When each step of one demo publication's history happened (UTC, all in the past)."""

    created: datetime
    rounds: list[Round] = field(default_factory=list)
    cancelled: datetime | None = None

    @property
    def last(self) -> datetime:
        moments = [self.created, self.cancelled] + [
            m for r in self.rounds for m in (r.submitted, r.decided, r.answered)
        ]
        return max(m for m in moments if m is not None)


def story(rng: random.Random, status: str, scheduled: datetime, now: datetime, zone: ZoneInfo) -> Story:
    """A plausible history for a publication of `status` at `scheduled`, seen at `now`:
    written, sent to review some hours to days before its time (or, for one far ahead,
    some time ago), decided after a realistic wait, sometimes sent back once first."""
    S = PublicationStatus
    if status == S.DRAFT:
        return Story(created=now - _hours(rng, 40, 1.0, 0.2, 24 * 20))
    if status == S.CANCELLED:
        limit = min(now, scheduled)
        created = limit - _hours(rng, 60, 1.0, 3, 24 * 20)
        return Story(created=created, cancelled=created + (limit - created) * rng.uniform(0.3, 0.95))
    if status == S.IN_REVIEW:
        # It still waits: since a few hours mostly, since days for some.
        limit = now - _hours(rng, 6, 1.2, 0.1, 24 * 5)
    elif status == S.CHANGES_REQUESTED:
        limit = now
    else:
        limit = min(now, scheduled - timedelta(minutes=10))
    sent_back = status == S.CHANGES_REQUESTED or (
        status in REVIEWED | {S.IN_REVIEW} and rng.random() < SENT_BACK_FIRST
    )
    if status == S.IN_REVIEW:
        # Waiting since `limit`; sent back once, it was first sent a day or two before.
        sent = limit - (_hours(rng, 30, 0.8, 2, 24 * 4) if sent_back else timedelta(0))
    else:
        sent = scheduled - _hours(rng, 54, 0.9, 3, 24 * 21)
    if sent > now - timedelta(minutes=30):
        # Planned further ahead: sent some days or weeks ago, not days before its time (the
        # recent weeks a little more often, so that decisions keep an even pace).
        sent = now - timedelta(minutes=30) - timedelta(days=PLANNED_AHEAD_DAYS) * rng.random() ** 1.2
    sent = _earlier_in_office_hours(rng, min(sent, limit), zone)
    rounds = [Round(sent)]
    if sent_back:
        first = rounds[0]
        first.decided = decision_time(rng, first.submitted)
        if status != S.CHANGES_REQUESTED:
            first.answered = first.decided + _hours(rng, 2, 1.0, 0.1, 30)
            rounds.append(Round(first.answered + _hours(rng, 1, 1.0, 0.05, 24)))
    final = rounds[-1]
    if status in REVIEWED:
        final.decided, final.approved = decision_time(rng, final.submitted), True
    created = sent - _hours(rng, 20, 1.0, 0.25, 24 * 10)
    result = Story(created=created, rounds=rounds)
    last = result.last
    if last > limit:
        # Too slow to fit before its time (or before now): the same steps, faster.
        factor = (limit - sent) / (last - sent) * rng.uniform(0.6, 0.95)
        for r in rounds:
            r.submitted = sent + (r.submitted - sent) * factor
            r.decided = None if r.decided is None else sent + (r.decided - sent) * factor
            r.answered = None if r.answered is None else sent + (r.answered - sent) * factor
    return result


def _event(
    publication: Publication,
    actor: User | None,
    verb: str,
    source: str,
    target: str,
    comment: str = "",
    *,
    at: datetime,
    revision: int = 1,
    data: dict | None = None,
) -> PublicationEvent:
    return PublicationEvent(
        publication=publication,
        actor=actor,
        verb=verb,
        from_status=source,
        to_status=target,
        comment=comment,
        revision=revision,
        data=data or {},
        created_at=at,
    )


@contextlib.contextmanager
def dated(*models: type[Model]) -> Iterator[None]:
    """Inserts into `models` keep the created_at (and updated_at) the demo gives each row:
    auto_now_add and auto_now would stamp them all with the seed's time. An UPDATE per row
    afterwards would double the seed's time; this switches the two flags off around the
    demo's inserts only, in this process (seed_demo and the benchmark run in their own)."""
    fields = [
        f
        for model in models
        for f in model._meta.concrete_fields
        if isinstance(f, DateTimeField) and (f.auto_now or f.auto_now_add)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _create_histories(
    rng: random.Random,
    created: list[Publication],
    plan: list[tuple[list[Channel], dict[str, str]]],
    stories: list[Story],
) -> None:
    """Consistent histories, each step at its moment of `stories`: created, sent to review,
    decided (approved, or sent back with a comment the post answers), published or cancelled."""
    S = PublicationStatus
    reviewers = list(User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email"))
    events, revisions, requests = [], [], []
    for publication, (chosen, texts), told in zip(created, plan, stories, strict=True):
        author = publication.author
        events.append(_event(publication, author, "created", "", S.DRAFT, at=told.created))
        if told.cancelled is not None:
            events.append(_event(publication, author, "cancel", S.DRAFT, S.CANCELLED, at=told.cancelled))
        variants = {lang: [text, {}] for lang, text in texts.items()}
        content: dict[str, Any] = {
            "title": publication.title,
            "kind": publication.kind,
            "campaign": publication.campaign_id,
            "channels": sorted(c.pk for c in chosen),
            "local_date": publication.local_date.isoformat(),
            "local_time": publication.local_time.strftime("%H:%M"),
            "variants": variants,
            "assets": [],
        }
        # A publication sent back first was asked for its French version when it has one.
        request = 0 if "fr" in texts and len(texts) > 1 else rng.randint(1, len(CHANGE_REQUESTS) - 1)
        requests.append(request)
        for number, step in enumerate(told.rounds, 1):
            snapshot = content
            if number < len(told.rounds) and request == 0:
                snapshot = {
                    **content,
                    "variants": {k: v for k, v in variants.items() if k != "fr"},
                }
            revisions.append(
                PublicationRevision(
                    publication=publication,
                    number=number,
                    content=snapshot,
                    submitted_by=author,
                    checks=[],
                    created_at=step.submitted,
                )
            )
            verb, source = ("submit", S.DRAFT) if number == 1 else ("resubmit", S.CHANGES_REQUESTED)
            events.append(
                _event(
                    publication,
                    author,
                    verb,
                    source,
                    S.IN_REVIEW,
                    at=step.submitted,
                    revision=number,
                    data={"revision": number},
                )
            )
    with dated(PublicationEvent, PublicationRevision):
        PublicationEvent.objects.bulk_create(events, batch_size=2000)
        revisions = PublicationRevision.objects.bulk_create(revisions, batch_size=2000)
    if not reviewers:
        return
    by_publication: dict[int, list[PublicationRevision]] = {}
    for revision in revisions:
        by_publication.setdefault(revision.publication_id, []).append(revision)
    reviews, decisions, comments = [], [], []
    for publication, told, request in zip(created, stories, requests, strict=True):
        for step, revision in zip(told.rounds, by_publication.get(publication.pk, []), strict=True):
            if step.decided is None:
                continue
            reviewer = rng.choice([r for r in reviewers if r.pk != publication.author_id] or reviewers)
            asked, answer = CHANGE_REQUESTS[request]
            comment = "" if step.approved else asked
            reviews.append(
                Review(
                    publication=publication,
                    revision=revision,
                    reviewer=reviewer,
                    comment=comment,
                    decision=ReviewDecision.APPROVE if step.approved else ReviewDecision.REQUEST_CHANGES,
                    guideline_version=0,
                    created_at=step.decided,
                )
            )
            number = revision.number
            if step.approved:
                decisions.append(
                    _event(
                        publication,
                        reviewer,
                        "approve",
                        S.IN_REVIEW,
                        S.APPROVED,
                        at=step.decided,
                        revision=number,
                    )
                )
            else:
                decisions.append(
                    _event(
                        publication,
                        reviewer,
                        "request_changes",
                        S.IN_REVIEW,
                        S.CHANGES_REQUESTED,
                        comment,
                        at=step.decided,
                        revision=number,
                    )
                )
                comments.append(
                    Comment(publication=publication, author=reviewer, text=comment, created_at=step.decided)
                )
            if step.answered is not None:
                comments.append(
                    Comment(
                        publication=publication,
                        author=publication.author,
                        text=answer,
                        created_at=step.answered,
                    )
                )
        if publication.status == S.PUBLISHED:
            decisions.append(
                _event(
                    publication,
                    None,
                    "published",
                    S.APPROVED,
                    S.PUBLISHED,
                    at=publication.scheduled_at + timedelta(seconds=40),
                    revision=publication.revision,
                )
            )
    with dated(Review, PublicationEvent, Comment):
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
    """Proposals of several partners in every status, written, sent and decided over the past
    weeks; accepted ones adopted (and some published)."""
    if Proposal.objects.exists():
        return 0
    today = today or timezone.localdate()
    now = timezone.now()
    partners = {p.code: p for p in Partner.objects.all()}
    reviewer = User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email").first()
    made = 0
    for code, title, status, target, countries, texts, start, length in PROPOSALS:
        partner = partners.get(code)
        if partner is None:
            continue
        rng = random.Random(f"proposal {title}")
        author = User.objects.filter(memberships__partner=partner).first()
        decided = status in ("accepted", "declined")
        submitted: datetime | None
        if status == "submitted":
            # Waiting for central's triage since a day or so.
            waiting_since = now - _hours(rng, 30, 0.8, 2, 24 * 5)
            written, submitted = waiting_since - _hours(rng, 20, 1.0, 0.5, 24 * 4), waiting_since
        else:
            written = now - timedelta(days=rng.uniform(12, 30))
            submitted = None if status == "draft" else written + _hours(rng, 20, 1.0, 0.5, 72)
        # Triage takes longer than a publication's review: it waits for the weekly meeting.
        decided_at = (
            decision_time(rng, submitted + _hours(rng, 30, 0.8, 1, 96)) if submitted and decided else None
        )
        with dated(Proposal):
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
                submitted_at=submitted,
                decided_by=reviewer if decided else None,
                decided_at=decided_at,
                decline_reason="Too far from the posts' priorities this quarter."
                if status == "declined"
                else "",
                created_at=written,
                updated_at=decided_at or submitted or written,
            )
        if target == "posts":
            proposal.target_posts.set(Post.objects.filter(code="be-cg-new-york"))
        ProposalVariant.objects.bulk_create(
            [ProposalVariant(proposal=proposal, language=lang, text=text) for lang, text in texts.items()]
        )
        events = [
            ProposalEvent(
                proposal=proposal, actor=author, verb="created", to_status="draft", created_at=written
            )
        ]
        if submitted is not None:
            events.append(
                ProposalEvent(
                    proposal=proposal,
                    actor=author,
                    verb="submit",
                    from_status="draft",
                    to_status="submitted",
                    created_at=submitted,
                )
            )
        if status == "withdrawn" and submitted is not None:
            events.append(
                ProposalEvent(
                    proposal=proposal,
                    actor=author,
                    verb="withdraw",
                    from_status="submitted",
                    to_status="withdrawn",
                    created_at=submitted + _hours(rng, 26, 0.8, 1, 72),
                )
            )
        if decided_at is not None:
            events.append(
                ProposalEvent(
                    proposal=proposal,
                    actor=reviewer,
                    verb="accept" if status == "accepted" else "decline",
                    from_status="submitted",
                    to_status=status,
                    comment=proposal.decline_reason,
                    created_at=decided_at,
                )
            )
        with dated(ProposalEvent):
            ProposalEvent.objects.bulk_create(events)
        if status == "accepted":
            _adopt_for_demo(rng, proposal, today, decided_at or now)
        made += 1
    return made


def _approved_revision(
    publication: Publication, reviewer: User | None, *, sent: datetime, decided: datetime | None = None
) -> PublicationRevision:
    """The revision an approved or published demo publication goes out with, `sent` to review,
    and its approval by `reviewer` at `decided` (None: a break-glass, approved by no one yet),
    as the workflow leaves them: the publishing engine and calendar_app.audit read that revision."""
    with dated(PublicationRevision, Review):
        revision = PublicationRevision.objects.create(
            publication=publication,
            number=publication.revision,
            content=content_snapshot(publication),
            submitted_by=publication.author,
            checks=[],
            created_at=sent,
        )
        if reviewer is not None:
            Review.objects.create(
                publication=publication,
                revision=revision,
                reviewer=reviewer,
                decision=ReviewDecision.APPROVE,
                guideline_version=0,
                created_at=decided or sent,
            )
    return revision


def _adopt_for_demo(rng: random.Random, proposal: Proposal, today: date, accepted: datetime) -> None:
    """Two or three posts adopted it some days after it was `accepted`: one published, one
    approved, one still a draft."""
    posts = list(
        Post.objects.filter(channels__active=True)
        .filter(**({"country__in": proposal.target_country_list} if proposal.target_country_list else {}))
        .distinct()
        .order_by("code")[:3]
    )
    statuses = [PublicationStatus.PUBLISHED, PublicationStatus.APPROVED, PublicationStatus.DRAFT]
    authors = post_authors(posts)
    reviewer = User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email").first()
    S = PublicationStatus
    for post, status in zip(posts, statuses, strict=False):
        day = today - timedelta(days=2) if status == S.PUBLISHED else today + timedelta(days=6)
        moment = time(10, 0)
        scheduled = check_local_time(day, moment, post.timezone)
        author = authors[post.pk]
        adopted = min(accepted + _hours(rng, 30, 0.8, 1, 24 * 5), scheduled - timedelta(days=1))
        sent = adopted + _hours(rng, 3, 0.8, 0.2, 24)
        decided = min(decision_time(rng, sent), scheduled - timedelta(hours=2))
        with dated(Publication):
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
                scheduled_at=scheduled,
                author=author,
                created_at=adopted,
                updated_at=adopted if status == S.DRAFT else decided,
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
        events = [
            _event(publication, author, "adopted", "", S.DRAFT, at=adopted, data={"proposal": proposal.pk})
        ]
        if status != S.DRAFT:
            _approved_revision(publication, reviewer, sent=sent, decided=decided)
            events += [
                _event(publication, author, "submit", S.DRAFT, S.IN_REVIEW, at=sent, data={"revision": 1}),
                _event(publication, reviewer, "approve", S.IN_REVIEW, S.APPROVED, at=decided),
            ]
        if status == S.PUBLISHED:
            events.append(
                _event(
                    publication,
                    None,
                    "published",
                    S.APPROVED,
                    S.PUBLISHED,
                    at=scheduled + timedelta(seconds=40),
                )
            )
        with dated(PublicationEvent):
            PublicationEvent.objects.bulk_create(events)


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
    *,
    written: datetime,
    **extra: Any,
) -> Publication:
    """One publication of the crisis scenes, `written` at that moment (and last changed at `when`)."""
    local = when.astimezone(post.zone)
    with dated(Publication):
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
            created_at=written,
            updated_at=max(written, min(when, timezone.now())),
            **extra,
        )
    publication.channels.set(channels)
    Variant.objects.bulk_create(
        [Variant(publication=publication, language=lang, text=t) for lang, t in texts.items()]
    )
    return publication


def _delivered(publication: Publication, channels: list[Channel], after: timedelta) -> list[Delivery]:
    return [
        Delivery(
            publication=publication,
            channel=channel,
            status=DeliveryStatus.DELIVERED,
            attempts=1,
            url=f"{channel.url or 'https://social.example'}/posts/{publication.pk}",
            delivered_at=publication.scheduled_at + after,
            created_at=publication.scheduled_at,
        )
        for channel in channels
    ]


def _save_crisis(
    crisis: Crisis, timeline: list[tuple], events: list[PublicationEvent], deliveries: list[Delivery]
) -> None:
    """The crisis's timeline, its publications' histories and deliveries, each at its moment."""
    with dated(PublicationEvent, Delivery, CrisisEvent):
        PublicationEvent.objects.bulk_create(events)
        Delivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        CrisisEvent.objects.bulk_create(
            [
                CrisisEvent(
                    crisis=crisis,
                    actor=actor,
                    verb=verb,
                    publication=publication,
                    comment=comment,
                    data=data,
                    created_at=when,
                )
                for when, actor, verb, publication, comment, data in sorted(timeline, key=lambda row: row[0])
            ]
        )


def create_past_crisis() -> int:
    """Crises that ended: an earthquake in Türkiye a month ago (advisories, a break-glass,
    held and missed publications) and the `PAST_CRISES` before it, every advisory decided.

    Returns the number of publications they involve.
    """
    reviewers = list(User.objects.filter(memberships__role=Role.CENTRAL_REVIEWER).order_by("email"))
    if len(reviewers) < 2:
        return 0
    involved = _earthquake(reviewers[0], reviewers[1])
    for number, scene in enumerate(PAST_CRISES):
        involved += _past_crisis(random.Random(f"crisis-{number}"), scene, reviewers[number % 2], reviewers)
    return involved


def _earthquake(central: User, second: User) -> int:
    posts = list(Post.objects.filter(country="TR").order_by("code"))
    if not posts:
        return 0
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
    timeline: list[tuple] = [
        (start, central, "declared", None, crisis.reason, {"countries": ["TR"]}),
        (start + timedelta(minutes=7), second, "acknowledged", None, "", {}),
    ]
    involved = 0
    events: list[PublicationEvent] = []
    deliveries: list[Delivery] = []
    for number, post in enumerate(posts):
        channels = list(post.channels.filter(active=True, platform__in=["facebook", "x"]))
        if not channels:
            continue
        author = manager if (manager and number == 0) else central
        break_glass = author == manager
        when = start + timedelta(minutes=40 + number * 5, seconds=17 * number)
        advisory = _demo_publication(
            post,
            author,
            "Earthquake: stay indoors",
            PublicationKind.CRISIS_ADVISORY,
            S.PUBLISHED,
            when,
            channels,
            texts,
            written=when - timedelta(minutes=16),
            crisis=crisis,
        )
        involved += 1
        events.append(_event(advisory, author, "created", "", S.DRAFT, at=when - timedelta(minutes=16)))
        if break_glass:
            _approved_revision(advisory, None, sent=when - timedelta(minutes=1))
            # The engine sends the revision the post manager confirmed.
            events += [
                _event(
                    advisory,
                    manager,
                    "break_glass",
                    S.DRAFT,
                    S.APPROVED,
                    "Headquarters could not be reached.",
                    at=when - timedelta(seconds=50),
                    data={"revision": advisory.revision},
                ),
                _event(
                    advisory,
                    second,
                    "reviewed_after",
                    S.PUBLISHED,
                    S.PUBLISHED,
                    "Right call.",
                    at=when + timedelta(hours=2),
                ),
            ]
            timeline += [
                (
                    when - timedelta(seconds=50),
                    manager,
                    "break_glass",
                    advisory,
                    "Headquarters could not be reached.",
                    {},
                ),
                (when + timedelta(hours=2), second, "reviewed_after", advisory, "Right call.", {}),
            ]
        else:
            sent = when - timedelta(minutes=10, seconds=number)
            _approved_revision(advisory, second, sent=sent, decided=when - timedelta(seconds=30))
            events += [
                _event(advisory, central, "submit", S.DRAFT, S.IN_REVIEW, at=sent, data={"revision": 1}),
                _event(advisory, second, "approve", S.IN_REVIEW, S.APPROVED, at=when - timedelta(seconds=30)),
            ]
            timeline += [
                (sent, central, "advisory_broadcast", advisory, advisory.title, {}),
                (when - timedelta(seconds=30), second, "advisory_approved", advisory, "", {}),
            ]
        events.append(
            _event(advisory, None, "published", S.APPROVED, S.PUBLISHED, at=when + timedelta(seconds=20))
        )
        deliveries += _delivered(advisory, channels, timedelta(seconds=20))
        # One publication the crisis held, released after it ended and published then,
        # and one whose time passed during the hold: still waiting to be rescheduled.
        held_author = manager or central
        written = start - timedelta(days=6, hours=number)
        released = _demo_publication(
            post,
            held_author,
            f"Business week – {post.city}",
            PublicationKind.REGULAR,
            S.PUBLISHED,
            end + timedelta(days=2),
            channels[:1],
            {"en": "Belgian business week.", "tr": "Belçika iş haftası."},
            written=written,
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
            written=written + timedelta(minutes=25),
            missed_in=crisis,
        )
        involved += 2
        for publication in (released, missed):
            sent = publication.created_at + timedelta(hours=3, minutes=number)
            decided = decision_time(random.Random(publication.pk), sent)
            _approved_revision(publication, central, sent=sent, decided=decided)
            events += [
                _event(publication, held_author, "created", "", S.DRAFT, at=publication.created_at),
                _event(
                    publication, held_author, "submit", S.DRAFT, S.IN_REVIEW, at=sent, data={"revision": 1}
                ),
                _event(publication, central, "approve", S.IN_REVIEW, S.APPROVED, at=decided),
                _event(publication, central, "held", S.APPROVED, S.APPROVED, at=start + timedelta(minutes=1)),
            ]
        events += [
            _event(released, central, "released", S.APPROVED, S.APPROVED, at=end),
            _event(
                released,
                None,
                "published",
                S.APPROVED,
                S.PUBLISHED,
                at=released.scheduled_at + timedelta(seconds=30),
            ),
            _event(missed, central, "missed", S.APPROVED, S.APPROVED, at=end),
        ]
        deliveries += _delivered(released, channels[:1], timedelta(seconds=30))
    timeline += [
        (start + timedelta(minutes=1), central, "held", None, "", {"count": 2 * len(posts)}),
        (end, central, "missed", None, "", {"count": len(posts)}),
        (
            end + timedelta(seconds=1),
            central,
            "ended",
            None,
            "",
            {"released": len(posts), "missed": len(posts)},
        ),
    ]
    _save_crisis(crisis, timeline, events, deliveries)
    return involved


#: Earlier crises, short and ended: (title, reason, countries, days ago it was declared, hours it
#: lasted, the first advisory's texts, the update's texts). Each post there published both; a
#: third advisory, overtaken by the update, was cancelled in review.
PAST_CRISES = [
    (
        "Forest fires around Athens",
        "Fires in Attica; roads to the airport closed, villages evacuated.",
        "GR",
        78,
        96,
        {
            "nl": "Bosbranden rond Athene: volg de evacuatiebevelen van de Griekse overheid en vermijd de getroffen gebieden.",
            "fr": "Feux de forêt autour d'Athènes : suivez les ordres d'évacuation des autorités grecques et évitez les zones touchées.",
            "en": "Forest fires around Athens: follow the Greek authorities' evacuation orders and avoid the affected areas.",
            "el": "Δασικές πυρκαγιές γύρω από την Αθήνα: ακολουθήστε τις εντολές εκκένωσης των αρχών.",
        },
        {
            "nl": "Bosbranden: de wegen naar de luchthaven van Athene zijn weer open. Volg de lokale media.",
            "fr": "Feux de forêt : les routes vers l'aéroport d'Athènes sont rouvertes. Suivez les médias locaux.",
            "en": "Forest fires: the roads to Athens airport are open again. Keep following the local media.",
            "el": "Οι δρόμοι προς το αεροδρόμιο της Αθήνας είναι ξανά ανοιχτοί.",
        },
    ),
    (
        "Hurricane on Mexico's Pacific coast",
        "A category 4 hurricane near Acapulco; flights cancelled, the coast evacuated.",
        "MX",
        51,
        60,
        {
            "nl": "Orkaan aan de Mexicaanse Pacifische kust: blijf binnen, volg de civiele bescherming en registreer u op Travellers Online.",
            "fr": "Ouragan sur la côte pacifique du Mexique : restez à l'intérieur, suivez la protection civile et inscrivez-vous sur Travellers Online.",
            "en": "Hurricane on Mexico's Pacific coast: stay indoors, follow civil protection and register on Travellers Online.",
            "es": "Huracán en la costa del Pacífico: permanezca en el interior y siga las instrucciones de Protección Civil.",
        },
        {
            "nl": "De orkaan is voorbij. De luchthaven van Acapulco gaat morgen weer open; neem contact op met uw maatschappij.",
            "fr": "L'ouragan est passé. L'aéroport d'Acapulco rouvre demain ; contactez votre compagnie aérienne.",
            "en": "The hurricane has passed. Acapulco airport reopens tomorrow; contact your airline.",
            "es": "El huracán ha pasado. El aeropuerto de Acapulco reabre mañana.",
        },
    ),
]


def _past_crisis(rng: random.Random, scene: tuple, central: User, reviewers: list[User]) -> int:
    """One crisis of `PAST_CRISES`: declared, acknowledged, two advisories per post approved
    within minutes and published, a third cancelled, then ended."""
    title, reason, countries, days_ago, hours, first_texts, update_texts = scene
    posts = list(Post.objects.filter(country__in=countries.split(",")).order_by("code"))
    start = timezone.now() - timedelta(days=days_ago, minutes=rng.randint(0, 600))
    end = start + timedelta(hours=hours, minutes=rng.randint(0, 59))
    other = next(r for r in reviewers if r != central)
    S = PublicationStatus
    crisis = Crisis.objects.create(
        title=title,
        reason=reason,
        countries=countries,
        declared_by=central,
        declared_at=start,
        ended_by=central,
        ended_at=end,
    )
    timeline: list[tuple] = [
        (start, central, "declared", None, reason, {"countries": countries.split(",")}),
        (start + timedelta(minutes=rng.randint(3, 14)), other, "acknowledged", None, "", {}),
    ]
    events: list[PublicationEvent] = []
    deliveries: list[Delivery] = []
    involved = 0
    for post in posts:
        channels = list(post.channels.filter(active=True).select_related("post"))
        plans = {c.pk: sending.ChannelPlan.of(c) for c in channels}
        scenes = [
            ("first advice", first_texts, start + timedelta(minutes=rng.randint(25, 50)), S.PUBLISHED),
            ("update", update_texts, end - timedelta(hours=rng.randint(3, 8)), S.PUBLISHED),
            ("roads closed", update_texts, start + timedelta(hours=hours / 3), S.CANCELLED),
        ]
        for label, texts, sent, status in scenes:
            chosen = _sending_channels(channels, plans, texts)
            if not chosen:
                continue
            written = sent - timedelta(minutes=rng.randint(5, 20))
            decided = sent + timedelta(minutes=rng.randint(4, 35), seconds=rng.randint(0, 59))
            advisory = _demo_publication(
                post,
                central,
                f"{title}: {label}",
                PublicationKind.CRISIS_ADVISORY,
                status,
                decided,
                chosen,
                texts,
                written=written,
                crisis=crisis,
            )
            involved += 1
            events += [
                _event(advisory, central, "created", "", S.DRAFT, at=written),
                _event(advisory, central, "submit", S.DRAFT, S.IN_REVIEW, at=sent, data={"revision": 1}),
            ]
            timeline.append((sent, central, "advisory_broadcast", advisory, advisory.title, {}))
            if status == S.CANCELLED:
                # Overtaken by events before anyone approved it.
                _approved_revision(advisory, None, sent=sent)
                events.append(
                    _event(
                        advisory,
                        central,
                        "cancel",
                        S.IN_REVIEW,
                        S.CANCELLED,
                        "Overtaken by events: the roads reopened.",
                        at=decided,
                    )
                )
                continue
            _approved_revision(advisory, other, sent=sent, decided=decided)
            events += [
                _event(advisory, other, "approve", S.IN_REVIEW, S.APPROVED, at=decided),
                _event(
                    advisory, None, "published", S.APPROVED, S.PUBLISHED, at=decided + timedelta(seconds=25)
                ),
            ]
            timeline.append((decided, other, "advisory_approved", advisory, "", {}))
            deliveries += _delivered(advisory, chosen, timedelta(seconds=25))
    timeline.append((end, central, "ended", None, "", {"released": 0, "missed": 0}))
    _save_crisis(crisis, timeline, events, deliveries)
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
        delivery = Delivery(
            publication_id=publication_id, channel_id=channel_id, attempts=1, created_at=scheduled_at
        )
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
    with dated(Delivery):
        Delivery.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)
