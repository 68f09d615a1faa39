"""The review workflow: every status x role x action, guidelines at submission, decisions, the edit rule."""

from datetime import date, time

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from calendar_app import guidelines, workflow
from calendar_app.forms import GuidelineForm
from calendar_app.models import (
    Notification,
    Publication,
    PublicationEvent,
    PublicationRevision,
    PublicationStatus,
    Review,
)
from calendar_app.workflow import PublicationContent
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_user

NOW = "2026-11-28 10:00:00+00:00"
DAY = date(2026, 12, 10)
#: Istanbul publishes in nl, fr, en and tr (tests.conftest / tests.factories.make_post).
TEXTS = {
    "nl": "Belgische bedrijven bezoeken Istanbul deze week.",
    "fr": "Des entreprises belges visitent Istanbul cette semaine.",
    "en": "Belgian companies visit Istanbul this week.",
    "tr": "Belçikalı şirketler bu hafta İstanbul'u ziyaret ediyor.",
}

S = PublicationStatus
STATUSES = [s.value for s in PublicationStatus]
ROLES = ["editor", "manager", "foreign_editor", "central_author", "central_other", "partner"]
ACTIONS = ["submit", "resubmit", "approve", "request_changes", "withdraw", "cancel", "retry"]
#: The moves of DESIGN.md "Publication workflow", written out here independently of the code.
MOVES = {
    "submit": ({"draft"}, "in_review"),
    "resubmit": ({"changes_requested"}, "in_review"),
    "approve": ({"in_review"}, "approved"),
    "request_changes": ({"in_review"}, "changes_requested"),
    "withdraw": ({"in_review", "approved"}, "draft"),
    "cancel": ({"draft", "in_review", "changes_requested", "approved", "failed", "missed"}, "cancelled"),
    "retry": ({"failed"}, "approved"),
    # Steps of other actions: an edit or a move by the post sends an approved one back to
    # review; a post manager's break-glass advisory is approved at once.
    "reopen_review": ({"approved", "missed"}, "in_review"),
    # A missed publication given a new time by central keeps its approval.
    "reschedule_missed": ({"missed"}, "approved"),
    "break_glass": ({"draft"}, "approved"),
    # The engine's outcomes: the time comes and every delivery went out, or one failed for good.
    "publish": ({"approved"}, "published"),
    "fail": ({"approved"}, "failed"),
    # Not delivered within MAX_LATENESS of its time (or its time passed while held): never late.
    "miss": ({"approved"}, "missed"),
}
COMMENTS = {
    "approve": "Fine, thank you.",
    "request_changes": "Add the date of the trade mission.",
    "cancel": "The event was called off.",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def facebook(istanbul):
    return make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")


def content(channel, **extra) -> PublicationContent:
    values = {
        "title": "Flemish cleantech mission",
        "kind": "regular",
        "campaign": None,
        "channels": [channel],
        "local_date": DAY,
        "local_time": time(9, 0),
        "variants": dict(TEXTS),
    }
    values.update(extra)
    return PublicationContent(**values)


def state(publication: Publication) -> dict:
    """Everything a refused action must leave as it was."""
    row = Publication.objects.get(pk=publication.pk)
    return {
        "status": row.status,
        "revision": row.revision,
        "events": PublicationEvent.objects.filter(publication=publication).count(),
        "reviews": Review.objects.filter(publication=publication).count(),
        "revisions": list(
            PublicationRevision.objects.filter(publication=publication).values_list("number", "checks")
        ),
        "notifications": Notification.objects.count(),
    }


def act(action: str, actor, publication: Publication, comment: str | None = None):
    comment = COMMENTS.get(action, "") if comment is None else comment
    if action in ("approve", "request_changes"):
        function = getattr(workflow, action)
        return function(actor, publication, expected_revision=publication.revision, comment=comment)
    if action == "cancel":
        return workflow.cancel(actor, publication, comment=comment)
    return getattr(workflow, action)(actor, publication)


def expected_outcome(status: str, role: str, action: str):
    """The answer the design gives: a new status, PermissionDenied or TransitionNotAllowed."""
    if action in ("approve", "request_changes"):
        # Only central reviewers decide, never on their own publication (four eyes).
        if role != "central_other":
            return PermissionDenied
    elif role not in ("editor", "manager", "central_author", "central_other") or status in (
        "published",
        "cancelled",
    ):
        # The post's staff and central act on a publication until it is published or cancelled.
        return PermissionDenied
    elif status in ("failed", "missed") and action not in ("cancel", "retry"):
        # A failed publication is sent again or cancelled: its approved text is what failed to go out.
        # A missed one is given a new time or cancelled (its approved text waits for that time).
        return PermissionDenied
    sources, target = MOVES[action]
    return target if status in sources else workflow.TransitionNotAllowed


@pytest.fixture
def matrix_people(editor, manager, ankara, reviewer, second_reviewer, partner_user):
    return {
        "editor": editor,
        "manager": manager,
        "foreign_editor": make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara),
        "central_author": reviewer,
        "central_other": second_reviewer,
        "partner": partner_user,
    }


