"""The home page of each role, and notifications."""

from __future__ import annotations

import zoneinfo
from collections.abc import Collection
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calendar_app import calendar, notifications, permissions, proposal_outcomes
from calendar_app.models import (
    Campaign,
    Crisis,
    Delivery,
    Notification,
    NotificationPreference,
    Publication,
    PublicationRevision,
    PublicationStatus,
)
from calendar_app.timezones import BRUSSELS
from calendar_app.views.review import approval_queryset, queue_counts
from diplomacy import freshness, roles
from diplomacy.http import AuthenticatedHttpRequest
from diplomacy.models import Channel, Membership, Post, User

HOME_LIST = 10
HORIZON_DAYS = 14


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, object] = {
        "memberships": roles.memberships(user),
        "my_posts": roles.posts_of(user),
        "my_partners": roles.partners_of(user),
        "network_actions": roles.allowed_actions(user),
    }
    if context["my_posts"] or permissions.can_use_approvals(user):
        # The work lists change with the data, the viewer's posts and the minute.
        now = timezone.now()
        context["work"] = freshness.fragment(
            "home",
            reads=HOME_READS,
            shape=(roles.rights_of(user), now.replace(second=0, microsecond=0).isoformat()),
            build=lambda: home_work(user, now),
        )
    if context["my_partners"]:
        # Not cached: four small queries, and a partner expects a decision to show at once.
        context["partner_overview"] = proposal_outcomes.partner_overview(roles.partner_ids(user))
        context["can_propose"] = permissions.can_create_proposal(user)
    return render(request, "calendar_app/home.html", context)


#: What the work lists of the home page read.
HOME_READS = (Publication, PublicationRevision, Channel, Post, Campaign, Crisis, Membership, Delivery)


def home_work(user: User, now: datetime) -> SafeString:
    """The queue and today's network (central), and the lists of the viewer's posts."""
    context: dict[str, object] = {"my_posts": roles.posts_of(user)}
    post_ids = roles.post_ids(user)
    if post_ids:
        own = Publication.objects.filter(post_id__in=post_ids)
        context["drafts"] = calendar.for_display(own.filter(status=PublicationStatus.DRAFT)).order_by(
            "scheduled_at"
        )[:HOME_LIST]
        context["changes_requested"] = calendar.for_display(
            own.filter(status=PublicationStatus.CHANGES_REQUESTED)
        ).order_by("scheduled_at")[:HOME_LIST]
        # What only a person can settle: a channel to look at, a new time to give.
        context["own_checks"] = calendar.for_display(own.needing_a_check()).order_by("scheduled_at")[
            :HOME_LIST
        ]
        context["own_missed"] = calendar.for_display(own.filter(status=PublicationStatus.MISSED)).order_by(
            "-scheduled_at"
        )[:HOME_LIST]
        week = calendar.week_window(timezone.localdate())
        context["week"] = week
        context["channel_cadence"] = channel_cadence(post_ids, week)
        context["upcoming"] = calendar.for_display(
            own.between(now, now + timedelta(days=HORIZON_DAYS)).exclude(status=PublicationStatus.CANCELLED)
        ).order_by("scheduled_at")[: HOME_LIST * 3]
    if permissions.can_use_approvals(user):
        context["queue"] = queue_counts(approval_queryset(), now)
        context["checks"] = calendar.for_display(Publication.objects.needing_a_check()).order_by(
            "scheduled_at"
        )[:HOME_LIST]
        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(BRUSSELS))
        day = calendar.DayRange(today, today)
        context["today"] = calendar.for_display(
            calendar.in_window(Publication.objects.exclude(status=PublicationStatus.CANCELLED), day, BRUSSELS)
        ).order_by("scheduled_at")[: HOME_LIST * 3]
        context["today_zone"] = BRUSSELS
    return render_to_string("calendar_app/_home_work.html", context)


def channel_cadence(post_ids: Collection[int], week: calendar.DayRange) -> list[tuple[Channel, int]]:
    """The active channels of these posts, each with its publications planned this week
    (cancelled ones aside). Counted from the week's publications, not from each channel's
    whole history."""
    counts = (
        Publication.channels.through.objects.filter(
            channel__post_id__in=post_ids,
            publication__local_date__gte=week.first,
            publication__local_date__lte=week.last,
        )
        .exclude(publication__status=PublicationStatus.CANCELLED)
        .values("channel_id")
        .annotate(n=Count("publication_id", distinct=True))
        .order_by()
    )
    planned = {row["channel_id"]: row["n"] for row in counts}
    channels = list(
        Channel.objects.filter(post_id__in=post_ids, active=True)
        .select_related("post")
        .order_by("post__name", "platform")
    )
    return [(channel, planned.get(channel.pk, 0)) for channel in channels]


@login_required
def notification_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    items = list(
        Notification.objects.filter(recipient=request.user).select_related(
            "publication", "proposal", "actor"
        )[:50]
    )
    preference = NotificationPreference.objects.filter(user=request.user).first()
    context = {
        "items": [(item, notifications.message(item)) for item in items],
        "preference": preference.email if preference else NotificationPreference.EMAIL_NOW,
        "choices": NotificationPreference.EMAIL_CHOICES,
    }
    return render(request, "calendar_app/notifications.html", context)


@login_required
@require_POST
def notifications_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, _("All notifications are marked as read."))
    return redirect("notification_list")


@login_required
@require_POST
def notification_preference(request: AuthenticatedHttpRequest) -> HttpResponse:
    choice = request.POST.get("email")
    if choice not in dict(NotificationPreference.EMAIL_CHOICES):
        messages.error(request, _("Choose one of the options."))
        return redirect("notification_list")
    NotificationPreference.objects.update_or_create(user=request.user, defaults={"email": choice})
    messages.success(request, _("Your notification settings are saved."))
    return redirect("notification_list")
