"""Reports that count publications and proposals; aggregates in the database, a fixed
number of queries whatever the amount of data."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db.models import Count, DateField, FloatField, Func, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.http import HttpResponse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy

from calendar_app.models import ProposalStatus, Publication, PublicationStatus
from diplomacy import geography
from diplomacy.models import Partner

#: How far back the regional-content trend goes.
TREND_MONTHS = 6


@dataclass
class RegionalShare:
    partners: list[dict]
    regions: list[dict]
    posts: list[dict]
    #: [(month, [count per world region, in geography.REGIONS order])]
    trend: list[tuple] = field(default_factory=list)

    def csv_rows(self) -> tuple[list[str], list[list]]:
        header = [
            "partner",
            "region",
            "proposals",
            "accepted",
            "declined",
            "acceptance_rate",
            "adoptions",
            "adopting_posts",
            "published",
        ]
        rows = [
            [
                p["code"],
                p["region"],
                p["proposals"],
                p["accepted"],
                p["declined"],
                p["acceptance_rate"],
                p["adoptions"],
                p["adopting_posts"],
                p["published"],
            ]
            for p in self.partners
        ]
        return header, rows


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def regional_share() -> RegionalShare:
    """Proposals per partner and region, acceptance and adoption, partner-origin publications."""
    sent = Q(proposals__submitted_at__isnull=False)
    adopted = ~Q(proposals__publications__status=PublicationStatus.CANCELLED)
    partners = Partner.objects.annotate(
        proposals_sent=Count("proposals", filter=sent, distinct=True),
        accepted=Count("proposals", filter=Q(proposals__status=ProposalStatus.ACCEPTED), distinct=True),
        declined=Count("proposals", filter=Q(proposals__status=ProposalStatus.DECLINED), distinct=True),
        adoptions=Count("proposals__publications", filter=adopted, distinct=True),
        adopting_posts=Count("proposals__publications__post", filter=adopted, distinct=True),
        published=Count(
            "proposals__publications",
            filter=Q(proposals__publications__status=PublicationStatus.PUBLISHED),
            distinct=True,
        ),
    ).order_by("region", "name")
    partner_rows = []
    regions: dict[str, dict] = {}
    for partner in partners:
        row = {
            "code": partner.code,
            "name": partner.name,
            "region": partner.region,
            "region_label": partner.get_region_display(),
            "proposals": partner.proposals_sent,
            "accepted": partner.accepted,
            "declined": partner.declined,
            "acceptance_rate": _rate(partner.accepted, partner.accepted + partner.declined),
            "adoptions": partner.adoptions,
            "adopting_posts": partner.adopting_posts,
            "published": partner.published,
        }
        partner_rows.append(row)
        total = regions.setdefault(
            partner.region,
            {
                "region": partner.region,
                "label": partner.get_region_display(),
                "proposals": 0,
                "accepted": 0,
                "declined": 0,
                "adoptions": 0,
                "published": 0,
            },
        )
        for key in ("proposals", "accepted", "declined", "adoptions", "published"):
            total[key] += row[key]
    for total in regions.values():
        total["acceptance_rate"] = _rate(total["accepted"], total["accepted"] + total["declined"])

    from_partners = Publication.objects.filter(proposal__isnull=False).exclude(
        status=PublicationStatus.CANCELLED
    )
    posts = (
        from_partners.values("post__code", "post__name", "post__country")
        .annotate(total=Count("pk"), published=Count("pk", filter=Q(status=PublicationStatus.PUBLISHED)))
        .order_by("-total", "post__name")[:50]
    )
    since = (timezone.now() - timedelta(days=31 * TREND_MONTHS)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    monthly = (
        from_partners.filter(scheduled_at__gte=since)
        .annotate(month=TruncMonth("scheduled_at"))
        .values("month", "post__country")
        .annotate(n=Count("pk"))
        .order_by("month")
    )
    trend: dict = {}
    for row in monthly:
        month = row["month"].date() if hasattr(row["month"], "date") else row["month"]
        region = geography.region_of(row["post__country"]) or "other"
        trend.setdefault(month, {}).setdefault(region, 0)
        trend[month][region] += row["n"]
    order = [code for code, _label in geography.REGIONS]
    return RegionalShare(
        partners=partner_rows,
        regions=list(regions.values()),
        posts=list(posts),
        trend=[(month, [counts.get(code, 0) for code in order]) for month, counts in sorted(trend.items())],
    )


def spreadsheet_safe(value):
    """A cell a spreadsheet will not run: text starting like a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and looks_like_a_formula(value):
        return "'" + value
    return value


def looks_like_a_formula(text: str) -> bool:
    """=, + and - start formulas; @ too, but a handle such as @BelgiumInTurkey is left alone."""
    return text[:1] in ("=", "+", "-") or (text[:1] == "@" and "(" in text)


