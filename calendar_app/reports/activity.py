"""Activity: cadence against each channel's target, language mix and partner share per post."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from calendar_app.models import Publication, PublicationStatus, Variant, language_name
from calendar_app.reports.figures import Finding, bar_chart, rate
from calendar_app.reports.timing import MondayUTC, on_time_share, turnaround_figures, turnaround_ranks
from diplomacy import geography
from diplomacy.geography import country_of
from diplomacy.models import Channel, Post

#: A channel's cadence against its weekly target, worst first.
VERDICTS = ["silent", "below", "on_target", "above"]
VERDICT_LABELS = {
    "silent": gettext_lazy("silent"),
    "below": gettext_lazy("below target"),
    "above": gettext_lazy("above target"),
    "on_target": gettext_lazy("on target"),
}


@dataclass
class Fold:
    """One world region of a long table: its rows and a one-line summary of them."""

    region: str
    label: str
    rows: list[dict]
    summary: str


@dataclass
class Activity:
    weeks: list
    channels: list[dict]
    languages: list[dict]
    turnaround: list[dict]
    partner_share: list[dict]
    #: {"delivered": n, "on_time": n, "share": percent or None}
    on_time: dict = field(default_factory=dict)
    #: The three long tables folded by world region (see `fold_by_region`).
    channel_folds: list[Fold] = field(default_factory=list)
    language_folds: list[Fold] = field(default_factory=list)
    share_folds: list[Fold] = field(default_factory=list)
    #: The answer first: a few sentences, each linking to its details.
    findings: list[Finding] = field(default_factory=list)

    def csv_rows(self) -> tuple[list[str], list[list]]:
        """The cadence table: a row per channel."""
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

    def csv_tables(self) -> list[tuple[str, list[str], list[list]]]:
        """Every table of the page as (name, header, rows): cadence, languages, partner_share,
        turnaround and on_time, in the page's order. Codes, not labels: a file for machines."""
        languages = [
            [
                row["post"].code,
                " ".join(row["post"].publishing_language_list),
                row["total"],
                " ".join(f"{lang}:{share}" for lang, _n, share in row["mix"]),
                " ".join(row["missing"]),
                " ".join(row["outside"]),
            ]
            for row in self.languages
        ]
        share = [
            [row["post"].code, row["region"] or "", row["total"], row["from_partners"], row["share"]]
            for row in self.partner_share
        ]
        turnaround = [
            [row["week"].isoformat(), row["count"], row["median"], row["p90"]] for row in self.turnaround
        ]
        on_time = self.on_time or {}
        return [
            ("cadence", *self.csv_rows()),
            (
                "languages",
                ["post", "policy", "texts_published", "mix_percent", "policy_not_used", "outside_policy"],
                languages,
            ),
            ("partner_share", ["post", "world_region", "published", "from_partners", "share_percent"], share),
            ("turnaround", ["week", "decisions", "median_hours", "p90_hours"], turnaround),
            (
                "on_time",
                ["delivered", "on_time", "share_percent"],
                [[on_time.get("delivered", 0), on_time.get("on_time", 0), on_time.get("share")]],
            ),
        ]


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def activity(posts: QuerySet[Post], *, weeks: int, platform: str | None = None) -> Activity:
    """Per channel publications a week against target, language mix per post, regional
    share per post, approval turnaround per week: five queries."""
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
        # The week as an expression of values(), not an earlier annotate(): the same SQL,
        # and the type checker sees the column on the auto-created through model.
        .values("channel_id", week=MondayUTC("publication__scheduled_at"))
        .annotate(n=Count("publication_id"))
    )
    per_channel: dict[int, dict] = {}
    for weekly in counts:
        per_channel.setdefault(weekly["channel_id"], {})[weekly["week"]] = weekly["n"]
    channel_rows = []
    for channel in channels.order_by("post__name", "platform"):
        series = [per_channel.get(channel.pk, {}).get(week, 0) for week in week_list]
        exact = sum(series) / len(series)
        average = round(exact, 1)
        target = channel.weekly_target
        if sum(series[-4:]) == 0:
            verdict = "silent"  # one of VERDICTS
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
    for mixed in mix:
        per_post_languages.setdefault(mixed["publication__post_id"], {})[mixed["language"]] = mixed["n"]
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
                "mix": sorted(((lang, n, rate(n, total)) for lang, n in used.items()), key=lambda x: -x[1]),
                "missing": [lang for lang in policy if not used.get(lang)] if total else [],
                "outside": sorted(lang for lang in used if lang not in policy),
            }
        )
        shared = per_post_share.get(post.pk)
        if shared:
            share_rows.append(
                {
                    "post": post,
                    "total": shared["total"],
                    "from_partners": shared["from_partners"],
                    "share": rate(shared["from_partners"], shared["total"]),
                    "region": geography.region_of(country_of(post.country).code),
                }
            )
    # Approval turnaround: time from the revision sent to review to the decision, per week.
    turnaround = [
        {"week": week, **turnaround_figures(values)}
        for week, values in turnaround_ranks(post_ids, start, week_list)
    ]
    report = Activity(
        week_list, channel_rows, language_rows, turnaround, share_rows, on_time_share(post_ids, start)
    )
    fold_by_region(report)
    report.findings = activity_findings(report)
    return report


