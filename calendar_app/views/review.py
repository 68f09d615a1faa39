"""Review: the transitions' endpoints, the approval queue, comments, live guideline checks."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
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
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calendar_app import guidelines, permissions, sending, workflow
from calendar_app.filters import PublicationFilter
from calendar_app.forms import PublicationForm
from calendar_app.models import (
    Broadcast,
    Campaign,
    Crisis,
    FilteredPage,
    Proposal,
    Publication,
    PublicationKind,
    PublicationQuerySet,
    PublicationRevision,
    PublicationStatus,
    Variant,
    in_time_for_review,
    is_whole_number,
)
from calendar_app.models.text import language_name
from calendar_app.timezones import check_local_time
from calendar_app.views.filtering import filterset_for
from calendar_app.views.preview import editor_login_required
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
    variants = list(publication.variants.all())
    text, other_texts = texts_for_reader(
        variants, get_language() or "", publication.post.publishing_language_list
    )
    revision = publication.latest_revision
    return {
        "item": publication,
        # The queue counts each publication's images in its own query (image_count).
        "sends": publication_shown(publication, image_count=getattr(publication, "image_count", None)),
        "actions": permissions.allowed_actions(request.user, publication),
        "now": timezone.now(),
        "due_soon": timezone.now() + DUE_SOON,
        "pending": publication.status == PublicationStatus.IN_REVIEW,
        "text": text,
        "other_texts": other_texts,
        "check_summary": checks_summary(revision.checks if revision else []),
        # "13:00 Pristina" reads better than the zone's own city (Belgrade) for a post's
        # local time; a publication kept in another zone is named by that zone.
        "zone": publication.post.city
        if publication.timezone == publication.post.timezone
        else zone_place(publication.timezone),
        "in_brussels": publication.timezone == BRUSSELS,
        "platforms": sorted({channel.get_platform_display() for channel in publication.channels.all()}),
    }


# --- What a queue card shows ------------------------------------------------------------

#: The zone central works in: each card also gives the time there.
BRUSSELS = "Europe/Brussels"


def zone_place(zone_name: str) -> str:
    """The place a zone is named after, as people say "Istanbul time": "Buenos Aires" for
    America/Argentina/Buenos_Aires; the name itself when it has no place (UTC)."""
    try:
        zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zone_name
    return zone_name.rsplit("/", 1)[-1].replace("_", " ")


def _language_label(code: str) -> str:
    """ "Turkish", "Néerlandais": a name starts a label, so it takes a capital (Django's
    French and Dutch names do not); a code without a known name stays as it is."""
    name = language_name(code)
    return name if name == code else str(capfirst(name))


@dataclass(frozen=True)
class ShownText:
    """One language's text on a card, with the language's name in the reader's language."""

    language: str
    name: str
    text: str


def reading_order(reader_language: str, post_order: list[str]) -> Callable[[str], tuple[bool, int, str]]:
    """A sort key for language codes: the reader's language, then the post's publishing
    languages in the post's order, then any other by code."""
    reader = reader_language.split("-")[0].lower()
    rank = {code: index for index, code in enumerate(post_order)}
    return lambda code: (code != reader, rank.get(code, len(rank)), code)


def texts_for_reader(
    variants: list[Variant], reader_language: str, post_order: list[str]
) -> tuple[ShownText | None, list[ShownText]]:
    """The text a reviewer reads first, and the others: their interface language when the
    publication has it, else the first of the post's publishing languages it has (the
    language the post leads with), else the first by code. The others follow the post's order."""
    first = reading_order(reader_language, post_order)
    ordered = sorted(variants, key=lambda variant: first(variant.language))
    shown = [ShownText(v.language, _language_label(v.language), v.text) for v in ordered]
    return (shown[0] if shown else None), shown[1:]


@dataclass(frozen=True)
class ChecksSummary:
    """What the guideline checks of a revision found, in one line: "pass", "warning", "blocking"."""

    state: str
    label: str
    failed: list[dict[str, Any]]


