"""Coverage: where the network is present, active, silent or absent, platform by platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from calendar_app.models import PriorityCountry, Publication, PublicationStatus
from calendar_app.reports.figures import Finding
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
class GapGroup:
    """The priority countries not active on one platform where other countries are."""

    platform: str
    #: [(state, [country names])], worst state first, only the states that occur.
    by_state: list[tuple[str, list[str]]]
    #: The other countries active on the platform.
    others: int
    examples: list[str]
    text: str

    @property
    def count(self) -> int:
        return sum(len(names) for _state, names in self.by_state)


@dataclass
class RegionFold:
    """One world region of the presence table, folded: its countries and posts with the
    states of the platforms shown, and a one-line summary of its countries' best states."""

    region: str
    label: str
    #: [(country code, name, [state per shown platform], [(row, [state per shown platform])])]
    countries: list[tuple]
    summary: str


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
    #: The gaps, one group per platform, the platform with most priority countries first.
    gap_groups: list[GapGroup] = field(default_factory=list)
    #: The platforms no post of the selection has a channel on (labels).
    unused: list[str] = field(default_factory=list)
    #: The platforms the tables show: every selected one but the unused (unless all are).
    shown: list[tuple[str, str]] = field(default_factory=list)
    #: `totals` of the shown platforms only.
    shown_totals: list[dict] = field(default_factory=list)
    #: The presence table, one fold per world region.
    regions: list[RegionFold] = field(default_factory=list)
    #: {state: channels in it}: active, silent, inactive (a channel is never absent).
    channel_states: dict[str, int] = field(default_factory=dict)
    #: The answer first: a few sentences, each linking to its details.
    findings: list[Finding] = field(default_factory=list)

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
    codes = [code for code, _label in platforms]
    by_post: dict[int, dict[str, str]] = {}
    channel_states = dict.fromkeys((ACTIVE, SILENT, INACTIVE), 0)
    for channel in channels:
        if not channel["active"]:
            state = INACTIVE
        elif channel["recent"]:
            state = ACTIVE
        else:
            state = SILENT
        if channel["platform"] in codes:
            channel_states[state] += 1
        current = by_post.setdefault(channel["post_id"], {})
        current[channel["platform"]] = _best([current.get(channel["platform"], ABSENT), state])
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
    gap_groups = []
    for i, (_code, label) in enumerate(platforms):
        present_elsewhere = sorted(
            country_names[country]
            for region in groups.values()
            for country, c_rows in region.items()
            if country not in priority and country_platform[country][i] == ACTIVE
        )
        if not present_elsewhere:
            continue
        lagging: dict[str, list[str]] = {}
        for country, entry in priority.items():
            if scope is not None and country not in scope:
                continue
            state = country_platform.get(country, [ABSENT] * len(codes))[i]
            if state != ACTIVE:
                name = str(country_of(entry.country).name)
                gaps.append(_gap_message(name, label, state, present_elsewhere))
                lagging.setdefault(state, []).append(name)
        if lagging:
            gap_groups.append(_gap_group(label, lagging, present_elsewhere))
    gap_groups.sort(key=lambda group: -group.count)  # stable: platforms in their order on ties
    report = Coverage(platforms, rows, grouped, totals, country_states, gaps, gap_groups)
    report.channel_states = channel_states
    _fold(report, codes)
    report.findings = coverage_findings(report, priority_count=len(priority), scope=scope)
    return report


def _fold(report: Coverage, codes: list[str]) -> None:
    """The unused platforms named, the others shown, the presence table folded by region."""
    used = [i for i in range(len(codes)) if any(row.states[i] != ABSENT for row in report.rows)]
    report.unused = [str(label) for i, (_code, label) in enumerate(report.platforms) if i not in used]
    keep = used if used else list(range(len(codes)))
    if not report.rows:
        report.unused = []
    report.shown = [report.platforms[i] for i in keep]
    report.shown_totals = [report.totals[i] for i in keep]
    for region, label, countries in report.groups:
        counts = dict.fromkeys(STATE_ORDER, 0)
        folded = []
        posts = 0
        for code, name, states, rows in countries:
            counts[_best(states)] += 1
            posts += len(rows)
            folded.append(
                (
                    code,
                    name,
                    [states[i] for i in keep],
                    [(row, [row.states[i] for i in keep]) for row in rows],
                )
            )
        label = str(label) if label else gettext("Other")
        report.regions.append(
            RegionFold(region, label, folded, _region_summary(len(countries), posts, counts))
        )


def _region_summary(countries: int, posts: int, counts: dict[str, int]) -> str:
    """ "12 countries, 15 posts: 9 active, 2 silent for 30 days, 1 absent"."""
    where = ngettext("%(count)s country", "%(count)s countries", countries) % {"count": countries} + ", "
    where += ngettext("%(count)s post", "%(count)s posts", posts) % {"count": posts}
    states = ", ".join(_state_count(state, counts[state]) for state in STATE_ORDER if counts[state])
    return gettext("%(where)s: %(states)s") % {"where": where, "states": states} if states else where


