"""Coverage: where the network is present, active, silent or absent, platform by platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from calendar_app.models import PriorityCountry, Publication, PublicationStatus
from diplomacy import geography
from diplomacy.geography import country_of
from diplomacy.models import Channel, Post

ACTIVE, SILENT, INACTIVE, ABSENT = "active", "silent", "inactive", "absent"
#: Best first: a country's state on a platform is the best of its posts'.
STATE_ORDER = [ACTIVE, SILENT, INACTIVE, ABSENT]
SILENT_AFTER_DAYS = 30


@dataclass
class CoverageRow:
    post: Post
    region: str
    states: list[str]  # one per platform, in PLATFORMS order


@dataclass
class Coverage:
    platforms: list[tuple[str, str]]
    rows: list[CoverageRow]
    #: [(region code, label, [(country code, name, [state per platform], [rows])])]
    groups: list[tuple]
    #: {platform: {state: count of posts}}
    totals: list[dict]
    #: {country code: best state over the selected platforms}
    country_states: dict[str, str]
    gaps: list[str]

    def csv_rows(self) -> tuple[list[str], list[list]]:
        header = [
            "post",
            "name",
            "country",
            "world_region",
            "kind",
            *[code for code, _label in self.platforms],
        ]
        rows = [
            [
                row.post.code,
                row.post.name,
                country_of(row.post.country).code,
                row.region,
                row.post.kind,
                *row.states,
            ]
            for row in self.rows
        ]
        return header, rows


def _best(states: list[str]) -> str:
    return min(states, key=STATE_ORDER.index) if states else ABSENT


def coverage(
    posts: QuerySet[Post], platforms: list[tuple[str, str]], scope: set[str] | None = None
) -> Coverage:
    """Posts x platforms, grouped by world region and country; three queries.

    `scope`: the countries the selection covers (None: the whole world); priority
    countries outside it are not judged.
    """
    post_list = list(posts.order_by("country", "city", "name"))
    now = timezone.now()
    recent = now - timedelta(days=SILENT_AFTER_DAYS)
    # Which channels published in the last 30 days: read from the publications of those 30
    # days (the status and time index), not from each channel's whole history.
    published_recently = Publication.channels.through.objects.filter(
        publication__status=PublicationStatus.PUBLISHED,
        publication__scheduled_at__gte=recent,
        publication__scheduled_at__lte=now,
    ).values("channel_id")
    channels = (
        Channel.objects.filter(post__in=[p.pk for p in post_list])
        .annotate(recent=ExpressionWrapper(Q(pk__in=published_recently), output_field=BooleanField()))
        .values("post_id", "platform", "active", "recent")
    )
    by_post: dict[int, dict[str, str]] = {}
    for channel in channels:
        if not channel["active"]:
            state = INACTIVE
        elif channel["recent"]:
            state = ACTIVE
        else:
            state = SILENT
        current = by_post.setdefault(channel["post_id"], {})
        current[channel["platform"]] = _best([current.get(channel["platform"], ABSENT), state])
    codes = [code for code, _label in platforms]
    rows = [
        CoverageRow(
            post=post,
            region=geography.region_of(country_of(post.country).code) or "",
            states=[by_post.get(post.pk, {}).get(code, ABSENT) for code in codes],
        )
        for post in post_list
    ]
    totals = [
        {"platform": label, **{state: sum(1 for r in rows if r.states[i] == state) for state in STATE_ORDER}}
        for i, (_code, label) in enumerate(platforms)
    ]
    # Group: world region -> country -> posts; a country's state is the best of its posts'.
    groups: dict[str, dict[str, list[CoverageRow]]] = {}
    for row in rows:
        groups.setdefault(row.region, {}).setdefault(country_of(row.post.country).code, []).append(row)
    region_labels = dict(geography.REGIONS)
    # Each country's name translated once: a translated name costs a catalogue lookup, and
    # the grouping and the gaps below ask for it once per post and platform.
    country_names = {
        code: str(country_of(c_rows[0].post.country).name)
        for by_region in groups.values()
        for code, c_rows in by_region.items()
    }
    grouped = []
    country_states: dict[str, str] = {}
    country_platform: dict[str, list[str]] = {}
    for region in [code for code, _label in geography.REGIONS] + [""]:
        if region not in groups:
            continue
        countries_ = []
        for country, country_rows in sorted(groups[region].items(), key=lambda item: country_names[item[0]]):
            states = [_best([r.states[i] for r in country_rows]) for i in range(len(codes))]
            country_platform[country] = states
            country_states[country] = _best(states)
            countries_.append((country, country_names[country], states, country_rows))
        grouped.append((region, region_labels.get(region, ""), countries_))
    priority = {country_of(p.country).code: p for p in PriorityCountry.objects.all()}
    gaps = []
    for i, (_code, label) in enumerate(platforms):
        present_elsewhere = sorted(
            country_names[country]
            for region in groups.values()
            for country, c_rows in region.items()
            if country not in priority and country_platform[country][i] == ACTIVE
        )
        if not present_elsewhere:
            continue
        for country, entry in priority.items():
            if scope is not None and country not in scope:
                continue
            state = country_platform.get(country, [ABSENT] * len(codes))[i]
            if state != ACTIVE:
                gaps.append(_gap_message(country_of(entry.country).name, label, state, present_elsewhere))
    return Coverage(platforms, rows, grouped, totals, country_states, gaps)


def _gap_message(country: str, platform: str, state: str, others: list[str]) -> str:
    examples = ", ".join(others[:3])
    return ngettext(
        "%(country)s (a priority) is %(state)s on %(platform)s, while %(count)s other country is "
        "active there (for example %(examples)s).",
        "%(country)s (a priority) is %(state)s on %(platform)s, while %(count)s other countries are "
        "active there (for example %(examples)s).",
        len(others),
    ) % {
        "country": country,
        "state": str(STATE_LABELS[state]),
        "platform": platform,
        "count": len(others),
        "examples": examples,
    }


STATE_LABELS = {
    ACTIVE: gettext_lazy("active"),
    SILENT: gettext_lazy("silent for 30 days"),
    INACTIVE: gettext_lazy("inactive"),
    ABSENT: gettext_lazy("absent"),
}