def csv_response(filename: str, header: list[str], rows: list[list]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_safe(value) for value in row])
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Coverage: where the network is present, active, silent or absent -----------------------

ACTIVE, SILENT, INACTIVE, ABSENT = "active", "silent", "inactive", "absent"
#: Best first: a country's state on a platform is the best of its posts'.
STATE_ORDER = [ACTIVE, SILENT, INACTIVE, ABSENT]
SILENT_AFTER_DAYS = 30


@dataclass
class CoverageRow:
    post: object
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
            [row.post.code, row.post.name, row.post.country.code, row.region, row.post.kind, *row.states]
            for row in self.rows
        ]
        return header, rows


def _best(states: list[str]) -> str:
    return min(states, key=STATE_ORDER.index) if states else ABSENT


def coverage(posts, platforms: list[tuple[str, str]], scope: set[str] | None = None) -> Coverage:
    """Posts x platforms, grouped by world region and country; three queries.

    `scope`: the countries the selection covers (None: the whole world); priority
    countries outside it are not judged.
    """
    from django.db.models import BooleanField, ExpressionWrapper

    from calendar_app.models import PriorityCountry
    from diplomacy.models import Channel

    posts = list(posts.order_by("country", "city", "name"))
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
        Channel.objects.filter(post__in=[p.pk for p in posts])
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
            region=geography.region_of(post.country.code) or "",
            states=[by_post.get(post.pk, {}).get(code, ABSENT) for code in codes],
        )
        for post in posts
    ]
    totals = [
        {"platform": label, **{state: sum(1 for r in rows if r.states[i] == state) for state in STATE_ORDER}}
        for i, (_code, label) in enumerate(platforms)
    ]
    # Group: world region -> country -> posts; a country's state is the best of its posts'.
    groups: dict[str, dict[str, list[CoverageRow]]] = {}
    for row in rows:
        groups.setdefault(row.region, {}).setdefault(row.post.country.code, []).append(row)
    region_labels = dict(geography.REGIONS)
    # Each country's name translated once: a translated name costs a catalogue lookup, and
    # the grouping and the gaps below ask for it once per post and platform.
    country_names = {
        code: str(c_rows[0].post.country.name)
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
    priority = {p.country.code: p for p in PriorityCountry.objects.all()}
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
                gaps.append(_gap_message(entry.country.name, label, state, present_elsewhere))
    return Coverage(platforms, rows, grouped, totals, country_states, gaps)


def _gap_message(country: str, platform: str, state: str, others: list[str]) -> str:

    examples = ", ".join(others[:3])
    from django.utils.translation import ngettext

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


# --- Activity: cadence, language mix, regional share, turnaround ---------------------------


@dataclass
class Activity:
    weeks: list
    channels: list[dict]
    languages: list[dict]
    turnaround: list[dict]
    partner_share: list[dict]
    #: {"delivered": n, "on_time": n, "share": percent or None}
    on_time: dict = field(default_factory=dict)

    def csv_rows(self) -> tuple[list[str], list[list]]:
        header = [
            "post",
            "platform",
            "handle",
            "weekly_target",
            *[w.isoformat() for w in self.weeks],
            "average",
            "verdict",
        ]
        rows = [
            [
                c["post"].code,
                c["platform"],
                c["handle"],
                c["target"],
                *c["counts"],
                c["average"],
                c["verdict"],
            ]
            for c in self.channels
        ]
        return header, rows


def _week_start(day) -> object:
    return day - timedelta(days=day.weekday())


def activity(posts, *, weeks: int, platform: str | None = None) -> Activity:
    """Per channel publications a week against target, language mix per post, regional
    share per post, approval turnaround per week: five queries."""
    from calendar_app.models import Variant
    from diplomacy.models import Channel

    today = timezone.localdate()
    first_week = _week_start(today) - timedelta(weeks=weeks - 1)
    week_list = [first_week + timedelta(weeks=n) for n in range(weeks)]
    start = datetime.combine(first_week, time.min, tzinfo=UTC)
    # A subquery, not a list of ids: one query fewer, and no list of every post's id in
    # each of the queries below.
    post_ids = posts.order_by().values("pk")
    # Only what a row shows: a channel also carries its connector's settings.
    channels = (
        Channel.objects.filter(post_id__in=post_ids, active=True)
        .select_related("post")
        .only("platform", "handle", "weekly_target", "post__code", "post__name", "post__country")
    )
    if platform:
        channels = channels.filter(platform=platform)
    through = Publication.channels.through
    counts = (
        # The channel conditions as a join, not `channel__in=channels`: SQLite would probe its
        # (publication, channel) index once per publication and channel.
        through.objects.filter(
            channel__active=True,
            channel__post_id__in=post_ids,
            **({"channel__platform": platform} if platform else {}),
            publication__status=PublicationStatus.PUBLISHED,
            publication__scheduled_at__gte=start,
        )
        .annotate(week=MondayUTC("publication__scheduled_at"))
        .values("channel_id", "week")
        .annotate(n=Count("publication_id"))
    )
    per_channel: dict[int, dict] = {}
    for row in counts:
        per_channel.setdefault(row["channel_id"], {})[row["week"]] = row["n"]
    channel_rows = []
    for channel in channels.order_by("post__name", "platform"):
        series = [per_channel.get(channel.pk, {}).get(week, 0) for week in week_list]
        exact = sum(series) / len(series)
        average = round(exact, 1)
        target = channel.weekly_target
        if sum(series[-4:]) == 0:
            verdict = "silent"
        elif exact < target * 0.8:
            verdict = "below"
        elif exact > target * 1.2:
            verdict = "above"
        else:
            verdict = "on_target"
        channel_rows.append(
            {
                "post": channel.post,
                "platform": channel.platform,
                "platform_label": channel.get_platform_display(),
                "handle": channel.handle,
                "target": target,
                "counts": series,
                "average": average,
                "verdict": verdict,
                "chart": bar_chart(series, target),
            }
        )
    # Language mix per post: variants of published publications in the window.
    mix = (
        Variant.objects.filter(
            publication__post_id__in=post_ids,
            publication__status=PublicationStatus.PUBLISHED,
            publication__scheduled_at__gte=start,
        )
        .values("publication__post_id", "language")
        .annotate(n=Count("pk"))
    )
    per_post_languages: dict[int, dict[str, int]] = {}
    for row in mix:
        per_post_languages.setdefault(row["publication__post_id"], {})[row["language"]] = row["n"]
    share = (
        Publication.objects.filter(
            post_id__in=post_ids, status=PublicationStatus.PUBLISHED, scheduled_at__gte=start
        )
        .values("post_id")
        .annotate(total=Count("pk"), from_partners=Count("pk", filter=Q(proposal__isnull=False)))
    )
    per_post_share = {row["post_id"]: row for row in share}
    language_rows, share_rows = [], []
    for post in posts.order_by("name"):
        used = per_post_languages.get(post.pk, {})
        total = sum(used.values())
        policy = post.publishing_language_list
        language_rows.append(
            {
                "post": post,
                "total": total,
                "mix": sorted(((lang, n, _rate(n, total)) for lang, n in used.items()), key=lambda x: -x[1]),
                "missing": [lang for lang in policy if not used.get(lang)] if total else [],
                "outside": sorted(lang for lang in used if lang not in policy),
            }
        )
        row = per_post_share.get(post.pk)
        if row:
            share_rows.append(
                {
                    "post": post,
                    "total": row["total"],
                    "from_partners": row["from_partners"],
                    "share": _rate(row["from_partners"], row["total"]),
                    "region": geography.region_of(post.country.code),
                }
            )
    # Approval turnaround: time from the revision sent to review to the decision, per week.
    turnaround = [
        {"week": week, **_turnaround(values)}
        for week, values in _turnaround_ranks(post_ids, start, week_list)
    ]
    return Activity(
        week_list, channel_rows, language_rows, turnaround, share_rows, on_time_share(post_ids, start)
    )


def _turnaround_ranks(post_ids: QuerySet, start: datetime, week_list: list) -> list[tuple]:
    """[(week, (count, {rank: hours}))] with only the ranks the median and the 90th percentile
    read (four a week at most): the database sorts each week's decisions, whatever their number."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    from calendar_app.models import Review

    week = MondayUTC("created_at")
    ranked = (
        Review.objects.filter(created_at__gte=start, publication__post_id__in=post_ids)
        .order_by()
        .annotate(
            decided_week=week,
            position=Window(
                RowNumber(),
                partition_by=[week],
                order_by=[SecondsBetween("created_at", "revision__created_at").asc(), F("pk").asc()],
            ),
            decisions=Window(Count("pk"), partition_by=[week]),
        )
    )
    n = F("decisions")
    # 1-based ranks: the median's one or two middle values; statistics.quantiles' "inclusive"
    # 90th percentile interpolates between ranks j+1 and j+2, j = 9(n-1) div 10.
    picked = ranked.filter(
        Q(position=(n + 1) / 2)
        | Q(position=n / 2 + 1)
        | Q(position=9 * (n - 1) / 10 + 1)
        | Q(position=9 * (n - 1) / 10 + 2)
    ).values_list("decided_week", "decisions", "position", "created_at", "revision__created_at")
    per_week: dict = {}
    # The exact delay from the two instants, for the few rows kept.
    for decided_week, count, position, decided_at, submitted_at in picked:
        hours = max((decided_at - submitted_at).total_seconds() / 3600, 0)
        per_week.setdefault(decided_week, (count, {}))[1][position] = hours
    return [(week, per_week.get(week, (0, {}))) for week in week_list]


class MondayUTC(Func):
    """The Monday (UTC) starting a timestamp's week, as a date, in the database's own SQL:
    Django's date functions on SQLite are Python callbacks, one call per row."""

    output_field = DateField()

    def as_sqlite(self, compiler, connection, **extra):
        # Back six days, then forward to the next Monday: the Monday on or before.
        template = "date(%(expressions)s, '-6 days', 'weekday 1')"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = "(date_trunc('week', %(expressions)s AT TIME ZONE 'UTC'))::date"
        return self.as_sql(compiler, connection, template=template, **extra)


class SecondsBetween(Func):
    """Seconds from the second timestamp to the first, in the database's own SQL; an ordering
    key (SQLite's is a float of Julian days, exact to a few microseconds)."""

    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        template = "((julianday(%(expressions)s)) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=") - julianday(", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = "EXTRACT(EPOCH FROM (%(expressions)s))"
        return self.as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra)


