"""History rows read as sentences in the reader's language; partners never read staff names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from calendar_app.history import (
    CRISIS_SENTENCES,
    PROPOSAL_SENTENCES,
    PUBLICATION_SENTENCES,
    event_sentence,
    prepare,
)
from calendar_app.models import (
    CRISIS_VERBS,
    EVENT_VERBS,
    Crisis,
    CrisisEvent,
    ProposalEvent,
    PublicationEvent,
)
from calendar_app.workflow.core import PROPOSAL_TRANSITIONS, TRANSITIONS, USER_ACTIONS
from diplomacy.models import Role
from tests.calendar_factories import make_proposal, make_publication
from tests.factories import make_user

APP = Path(__file__).resolve().parent.parent / "calendar_app"

#: Verbs written as literals where history rows are made: record_event(x, actor, "verb", ...),
#: record_proposal_event(...), _crisis_event(...), Model(verb="..."), move(..., verb="...").
RECORDED = re.compile(
    r"(?:record_event|record_proposal_event|_crisis_event|_event)\(\s*[\w.]+,\s*[\w.]+,\s*\"(\w+)\""
)
KEYWORD = re.compile(r"\bverb=\"(\w+)\"")


def _recorded_verbs() -> set[str]:
    found: set[str] = set()
    # Where history rows are written: the workflow, the translation check, the demo data
    # (notifications have verbs of their own, with their own texts).
    paths = [*APP.glob("workflow/*.py"), *APP.glob("translation/*.py"), APP / "demo.py"]
    for path in paths:
        text = path.read_text()
        found |= set(RECORDED.findall(text)) | set(KEYWORD.findall(text))
    return found


def test_every_registered_publication_verb_has_a_sentence() -> None:
    missing = set(EVENT_VERBS) - set(PUBLICATION_SENTENCES)
    assert not missing, f"history verbs without a sentence: {sorted(missing)}"


def test_every_action_a_person_takes_has_a_sentence() -> None:
    assert set(USER_ACTIONS) <= set(PUBLICATION_SENTENCES)
    # The engine's and the steps' moves are recorded under their own verbs (see the scan
    # below); the actions taken by name must read as sentences too.
    assert set(PROPOSAL_TRANSITIONS) <= set(PROPOSAL_SENTENCES)
    assert set(TRANSITIONS) - set(PUBLICATION_SENTENCES) <= {
        "reopen_review",
        "reschedule_missed",
        "publish",
        "fail",
        "miss",
    }


def test_every_crisis_verb_has_a_sentence() -> None:
    assert set(CRISIS_VERBS) <= set(CRISIS_SENTENCES)


def test_every_verb_the_code_records_has_a_sentence() -> None:
    recorded = _recorded_verbs()
    assert {"submit", "adopted", "held", "advisory_approved", "rescheduled_after_missed"} <= recorded
    known = set(PUBLICATION_SENTENCES) | set(PROPOSAL_SENTENCES) | set(CRISIS_SENTENCES)
    assert not recorded - known, f"verbs recorded without a sentence: {sorted(recorded - known)}"


def test_every_sentence_of_every_table_renders_in_every_language() -> None:
    for language in ("en", "nl", "fr"):
        with translation.override(language):
            for table in (PUBLICATION_SENTENCES, PROPOSAL_SENTENCES, CRISIS_SENTENCES):
                for verb, sentence in table.items():
                    text = str(sentence) % {"actor": "X"}
                    assert text and "_" not in text and "%" not in text, (language, verb, text)


@pytest.fixture
def publication(istanbul, editor):
    return make_publication(post=istanbul, author=editor, status="in_review")


def test_staff_read_the_actors_name(publication, editor, reviewer) -> None:
    event = PublicationEvent.objects.create(
        publication=publication,
        actor=editor,
        verb="submit",
        from_status="draft",
        to_status="in_review",
        revision=1,
    )
    with translation.override("en"):
        assert event_sentence(event, reviewer) == "editor.istanbul@example.org sent it to review"


def test_nobody_is_the_system(publication, reviewer) -> None:
    event = PublicationEvent.objects.create(publication=publication, actor=None, verb="published", revision=1)
    with translation.override("en"):
        assert event_sentence(event, reviewer) == "The system published it"
    with translation.override("fr"):
        assert event_sentence(event, reviewer).startswith("Le système")


def test_a_move_names_both_times_in_the_readers_language(publication, editor) -> None:
    event = PublicationEvent.objects.create(
        publication=publication,
        actor=editor,
        verb="rescheduled",
        revision=1,
        data={"from": {"date": "2026-12-07", "time": "10:00"}, "to": {"date": "2026-12-08", "time": "11:30"}},
    )
    with translation.override("en"):
        assert event_sentence(event, editor) == (
            "editor.istanbul@example.org moved it from 7 December 2026, 10:00 to 8 December 2026, 11:30"
        )


def test_an_unknown_verb_never_shows_its_code(publication, editor) -> None:
    event = PublicationEvent.objects.create(
        publication=publication, actor=editor, verb="frobnicate", revision=1
    )
    with translation.override("en"):
        text = event_sentence(event, editor)
    assert "frobnicate" not in text
    assert text == "editor.istanbul@example.org changed it"


@pytest.fixture
def proposal_history(fit, partner_user, reviewer, editor, istanbul):
    proposal = make_proposal(partner=fit, status="accepted")
    ProposalEvent.objects.create(proposal=proposal, actor=partner_user, verb="submit", from_status="draft")
    ProposalEvent.objects.create(proposal=proposal, actor=reviewer, verb="accept", from_status="submitted")
    ProposalEvent.objects.create(
        proposal=proposal, actor=editor, verb="adopted", data={"post": istanbul.code}
    )
    return proposal


def test_a_partner_reads_central_and_posts_never_staff_names(proposal_history, partner_user) -> None:
    events = list(proposal_history.events.select_related("actor").order_by("pk"))
    with translation.override("en"):
        sentences = [event_sentence(event, partner_user) for event in events]
    assert sentences == [
        "partner.fit@example.org sent the proposal to central communications",
        "Central communications accepted the proposal",
        "Consulate-General of Belgium in Istanbul adopted the proposal",
    ]


def test_central_reads_the_names(proposal_history, reviewer) -> None:
    events = list(proposal_history.events.select_related("actor").order_by("pk"))
    with translation.override("en"):
        assert event_sentence(events[1], reviewer) == "central.reviewer@example.org accepted the proposal"


def test_a_partner_of_another_partner_is_not_named(proposal_history, awex) -> None:
    other = make_user(email="someone@awex.example.org", role=Role.PARTNER_CONTRIBUTOR, partner=awex)
    event = proposal_history.events.select_related("actor").get(verb="submit")
    with translation.override("en"):
        assert "partner.fit" not in event_sentence(event, other)


def test_prepare_loads_the_actors_roles_in_one_query(
    proposal_history, partner_user, django_assert_num_queries
) -> None:
    # The events, the reader's memberships, then every actor's memberships at once.
    with django_assert_num_queries(3):
        events = prepare(proposal_history.events.select_related("actor"), partner_user)
    with django_assert_num_queries(0):
        for event in events:
            event_sentence(event, partner_user)


def test_the_partners_proposal_page_shows_sentences(client, proposal_history, partner_user) -> None:
    client.force_login(partner_user)
    response = client.get(reverse("proposal_detail", args=[proposal_history.pk]))
    text = response.content.decode()
    assert "Central communications accepted the proposal" in text
    assert "central.reviewer@example.org" not in text
    assert "editor.istanbul@example.org" not in text
    assert ": accept" not in text


def test_crisis_events_read_as_sentences(reviewer) -> None:
    crisis = Crisis.objects.create(title="Storm", declared_by=reviewer, declared_at=timezone.now())
    event = CrisisEvent.objects.create(crisis=crisis, actor=reviewer, verb="declared")
    with translation.override("en"):
        assert event_sentence(event, reviewer) == "central.reviewer@example.org declared the crisis"
