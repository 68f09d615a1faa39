"""Accounts: email login, MFA for reviewers, the admin behind allauth, rate limits."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.urls import reverse

from diplomacy.models import Role
from tests.factories import PASSWORD, make_user


def log_in(client, email: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_a_user_logs_in_with_email_and_password(client, editor):
    response = log_in(client, "Editor.Istanbul@example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).context["user"] == editor


def test_a_wrong_password_is_refused_with_a_message(client, editor):
    response = log_in(client, editor.email, "wrong-password")
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_an_unverified_address_cannot_log_in(client, editor):
    EmailAddress.objects.filter(user=editor).update(verified=False)
    response = log_in(client, editor.email)
    assert response["Location"] == reverse("account_email_verification_sent")
    assert client.get(reverse("home")).status_code == 302


def test_repeated_failed_logins_for_one_address_are_stopped(client, editor):
    for _ in range(5):
        log_in(client, editor.email, "wrong-password")
    response = log_in(client, editor.email, PASSWORD)
    assert "Too many failed login attempts" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_a_login_flood_from_one_address_gets_429(client, db):
    statuses = [log_in(client, f"nobody{i}@example.org", "x").status_code for i in range(31)]
    assert statuses[0] == 200
    assert statuses[-1] == 429


def test_password_reset_sends_a_link_without_revealing_accounts(client, editor, mailoutbox):
    response = client.post(reverse("account_reset_password"), {"email": editor.email})
    assert response.status_code == 302
    response = client.post(reverse("account_reset_password"), {"email": "unknown@example.org"})
    assert response.status_code == 302
    assert [m.to for m in mailoutbox][0] == [editor.email]


@pytest.fixture
def mfa_required(settings):
    settings.REQUIRE_MFA_FOR_REVIEWERS = True


def test_a_reviewer_without_mfa_is_sent_to_set_it_up(client, reviewer, mfa_required):
    log_in(client, reviewer.email)
    response = client.get(reverse("network"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # allauth asks for the password again before any MFA change.
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    client.post(response["Location"], {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    assert "secret" in page.context or page.context["form"] is not None


def test_post_staff_are_not_forced_into_mfa(client, editor, mfa_required):
    client.force_login(editor)
    assert client.get(reverse("network")).status_code == 200


def test_mfa_is_not_forced_when_the_setting_is_off(client, reviewer, settings):
    settings.REQUIRE_MFA_FOR_REVIEWERS = False
    client.force_login(reviewer)
    assert client.get(reverse("network")).status_code == 200


def current_code(secret: str) -> str:
    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def test_a_reviewer_with_totp_logs_in_with_a_code_and_reaches_the_pages(client, reviewer, mfa_required):
    secret = generate_totp_secret()
    TOTP.activate(reviewer, secret)
    response = log_in(client, reviewer.email)
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("network")).status_code == 302  # not logged in yet
    response = client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("network")).status_code == 200


def test_a_wrong_totp_code_is_refused(client, reviewer, mfa_required):
    secret = generate_totp_secret()
    TOTP.activate(reviewer, secret)
    log_in(client, reviewer.email)
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert client.get(reverse("network")).status_code == 302
    assert Authenticator.objects.filter(user=reviewer).count() == 1


def test_the_admin_login_goes_through_allauth(client, db):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_staff_reach_the_admin_and_others_get_403(client, db):
    admin = make_user(email="admin@example.org", is_staff=True, is_superuser=True)
    someone = make_user(role=Role.CENTRAL_REVIEWER)
    client.force_login(someone)
    assert client.get(reverse("admin:login")).status_code == 403
    client.force_login(admin)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:diplomacy_post_changelist")).status_code == 200


def test_the_sessions_page_lists_the_users_sessions(client, editor):
    log_in(client, editor.email)
    response = client.get(reverse("usersessions_list"))
    assert response.status_code == 200
    assert "Sessions" in response.content.decode()


def test_account_pages_use_the_products_layout(client, db):
    page = client.get(reverse("account_login")).content.decode()
    assert 'class="skip-link"' in page
    assert 'id="main"' in page


def test_logging_out_ends_the_session(client, editor):
    log_in(client, editor.email)
    client.post(reverse("account_logout"))
    assert client.get(reverse("home")).status_code == 302
