"""A title or a name with a line break never stops an email (BadHeaderError): subjects are one line."""

from datetime import date

import pytest
import time_machine

from calendar_app import workflow
from diplomacy.mail import SUBJECT_MAX_LENGTH, one_line_subject
from tests.calendar_factories import make_publication
from tests.factories import make_channel


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cleantech\r\nBcc: someone@example.org", "Cleantech Bcc: someone@example.org"),
        ("Tab\there\x00and\x0bthere", "Tab here and there"),
        ("Line\u2028separator\u2029paragraph\x85next", "Line separator paragraph next"),
        ("  spaces   inside  ", "spaces inside"),
        ("Belçika’nın 🇧🇪 günü", "Belçika’nın 🇧🇪 günü"),
    ],
)
def test_a_subject_is_one_clean_line(text, expected):
    assert one_line_subject(text) == expected


def test_a_long_subject_is_cut_with_an_ellipsis():
    subject = one_line_subject("word " * 100)
    assert len(subject) == SUBJECT_MAX_LENGTH and subject.endswith("…")


def test_a_title_with_a_line_break_still_reaches_the_reviewers(
    editor, reviewer, istanbul, django_capture_on_commit_callbacks, mailoutbox
):
    channel = make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul")
    draft = make_publication(
        post=istanbul,
        author=editor,
        title="Cleantech\r\nBcc: everyone@example.org",
        local_date=date(2026, 12, 10),
        channels=[channel],
        variants={
            "nl": "Belgische bedrijven bezoeken Istanbul.",
            "fr": "Des entreprises belges visitent Istanbul.",
            "en": "Belgian companies visit Istanbul.",
            "tr": "Belçikalı şirketler İstanbul'u ziyaret ediyor.",
        },
    )
    with (
        time_machine.travel("2026-11-28 10:00:00+00:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        workflow.submit(editor, draft)
    mail = next(mail for mail in mailoutbox if mail.to == [reviewer.email])
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert "Cleantech Bcc: everyone@example.org" in mail.subject
    assert mail.message()["Bcc"] is None
