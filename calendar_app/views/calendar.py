"""The shared calendar: month, week and agenda views, CSV export, personal ICS feeds."""

from __future__ import annotations

import csv
import zoneinfo
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import parse_etags
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calendar_app import calendar, feeds, permissions, reports
from calendar_app.filters import PublicationFilter
from calendar_app.models import (
    CalendarFeed,
    Campaign,
    Delivery,
    FilteredPage,
    Proposal,
    Publication,
    PublicationQuerySet,
    Variant,
)
from calendar_app.params import VIEWS, BadParameter, CalendarParams
from calendar_app.timezones import BRUSSELS
from calendar_app.views.filtering import filterset_for
from diplomacy import freshness, roles
from diplomacy.formats import zone_label
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Channel, Membership, Partner, Post, User
from diplomacy.roles import AnyUser

#: URL parameters that are not filters.
VIEW_PARAMETERS = ("view", "date", "tz", "span", "page", "format")
#: How many days an agenda export covers.
AGENDA_EXPORT_DAYS = 90


def filter_query(request: HttpRequest) -> str:
    """The filter part of the query string, to carry into links and feeds."""
    query = request.GET.copy()
    for key in VIEW_PARAMETERS:
        query.pop(key, None)
    return query.urlencode()


def zone_choices(user: AnyUser, current: str) -> list[tuple[str, str]]:
    """Each post's local time, Brussels, UTC, the zones of the user's posts, and the current one."""
    choices = [
        (calendar.POST_ZONE, _("Each post's local time")),
        (BRUSSELS, zone_label(BRUSSELS)),
        ("UTC", "UTC"),
    ]
    for zone in sorted({post.timezone for post in roles.posts_of(user)} | {current}):
        if zone not in dict(choices):
            choices.append((zone, zone_label(zone)))  # "Istanbul (UTC+3)", never the zone's id
    return choices


def view_choices() -> list[tuple[str, str]]:
    return [("month", _("Month")), ("week", _("Week")), ("agenda", _("Agenda"))]


def _navigation(params: CalendarParams) -> dict[str, date]:
    step = {"month": 31, "week": 7, "agenda": 1 if params.span == "day" else 7}[params.view]
    if params.view == "month":
        first = params.anchor.replace(day=1)
        previous = (first - timedelta(days=1)).replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
    else:
        previous = params.anchor - timedelta(days=step)
        following = params.anchor + timedelta(days=step)
    return {"previous": previous, "next": following}


#: The view last picked, kept in a cookie for the browser's session (a phone's way back to
#: the grid stays picked; a cookie, not the session table: no query, no write per page);
#: without one, the page shows the grid on wide screens and the agenda on narrow ones.
VIEW_COOKIE = "calendar_view"


def chosen_view(request: HttpRequest) -> str:
    """The view the address names, else the one picked earlier in this browser session,
    else "" (the page picks by the width of the screen)."""
    named = request.GET.get("view", "")
    if named:
        return named  # an unknown one is refused by CalendarParams, with a message
    kept = request.COOKIES.get(VIEW_COOKIE, "")
    return kept if kept in VIEWS else ""


