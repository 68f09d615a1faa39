"""Background jobs of the calendar (django-q2). Each is idempotent: it claims its
rows with a conditional update, so a task run twice (django-q2 redelivers a task
still running when `retry` expires) sends nothing twice."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django_q.models import Schedule

from calendar_app import notifications
from calendar_app.models import Notification, NotificationPreference, Publication
from diplomacy.models import User

logger = logging.getLogger(__name__)

#: Periodic jobs of this app, declared by `manage.py sync_schedules`.
SCHEDULES = [
    {
        "name": "remind-due-soon",
        "func": "calendar_app.tasks.remind_due_soon",
        "schedule_type": Schedule.MINUTES,
        "minutes": 15,
    },
    {
        "name": "daily-digest",
        "func": "calendar_app.tasks.send_daily_digests",
        "schedule_type": Schedule.DAILY,
    },
    {
        # Crisis declarations and advisories on-call reviewers left for 15 minutes go to everyone central.
        "name": "crisis-escalation",
        "func": "calendar_app.notifications.escalate_unanswered",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
    {
        # The safety net behind `manage.py dispatch`, which sends at each publication's time:
        # whatever it left (a dispatcher down) goes within about a minute and a half.
        "name": "publish-due",
        "func": "calendar_app.publishing.engine.publish_due",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
    },
]


#: The PostgreSQL channel the dispatchers LISTEN on (calendar_app.publishing.dispatcher).
DISPATCH_CHANNEL = "calendar_dispatch"


def wake_dispatcher() -> None:
    """Once the current transaction commits, wake every dispatcher at once: something may go
    out now (an approval, a retry, a delivery continued, a crisis advisory fast-tracked).

    PostgreSQL NOTIFY, sent after the commit so the dispatcher finds the committed rows; on
    SQLite nothing is sent, the dispatcher polls every second. Nothing is scheduled per
    publication: the dispatcher reads the publication's time when it comes, so a publication
    moved or cancelled meanwhile goes out at its new time or not at all.
    """
    transaction.on_commit(notify_dispatchers)


def notify_dispatchers() -> None:
    """NOTIFY now (outside a transaction: at once). A lost notification costs at most the
    dispatcher's one-second poll, so a failure is logged, never raised into the caller."""
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [DISPATCH_CHANNEL])
    except DatabaseError:
        logger.warning("Could not wake the dispatchers; they poll within a second.", exc_info=True)


def _preference(user: User) -> str:
    # The reverse one-to-one raises when the user never chose: getattr's default covers it.
    pref: NotificationPreference | None = getattr(user, "notification_preference", None)
    return pref.email if pref else NotificationPreference.EMAIL_NOW


def _base_url() -> str:
    return getattr(settings, "SITE_URL", "http://127.0.0.1:8000").rstrip("/")


def email_notifications(ids: list[int]) -> int:
    """Email each notification whose recipient wants email at once. Returns how many went out."""
    sent = 0
    rows = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).select_related(
        "recipient__notification_preference", "publication", "proposal", "crisis", "actor"
    )
    for notification in rows:
        # Crisis news goes out at once, whatever the recipient chose for the rest.
        urgent = notification.verb in notifications.URGENT_VERBS
        if _preference(notification.recipient) != NotificationPreference.EMAIL_NOW and not urgent:
            continue
        # Claim before sending: a redelivered task finds it taken.
        if not Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        ):
            continue
        _send(notification.recipient, [notification])
        sent += 1
    return sent


def send_daily_digests() -> int:
    """One email a day to each user who chose the digest, with what they have not had yet."""
    sent = 0
    pending = Notification.objects.filter(
        emailed_at__isnull=True, recipient__notification_preference__email=NotificationPreference.EMAIL_DIGEST
    ).select_related("recipient", "publication", "proposal", "actor")
    by_user: dict = {}
    for notification in pending:
        by_user.setdefault(notification.recipient, []).append(notification)
    for user, items in by_user.items():
        claimed = Notification.objects.filter(pk__in=[n.pk for n in items], emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if claimed:
            _send(user, items)
            sent += 1
    return sent


def remind_due_soon() -> int:
    """Tell reviewers about publications due within 24 hours and still in review (once each)."""
    now = timezone.now()
    already = Notification.objects.filter(publication=OuterRef("pk"), verb="due_soon")
    due = (
        Publication.objects.awaiting_review()
        .filter(scheduled_at__gt=now, scheduled_at__lte=now + timedelta(hours=24))
        .exclude(Exists(already))
    )
    count = 0
    for publication in due.select_related("post"):
        notifications.notify("due_soon", publication, None)
        count += 1
    return count


def _url_of(notification: Notification) -> str:
    if notification.crisis_id and notification.verb in ("advisory_submitted", "advisory_escalated"):
        return reverse("approvals")
    if notification.crisis_id:
        return reverse("crisis_detail", args=[notification.crisis_id])
    if notification.publication_id:
        return reverse("publication_detail", args=[notification.publication_id])
    if notification.proposal_id:
        return reverse("proposal_detail", args=[notification.proposal_id])
    return "/"


def _send(user: User, items: list[Notification]) -> None:
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        lines = [
            {
                "text": notifications.message(n),
                "comment": n.comment,
                "url": _base_url() + _url_of(n),
            }
            for n in items
        ]
        context = {"user": user, "lines": lines, "language": language}
        subject = render_to_string("emails/notification_subject.txt", context).strip()
        text = render_to_string("emails/notification_body.txt", context)
        html = render_to_string("emails/notification_body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    message.send()