def test_the_transition_table_is_the_one_of_the_design():
    assert {action: (set(sources), target) for action, (sources, target) in workflow.TRANSITIONS.items()} == (
        MOVES
    )


def test_the_moves_people_take_on_a_publication_page_are_the_matrix_actions():
    assert list(workflow.USER_ACTIONS) == ACTIONS


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", STATUSES)
def test_each_status_role_and_action_gives_the_new_state_and_one_event_or_a_clean_refusal(
    status, role, action, matrix_people, istanbul, facebook, reviewer
):
    # The author is a central reviewer, so that "central reviewer who is the author" is a role here.
    initial = S.DRAFT if status == S.IN_REVIEW else status
    publication = make_publication(
        post=istanbul, author=reviewer, status=initial, local_date=DAY, channels=[facebook], variants=TEXTS
    )
    if status == S.IN_REVIEW:
        workflow.submit(reviewer, publication)  # in review with its checked revision, as for real
    actor = matrix_people[role]
    publication = Publication.objects.get(pk=publication.pk)
    before = state(publication)
    expected = expected_outcome(status, role, action)

    if not isinstance(expected, str):
        with pytest.raises(expected):
            act(action, actor, publication)
        assert state(publication) == before
        return

    act(action, actor, publication)
    after = state(publication)
    assert after["status"] == expected
    assert after["events"] == before["events"] + 1
    event = PublicationEvent.objects.filter(publication=publication).latest("pk")
    assert (event.actor, event.verb, event.from_status, event.to_status) == (actor, action, status, expected)
    assert event.comment == COMMENTS.get(action, "")
    assert event.revision == before["revision"] == after["revision"]
    if action in ("approve", "request_changes"):
        review = Review.objects.get(publication=publication)
        assert review.reviewer == actor
        assert review.revision.number == publication.revision
        assert review.decision == action
    else:
        assert after["reviews"] == before["reviews"]
    if action in ("submit", "resubmit"):
        revision = PublicationRevision.objects.get(publication=publication, number=publication.revision)
        assert revision.submitted_by == actor
        assert event.data == {"revision": revision.number}


# --- Submitting and the guidelines ---------------------------------------------------


def test_a_blocking_guideline_stops_the_submission_and_changes_nothing(editor, istanbul, facebook):
    without_french = {lang: text for lang, text in TEXTS.items() if lang != "fr"}
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[facebook], variants=without_french
    )
    before = state(publication)
    with pytest.raises(workflow.GuidelinesFailed) as refused:
        workflow.submit(editor, publication)
    assert [result.code for result in refused.value.results] == ["required-languages"]
    assert "fr" in refused.value.results[0].problems[0]
    assert state(publication) == before
    assert before["status"] == S.DRAFT
    assert not PublicationRevision.objects.exists()


def test_warnings_do_not_block_and_go_with_the_revision_to_the_reviewer(editor, istanbul, facebook):
    texts = {**TEXTS, "en": "New sanctions against smugglers were announced today."}
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[facebook], variants=texts
    )
    workflow.submit(editor, publication)
    publication.refresh_from_db()
    assert publication.status == S.IN_REVIEW
    revision = PublicationRevision.objects.get(publication=publication)
    assert (revision.has_warnings, revision.has_blocking) == (True, False)
    assert [check["code"] for check in revision.warnings] == ["sensitive-terms"]
    assert revision.content["variants"]["en"][0] == texts["en"]


# --- Deciding --------------------------------------------------------------------------


@pytest.fixture
def submitted(editor, istanbul, facebook):
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[facebook], variants=TEXTS
    )
    workflow.submit(editor, publication)
    return Publication.objects.get(pk=publication.pk)


