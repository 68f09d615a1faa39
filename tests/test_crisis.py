"""Crisis mode: declaring holds, ending releases or lists as missed, advisories are fast-tracked,
break-glass is audited, on-call reviewers hear first. Workflow-level tests."""

from __future__ import annotations

from datetime import time, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from calendar_app import notifications, workflow
from calendar_app.models import (
    Crisis,
    CrisisEvent,
    Delivery,
    Notification,
    Publication,
    PublicationKind,
    PublicationStatus,
)
from calendar_app.publishing import Published, engine
from calendar_app.workflow import AdvisoryContent
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user

SOON = timedelta(days=3)


def _approved(post, author, reviewer, *, channels=None, when=None, title=None) -> Publication:
    """A publication approved through the workflow (three days ahead), then moved to `when`."""
    local = (timezone.now() + SOON).astimezone(post.zone)
    publication = make_publication(
        post=post,
        author=author,
        title=title,
        local_date=local.date(),
        local_time=local.time().replace(second=0, microsecond=0),
        channels=channels or [],
        variants={"nl": "Tekst.", "fr": "Texte.", "en": "Text.", "tr": "Metin."},
    )
    workflow.submit(author, publication)
    publication = Publication.objects.get(pk=publication.pk)
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    if when is not None:
        # Closer than the review lead time allows: moved behind the workflow's back.
        local = when.astimezone(post.zone)
        Publication.objects.filter(pk=publication.pk).update(
            scheduled_at=when, local_date=local.date(), local_time=local.time()
        )
    return Publication.objects.get(pk=publication.pk)


@pytest.fixture
def brussels_post(db):
    return make_post(
        code="be-emb-thehague",
        name="Embassy of Belgium in The Hague",
        country="NL",
        city="The Hague",
        timezone="Europe/Amsterdam",
        host_languages="nl",
    )


@pytest.fixture
def sent(monkeypatch):
    """A connector that records what it is asked to publish (no network)."""
    calls: list[tuple[int, str]] = []

    def publish(delivery, part, reply_to):
        calls.append((delivery.pk, part.text))
        return Published(post_id=f"id-{delivery.pk}", url=f"https://social.example/{delivery.pk}")

    fake = SimpleNamespace(publish=publish)
    monkeypatch.setattr(engine, "connector_for", lambda name: fake)
    return calls


def _api_channel(post, platform="facebook", languages="en"):
    channel = make_channel(post=post, platform=platform, content_languages=languages)
    channel.connector = "webhook"
    channel.endpoint = "https://hooks.example/in"
    channel.save()
    return channel


def _advisory(**changes) -> AdvisoryContent:
    values = {
        "title": "Stay indoors",
        "variants": {
            "nl": "Blijf binnen. Vermijd luchthavens. Registreer op Travellers Online.",
            "fr": "Restez à l'intérieur. Évitez les aéroports. Inscrivez-vous sur Travellers Online.",
            "en": "Stay indoors. Avoid airports.",
            "tr": "Evde kalın.",
        },
        "platforms": ["facebook", "x"],
    }
    values.update(changes)
    return AdvisoryContent(**values)


# --- Declaring and holding ---------------------------------------------------------------


def test_declaring_a_crisis_for_a_country_holds_the_approved_publications_of_its_posts_only(
    reviewer, second_reviewer, editor, istanbul, ankara, brussels_post
):
    ankara_editor = make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)
    hague_editor = make_user(email="editor.thehague@example.org", role=Role.POST_EDITOR, post=brussels_post)
    in_istanbul = _approved(istanbul, editor, second_reviewer)
    in_ankara = _approved(ankara, ankara_editor, second_reviewer)
    in_the_hague = _approved(brussels_post, hague_editor, second_reviewer)
    draft = make_publication(post=istanbul, author=editor)

    crisis = workflow.declare_crisis(
        reviewer, title="Coup attempt", reason="Reports of a coup.", countries=["tr"]
    )

    held = set(Publication.objects.filter(held_by=crisis).values_list("pk", flat=True))
    assert held == {in_istanbul.pk, in_ankara.pk}
    assert Publication.objects.get(pk=in_the_hague.pk).held_by is None
    assert Publication.objects.get(pk=draft.pk).held_by is None
    assert crisis.country_list == ["TR"]
    assert list(crisis.events.values_list("verb", flat=True)) == ["declared", "held"]
    assert crisis.events.get(verb="held").data == {"count": 2}
    assert in_istanbul.events.filter(verb="held").count() == 1


