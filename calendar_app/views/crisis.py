"""Crisis mode: declare and end crises, hold and release, advisories, break-glass, on call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from calendar_app import notifications, permissions, workflow
from calendar_app.forms import AdvisoryForm, BreakGlassForm, CrisisTemplateForm, DeclareCrisisForm
from calendar_app.forms.crisis import ACTIVE_WITHIN, reach_summary, recently_active_channel_ids
from calendar_app.models import (
    Broadcast,
    Crisis,
    CrisisEvent,
    CrisisTemplate,
    Delivery,
    NotificationPreference,
    Publication,
    PublicationEvent,
    PublicationKind,
    PublicationStatus,
    is_whole_number,
)
from calendar_app.models.publications import has_unknown_delivery
from calendar_app.models.text import NETWORK_LANGUAGES
from calendar_app.views import translation as translation_views
from calendar_app.views.publications import safe_next
from diplomacy import geography, roles
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Channel, Post, User

#: Rows shown in each list of the crisis pages before "and N more".
LIST_LIMIT = 200


def _get_crisis_for_user(request: AuthenticatedHttpRequest, pk: int) -> Crisis:
    """Load a crisis the user may see: 404 when they may not know it exists."""
    crisis = get_object_or_404(
        Crisis.objects.select_related("declared_by", "ended_by").prefetch_related("posts"), pk=pk
    )
    if not permissions.can_view_crisis(request.user, crisis):
        raise Http404
    return crisis


def _after_the_fact_queryset() -> QuerySet[Publication]:
    """Break-glass publications central has not reviewed yet."""
    broke = PublicationEvent.objects.filter(publication=OuterRef("pk"), verb="break_glass")
    reviewed = PublicationEvent.objects.filter(publication=OuterRef("pk"), verb="reviewed_after")
    return (
        Publication.objects.filter(Exists(broke))
        .exclude(Exists(reviewed))
        .select_related("post", "crisis", "author")
        .order_by("-scheduled_at")
    )


def _declare_form(request: AuthenticatedHttpRequest, data: QueryDict | None = None) -> DeclareCrisisForm:
    managed = [
        post for post in roles.posts_of(request.user) if post.pk in roles.managed_post_ids(request.user)
    ]
    return DeclareCrisisForm(data, central=roles.is_central(request.user), managed_posts=managed)


@login_required
def crisis_list(
    request: AuthenticatedHttpRequest, form: DeclareCrisisForm | None = None, status: int = 200
) -> HttpResponse:
    """Active and past crises, the declare form, missed publications and break-glass to review."""
    if not permissions.can_view_crises(request.user):
        raise PermissionDenied
    user = request.user
    crises = [
        c
        for c in Crisis.objects.select_related("declared_by").prefetch_related("posts")[:LIST_LIMIT]
        if permissions.can_view_crisis(user, c)
    ]
    missed = (
        Publication.objects.in_care_of(user)
        .filter(missed_in__isnull=False)
        .select_related("post", "missed_in")
        .order_by("scheduled_at")[:LIST_LIMIT]
    )
    central = roles.is_central(user)
    preference = NotificationPreference.objects.filter(user=user).first()
    active = [c for c in crises if c.is_active]
    context = {
        "active": active,
        "reach": active_crisis_reach(active),
        "past": [c for c in crises if not c.is_active],
        "missed": list(missed),
        "after_the_fact": list(_after_the_fact_queryset()[:LIST_LIMIT]) if central else [],
        "form": form
        if form is not None
        else (_declare_form(request) if permissions.can_declare_crisis(user) else None),
        "can_be_on_call": permissions.can_be_on_call(user),
        "on_call": bool(preference and preference.on_call),
        "on_call_names": sorted(str(u) for u in User.objects.filter(pk__in=notifications.on_call_ids()))
        if central
        else [],
        "can_manage_templates": permissions.can_manage_crisis_templates(user),
    }
    return render(request, "calendar_app/crisis_list.html", context, status=status)


@login_required
@require_POST
def crisis_declare(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not permissions.can_declare_crisis(request.user):
        raise PermissionDenied
    form = _declare_form(request, request.POST)
    if not form.is_valid():
        return crisis_list(request, form=form, status=400)
    data = form.cleaned_data
    try:
        crisis = workflow.declare_crisis(
            request.user,
            title=data["title"],
            reason=data["reason"],
            whole_network=data["target"] == "network",
            countries=data["target_countries"],
            posts=list(data["target_posts"]) if data["target"] == "posts" else [],
        )
    except workflow.CrisisRefused as exc:
        form.add_error(None, str(exc))
        return crisis_list(request, form=form, status=400)
    held = crisis.held_publications.count()
    messages.warning(
        request,
        ngettext(
            "Crisis declared. %(count)s scheduled publication is held.",
            "Crisis declared. %(count)s scheduled publications are held.",
            held,
        )
        % {"count": held},
    )
    return redirect(crisis)


@login_required
def crisis_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Scope, timeline, held publications, advisories and their deliveries, missed list."""
    crisis = _get_crisis_for_user(request, pk)
    user = request.user
    # Central sees every post's publications here; a post's staff only their own posts'.
    visible = Publication.objects.in_care_of(user)
    held = visible.filter(held_by=crisis).select_related("post").order_by("scheduled_at")
    missed = visible.filter(missed_in=crisis).select_related("post").order_by("scheduled_at")
    advisories = (
        visible.filter(crisis=crisis)
        .select_related("post")
        .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.select_related("channel")))
        .order_by("post__name", "pk")
    )
    events = CrisisEvent.objects.filter(crisis=crisis)
    if not roles.is_central(user):
        # Rows about other posts' publications stay with central and those posts.
        events = events.filter(Q(publication__isnull=True) | Q(publication__post_id__in=roles.post_ids(user)))
    events = events.select_related("actor", "publication__post").order_by("created_at", "pk")
    # Every affected post, for the summary by region: the network has about 120 posts,
    # so one query loads them all (what is shown of them is folded).
    affected = list(crisis.affected_posts().only("pk", "name", "country").order_by("name"))
    # Each broadcast's progress, for central (the counts span every post of the network).
    groups = broadcast_progress(crisis) if roles.is_central(user) else []
    context = {
        "groups": groups,
        "crisis": crisis,
        "actions": permissions.crisis_actions(user, crisis),
        "affected": posts_by_region(affected),
        "affected_count": len(affected),
        "affected_summary": reach_in_words(affected),
        "outcome": advisory_outcome(visible.filter(crisis=crisis)),
        "held": list(held[:LIST_LIMIT]),
        "held_count": held.count(),
        "missed": list(missed[:LIST_LIMIT]),
        "advisories": list(advisories.with_check_flag()[:LIST_LIMIT]),
        "events": list(events[:500]),
        # Named in the reader's language, never as ISO codes.
        "countries": sorted(str(geography.country_of(code).name) for code in crisis.country_list),
    }
    return render(request, "calendar_app/crisis_detail.html", context)


