"""The demo network that `make run` loads."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_q.models import Schedule

from diplomacy import roles
from diplomacy.demo import DEMO_USERS
from diplomacy.models import Channel, Membership, Partner, Post, User


@pytest.fixture
def seeded(db, settings):
    """The whole demo with a small calendar: its 1,500 default publications cost seconds per
    test and none of these tests counts them (the 300-publication test below checks them)."""
    settings.DEBUG = True
    call_command("seed_demo", "--password", "demo-pass-123", "--publications", "50", verbosity=0)


def test_the_demo_network_holds_the_belgian_posts_partners_and_channels(seeded):
    assert Post.objects.count() == 115
    assert Partner.objects.count() == 13
    assert Post.objects.get(code="be-cg-istanbul").timezone == "Europe/Istanbul"
    assert Post.objects.get(code="be-off-pristina").country == "XK"


def test_the_demo_channels_follow_the_2018_shares_of_facebook_and_x(seeded):
    posts = Post.objects.count()
    on_facebook = Channel.objects.filter(platform="facebook").values("post").distinct().count()
    on_x = Channel.objects.filter(platform="x").values("post").distinct().count()
    assert 0.80 <= on_facebook / posts <= 0.95  # 95 of 109 = 87 %
    assert 0.22 <= on_x / posts <= 0.40  # 34 of 109 = 31 %
    istanbul = Post.objects.get(code="be-cg-istanbul")
    assert {c.platform for c in istanbul.channels.all()} >= {"facebook", "x"}


def test_every_demo_user_exists_with_their_role_and_logs_in(seeded, client):
    for email, _name, role, _scope in DEMO_USERS:
        user = User.objects.get(email=email)
        assert role in roles.roles_of(user)
        response = client.post(reverse("account_login"), {"login": email, "password": "demo-pass-123"})
        assert response.status_code == 302, email
        client.logout()
    editor = User.objects.get(email="editor.istanbul@example.org")
    assert roles.posts_of(editor)[0].code == "be-cg-istanbul"
    thehague = User.objects.get(email="editor.thehague@example.org")
    assert roles.posts_of(thehague)[0].city == "The Hague"
    assert roles.partners_of(User.objects.get(email="partner.fit@example.org"))[0].code == "fit"


def test_seeding_twice_adds_nothing(seeded):
    counts = (Post.objects.count(), Channel.objects.count(), User.objects.count(), Membership.objects.count())
    call_command("seed_demo", "--password", "demo-pass-123", verbosity=0)
    assert counts == (
        Post.objects.count(),
        Channel.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
    )


def test_if_empty_leaves_an_existing_network_alone(seeded, capsys):
    Post.objects.filter(code="be-cg-istanbul").update(name="Renamed")
    call_command("seed_demo", "--if-empty")
    assert Post.objects.get(code="be-cg-istanbul").name == "Renamed"
    assert "central.reviewer@example.org" in capsys.readouterr().out


def test_seed_demo_refuses_to_run_with_debug_off(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_seed_demo_runs_with_debug_off_when_forced(db, settings):
    settings.DEBUG = False
    call_command("seed_demo", "--force", "--publications", "0", verbosity=0)
    assert User.objects.filter(email="central.reviewer@example.org").exists()


def test_seed_demo_refuses_a_negative_number_of_publications(db, settings):
    settings.DEBUG = True
    with pytest.raises(CommandError):
        call_command("seed_demo", "--publications", "-1")


def test_sync_schedules_declares_each_job_once(db):
    call_command("sync_schedules", verbosity=0)
    call_command("sync_schedules", verbosity=0)
    assert sorted(Schedule.objects.values_list("name", flat=True)) == [
        "clear-expired-sessions",
        "crisis-escalation",
        "daily-digest",
        "publish-due",
        "remind-due-soon",
        "retry-emails",
    ]


def test_the_session_clean_up_drops_only_expired_sessions(db):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from diplomacy.tasks import clear_expired_sessions

    Session.objects.create(session_key="old", session_data="", expire_date=timezone.now() - timedelta(days=1))
    Session.objects.create(session_key="new", session_data="", expire_date=timezone.now() + timedelta(days=1))
    clear_expired_sessions()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]


def test_seed_demo_loads_a_past_crisis_templates_and_deliveries_in_every_state(db, settings):
    from calendar_app.models import Crisis, CrisisTemplate, Delivery, Publication

    settings.DEBUG = True
    call_command("seed_demo", "--publications", "300", "--password", "demo-pass-123")
    assert Crisis.objects.count() == 3 and not Crisis.objects.active().exists()
    crisis = Crisis.objects.get(countries="TR")
    assert Publication.objects.filter(crisis=crisis, kind="crisis_advisory").exists()
    assert Publication.objects.filter(missed_in=crisis).exists()
    assert crisis.events.filter(verb="break_glass").exists()
    statuses = set(Delivery.objects.values_list("status", flat=True))
    assert statuses == {"pending", "delivered", "failed", "unknown"}
    assert CrisisTemplate.objects.count() >= 4
