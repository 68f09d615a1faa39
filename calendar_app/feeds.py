"""Personal calendar feeds (RFC 5545), made with the icalendar library.

Times are written in UTC (no VTIMEZONE needed); each publication keeps one
UID for its whole life, and SEQUENCE (its revision) plus LAST-MODIFIED tell
clients to update their copy.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from calendar_app.models import Publication, Variant

#: A feed covers the recent past and the coming year.
PAST_DAYS = 30
FUTURE_DAYS = 365
#: How long a calendar entry lasts (a publication is an instant).
ENTRY_MINUTES = 15
UID_DOMAIN = "content-calendar"


def feed_publications(queryset: QuerySet) -> QuerySet:
    now = timezone.now()
    return (
        queryset.between(now - timedelta(days=PAST_DAYS), now + timedelta(days=FUTURE_DAYS))
        .select_related("post")
        .only(
            "pk",
            "title",
            "status",
            "kind",
            "scheduled_at",
            "updated_at",
            "created_at",
            "revision",
            "post__name",
            "post__code",
        )
        .order_by("scheduled_at", "pk")
    )


def feed_texts(publications: QuerySet) -> dict[int, list[tuple[str, str]]]:
    """Every variant of the feed's publications in one query, by publication, languages in order.

    (A prefetch with a chunked iterator would cost one query per chunk: the query
    count would grow with the data.)
    """
    texts: dict[int, list[tuple[str, str]]] = {}
    rows = (
        Variant.objects.filter(publication__in=publications.values("pk"))
        .order_by("publication_id", "language")
        .values_list("publication_id", "language", "text")
    )
    for publication_id, language, text in rows.iterator(chunk_size=5000):
        texts.setdefault(publication_id, []).append((language, text))
    return texts


def build_feed(queryset: QuerySet, *, base_url: str) -> bytes:
    """The ICS document for the publications of `queryset` in the feed's window."""
    cal = Calendar()
    cal.add("prodid", "-//Diplomatic network content calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Content calendar")
    stamp = timezone.now()
    root = base_url.rstrip("/")
    publications = feed_publications(queryset)
    texts = feed_texts(publications)
    for publication in publications.iterator(chunk_size=5000):
        cal.add_component(_event(publication, texts.get(publication.pk, []), stamp, root))
    return cal.to_ical()


def _event(publication: Publication, texts: list[tuple[str, str]], stamp, root: str) -> Event:
    event = Event()
    event.add("uid", f"publication-{publication.pk}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", publication.scheduled_at)
    event.add("dtend", publication.scheduled_at + timedelta(minutes=ENTRY_MINUTES))
    event.add("summary", f"{publication.title} ({publication.post.name})")
    description = "\n\n".join(f"[{language}] {text}" for language, text in texts)
    status_line = f"Status: {publication.get_status_display()}"
    event.add("description", f"{status_line}\n\n{description}" if description else status_line)
    event.add("url", root + reverse("publication_detail", args=[publication.pk]))
    event.add("sequence", publication.revision)
    event.add("last-modified", publication.updated_at)
    event.add("created", publication.created_at)
    event.add("status", "CANCELLED" if publication.status == "cancelled" else "CONFIRMED")
    return event
