"""Personas shared by the test suite: a post editor, a post manager, a central
reviewer, a second reviewer, a partner contributor and an outsider."""

import os
import re

import pytest
from django.conf import settings
from django.utils import translation
from django_q.conf import Conf

from diplomacy.models import Role
from tests.factories import make_partner, make_post, make_user


def pytest_configure(config):
    """Tests run in parallel (pytest-xdist), each worker with its own database; with Redis,
    each also gets its own Redis database, since clearing the cache (FLUSHDB) in one
    worker's test must not empty another's in the middle of a test."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    cache = settings.CACHES["default"]
    if worker and cache["BACKEND"].endswith("RedisCache"):
        number = int(worker.removeprefix("gw"))
        match = re.fullmatch(r"(.*)/(\d+)", cache["LOCATION"])
        base, database = (match.group(1), int(match.group(2))) if match else (cache["LOCATION"], 0)
        cache["LOCATION"] = f"{base}/{(database - number) % 16}"


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch):
    """django-q2 reads its config at import: patch Conf, not settings."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits live in the cache (Redis in the PostgreSQL run): start each test clean.
    The feeds a process keeps in its memory go with it."""
    from django.core.cache import cache

    from calendar_app.feeds import recent_feeds

    cache.clear()
    recent_feeds.clear()
    yield
    cache.clear()
    recent_feeds.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request through LocaleMiddleware leaves its language active on the thread after the
    response: a test asking for Dutch would otherwise make the next test's strings Dutch."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def istanbul(db):
    return make_post(
        code="be-cg-istanbul",
        name="Consulate-General of Belgium in Istanbul",
        kind="consulate_general",
        city="Istanbul",
    )


@pytest.fixture
def ankara(db):
    return make_post(code="be-emb-ankara", name="Embassy of Belgium in Ankara", city="Ankara")


@pytest.fixture
def tokyo(db):
    """Beyond Türkiye: a post in Asia (the reports and their regions)."""
    return make_post(
        code="be-emb-tokyo",
        name="Embassy of Belgium in Tokyo",
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
        host_languages="ja",
        publishing_languages="ja,en",
    )


@pytest.fixture
def paris(db):
    return make_post(
        code="be-emb-paris",
        name="Embassy of Belgium in Paris",
        city="Paris",
        country="FR",
        timezone="Europe/Paris",
        host_languages="fr",
        publishing_languages="fr,nl",
    )


@pytest.fixture
def fit(db):
    return make_partner(code="fit", name="Flanders Investment & Trade")


@pytest.fixture
def awex(db):
    return make_partner(code="awex", name="AWEX", region="wallonia")


@pytest.fixture
def editor(istanbul):
    return make_user(email="editor.istanbul@example.org", role=Role.POST_EDITOR, post=istanbul)


@pytest.fixture
def manager(istanbul):
    return make_user(email="manager.istanbul@example.org", role=Role.POST_MANAGER, post=istanbul)


@pytest.fixture
def reviewer(db):
    return make_user(email="central.reviewer@example.org", role=Role.CENTRAL_REVIEWER)


@pytest.fixture
def second_reviewer(db):
    return make_user(email="second.reviewer@example.org", role=Role.CENTRAL_REVIEWER)


@pytest.fixture
def partner_user(fit):
    return make_user(email="partner.fit@example.org", role=Role.PARTNER_CONTRIBUTOR, partner=fit)


@pytest.fixture
def outsider(db):
    return make_user(email="outsider@example.org")


@pytest.fixture
def persona(request):
    """Resolve a persona fixture by name (for parametrised matrices)."""
    if request.param == "anonymous":
        return None
    return request.getfixturevalue(request.param)


# Every cached fragment reads only the tables it declares (tests/fragment_reads.py).
pytest_plugins = ["tests.fragment_reads"]


@pytest.fixture
def platforms_on_loopback(monkeypatch):
    """For tests against the fake platforms: a connector that forgot its test address would
    call the real platform, so any address but loopback is refused; and time-outs wait
    0.6 s, not production's 15 s (a loaded machine answers a plain request well inside it,
    and the scripted hangs last longer)."""
    import socket

    from calendar_app.publishing import http

    real = socket.create_connection

    def loopback_only(address, *args, **kwargs):
        if address[0] not in {"127.0.0.1", "localhost"}:
            raise AssertionError(f"a test tried to reach {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", loopback_only)
    monkeypatch.setattr(http, "TIMEOUT_SECONDS", 0.6)
    monkeypatch.setattr(http, "MEDIA_TIMEOUT_SECONDS", 0.6)
