"""Network insight for central comms: coverage and activity (URLs under /network/)."""

from __future__ import annotations

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_countries import countries

from calendar_app import permissions, reports
from calendar_app.filters import country_choices
from calendar_app.forms import clean_country_codes
from calendar_app.models import (
    Delivery,
    PriorityCountry,
    Proposal,
    Publication,
    PublicationRevision,
    Review,
    Variant,
)
from diplomacy import freshness, geography, worldmap
from diplomacy.filters import QuickFilterSet
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Channel, Partner, Platform, Post, PostKind

MAX_WEEKS = 26


class ReportFilter(QuickFilterSet):
    region = django_filters.ChoiceFilter(
        label=gettext_lazy("Region of the world"),
        choices=geography.REGIONS,
        method="filter_region",
        empty_label=gettext_lazy("All regions"),
    )
    country = django_filters.ChoiceFilter(
        label=gettext_lazy("Country"), choices=country_choices, empty_label=gettext_lazy("All countries")
    )
    kind = django_filters.ChoiceFilter(
        label=gettext_lazy("Kind of post"), choices=PostKind.choices, empty_label=gettext_lazy("Any kind")
    )
    platform = django_filters.ChoiceFilter(
        label=gettext_lazy("Platform"),
        choices=Platform.choices,
        method="filter_nothing",
        empty_label=gettext_lazy("All platforms"),
    )

    choices_read_from = (Post,)

    class Meta:
        model = Post
        fields = ["region", "country", "kind", "platform"]

    def filter_region(self, queryset: QuerySet[Post], name: str, value: str) -> QuerySet[Post]:
        return queryset.filter(country__in=geography.countries_in(value))

    def filter_nothing(self, queryset: QuerySet[Post], name: str, value: str) -> QuerySet[Post]:
        return queryset  # the platform narrows the columns (coverage) or channels (activity)


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "calendar_app/bad_request.html", {"message": message}, status=400)


def _report_request(request: HttpRequest) -> ReportFilter | HttpResponse:
    """Check the right and the format; return the filter set, or the error response."""
    if not permissions.can_view_reports(request.user):
        raise PermissionDenied
    if request.GET.get("format") not in (None, "", "html", "csv"):
        return _bad_request(request, _("Unknown format: use csv, or leave it out."))
    filterset = ReportFilter(request.GET, queryset=Post.objects.active())
    if not filterset.is_valid():
        errors = "; ".join(
            f"{field}: {' '.join(str(message) for message in e)}"
            for field, e in filterset.form.errors.items()
        )
        return _bad_request(request, _("Unknown filter value. %(errors)s") % {"errors": errors})
    return filterset


def _scope(filterset: ReportFilter) -> set[str] | None:
    """The countries a filtered coverage report speaks for (None: the whole world)."""
    data = filterset.form.cleaned_data
    scope: set[str] | None = None
    if data.get("region"):
        scope = set(geography.countries_in(data["region"]))
    if data.get("country"):
        scope = {data["country"]} if scope is None else scope & {data["country"]}
    if data.get("kind"):
        kinds = set(filterset.qs.values_list("country", flat=True))
        scope = kinds if scope is None else scope & kinds
    return scope


def _platforms(filterset: ReportFilter) -> list[tuple[str, str]]:
    chosen = filterset.form.cleaned_data.get("platform")
    return [(code, label) for code, label in Platform.choices if not chosen or code == chosen]


#: What the coverage report reads.
COVERAGE_READS = (Publication, Channel, Post, PriorityCountry)
#: What the activity report reads.
ACTIVITY_READS = (
    Publication,
    PublicationRevision,
    Variant,
    Review,
    Delivery,
    Proposal,
    Partner,
    Channel,
    Post,
)


def _shape(request: HttpRequest) -> tuple[object, ...]:
    """What a report depends on besides its tables: the filters and the day (its 30 days, its
    weeks). Copies live diplomacy.freshness.FRAGMENT_SECONDS, which bounds the clock's part."""
    return (sorted(request.GET.lists()), timezone.localdate().isoformat())


@login_required
def coverage(request: AuthenticatedHttpRequest) -> HttpResponse:
    filterset = _report_request(request)
    if isinstance(filterset, HttpResponse):
        return filterset
    if request.GET.get("format") == "csv":
        report = reports.coverage(filterset.qs, _platforms(filterset), scope=_scope(filterset))
        return reports.csv_response("coverage.csv", *report.csv_rows())
    context = {
        "filter": filterset,
        "body": freshness.fragment(
            "coverage", reads=COVERAGE_READS, shape=_shape(request), build=lambda: coverage_body(filterset)
        ),
        "priority": PriorityCountry.objects.all(),
        "can_manage": permissions.can_manage_priorities(request.user),
        "query": request.GET.urlencode(),
    }
    return render(request, "calendar_app/coverage.html", context)


