"""Parsing the calendar's URL parameters: view, date and display zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app.calendar import POST_ZONE
from calendar_app.timezones import BRUSSELS, zone_or_none

VIEWS = ("month", "week", "agenda")
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class BadParameter(ValueError):
    """A calendar URL parameter that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class CalendarParams:
    view: str
    anchor: date
    zone: str
    span: str  # "" or "day" (agenda of one day, from a "+N more" link)

    @classmethod
    def from_query(cls, query: QueryDict) -> CalendarParams:
        view = query.get("view") or "month"
        if view not in VIEWS:
            raise BadParameter(_("Unknown view “%(view)s”: use month, week or agenda.") % {"view": view})
        raw_date = query.get("date")
        if raw_date:
            try:
                anchor = date.fromisoformat(raw_date)
            except ValueError as exc:
                raise BadParameter(
                    _("“%(date)s” is not a date: use YYYY-MM-DD.") % {"date": raw_date}
                ) from exc
            if not EARLIEST <= anchor <= LATEST:
                raise BadParameter(_("Choose a date between 2000 and 2100."))
        else:
            anchor = timezone.localdate(timezone=zone_or_none(BRUSSELS))
        zone = query.get("tz") or POST_ZONE
        if zone != POST_ZONE and zone_or_none(zone) is None:
            raise BadParameter(_("Unknown time zone “%(zone)s”.") % {"zone": zone})
        span = query.get("span", "")
        if span not in ("", "day"):
            raise BadParameter(_("Unknown span “%(span)s”.") % {"span": span})
        return cls(view=view, anchor=anchor, zone=zone, span=span)