def test_a_held_publication_is_not_delivered_even_with_a_delivery_made_before_the_crisis(
    reviewer, second_reviewer, editor, istanbul, sent
):
    channel = _api_channel(istanbul)
    publication = _approved(istanbul, editor, second_reviewer, channels=[channel])
    Publication.objects.filter(pk=publication.pk).update(scheduled_at=timezone.now() - timedelta(seconds=1))
    engine.create_due_deliveries()  # made, not yet sent
    crisis = workflow.declare_crisis(reviewer, title="Coup attempt", reason="Reports.", countries=["TR"])
    # Declared a moment before its time (a crisis holds only what is due from then on).
    Crisis.objects.filter(pk=crisis.pk).update(declared_at=timezone.now() - timedelta(minutes=1))

    engine.publish_due()

    assert sent == []
    assert Delivery.objects.get(publication=publication).status == "pending"


def test_an_approval_during_the_crisis_is_held_with_the_others(reviewer, second_reviewer, editor, istanbul):
    crisis = workflow.declare_crisis(reviewer, title="Coup attempt", reason="Reports.", posts=[istanbul])
    publication = _approved(istanbul, editor, second_reviewer)
    assert publication.status == PublicationStatus.APPROVED
    assert publication.held_by == crisis


def test_an_edit_after_approval_takes_it_off_hold_and_a_new_approval_holds_it_again(
    reviewer, second_reviewer, editor, istanbul
):
    publication = _approved(istanbul, editor, second_reviewer)
    crisis = workflow.declare_crisis(reviewer, title="Coup attempt", reason="Reports.", countries=["TR"])
    workflow.withdraw(editor, Publication.objects.get(pk=publication.pk))
    assert Publication.objects.get(pk=publication.pk).held_by is None
    workflow.submit(editor, Publication.objects.get(pk=publication.pk))
    again = Publication.objects.get(pk=publication.pk)
    workflow.approve(second_reviewer, again, expected_revision=again.revision)
    assert Publication.objects.get(pk=publication.pk).held_by == crisis


def test_a_crisis_needs_a_title_a_reason_and_a_place(reviewer):
    with pytest.raises(workflow.CrisisRefused):
        workflow.declare_crisis(reviewer, title="Coup", reason="Reports.")
    with pytest.raises(workflow.CrisisRefused):
        workflow.declare_crisis(reviewer, title=" ", reason="Reports.", whole_network=True)
    with pytest.raises(workflow.CrisisRefused):
        workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["XX"])
    assert not Crisis.objects.exists()


def test_a_post_manager_declares_for_their_own_post_only(manager, editor, istanbul, ankara):
    crisis = workflow.declare_crisis(manager, title="Earthquake", reason="Strong quake.", posts=[istanbul])
    assert list(crisis.posts.all()) == [istanbul]
    for scope in ({"posts": [ankara]}, {"countries": ["TR"]}, {"whole_network": True}):
        with pytest.raises(PermissionDenied):
            workflow.declare_crisis(manager, title="Quake", reason="Quake.", **scope)
    with pytest.raises(PermissionDenied):
        workflow.declare_crisis(editor, title="Quake", reason="Quake.", posts=[istanbul])


# --- Releasing, ending, missing --------------------------------------------------------