def _region_of(post: Post) -> str:
    return geography.region_of(country_of(post.country).code) or ""


def _folds(rows: list[dict], summary: Callable[[list[dict]], str]) -> list[Fold]:
    """Rows grouped by their post's world region, in geography.REGIONS order (no region last)."""
    by_region: dict[str, list[dict]] = {}
    for row in rows:
        by_region.setdefault(_region_of(row["post"]), []).append(row)
    labels = dict(geography.REGIONS)
    return [
        Fold(
            region,
            str(labels[region]) if region else gettext("Other"),
            by_region[region],
            summary(by_region[region]),
        )
        for region in [code for code, _label in geography.REGIONS] + [""]
        if region in by_region
    ]


def _verdict_counts(rows: list[dict]) -> str:
    """ "12 channels: 3 silent, 5 below target, 4 on target"."""
    counts = {verdict: sum(1 for row in rows if row["verdict"] == verdict) for verdict in VERDICTS}
    text = ngettext("%(count)s channel", "%(count)s channels", len(rows)) % {"count": len(rows)}
    parts = ", ".join(_verdict_count(v, counts[v]) for v in VERDICTS if counts[v])
    return gettext("%(where)s: %(states)s") % {"where": text, "states": parts} if parts else text


def _verdict_count(verdict: str, count: int) -> str:
    """ "3 below target", one whole phrase a verdict, so that each language agrees and orders it."""
    if verdict == "silent":
        # Translators: channels of a region, counted by their verdict; so are the next three.
        text = ngettext("%(count)s silent", "%(count)s silent", count)
    elif verdict == "below":
        text = ngettext("%(count)s below target", "%(count)s below target", count)
    elif verdict == "above":
        text = ngettext("%(count)s above target", "%(count)s above target", count)
    else:
        text = ngettext("%(count)s on target", "%(count)s on target", count)
    return text % {"count": count}


def _language_counts(rows: list[dict]) -> str:
    """ "9 posts: 3 posts leave out a policy language, 1 post uses languages outside it, 2 posts
    published nothing"."""
    text = ngettext("%(count)s post", "%(count)s posts", len(rows)) % {"count": len(rows)}
    parts = []
    missing = sum(1 for row in rows if row["missing"])
    outside = sum(1 for row in rows if row["outside"])
    nothing = sum(1 for row in rows if not row["total"])
    if missing:
        parts.append(
            ngettext(
                "%(count)s post leaves out a policy language",
                "%(count)s posts leave out a policy language",
                missing,
            )
            % {"count": missing}
        )
    if outside:
        parts.append(
            ngettext(
                "%(count)s post uses languages outside it",
                "%(count)s posts use languages outside it",
                outside,
            )
            % {"count": outside}
        )
    if nothing:
        parts.append(
            ngettext("%(count)s post published nothing", "%(count)s posts published nothing", nothing)
            % {"count": nothing}
        )
    return gettext("%(where)s: %(states)s") % {"where": text, "states": ", ".join(parts)} if parts else text


def _share_counts(rows: list[dict]) -> str:
    """ "9 posts published 120, of which 15 from partners (12.5 %)"."""
    total = sum(row["total"] for row in rows)
    partners = sum(row["from_partners"] for row in rows)
    return ngettext(
        "%(posts)s post published %(total)s, of which %(partners)s from partners (%(share)s %%)",
        "%(posts)s posts published %(total)s, of which %(partners)s from partners (%(share)s %%)",
        len(rows),
    ) % {
        "posts": len(rows),
        "total": number_format(total),
        "partners": number_format(partners),
        "share": number_format(rate(partners, total) or 0),
    }