def _turnaround(values: tuple[int, dict[int, float]]) -> dict:
    """Count, median and 90th percentile ("inclusive" method, as statistics.quantiles) of a
    week's hours in review, from the ranks _turnaround_ranks picked."""
    count, by_rank = values
    if not count:
        return {"count": 0, "median": None, "p90": None}
    middle = count // 2
    median = by_rank[middle + 1] if count % 2 else (by_rank[middle] + by_rank[middle + 1]) / 2
    if count > 1:
        j, delta = divmod(9 * (count - 1), 10)
        p90 = (by_rank[j + 1] * (10 - delta) + by_rank[j + 2] * delta) / 10
    else:
        p90 = by_rank[1]
    return {"count": count, "median": round(median, 1), "p90": round(p90, 1)}


#: Delivered within this of its time counts as on time (the scheduler polls every 30 s,
#: the publishing job every minute).
ON_TIME = timedelta(minutes=2)


def on_time_share(post_ids: QuerySet | list[int], start: datetime) -> dict:
    """Of the publications delivered through the engine since `start`, how many went out on
    time: every channel delivered within ON_TIME of the scheduled instant. One query."""
    from django.db.models import DurationField as Duration
    from django.db.models import ExpressionWrapper, F, Max

    delivered = (
        Publication.objects.filter(
            post_id__in=post_ids,
            status=PublicationStatus.PUBLISHED,
            scheduled_at__gte=start,
            deliveries__isnull=False,
        )
        .annotate(last=Max("deliveries__delivered_at"))
        .annotate(lateness=ExpressionWrapper(F("last") - F("scheduled_at"), output_field=Duration()))
    )
    totals = delivered.aggregate(
        delivered=Count("pk", distinct=True),
        on_time=Count("pk", filter=Q(lateness__lte=ON_TIME), distinct=True),
    )
    return {**totals, "share": _rate(totals["on_time"], totals["delivered"])}


