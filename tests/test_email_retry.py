"""Emails of notifications survive a mail server outage: a notification is claimed, mailed,
and marked emailed only once the mail server took it; a failure is counted, recorded and
retried with back-off by a minute job up to a limit, then given up with the notification
still in the bell. Two workers never mail one notification twice."""

from __future__ import annotations

import os
import smtplib
import threading
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from calendar_app import tasks
from calendar_app.models import Notification, NotificationPreference
from tests.calendar_factories import make_publication
from tests.factories import make_channel

NOW = "2026-12-07 09:00:00+00:00"


class FlakyBackend(EmailBackend):
    """The locmem backend behind a mail server that fails as scripted: each send takes the
    next entry of `failures` (an exception to raise, or None to deliver)."""

    failures: list[BaseException | None] = []
    #: Each send's notification rows as they were while the mail was being sent.
    seen: list[list[tuple[int, bool]]] = []
    timeouts: list[float | None] = []
    #: Called during a send, before it completes: another worker arriving meanwhile.
    during_send: list = []

    def __init__(self, *args, timeout: float | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        FlakyBackend.timeouts.append(timeout)

    def send_messages(self, messages):
        FlakyBackend.seen.append(
            [
                (pk, emailed_at is None)
                for pk, emailed_at in Notification.objects.order_by("pk").values_list("pk", "emailed_at")
            ]
        )
        while FlakyBackend.during_send:
            FlakyBackend.during_send.pop(0)()
        if FlakyBackend.failures:
            failure = FlakyBackend.failures.pop(0)
            if failure is not None:
                raise failure
        return super().send_messages(messages)


@pytest.fixture(autouse=True)
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.test_email_retry.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.seen, FlakyBackend.timeouts, FlakyBackend.during_send = [], [], [], []
    mail.outbox = []
    yield FlakyBackend


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def publication(editor, istanbul):
    facebook = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    return make_publication(
        post=istanbul,
        author=editor,
        title="Consular hours",
        local_date=date(2026, 12, 20),
        channels=[facebook],
        variants={"en": "Consular hours change.", "fr": "Horaires.", "nl": "Openingsuren."},
    )


def notification_for(user, publication, editor, verb: str = "submitted") -> Notification:
    return Notification.objects.create(recipient=user, verb=verb, publication=publication, actor=editor)


def test_a_mail_server_that_fails_then_succeeds_sends_one_mail_marked_only_after(
    flaky, clock, reviewer, editor, publication
):
    notification = notification_for(reviewer, publication, editor)
    flaky.failures = [smtplib.SMTPServerDisconnected("Connection unexpectedly closed")]
    assert tasks.email_notifications([notification.pk]) == 0
    notification.refresh_from_db()
    assert notification.emailed_at is None
    assert (notification.email_claim, notification.email_attempts) == ("", 1)
    assert notification.email_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert notification.email_next_attempt_at == timezone.now() + timedelta(minutes=1)
    assert mail.outbox == []

    clock.shift(timedelta(seconds=30))
    assert tasks.retry_emails() == 0  # the back-off has not passed
    clock.shift(timedelta(seconds=31))
    assert tasks.retry_emails() == 1
    assert [message.to for message in mail.outbox] == [[reviewer.email]]
    notification.refresh_from_db()
    assert notification.emailed_at == timezone.now()
    assert (notification.email_claim, notification.email_error) == ("", "")
    # While the mail server had it, the notification was not yet marked emailed.
    assert flaky.seen == [[(notification.pk, True)], [(notification.pk, True)]]

    assert tasks.retry_emails() == 0
    assert tasks.email_notifications([notification.pk]) == 0
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        smtplib.SMTPDataError(451, b"Try"),
    ],
    ids=["refused", "time-out", "smtp-error"],
)
def test_any_mail_server_failure_is_recorded_and_the_other_mails_still_go(
    flaky, clock, reviewer, second_reviewer, editor, publication, failure
):
    first = notification_for(reviewer, publication, editor)
    second = notification_for(second_reviewer, publication, editor)
    flaky.failures = [failure]
    assert tasks.email_notifications([first.pk, second.pk]) == 1
    [failed] = Notification.objects.filter(emailed_at__isnull=True)
    [emailed] = Notification.objects.filter(emailed_at__isnull=False)
    assert failed.email_attempts == 1 and emailed.email_attempts == 0
    assert failed.email_error.startswith(type(failure).__name__)
    assert [message.to for message in mail.outbox] == [[emailed.recipient.email]]
    assert {failed.pk, emailed.pk} == {first.pk, second.pk}


