"""Regional partners' proposals: writing, triage by central, the posts' library, provenance."""

from __future__ import annotations

from collections.abc import Iterable

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Prefetch, QuerySet, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_countries import countries

from calendar_app import history, permissions, reports, workflow
from calendar_app.forms import AcceptProposalForm, ProposalForm
from calendar_app.forms.proposals import TextPreview, text_previews
from calendar_app.models import (
    Delivery,
    DeliveryStatus,
    Proposal,
    ProposalDismissal,
    ProposalStatus,
    ProposalTarget,
    ProposalVariant,
    Publication,
    PublicationStatus,
)
from calendar_app.views.publications import _store_asset, uploads_removed_on_failure
from diplomacy import geography, roles
from diplomacy.filters import QuickFilterSet
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Partner, PartnerFocus, PartnerRegion, Post, User
from diplomacy.roles import AnyUser

PAGE_SIZE = 25


def _get_proposal_for_user(request: AuthenticatedHttpRequest, pk: int) -> Proposal:
    """404 when the user may not know the proposal exists (another partner's, a draft...)."""
    proposal = get_object_or_404(
        Proposal.objects.select_related("partner", "campaign").prefetch_related(
            "variants", "target_posts", "assets"
        ),
        pk=pk,
    )
    if not permissions.can_view_proposal(request.user, proposal):
        raise Http404
    return proposal


class TriageFilter(QuickFilterSet):
    partner = django_filters.ModelChoiceFilter(
        label=gettext_lazy("Partner"),
        queryset=Partner.objects.order_by("name"),
        to_field_name="code",
        empty_label=gettext_lazy("All partners"),
    )
    region = django_filters.ChoiceFilter(
        label=gettext_lazy("Region"),
        choices=PartnerRegion.choices,
        field_name="partner__region",
        empty_label=gettext_lazy("All regions"),
    )
    focus = django_filters.ChoiceFilter(
        label=gettext_lazy("Focus"),
        choices=PartnerFocus.choices,
        field_name="partner__focus",
        empty_label=gettext_lazy("Any focus"),
    )
    target = django_filters.ChoiceFilter(
        label=gettext_lazy("Target"), choices=ProposalTarget.choices, empty_label=gettext_lazy("Any target")
    )
    status = django_filters.ChoiceFilter(
        label=gettext_lazy("Status"), choices=ProposalStatus.choices, empty_label=gettext_lazy("Any status")
    )
    window_from = django_filters.DateFilter(
        label=gettext_lazy("Window ends on or after"), field_name="window_ends_on", lookup_expr="gte"
    )

    choices_read_from = (Partner,)

    class Meta:
        model = Proposal
        fields = ["partner", "region", "focus", "target", "status", "window_from"]


def _with_adoption_counts(queryset: QuerySet[Proposal]) -> QuerySet[Proposal]:
    return queryset.select_related("partner").annotate(adoptions=Count("publications", distinct=True))


def library_for(user: AnyUser) -> list[dict[str, object]]:
    """Accepted proposals in their window aimed at each of the user's posts, minus dismissed ones."""
    posts = roles.posts_of(user)
    if not posts:
        return []
    sections = []
    for post in posts:
        dismissed = ProposalDismissal.objects.filter(proposal=OuterRef("pk"), post=post)
        adopted = Publication.objects.filter(proposal=OuterRef("pk"), post=post)
        items = (
            Proposal.objects.open_for(post)
            .exclude(Exists(dismissed))
            .annotate(adopted=Exists(adopted))
            .select_related("partner")
            .prefetch_related(Prefetch("variants", queryset=ProposalVariant.objects.order_by("language")))
            .order_by("window_ends_on", "-pk")[:50]
        )
        sections.append({"post": post, "items": list(items)})
    return sections


