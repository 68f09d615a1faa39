"""Joining by invitation: single-use, expiring links; signup stays closed."""

import re
import threading
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from diplomacy import invitations, roles
from diplomacy.models import Invitation, Membership, Role, User


def invite(client, django_capture_on_commit_callbacks, **data):
    payload = {
        "email": "new.editor@example.org",
        "full_name": "Nina Verhoeven",
        "role": Role.POST_EDITOR,
        "language": "en",
        **data,
    }
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(reverse("invitation_list"), payload)


def link_from(message) -> str:
    return re.search(r"http://testserver(/accounts/invitation/[^/\s]+/)", message.body).group(1)


def test_a_central_reviewer_invites_and_the_email_carries_a_working_link(
    client, reviewer, istanbul, django_capture_on_commit_callbacks
):
    client.force_login(reviewer)
    response = invite(client, django_capture_on_commit_callbacks, post=istanbul.pk)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.editor@example.org"]
    assert message.alternatives[0][1] == "text/html"
    invitation = Invitation.objects.get()
    assert invitation.state == "open"
    # Only a hash of the token is stored.
    token = link_from(message).rstrip("/").rsplit("/", 1)[1]
    assert token not in invitation.token_hash


def test_the_invitation_email_is_in_the_language_chosen_for_the_invitee(
    client, reviewer, istanbul, django_capture_on_commit_callbacks
):
    from django.utils import translation

    client.force_login(reviewer)
    invite(client, django_capture_on_commit_callbacks, post=istanbul.pk, language="fr")
    with translation.override("fr"):
        expected = translation.gettext("You are invited to the content calendar")
    assert expected != "You are invited to the content calendar"
    assert mail.outbox[0].subject == expected
    assert 'lang="fr"' in mail.outbox[0].alternatives[0][0]


def test_accepting_creates_a_verified_account_with_the_role_and_logs_in(
    client, reviewer, istanbul, django_capture_on_commit_callbacks
):
    client.force_login(reviewer)
    invite(client, django_capture_on_commit_callbacks, post=istanbul.pk)
    link = link_from(mail.outbox[0])
    client.logout()
    assert client.get(link).status_code == 200
    response = client.post(
        link,
        {
            "full_name": "Nina Verhoeven",
            "password1": "a-long-pass-phrase-7",
            "password2": "a-long-pass-phrase-7",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="new.editor@example.org")
    assert user.check_password("a-long-pass-phrase-7")
    assert EmailAddress.objects.get(user=user).verified
    assert Membership.objects.get(user=user).post == istanbul
    assert client.get(reverse("home")).context["user"] == user


def test_a_used_link_is_refused(client, reviewer, istanbul, django_capture_on_commit_callbacks):
    client.force_login(reviewer)
    invite(client, django_capture_on_commit_callbacks, post=istanbul.pk)
    link = link_from(mail.outbox[0])
    client.logout()
    data = {"full_name": "N", "password1": "a-long-pass-phrase-7", "password2": "a-long-pass-phrase-7"}
    assert client.post(link, data).status_code == 302
    client.logout()
    second = client.post(
        link, {**data, "password1": "another-pass-phrase-8", "password2": "another-pass-phrase-8"}
    )
    assert second.status_code == 410
    assert "already been used" in second.content.decode()
    assert User.objects.get(email="new.editor@example.org").check_password("a-long-pass-phrase-7")


def test_an_expired_link_is_refused(client, reviewer, istanbul, django_capture_on_commit_callbacks):
    client.force_login(reviewer)
    invite(client, django_capture_on_commit_callbacks, post=istanbul.pk)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.logout()
    response = client.get(link_from(mail.outbox[0]))
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_a_withdrawn_invitation_cannot_be_used(
    client, reviewer, istanbul, django_capture_on_commit_callbacks
):
    client.force_login(reviewer)
    invite(client, django_capture_on_commit_callbacks, post=istanbul.pk)
    invitation = Invitation.objects.get()
    assert client.post(reverse("invitation_revoke", args=[invitation.pk])).status_code == 302
    client.logout()
    assert client.get(link_from(mail.outbox[0])).status_code == 410


def test_a_guessed_token_is_refused(client, db):
    response = client.get(reverse("invitation_accept", args=["not-a-real-token"]))
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_mismatched_or_weak_passwords_keep_the_link_usable(
    client, reviewer, istanbul, django_capture_on_commit_callbacks
):
    client.force_login(reviewer)
    invite(client, django_capture_on_commit_callbacks, post=istanbul.pk)
    link = link_from(mail.outbox[0])
    client.logout()
    response = client.post(
        link, {"full_name": "N", "password1": "a-long-pass-phrase-7", "password2": "different-phrase-7"}
    )
    assert response.status_code == 400
    response = client.post(link, {"full_name": "N", "password1": "123", "password2": "123"})
    assert response.status_code == 400
    assert not User.objects.filter(email="new.editor@example.org").exists()
    assert Invitation.objects.get().state == "open"


def test_an_existing_account_gets_the_role_and_keeps_its_password(
    client, reviewer, ankara, editor, django_capture_on_commit_callbacks
):
    client.force_login(reviewer)
    invite(
        client, django_capture_on_commit_callbacks, email=editor.email, role=Role.POST_MANAGER, post=ankara.pk
    )
    client.logout()
    link = link_from(mail.outbox[0])
    assert client.get(link).context["form"] is None
    assert client.post(link).status_code == 302
    editor.refresh_from_db()
    assert editor.check_password("correct-horse-battery-9")
    roles.forget_memberships(editor)
    assert roles.managed_post_ids(editor) == {ankara.pk}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"role": Role.POST_EDITOR}, "post"),
        ({"role": Role.PARTNER_CONTRIBUTOR}, "partner"),
        ({"role": "ambassador"}, "role"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_an_invitation_without_its_scope_is_refused(
    client, reviewer, data, field, django_capture_on_commit_callbacks
):
    client.force_login(reviewer)
    response = invite(client, django_capture_on_commit_callbacks, **data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_only_central_reviewers_may_invite(manager, istanbul):
    with pytest.raises(PermissionDenied):
        invitations.create_invitation(
            manager,
            email="x@example.org",
            role=Role.POST_EDITOR,
            post=istanbul,
            base_url="http://testserver/",
        )


def test_the_scope_is_cleared_for_a_central_reviewer_invitation(
    client, reviewer, istanbul, fit, django_capture_on_commit_callbacks
):
    client.force_login(reviewer)
    invite(
        client,
        django_capture_on_commit_callbacks,
        role=Role.CENTRAL_REVIEWER,
        post=istanbul.pk,
        partner=fit.pk,
    )
    invitation = Invitation.objects.get()
    assert invitation.post is None and invitation.partner is None


def test_signup_is_closed(client, db):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "walk.in@example.org",
            "password1": "a-long-pass-phrase-7",
            "password2": "a-long-pass-phrase-7",
        },
    )
    assert "closed" in response.content.decode().lower()
    assert not User.objects.filter(email="walk.in@example.org").exists()


