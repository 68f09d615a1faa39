"""Timing: how long central takes to decide, and how much goes out on time.

Week buckets and durations are computed in the database's own SQL, a fixed number of
queries whatever the number of reviews.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import RowNumber

from calendar_app.models import Publication, PublicationStatus, Review
from calendar_app.reports.figures import rate

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

#: What a query expression compiles to: SQL and its parameters.
SqlAndParams = tuple[str, tuple[str | int, ...]]


def turnaround_ranks(post_ids: QuerySet, start: datetime, week_list: list) -> list[tuple]:
    """[(week, (count, {rank: hours}))] with only the ranks the median and the 90th percentile
    read (four a week at most): the database sorts each week's decisions, whatever their number."""
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

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> SqlAndParams:
        # Back six days, then forward to the next Monday: the Monday on or before.
        template = "date(%(expressions)s, '-6 days', 'weekday 1')"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        template = "(date_trunc('week', %(expressions)s AT TIME ZONE 'UTC'))::date"
        return self.as_sql(compiler, connection, template=template, **extra)


class SecondsBetween(Func):
    """Seconds from the second timestamp to the first, in the database's own SQL; an ordering
    key (SQLite's is a float of Julian days, exact to a few microseconds)."""

    output_field = FloatField()

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> SqlAndParams:
        template = "((julianday(%(expressions)s)) * 86400.0)"
        return self.as_sql(compiler, connection, template=template, arg_joiner=") - julianday(", **extra)

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> SqlAndParams:
        template = "EXTRACT(EPOCH FROM (%(expressions)s))"
        return self.as_sql(compiler, connection, template=template, arg_joiner=" - ", **extra)


def turnaround_figures(values: tuple[int, dict[int, float]]) -> dict:
    """Count, median and 90th percentile ("inclusive" method, as statistics.quantiles) of a
    week's hours in review, from the ranks turnaround_ranks picked."""
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
    delivered = (
        Publication.objects.filter(
            post_id__in=post_ids,
            status=PublicationStatus.PUBLISHED,
            scheduled_at__gte=start,
            deliveries__isnull=False,
        )
        .annotate(last=Max("deliveries__delivered_at"))
        .annotate(lateness=ExpressionWrapper(F("last") - F("scheduled_at"), output_field=DurationField()))
    )
    totals = delivered.aggregate(
        delivered=Count("pk", distinct=True),
        on_time=Count("pk", filter=Q(lateness__lte=ON_TIME), distinct=True),
    )
    return {**totals, "share": rate(totals["on_time"], totals["delivered"])}