@login_required
def proposal_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    if not (roles.is_partner_contributor(user) or roles.is_internal(user)):
        raise PermissionDenied
    context: dict[str, object] = {"can_create": permissions.can_create_proposal(user)}
    if roles.is_partner_contributor(user):
        own = _with_adoption_counts(Proposal.objects.filter(partner_id__in=roles.partner_ids(user)))
        context["own"] = own.order_by("-created_at")[:100]
    if roles.is_central(user):
        filterset = TriageFilter(request.GET, queryset=Proposal.objects.filter(submitted_at__isnull=False))
        if not filterset.is_valid():
            return render(
                request, "calendar_app/proposals.html", {**context, "filter": filterset}, status=400
            )
        queue = sorted_for_triage(_with_adoption_counts(filterset.qs))
        page = Paginator(queue, PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(filter=filterset, triage=page)
    if roles.is_post_staff(user):
        context["library"] = library_for(user)
    return render(request, "calendar_app/proposals.html", context)


def sorted_for_triage(queryset: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Submitted proposals first (they wait for a decision), then the most recent."""
    return queryset.annotate(
        waiting=Case(
            When(status=ProposalStatus.SUBMITTED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("waiting", "-submitted_at", "-pk")


def _save_proposal(request: AuthenticatedHttpRequest, form: ProposalForm, proposal: Proposal) -> Proposal:
    """The uploaded photo (if any) and the draft, for the caller's transaction."""
    data = form.cleaned_data
    assets = []
    if data.get("clean_image"):
        assets = [_store_asset(request.user, None, data["clean_image"], data["alt_texts"])]
    return workflow.save_proposal(request.user, proposal, form.content(assets))


@login_required
def proposal_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not permissions.can_create_proposal(request.user):
        raise PermissionDenied
    partner = roles.partners_of(request.user)[0]
    form = ProposalForm(request.POST or None, request.FILES or None, partner=partner)
    if request.method == "POST" and "preview" in request.POST:
        previews = _preview_of(form)
        if request.headers.get("HX-Request"):
            return _preview_alone(request, previews)
        context = {"form": form, "proposal": None, "previews": previews}
        return render(request, "calendar_app/proposal_form.html", context)
    if request.method == "POST" and form.is_valid():
        with uploads_removed_on_failure(), transaction.atomic():
            proposal = _save_proposal(request, form, Proposal(partner=partner, created_by=request.user))
        _forget_draft(request, "new")
        return _after_save(request, proposal)
    status = 400 if request.method == "POST" else 200
    return render(request, "calendar_app/proposal_form.html", {"form": form, "proposal": None}, status=status)


def _after_save(request: AuthenticatedHttpRequest, proposal: Proposal) -> HttpResponse:
    if "submit" in request.POST:
        try:
            workflow.submit_proposal(request.user, proposal)
        except workflow.StaleEdit:
            messages.error(request, _("Someone else acted on this proposal first."))
        except (workflow.DecisionRefused, workflow.TransitionNotAllowed) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Proposal sent to central communications."))
            return redirect(proposal)
    messages.success(request, _("Proposal saved as a draft."))
    return redirect(proposal)


def _preview_of(form: ProposalForm) -> list[TextPreview]:
    """The texts as typed, for a preview: nothing is saved, nor judged yet (no errors shown
    on the form: the partner is still writing)."""
    form.full_clean()
    form.errors.clear()
    return form.previews()


def _preview_alone(request: AuthenticatedHttpRequest, previews: list[TextPreview]) -> HttpResponse:
    """What the live preview (HTMX, as the partner types) swaps in."""
    return render(request, "calendar_app/_proposal_preview.html", {"previews": previews, "live": True})


def _forget_draft(request: AuthenticatedHttpRequest, which: str) -> None:
    """The copy of the form kept in the browser (static/js/proposal_form.js) is now saved:
    the next page tells the browser to forget it. Only after a save that succeeded, so a
    session that ended meanwhile loses no text."""
    request.session["forget_proposal_draft"] = which


@login_required
def proposal_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    proposal = _get_proposal_for_user(request, pk)
    actions = permissions.proposal_actions(request.user, proposal)
    form = None
    previewing = request.method == "POST" and "preview" in request.POST
    saved_previews = text_previews({variant.language: variant.text for variant in proposal.variants.all()})
    previews = saved_previews
    if "edit" in actions:
        form = ProposalForm(
            request.POST or None, request.FILES or None, partner=proposal.partner, proposal=proposal
        )
        if previewing:
            previews = _preview_of(form)
            if request.headers.get("HX-Request"):
                return _preview_alone(request, previews)
        elif request.method == "POST" and form.is_valid():
            try:
                with uploads_removed_on_failure(), transaction.atomic():
                    _save_proposal(request, form, proposal)
            except workflow.TransitionNotAllowed as exc:
                messages.error(request, str(exc))
                return redirect(proposal)
            _forget_draft(request, str(proposal.pk))
            return _after_save(request, proposal)
    elif request.method == "POST":
        raise PermissionDenied
    adoptions: Iterable[Publication] = []
    if "see_adoptions" in actions:
        # Provenance: where it was adopted, its state and time; never the post's other drafts.
        adoptions = (
            Publication.objects.filter(proposal=proposal)
            .select_related("post")
            .only("pk", "title", "status", "local_date", "local_time", "timezone", "post__name", "post__code")
            .prefetch_related(
                Prefetch(
                    "deliveries",
                    queryset=Delivery.objects.filter(status=DeliveryStatus.DELIVERED).exclude(url=""),
                    to_attr="live_deliveries",
                )
            )
            .order_by("scheduled_at")
        )
    context: dict[str, object] = {
        "proposal": proposal,
        "actions": actions,
        "form": form,
        "accept_form": AcceptProposalForm(proposal=proposal) if "accept" in actions else None,
        "adopt_posts": _posts_yet_to_adopt(request.user, proposal) if "adopt" in actions else [],
        "adoptions": adoptions,
        "history": history.prepare(proposal.events.select_related("actor"), request.user)
        if roles.is_central(request.user) or permissions.is_own_partner(request.user, proposal)
        else [],
        "dismissals": proposal.dismissals.select_related("post") if roles.is_central(request.user) else [],
        "country_names": [geography_name(code) for code in proposal.target_country_list],
        "saved_previews": saved_previews,
        "previews": previews,
        # Set by the save that led here: the browser's copy of the form can go.
        "forget_draft": request.session.pop("forget_proposal_draft", None)
        if request.method == "GET"
        else None,
    }
    status = 400 if request.method == "POST" and not previewing else 200
    return render(request, "calendar_app/proposal_detail.html", context, status=status)


def _posts_yet_to_adopt(user: User, proposal: Proposal) -> list[Post]:
    adopted = set(
        Publication.objects.filter(proposal=proposal)
        .exclude(status=PublicationStatus.CANCELLED)
        .values_list("post_id", flat=True)
    )
    return [post for post in permissions.posts_that_may_adopt(user, proposal) if post.pk not in adopted]


def geography_name(code: str) -> str:
    return f"{countries.name(code) or code} ({code})"


@login_required
@require_POST
def proposal_action(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    """submit, withdraw, accept, decline, adopt, dismiss."""
    proposal = _get_proposal_for_user(request, pk)
    try:
        if action == "submit":
            workflow.submit_proposal(request.user, proposal)
            messages.success(request, _("Proposal sent to central communications."))
        elif action == "withdraw":
            workflow.withdraw_proposal(request.user, proposal)
            messages.success(request, _("Proposal withdrawn."))
        elif action == "accept":
            form = AcceptProposalForm(request.POST, proposal=proposal)
            if not permissions.can_triage_proposal(request.user, proposal):
                raise PermissionDenied
            if not form.is_valid():
                errors = " ".join(str(e) for errors in form.errors.values() for e in errors)
                messages.error(request, errors)
                return redirect(proposal)
            data = form.cleaned_data
            workflow.accept_proposal(
                request.user,
                proposal,
                target=data["target"],
                countries=data["target_countries"],
                posts=list(data["target_posts"]),
                campaign=data["campaign"],
            )
            messages.success(request, _("Accepted: the posts it is meant for find it in their library."))
        elif action == "decline":
            workflow.decline_proposal(request.user, proposal, reason=request.POST.get("reason", ""))
            messages.success(request, _("Declined. The partner is told why."))
        elif action in ("adopt", "dismiss"):
            post = get_object_or_404(Post, code=request.POST.get("post", ""))
            if action == "adopt":
                publication = workflow.adopt_proposal(request.user, proposal, post)
                messages.success(
                    request, _("Adopted as a draft of your post: adapt it, then send it to review.")
                )
                return redirect(publication)
            workflow.dismiss_proposal(request.user, proposal, post, reason=request.POST.get("reason", ""))
            messages.success(request, _("Removed from your post's library."))
            return redirect("proposal_list")
        else:
            raise Http404
    except workflow.StaleEdit:
        messages.error(request, _("Someone else acted on this proposal first."))
    except (workflow.TransitionNotAllowed, workflow.DecisionRefused) as exc:
        messages.error(request, str(exc))
    return redirect(proposal)


# --- Regional content share (central) ---------------------------------------------------


@login_required
def regional_share(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not permissions.can_view_regional_share(request.user):
        raise PermissionDenied
    report = reports.regional_share()
    if request.GET.get("format") == "csv":
        return reports.csv_response("regional-content.csv", *report.csv_rows())
    if request.GET.get("format") not in (None, "", "html"):
        return render(
            request,
            "calendar_app/bad_request.html",
            {"message": _("Unknown format: use csv, or leave it out.")},
            status=400,
        )
    return render(
        request, "calendar_app/regional_share.html", {"report": report, "regions": geography.REGIONS}
    )