@pytest.mark.django_db(transaction=True)
def test_a_link_clicked_twice_at_once_creates_one_account(
    reviewer, istanbul, django_capture_on_commit_callbacks
):
    token = Invitation.new_token()
    from diplomacy.models import hash_token

    Invitation.objects.create(
        email="twice@example.org",
        role=Role.POST_EDITOR,
        post=istanbul,
        token_hash=hash_token(token),
        invited_by=reviewer,
        expires_at=Invitation.default_expiry(),
    )
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def accept() -> None:
        try:
            barrier.wait()
            invitations.accept_invitation(token, password="a-long-pass-phrase-7")
            outcomes.append("accepted")
        except invitations.InvitationUnusable:
            outcomes.append("refused")
        except Exception as exc:  # SQLite may report the other writer as locked
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("accepted") == 1
    assert User.objects.filter(email="twice@example.org").count() == 1
    assert Membership.objects.filter(user__email="twice@example.org").count() == 1


def test_a_user_invited_twice_into_the_same_role_keeps_one_membership(editor, istanbul, reviewer):
    from diplomacy.models import hash_token

    token = Invitation.new_token()
    Invitation.objects.create(
        email=editor.email,
        role=Role.POST_EDITOR,
        post=istanbul,
        token_hash=hash_token(token),
        invited_by=reviewer,
        expires_at=Invitation.default_expiry(),
    )
    invitations.accept_invitation(token, password=None)
    assert Membership.objects.filter(user=editor).count() == 1


def test_inviting_makes_no_account_before_the_link_is_followed(reviewer, istanbul):
    invitations.create_invitation(
        reviewer,
        email="Later@Example.org",
        role=Role.POST_EDITOR,
        post=istanbul,
        base_url="http://testserver/",
    )
    assert Invitation.objects.get().email == "later@example.org"
    assert not User.objects.filter(email__iexact="later@example.org").exists()