# --- What a crisis takes in, and whether its advisories are out --------------------------


@dataclass
class CountryPosts:
    """The affected posts of one country, by name."""

    code: str
    name: str
    posts: list[Post] = field(default_factory=list)


@dataclass
class RegionPosts:
    """The affected posts of one world region, by country name in the reader's language."""

    code: str
    label: str
    countries: list[CountryPosts] = field(default_factory=list)

    @property
    def post_count(self) -> int:
        return sum(len(country.posts) for country in self.countries)

    @property
    def summary(self) -> str:
        """ "Europe: 42 posts in 30 countries"."""
        return _("%(region)s: %(reach)s") % {
            "region": self.label,
            "reach": _reach(self.post_count, len(self.countries)),
        }


#: Where a post with a country of no region is filed (none today; kept for new codes).
ELSEWHERE = gettext_lazy("Elsewhere")


def posts_by_region(posts: Iterable[Post]) -> list[RegionPosts]:
    """Posts grouped by world region (in `geography.REGIONS` order), then by country (by its
    name in the reader's language), each country's posts in the order given."""
    regions = {code: RegionPosts(code, str(label)) for code, label in geography.REGIONS}
    elsewhere = RegionPosts("", str(ELSEWHERE))
    by_country: dict[str, CountryPosts] = {}
    for post in posts:
        country = geography.country_of(post.country)
        if country.code not in by_country:
            by_country[country.code] = CountryPosts(country.code, str(country.name))
            region = regions.get(geography.region_of(country.code) or "", elsewhere)
            region.countries.append(by_country[country.code])
        by_country[country.code].posts.append(post)
    grouped = [region for region in [*regions.values(), elsewhere] if region.countries]
    for region in grouped:
        region.countries.sort(key=lambda country: country.name)
    return grouped


