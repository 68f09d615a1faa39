"""Who hears about what: in-app notifications, emails after commit, digests, reminders, the bell."""

from datetime import date, time

import pytest
import time_machine
from django.urls import reverse

from calendar_app import notifications, tasks, workflow
from calendar_app.models import Notification, NotificationPreference, Publication
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_user

NOW = "2026-11-28 10:00:00+00:00"
DAY = date(2026, 12, 10)
TEXTS = {
    "nl": "Belgische bedrijven bezoeken Istanbul.",
    "fr": "Des entreprises belges visitent Istanbul.",
    "en": "Belgian companies visit Istanbul.",
    "tr": "Belçikalı şirketler İstanbul'u ziyaret ediyor.",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def facebook(istanbul):
    return make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")


@pytest.fixture
def draft(editor, istanbul, facebook):
    return make_publication(
        post=istanbul,
        author=editor,
        title="Cleantech mission",
        local_date=DAY,
        channels=[facebook],
        variants=TEXTS,
    )


def recipients(verb: str) -> set:
    return {n.recipient.email for n in Notification.objects.filter(verb=verb).select_related("recipient")}


def submit(actor, publication, capture) -> Publication:
    with capture(execute=True):
        workflow.submit(actor, publication)
    return Publication.objects.get(pk=publication.pk)


# --- In-app -------------------------------------------------------------------------------


def test_a_submission_notifies_every_central_reviewer_in_app(
    draft, editor, manager, reviewer, second_reviewer, partner_user, django_capture_on_commit_callbacks
):
    submit(editor, draft, django_capture_on_commit_callbacks)
    assert recipients("submitted") == {reviewer.email, second_reviewer.email}
    notification = Notification.objects.filter(verb="submitted").first()
    assert (notification.actor, notification.publication) == (editor, draft)
    assert notifications.message(notification) == f"{editor} sent “Cleantech mission” to review."


def test_a_reviewer_who_submits_is_not_notified_of_their_own_submission(
    draft, reviewer, second_reviewer, django_capture_on_commit_callbacks
):
    submit(reviewer, draft, django_capture_on_commit_callbacks)
    assert recipients("submitted") == {second_reviewer.email}


def test_an_approval_notifies_the_author_and_the_posts_staff(
    draft, editor, manager, reviewer, second_reviewer, ankara, django_capture_on_commit_callbacks
):
    make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)
    publication = submit(editor, draft, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.approve(reviewer, publication, expected_revision=publication.revision)
    assert recipients("approved") == {editor.email, manager.email}


def test_a_request_for_changes_tells_the_post_what_to_change(
    draft, editor, manager, reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    publication = submit(editor, draft, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.request_changes(
            reviewer, publication, expected_revision=publication.revision, comment="Add the date, please."
        )
    assert recipients("changes_requested") == {editor.email, manager.email}
    assert {n.comment for n in Notification.objects.filter(verb="changes_requested")} == {
        "Add the date, please."
    }
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([editor.email, manager.email])
    assert all("Add the date, please." in mail.body for mail in mailoutbox)


def test_a_reviewers_comment_notifies_the_post(
    draft, editor, manager, reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.add_comment(reviewer, draft, "Could you add a photo of the fair?")
    assert recipients("commented") == {editor.email, manager.email}


def test_a_posts_comment_notifies_the_reviewer_who_decided(
    draft, editor, reviewer, second_reviewer, django_capture_on_commit_callbacks
):
    publication = submit(editor, draft, django_capture_on_commit_callbacks)
    workflow.request_changes(
        reviewer, publication, expected_revision=publication.revision, comment="Which day?"
    )
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.add_comment(editor, publication, "The 10th, as in the title.")
    assert reviewer.email in recipients("commented")
    assert editor.email not in recipients("commented")


def test_a_posts_comment_before_any_decision_reaches_central(
    draft, editor, reviewer, second_reviewer, django_capture_on_commit_callbacks
):
    publication = submit(editor, draft, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.add_comment(editor, publication, "Could this one be reviewed today?")
    assert recipients("commented") & {reviewer.email, second_reviewer.email}


def test_a_refused_submission_notifies_nobody(
    editor, istanbul, facebook, reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    publication = make_publication(
        post=istanbul, author=editor, local_date=DAY, channels=[facebook], variants={"en": "English only."}
    )
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(workflow.GuidelinesFailed),
    ):
        workflow.submit(editor, publication)
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mailoutbox == []


# --- Email ----------------------------------------------------------------------------------


def test_emails_go_out_only_after_commit_as_text_and_html(
    draft, editor, reviewer, second_reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(editor, draft)
        assert mailoutbox == []  # nothing leaves while the transaction could still roll back
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted([reviewer.email, second_reviewer.email])
    mail = mailoutbox[0]
    assert mail.subject == f"{editor} sent “Cleantech mission” to review."
    url = f"http://127.0.0.1:8000/publications/{draft.pk}/"
    assert url in mail.body
    html, mimetype = mail.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{url}"' in html
    assert all(n.emailed_at is not None for n in Notification.objects.all())


def test_emails_are_written_in_the_recipients_language(
    draft, editor, reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    french = make_user(email="revue.centrale@example.org", role=Role.CENTRAL_REVIEWER, language="fr")
    submit(editor, draft, django_capture_on_commit_callbacks)
    mail = next(mail for mail in mailoutbox if mail.to == [french.email])
    assert '<html lang="fr">' in mail.alternatives[0][0]


def test_a_french_reviewer_gets_a_french_subject(
    draft, editor, django_capture_on_commit_callbacks, mailoutbox
):
    french = make_user(email="revue.centrale@example.org", role=Role.CENTRAL_REVIEWER, language="fr")
    make_user(email="english@example.org", role=Role.CENTRAL_REVIEWER, language="en")
    submit(editor, draft, django_capture_on_commit_callbacks)
    by_recipient = {mail.to[0]: mail for mail in mailoutbox}
    english, in_french = by_recipient["english@example.org"], by_recipient[french.email]
    assert english.subject == f"{editor} sent “Cleantech mission” to review."
    assert "Cleantech mission" in in_french.subject
    assert in_french.subject != english.subject
    footer = [line for line in in_french.body.splitlines() if line.strip()][-1]
    assert footer != [line for line in english.body.splitlines() if line.strip()][-1]


def test_no_email_for_someone_who_chose_never(
    draft, editor, reviewer, second_reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    NotificationPreference.objects.create(user=reviewer, email=NotificationPreference.EMAIL_NEVER)
    submit(editor, draft, django_capture_on_commit_callbacks)
    assert [mail.to[0] for mail in mailoutbox] == [second_reviewer.email]
    assert Notification.objects.filter(recipient=reviewer).count() == 1  # still in the calendar
    assert tasks.send_daily_digests() == 0
    assert len(mailoutbox) == 1


def test_a_digest_sends_one_daily_email_with_everything_once(
    draft, editor, reviewer, istanbul, facebook, django_capture_on_commit_callbacks, mailoutbox
):
    NotificationPreference.objects.create(user=reviewer, email=NotificationPreference.EMAIL_DIGEST)
    other = make_publication(
        post=istanbul,
        author=editor,
        title="Consular hours",
        local_date=DAY,
        channels=[facebook],
        variants=TEXTS,
    )
    submit(editor, draft, django_capture_on_commit_callbacks)
    submit(editor, other, django_capture_on_commit_callbacks)
    assert [mail for mail in mailoutbox if mail.to == [reviewer.email]] == []
    assert tasks.send_daily_digests() == 1
    digest = [mail for mail in mailoutbox if mail.to == [reviewer.email]]
    assert len(digest) == 1
    assert digest[0].subject == "2 updates in the content calendar"
    assert "“Cleantech mission”" in digest[0].body and "“Consular hours”" in digest[0].body
    assert tasks.send_daily_digests() == 0
    assert len([mail for mail in mailoutbox if mail.to == [reviewer.email]]) == 1


def test_an_email_task_run_twice_sends_nothing_twice(
    draft, editor, reviewer, second_reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    submit(editor, draft, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 2
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert tasks.email_notifications(ids) == 0  # django-q2 redelivered the task
    assert len(mailoutbox) == 2


def test_an_email_is_claimed_before_it_is_sent(draft, editor, reviewer, mailoutbox):
    # Notifications written but their task not yet run (the on-commit callback is not executed here).
    workflow.submit(editor, draft)
    ids = list(Notification.objects.values_list("pk", flat=True))
    Notification.objects.filter(pk=ids[0]).update(emailed_at="2026-11-28T09:59:00Z")  # another worker
    assert tasks.email_notifications(ids) == len(ids) - 1
    assert tasks.email_notifications(ids) == 0
    assert len(mailoutbox) == len(ids) - 1


# --- Reminders -----------------------------------------------------------------------------


def test_reviewers_are_reminded_once_of_what_goes_out_within_24_hours(
    editor, reviewer, second_reviewer, istanbul
):
    due = make_publication(
        post=istanbul, author=editor, title="Tomorrow", status="in_review", local_date=date(2026, 11, 29)
    )
    make_publication(post=istanbul, author=editor, title="Later", status="in_review", local_date=DAY)
    make_publication(
        post=istanbul, author=editor, title="Approved", status="approved", local_date=date(2026, 11, 29)
    )
    make_publication(
        post=istanbul,
        author=editor,
        title="Gone",
        status="in_review",
        local_date=date(2026, 11, 28),
        local_time=time(8),
    )
    assert tasks.remind_due_soon() == 1
    assert set(Notification.objects.filter(verb="due_soon").values_list("publication", "recipient")) == {
        (due.pk, reviewer.pk),
        (due.pk, second_reviewer.pk),
    }
    assert tasks.remind_due_soon() == 0
    assert Notification.objects.filter(verb="due_soon").count() == 2
    note = Notification.objects.filter(verb="due_soon").first()
    assert notifications.message(note) == "“Tomorrow” goes out within 24 hours and is still in review."


# --- The bell and the notifications page --------------------------------------------------------


def test_the_bell_counts_unread_notifications_and_mark_all_read_clears_them(
    client, draft, editor, reviewer, second_reviewer, django_capture_on_commit_callbacks
):
    publication = submit(editor, draft, django_capture_on_commit_callbacks)
    workflow.add_comment(editor, publication, "Thanks for looking.")
    Notification.objects.create(recipient=reviewer, verb="commented", publication=publication, actor=editor)
    client.force_login(reviewer)
    # The submission, the post's comment (no reviewer had looked yet: all of central), and one more.
    assert "Notifications (3 unread)" in client.get(reverse("home")).content.decode()
    page = client.get(reverse("notification_list")).content.decode()
    assert "sent “Cleantech mission” to review." in page
    response = client.post(reverse("notifications_read"), follow=True)
    assert "All notifications are marked as read." in response.content.decode()
    assert "Notifications (0 unread)" in client.get(reverse("home")).content.decode()
    assert not Notification.objects.filter(recipient=reviewer, read_at__isnull=True).exists()
    # Only one's own notifications are marked.
    assert Notification.objects.filter(recipient=second_reviewer, read_at__isnull=True).count() == 2


def test_marking_as_read_needs_a_post(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("notifications_read")).status_code == 405


def test_a_user_chooses_how_to_hear_about_changes(client, editor):
    client.force_login(editor)
    client.post(reverse("notification_preference"), {"email": "digest"})
    assert NotificationPreference.objects.get(user=editor).email == "digest"
    response = client.post(reverse("notification_preference"), {"email": "pigeon"}, follow=True)
    assert "Choose one of the options." in response.content.decode()
    assert NotificationPreference.objects.get(user=editor).email == "digest"
