"""Activity: cadence against each channel's target, language mix and partner share per post."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from calendar_app.models import Publication, PublicationStatus, Variant
from calendar_app.reports.figures import bar_chart, rate
from calendar_app.reports.timing import MondayUTC, on_time_share, turnaround_figures, turnaround_ranks
from diplomacy import geography
from diplomacy.geography import country_of
from diplomacy.models import Channel, Post


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
    return Activity(
        week_list, channel_rows, language_rows, turnaround, share_rows, on_time_share(post_ids, start)
    )