def _reach(posts: int, countries: int) -> str:
    return _("%(posts)s in %(countries)s") % {
        "posts": ngettext("%(count)d post", "%(count)d posts", posts) % {"count": posts},
        "countries": ngettext("%(count)d country", "%(count)d countries", countries) % {"count": countries},
    }


def reach_in_words(posts: list[Post]) -> str:
    """ "115 posts in 80 countries"."""
    return _reach(len(posts), len({geography.country_of(post.country).code for post in posts}))


def active_crisis_reach(crises: list[Crisis]) -> dict[int, dict[str, Any]]:
    """Each active crisis's affected posts by region, from one query for the network's posts
    (the crises' own posts come prefetched): the list stays at its number of queries."""
    if not crises:
        return {}
    network = list(Post.objects.only("pk", "name", "country").order_by("name"))
    reach = {}
    for crisis in crises:
        own = {post.pk for post in crisis.posts.all()}
        posts = [post for post in network if crisis.takes_in(post, own)]
        reach[crisis.pk] = {"total": reach_in_words(posts), "regions": posts_by_region(posts)}
    return reach


#: Publication statuses in which an advisory will not go out as it is.
NOT_GOING_OUT = (PublicationStatus.DRAFT, PublicationStatus.CANCELLED, PublicationStatus.MISSED)


def advisory_outcome(advisories: QuerySet[Publication]) -> dict[str, int]:
    """Is it out? The advisories counted as delivered (published, nothing unknown), needing a
    check (a delivery's outcome unknown, or failed), not going out (back to draft, cancelled,
    missed) and waiting (the rest: in review, sent back, approved and not yet delivered).
    One query."""
    unknown = has_unknown_delivery()
    counts = advisories.order_by().aggregate(
        total=Count("pk"),
        delivered=Count("pk", filter=Q(status=PublicationStatus.PUBLISHED) & ~Q(unknown)),
        needs_a_check=Count("pk", filter=Q(unknown) | Q(status=PublicationStatus.FAILED)),
        not_going_out=Count("pk", filter=Q(status__in=NOT_GOING_OUT) & ~Q(unknown)),
    )
    counts["waiting"] = (
        counts["total"] - counts["delivered"] - counts["needs_a_check"] - counts["not_going_out"]
    )
    return counts


def broadcast_progress(crisis: Crisis) -> list[Broadcast]:
    """The crisis's broadcasts, each counting its publications by status (one query)."""
    by_status = {
        name: Count("publications", filter=Q(publications__status=status))
        for name, status in (
            ("in_review", PublicationStatus.IN_REVIEW),
            ("changes_requested", PublicationStatus.CHANGES_REQUESTED),
            ("approved", PublicationStatus.APPROVED),
            ("published", PublicationStatus.PUBLISHED),
        )
    }
    return list(
        Broadcast.objects.filter(crisis=crisis)
        .annotate(total=Count("publications"), **by_status)
        .order_by("created_at", "pk")[:LIST_LIMIT]
    )


@login_required
@require_POST
def crisis_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    """End or acknowledge a crisis."""
    crisis = _get_crisis_for_user(request, pk)
    try:
        if action == "end":
            counts = workflow.end_crisis(request.user, crisis)
            messages.success(
                request,
                _("Crisis ended. Released: %(released)s. Missed their time, to reschedule: %(missed)s.")
                % counts,
            )
        elif action == "acknowledge":
            workflow.acknowledge_crisis(request.user, crisis)
            messages.success(request, _("You have taken up this crisis."))
        else:
            raise Http404
    except workflow.TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    return redirect(crisis)


