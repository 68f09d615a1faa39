"""Wall times in a post's zone: refuse the ones a daylight-saving change makes
nonexistent or ambiguous, instead of guessing (`make_aware` would accept 02:30
on a spring-forward day without a word)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from diplomacy.formats import format_date, format_time, zone_place

BRUSSELS = "Europe/Brussels"


def check_local_time(local_date: date, local_time: time, zone_name: str) -> datetime:
    """The UTC instant of `local_date local_time` in `zone_name`, or ValidationError.

    A wall time is nonexistent when the clocks jump over it (spring forward),
    ambiguous when they pass it twice (fall back): both are refused with a
    message naming the zone.
    """
    zone = zoneinfo.ZoneInfo(zone_name)
    wall = datetime.combine(local_date, local_time)
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        params = {
            "time": format_time(local_time),
            "date": format_date(local_date),
            "zone": zone_place(zone_name),
        }
        if round_trip != wall:
            raise ValidationError(
                _(
                    "%(time)s does not exist on %(date)s in %(zone)s: the clocks are put forward "
                    "then. Choose another time."
                )
                % params,
                code="nonexistent_time",
            )
        raise ValidationError(
            _(
                "%(time)s happens twice on %(date)s in %(zone)s: the clocks are put back then. "
                "Choose a time outside that hour."
            )
            % params,
            code="ambiguous_time",
        )
    return first.astimezone(UTC)


def zone_or_none(name: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
