"""One format everywhere: dates, times and zones through diplomacy.formats, in en, nl, fr."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.template import Context, Template
from django.utils import translation

from diplomacy.formats import (
    format_date,
    format_datetime,
    format_time,
    format_when,
    utc_offset,
    zone_label,
    zone_place,
)

DAY = date(2026, 12, 7)
MOMENT = datetime(2026, 12, 7, 5, 34, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "long", "weekday", "short"),
    [
        ("en", "7 December 2026", "Monday 7 December 2026", "7 Dec 2026"),
        ("nl", "7 december 2026", "maandag 7 december 2026", "7-12-2026"),
        ("fr", "7 décembre 2026", "lundi 7 décembre 2026", "07/12/2026"),
    ],
)
def test_a_date_reads_in_the_readers_language(language: str, long: str, weekday: str, short: str) -> None:
    with translation.override(language):
        assert format_date(DAY) == long
        assert format_date(DAY, "weekday") == weekday
        assert format_date(DAY, "short") == short


@pytest.mark.parametrize("language", ["en", "nl", "fr"])
def test_times_are_24_hour_in_every_language(language: str) -> None:
    with translation.override(language):
        assert format_time(time(8, 34)) == "08:34"
        assert format_time(time(20, 5)) == "20:05"


def test_english_is_not_djangos_american_default() -> None:
    with translation.override("en"):
        text = format_datetime(MOMENT, "UTC")
    assert "Dec." not in text
    assert "a.m." not in text
    assert text == "7 December 2026 05:34 UTC"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "7 December 2026 08:34 Istanbul (UTC+3)"),
        ("nl", "7 december 2026 08:34 Istanbul (UTC+3)"),
        ("fr", "7 décembre 2026 08:34 Istanbul (UTC+3)"),
    ],
)
def test_an_instant_is_shown_in_a_named_zone(language: str, expected: str) -> None:
    with translation.override(language):
        assert format_datetime(MOMENT, "Europe/Istanbul") == expected


def test_a_wall_time_carries_the_offset_in_force_at_that_time() -> None:
    with translation.override("en"):
        assert format_when(date(2026, 7, 1), time(10), "Europe/Brussels", "weekday") == (
            "Wednesday 1 July 2026, 10:00 Brussels (UTC+2)"
        )
        assert format_when(DAY, time(10), "Europe/Brussels") == "7 December 2026, 10:00 Brussels (UTC+1)"


def test_zone_labels_name_the_place_and_the_offset() -> None:
    with translation.override("en"):
        assert zone_label("America/Argentina/Buenos_Aires", MOMENT) == "Buenos Aires (UTC\u22123)"
        assert zone_label("Europe/Istanbul", MOMENT) == "Istanbul (UTC+3)"
        assert zone_label("Europe/Brussels", MOMENT) == "Brussels (UTC+1)"
        assert zone_label("Europe/Brussels", datetime(2026, 7, 1, tzinfo=UTC)) == "Brussels (UTC+2)"
        assert zone_label("Asia/Kathmandu", MOMENT) == "Kathmandu (UTC+5:45)"
        assert zone_label("UTC", MOMENT) == "UTC"
        assert zone_label("Not/A_Zone", MOMENT) == "Not/A_Zone"


def test_zone_places_are_translated_where_the_catalogue_has_them() -> None:
    with translation.override("fr"):
        assert zone_place("Europe/Brussels") == "Bruxelles"
        assert zone_label("Europe/Brussels", MOMENT) == "Bruxelles (UTC+1)"
    with translation.override("nl"):
        assert zone_place("Europe/Brussels") == "Brussel"


def test_utc_offsets_use_a_minus_sign_and_minutes_when_needed() -> None:
    assert utc_offset("America/St_Johns", MOMENT) == "UTC\u22123:30"
    assert utc_offset("Europe/London", MOMENT) == "UTC+0"
    assert utc_offset("No/Such_Zone", MOMENT) == ""


def test_empty_values_read_as_nothing() -> None:
    assert format_date(None) == ""
    assert format_time(None) == ""
    assert format_datetime(None) == ""
    assert format_when(None, None, "UTC") == ""


class _Publication:
    local_date = DAY
    local_time = time(10)
    timezone = "Europe/Istanbul"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "7 December 2026|10:00|7 December 2026 05:34 UTC|7 December 2026, 10:00 Istanbul (UTC+3)"),
        ("fr", "7 décembre 2026|10:00|7 décembre 2026 05:34 UTC|7 décembre 2026, 10:00 Istanbul (UTC+3)"),
    ],
)
def test_the_template_filters_use_the_same_helper(language: str, expected: str) -> None:
    template = Template(
        "{% load formats %}{{ day|as_date }}|{{ p.local_time|as_time }}|"
        "{{ moment|as_datetime }}|{{ p|as_when }}"
    )
    with translation.override(language):
        text = template.render(Context({"day": DAY, "moment": MOMENT, "p": _Publication()}))
    assert text == expected


def test_the_zone_filter_takes_the_moment() -> None:
    template = Template("{% load formats %}{{ zone|zone_label:moment }}")
    with translation.override("en"):
        text = template.render(Context({"zone": "America/Argentina/Buenos_Aires", "moment": MOMENT}))
    assert text == "Buenos Aires (UTC\u22123)"


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "Mon 7 Dec"), ("nl", "ma 7 dec"), ("fr", "lun 7 déc")]
)
def test_the_compact_date_keeps_day_before_month(language: str, expected: str) -> None:
    with translation.override(language):
        assert format_date(DAY, "compact") == expected


def test_an_aware_datetime_is_read_in_the_active_zone() -> None:
    late = datetime(2026, 12, 7, 22, 30, tzinfo=UTC)
    template = Template(
        '{% load formats tz %}{% timezone "Europe/Istanbul" %}'
        "{{ late|as_date }} {{ late|as_moment }}{% endtimezone %}"
    )
    with translation.override("en"):
        assert template.render(Context({"late": late})) == "8 December 2026 8 December 2026 01:30"


# --- Emails -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_notification_email_says_when_the_publication_goes_out_in_the_readers_language(
    editor, istanbul, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    from calendar_app import workflow
    from diplomacy.models import Role
    from tests.calendar_factories import make_publication
    from tests.factories import make_channel, make_user

    channel = make_channel(post=istanbul, platform="facebook")
    draft = make_publication(
        post=istanbul,
        author=editor,
        title="Cleantech mission",
        local_date=date(2026, 12, 7),
        local_time=time(10),
        channels=[channel],
        variants={"nl": "Tekst", "fr": "Texte", "en": "Text", "tr": "Metin"},
    )
    make_user(email="revue@example.org", role=Role.CENTRAL_REVIEWER, language="fr")
    make_user(email="review@example.org", role=Role.CENTRAL_REVIEWER, language="en")
    with (
        time_machine.travel("2026-11-28 10:00:00+00:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        workflow.submit(editor, draft)
    by_recipient = {mail.to[0]: mail for mail in mailoutbox}
    french, english = by_recipient["revue@example.org"], by_recipient["review@example.org"]
    assert "lundi 7 décembre 2026, 10:00 Istanbul (UTC+3)" in french.body
    assert "lundi 7 décembre 2026, 10:00 Istanbul (UTC+3)" in french.alternatives[0][0]
    assert "Planned for Monday 7 December 2026, 10:00 Istanbul (UTC+3)." in english.body