def checks_summary(checks: list[dict[str, Any]]) -> ChecksSummary:
    """ "Checks pass", "2 warnings", "1 blocking" or "1 blocking, 2 warnings" for stored checks."""
    failed = [check for check in checks if not check["passed"]]
    blocking = sum(1 for check in failed if check["severity"] == guidelines.BLOCKING)
    warnings = len(failed) - blocking
    parts = []
    if blocking:
        parts.append(ngettext("%(count)d blocking", "%(count)d blocking", blocking) % {"count": blocking})
    if warnings:
        parts.append(ngettext("%(count)d warning", "%(count)d warnings", warnings) % {"count": warnings})
    if not parts:
        return ChecksSummary("pass", _("Checks pass"), [])
    return ChecksSummary("blocking" if blocking else "warning", ", ".join(parts), failed)


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


@editor_login_required
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
    # The texts as typed: one the form refuses (too long for a channel) is not in cleaned_data,
    # and the check must judge it, not call its language missing.
    variants, platform_texts = form.typed_texts()
    alt_texts = _alt_texts_for_check(request, data)
    ctx = guidelines.CheckContext(
        post=post,
        kind=data.get("kind") or PublicationKind.REGULAR,
        platforms=sorted({c.platform for c in channels}),
        variants=variants,
        platform_texts=platform_texts,
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
        label=gettext_lazy("Waiting"),
        choices=WAITING,
        method="filter_waiting",
        empty_label=gettext_lazy("Any time"),
    )
    warnings = django_filters.ChoiceFilter(
        label=gettext_lazy("Has warnings"),
        choices=[("true", gettext_lazy("Yes")), ("false", gettext_lazy("No"))],
        method="filter_warnings",
        empty_label=gettext_lazy("With or without"),
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
    filterset = filterset_for(request, FilteredPage.APPROVALS, ApprovalFilter, base)
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
    Broadcast,
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
    page = Paginator(_for_queue(one_item_per_group(queue)), APPROVALS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    items = list(page.object_list)
    groups = group_entries(request.user, [item.broadcast_id for item in items if item.broadcast_id])
    counts = queue_counts(base, now)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page_obj": page,
        "items": [
            {"group": groups[item.broadcast_id]}
            if item.broadcast_id in groups
            else {**_item_context(request, item)}
            for item in items
        ],
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


# --- Groups (broadcasts) in the queue ------------------------------------------------------


def one_item_per_group(queue: QuerySet[Publication]) -> QuerySet[Publication]:
    """The queue with one row per group: a publication of no group, or the first (lowest id)
    of its group's publications in `queue`, which stands for the whole group."""
    first_of_group = queue.filter(broadcast=OuterRef("broadcast")).order_by("pk").values("pk")[:1]
    return queue.filter(Q(broadcast__isnull=True) | Q(pk=Subquery(first_of_group)))


#: Lines and characters of a text shown before "Read the whole text".
TEXT_HEAD_LINES = 3
TEXT_HEAD_CHARS = 280


def _head(text: str) -> str:
    lines = text.splitlines()
    head = "\n".join(lines[:TEXT_HEAD_LINES])
    return head[:TEXT_HEAD_CHARS].rstrip()


def _failed_checks(publication: Publication) -> list[dict[str, Any]]:
    revision = publication.latest_revision
    return [check for check in (revision.checks if revision else []) if not check["passed"]]


def _most_common(values: list[Any]) -> Any:
    """The value most publications of a group share (the first one seen among equals)."""
    counted: list[tuple[Any, int]] = []
    for value in values:
        for index, (seen, count) in enumerate(counted):
            if seen == value:
                counted[index] = (seen, count + 1)
                break
        else:
            counted.append((value, 1))
    return max(counted, key=lambda pair: pair[1])[0] if counted else None


def group_entries(user: User, broadcast_ids: list[int]) -> dict[int, dict[str, Any]]:
    """What the queue shows of each group: its texts once per language, its guideline results
    once (and per post where a post's differ), its posts with their channels. One query for
    the publications of every group on the page, and one per relation prefetched."""
    if not broadcast_ids:
        return {}
    channel_fields = ("pk", "platform", "handle", "post_id")
    members = (
        Publication.objects.awaiting_review()
        .filter(broadcast_id__in=broadcast_ids)
        .select_related("post", "broadcast", "broadcast__crisis", "crisis")
        .prefetch_related(
            Prefetch(
                "channels", queryset=Channel.objects.only(*channel_fields).order_by("platform", "handle")
            ),
            Prefetch("variants", queryset=Variant.objects.order_by("language")),
            "revisions",
        )
        .order_by("post__name", "pk")
    )
    by_group: dict[int, list[Publication]] = {}
    for member in members:
        assert member.broadcast_id is not None  # filtered on it
        by_group.setdefault(member.broadcast_id, []).append(member)
    return {pk: _group_entry(user, publications) for pk, publications in by_group.items()}


def _group_entry(user: User, publications: list[Publication]) -> dict[str, Any]:
    broadcast = publications[0].broadcast
    assert broadcast is not None  # the publications were loaded by their group
    texts: dict[str, list[str]] = {}
    for publication in publications:
        for variant in publication.variants.all():
            texts.setdefault(variant.language, []).append(variant.text)
    common_texts = {language: _most_common(values) for language, values in texts.items()}
    checks = [_failed_checks(publication) for publication in publications]
    common_checks = _most_common(checks) or []
    rows = []
    for publication, failed in zip(publications, checks, strict=True):
        own_texts = [
            variant
            for variant in publication.variants.all()
            if variant.text != common_texts[variant.language]
        ]
        rows.append(
            {
                "publication": publication,
                "channels": list(publication.channels.all()),
                "own_texts": own_texts,
                "checks": failed if failed != common_checks else None,
                "may_decide": permissions.can_review(user, publication),
                "has_blocking": any(c["severity"] == guidelines.BLOCKING for c in failed),
            }
        )
    return {
        "broadcast": broadcast,
        "rows": rows,
        "count": len(publications),
        "texts": _texts_in_reading_order(common_texts, publications[0].post.publishing_language_list),
        "checks": common_checks,
        "check_summary": checks_summary(common_checks),
        "may_decide": permissions.can_decide_broadcast(user, broadcast),
        "own_count": sum(1 for row in rows if not row["may_decide"]),
        "first": publications[0],
    }


def _texts_in_reading_order(texts: dict[str, str], post_order: list[str]) -> list[dict[str, Any]]:
    """A group's texts, the reviewer's language first (as `texts_for_reader` orders them)."""
    first = reading_order(get_language() or "", post_order)
    return [
        {
            "language": language,
            "name": _language_label(language),
            "text": text,
            "head": _head(text),
            "long": _head(text) != text.strip(),
        }
        for language, text in sorted(texts.items(), key=lambda pair: first(pair[0]))
    ]


def _get_broadcast_for_user(request: AuthenticatedHttpRequest, pk: int) -> Broadcast:
    """Load a group the user may decide: 403 for anyone but central reviewers."""
    if not permissions.can_use_approvals(request.user):
        raise PermissionDenied
    broadcast = get_object_or_404(Broadcast, pk=pk)
    if not permissions.can_decide_broadcast(request.user, broadcast):
        raise PermissionDenied
    return broadcast


def _whole_numbers(values: list[str]) -> list[int]:
    return [int(value) for value in values if is_whole_number(value) and len(value) < 12]


@login_required
@require_POST
def broadcast_decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """One decision for a whole group: approve, or request changes; some posts excluded."""
    broadcast = _get_broadcast_for_user(request, pk)
    revisions: dict[int, int] = {}
    for value in request.POST.getlist("member"):
        pk_text, _sep, revision_text = value.partition(":")
        if is_whole_number(pk_text) and is_whole_number(revision_text):
            revisions[int(pk_text)] = int(revision_text)
    try:
        outcome = workflow.decide_broadcast(
            request.user,
            broadcast,
            request.POST.get("decision", ""),
            revisions=revisions,
            exclude_posts=_whole_numbers(request.POST.getlist("exclude")),
            comment=request.POST.get("comment", ""),
        )
    except (workflow.DecisionRefused, workflow.StaleEdit) as exc:
        text = (
            str(exc) if isinstance(exc, workflow.DecisionRefused) else _("Someone else acted first: reload.")
        )
        messages.error(request, text)
        return redirect(safe_next(request, reverse("approvals")))
    _tell_the_outcome(request, outcome, request.POST.get("decision", ""))
    return redirect(safe_next(request, reverse("approvals")))


def _tell_the_outcome(request: HttpRequest, outcome: workflow.BroadcastOutcome, decision: str) -> None:
    done = len(outcome.decided)
    if decision == "approve":
        text = ngettext("%(count)d approved", "%(count)d approved", done) % {"count": done}
    else:
        text = ngettext("%(count)d sent back to its post", "%(count)d sent back to their posts", done) % {
            "count": done
        }
    parts = [text]
    if outcome.changed:
        parts.append(
            ngettext(
                "%(count)d had changed since you opened the page and waits for you",
                "%(count)d had changed since you opened the page and wait for you",
                len(outcome.changed),
            )
            % {"count": len(outcome.changed)}
        )
    if outcome.refused:
        parts.append(
            _("not decided: %(list)s")
            % {"list": "; ".join(f"{p.post.name}: {reason}" for p, reason in outcome.refused)}
        )
    summary = "; ".join(parts) + "."
    (messages.success if done and not (outcome.changed or outcome.refused) else messages.warning)(
        request, summary[:1].upper() + summary[1:]
    )
    if outcome.excluded:
        messages.info(
            request,
            ngettext(
                "%(count)d post was taken out of the group: %(posts)s. "
                "It waits in the queue as an item of its own.",
                "%(count)d posts were taken out of the group: %(posts)s. "
                "They wait in the queue as items of their own.",
                len(outcome.excluded),
            )
            % {"count": len(outcome.excluded), "posts": ", ".join(p.post.name for p in outcome.excluded)},
        )


# --- Approve every item that passes, across pages ---------------------------------------


#: At most this many publications are approved by one "approve all that pass".
APPROVE_ALL_LIMIT = 500


def _leave_out_reason(user: User, publication: Publication) -> str | None:
    """Why "approve all that pass" leaves `publication` out, or None when it goes in."""
    if publication.broadcast_id is not None:
        return _("part of a group: decide the group in the queue")
    if not permissions.can_review(user, publication):
        return _("you wrote it or sent it to review (four eyes)")
    revision = publication.latest_revision
    if revision is None or revision.number != publication.revision:
        return _("no revision submitted")
    if any(not check["passed"] for check in revision.checks):
        return _("its guideline checks found something: read it first")
    return None


@login_required
def approvals_approve_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Confirm first: how many of the queue's items (every page, the filters as chosen) pass
    every guideline check and may be approved by this reviewer, and which are left out, why.
    The confirmation posts them to the bulk approval, which checks each one again."""
    if not permissions.can_use_approvals(request.user):
        raise PermissionDenied
    filterset = ApprovalFilter(request.GET, queryset=approval_queryset())
    if not filterset.is_valid():
        return render(
            request, "calendar_app/approvals.html", {"filter": filterset, "expired_list": False}, status=400
        )
    queue = filterset.publications.filter(in_time_for_review(timezone.now()))
    publications = list(queue.select_related("post").prefetch_related("revisions"))
    passing, left_out = [], []
    for publication in publications:
        reason = _leave_out_reason(request.user, publication)
        if reason is None:
            passing.append(publication)
        else:
            left_out.append((publication, reason))
    # One confirmation posts each as a form field: under Django's DATA_UPLOAD_MAX_NUMBER_FIELDS
    # (1,000) with room to spare; the rest are there for the next round.
    later = passing[APPROVE_ALL_LIMIT:]
    passing = passing[:APPROVE_ALL_LIMIT]
    query = request.GET.copy()
    query.pop("page", None)
    back = reverse("approvals") + (f"?{query.urlencode()}" if query else "")
    context = {
        "filter": filterset,
        "passing": passing,
        "later": len(later),
        "left_out": left_out,
        "back": back,
    }
    return render(request, "calendar_app/approvals_confirm.html", context)
