"""What every workflow action shares: one error family, one compare-and-set, the transition
tables as the only source of moves (for the workflow and for the buttons), one durable
transaction per action."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from calendar_app import permissions, workflow
from calendar_app.models import (
    Delivery,
    DeliveryStatus,
    GuidelineVersion,
    Proposal,
    ProposalStatus,
    Publication,
    PublicationEvent,
    PublicationStatus,
)
from calendar_app.workflow import core
from diplomacy.models import Role
from tests.calendar_factories import make_proposal, make_publication
from tests.factories import make_channel, make_user

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-28 10:00:00+00:00"
DAY = date(2026, 12, 10)
TEXTS = {"nl": "Tekst.", "fr": "Texte.", "en": "Text.", "tr": "Metin."}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _in_review(post, author) -> Publication:
    publication = make_publication(post=post, author=author, local_date=DAY, variants=dict(TEXTS))
    workflow.submit(author, publication)
    return Publication.objects.get(pk=publication.pk)


def _approved(post, author, reviewer) -> Publication:
    publication = _in_review(post, author)
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    return Publication.objects.get(pk=publication.pk)


# --- One error family ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        workflow.StaleEdit,
        workflow.TransitionNotAllowed,
        workflow.GuidelinesFailed,
        workflow.DecisionRefused,
        workflow.CrisisRefused,
    ],
)
def test_every_refusal_of_the_workflow_is_a_workflow_error(error):
    assert issubclass(error, workflow.WorkflowError)
    assert error.__module__ == "calendar_app.workflow.core"


def test_the_package_keeps_the_names_callers_import():
    from calendar_app.workflow import AdvisoryContent, PublicationContent, approve  # noqa: F401

    for name in workflow.__all__:
        assert hasattr(workflow, name), name


def test_permissions_and_the_workflow_import_in_either_order():
    for first in ("calendar_app.permissions", "calendar_app.workflow", "calendar_app.forms"):
        code = (
            f"import django; django.setup(); import {first}; import calendar_app.workflow, calendar_app.forms"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"DJANGO_SETTINGS_MODULE": "diplomacy.settings", "PATH": "/usr/bin:/bin"},
            check=False,
        )
        assert result.returncode == 0, result.stderr


# --- One compare-and-set, one failure -------------------------------------------------------


def test_a_publication_someone_moved_first_is_refused_with_its_current_row(editor, istanbul):
    publication = _in_review(istanbul, editor)
    seen_earlier = Publication.objects.get(pk=publication.pk)
    Publication.objects.filter(pk=publication.pk).update(status=PublicationStatus.DRAFT)

    with transaction.atomic(), pytest.raises(workflow.StaleEdit) as refused:
        core.move(editor, seen_earlier, "withdraw")

    assert refused.value.current.status == PublicationStatus.DRAFT
    assert not PublicationEvent.objects.filter(publication=publication, verb="withdraw").exists()


def test_a_proposal_someone_moved_first_is_refused_the_same_way(fit, reviewer):
    proposal = make_proposal(partner=fit, status=ProposalStatus.SUBMITTED)
    seen_earlier = Proposal.objects.get(pk=proposal.pk)
    Proposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.WITHDRAWN)

    with transaction.atomic(), pytest.raises(workflow.StaleEdit) as refused:
        core.move(reviewer, seen_earlier, "accept")

    assert refused.value.current.status == ProposalStatus.WITHDRAWN
    assert not proposal.events.exists()


def test_a_proposal_has_no_revision_to_compare_and_set_on(fit, reviewer):
    proposal = make_proposal(partner=fit, status=ProposalStatus.SUBMITTED)
    with transaction.atomic(), pytest.raises(TypeError):
        core.move(reviewer, proposal, "accept", expected_revision=1)
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.SUBMITTED
    assert not proposal.events.exists()


def test_a_move_the_table_lacks_is_refused_before_any_write(editor, istanbul):
    publication = make_publication(post=istanbul, author=editor, status=PublicationStatus.PUBLISHED)
    with pytest.raises(workflow.TransitionNotAllowed):
        core.move(editor, publication, "cancel")
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.PUBLISHED


# --- The table is the only source of moves ---------------------------------------------------


def _without(monkeypatch, action: str) -> None:
    """The table with `action` allowed from no state at all."""
    _sources, target = core.TRANSITIONS[action]
    monkeypatch.setitem(core.TRANSITIONS, action, ((), target))


def test_an_edit_of_an_approved_publication_goes_through_the_table(monkeypatch, editor, reviewer, istanbul):
    publication = _approved(istanbul, editor, reviewer)
    _without(monkeypatch, "reopen_review")
    content = workflow.PublicationContent(
        title="Another title",
        kind=publication.kind,
        campaign=None,
        channels=[],
        local_date=publication.local_date,
        local_time=publication.local_time,
        variants=dict(TEXTS),
    )
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.update_publication(editor, publication, content, expected_revision=publication.revision)
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.APPROVED


def test_a_move_by_the_post_of_an_approved_publication_goes_through_the_table(
    monkeypatch, editor, reviewer, istanbul
):
    publication = _approved(istanbul, editor, reviewer)
    _without(monkeypatch, "reopen_review")
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.reschedule_publication(
            editor, publication, local_date=DAY + timedelta(days=1), local_time=time(9)
        )
    assert Publication.objects.get(pk=publication.pk).local_date == DAY


def test_break_glass_goes_through_the_table(monkeypatch, manager, reviewer, istanbul):
    make_channel(post=istanbul, platform="facebook", content_languages="")
    crisis = workflow.declare_crisis(reviewer, title="Coup", reason="Reports.", countries=["TR"])
    advisory = workflow.AdvisoryContent(
        title="Stay indoors", variants={"nl": "Blijf binnen.", "fr": "Restez."}, platforms=["facebook"]
    )
    _without(monkeypatch, "break_glass")
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.break_glass(manager, crisis, istanbul, advisory, reason="Shots fired near the consulate.")
    assert not Publication.objects.filter(crisis=crisis).exists()


def test_every_move_offered_on_a_page_has_its_predicate():
    assert set(permissions._MOVE_PREDICATES) == set(workflow.USER_ACTIONS)
    assert set(permissions._PROPOSAL_MOVE_PREDICATES) == set(workflow.PROPOSAL_TRANSITIONS)


@pytest.mark.parametrize(
    ("outcome", "action"), [(DeliveryStatus.DELIVERED, "publish"), (DeliveryStatus.FAILED, "fail")]
)
def test_settling_goes_through_the_table(monkeypatch, editor, reviewer, istanbul, outcome, action):
    publication = _approved(istanbul, editor, reviewer)
    Delivery.objects.create(publication=publication, channel=make_channel(post=istanbul), status=outcome)
    _without(monkeypatch, action)
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.settle_publication(publication.pk)
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.APPROVED


@pytest.mark.parametrize(
    ("outcome", "target", "verb"),
    [
        (DeliveryStatus.DELIVERED, PublicationStatus.PUBLISHED, "published"),
        (DeliveryStatus.FAILED, PublicationStatus.FAILED, "delivery_failed"),
    ],
)
def test_settling_moves_once_and_writes_one_history_row(editor, reviewer, istanbul, outcome, target, verb):
    publication = _approved(istanbul, editor, reviewer)
    Delivery.objects.create(publication=publication, channel=make_channel(post=istanbul), status=outcome)

    assert workflow.settle_publication(publication.pk) == target
    assert workflow.settle_publication(publication.pk) == ""

    event = PublicationEvent.objects.get(publication=publication, verb=verb)
    assert (event.actor, event.from_status, event.to_status) == (None, PublicationStatus.APPROVED, target)


STATUSES = [status.value for status in PublicationStatus]


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize(
    "who", ["editor", "manager", "reviewer", "second_reviewer", "partner_user", "outsider"]
)
def test_a_publication_offers_only_moves_its_table_allows_from_its_status(request, istanbul, status, who):
    author = make_user(email="author@example.org", role=Role.POST_EDITOR, post=istanbul)
    publication = make_publication(post=istanbul, author=author, status=status, local_date=DAY)
    user = request.getfixturevalue(who)

    offered = permissions.allowed_actions(user, publication) & set(workflow.TRANSITIONS)

    assert offered <= core.actions_from(workflow.TRANSITIONS, status)
    assert offered <= set(workflow.USER_ACTIONS)


@pytest.mark.parametrize("status", [status.value for status in ProposalStatus])
@pytest.mark.parametrize("who", ["partner_user", "reviewer", "editor"])
def test_a_proposal_offers_only_moves_its_table_allows_from_its_status(request, fit, status, who):
    reason = "Not this quarter." if status == ProposalStatus.DECLINED else ""
    proposal = Proposal.objects.create(partner=fit, title="Proposal", status=status, decline_reason=reason)
    offered = permissions.proposal_actions(request.getfixturevalue(who), proposal) & set(
        workflow.PROPOSAL_TRANSITIONS
    )
    assert offered <= core.actions_from(workflow.PROPOSAL_TRANSITIONS, status)


def test_a_reviewer_is_offered_every_decision_the_table_allows_on_a_publication_in_review(
    editor, second_reviewer, istanbul
):
    publication = _in_review(istanbul, editor)
    assert {"approve", "request_changes", "withdraw", "cancel"} <= permissions.allowed_actions(
        second_reviewer, publication
    )


def test_approval_is_not_offered_once_the_time_passed_in_review(editor, second_reviewer, istanbul):
    publication = _in_review(istanbul, editor)
    with time_machine.travel(publication.scheduled_at + timedelta(minutes=1), tick=False):
        assert publication.is_expired_in_review()
        assert "approve" not in permissions.allowed_actions(second_reviewer, publication)
        with pytest.raises(workflow.DecisionRefused):
            workflow.approve(second_reviewer, publication, expected_revision=publication.revision)


# --- One durable transaction per action -----------------------------------------------------


def test_an_action_refuses_to_run_inside_a_callers_transaction(editor, second_reviewer, istanbul):
    publication = _in_review(istanbul, editor)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        workflow.approve(second_reviewer, publication, expected_revision=publication.revision)
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.IN_REVIEW


@pytest.mark.django_db(transaction=True)
def test_an_action_is_committed_with_its_history_row_when_it_returns(editor, second_reviewer, istanbul):
    publication = _in_review(istanbul, editor)
    workflow.approve(second_reviewer, publication, expected_revision=publication.revision)
    with transaction.atomic():
        row = Publication.objects.get(pk=publication.pk)
        assert row.status == PublicationStatus.APPROVED
        assert row.events.filter(verb="approve", actor=second_reviewer).count() == 1


def test_a_notification_waits_for_the_commit(
    editor, second_reviewer, istanbul, django_capture_on_commit_callbacks
):
    publication = _in_review(istanbul, editor)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workflow.approve(second_reviewer, publication, expected_revision=publication.revision)
    assert callbacks  # the e-mails and the publishing job are queued for after the commit


# --- Writes that were in views and forms ----------------------------------------------------


def _proposal_content(**changes) -> workflow.ProposalContent:
    values = {
        "title": "Trade mission to Istanbul",
        "summary": "",
        "target": "network",
        "target_countries": [],
        "target_posts": [],
        "window_starts_on": None,
        "window_ends_on": None,
        "campaign": None,
        "contact": "",
        "texts": {"en": "Join the mission."},
    }
    values.update(changes)
    return workflow.ProposalContent(**values)


def test_a_partner_saves_a_new_draft_with_its_texts_and_history(fit, partner_user):
    proposal = workflow.save_proposal(
        partner_user, Proposal(partner=fit, created_by=partner_user), _proposal_content()
    )
    assert proposal.status == ProposalStatus.DRAFT
    assert list(proposal.variants.values_list("language", "text")) == [("en", "Join the mission.")]
    assert list(proposal.events.values_list("verb", flat=True)) == ["created"]


def test_a_draft_sent_meanwhile_is_not_overwritten(fit, partner_user):
    proposal = workflow.save_proposal(
        partner_user, Proposal(partner=fit, created_by=partner_user), _proposal_content()
    )
    Proposal.objects.filter(pk=proposal.pk).update(status=ProposalStatus.SUBMITTED)
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.save_proposal(partner_user, proposal, _proposal_content(title="Changed"))
    assert Proposal.objects.get(pk=proposal.pk).title == "Trade mission to Istanbul"


def test_only_the_partners_own_people_save_its_drafts(fit, partner_user, reviewer, editor):
    proposal = workflow.save_proposal(
        partner_user, Proposal(partner=fit, created_by=partner_user), _proposal_content()
    )
    for user in (reviewer, editor):
        with pytest.raises(PermissionDenied):
            workflow.save_proposal(user, proposal, _proposal_content(title="Changed"))
        with pytest.raises(PermissionDenied):
            workflow.save_proposal(user, Proposal(partner=fit), _proposal_content())


def test_only_central_changes_a_guideline(reviewer, editor):
    values = {
        "enabled": False,
        "severity": "warning",
        "post_kinds": "",
        "platforms": "",
        "publication_kinds": "",
        "params": {},
        "explanations": {},
    }
    with pytest.raises(PermissionDenied):
        workflow.change_guideline(editor, "frequency", values)
    version = workflow.change_guideline(reviewer, "frequency", values)
    assert (version.number, version.change, version.changed_by) == (1, "frequency", reviewer)
    assert GuidelineVersion.objects.count() == 1


def test_a_draft_a_colleague_sent_while_it_was_saved_is_a_message_not_an_error(
    client, monkeypatch, fit, partner_user
):
    colleague = make_user(email="colleague@fit.example.org", role=Role.PARTNER_CONTRIBUTOR, partner=fit)
    proposal = workflow.save_proposal(
        partner_user, Proposal(partner=fit, created_by=partner_user), _proposal_content()
    )
    submit = workflow.submit_proposal

    def colleague_first(actor, seen):
        submit(colleague, Proposal.objects.get(pk=seen.pk))
        return submit(actor, seen)

    monkeypatch.setattr(workflow, "submit_proposal", colleague_first)
    client.force_login(partner_user)
    data = {"title": "Trade mission", "target": "network", "text_en": "Join the mission.", "submit": "1"}

    response = client.post(reverse("proposal_detail", args=[proposal.pk]), data)

    assert response.status_code == 302
    shown = [str(message) for message in response.wsgi_request._messages]
    assert "Someone else acted on this proposal first." in shown
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.SUBMITTED


def test_a_publication_moved_while_in_review_can_still_be_approved(editor, second_reviewer, istanbul):
    publication = _in_review(istanbul, editor)
    moved = workflow.reschedule_publication(
        editor, publication, local_date=publication.local_date + timedelta(days=1), local_time=time(11, 0)
    )
    assert moved.status == PublicationStatus.IN_REVIEW
    assert moved.latest_revision.number == moved.revision  # the new time is the revision decided on
    approved = workflow.approve(second_reviewer, moved, expected_revision=moved.revision)
    assert approved.status == PublicationStatus.APPROVED