def test_central_releases_one_held_publication_and_it_goes_out_at_its_time(
    reviewer, second_reviewer, editor, istanbul
):
    publication = _approved(istanbul, editor, second_reviewer)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    publication.refresh_from_db()
    with pytest.raises(PermissionDenied):
        workflow.release_publication(editor, publication)
    assert workflow.release_publication(reviewer, publication) == "released"
    publication.refresh_from_db()
    assert (publication.held_by, publication.missed_in) == (None, None)
    assert crisis.events.filter(verb="released", publication=publication).exists()
    with pytest.raises(PermissionDenied):  # no longer held
        workflow.release_publication(reviewer, publication)


def test_ending_the_crisis_releases_the_future_and_lists_the_past_as_missed_never_sending_it_late(
    reviewer, second_reviewer, editor, istanbul, sent
):
    channel = _api_channel(istanbul)
    later = _approved(istanbul, editor, second_reviewer, channels=[channel], title="Later")
    passed = _approved(
        istanbul,
        editor,
        second_reviewer,
        channels=[channel],
        title="Passed",
        when=timezone.now() + timedelta(hours=1),
    )
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        counts = workflow.end_crisis(reviewer, crisis)
        engine.publish_due()
    assert counts == {"released": 1, "missed": 1, "still_held": 0}
    later.refresh_from_db()
    passed.refresh_from_db()
    assert (later.held_by, later.missed_in) == (None, None)
    assert (passed.held_by, passed.missed_in) == (None, crisis)
    assert sent == []  # the missed one is not delivered late
    assert passed.status == PublicationStatus.MISSED
    crisis.refresh_from_db()
    assert not crisis.is_active
    assert list(crisis.events.values_list("verb", flat=True))[-2:] == ["missed", "ended"]
    with pytest.raises(workflow.TransitionNotAllowed):  # ended: it says so
        workflow.end_crisis(reviewer, crisis)


def test_rescheduling_a_missed_publication_takes_it_off_the_list(reviewer, second_reviewer, editor, istanbul):
    passed = _approved(istanbul, editor, second_reviewer, when=timezone.now() + timedelta(hours=1))
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        workflow.end_crisis(reviewer, crisis)
        passed.refresh_from_db()
        assert passed.missed_in == crisis
        tomorrow = (timezone.now() + timedelta(days=1)).astimezone(istanbul.zone).date()
        workflow.reschedule_missed(editor, passed, local_date=tomorrow, local_time=time(10, 0))
    passed.refresh_from_db()
    assert passed.missed_in is None
    assert passed.status == PublicationStatus.IN_REVIEW  # moved by its post: reviewed again


def test_a_publication_another_active_crisis_covers_stays_held_when_one_ends(
    reviewer, second_reviewer, editor, istanbul
):
    publication = _approved(istanbul, editor, second_reviewer)
    first = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    second = workflow.declare_crisis(reviewer, title="Earthquake", reason="Quake.", posts=[istanbul])
    counts = workflow.end_crisis(reviewer, first)
    assert counts["still_held"] == 1
    assert Publication.objects.get(pk=publication.pk).held_by == second


def test_a_manager_ends_the_crisis_of_their_own_post_but_not_a_country_crisis(manager, reviewer, istanbul):
    own = workflow.declare_crisis(manager, title="Fire", reason="Fire nearby.", posts=[istanbul])
    country = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    with pytest.raises(PermissionDenied):
        workflow.end_crisis(manager, country)
    workflow.end_crisis(manager, own)
    assert not Crisis.objects.get(pk=own.pk).is_active


# --- Advisories: broadcast and fast track ------------------------------------------------