def test_an_approval_records_the_revision_and_the_guidelines_version_in_force(
    submitted, reviewer, second_reviewer
):
    form = GuidelineForm(
        {"enabled": "on", "severity": "warning", "param_terms": "coup"}, code="sensitive-terms"
    )
    assert form.is_valid(), form.errors
    form.save(second_reviewer)
    workflow.approve(reviewer, submitted, expected_revision=submitted.revision)
    review = Review.objects.get()
    assert review.revision == PublicationRevision.objects.get(publication=submitted)
    assert review.guideline_version == guidelines.current_version() == 1
    assert review.decision == "approve"
    assert Publication.objects.get(pk=submitted.pk).status == S.APPROVED


def test_a_request_for_changes_needs_a_comment(submitted, reviewer):
    before = state(submitted)
    with pytest.raises(workflow.DecisionRefused):
        workflow.request_changes(reviewer, submitted, expected_revision=submitted.revision, comment="   ")
    assert state(submitted) == before


@pytest.mark.parametrize("action", ["approve", "request_changes"])
def test_a_hundred_thousand_character_comment_is_refused_and_changes_nothing(submitted, reviewer, action):
    before = state(submitted)
    with pytest.raises(workflow.DecisionRefused):
        act(action, reviewer, submitted, comment="x" * 100_000)
    assert state(submitted) == before


def test_nobody_approves_their_own_publication(reviewer, istanbul, facebook):
    publication = make_publication(
        post=istanbul, author=reviewer, local_date=DAY, channels=[facebook], variants=TEXTS
    )
    workflow.submit(reviewer, publication)
    publication = Publication.objects.get(pk=publication.pk)
    before = state(publication)
    with pytest.raises(PermissionDenied):
        workflow.approve(reviewer, publication, expected_revision=publication.revision)
    assert state(publication) == before


def test_a_reviewer_who_submitted_someone_elses_publication_does_not_approve_it(
    editor, reviewer, second_reviewer, istanbul, facebook
):
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[facebook], variants=TEXTS
    )
    workflow.submit(reviewer, publication)
    publication = Publication.objects.get(pk=publication.pk)
    with pytest.raises(PermissionDenied):
        workflow.approve(reviewer, publication, expected_revision=publication.revision)
    workflow.approve(second_reviewer, publication, expected_revision=publication.revision)
    assert Publication.objects.get(pk=publication.pk).status == S.APPROVED


def test_something_already_decided_cannot_be_approved_again(submitted, reviewer, second_reviewer):
    workflow.approve(reviewer, submitted, expected_revision=submitted.revision)
    publication = Publication.objects.get(pk=submitted.pk)
    before = state(publication)
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.approve(second_reviewer, publication, expected_revision=publication.revision)
    assert state(publication) == before


def test_a_reviewer_who_loaded_an_older_revision_gets_stale_edit(submitted, editor, reviewer, facebook):
    seen_by_reviewer = Publication.objects.get(pk=submitted.pk)
    assert seen_by_reviewer.latest_revision.number == 1
    changed = content(facebook, variants={**TEXTS, "en": "Belgian companies visit Istanbul next week."})
    workflow.update_publication(editor, submitted, changed, expected_revision=1)
    before = state(submitted)
    with pytest.raises(workflow.StaleEdit):
        workflow.approve(reviewer, seen_by_reviewer, expected_revision=1)
    # The same form posted against the current row (as the view does) is refused too.
    with pytest.raises(workflow.StaleEdit):
        workflow.approve(reviewer, Publication.objects.get(pk=submitted.pk), expected_revision=1)
    assert state(submitted) == before
    assert before["status"] == S.IN_REVIEW


def test_a_revision_with_a_blocking_failure_cannot_be_approved(submitted, editor, reviewer, facebook):
    # An edit while in review makes a new revision and checks it, but does not refuse to save it.
    without_french = {lang: text for lang, text in TEXTS.items() if lang != "fr"}
    workflow.update_publication(
        editor, submitted, content(facebook, variants={**without_french, "fr": ""}), expected_revision=1
    )
    publication = Publication.objects.get(pk=submitted.pk)
    assert publication.latest_revision.has_blocking
    before = state(publication)
    with pytest.raises(workflow.DecisionRefused):
        workflow.approve(reviewer, publication, expected_revision=publication.revision)
    assert state(publication) == before
    # Sending it back is what the reviewer can do.
    workflow.request_changes(
        reviewer, publication, expected_revision=publication.revision, comment="The French text is missing."
    )
    assert Publication.objects.get(pk=publication.pk).status == S.CHANGES_REQUESTED


def test_a_publication_whose_time_passed_in_review_cannot_be_approved(submitted, reviewer):
    with time_machine.travel("2026-12-10 07:00:00+00:00", tick=False):  # 10:00 in Istanbul
        publication = Publication.objects.get(pk=submitted.pk)
        before = state(publication)
        with pytest.raises(workflow.DecisionRefused):
            workflow.approve(reviewer, publication, expected_revision=publication.revision)
        assert state(publication) == before