def bar_chart(values: list[int], target: int | None = None, *, width: int = 120, height: int = 28) -> dict:
    """Geometry of a small bar chart (SVG drawn by the template), with an optional target line."""
    top = max([*values, target or 0, 1])
    step = width / max(len(values), 1)
    bars = [
        {
            "x": round(i * step + 1, 1),
            "width": round(step - 2, 1),
            "height": round(value / top * (height - 2), 1),
            "y": round(height - value / top * (height - 2), 1),
            "value": value,
        }
        for i, value in enumerate(values)
    ]
    line = round(height - (target or 0) / top * (height - 2), 1) if target else None
    return {"width": width, "height": height, "bars": bars, "target_y": line}


def bar_chart_svg(chart: dict, *, chart_id: str, title: str) -> SafeString:
    """The chart as inline SVG, the markup of _bar_chart.html written in Python: the activity
    page draws one per channel, hundreds, and a template loop per bar cost most of its time.
    Numbers are written as SVG needs them, never localised ("13.4", not "13,4")."""
    width, height, target = chart["width"], chart["height"], chart["target_y"]
    label = f"{escape(chart_id)}-title"
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{label}"><title id="{label}">{escape(title)}</title>'
    ]
    parts.extend(
        f'<rect class="bar" x="{bar["x"]}" y="{bar["y"]}" '
        f'width="{bar["width"]}" height="{bar["height"]}"></rect>'
        for bar in chart["bars"]
    )
    if target is not None:
        parts.append(f'<line class="target" x1="0" x2="{width}" y1="{target}" y2="{target}"></line>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - numbers and escaped text only
