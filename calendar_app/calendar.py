"""The calendar's windows: month grid, week grid, agenda; a fixed number of queries each.

A page draws per-day (or per-hour) counts and the first few publications of
each cell, selected in the database with a window function over an indexed
time range; nothing outside the window is read, and no cell is loaded whole.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, F, OrderBy, Prefetch, QuerySet, Window
from django.db.models.functions import ExtractHour, RowNumber, TruncDate

from calendar_app import permissions
from calendar_app.models import Publication, PublicationStatus
from calendar_app.models.publications import NEEDS_A_CHECK_LABEL, has_unknown_delivery
from diplomacy import roles
from diplomacy.formats import format_time, utc_offset, zone_place
from diplomacy.models import Channel, Platform, Post
from diplomacy.roles import AnyUser

#: How many publications a cell lists before "+N more".
CELL_LIMIT = 3
AGENDA_PAGE_SIZE = 50
#: "post" shows each publication at its post's local time.
POST_ZONE = "post"
#: `scope=network`: post staff see the whole network (their default is their own post).
NETWORK_SCOPE = "network"
#: Filters that say whose publications to show: when one is set, no default scope applies.
WHOSE_FILTERS = ("post", "country", "region")


@dataclass
class Cell:
    day: date
    hour: int | None = None
    items: list[Publication] = field(default_factory=list)
    total: int = 0
    in_month: bool = True

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)

    @property
    def iso(self) -> str:
        """The day as 2026-03-10, for links and data attributes (cheaper than the date filter)."""
        return self.day.isoformat()


@dataclass
class DayRange:
    """The days a view covers, in the display zone."""

    first: date
    last: date  # inclusive

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def month_window(anchor: date) -> DayRange:
    """Whole weeks (Monday first) covering the month of `anchor`."""
    first_of_month = anchor.replace(day=1)
    next_month = (first_of_month + timedelta(days=32)).replace(day=1)
    last_of_month = next_month - timedelta(days=1)
    start = first_of_month - timedelta(days=first_of_month.weekday())
    end = last_of_month + timedelta(days=6 - last_of_month.weekday())
    return DayRange(start, end)


def week_window(anchor: date) -> DayRange:
    start = anchor - timedelta(days=anchor.weekday())
    return DayRange(start, start + timedelta(days=6))


def _instant(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min).replace(tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(UTC)


def in_window(queryset: QuerySet[Publication], window: DayRange, zone: str) -> QuerySet[Publication]:
    """Restrict to the window's days: by post-local date, or by instant in `zone`."""
    if zone == POST_ZONE:
        return queryset.filter(local_date__gte=window.first, local_date__lte=window.last)
    return queryset.filter(
        scheduled_at__gte=_instant(window.first, zone),
        scheduled_at__lt=_instant(window.last + timedelta(days=1), zone),
    )


def _day_expression(zone: str) -> F | TruncDate:
    if zone == POST_ZONE:
        return F("local_date")
    return TruncDate("scheduled_at", tzinfo=zoneinfo.ZoneInfo(zone))


def _hour_expression(zone: str) -> ExtractHour:
    if zone == POST_ZONE:
        return ExtractHour("local_time")
    return ExtractHour("scheduled_at", tzinfo=zoneinfo.ZoneInfo(zone))


def _order(zone: str) -> list[OrderBy]:
    if zone == POST_ZONE:
        return [F("local_time").asc(), F("pk").asc()]
    return [F("scheduled_at").asc(), F("pk").asc()]


def for_display(queryset: QuerySet[Publication]) -> QuerySet[Publication]:
    """Only what a calendar entry draws: title, time, status, post, campaign, channels."""
    return (
        queryset.select_related("post", "campaign")
        .annotate(has_unknown_delivery=has_unknown_delivery())
        .only(
            "pk",
            "title",
            "status",
            "kind",
            "local_date",
            "local_time",
            "timezone",
            "scheduled_at",
            "revision",
            # The hold/missed badge: without these, each entry would load them one query at a time.
            "held_by",
            "missed_in",
            "post__code",
            "post__name",
            "post__city",
            "campaign__name",
            "campaign__colour",
        )
        .prefetch_related(
            Prefetch("channels", queryset=Channel.objects.only("pk", "platform", "handle", "post_id"))
        )
    )


