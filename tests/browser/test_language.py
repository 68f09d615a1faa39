"""The language switcher: the choice applies at once, survives a reload and,
because it is saved on the user, follows them to a new browser."""

import pytest

from diplomacy.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SWITCHER = "form.language-switcher"


def switch_language(visitor, code: str) -> None:
    visitor.page.locator(f'{SWITCHER} select[name="language"]').select_option(code)
    visitor.submit(SWITCHER)


def test_the_language_switcher_is_labelled(visitor, editor):
    visitor.log_in(editor.email)

    select = visitor.page.get_by_label("Language", exact=True)
    assert select.get_attribute("name") == "language"
    assert visitor.page.locator(f"{SWITCHER} button[type=submit]").is_visible()


def test_dutch_sticks_across_reload_and_a_new_login(new_visitor, editor):
    visitor = new_visitor()
    visitor.log_in(editor.email)
    assert visitor.lang() == "en"

    switch_language(visitor, "nl")
    assert visitor.path == "/"
    assert visitor.lang() == "nl"
    visitor.page.reload()
    visitor.audit()
    assert visitor.lang() == "nl"
    assert User.objects.get(pk=editor.pk).language == "nl"

    # Another browser: no language cookie, an English Accept-Language; the
    # choice saved on the account wins once the editor is logged in.
    elsewhere = new_visitor()
    elsewhere.goto("/accounts/login/")
    assert elsewhere.lang() == "en"
    elsewhere.log_in(editor.email)
    assert elsewhere.path == "/"
    assert elsewhere.lang() == "nl"


def test_french_is_available_and_saved(visitor, editor):
    visitor.log_in(editor.email)

    switch_language(visitor, "fr")

    assert visitor.lang() == "fr"
    assert visitor.page.locator(f'{SWITCHER} select[name="language"]').input_value() == "fr"
    assert User.objects.get(pk=editor.pk).language == "fr"


def test_an_anonymous_visitor_can_switch_language_on_the_login_page(visitor):
    visitor.goto("/accounts/login/")

    switch_language(visitor, "fr")

    assert visitor.path.startswith("/accounts/login/")
    assert visitor.lang() == "fr"
