"""Joining by invitation: signup is closed, so this is how a person gets an account.

A central reviewer invites an email address into one role; the invitee follows
the emailed link (single use, expiring) and sets a password. Following the link
proves the address, so the email is marked verified.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diplomacy import roles
from diplomacy.models import Invitation, Membership, Partner, Post, User, hash_token


class InvitationUnusable(Exception):
    """The link is unknown, used, revoked or expired; the message says which."""


def create_invitation(
    actor: User,
    *,
    email: str,
    role: str,
    post: Post | None = None,
    partner: Partner | None = None,
    full_name: str = "",
    language: str = "en",
    base_url: str,
) -> Invitation:
    """Invite `email` into `role`; the email goes out after commit.

    Who: users for whom `roles.can_invite` holds. Raises PermissionDenied
    otherwise, ValidationError when the scope does not fit the role.
    """
    if not roles.can_invite(actor):
        raise PermissionDenied
    email = email.strip().lower()
    invitation = Invitation(
        email=email,
        full_name=full_name,
        role=role,
        post=post,
        partner=partner,
        language=language,
        invited_by=actor,
        expires_at=Invitation.default_expiry(),
    )
    token = Invitation.new_token()
    invitation.token_hash = hash_token(token)
    Membership(role=role, post=post, partner=partner).clean()
    with transaction.atomic():
        invitation.save()
        transaction.on_commit(lambda: _queue_invitation_email(invitation.pk, token, base_url))
    return invitation


def _queue_invitation_email(invitation_id: int, token: str, base_url: str) -> None:
    from django_q.tasks import async_task

    # save=False: the task's arguments carry the raw token; do not keep them in
    # django-q2's result table once the mail is out.
    async_task("diplomacy.tasks.send_invitation_email", invitation_id, token, base_url, save=False)


def revoke_invitation(actor: User, invitation: Invitation) -> bool:
    """Revoke an open invitation; returns False when it was no longer open."""
    if not roles.can_invite(actor):
        raise PermissionDenied
    return bool(Invitation.objects.open().filter(pk=invitation.pk).update(revoked_at=timezone.now()))


def find_invitation(token: str) -> Invitation:
    """The invitation for `token`, or InvitationUnusable saying why it cannot be used."""
    invitation = (
        Invitation.objects.select_related("post", "partner").filter(token_hash=hash_token(token)).first()
    )
    if invitation is None:
        raise InvitationUnusable(_("This invitation link is not valid."))
    state = invitation.state
    if state == "accepted":
        raise InvitationUnusable(_("This invitation has already been used. Log in instead."))
    if state == "revoked":
        raise InvitationUnusable(_("This invitation was withdrawn."))
    if state == "expired":
        raise InvitationUnusable(
            _("This invitation has expired. Ask the person who invited you for a new one.")
        )
    return invitation


def accept_invitation(token: str, *, password: str | None, full_name: str = "") -> User:
    """Create the account (or add the role to an existing one) and use up the link.

    An existing account keeps its password: the link adds the role only.

    The invitation is claimed with a compare-and-set update, so a link clicked
    twice at once creates one account. Everything happens in one transaction:
    a failure leaves no half-made account.
    """
    from allauth.account.models import EmailAddress

    invitation = find_invitation(token)
    now = timezone.now()
    with transaction.atomic():
        claimed = Invitation.objects.open().filter(pk=invitation.pk).update(accepted_at=now)
        if not claimed:
            raise InvitationUnusable(_("This invitation has already been used. Log in instead."))
        user = User.objects.filter(email__iexact=invitation.email).first()
        if user is None:
            if not password:
                raise InvitationUnusable(_("Choose a password to create your account."))
            user = User(email=invitation.email, full_name=full_name or invitation.full_name)
            user.set_password(password)
            user.save()
        EmailAddress.objects.update_or_create(
            user=user,
            email=invitation.email,
            defaults={"verified": True, "primary": True},
        )
        try:
            with transaction.atomic():
                Membership.objects.create(
                    user=user, role=invitation.role, post=invitation.post, partner=invitation.partner
                )
        except IntegrityError:
            pass  # The person already holds this role: nothing to add.
        Invitation.objects.filter(pk=invitation.pk).update(accepted_by=user)
    roles.forget_memberships(user)
    return user


def existing_account(invitation: Invitation) -> User | None:
    return User.objects.filter(email__iexact=invitation.email).first()