def month_cells(
    queryset: QuerySet[Publication], anchor: date, zone: str
) -> tuple[DayRange, list[list[Cell]]]:
    """Weeks of day cells for the month of `anchor`: counts plus the first few of each day."""
    window = month_window(anchor)
    cells = _cells(queryset, window, zone, by_hour=False)
    days = window.days()
    grid = []
    for start in range(0, len(days), 7):
        week = []
        for day in days[start : start + 7]:
            cell = cells.get((day, None)) or Cell(day)
            cell.in_month = day.month == anchor.month
            week.append(cell)
        grid.append(week)
    return window, grid


def week_cells(
    queryset: QuerySet[Publication], anchor: date, zone: str
) -> tuple[DayRange, list[tuple[int, list[Cell]]]]:
    """Rows of hours, each with a cell per day of the week of `anchor`."""
    window = week_window(anchor)
    cells = _cells(queryset, window, zone, by_hour=True)
    days = window.days()
    busy_hours = {hour for (_day, hour) in cells}
    hours = sorted(busy_hours | set(range(8, 19)))
    rows = [(hour, [cells.get((day, hour)) or Cell(day, hour) for day in days]) for hour in hours]
    return window, rows


def _cells(
    queryset: QuerySet[Publication], window: DayRange, zone: str, *, by_hour: bool
) -> dict[tuple, Cell]:
    scoped = in_window(queryset, window, zone)
    day = _day_expression(zone)
    partition = [day, _hour_expression(zone)] if by_hour else [day]
    # Query 1: how many per cell.
    count_fields: dict[str, F | TruncDate | ExtractHour] = {"cell_day": day}
    if by_hour:
        count_fields["cell_hour"] = _hour_expression(zone)
    counts = scoped.annotate(**count_fields).values(*count_fields).annotate(n=Count("pk")).order_by()
    cells: dict[tuple, Cell] = {}
    for row in counts:
        key = (_as_date(row["cell_day"]), row.get("cell_hour"))
        cells[key] = Cell(day=key[0], hour=key[1], total=row["n"])
    # Query 2 (+1 prefetch): the first CELL_LIMIT of each cell, ranked in the database. The
    # ranking reads only ids and times (a subquery); the display columns and joins are read
    # for the few rows it keeps, not for every row of the window.
    first_of_each_cell = (
        scoped.order_by()
        .annotate(cell_rank=Window(RowNumber(), partition_by=partition, order_by=_order(zone)))
        .filter(cell_rank__lte=CELL_LIMIT)
        .values("pk")
    )
    # An upper bound that never cuts (every cell full), telling the planner the subquery is
    # small: it then fetches the kept rows by primary key instead of scanning the table.
    cells_in_window = ((window.last - window.first).days + 1) * (24 if by_hour else 1)
    first_of_each_cell = first_of_each_cell[: cells_in_window * CELL_LIMIT]
    ranked = for_display(Publication.objects.filter(pk__in=first_of_each_cell)).annotate(cell_day=day)
    if by_hour:
        ranked = ranked.annotate(cell_hour=_hour_expression(zone))
    for publication in ranked.order_by(*_order(zone)):
        key = (_as_date(publication.cell_day), getattr(publication, "cell_hour", None))
        cell = cells.setdefault(key, Cell(day=key[0], hour=key[1]))
        cell.items.append(publication)
    return cells


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value


