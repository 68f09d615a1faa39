"""Review: the transitions' endpoints, the approval queue, comments, live guideline checks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from calendar_app import guidelines, permissions, sending, workflow
from calendar_app.filters import PublicationFilter
from calendar_app.forms import PublicationForm
from calendar_app.models import (
    Campaign,
    Crisis,
    Proposal,
    Publication,
    PublicationKind,
    PublicationQuerySet,
    PublicationRevision,
    Variant,
    in_time_for_review,
    is_whole_number,
)
from calendar_app.timezones import check_local_time
from calendar_app.views.publications import (
    _get_publication_for_user,
    channels_shown,
    publication_shown,
    safe_next,
)
from diplomacy import freshness, roles
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Channel, Membership, Partner, Post, User

APPROVALS_PAGE_SIZE = 20
DUE_SOON = timedelta(hours=24)

TRANSITION_MESSAGES = {
    "submit": gettext_lazy("Sent to review."),
    "resubmit": gettext_lazy("Sent to review again."),
    "approve": gettext_lazy("Approved."),
    "request_changes": gettext_lazy("Sent back to the post with your comment."),
    "withdraw": gettext_lazy("Withdrawn: it is a draft again."),
    "cancel": gettext_lazy("Cancelled."),
    "retry": gettext_lazy("It will be sent again on the channels where it failed."),
}


def _revision_from(request: HttpRequest) -> int | None:
    try:
        return int(request.POST.get("revision", ""))
    except ValueError:
        return None


@login_required
@require_POST
def publication_transition(request: AuthenticatedHttpRequest, pk: int, action: str) -> HttpResponse:
    """One endpoint per workflow action; the rules are in workflow and permissions."""
    if action not in workflow.USER_ACTIONS:
        raise Http404
    publication = _get_publication_for_user(request, pk)
    comment = request.POST.get("comment", "")
    revision = _revision_from(request)
    try:
        if action in ("approve", "request_changes"):
            if revision is None:
                raise workflow.DecisionRefused(_("The form is incomplete: reload the page."))
            function = workflow.approve if action == "approve" else workflow.request_changes
            function(request.user, publication, expected_revision=revision, comment=comment)
        elif action == "cancel":
            workflow.cancel(request.user, publication, comment=comment)
        else:
            getattr(workflow, action)(request.user, publication)
    except workflow.GuidelinesFailed as exc:
        text = (
            _("Not sent: fix what the guidelines say first.")
            + " "
            + " ".join(problem for result in exc.results for problem in result.problems)
        )
        messages.error(request, text)
    except (workflow.TransitionNotAllowed, workflow.DecisionRefused) as exc:
        messages.error(request, str(exc))
    except workflow.StaleEdit:
        messages.error(
            request, _("Someone else acted on this publication first. Here is where it stands now.")
        )
    else:
        messages.success(request, str(TRANSITION_MESSAGES[action]))
    if request.htmx:
        # 200 even when refused: htmx swaps only successful answers, and the partial
        # carries the message saying what happened.
        publication = _get_publication_for_user(request, pk)
        context = {**_item_context(request, publication), "next": safe_next(request, reverse("approvals"))}
        return render(request, "calendar_app/_approval_item.html", context)
    return redirect(safe_next(request, publication.get_absolute_url()))


def _item_context(request: HttpRequest, publication: Publication) -> dict[str, object]:
    return {
        "item": publication,
        # The queue counts each publication's images in its own query (image_count).
        "sends": publication_shown(publication, image_count=getattr(publication, "image_count", None)),
        "actions": permissions.allowed_actions(request.user, publication),
        "now": timezone.now(),
        "due_soon": timezone.now() + DUE_SOON,
    }


@login_required
@require_POST
def publication_comment(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    publication = _get_publication_for_user(request, pk)
    try:
        workflow.add_comment(request.user, publication, request.POST.get("text", ""))
    except workflow.DecisionRefused as exc:
        messages.error(request, str(exc))
        return redirect(publication.get_absolute_url() + "#comments")
    messages.success(request, _("Comment added."))
    return redirect(publication.get_absolute_url() + "#comments")


@login_required
@require_POST
def publication_check(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The editor's live check: the guidelines against the unsaved form (HTMX)."""
    code = request.POST.get("post", "")
    post = get_object_or_404(Post, code=code)
    if not permissions.can_create_publication(request.user, post):
        raise PermissionDenied
    form = PublicationForm(request.POST, post=post)
    form.is_valid()  # fills cleaned_data with what is usable; errors are shown by the form itself
    data = form.cleaned_data
    channels = list(data.get("channels") or [])
    campaign = data.get("campaign")
    scheduled_at = None
    if data.get("local_date") and data.get("local_time"):
        try:
            scheduled_at = check_local_time(data["local_date"], data["local_time"], post.timezone)
        except ValidationError:
            scheduled_at = None  # a wall time lost to DST is the form's message, not the check's
    languages = form.languages
    alt_texts = _alt_texts_for_check(request, data)
    ctx = guidelines.CheckContext(
        post=post,
        kind=data.get("kind") or PublicationKind.REGULAR,
        platforms=sorted({c.platform for c in channels}),
        variants={
            lang: (data.get(f"variant_{lang}") or "").strip()
            for lang in languages
            if (data.get(f"variant_{lang}") or "").strip()
        },
        platform_texts={
            lang: {p: data.get(f"variant_{lang}__{p}") or "" for p in form.platforms} for lang in languages
        },
        alt_texts=alt_texts,
        campaign_hashtags=campaign.hashtag_list if campaign else [],
        scheduled_at=scheduled_at,
        local_date=data.get("local_date"),
        channel_ids=[c.pk for c in channels],
        publication_id=int(request.POST["publication"])
        if is_whole_number(request.POST.get("publication", ""))
        else None,
        # From the hidden fields the editor carries with each machine draft.
        unchecked_translations=form.unchecked_translations(),
        # The form's channels are its post's: each holds the post already (no query).
        channel_plans=[sending.ChannelPlan.of(channel) for channel in channels],
        images=len(alt_texts),
    )
    results = guidelines.check(ctx)
    sends = channels_shown(channels, ctx.variants, ctx.platform_texts, images=ctx.images)
    return render(request, "calendar_app/_check_results.html", {"results": results, "sends": sends})


