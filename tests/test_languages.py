"""The interface in Dutch, French and English: choice, memory, fallback, catalogues."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def html_lang(response) -> str:
    page = response.content.decode()
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_an_anonymous_visitor_gets_the_browsers_language(client, db):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="fr-BE,fr;q=0.9,en;q=0.5")
    assert html_lang(response) == "fr"
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="nl-BE")
    assert html_lang(response) == "nl"
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="ja")
    assert html_lang(response) == "en"


def test_the_switcher_changes_the_language_and_remembers_it_on_the_account(client, editor):
    client.force_login(editor)
    response = client.post(reverse("set_language"), {"language": "nl", "next": reverse("network")})
    assert response.status_code == 302
    assert response["Location"] == reverse("network")
    editor.refresh_from_db()
    assert editor.language == "nl"
    # Another device: no cookie, an English browser; the account's choice wins.
    other = client.__class__()
    other.force_login(editor)
    assert html_lang(other.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")) == "nl"


def test_an_unknown_language_is_refused_and_nothing_is_saved(client, editor):
    client.force_login(editor)
    response = client.post(reverse("set_language"), {"language": "xx", "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    editor.refresh_from_db()
    assert editor.language == ""


def test_the_switcher_works_before_logging_in(client, db):
    client.post(reverse("set_language"), {"language": "fr", "next": "/accounts/login/"})
    assert html_lang(client.get(reverse("account_login"))) == "fr"


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_the_interface_is_translated(client, editor, language):
    editor.language = language
    editor.save()
    client.force_login(editor)
    page = client.get(reverse("home")).content.decode()
    expected = {"nl": "Inhoudskalender", "fr": "Calendrier éditorial"}[language]
    assert expected in page


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
@pytest.mark.parametrize("language", ["nl", "fr"])
def test_the_catalogue_is_complete_with_no_untranslated_or_fuzzy_entries(language):
    po = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
def test_every_translatable_string_of_the_project_is_translated(tmp_path):
    """makemessages over a copy of the project finds no string the catalogues lack."""
    import os
    import sys

    for part in ("diplomacy", "calendar_app", "templates", "locale"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "nl", "-l", "fr", "--no-location", "-v0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for language in ("nl", "fr"):
        po = tmp_path / "locale" / language / "LC_MESSAGES" / "django.po"
        stats = subprocess.run(
            ["msgfmt", "--statistics", "-o", "/dev/null", str(po)],
            capture_output=True,
            text=True,
            check=False,
        ).stderr
        assert "untranslated" not in stats and "fuzzy" not in stats, f"{language}: {stats}"
