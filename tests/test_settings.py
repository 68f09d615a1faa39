"""Settings from the environment: production checks, clear start-up errors."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from diplomacy.apps import check_time_settings
from diplomacy.settings import env_bool

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "calendar.example.org",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "WEBHOOK_SIGNING_KEY": secrets.token_urlsafe(50),
}


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "WEBHOOK_SIGNING_KEY"])
def test_a_missing_production_variable_stops_start_up_with_its_name(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_refuses_the_secret_key_as_the_webhook_signing_key():
    result = manage("check", **{**PRODUCTION, "WEBHOOK_SIGNING_KEY": PRODUCTION["DJANGO_SECRET_KEY"]})
    assert result.returncode != 0
    assert "WEBHOOK_SIGNING_KEY must differ from DJANGO_SECRET_KEY" in result.stderr


def test_development_signs_webhooks_with_a_derived_key_not_the_secret_key():
    shown = "from django.conf import settings; print(settings.WEBHOOK_SIGNING_KEY, settings.SECRET_KEY)"
    result = manage("shell", "-v", "0", "-c", shown)
    assert result.returncode == 0, result.stderr
    webhook_key, secret_key = result.stdout.split()
    assert webhook_key.startswith("development-webhook-key-")
    assert secret_key not in webhook_key


def test_a_webhook_signing_key_from_the_environment_is_used_in_development():
    shown = "from django.conf import settings; print(settings.WEBHOOK_SIGNING_KEY)"
    result = manage("shell", "-v", "0", "-c", shown, WEBHOOK_SIGNING_KEY="shared-with-the-receiver")
    assert result.stdout.strip() == "shared-with-the-receiver", result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("Yes", True),
        (" on ", True),
        ("0", False),
        ("false", False),
        ("False", False),
        ("NO", False),
        ("off", False),
    ],
)
def test_a_switch_reads_the_clear_words_for_on_and_off(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_SWITCH", value)
    assert env_bool("SOME_SWITCH", not expected) is expected


@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_unset_or_empty_switch_takes_its_default(monkeypatch, value):
    if value is None:
        monkeypatch.delenv("SOME_SWITCH", raising=False)
    else:
        monkeypatch.setenv("SOME_SWITCH", value)
    assert env_bool("SOME_SWITCH", True) is True
    assert env_bool("SOME_SWITCH", False) is False


@pytest.mark.parametrize("value", ["Flase", "ture", "2", "enabled", "y", "-1"])
def test_an_unreadable_switch_is_refused_with_its_name(monkeypatch, value):
    monkeypatch.setenv("SOME_SWITCH", value)
    with pytest.raises(ImproperlyConfigured, match=f"SOME_SWITCH must be one of .*{value!r}"):
        env_bool("SOME_SWITCH", False)


def test_an_unreadable_debug_switch_stops_start_up_instead_of_meaning_production():
    result = manage("check", DJANGO_DEBUG="Flase")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of 1/0, true/false, yes/no, on/off" in result.stderr


def test_a_malformed_number_stops_start_up_with_a_clear_message():
    result = manage("check", DJANGO_SECURE_HSTS_SECONDS="a year")
    assert result.returncode != 0
    assert "DJANGO_SECURE_HSTS_SECONDS must be a whole number" in result.stderr


def test_the_development_defaults_use_sqlite_in_wal_mode_with_immediate_transactions(settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("this run uses DATABASE_URL")
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in settings.DATABASES["default"]["OPTIONS"]["init_command"]


def test_the_task_queue_uses_the_orm_broker_with_retry_well_above_timeout(settings):
    q = settings.Q_CLUSTER
    assert q["orm"] == "default"
    assert q["retry"] > 2 * q["timeout"]
    assert q["max_attempts"] >= 1
    assert q["catch_up"] is False


def test_the_system_check_refuses_a_local_time_zone():
    with override_settings(TIME_ZONE="Europe/Brussels"):
        errors = check_time_settings(None)
    assert [e.id for e in errors] == ["diplomacy.E001"]


def test_the_system_check_refuses_the_redis_broker_for_tasks(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "orm": None}
    assert "diplomacy.E002" in [e.id for e in check_time_settings(None)]


def test_the_system_check_refuses_retry_close_to_timeout(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60, "retry": 60}
    assert "diplomacy.E003" in [e.id for e in check_time_settings(None)]


def test_the_project_passes_its_own_checks_at_warning_level():
    assert [m for m in checks.run_checks() if m.level >= checks.WARNING] == []


def test_pages_carry_a_content_security_policy_without_unsafe_inline(client, db):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "script-src 'self' 'nonce-" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_no_page_loads_anything_from_a_cdn(client, editor):
    client.force_login(editor)
    page = client.get("/network/").content.decode()
    assert "https://" not in page.split("<body")[0]
