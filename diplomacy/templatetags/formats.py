"""Template filters over diplomacy.formats: every date, time and zone a page shows.

as_date, as_time and as_moment read an instant in the page's zone (a `{% timezone %}` block's,
or the one a |timezone or |utc filter gave it), as Django's |date and |time do.

{% load formats %}
{{ proposal.window_ends_on|as_date }}           7 December 2026
{{ day|as_date:"weekday" }}                     Monday 7 December 2026
{{ publication.local_time|as_time }}            10:00
{{ event.created_at|as_datetime }}              7 December 2026 08:34 UTC
{{ event.created_at|as_datetime:post.timezone }} ... Istanbul (UTC+3)
{{ publication|as_when }}                       7 December 2026, 10:00 Istanbul (UTC+3)
{{ post.timezone|zone_label }}                  Istanbul (UTC+3) (the offset now)
{{ post.timezone|zone_label:moment }}           the offset at `moment`
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import template

from diplomacy import formats

register = template.Library()


@register.filter(expects_localtime=True)
def as_date(value: date | datetime | None, style: str = "long") -> str:
    if value in (None, ""):
        return ""
    return formats.format_date(value, style)


@register.filter(expects_localtime=True)
def as_time(value: time | datetime | None) -> str:
    if value in (None, ""):
        return ""
    return formats.format_time(value)


@register.filter
def as_datetime(value: datetime | None, zone: str = "UTC") -> str:
    """An instant in `zone` (UTC by default), the zone named after it."""
    if value in (None, ""):
        return ""
    return formats.format_datetime(value, zone or "UTC")


@register.filter(expects_localtime=True)
def as_moment(value: datetime | None, style: str = "long") -> str:
    """An instant in the active zone (a `{% timezone %}` block's), not named: for a sentence
    that names the zone itself."""
    if value in (None, ""):
        return ""
    return formats.format_datetime(value, None, style)


@register.filter
def as_when(item: Any, style: str = "long") -> str:
    """The post-local time of anything with `local_date`, `local_time` and `timezone`
    (a publication), with its zone and the offset at that time."""
    if item in (None, ""):
        return ""
    local_date = getattr(item, "local_date", None)
    local_time = getattr(item, "local_time", None)
    return formats.format_when(local_date, local_time, getattr(item, "timezone", ""), style)


@register.filter
def zone_label(zone_name: str, at: datetime | None = None) -> str:
    if not zone_name:
        return ""
    return formats.zone_label(str(zone_name), at if isinstance(at, datetime) else None)


@register.filter
def zone_place(zone_name: str) -> str:
    return formats.zone_place(str(zone_name)) if zone_name else ""


@register.filter
def utc_offset(zone_name: str, at: datetime | None = None) -> str:
    """ "UTC+3": beside a post's city, which names the place already."""
    if not zone_name:
        return ""
    return formats.utc_offset(str(zone_name), at if isinstance(at, datetime) else None)