def test_a_broadcast_makes_one_advisory_per_affected_post_on_the_chosen_platforms(
    reviewer, istanbul, ankara, brussels_post
):
    istanbul_fb, istanbul_x = _api_channel(istanbul, "facebook"), _api_channel(istanbul, "x")
    _api_channel(istanbul, "instagram")
    ankara_fb = _api_channel(ankara, "facebook")
    _api_channel(brussels_post, "facebook")
    athens = make_post(name="Embassy of Belgium in Athens", country="TR", host_languages="el")  # no channel
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])

    made, skipped = workflow.broadcast_advisory(reviewer, crisis, _advisory())

    assert skipped == [athens]
    by_post = {p.post_id: p for p in made}
    assert set(by_post) == {istanbul.pk, ankara.pk}
    assert set(by_post[istanbul.pk].channels.all()) == {istanbul_fb, istanbul_x}
    assert set(by_post[ankara.pk].channels.all()) == {ankara_fb}
    for publication in made:
        assert publication.kind == PublicationKind.CRISIS_ADVISORY
        assert publication.status == PublicationStatus.IN_REVIEW
        assert publication.crisis == crisis
        assert publication.held_by is None
        assert set(publication.variants.values_list("language", flat=True)) == {"nl", "fr", "en", "tr"}
    assert crisis.events.filter(verb="advisory_broadcast").count() == 1


def test_a_channel_that_publishes_none_of_the_advisorys_languages_is_left_out_not_blocking(
    reviewer, istanbul, ankara
):
    istanbul_x = _api_channel(istanbul, "x", languages="nl,fr")
    turkish_only = make_channel(
        post=istanbul, platform="facebook", handle="BelcikaIstanbul", content_languages="tr"
    )
    make_channel(post=ankara, platform="facebook", handle="BelcikaAnkara", content_languages="tr")
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    advisory = _advisory(variants={"nl": "Blijf binnen.", "fr": "Restez à l'intérieur."})

    made, skipped = workflow.broadcast_advisory(reviewer, crisis, advisory)

    assert [publication.post for publication in made] == [istanbul]
    assert list(made[0].channels.all()) == [istanbul_x]
    assert turkish_only not in made[0].channels.all()
    assert skipped == [ankara]


def test_a_host_language_text_goes_only_to_posts_of_that_language(reviewer, istanbul):
    _api_channel(istanbul)
    athens = make_post(name="Embassy of Belgium in Athens", country="GR", host_languages="el")
    _api_channel(athens)
    crisis = workflow.declare_crisis(reviewer, title="Storm", reason="Storm.", whole_network=True)
    made, _ = workflow.broadcast_advisory(
        reviewer, crisis, _advisory(variants={**_advisory().variants, "el": "Μείνετε μέσα."})
    )
    languages = {p.post_id: set(p.variants.values_list("language", flat=True)) for p in made}
    assert languages[istanbul.pk] == {"nl", "fr", "en", "tr"}
    assert languages[athens.pk] == {"nl", "fr", "en", "el"}


def test_an_advisory_without_french_is_refused_and_nothing_is_saved(reviewer, istanbul):
    _api_channel(istanbul)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    with pytest.raises(workflow.CrisisRefused, match="French"):
        workflow.broadcast_advisory(reviewer, crisis, _advisory(variants={"nl": "Blijf binnen."}))
    assert not Publication.objects.filter(crisis=crisis).exists()


def test_a_broadcast_failing_a_blocking_guideline_saves_nothing(reviewer, istanbul, ankara):
    _api_channel(istanbul, "x", languages="nl,fr")
    _api_channel(ankara, "x", languages="nl,fr")
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    too_long = _advisory(variants={"nl": "Blijf binnen. " * 40, "fr": "Restez."}, platforms=["x"])
    with pytest.raises(workflow.GuidelinesFailed) as failed:
        workflow.broadcast_advisory(reviewer, crisis, too_long)
    assert "Istanbul" in " ".join(
        p for r in failed.value.results for p in r.problems
    ) or "Ankara" in " ".join(p for r in failed.value.results for p in r.problems)
    assert not Publication.objects.filter(crisis=crisis).exists()
    assert not crisis.events.filter(verb="advisory_broadcast").exists()


def test_only_central_broadcasts_and_only_while_the_crisis_is_on(reviewer, manager, editor, istanbul):
    _api_channel(istanbul)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    for user in (manager, editor):
        with pytest.raises(PermissionDenied):
            workflow.broadcast_advisory(user, crisis, _advisory())
    workflow.end_crisis(reviewer, crisis)
    with pytest.raises(PermissionDenied):
        workflow.broadcast_advisory(reviewer, Crisis.objects.get(pk=crisis.pk), _advisory())


