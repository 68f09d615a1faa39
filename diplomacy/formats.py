"""Dates, times and time zones as people read them, in the reader's language.

The one helper behind every date and time a person reads: pages (through the template
filters of diplomacy.templatetags.formats), messages and emails. Everything goes through
Django's localisation (`date_format` with the named formats of the active language,
settings.FORMAT_MODULE_PATH for the project's own), so a French reader gets "7 décembre
2026", a Dutch one "7 december 2026" and an English one "7 December 2026", never an ISO
date or a raw zone name.

A zone is named by its place with its UTC offset at the moment shown ("Istanbul (UTC+3)",
"Buenos Aires (UTC−3)", "Brussels (UTC+1)" in winter and "(UTC+2)" in summer): the offset
is that of the moment, so a time across a daylight-saving change says which side it is on.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, tzinfo

from django.utils import formats, timezone, translation
from django.utils.translation import gettext

#: Named styles of a date: Django's named formats of the active language, or a weekday
#: before the long date ("Monday 7 December 2026", "lundi 7 décembre 2026").
DATE_STYLES = {
    "long": "DATE_FORMAT",  # 7 December 2026
    "short": "SHORT_DATE_FORMAT",  # 7 Dec 2026, 7-12-2026, 07/12/2026
    "day": "MONTH_DAY_FORMAT",  # 7 December
    "month": "YEAR_MONTH_FORMAT",  # December 2026
    "weekday": "DATE_FORMAT",  # Monday 7 December 2026 (the weekday is added)
    "weekday_day": "MONTH_DAY_FORMAT",  # Monday 7 December (the weekday is added)
    # Where room is short (cards, rows): "Mon 7 Dec", "ma 7 dec", "lun 7 déc" (see below).
    "compact": "D j",
}

#: Languages that write month names with a capital: Django's "M" capitalises every
#: language's abbreviation ("7 Déc"), its "b" none ("7 dec" in English).
_CAPITAL_MONTHS = ("en", "de")

#: Zones that name no place: their label is the offset alone.
_PLACELESS = ("UTC", "GMT", "Etc/", "Zulu", "UCT", "Universal")

MINUS = "\u2212"  # the minus sign, not a hyphen: "UTC−3"


def _zone(name: str) -> tzinfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        return None


def format_date(value: date | datetime | None, style: str = "long") -> str:
    """A date in the reader's language; "" for None. `style` is a key of DATE_STYLES.

    An aware datetime is read in its own zone (convert it first: `astimezone`); the template
    filters convert to the page's zone first, as Django's |date does."""
    if value is None:
        return ""
    name = DATE_STYLES.get(style, "DATE_FORMAT")
    text = formats.date_format(value, name)
    if style == "compact":
        capital = (translation.get_language() or "en").split("-")[0] in _CAPITAL_MONTHS
        text = f"{text} {formats.date_format(value, 'M' if capital else 'b')}"
    if style.startswith("weekday"):
        text = f"{formats.date_format(value, 'l')} {text}"
    return text


def format_time(value: time | datetime | None) -> str:
    """A time of day in the reader's language (24-hour in nl, fr and en); "" for None."""
    if value is None:
        return ""
    return formats.time_format(value, "TIME_FORMAT")


def utc_offset(zone_name: str, at: datetime | None = None) -> str:
    """ "UTC+3", "UTC−3", "UTC+5:30", "UTC+0": the offset of `zone_name` at the instant `at`
    (now by default); "" when the zone is unknown."""
    zone = _zone(zone_name)
    if zone is None:
        return ""
    moment = at or timezone.now()
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=UTC)
    offset = moment.astimezone(zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = MINUS if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_place(zone_name: str) -> str:
    """The place a zone is named after, as people say "Istanbul time": "Buenos Aires" for
    America/Argentina/Buenos_Aires, translated where the catalogue has the name; "UTC" for
    the zones that name no place; an unknown name is returned as it is."""
    if _zone(zone_name) is None:
        return zone_name
    if zone_name.startswith(_PLACELESS):
        return "UTC"
    return gettext(zone_name.rsplit("/", 1)[-1].replace("_", " "))


def zone_label(zone_name: str, at: datetime | None = None) -> str:
    """ "Istanbul (UTC+3)": the zone's place and its UTC offset at the instant `at` (now by
    default). A zone without a place is its offset alone ("UTC"); an unknown name stays as
    it is (a person can still read what was stored)."""
    offset = utc_offset(zone_name, at)
    if not offset:
        return zone_name
    place = zone_place(zone_name)
    if place == "UTC":
        return "UTC" if offset == "UTC+0" else offset
    return f"{place} ({offset})"


def format_datetime(value: datetime | None, zone: str | None = "UTC", style: str = "long") -> str:
    """An instant as read in `zone`, named: "7 December 2026 08:34 Istanbul (UTC+3)".

    `zone` None shows it in its own zone without naming it (for a sentence that names it
    already). `style` "short" gives "7 Dec 2026 08:34"; "" for None.
    """
    if value is None:
        return ""
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    tz = _zone(zone) if zone else None
    local = value.astimezone(tz) if tz is not None else value
    text = f"{format_date(local, style)} {format_time(local)}"
    if zone:
        text = f"{text} {zone_label(zone, value)}"
    return text


def format_when(
    local_date: date | None, local_time: time | None, zone: str | None, style: str = "long"
) -> str:
    """A post-local wall time with its zone: "Monday 7 December 2026, 10:00 Istanbul (UTC+3)"
    with style "weekday"; the offset is the one in force at that wall time."""
    if local_date is None:
        return ""
    text = format_date(local_date, style)
    if local_time is not None:
        text = f"{text}, {format_time(local_time)}"
    if zone:
        tz = _zone(zone)
        at = datetime.combine(local_date, local_time or time(12), tzinfo=tz) if tz else None
        text = f"{text} {zone_label(zone, at)}"
    return text