@login_required
@require_POST
def crisis_release(request: AuthenticatedHttpRequest, pk: int, publication_pk: int) -> HttpResponse:
    """Central lets one held publication go."""
    crisis = _get_crisis_for_user(request, pk)
    publication = get_object_or_404(Publication, pk=publication_pk, held_by=crisis)
    try:
        outcome = workflow.release_publication(request.user, publication)
    except workflow.TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        if outcome == "missed":
            messages.warning(
                request,
                _("“%(title)s” was released, but its time has passed: reschedule it.")
                % {"title": publication},
            )
        else:
            messages.success(
                request, _("“%(title)s” was released: it goes out at its time.") % {"title": publication}
            )
    return redirect(safe_next(request, crisis.get_absolute_url()))


def _advisory_setup(crisis: Crisis, posts: Iterable[Post] | None = None) -> tuple[list[str], list[str]]:
    """Platforms present among the posts' channels, and their host languages."""
    posts = list(posts if posts is not None else crisis.affected_posts())
    platforms = sorted(
        set(Channel.objects.filter(post__in=posts, active=True).values_list("platform", flat=True).distinct())
    )
    languages = sorted({code for post in posts for code in post.host_language_list})
    return platforms, languages


def _language_groups(form: AdvisoryForm) -> dict[str, Any]:
    """The network's languages are shown; the affected posts' host languages are counted to
    be folded (a crisis over a region brings two dozen of them)."""
    return {
        "network_languages": NETWORK_LANGUAGES,
        "host_language_count": sum(1 for code in form.languages if code not in NETWORK_LANGUAGES),
    }


def _template_from(request: HttpRequest) -> CrisisTemplate | None:
    raw = request.GET.get("template", "")
    return (
        CrisisTemplate.objects.filter(pk=int(raw)).first() if is_whole_number(raw) and len(raw) < 10 else None
    )


def _guideline_messages(exc: workflow.GuidelinesFailed) -> str:
    return " ".join(problem for result in exc.results for problem in result.problems)