def test_an_approved_advisory_goes_out_at_once_even_after_its_minute_passed(
    reviewer, second_reviewer, istanbul, sent
):
    _api_channel(istanbul, "facebook", languages="fr,nl")
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    (advisory,), _ = workflow.broadcast_advisory(reviewer, crisis, _advisory())
    with pytest.raises(PermissionDenied):  # four eyes: not the author
        workflow.approve(reviewer, advisory, expected_revision=advisory.revision)
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        advisory = Publication.objects.get(pk=advisory.pk)
        workflow.approve(second_reviewer, advisory, expected_revision=advisory.revision)
        advisory.refresh_from_db()
        assert advisory.scheduled_at <= timezone.now()
        engine.publish_due()
    advisory.refresh_from_db()
    assert advisory.status == PublicationStatus.PUBLISHED
    assert len(sent) == 1
    assert sent[0][1].startswith("Restez")  # the channel's languages, in its order
    assert advisory.events.filter(verb="advisory_retimed").exists()
    assert crisis.events.filter(verb="advisory_approved", publication=advisory).exists()


# --- Break-glass ---------------------------------------------------------------------------


def test_a_manager_breaks_glass_for_their_own_post_audited_and_listed_for_central(
    manager, reviewer, istanbul, sent
):
    _api_channel(istanbul, "facebook", languages="nl,fr")
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    publication = workflow.break_glass(
        manager, crisis, istanbul, _advisory(), reason="Headquarters unreachable; airport closing."
    )
    assert publication.status == PublicationStatus.APPROVED
    event = publication.events.get(verb="break_glass")
    assert event.comment == "Headquarters unreachable; airport closing."
    flagged = crisis.events.get(verb="break_glass")
    assert flagged.is_flagged and flagged.publication == publication
    assert Notification.objects.filter(verb="break_glass", recipient=reviewer).exists()

    engine.publish_due()
    assert sent and sent[0][1].startswith("Blijf binnen")  # the confirmed revision's text

    workflow.review_after_the_fact(reviewer, publication, comment="Fine.")
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.review_after_the_fact(reviewer, publication)


def test_break_glass_is_refused_to_editors_other_posts_and_without_a_reason(
    manager, editor, reviewer, istanbul, ankara
):
    _api_channel(istanbul)
    _api_channel(ankara)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    with pytest.raises(PermissionDenied):
        workflow.break_glass(editor, crisis, istanbul, _advisory(), reason="Urgent.")
    with pytest.raises(PermissionDenied):
        workflow.break_glass(manager, crisis, ankara, _advisory(), reason="Urgent.")
    with pytest.raises(workflow.CrisisRefused):
        workflow.break_glass(manager, crisis, istanbul, _advisory(), reason="  ")
    with pytest.raises(workflow.CrisisRefused, match="French"):
        workflow.break_glass(
            manager, crisis, istanbul, _advisory(variants={"nl": "Blijf."}), reason="Urgent."
        )
    assert not Publication.objects.filter(crisis=crisis).exists()


def test_break_glass_needs_a_crisis_at_the_post(manager, reviewer, istanbul, brussels_post):
    _api_channel(istanbul)
    elsewhere = workflow.declare_crisis(reviewer, title="Flood", reason="Flood.", posts=[brussels_post])
    with pytest.raises(PermissionDenied):
        workflow.break_glass(manager, elsewhere, istanbul, _advisory(), reason="Urgent.")


# --- On call and escalation -----------------------------------------------------------------