def remember_view(request: HttpRequest, response: HttpResponse, view: str) -> None:
    """Keep a view named in the address for the browser session, except a day's agenda (a
    "+N more" link is a look, not a choice)."""
    if request.GET.get("view") != view or request.GET.get("span") or request.COOKIES.get(VIEW_COOKIE) == view:
        return
    response.set_cookie(
        VIEW_COOKIE,
        view,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _with(request: HttpRequest, **changes: str) -> str:
    """The current address with some parameters changed (an empty value removes it)."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value:
            query[key] = value
    return "?" + query.urlencode()


@login_required
def calendar_page(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    if not permissions.can_use_calendar(request.user):
        raise PermissionDenied
    view = chosen_view(request)
    query = request.GET.copy()
    query["view"] = view or "month"
    try:
        params = CalendarParams.from_query(query)
        if request.GET.get("scope", calendar.NETWORK_SCOPE) != calendar.NETWORK_SCOPE:
            raise BadParameter(_("Unknown scope: use scope=network, or leave it out."))
    except BadParameter as exc:
        return render(request, "calendar_app/bad_request.html", {"message": str(exc)}, status=400)
    # The page's own form keeps "no view" as no view: the width of the screen picks.
    page_params = params if view else replace(params, view="")
    visible = Publication.objects.visible_to(request.user)
    # Saved filters land in request.GET here: the own-post default below applies only when
    # neither the address nor the saved filters name a post, a country or a region.
    filterset = filterset_for(request, FilteredPage.CALENDAR, PublicationFilter, visible)
    if not filterset.is_valid():
        context = {
            "filter": filterset,
            "params": page_params,
            "zone_choices": zone_choices(request.user, params.zone),
        }
        return render(request, "calendar_app/calendar.html", context, status=400)
    publications = filterset.qs
    own_posts = calendar.own_posts_by_default(request.user, request.GET)
    if own_posts:
        publications = publications.filter(post__in=[post.pk for post in own_posts])
    if request.GET.get("format") == "csv":
        return export_csv(publications, params)
    if request.GET.get("format") not in (None, "", "html"):
        return render(
            request,
            "calendar_app/bad_request.html",
            {"message": _("Unknown format: use csv, or leave it out.")},
            status=400,
        )
    context = {
        "filter": filterset,
        "params": page_params,
        "zone_choices": zone_choices(request.user, params.zone),
        "view_choices": view_choices(),
        "filter_query": filter_query(request),
        "feed_url": feed_url(request, own_posts),
        "scope": _scope(request, own_posts),
        "shown": True,
    }
    body = {
        "today": timezone.localdate(timezone=zoneinfo.ZoneInfo(BRUSSELS)),
        "filter_query": context["filter_query"],
        "can_plan": permissions.can_plan_publications(request.user),
        "page": request.GET.get("page"),
    }
    context["can_plan"] = body["can_plan"]
    # Without a chosen view, both the grid (wide screens) and the agenda (narrow ones) are
    # drawn and the stylesheet shows one: a phone gets its agenda without a script or a
    # second request, and the address stays the same for everybody.
    if view:
        panels = [(params, "")]
    else:
        panels = [
            (replace(params, view="month"), "wide-only"),
            (replace(params, view="agenda"), "narrow-only"),
        ]
    context["panels"] = [
        {
            "params": panel_params,
            "shows": shows,
            # Links of an unchosen view keep it unchosen: the next page picks by width again.
            "link_view": panel_params.view if view else "",
            "navigation": _navigation(panel_params),
            "body": _body(request, publications, {**body, "params": panel_params}),
        }
        for panel_params, shows in panels
    ]
    response = render(request, "calendar_app/calendar.html", context)
    remember_view(request, response, view)
    return response


def _scope(request: HttpRequest, own_posts: list[Post]) -> dict[str, Any] | None:
    """For post staff: whose publications the page shows, and the link to the other choice."""
    user = cast(User, request.user)
    if roles.is_central(user) or not roles.is_post_staff(user):
        return None
    if own_posts:
        return {"own_posts": own_posts, "other": _with(request, scope=calendar.NETWORK_SCOPE)}
    if request.GET.get("scope") == calendar.NETWORK_SCOPE:
        return {"own_posts": [], "other": _with(request, scope=""), "mine": roles.posts_of(user)}
    return None  # a post, country or region is chosen in the filters


def _body(
    request: AuthenticatedHttpRequest, publications: QuerySet[Publication], body: dict[str, Any]
) -> SafeString:
    # The grid or list is the page's cost: kept while no publication (or what it shows) changes.
    return freshness.fragment(
        "calendar",
        reads=CALENDAR_READS,
        shape=(roles.rights_of(request.user), sorted(body.items(), key=str)),
        build=lambda: calendar_body(publications, body, request.user),
    )


#: What a calendar view shows or filters on.
# Delivery: an entry whose delivery's outcome is unknown reads "Needs a check".
CALENDAR_READS = (Publication, Variant, Channel, Post, Campaign, Proposal, Partner, Membership, Delivery)


def calendar_body(publications: QuerySet[Publication], context: dict[str, Any], user: User) -> SafeString:
    """The month grid, week grid or agenda page of `publications`, and its campaign legend.

    What `user` may move depends only on their roles, which name the cached copy."""
    params = context["params"]
    if params.view == "month":
        window, grid = calendar.month_cells(publications, params.anchor, params.zone)
        context.update(window=window, grid=grid, items=[p for week in grid for c in week for p in c.items])
    elif params.view == "week":
        window, rows = calendar.week_cells(publications, params.anchor, params.zone)
        context.update(
            window=window,
            rows=rows,
            days=window.days(),
            items=[p for _h, row in rows for c in row for p in c.items],
        )
    else:
        days = 1 if params.span == "day" else None
        page = Paginator(
            calendar.agenda(publications, params.anchor, params.zone, days=days), calendar.AGENDA_PAGE_SIZE
        )
        page_obj = page.get_page(context["page"])
        context.update(page_obj=page_obj, items=list(page_obj.object_list))
        context["days"] = calendar.agenda_days(context["items"], params.zone)
    calendar.label_entries(context["items"], params.zone)
    calendar.mark_movable(context["items"], user)
    context["legend"] = sorted(
        {item.campaign.pk: item.campaign for item in context["items"] if item.campaign_id}.values(),
        key=lambda campaign: campaign.name,
    )
    return render_to_string("calendar_app/_calendar_body.html", context)


def export_csv(publications: QuerySet[Publication], params: CalendarParams) -> StreamingHttpResponse:
    """The filtered calendar of the current view's days, as CSV (every row, streamed)."""
    if params.view == "month":
        window = calendar.month_window(params.anchor)
        first, days = window.first, (window.last - window.first).days + 1
    elif params.view == "week":
        window = calendar.week_window(params.anchor)
        first, days = window.first, 7
    else:
        first, days = params.anchor, 1 if params.span == "day" else AGENDA_EXPORT_DAYS
    rows = calendar.agenda(publications, first, params.zone, days=days).prefetch_related("variants")

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def cell(value: str) -> str:
        # A spreadsheet runs a cell that starts like a formula: quote it.
        return f"'{value}" if reports.looks_like_a_formula(value) else value

    def lines() -> Iterator[str]:
        yield writer.writerow(
            [
                "id",
                "post",
                "title",
                "status",
                "kind",
                "local_date",
                "local_time",
                "time_zone",
                "utc",
                "channels",
                "languages",
                "campaign",
            ]
        )
        for publication in rows.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    publication.pk,
                    publication.post.code,
                    cell(publication.title),
                    publication.status,
                    publication.kind,
                    publication.local_date.isoformat(),
                    publication.local_time.strftime("%H:%M"),
                    publication.timezone,
                    publication.scheduled_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    " ".join(f"{c.platform}:{c.handle}" for c in publication.channels.all()),
                    " ".join(v.language for v in publication.variants.all()),
                    cell(publication.campaign.name) if publication.campaign is not None else "",
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = f"calendar-{first.isoformat()}-{days}d.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def feed_url(request: AuthenticatedHttpRequest, own_posts: Sequence[Post] = ()) -> str | None:
    """The viewer's personal feed address for the current filters (None before it exists).

    A feed shows what its address says: when the page narrows to the viewer's one post by
    default, the address names that post, so that the feed shows what the page does."""
    token = freshness.remembered(
        "feed-token",
        reads=[CalendarFeed],
        shape=request.user.pk,
        compute=lambda: (
            CalendarFeed.objects.filter(user=request.user).values_list("token", flat=True).first()
        ),
    )
    if token is None:
        return None
    url = request.build_absolute_uri(reverse("calendar_feed", args=[token]))
    query = filter_query(request)
    if len(own_posts) == 1:
        query = "&".join(part for part in (query, urlencode({"post": own_posts[0].code})) if part)
    return f"{url}?{query}" if query else url


@login_required
@require_POST
def feed_renew(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Create or renew the viewer's feed address; the old one stops working at once."""
    if not permissions.can_use_calendar(request.user):
        raise PermissionDenied
    CalendarFeed.objects.update_or_create(user=request.user, defaults={"token": CalendarFeed.new_token()})
    messages.success(request, _("Your calendar feed has a new address. The old one no longer works."))
    return redirect(_back_to_calendar(request))


@login_required
@require_POST
def feed_revoke(request: AuthenticatedHttpRequest) -> HttpResponse:
    CalendarFeed.objects.filter(user=request.user).delete()
    messages.success(request, _("Your calendar feed is switched off."))
    return redirect(_back_to_calendar(request))


def _back_to_calendar(request: HttpRequest) -> str:
    query = request.POST.get("query", "")
    return reverse("calendar") + (f"?{query}" if query else "")


class UnknownFeedFilter(Exception):
    """A feed address with a filter value that does not exist."""


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The ICS feed: a calendar client's view of what the token's owner may see."""
    owner = feeds.feed_owner(token)
    if owner is None:
        raise Http404

    def publications() -> PublicationQuerySet:
        # Only when the feed is built: a copy in the cache was built from valid filters.
        user = User.objects.get(pk=owner.user_id)
        filterset = PublicationFilter(request.GET, queryset=Publication.objects.visible_to(user))
        if not filterset.is_valid():
            raise UnknownFeedFilter
        return filterset.publications

    # The feed is the token's owner's view through these filters: the token, the owner's
    # roles (what they may see) and the filters name the cached copy. Its build loads the
    # owner (for the visibility rule), hence the users' table among what it reads.
    shape = repr((token, owner.rights, sorted(request.GET.lists())))
    try:
        body, etag = feeds.cached_feed(
            publications, base_url=request.build_absolute_uri("/"), key=shape, reads=(*CALENDAR_READS, User)
        )
    except UnknownFeedFilter:
        return HttpResponse(_("Unknown filter in the feed address."), status=400, content_type="text/plain")
    etag = f'"{etag}"'
    response: HttpResponse
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["ETag"] = etag
    response["Cache-Control"] = f"private, max-age={feeds.FEED_CACHE_SECONDS}"
    return response