def test_another_worker_arriving_during_the_send_finds_the_notification_claimed(
    flaky, clock, reviewer, editor, publication
):
    notification = notification_for(reviewer, publication, editor)
    second_worker: list[int] = []
    flaky.during_send = [lambda: second_worker.append(tasks.email_notifications([notification.pk]))]
    assert tasks.email_notifications([notification.pk]) == 1
    assert second_worker == [0]
    assert len(mail.outbox) == 1


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="two workers at once need a database with real concurrent writers (PostgreSQL)",
)
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_at_once_send_one_mail(flaky, reviewer, editor, publication):
    notification = notification_for(reviewer, publication, editor)
    start = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        try:
            start.wait(5)
            results.append(tasks.email_notifications([notification.pk]))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [0, 1]
    assert len(mail.outbox) == 1


def test_the_retry_job_backs_off_and_gives_up_after_the_limit(
    flaky, clock, client, reviewer, editor, publication
):
    notification = notification_for(reviewer, publication, editor)
    flaky.failures = [ConnectionRefusedError(111, "Connection refused")] * (tasks.EMAIL_MAX_ATTEMPTS + 3)
    tasks.email_notifications([notification.pk])
    waits = []
    for _try in range(tasks.EMAIL_MAX_ATTEMPTS - 1):
        notification.refresh_from_db()
        waits.append(notification.email_next_attempt_at - timezone.now())
        clock.move_to(notification.email_next_attempt_at - timedelta(seconds=1))
        assert tasks.retry_emails() == 0
        tries = len(flaky.seen)
        clock.move_to(notification.email_next_attempt_at)
        assert tasks.retry_emails() == 0
        assert len(flaky.seen) == tries + 1
    assert waits == [timedelta(minutes=minutes) for minutes in tasks.EMAIL_RETRY_MINUTES]
    notification.refresh_from_db()
    assert notification.email_attempts == tasks.EMAIL_MAX_ATTEMPTS
    assert notification.emailed_at is None

    clock.shift(timedelta(days=2))
    tries = len(flaky.seen)
    assert tasks.retry_emails() == 0
    assert len(flaky.seen) == tries  # given up: not tried again
    # It stays in the bell.
    client.force_login(reviewer)
    response = client.get(reverse("notification_list"))
    assert response.status_code == 200
    assert "Consular hours" in response.content.decode()
    assert Notification.objects.filter(pk=notification.pk, read_at__isnull=True).exists()


def test_a_claim_left_by_a_dead_worker_is_released_after_a_while(flaky, clock, reviewer, editor, publication):
    notification = notification_for(reviewer, publication, editor)
    Notification.objects.filter(pk=notification.pk).update(
        email_claim="dead-worker", email_claimed_at=timezone.now()
    )
    assert tasks.email_notifications([notification.pk]) == 0  # held
    clock.shift(tasks.EMAIL_CLAIM_TIMEOUT - timedelta(minutes=1))
    assert tasks.retry_emails() == 0
    assert Notification.objects.get(pk=notification.pk).email_claim == "dead-worker"
    clock.shift(timedelta(minutes=2))
    assert tasks.retry_emails() == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert notification.email_attempts == 1  # the interrupted try counts towards the limit
    assert len(mail.outbox) == 1


def test_a_failed_daily_digest_is_retried_as_one_digest(flaky, clock, reviewer, editor, publication):
    NotificationPreference.objects.create(user=reviewer, email=NotificationPreference.EMAIL_DIGEST)
    notification_for(reviewer, publication, editor)
    notification_for(reviewer, publication, editor, verb="commented")
    flaky.failures = [smtplib.SMTPServerDisconnected("Connection unexpectedly closed")]
    assert tasks.send_daily_digests() == 0
    assert set(Notification.objects.values_list("email_attempts", "emailed_at")) == {(1, None)}
    clock.shift(timedelta(minutes=1))
    assert tasks.retry_emails() == 1
    [digest] = mail.outbox
    assert digest.subject == "2 updates in the content calendar"
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert tasks.send_daily_digests() == 0
    assert len(mail.outbox) == 1


def test_the_mail_server_gets_a_time_out_and_the_retry_job_runs_every_minute(
    flaky, clock, reviewer, editor, publication
):
    notification = notification_for(reviewer, publication, editor)
    tasks.email_notifications([notification.pk])
    assert flaky.timeouts == [tasks.EMAIL_SEND_TIMEOUT]
    [job] = [
        schedule for schedule in tasks.SCHEDULES if schedule["func"] == "calendar_app.tasks.retry_emails"
    ]
    assert job["minutes"] == 1