def test_resubmitting_after_a_fix_makes_a_new_revision_that_can_be_approved(
    submitted, editor, reviewer, facebook
):
    workflow.request_changes(reviewer, submitted, expected_revision=1, comment="Say which week.")
    publication = Publication.objects.get(pk=submitted.pk)
    fixed = content(facebook, variants={**TEXTS, "en": "Belgian companies visit Istanbul on 10 December."})
    publication = workflow.update_publication(editor, publication, fixed, expected_revision=1)
    workflow.resubmit(editor, publication)
    publication = Publication.objects.get(pk=submitted.pk)
    assert publication.latest_revision.number == 2
    workflow.approve(reviewer, publication, expected_revision=2)
    assert list(Review.objects.order_by("created_at", "pk").values_list("revision__number", "decision")) == [
        (1, "request_changes"),
        (2, "approve"),
    ]


def test_a_publication_resubmitted_unchanged_can_still_be_decided(submitted, editor, reviewer):
    workflow.request_changes(reviewer, submitted, expected_revision=1, comment="Are you sure of the date?")
    publication = Publication.objects.get(pk=submitted.pk)
    workflow.resubmit(editor, publication)  # "yes, the date is right"
    publication = Publication.objects.get(pk=submitted.pk)
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    assert Publication.objects.get(pk=submitted.pk).status == S.APPROVED


# --- The edit rule ------------------------------------------------------------------------


@pytest.fixture
def approved(submitted, reviewer):
    workflow.approve(reviewer, submitted, expected_revision=submitted.revision)
    return Publication.objects.get(pk=submitted.pk)


def test_editing_an_approved_publication_sends_it_back_to_review_with_a_new_revision(
    approved, editor, facebook, reviewer
):
    changed = content(facebook, variants={**TEXTS, "en": "Belgian companies visit Istanbul next week."})
    workflow.update_publication(editor, approved, changed, expected_revision=approved.revision)
    publication = Publication.objects.get(pk=approved.pk)
    assert (publication.status, publication.revision) == (S.IN_REVIEW, 2)
    revision = publication.latest_revision
    assert (revision.number, revision.submitted_by) == (2, editor)
    assert revision.content["variants"]["en"][0] == "Belgian companies visit Istanbul next week."
    event = publication.events.latest("pk")
    assert (event.verb, event.from_status, event.to_status) == (
        "edited_after_approval",
        "approved",
        "in_review",
    )
    # The new revision is what the reviewer now decides on.
    workflow.approve(reviewer, publication, expected_revision=2)
    assert Review.objects.filter(revision=revision, decision="approve").exists()


def test_a_central_reviewer_moving_an_approved_publication_keeps_its_approval(approved, second_reviewer):
    workflow.reschedule_publication(
        second_reviewer, approved, local_date=date(2026, 12, 11), local_time=time(9)
    )
    publication = Publication.objects.get(pk=approved.pk)
    assert publication.status == S.APPROVED
    assert publication.local_date == date(2026, 12, 11)
    event = publication.events.latest("pk")
    assert (event.verb, event.from_status, event.to_status) == ("rescheduled", "approved", "approved")


def test_the_post_moving_an_approved_publication_sends_it_back_to_review(approved, editor):
    workflow.reschedule_publication(editor, approved, local_date=date(2026, 12, 11), local_time=time(9))
    assert Publication.objects.get(pk=approved.pk).status == S.IN_REVIEW


def test_an_approved_publication_moved_by_its_post_can_be_approved_again(approved, editor, reviewer):
    workflow.reschedule_publication(editor, approved, local_date=date(2026, 12, 11), local_time=time(9))
    publication = Publication.objects.get(pk=approved.pk)
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    assert Publication.objects.get(pk=approved.pk).status == S.APPROVED


def test_a_publication_in_review_saved_unchanged_can_still_be_approved(submitted, editor, reviewer, facebook):
    workflow.update_publication(
        editor, submitted, content(facebook, title=submitted.title), expected_revision=1
    )
    publication = Publication.objects.get(pk=submitted.pk)
    assert publication.events.latest("pk").data["changed"] == []
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    assert Publication.objects.get(pk=submitted.pk).status == S.APPROVED


# --- Through the views -------------------------------------------------------------------


