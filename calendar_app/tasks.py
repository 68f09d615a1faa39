"""Background jobs of the calendar (django-q2). Each is idempotent: it claims its
rows with a conditional update, so a task run twice (django-q2 redelivers a task
still running when `retry` expires) sends nothing twice."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_q.models import Schedule

from calendar_app import notifications
from calendar_app.models import Notification, NotificationPreference, Publication
from diplomacy.formats import format_when
from diplomacy.mail import one_line_subject
from diplomacy.models import User

logger = logging.getLogger(__name__)

#: Minutes to wait after the 1st, 2nd, ... failed email before the next try (a mail server
#: outage of up to about two hours loses nothing); after the last, the email is given up.
EMAIL_RETRY_MINUTES = (1, 2, 5, 10, 30, 60)
EMAIL_MAX_ATTEMPTS = len(EMAIL_RETRY_MINUTES) + 1
#: A claim older than this was left by a dead worker: django-q2 stops a task after
#: Q_CLUSTER "timeout" (300 s) and hands it out again after "retry" (900 s); this is past both.
EMAIL_CLAIM_TIMEOUT = timedelta(minutes=20)
#: Seconds the mail server gets for each step of a send, unless settings.EMAIL_TIMEOUT says.
EMAIL_SEND_TIMEOUT = 30
#: Emails retried in one run of the minute job (a long outage does not make one huge run).
EMAIL_RETRY_BATCH = 200

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
        # Emails the mail server did not take, tried again with back-off (see retry_emails).
        "name": "retry-emails",
        "func": "calendar_app.tasks.retry_emails",
        "schedule_type": Schedule.MINUTES,
        "minutes": 1,
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
    """Email each notification whose recipient wants email at once. Returns how many went out.

    Queued on commit by notifications.notify. Each email is claimed, sent, and only then
    marked emailed; one the mail server did not take is left to `retry_emails`."""
    sent = 0
    # Only first tries: a notification that failed before waits for its back-off.
    rows = Notification.objects.filter(
        pk__in=ids, emailed_at__isnull=True, email_claim="", email_attempts=0
    ).select_related("recipient__notification_preference", "publication", "proposal", "crisis", "actor")
    for notification in rows:
        if not _wants_email_now(notification):
            continue
        if _mail(notification.recipient, [notification]):
            sent += 1
    return sent


def send_daily_digests() -> int:
    """One email a day to each user who chose the digest, with what they have not had yet
    (claimed, sent, then marked emailed, as email_notifications). Returns how many went out."""
    sent = 0
    pending = Notification.objects.filter(
        emailed_at__isnull=True,
        email_claim="",
        email_attempts__lt=EMAIL_MAX_ATTEMPTS,
        recipient__notification_preference__email=NotificationPreference.EMAIL_DIGEST,
    ).select_related("recipient", "publication", "proposal", "crisis", "actor")
    by_user: dict[User, list[Notification]] = {}
    for notification in pending:
        by_user.setdefault(notification.recipient, []).append(notification)
    for user, items in by_user.items():
        if _mail(user, items):
            sent += 1
    return sent


def retry_emails() -> int:
    """Every minute (SCHEDULES "retry-emails"): send again the emails the mail server did
    not take, once each one's back-off has passed, alone or as the recipient's digest;
    first release the claims of workers that died while sending. Returns how many went out.

    After EMAIL_MAX_ATTEMPTS failed tries an email is given up: the notification stays in
    the bell with its `email_error`."""
    now = timezone.now()
    # A worker that died between claiming and recording left its claim: the mail may or
    # may not have left. Counting it as a failed try keeps such a mail within the limit.
    Notification.objects.filter(
        emailed_at__isnull=True, email_claimed_at__lt=now - EMAIL_CLAIM_TIMEOUT
    ).exclude(email_claim="").update(
        email_claim="",
        email_claimed_at=None,
        email_attempts=F("email_attempts") + 1,
        email_error=gettext("The sending was interrupted."),
        email_next_attempt_at=now,
    )
    due = (
        Notification.objects.filter(
            emailed_at__isnull=True,
            email_claim="",
            email_attempts__gt=0,
            email_attempts__lt=EMAIL_MAX_ATTEMPTS,
            email_next_attempt_at__lte=now,
        )
        .select_related("recipient__notification_preference", "publication", "proposal", "crisis", "actor")
        .order_by("created_at", "pk")[:EMAIL_RETRY_BATCH]
    )
    digests: dict[User, list[Notification]] = {}
    singles: list[Notification] = []
    for notification in due:
        if _wants_email_now(notification):
            singles.append(notification)
        elif _preference(notification.recipient) == NotificationPreference.EMAIL_DIGEST:
            digests.setdefault(notification.recipient, []).append(notification)
        # Someone who chose "never" since the failure gets none: it stays in the bell.
    sent = sum(1 for notification in singles if _mail(notification.recipient, [notification]))
    return sent + sum(1 for user, items in digests.items() if _mail(user, items))


def _wants_email_now(notification: Notification) -> bool:
    # Crisis news goes out at once, whatever the recipient chose for the rest.
    urgent = notification.verb in notifications.URGENT_VERBS
    return urgent or _preference(notification.recipient) == NotificationPreference.EMAIL_NOW


def _mail(user: User, items: list[Notification]) -> bool:
    """Claim `items`, send them to `user` in one email and record the outcome: emailed_at
    once the mail server took it, or a counted failure and the time of the next try. False
    when another worker holds them all or the mail server did not take it."""
    token = secrets.token_hex(16)
    pks = [item.pk for item in items]
    # Compare-and-set: only rows nobody holds, so two workers never mail one twice.
    if not Notification.objects.filter(pk__in=pks, emailed_at__isnull=True, email_claim="").update(
        email_claim=token, email_claimed_at=timezone.now()
    ):
        return False
    claimed = set(Notification.objects.filter(pk__in=pks, email_claim=token).values_list("pk", flat=True))
    mine = [item for item in items if item.pk in claimed]
    try:
        _send(user, mine)
    except Exception as exc:  # noqa: BLE001 - SMTP, refused, time-out, or a bad address: recorded, retried
        logger.warning("Email to user %s failed: %s", user.pk, exc)
        _record_failure(mine, token, exc)
        return False
    # Whoever holds the claim now (a dead-worker release came first), the mail left.
    Notification.objects.filter(pk__in=[item.pk for item in mine], emailed_at__isnull=True).update(
        emailed_at=timezone.now(),
        email_claim="",
        email_claimed_at=None,
        email_error="",
        email_next_attempt_at=None,
    )
    return True


def _record_failure(items: list[Notification], token: str, exc: Exception) -> None:
    """Release the claim, count the try and say when the next one comes (the back-off)."""
    now = timezone.now()
    error = f"{exc.__class__.__name__}: {exc}"[:300]
    for item in items:
        attempts = item.email_attempts + 1
        wait = EMAIL_RETRY_MINUTES[min(attempts, len(EMAIL_RETRY_MINUTES)) - 1]
        Notification.objects.filter(pk=item.pk, email_claim=token).update(
            email_claim="",
            email_claimed_at=None,
            email_attempts=F("email_attempts") + 1,
            email_error=error,
            email_next_attempt_at=now + timedelta(minutes=wait),
        )


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
                # When the publication goes out, in the recipient's language and its post's zone.
                "when": format_when(
                    n.publication.local_date, n.publication.local_time, n.publication.timezone, "weekday"
                )
                if n.publication
                else "",
                "comment": n.comment,
                "url": _base_url() + _url_of(n),
            }
            for n in items
        ]
        context = {"user": user, "lines": lines, "language": language}
        subject = one_line_subject(render_to_string("emails/notification_subject.txt", context))
        text = render_to_string("emails/notification_body.txt", context)
        html = render_to_string("emails/notification_body.html", context)
    # A mail server that hangs must not hold the task until django-q2 kills it.
    connection = get_connection(timeout=getattr(settings, "EMAIL_TIMEOUT", None) or EMAIL_SEND_TIMEOUT)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email], connection=connection)
    message.attach_alternative(html, "text/html")
    message.send()