def test_on_call_reviewers_hear_first_and_everyone_central_after_fifteen_minutes(
    reviewer, second_reviewer, manager, editor, istanbul
):
    third = make_user(email="third.reviewer@example.org", role=Role.CENTRAL_REVIEWER)
    notifications.set_on_call(second_reviewer, True)
    crisis = workflow.declare_crisis(manager, title="Fire", reason="Fire nearby.", posts=[istanbul])
    told = set(Notification.objects.filter(verb="crisis_declared").values_list("recipient_id", flat=True))
    assert second_reviewer.pk in told and editor.pk in told
    assert third.pk not in told and reviewer.pk not in told

    with time_machine.travel(timezone.now() + timedelta(minutes=14)):
        assert notifications.escalate_unanswered() == {"crises": 0, "advisories": 0}
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert notifications.escalate_unanswered()["crises"] == 1
        assert notifications.escalate_unanswered()["crises"] == 0  # once
    escalated = set(
        Notification.objects.filter(verb="crisis_escalated").values_list("recipient_id", flat=True)
    )
    assert escalated == {reviewer.pk, second_reviewer.pk, third.pk}
    assert crisis.events.filter(verb="escalated").count() == 1


def test_an_acknowledged_crisis_is_not_escalated(reviewer, second_reviewer, istanbul):
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    with pytest.raises(PermissionDenied):  # the declarer does not acknowledge their own
        workflow.acknowledge_crisis(reviewer, crisis)
    workflow.acknowledge_crisis(second_reviewer, crisis)
    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        assert notifications.escalate_unanswered()["crises"] == 0


def test_nobody_on_call_means_every_central_reviewer_hears_at_once(
    reviewer, second_reviewer, manager, istanbul
):
    workflow.declare_crisis(manager, title="Fire", reason="Fire.", posts=[istanbul])
    told = set(Notification.objects.filter(verb="crisis_declared").values_list("recipient_id", flat=True))
    assert {reviewer.pk, second_reviewer.pk} <= told


def test_advisories_waiting_fifteen_minutes_are_escalated_once_per_crisis(
    reviewer, second_reviewer, istanbul, ankara
):
    _api_channel(istanbul)
    _api_channel(ankara)
    notifications.set_on_call(second_reviewer, True)
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    made, _ = workflow.broadcast_advisory(reviewer, crisis, _advisory(platforms=["facebook"]))
    assert Notification.objects.filter(verb="advisory_submitted").count() == 1  # only the one on call
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert notifications.escalate_unanswered()["advisories"] == 2
        assert notifications.escalate_unanswered()["advisories"] == 0
    # One notification per central reviewer but the author, not one per advisory.
    assert list(
        Notification.objects.filter(verb="advisory_escalated").values_list("recipient_id", flat=True)
    ) == [second_reviewer.pk]


def test_crisis_notifications_are_emailed_at_once_whatever_the_digest_choice(
    reviewer, second_reviewer, istanbul, mailoutbox, django_capture_on_commit_callbacks
):
    from calendar_app.models import NotificationPreference

    NotificationPreference.objects.create(user=second_reviewer, email=NotificationPreference.EMAIL_DIGEST)
    notifications.set_on_call(second_reviewer, True)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    assert [message.to for message in mailoutbox] == [[second_reviewer.email]]
    assert "Coup" in mailoutbox[0].body


def test_crisis_timeline_verbs_all_have_labels():
    from calendar_app.models import CRISIS_VERBS

    for verb in ("declared", "held", "released", "advisory_broadcast", "break_glass", "missed", "ended"):
        assert CrisisEvent(verb=verb).verb_label == str(CRISIS_VERBS[verb])


def test_affected_posts_follow_the_scope(reviewer, istanbul, ankara, brussels_post):
    by_country = workflow.declare_crisis(reviewer, title="A", reason="A.", countries=["TR"])
    by_post = workflow.declare_crisis(reviewer, title="B", reason="B.", posts=[brussels_post])
    everywhere = workflow.declare_crisis(reviewer, title="C", reason="C.", whole_network=True)
    assert set(by_country.affected_posts()) == {istanbul, ankara}
    assert set(by_post.affected_posts()) == {brussels_post}
    assert set(everywhere.affected_posts()) == {istanbul, ankara, brussels_post}
    assert set(Crisis.objects.active().affecting(istanbul)) == {by_country, everywhere}
