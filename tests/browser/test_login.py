"""Logging in through allauth, with and without multi-factor authentication."""

import time
from urllib.parse import urlencode

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.urls import reverse

from tests.browser.browsing import expected_nav
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_post_editor_logs_in_with_email_and_password_and_lands_on_home(visitor, editor):
    visitor.log_in("editor.istanbul@example.org")

    assert visitor.path == "/"
    assert visitor.page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
    nav = visitor.nav_labels()
    assert nav == expected_nav(editor)
    assert "Home" in nav and "Network" in nav
    assert "Invitations" not in nav and "Import" not in nav


def totp_code(secret: str) -> str:
    """The code an authenticator app would show now, by allauth's own arithmetic.

    allauth accepts only the current 30-second step (TOTP_TOLERANCE = 0): when
    the step is about to end, wait for the next one so the server still agrees.
    """
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 5:
        time.sleep(period - time.time() % period + 0.1)
    counters = list(yield_hotp_counters_from_time())  # now, and the tolerated steps around it
    counter = counters[len(counters) // 2]
    return format_hotp_value(hotp_value(secret, counter))


def test_a_central_reviewer_must_set_up_totp_then_logs_in_with_a_code(
    visitor, new_visitor, reviewer, settings
):
    settings.REQUIRE_MFA_FOR_REVIEWERS = True

    # First login, no authenticator yet: sent to the TOTP set-up page, which
    # allauth guards with a password confirmation (MFA_REAUTHENTICATION_REQUIRED
    # defaults to True and a plain login does not count as a re-authentication).
    visitor.log_in("central.reviewer@example.org")
    activate = reverse("mfa_activate_totp")
    assert visitor.path in (activate, f"{reverse('account_reauthenticate')}?{urlencode({'next': activate})}")
    if visitor.path != activate:
        visitor.page.locator('form:has(input[name="password"]) input[name="password"]').fill(PASSWORD)
        visitor.submit('form:has(input[name="password"])')
    assert visitor.path == activate
    # Every other page sends the reviewer back here until TOTP is on.
    visitor.goto("/network/")
    assert visitor.path == activate

    secret = visitor.page.locator("#authenticator_secret").input_value()
    assert secret
    visitor.page.locator('input[name="code"]').fill(totp_code(secret))
    visitor.submit('form:has(input[name="code"])')
    assert Authenticator.objects.filter(user=reviewer, type=Authenticator.Type.TOTP).exists()

    visitor.goto("/")
    assert visitor.path == "/"
    assert "Invitations" in visitor.nav_labels()
    visitor.log_out()
    assert visitor.path.startswith(reverse("account_login"))

    # allauth refuses a code twice within its validity window; the activation
    # code may be exactly the one valid at the next login. Give the reviewer a
    # fresh secret instead of waiting for the next 30-second step.
    Authenticator.objects.filter(user=reviewer, type=Authenticator.Type.TOTP).delete()
    secret = generate_totp_secret()
    TOTP.activate(reviewer, secret)

    # Second login: the password is not enough, a code is asked.
    again = new_visitor()
    again.log_in("central.reviewer@example.org")
    assert again.path == reverse("mfa_authenticate")
    again.page.locator('input[name="code"]').fill(totp_code(secret))
    again.submit('form:has(input[name="code"])')

    assert again.path == "/"
    nav = again.nav_labels()
    assert nav == expected_nav(reviewer)
    assert "Invitations" in nav


def test_a_wrong_totp_code_is_refused(visitor, reviewer, settings):
    settings.REQUIRE_MFA_FOR_REVIEWERS = True
    secret = generate_totp_secret()
    TOTP.activate(reviewer, secret)
    right = totp_code(secret)

    visitor.log_in("central.reviewer@example.org")
    assert visitor.path == reverse("mfa_authenticate")
    visitor.page.locator('input[name="code"]').fill(f"{(int(right) + 1) % 10**6:06}")
    visitor.submit('form:has(input[name="code"])')

    assert visitor.path == reverse("mfa_authenticate")
    assert visitor.page.locator('nav[aria-label="Main"]').count() == 0
