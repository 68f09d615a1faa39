"""Background jobs of the network app (run by django-q2)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_q.models import Schedule

from diplomacy.mail import one_line_subject
from diplomacy.models import Invitation


def send_invitation_email(invitation_id: int, token: str, base_url: str) -> bool:
    """Email the invitation link, in the language chosen for the invitee.

    Idempotent enough for a redelivered task: an invitation that is no longer
    open is not mailed again. Returns whether a mail was sent.
    """
    invitation = (
        Invitation.objects.open()
        .select_related("post", "partner", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        return False
    link = base_url.rstrip("/") + reverse("invitation_accept", args=[token])
    context = {"invitation": invitation, "link": link, "valid_days": settings.INVITATION_VALID_DAYS}
    with translation.override(invitation.language):
        subject = one_line_subject(render_to_string("emails/invitation_subject.txt", context))
        text = render_to_string("emails/invitation_body.txt", context)
        html = render_to_string("emails/invitation_body.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[invitation.email],
    )
    message.attach_alternative(html, "text/html")
    message.send()
    return True


def clear_expired_sessions() -> None:
    """Daily: drop expired sessions from the database session store."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.filter(expire_date__lt=timezone.now()).delete()


#: Periodic jobs of this app, declared by `manage.py sync_schedules`.
SCHEDULES = [
    {
        "name": "clear-expired-sessions",
        "func": "diplomacy.tasks.clear_expired_sessions",
        "schedule_type": Schedule.DAILY,
    },
]