def coverage_body(filterset: ReportFilter) -> SafeString:
    """The findings, the map, the platforms, the gaps and the folded table of the coverage report."""
    report = reports.coverage(filterset.qs, _platforms(filterset), scope=_scope(filterset))
    # Labels translated once, not once per table cell.
    state_labels = {state: str(label) for state, label in reports.STATE_LABELS.items()}
    # The map: each country with a post coloured by its best state; the outlines are escaped
    # once per process (diplomacy.worldmap), the page only adds the class and the title. Every
    # title is the country's name in the reader's language (the outline's own names are English).
    titles = {}
    for shape in worldmap.country_shapes():
        name = countries.name(shape.code) or shape.name
        state = report.country_states.get(shape.code)
        titles[shape.code] = f"{name}: {state_labels[state]}" if state else name
    map_paths = worldmap.svg_paths(
        {code: f"state-{state}" for code, state in report.country_states.items()},
        titles,
        default_class="state-none",
    )
    context = {
        "report": report,
        "map_paths": map_paths,
        "viewbox": worldmap.viewbox(),
        "state_labels": state_labels,
        "states": reports.STATE_ORDER,
    }
    return render_to_string("calendar_app/_coverage_body.html", context)


@login_required
@require_POST
def priority_countries(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Central adds or removes priority countries."""
    if not permissions.can_manage_priorities(request.user):
        raise PermissionDenied
    if request.POST.get("remove"):
        PriorityCountry.objects.filter(country=request.POST["remove"]).delete()
        messages.success(request, _("Removed from the priority list."))
        return redirect("coverage")
    try:
        codes = clean_country_codes(request.POST.get("countries", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("coverage")
    for code in codes:
        PriorityCountry.objects.get_or_create(
            country=code, defaults={"note": request.POST.get("note", "")[:200], "added_by": request.user}
        )
    messages.success(request, _("The priority list is saved."))
    return redirect("coverage")


@login_required
def activity(request: AuthenticatedHttpRequest) -> HttpResponse:
    filterset = _report_request(request)
    if isinstance(filterset, HttpResponse):
        return filterset
    raw_weeks = request.GET.get("weeks") or "8"
    if not (raw_weeks.isascii() and raw_weeks.isdigit()) or not 1 <= int(raw_weeks) <= MAX_WEEKS:
        return _bad_request(request, _("Choose between 1 and %(max)s weeks.") % {"max": MAX_WEEKS})
    weeks = int(raw_weeks)
    if request.GET.get("format") == "csv":
        # Every table of the page in one file (the page says how it is laid out).
        return reports.csv_tables_response("activity.csv", _activity_report(filterset, weeks).csv_tables())
    context = {
        "filter": filterset,
        "body": freshness.fragment(
            "activity",
            reads=ACTIVITY_READS,
            shape=_shape(request),
            build=lambda: activity_body(filterset, weeks),
        ),
        "weeks": weeks,
        "max_weeks": MAX_WEEKS,
        "query": request.GET.urlencode(),
    }
    return render(request, "calendar_app/activity.html", context)


def _activity_report(filterset: ReportFilter, weeks: int) -> reports.Activity:
    return reports.activity(
        filterset.qs, weeks=weeks, platform=filterset.form.cleaned_data.get("platform") or None
    )


def activity_body(filterset: ReportFilter, weeks: int) -> SafeString:
    """Findings, then the cadence, language mix, regional share and turnaround sections of the
    activity report, the long ones folded by world region."""
    report = _activity_report(filterset, weeks)
    verdicts = {verdict: str(label) for verdict, label in reports.VERDICT_LABELS.items()}
    for number, row in enumerate(report.channels, 1):
        row["verdict_label"] = verdicts[row["verdict"]]
        title = _("%(handle)s: %(average)s a week on average, target %(target)s") % {
            "handle": row["handle"],
            "average": formats.localize(row["average"]),
            "target": formats.localize(row["target"]),
        }
        row["chart_svg"] = reports.bar_chart_svg(row["chart"], chart_id=f"chart-{number}", title=title)
        # The week cells, written once here: a template loop per cell cost more than the
        # rest of the page (counts are small integers: no thousands separator to localise).
        row["count_cells"] = mark_safe("".join(f"<td>{int(count)}</td>" for count in row["counts"]))  # noqa: S308
    context = {
        "report": report,
        "weeks": weeks,
        "turnaround_chart": reports.bar_chart(
            [int(round(row["median"] or 0)) for row in report.turnaround], width=320, height=60
        ),
    }
    return render_to_string("calendar_app/_activity_body.html", context)