@login_required
def advisory_compose(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Write one advisory and broadcast it to every affected post, for fast-track approval."""
    crisis = _get_crisis_for_user(request, pk)
    if not permissions.can_compose_advisory(request.user, crisis):
        raise PermissionDenied
    posts = list(crisis.affected_posts().filter(active=True).order_by("name"))
    platforms, languages = _advisory_setup(crisis, posts)
    channels = list(
        Channel.objects.filter(post__in=posts, active=True)
        .select_related("post")
        .order_by("post__name", "platform", "handle")
    )
    active_ids = recently_active_channel_ids(channel.pk for channel in channels)
    template = _template_from(request)
    drafting = translation_views.wants_editor_action(request)

    def composer(data: QueryDict | None = None, template: CrisisTemplate | None = None) -> AdvisoryForm:
        return AdvisoryForm(
            data,
            platforms=platforms,
            extra_languages=languages,
            template=template,
            channels=channels,
            active_channel_ids=active_ids,
        )

    if drafting:
        # "Draft the French from the Dutch" or "I have checked it": shown again, not sent.
        form = translation_views.editor_action(request, composer())
    else:
        form = composer(request.POST or None, template)
    status = 200
    # "Count again": the counts for what is ticked now, nothing sent.
    checking = request.method == "POST" and "check" in request.POST
    if request.method == "POST" and not drafting and not checking:
        if form.is_valid():
            try:
                made, skipped = workflow.broadcast_advisory(request.user, crisis, form.content())
            except workflow.CrisisRefused as exc:
                form.add_error(None, str(exc))
            except workflow.GuidelinesFailed as exc:
                form.add_error(
                    None, _("Not sent: fix what the guidelines say first.") + " " + _guideline_messages(exc)
                )
            else:
                text = ngettext(
                    "Advisory sent to review for %(count)s post.",
                    "Advisory sent to review for %(count)s posts.",
                    len(made),
                ) % {"count": len(made)}
                if skipped:
                    text += " " + _(
                        "No channel on those platforms publishes the advisory's languages at: %(posts)s."
                    ) % {"posts": ", ".join(post.name for post in skipped)}
                messages.success(request, text)
                return redirect(crisis)
        status = 400
    reach = workflow.advisory_reach(posts, form.draft_content())
    context = {
        "crisis": crisis,
        "form": form,
        "templates": CrisisTemplate.objects.all(),
        "template": template,
        "mode": "broadcast",
        **_language_groups(form),
        "reach": reach_summary(reach),
        "unreached": len(posts) - len(reach),
        "active_days": ACTIVE_WITHIN.days,
    }
    if checking and request.htmx:
        # The live counts as boxes change: only the counts' block is swapped.
        return render(request, "calendar_app/_advisory_reach.html", context)
    return render(request, "calendar_app/advisory_form.html", context, status=status)


@login_required
def break_glass(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """A post manager publishes an advisory for their own post at once, with a reason."""
    crisis = _get_crisis_for_user(request, pk)
    posts = permissions.break_glass_posts(request.user, crisis)
    if not posts:
        raise PermissionDenied
    platforms, languages = _advisory_setup(crisis, posts)
    drafting = translation_views.wants_editor_action(request)
    if drafting:
        form = translation_views.editor_action(
            request, BreakGlassForm(platforms=platforms, extra_languages=languages, posts=posts)
        )
    else:
        form = BreakGlassForm(
            request.POST or None,
            platforms=platforms,
            extra_languages=languages,
            template=_template_from(request),
            posts=posts,
        )
    status = 200
    if request.method == "POST" and not drafting:
        if form.is_valid():
            try:
                publication = workflow.break_glass(
                    request.user,
                    crisis,
                    form.cleaned_data["post"],
                    form.content(),
                    reason=form.cleaned_data["reason"],
                )
            except workflow.CrisisRefused as exc:
                form.add_error(None, str(exc))
            except workflow.GuidelinesFailed as exc:
                form.add_error(
                    None,
                    _("Not published: fix what the guidelines say first.") + " " + _guideline_messages(exc),
                )
            else:
                messages.warning(
                    request,
                    _("Published without review. Central will review it after the fact."),
                )
                return redirect(publication)
        status = 400
    context = {
        "crisis": crisis,
        "form": form,
        "templates": CrisisTemplate.objects.all(),
        "mode": "break_glass",
        **_language_groups(form),
    }
    return render(request, "calendar_app/advisory_form.html", context, status=status)


@login_required
@require_POST
def review_after(request: AuthenticatedHttpRequest, publication_pk: int) -> HttpResponse:
    """Central marks a break-glass publication as reviewed after the fact."""
    if not permissions.can_review_after_the_fact(request.user):
        raise PermissionDenied
    publication = get_object_or_404(Publication, pk=publication_pk, kind=PublicationKind.CRISIS_ADVISORY)
    try:
        workflow.review_after_the_fact(request.user, publication, comment=request.POST.get("comment", ""))
    except workflow.TransitionNotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Reviewed after the fact: “%(title)s”.") % {"title": publication})
    return redirect(safe_next(request, "/crisis/"))


@login_required
@require_POST
def on_call(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A central reviewer goes on call or off call."""
    if not permissions.can_be_on_call(request.user):
        raise PermissionDenied
    value = request.POST.get("on_call") == "1"
    notifications.set_on_call(request.user, value)
    if value:
        messages.success(request, _("You are on call: crises and advisories reach you first, by email too."))
    else:
        messages.success(request, _("You are no longer on call."))
    return redirect(safe_next(request, "/crisis/"))


@login_required
def template_list(request: AuthenticatedHttpRequest, pk: int | None = None) -> HttpResponse:
    """The advisory templates central keeps; add one or edit one on the same page."""
    if not permissions.can_manage_crisis_templates(request.user):
        raise PermissionDenied
    template = get_object_or_404(CrisisTemplate, pk=pk) if pk else None
    drafting = translation_views.wants_editor_action(request)
    if drafting:
        form = translation_views.editor_action(request, CrisisTemplateForm(template=template))
    else:
        form = CrisisTemplateForm(request.POST or None, template=template)
    status = 200
    if request.method == "POST" and not drafting:
        if form.is_valid():
            saved = form.save(request.user)
            messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
            return redirect("crisis_templates")
        status = 400
    context = {
        "templates": CrisisTemplate.objects.select_related("updated_by"),
        "form": form,
        "template": template,
    }
    return render(request, "calendar_app/crisis_templates.html", context, status=status)


@login_required
@require_POST
def template_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    if not permissions.can_manage_crisis_templates(request.user):
        raise PermissionDenied
    template = get_object_or_404(CrisisTemplate, pk=pk)
    template.delete()
    messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
    return redirect("crisis_templates")