def agenda(
    queryset: QuerySet[Publication], start: date, zone: str, *, days: int | None = None
) -> QuerySet[Publication]:
    """Publications from `start` on (or for `days` days), in time order, for a paginator."""
    scoped = queryset
    if zone == POST_ZONE:
        scoped = scoped.filter(local_date__gte=start)
        if days:
            scoped = scoped.filter(local_date__lt=start + timedelta(days=days))
        return for_display(scoped).order_by("local_date", "local_time", "pk")
    scoped = scoped.filter(scheduled_at__gte=_instant(start, zone))
    if days:
        scoped = scoped.filter(scheduled_at__lt=_instant(start + timedelta(days=days), zone))
    return for_display(scoped).order_by("scheduled_at", "pk")


def label_entries(items: list[Publication], zone: str) -> None:
    """What each calendar entry writes, worked out once per request rather than per lookup in
    the template: `status_label` (get_status_display), `platform_labels` (its channels'
    platforms), `time_label` (the time in the display zone, or the post's local time) and
    `zone_label` (the offset, and the zone's place when it is not the post's)."""
    status_labels = {value: str(label) for value, label in PublicationStatus.choices}
    # A delivery's outcome unknown: "Needs a check", not "Approved" (the flag for_display annotates).
    needs_a_check = str(NEEDS_A_CHECK_LABEL)
    platform_labels = {value: str(label) for value, label in Platform.choices}
    display_zone = None if zone == POST_ZONE else zoneinfo.ZoneInfo(zone)
    for item in items:
        item.status_label = (
            needs_a_check
            if getattr(item, "has_unknown_delivery", False)
            else status_labels.get(item.status, item.status)
        )
        item.platform_labels = [platform_labels.get(c.platform, c.platform) for c in item.channels.all()]
        if display_zone is None:
            item.time_label = format_time(item.local_time)
        else:
            item.time_label = format_time(item.scheduled_at.astimezone(display_zone).replace(tzinfo=None))
        # Beside the post's city: "(UTC+3)" for the post's own time, "(Brussels, UTC+1)" for
        # another zone's, with the offset at that instant.
        if display_zone is None:
            item.zone_label = f"({utc_offset(item.timezone, item.scheduled_at)})"
        elif zone_place(zone) == "UTC":
            item.zone_label = "(UTC)"
        else:
            item.zone_label = f"({zone_place(zone)}, {utc_offset(zone, item.scheduled_at)})"


def mark_movable(items: list[Publication], user: AnyUser) -> None:
    """Set `can_move` on each entry: whether `user` may reschedule it (the rule the move
    itself checks), so that a page offers a drag only where the server accepts the drop.
    Reads no row: roles are cached on the user and entries carry their post."""
    for item in items:
        # A missed publication is moved too: a drop gives it a new time (reschedule_missed).
        item.can_move = permissions.can_reschedule(user, item) or permissions.can_reschedule_missed(
            user, item
        )


def own_posts_by_default(user: AnyUser, query: Mapping[str, str]) -> list[Post]:
    """The posts a calendar narrows to when its address does not say whose publications to
    show: post staff see their own post first (one tap away from the whole network, with
    `scope=network`); central sees the network. Reads no row: roles are cached on the user."""
    if roles.is_central(user) or query.get("scope") == NETWORK_SCOPE:
        return []
    if any(query.get(name) for name in WHOSE_FILTERS):
        return []
    return roles.posts_of(user)


@dataclass
class AgendaDay:
    day: date
    items: list[Publication]


def agenda_days(items: list[Publication], zone: str) -> list[AgendaDay]:
    """An agenda page's entries grouped by day (post-local, or in the display zone), in order."""
    display_zone = None if zone == POST_ZONE else zoneinfo.ZoneInfo(zone)
    days: list[AgendaDay] = []
    for item in items:
        day = item.local_date if display_zone is None else item.scheduled_at.astimezone(display_zone).date()
        if not days or days[-1].day != day:
            days.append(AgendaDay(day, []))
        days[-1].items.append(item)
    return days