def fold_by_region(report: Activity) -> None:
    """The cadence, language and partner tables, one fold per world region with its counts."""
    report.channel_folds = _folds(report.channels, _verdict_counts)
    report.language_folds = _folds(report.languages, _language_counts)
    report.share_folds = _folds(report.partner_share, _share_counts)


def activity_findings(report: Activity) -> list[Finding]:
    """The summary the activity page opens with: silent and off-target channels, languages left
    out, partner content relayed, how fast central decides and how much goes out on time."""
    findings = []
    channels = report.channels
    if not channels:
        findings.append(Finding(gettext("No active channel matches these filters."), "cadence-heading"))
    else:
        counts = {verdict: sum(1 for row in channels if row["verdict"] == verdict) for verdict in VERDICTS}
        if counts["silent"]:
            findings.append(
                Finding(
                    ngettext(
                        "%(count)s of %(total)s channels published nothing in the last four weeks.",
                        "%(count)s of %(total)s channels published nothing in the last four weeks.",
                        counts["silent"],
                    )
                    % {"count": number_format(counts["silent"]), "total": number_format(len(channels))},
                    "cadence-heading",
                )
            )
        findings.append(
            Finding(
                gettext(
                    "Against their weekly target: %(below)s channels below, %(on_target)s on target, "
                    "%(above)s above."
                )
                % {v: number_format(counts[v]) for v in ("below", "on_target", "above")},
                "cadence-heading",
            )
        )
    published = [row for row in report.languages if row["total"]]
    missing = [row for row in published if row["missing"]]
    if missing:
        left_out: dict[str, int] = {}
        for row in missing:
            for lang in row["missing"]:
                left_out[lang] = left_out.get(lang, 0) + 1
        most = max(sorted(left_out), key=lambda lang: left_out[lang])
        findings.append(
            Finding(
                ngettext(
                    "%(count)s of %(total)s posts that published left out a language of their policy "
                    "(most often %(language)s).",
                    "%(count)s of %(total)s posts that published left out a language of their policy "
                    "(most often %(language)s).",
                    len(missing),
                )
                % {"count": len(missing), "total": len(published), "language": language_name(most)},
                "languages-heading",
            )
        )
    quiet = len(report.languages) - len(published)
    if quiet:
        findings.append(
            Finding(
                ngettext(
                    "%(count)s post published nothing in these weeks.",
                    "%(count)s posts published nothing in these weeks.",
                    quiet,
                )
                % {"count": quiet},
                "languages-heading",
            )
        )
    if report.partner_share:
        total = sum(row["total"] for row in report.partner_share)
        partners = sum(row["from_partners"] for row in report.partner_share)
        none = sum(1 for row in report.partner_share if not row["from_partners"])
        findings.append(
            Finding(
                gettext(
                    "Regional partners' content: %(share)s %% of %(total)s publications; "
                    "%(none)s of %(posts)s posts relayed none."
                )
                % {
                    "share": number_format(rate(partners, total) or 0),
                    "total": number_format(total),
                    "none": none,
                    "posts": len(report.partner_share),
                },
                "share-heading",
            )
        )
    decided = [row for row in report.turnaround if row["count"]]
    if decided:
        last = decided[-1]
        findings.append(
            Finding(
                ngettext(
                    "Central decided %(count)s publication; in the week of %(week)s, a median of "
                    "%(median)s hours in review (90th percentile %(p90)s).",
                    "Central decided %(count)s publications; in the week of %(week)s, a median of "
                    "%(median)s hours in review (90th percentile %(p90)s).",
                    sum(row["count"] for row in decided),
                )
                % {
                    "count": number_format(sum(row["count"] for row in decided)),
                    "week": date_format(last["week"], "MONTH_DAY_FORMAT"),
                    "median": number_format(last["median"]),
                    "p90": number_format(last["p90"]),
                },
                "turnaround-heading",
            )
        )
    if report.on_time.get("delivered"):
        findings.append(
            Finding(
                gettext("Delivered on time: %(share)s %% (%(on_time)s of %(delivered)s).")
                % {
                    "share": number_format(report.on_time["share"]),
                    "on_time": number_format(report.on_time["on_time"]),
                    "delivered": number_format(report.on_time["delivered"]),
                },
                "turnaround-heading",
            )
        )
    return findings