def _state_count(state: str, count: int) -> str:
    """ "9 active", one whole phrase a state, so that each language agrees and orders it."""
    if state == ACTIVE:
        # Translators: countries of a region, counted by their best state; so are the next three.
        text = ngettext("%(count)s active", "%(count)s active", count)
    elif state == SILENT:
        text = ngettext("%(count)s silent for 30 days", "%(count)s silent for 30 days", count)
    elif state == INACTIVE:
        text = ngettext("%(count)s inactive", "%(count)s inactive", count)
    else:
        text = ngettext("%(count)s absent", "%(count)s absent", count)
    return text % {"count": count}


def _lagging_sentence(state: str, names: list[str]) -> str:
    """ "Absent: France, Japan." One whole sentence a state, the countries as a list."""
    if state == SILENT:
        text = ngettext("Silent for 30 days: %(names)s.", "Silent for 30 days: %(names)s.", len(names))
    elif state == INACTIVE:
        text = ngettext("Inactive: %(names)s.", "Inactive: %(names)s.", len(names))
    else:
        text = ngettext("Absent: %(names)s.", "Absent: %(names)s.", len(names))
    return text % {"names": ", ".join(names)}


def _names(names: list[str], limit: int = 5) -> str:
    """ "A, B, C" or "A, B, C, D, E and 3 more"."""
    if len(names) <= limit:
        return ", ".join(names)
    more = len(names) - limit
    return ngettext("%(names)s and %(count)s more", "%(names)s and %(count)s more", more) % {
        "names": ", ".join(names[:limit]),
        "count": more,
    }


def _gap_group(platform: str, lagging: dict[str, list[str]], others: list[str]) -> GapGroup:
    by_state = [(state, lagging[state]) for state in reversed(STATE_ORDER) if state in lagging]
    count = sum(len(names) for names in lagging.values())
    sentences = [
        ngettext(
            "%(count)s priority country is not active.",
            "%(count)s priority countries are not active.",
            count,
        )
        % {"count": count},
        *(_lagging_sentence(state, names) for state, names in by_state),
        ngettext(
            "%(count)s other country is active (for example %(examples)s).",
            "%(count)s other countries are active (for example %(examples)s).",
            len(others),
        )
        % {"count": len(others), "examples": ", ".join(others[:3])},
    ]
    text = " ".join(sentences)
    return GapGroup(platform=platform, by_state=by_state, others=len(others), examples=others[:3], text=text)


def coverage_findings(report: Coverage, *, priority_count: int, scope: set[str] | None) -> list[Finding]:
    """The summary the page opens with: the worst gaps, the silent countries and channels,
    the unused platforms, the widest presence. Each finding links to its details."""
    if not report.rows:
        return [Finding(gettext("No post matches these filters."), "presence-heading")]
    findings = []
    if report.gap_groups:
        countries = len(
            {name for group in report.gap_groups for _s, names in group.by_state for name in names}
        )
        per_platform = ", ".join(
            gettext("%(count)s on %(platform)s") % {"count": group.count, "platform": group.platform}
            for group in report.gap_groups
        )
        findings.append(
            Finding(
                ngettext(
                    "%(count)s priority country is not active where other countries are: %(list)s.",
                    "%(count)s priority countries are not active where other countries are: %(list)s.",
                    countries,
                )
                % {"count": countries, "list": per_platform},
                "gaps-heading",
            )
        )
    elif priority_count:
        findings.append(
            Finding(
                gettext("Every priority country is active wherever other countries are."), "priority-heading"
            )
        )
    else:
        findings.append(
            Finding(
                gettext("No priority country yet: add them below to see where they lag."), "priority-heading"
            )
        )
    quiet = sorted(
        name for region in report.regions for _c, name, states, _r in region.countries if ACTIVE not in states
    )
    total = sum(len(region.countries) for region in report.regions)
    if quiet:
        findings.append(
            Finding(
                ngettext(
                    "%(count)s of %(total)s countries with a post published nothing in 30 days: %(names)s.",
                    "%(count)s of %(total)s countries with a post published nothing in 30 days: %(names)s.",
                    len(quiet),
                )
                % {"count": len(quiet), "total": total, "names": _names(quiet)},
                "presence-heading",
            )
        )
    silent, inactive = report.channel_states.get(SILENT, 0), report.channel_states.get(INACTIVE, 0)
    if silent or inactive:
        sentences = []
        if silent:
            sentences.append(
                ngettext(
                    "%(count)s channel is silent for 30 days.",
                    "%(count)s channels are silent for 30 days.",
                    silent,
                )
                % {"count": number_format(silent)}
            )
        if inactive:
            sentences.append(
                ngettext(
                    "%(count)s channel is switched off.", "%(count)s channels are switched off.", inactive
                )
                % {"count": number_format(inactive)}
            )
        findings.append(Finding(" ".join(sentences), "platforms-heading"))
    if report.unused:
        findings.append(
            Finding(
                ngettext(
                    "%(count)s platform unused: %(names)s.",
                    "%(count)s platforms unused: %(names)s.",
                    len(report.unused),
                )
                % {"count": len(report.unused), "names": ", ".join(report.unused)},
                "platforms-heading",
            )
        )
    widest = max(report.shown_totals, key=lambda total: total[ACTIVE], default=None)
    if widest and widest[ACTIVE]:
        findings.append(
            Finding(
                gettext("Widest presence: %(platform)s, active at %(count)s of %(total)s posts.")
                % {"platform": widest["platform"], "count": widest[ACTIVE], "total": len(report.rows)},
                "platforms-heading",
            )
        )
    return findings


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