def editor_form(channel, publication: Publication, **extra) -> dict:
    data = {
        "title": publication.title,
        "kind": "regular",
        "channels": [channel.pk],
        "local_date": DAY.isoformat(),
        "local_time": "09:00",
        "revision": publication.revision,
        **{f"variant_{lang}": text for lang, text in TEXTS.items()},
    }
    data.update(extra)
    return data


def test_a_forged_status_in_the_editor_form_changes_nothing(client, editor, istanbul, facebook):
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[facebook], variants=TEXTS
    )
    client.force_login(editor)
    response = client.post(
        f"{publication.get_absolute_url()}edit/",
        editor_form(facebook, publication, title="Renamed", status="approved"),
    )
    assert response.status_code == 302
    publication.refresh_from_db()
    assert (publication.title, publication.status) == ("Renamed", S.DRAFT)
    assert not PublicationEvent.objects.filter(publication=publication, to_status=S.APPROVED).exists()


def test_the_author_posting_approve_gets_a_refusal_and_nothing_changes(client, reviewer, istanbul, facebook):
    publication = make_publication(
        post=istanbul, author=reviewer, local_date=DAY, channels=[facebook], variants=TEXTS
    )
    workflow.submit(reviewer, publication)
    before = state(publication)
    client.force_login(reviewer)
    url = reverse("publication_transition", args=[publication.pk, "approve"])
    response = client.post(url, {"revision": publication.revision})
    assert response.status_code == 403
    assert "Not allowed" in response.content.decode()
    assert state(publication) == before


def test_an_approval_posted_without_its_revision_is_refused_with_a_message(client, submitted, reviewer):
    client.force_login(reviewer)
    url = reverse("publication_transition", args=[submitted.pk, "approve"])
    response = client.post(url, {}, follow=True)
    assert response.status_code == 200
    assert "The form is incomplete" in response.content.decode()
    assert Publication.objects.get(pk=submitted.pk).status == S.IN_REVIEW


def test_a_stale_approval_through_the_view_says_someone_acted_first(
    client, submitted, reviewer, editor, facebook
):
    changed = content(facebook, variants={**TEXTS, "en": "Belgian companies visit Istanbul next week."})
    workflow.update_publication(editor, submitted, changed, expected_revision=1)
    client.force_login(reviewer)
    url = reverse("publication_transition", args=[submitted.pk, "approve"])
    response = client.post(url, {"revision": 1}, follow=True)
    assert "Someone else acted on this publication first" in response.content.decode()
    assert Publication.objects.get(pk=submitted.pk).status == S.IN_REVIEW


def test_an_unknown_action_is_not_found(client, submitted, reviewer):
    client.force_login(reviewer)
    response = client.post(reverse("publication_transition", args=[submitted.pk, "publish"]), {"revision": 1})
    assert response.status_code == 404
    assert Publication.objects.get(pk=submitted.pk).status == S.IN_REVIEW


def test_a_blocked_submission_through_the_view_says_what_to_fix(client, editor, istanbul, facebook):
    texts = {lang: text for lang, text in TEXTS.items() if lang != "fr"}
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[facebook], variants=texts
    )
    client.force_login(editor)
    response = client.post(reverse("publication_transition", args=[publication.pk, "submit"]), follow=True)
    page = response.content.decode()
    assert "Not sent: fix what the guidelines say first." in page
    assert "Add the text in: French (fr)." in page
    assert Publication.objects.get(pk=publication.pk).status == S.DRAFT


def test_approving_with_htmx_returns_the_item_partial(client, submitted, reviewer):
    client.force_login(reviewer)
    url = reverse("publication_transition", args=[submitted.pk, "approve"])
    response = client.post(url, {"revision": submitted.revision}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "calendar_app/_approval_item.html"
    page = response.content.decode()
    assert page.startswith("<li") and f'id="approval-{submitted.pk}"' in page
    assert "<html" not in page
    assert "Approved" in page
    assert Publication.objects.get(pk=submitted.pk).status == S.APPROVED


def test_a_refused_htmx_approval_is_shown_in_place(client, submitted, reviewer, editor, facebook):
    changed = content(facebook, variants={**TEXTS, "en": "Belgian companies visit Istanbul next week."})
    workflow.update_publication(editor, submitted, changed, expected_revision=1)
    client.force_login(reviewer)
    url = reverse("publication_transition", args=[submitted.pk, "approve"])
    response = client.post(url, {"revision": 1}, headers={"HX-Request": "true"})
    assert "Someone else acted on this publication first" in response.content.decode()
    config = client.get(reverse("home")).content.decode().split('name="htmx-config"')[1].split(">")[0]
    assert 200 <= response.status_code < 300 or "responseHandling" in config
