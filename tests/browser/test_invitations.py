"""Joining by invitation: a central reviewer invites, the invitee sets a password
through the emailed link, and the link works only once."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from diplomacy.models import Invitation, Membership, Role, User
from tests.browser.browsing import expected_nav

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INVITEE = "new.editor@example.org"
INVITEE_PASSWORD = "Tulip-harbour-lantern-42"


def invitation_link(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://\S+/accounts/invitation/[^/\s]+/", message.body)
    assert found, f"No invitation link in the email:\n{message.body}"
    return found.group(0)


def test_an_invitee_joins_through_the_emailed_link_once(new_visitor, reviewer, istanbul):
    mail.outbox.clear()

    central = new_visitor()
    central.log_in(reviewer.email)
    central.goto(reverse("invitation_list"))
    form = 'form:has(input[name="email"])'
    central.page.locator(f'{form} input[name="email"]').fill(INVITEE)
    central.page.locator(f'{form} select[name="role"]').select_option(Role.POST_EDITOR.value)
    central.page.locator(f'{form} select[name="post"]').select_option(str(istanbul.pk))
    central.page.locator(f'{form} select[name="language"]').select_option("en")
    central.submit(form)

    assert central.path == reverse("invitation_list")
    assert central.page.get_by_role("status").inner_text().strip() == f"Invitation sent to {INVITEE}."
    assert Invitation.objects.filter(email=INVITEE).count() == 1
    # django-q2 runs tasks inline (conftest patches Conf.SYNC), here in the live
    # server's thread once the request's transaction commits.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [INVITEE]
    link = invitation_link(message)
    assert link.startswith(central.base_url)

    invitee = new_visitor()
    invitee.goto(link)
    assert invitee.page.get_by_role("heading", level=1).inner_text() == "Accept the invitation"
    form = 'form:has(input[name="password1"])'
    invitee.page.locator(f'{form} input[name="full_name"]').fill("Noor Vermeulen")
    invitee.page.locator(f'{form} input[name="password1"]').fill(INVITEE_PASSWORD)
    invitee.page.locator(f'{form} input[name="password2"]').fill(INVITEE_PASSWORD)
    invitee.submit(form)

    assert invitee.path == "/"
    assert invitee.page.get_by_role("heading", level=1).inner_text() == "Welcome, Noor"
    user = User.objects.get(email=INVITEE)
    assert Membership.objects.filter(user=user, role=Role.POST_EDITOR, post=istanbul).exists()
    assert invitee.nav_labels() == expected_nav(user)

    # The link is used up, for this browser and any other.
    invitee.goto(link, status=410)
    assert "cannot be used" in invitee.page.get_by_role("heading", level=1).inner_text()
    stranger = new_visitor()
    stranger.goto(link, status=410)
    assert "cannot be used" in stranger.page.get_by_role("heading", level=1).inner_text()

    # And the new password works at the login page.
    again = new_visitor()
    again.log_in(INVITEE, INVITEE_PASSWORD)
    assert again.path == "/"


def test_a_mistyped_password_keeps_the_invitation_open(visitor, reviewer, istanbul):
    from diplomacy import invitations

    invitations.create_invitation(
        reviewer, email=INVITEE, role=Role.POST_EDITOR, post=istanbul, base_url="http://testserver/"
    )
    link = invitation_link(mail.outbox[-1])
    path = re.sub(r"^https?://[^/]+", "", link)

    visitor.goto(path)
    form = 'form:has(input[name="password1"])'
    visitor.page.locator(f'{form} input[name="full_name"]').fill("Noor Vermeulen")
    visitor.page.locator(f'{form} input[name="password1"]').fill(INVITEE_PASSWORD)
    visitor.page.locator(f'{form} input[name="password2"]').fill(INVITEE_PASSWORD + "x")
    visitor.submit(form)

    assert visitor.path == path
    assert visitor.page.locator("#id_password2_error").inner_text().strip() == "The two passwords differ."
    assert not User.objects.filter(email=INVITEE).exists()
    assert Invitation.objects.get(email=INVITEE).state == "open"
