"""The home page of each role, and notifications."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calendar_app import calendar, notifications, permissions
from calendar_app.models import Notification, NotificationPreference, Publication, PublicationStatus
from calendar_app.timezones import BRUSSELS
from calendar_app.views.review import DUE_SOON, approval_queryset
from diplomacy import roles
from diplomacy.models import Channel

HOME_LIST = 10
HORIZON_DAYS = 14


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "memberships": roles.memberships(user),
        "my_posts": roles.posts_of(user),
        "my_partners": roles.partners_of(user),
        "is_central": roles.is_central(user),
        "network_actions": roles.allowed_actions(user),
    }
    now = timezone.now()
    post_ids = roles.post_ids(user)
    if post_ids:
        own = Publication.objects.filter(post_id__in=post_ids)
        context["drafts"] = calendar.for_display(own.filter(status=PublicationStatus.DRAFT)).order_by(
            "scheduled_at"
        )[:HOME_LIST]
        context["changes_requested"] = calendar.for_display(
            own.filter(status=PublicationStatus.CHANGES_REQUESTED)
        ).order_by("scheduled_at")[:HOME_LIST]
        week = calendar.week_window(timezone.localdate())
        context["week"] = week
        context["channel_cadence"] = (
            Channel.objects.filter(post_id__in=post_ids, active=True)
            .select_related("post")
            .annotate(
                planned=Count(
                    "publications",
                    filter=Q(
                        publications__local_date__gte=week.first,
                        publications__local_date__lte=week.last,
                    )
                    & ~Q(publications__status=PublicationStatus.CANCELLED),
                    distinct=True,
                )
            )
            .order_by("post__name", "platform")
        )
        context["upcoming"] = calendar.for_display(
            own.between(now, now + timedelta(days=HORIZON_DAYS)).exclude(status=PublicationStatus.CANCELLED)
        ).order_by("scheduled_at")[: HOME_LIST * 3]
    if permissions.can_use_approvals(user):
        context["queue"] = approval_queryset().aggregate(
            waiting=Count("pk", filter=Q(scheduled_at__gt=now)),
            due_soon=Count("pk", filter=Q(scheduled_at__gt=now, scheduled_at__lte=now + DUE_SOON)),
            expired=Count("pk", filter=Q(scheduled_at__lte=now)),
        )
        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(BRUSSELS))
        day = calendar.DayRange(today, today)
        context["today"] = calendar.for_display(
            calendar.in_window(Publication.objects.exclude(status=PublicationStatus.CANCELLED), day, BRUSSELS)
        ).order_by("scheduled_at")[: HOME_LIST * 3]
        context["today_zone"] = BRUSSELS
    return render(request, "calendar_app/home.html", context)


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
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
def notifications_read(request: HttpRequest) -> HttpResponse:
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    messages.success(request, _("All notifications are marked as read."))
    return redirect("notification_list")


@login_required
@require_POST
def notification_preference(request: HttpRequest) -> HttpResponse:
    choice = request.POST.get("email")
    if choice not in dict(NotificationPreference.EMAIL_CHOICES):
        messages.error(request, _("Choose one of the options."))
        return redirect("notification_list")
    NotificationPreference.objects.update_or_create(user=request.user, defaults={"email": choice})
    messages.success(request, _("Your notification settings are saved."))
    return redirect("notification_list")
