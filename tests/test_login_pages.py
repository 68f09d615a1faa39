"""Login and account pages in the product's layout: header, main, footer, one heading, our own
words, each link once, a label on every input."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from tests.factories import PASSWORD

REGIONS = ("header", "main", "footer")


class Page(HTMLParser):
    """What a test needs of a page: its landmarks, the links of each region, the inputs and
    labels of its main content, its headings."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.open: list[str] = []
        self.landmarks: list[str] = []
        self.links: dict[str, list[str]] = {region: [] for region in REGIONS}
        self.inputs: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.headings: list[tuple[str, str]] = []
        self._heading: list[str] | None = None
        self.skip_link = False
        self.feed(html)

    def region(self) -> str | None:
        return next((tag for tag in reversed(self.open) if tag in REGIONS), None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in REGIONS:
            self.landmarks.append(tag)
        if tag not in ("input", "img", "meta", "link", "br", "hr"):
            self.open.append(tag)
        region = self.region()
        if tag == "a" and attributes.get("class") == "skip-link":
            self.skip_link = True
        elif tag == "a" and region:
            self.links[region].append(attributes.get("href") or "")
        drawn = attributes.get("type") not in ("hidden", "submit", "button")
        if region == "main" and tag in ("input", "select", "textarea") and drawn:
            self.inputs.append(attributes)
        if tag == "label" and attributes.get("for"):
            self.labelled.add(attributes["for"] or "")
        if tag in ("h1", "h2", "h3"):
            self._heading = [tag]

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass
        if self._heading and tag == self._heading[0]:
            self.headings.append((tag, "".join(self._heading[1:]).strip()))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)


def assert_in_product_layout(response, *, heading: str) -> Page:
    assert response.status_code == 200
    html = response.content.decode()
    page = Page(html)
    assert page.skip_link, "the skip link of base.html"
    assert page.landmarks == ["header", "main", "footer"], "the product's header, main and footer"
    assert 'class="site-header"' in html and 'class="site-footer"' in html
    h1s = [text for tag, text in page.headings if tag == "h1"]
    assert h1s == [heading]
    levels = [int(tag[1]) for tag, _text in page.headings]
    assert all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False)), "no heading level skipped"
    # Each link once: no link of the content twice, nor one the header already gives.
    main = Counter(page.links["main"])
    assert [href for href, n in main.items() if n > 1] == []
    assert set(main) & set(page.links["header"]) == set()
    # Every input of the content has a label.
    for attributes in page.inputs:
        assert attributes.get("id") in page.labelled or attributes.get("aria-label"), attributes
    # No allauth wording of its own where ours stands.
    for odd in ("Sign In", "Remember Me", "Sign Out", "Email:", "Password:"):
        assert odd not in html
    assert html.count("Forgot your password?") <= 1
    return page


@pytest.fixture
def signed_in(client, editor):
    client.force_login(editor)
    return client


def test_the_login_page_is_in_the_product_layout_with_our_words_once(client, db):
    page = assert_in_product_layout(client.get(reverse("account_login")), heading="Sign in")
    html = client.get(reverse("account_login")).content.decode()
    assert html.count("Forgot your password?") == 1
    assert page.links["main"] == [reverse("account_reset_password")]
    # The header offers no link to the page one is on.
    assert reverse("account_login") not in page.links["header"]
    for label in ('for="id_login">Email<', 'for="id_password">Password<', 'for="id_remember">Remember me<'):
        assert label in html
    assert html.count(">Sign in<") == 2  # the heading and the button
    assert "<title>Sign in · Content calendar</title>" in html


def test_the_login_page_in_french_says_so_and_keeps_its_layout(client, db):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="fr")
    assert '<html lang="fr">' in response.content.decode()
    assert Page(response.content.decode()).landmarks == ["header", "main", "footer"]


def test_a_refused_login_shows_the_message_in_the_layout_and_answers_200(client, editor):
    response = client.post(reverse("account_login"), {"login": editor.email, "password": "wrong"})
    assert_in_product_layout(response, heading="Sign in")
    assert 'role="alert"' in response.content.decode()


def test_the_password_reset_pages_are_in_the_product_layout(client, editor):
    assert_in_product_layout(client.get(reverse("account_reset_password")), heading="Reset your password")
    assert_in_product_layout(client.get(reverse("account_reset_password_done")), heading="Check your email")


def test_the_password_reset_link_opens_a_page_to_choose_the_new_password(client, editor):
    url = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(editor), "key": default_token_generator.make_token(editor)},
    )
    response = client.get(url, follow=True)
    assert_in_product_layout(response, heading="Choose a new password")
    html = response.content.decode()
    assert 'for="id_password1">New password<' in html and 'for="id_password2">New password again<' in html

    response = client.post(
        response.redirect_chain[-1][0],
        {"password1": "a-new-long-pass-2026", "password2": "a-new-long-pass-2026"},
    )
    assert response.status_code == 302
    assert_in_product_layout(client.get(response["Location"]), heading="Your password is changed")


def test_a_used_or_false_reset_link_says_it_no_longer_works(client, editor):
    url = reverse(
        "account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(editor), "key": "no-such-key"}
    )
    page = assert_in_product_layout(client.get(url, follow=True), heading="This link no longer works")
    assert page.links["main"] == [reverse("account_reset_password")]


def test_the_logout_page_is_in_the_product_layout(signed_in):
    assert_in_product_layout(signed_in.get(reverse("account_logout")), heading="Log out")


def test_the_reauthentication_page_is_in_the_product_layout(signed_in):
    page = assert_in_product_layout(
        signed_in.get(reverse("account_reauthenticate")), heading="Confirm it is you"
    )
    assert reverse("account_reset_password") in page.links["main"]


def test_the_totp_pages_are_in_the_product_layout(client, editor):
    client.force_login(editor)
    # allauth asks for the password again before setting up an authenticator.
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.get(reverse("mfa_activate_totp"))
    assert_in_product_layout(response, heading="Set up two-factor authentication")
    html = response.content.decode()
    assert 'id="authenticator_secret"' in html and 'alt="QR code to scan with your authenticator app"' in html

    TOTP.activate(editor, generate_totp_secret())
    assert_in_product_layout(client.get(reverse("mfa_reauthenticate")), heading="Confirm it is you")


def test_the_second_step_of_a_login_is_in_the_product_layout(client, editor):
    TOTP.activate(editor, generate_totp_secret())
    response = client.post(reverse("account_login"), {"login": editor.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")

    response = client.get(reverse("mfa_authenticate"))
    assert_in_product_layout(response, heading="Two-factor authentication")
    assert 'for="id_code">Code<' in response.content.decode()