def _alt_texts_for_check(request: HttpRequest, data: dict[str, Any]) -> list[dict[str, str]]:
    """The descriptions of the images the publication will have, as the editor sees them now."""
    if not is_whole_number(request.POST.get("publication", "")):
        return []
    removed = set(request.POST.getlist("remove_asset"))
    publication = Publication.objects.filter(pk=int(request.POST["publication"])).first()
    if publication is None or not permissions.can_view_publication(request.user, publication):
        return []
    images = [asset for asset in publication.assets.all() if str(asset.pk) not in removed]
    typed = data.get("alt_texts") or {}
    return [{**asset.alt_texts, **(typed if index == 0 else {})} for index, asset in enumerate(images)]


# --- The approval queue ------------------------------------------------------------


class ApprovalFilter(PublicationFilter):
    WAITING = [("1", gettext_lazy("more than a day")), ("3", gettext_lazy("more than three days"))]
    waiting = django_filters.ChoiceFilter(
        label=gettext_lazy("Waiting"), choices=WAITING, method="filter_waiting"
    )
    warnings = django_filters.ChoiceFilter(
        label=gettext_lazy("Has warnings"),
        choices=[("true", gettext_lazy("Yes")), ("false", gettext_lazy("No"))],
        method="filter_warnings",
    )

    class Meta(PublicationFilter.Meta):
        fields = ["post", "country", "region", "campaign", "kind", "language", "waiting", "warnings"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("status", "platform", "partner"):
            self.filters.pop(name, None)

    def filter_waiting(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(submitted_at__lte=timezone.now() - timedelta(days=int(value)))

    def filter_warnings(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(has_warnings=value == "true")


def approval_queryset() -> PublicationQuerySet:
    """Publications in review with their latest revision's time and flags, most urgent first."""
    latest = PublicationRevision.objects.filter(publication=OuterRef("pk"), number=OuterRef("revision"))
    return (
        Publication.objects.awaiting_review()
        .annotate(
            submitted_at=Subquery(latest.values("created_at")[:1]),
            has_warnings=Exists(latest.filter(has_warnings=True)),
            urgency=Case(
                # Advisories written in crisis mode come first (fast track), then other
                # publications of that kind; a label alone changes no other rule.
                When(crisis__isnull=False, then=Value(0)),
                When(kind=PublicationKind.CRISIS_ADVISORY, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
        )
        .order_by("urgency", "scheduled_at", "pk")
    )


def _for_queue(queryset: QuerySet[Publication]) -> QuerySet[Publication]:
    # The crisis too: whether an item whose moment passed may still be approved reads it.
    # Only what the cards show and what decides what a channel sends (its plan and
    # languages; its post is the publication's, attached by publication_channels).
    channel_fields = (
        "pk",
        "platform",
        "handle",
        "post_id",
        "language_plan",
        "separator",
        "content_languages",
    )
    # COUNT(*) of the publication's rows in the images table, as one subquery column.
    images = (
        Publication.assets.through.objects.filter(publication=OuterRef("pk"))
        .order_by()
        .values_list(Func(F("pk"), function="COUNT"))
    )
    return (
        queryset.select_related("post", "campaign", "author", "crisis")
        .prefetch_related(
            Prefetch("channels", queryset=Channel.objects.only(*channel_fields)),
            Prefetch("variants", queryset=Variant.objects.order_by("language")),
            "revisions",
        )
        .annotate(
            image_count=Coalesce(
                Subquery(images, output_field=IntegerField()),
                Value(0),
            )
        )
    )


@login_required
def approvals(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not permissions.can_use_approvals(request.user):
        raise PermissionDenied
    now = timezone.now()
    base = approval_queryset()
    filterset = ApprovalFilter(request.GET, queryset=base)
    if not filterset.is_valid():
        return render(
            request, "calendar_app/approvals.html", {"filter": filterset, "expired_list": False}, status=400
        )
    expired_list = request.GET.get("list") == "expired"
    # What the page shows changes with the data, the viewer (four eyes: not their own) and
    # the minute (waiting times, due within 24 hours).
    shape = (
        request.user.pk,
        roles.rights_of(request.user),
        sorted(request.GET.lists()),
        now.replace(second=0, microsecond=0).isoformat(),
    )
    context = {
        "filter": filterset,
        "expired_list": expired_list,
        "body": freshness.fragment(
            "approvals",
            reads=APPROVALS_READS,
            shape=shape,
            build=lambda: approvals_body(request, filterset, base, now=now, expired_list=expired_list),
            request=request,
        ),
    }
    return render(request, "calendar_app/approvals.html", context)


#: What the approval queue shows or filters on.
APPROVALS_READS = (
    Publication,
    PublicationRevision,
    Variant,
    Channel,
    Post,
    Campaign,
    User,
    Crisis,
    Membership,
    Proposal,
    Partner,
)


def queue_counts(queue: QuerySet[Publication], now: datetime) -> dict[str, int]:
    """Waiting (still decidable), due within DUE_SOON, and expired in review, in one query.

    The rule of `Publication.objects.expired_in_review`, as a condition: an advisory of an
    active crisis is waiting whatever its time (it goes out when approved), never expired.
    """
    waiting = in_time_for_review(now)
    return queue.aggregate(
        waiting=Count("pk", filter=waiting),
        due_soon=Count("pk", filter=waiting & Q(scheduled_at__lte=now + DUE_SOON)),
        expired=Count("pk", filter=~waiting),
    )


def approvals_body(
    request: AuthenticatedHttpRequest,
    filterset: ApprovalFilter,
    base: PublicationQuerySet,
    *,
    now: datetime,
    expired_list: bool,
) -> SafeString:
    """The counts, the queue's page of publications and its pagination."""
    queue = filterset.publications
    queue = queue.expired_in_review(now) if expired_list else queue.filter(in_time_for_review(now))
    page = Paginator(_for_queue(queue), APPROVALS_PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    counts = queue_counts(base, now)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_obj": page,
        "items": [{**_item_context(request, item)} for item in items],
        "counts": counts,
        "expired_list": expired_list,
        "query": query.urlencode(),
        "next": request.get_full_path(),
        "now": now,
        "due_soon": now + DUE_SOON,
    }
    return freshness.render_with_csrf_marker("calendar_app/_approvals_body.html", context)


@login_required
@require_POST
def approvals_bulk(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Approve the selected publications that pass every blocking rule; report the others."""
    if not permissions.can_use_approvals(request.user):
        raise PermissionDenied
    selected = []
    for value in request.POST.getlist("selected"):
        pk_text, _sep, revision_text = value.partition(":")
        if is_whole_number(pk_text) and is_whole_number(revision_text):
            selected.append((int(pk_text), int(revision_text)))
    publications = {
        p.pk: p for p in _for_queue(Publication.objects.filter(pk__in=[pk for pk, _r in selected]))
    }
    approved, skipped = 0, []
    for pk, revision in selected:
        publication = publications.get(pk)
        if publication is None:
            continue
        try:
            workflow.approve(request.user, publication, expected_revision=revision)
            approved += 1
        except (
            PermissionDenied,
            workflow.TransitionNotAllowed,
            workflow.DecisionRefused,
            workflow.StaleEdit,
        ) as exc:
            if isinstance(exc, PermissionDenied):
                reason = _("your own publication")
            elif isinstance(exc, workflow.StaleEdit):
                reason = _("changed meanwhile")
            else:
                reason = str(exc)
            skipped.append(f"“{publication.title}”: {reason}")
    if approved:
        messages.success(
            request,
            ngettext("%(count)d publication approved.", "%(count)d publications approved.", approved)
            % {"count": approved},
        )
    if skipped:
        messages.warning(request, _("Not approved: %(list)s") % {"list": "; ".join(skipped)})
    if not selected:
        messages.error(request, _("Select at least one publication."))
    return redirect(safe_next(request, reverse("approvals")))
