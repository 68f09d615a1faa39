"""Network insight for central comms: the coverage report (where the network is active, silent,
inactive or absent, per platform), its priority countries and gaps, and the activity report
(cadence against target, language mix, partner share, approval turnaround)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calendar_app import reports
from calendar_app.models import PriorityCountry, Publication, PublicationRevision, Review
from calendar_app.views.reports import MAX_WEEKS
from diplomacy.models import Platform, Post
from tests.calendar_factories import make_proposal, make_publication
from tests.factories import make_channel, make_post, make_user

# A Wednesday: the current week starts on Monday 16 March, eight weeks start on 26 January.
NOW = "2026-03-18 12:00:00+00:00"
TODAY = date(2026, 3, 18)
THIS_MONDAY = date(2026, 3, 16)
EIGHT_WEEKS = [date(2026, 1, 26) + timedelta(weeks=n) for n in range(8)]
PLATFORMS = list(Platform.choices)
LOGIN = "login"
ACTIVE, SILENT, INACTIVE, ABSENT = reports.ACTIVE, reports.SILENT, reports.INACTIVE, reports.ABSENT


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def author(db):
    return make_user(email="author@example.org")


@pytest.fixture
def washington(db):
    return make_post(
        code="be-emb-washington",
        name="Embassy of Belgium in Washington",
        city="Washington",
        country="US",
        timezone="America/New_York",
        host_languages="en",
        publishing_languages="en,nl,fr",
    )


def publish(channel, author, *, days_ago: int, status: str = "published", **extra) -> Publication:
    """A publication on `channel`, `days_ago` days before today at 09:00 in the post's zone."""
    return make_publication(
        post=channel.post,
        author=author,
        status=status,
        local_date=TODAY - timedelta(days=days_ago),
        channels=[channel],
        **extra,
    )


def on_day(channels: list, author, day: date, *, count: int = 1, status: str = "published") -> None:
    for _n in range(count):
        make_publication(
            post=channels[0].post, author=author, status=status, local_date=day, channels=channels
        )


def coverage_of(posts=None, platforms=None) -> reports.Coverage:
    return reports.coverage(posts if posts is not None else Post.objects.all(), platforms or PLATFORMS)


def states(report: reports.Coverage, code: str) -> dict[str, str]:
    row = next(row for row in report.rows if row.post.code == code)
    return dict(zip([c for c, _label in report.platforms], row.states, strict=True))


def country_rows(report: reports.Coverage) -> dict[str, dict[str, str]]:
    codes = [c for c, _label in report.platforms]
    return {
        country: dict(zip(codes, country_states, strict=True))
        for _region, _label, countries in report.groups
        for country, _name, country_states, _rows in countries
    }


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def network(istanbul, ankara, tokyo, paris, washington, author):
    """Türkiye: Istanbul active on Facebook, silent on X; Ankara inactive on Facebook, silent on
    X (never published), active on Instagram (one of its two accounts). Japan: active on Facebook,
    inactive on X. France: no channel. United States: Facebook with only an approved publication."""
    publish(make_channel(post=istanbul, platform="facebook"), author, days_ago=5)
    publish(make_channel(post=istanbul, platform="x"), author, days_ago=40)
    make_channel(post=ankara, platform="facebook", active=False)
    make_channel(post=ankara, platform="x")
    make_channel(post=ankara, platform="instagram", active=False)
    publish(make_channel(post=ankara, platform="instagram"), author, days_ago=2)
    publish(make_channel(post=tokyo, platform="facebook"), author, days_ago=10)
    make_channel(post=tokyo, platform="x", active=False)
    publish(make_channel(post=washington, platform="facebook"), author, days_ago=3, status="approved")
    return {"istanbul": istanbul, "ankara": ankara, "tokyo": tokyo, "paris": paris, "us": washington}


# --- Coverage: the states ------------------------------------------------------------------------


def test_a_channel_that_published_in_the_last_30_days_is_active(istanbul, author):
    publish(make_channel(post=istanbul, platform="facebook"), author, days_ago=29)

    assert states(coverage_of(), "be-cg-istanbul")["facebook"] == ACTIVE


def test_a_channel_that_last_published_more_than_30_days_ago_is_silent(istanbul, author):
    publish(make_channel(post=istanbul, platform="facebook"), author, days_ago=31)

    assert states(coverage_of(), "be-cg-istanbul")["facebook"] == SILENT


def test_a_channel_that_never_published_is_silent(istanbul):
    make_channel(post=istanbul, platform="facebook")

    assert states(coverage_of(), "be-cg-istanbul")["facebook"] == SILENT


def test_only_published_publications_make_a_channel_active(istanbul, author):
    channel = make_channel(post=istanbul, platform="facebook")
    for status in ("draft", "in_review", "approved", "failed", "cancelled"):
        publish(channel, author, days_ago=2, status=status)

    assert states(coverage_of(), "be-cg-istanbul")["facebook"] == SILENT


def test_a_post_with_only_inactive_channels_on_a_platform_is_inactive_there(istanbul, author):
    publish(make_channel(post=istanbul, platform="x", active=False), author, days_ago=1)

    assert states(coverage_of(), "be-cg-istanbul")["x"] == INACTIVE


def test_a_post_without_a_channel_on_a_platform_is_absent_there(istanbul):
    make_channel(post=istanbul, platform="facebook")

    report_states = states(coverage_of(), "be-cg-istanbul")

    assert report_states["facebook"] == SILENT
    assert {report_states[code] for code, _label in PLATFORMS if code != "facebook"} == {ABSENT}


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("active", "inactive", ACTIVE),
        ("silent", "active", ACTIVE),
        ("inactive", "silent", SILENT),
        ("inactive", "inactive", INACTIVE),
    ],
)
def test_the_best_state_wins_when_a_post_has_two_channels_on_a_platform(
    istanbul, author, first, second, expected
):
    for state in (first, second):
        channel = make_channel(post=istanbul, platform="instagram", active=state != "inactive")
        if state == "active":
            publish(channel, author, days_ago=1)
        elif state == "silent":
            publish(channel, author, days_ago=60)

    assert states(coverage_of(), "be-cg-istanbul")["instagram"] == expected


def test_a_country_takes_the_best_state_of_its_posts_on_each_platform(network):
    countries = country_rows(coverage_of())

    assert countries["TR"]["facebook"] == ACTIVE  # Istanbul active, Ankara inactive
    assert countries["TR"]["x"] == SILENT  # both silent
    assert countries["TR"]["instagram"] == ACTIVE  # Istanbul absent, Ankara active
    assert countries["TR"]["youtube"] == ABSENT
    assert (countries["JP"]["facebook"], countries["JP"]["x"]) == (ACTIVE, INACTIVE)
    assert set(countries["FR"].values()) == {ABSENT}
    assert countries["US"]["facebook"] == SILENT


def test_posts_are_grouped_by_world_region_then_country(network):
    report = coverage_of()

    grouped = [
        (
            region,
            str(label),
            [(country, [row.post.code for row in rows]) for country, _n, _s, rows in countries],
        )
        for region, label, countries in report.groups
    ]
    assert grouped == [
        (
            "europe",
            "Europe",
            [("FR", ["be-emb-paris"]), ("TR", ["be-emb-ankara", "be-cg-istanbul"])],
        ),
        ("north_america", "North America", [("US", ["be-emb-washington"])]),
        ("asia", "Asia", [("JP", ["be-emb-tokyo"])]),
    ]
    assert {row.post.code: row.region for row in report.rows}["be-emb-tokyo"] == "asia"


def test_the_totals_count_the_posts_in_each_state_per_platform(network):
    totals = {total["platform"]: total for total in coverage_of().totals}

    assert list(totals) == [label for _code, label in PLATFORMS]
    expect = {
        "Facebook": {ACTIVE: 2, SILENT: 1, INACTIVE: 1, ABSENT: 1},  # Istanbul, Tokyo; US; Ankara; Paris
        "X": {ACTIVE: 0, SILENT: 2, INACTIVE: 1, ABSENT: 2},
        "Instagram": {ACTIVE: 1, SILENT: 0, INACTIVE: 0, ABSENT: 4},
        "YouTube": {ACTIVE: 0, SILENT: 0, INACTIVE: 0, ABSENT: 5},
    }
    for label, counts in expect.items():
        assert {state: totals[label][state] for state in reports.STATE_ORDER} == counts, label


def test_the_map_colours_each_country_by_its_best_state_over_the_platforms(network):
    assert coverage_of().country_states == {"TR": ACTIVE, "JP": ACTIVE, "FR": ABSENT, "US": SILENT}
    only_x = coverage_of(platforms=[("x", "X")])
    assert only_x.country_states == {"TR": SILENT, "JP": INACTIVE, "FR": ABSENT, "US": ABSENT}


def test_inactive_posts_are_left_out_of_the_page(client, reviewer, network):
    make_post(code="be-emb-closed", name="Closed embassy", country="JP", active=False)
    client.force_login(reviewer)

    report = client.get(reverse("coverage")).context["report"]

    assert "be-emb-closed" not in [row.post.code for row in report.rows]


# --- Coverage: gaps ------------------------------------------------------------------------------


def test_a_priority_country_not_active_where_another_country_is_gets_a_gap_naming_both(network, reviewer):
    PriorityCountry.objects.create(country="FR", added_by=reviewer)

    gaps = coverage_of().gaps

    # Facebook: Türkiye and Japan are active; Instagram: Türkiye; X and the others: nobody.
    assert len(gaps) == 2
    facebook, instagram = gaps
    assert facebook.startswith("France (a priority) is absent on Facebook")
    assert "2 other countries are active there" in facebook
    assert "Japan" in facebook
    assert "Türkiye" in facebook
    assert instagram.startswith("France (a priority) is absent on Instagram")
    assert "Türkiye" in instagram


def test_the_gap_says_which_state_the_priority_country_is_in(network, reviewer):
    PriorityCountry.objects.create(country="US", added_by=reviewer)

    gaps = coverage_of().gaps

    assert gaps[0].startswith("United States of America (a priority) is silent for 30 days on Facebook")


def test_there_is_no_gap_where_no_other_country_is_active(network, reviewer):
    # Türkiye is the only active country on Instagram: as a priority, nobody else is active there.
    PriorityCountry.objects.create(country="TR", added_by=reviewer)
    PriorityCountry.objects.create(country="JP", added_by=reviewer)

    gaps = coverage_of().gaps

    assert gaps == []  # TR and JP are active on Facebook; on X and Instagram no non-priority country is


def test_there_is_no_gap_for_a_priority_country_that_is_active(network, reviewer):
    PriorityCountry.objects.create(country="JP", added_by=reviewer)

    gaps = coverage_of().gaps

    assert [gap.split(" (")[0] for gap in gaps] == ["Japan"]  # Instagram only, where Türkiye is active
    assert "Instagram" in gaps[0]


def test_a_filter_does_not_report_a_priority_country_outside_it_as_absent(client, reviewer, network):
    PriorityCountry.objects.create(country="TR", added_by=reviewer)  # active on Facebook and Instagram
    client.force_login(reviewer)

    report = client.get(reverse("coverage"), {"region": "asia"}).context["report"]

    assert not any(gap.startswith("Türkiye") for gap in report.gaps), report.gaps


def test_the_page_lists_the_gaps(client, reviewer, network):
    PriorityCountry.objects.create(country="FR", added_by=reviewer, note="Neighbour")
    client.force_login(reviewer)

    page = client.get(reverse("coverage")).content.decode()

    assert "Gaps" in page
    # Grouped per platform (issue 17): one line a platform, not one a country and platform.
    assert "<strong>Facebook</strong>: 1 priority country is not active. Absent: France." in page
    assert "<strong>Instagram</strong>: 1 priority country is not active. Absent: France." in page
    assert "France — Neighbour" in page


# --- Coverage: the page, filters and CSV ---------------------------------------------------------


def test_the_page_shows_totals_the_map_and_the_table(client, reviewer, network):
    client.force_login(reviewer)

    response = client.get(reverse("coverage"))

    assert response.status_code == 200
    page = response.content.decode()
    states = response.context["report"].country_states
    shapes = {code: states.get(code, "none") for code in ("TR", "JP", "FR", "US", "DE")}
    assert (shapes["TR"], shapes["JP"], shapes["FR"], shapes["US"], shapes["DE"]) == (
        ACTIVE,
        ACTIVE,
        ABSENT,
        SILENT,
        "none",
    )
    assert re.search(r'class="state-active"><title>Japan: active</title>', page)
    assert re.search(r'class="state-none"><title>Germany</title>', page)
    for text in ("Embassy of Belgium in Tokyo", "Consulate-General of Belgium in Istanbul", "North America"):
        assert text in page, text
    assert '<td class="state-cell state-active">active</td>' in page
    assert "?format=csv" in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"region": "europe"}, ["be-emb-paris", "be-emb-ankara", "be-cg-istanbul"]),
        ({"region": "asia"}, ["be-emb-tokyo"]),
        ({"country": "TR"}, ["be-emb-ankara", "be-cg-istanbul"]),
        ({"kind": "consulate_general"}, ["be-cg-istanbul"]),
        ({"region": "europe", "kind": "embassy"}, ["be-emb-paris", "be-emb-ankara"]),
    ],
)
def test_region_country_and_kind_narrow_the_posts(client, reviewer, network, query, expected):
    client.force_login(reviewer)

    response = client.get(reverse("coverage"), query)

    assert response.status_code == 200
    assert [row.post.code for row in response.context["report"].rows] == expected


def test_the_platform_narrows_the_columns(client, reviewer, network):
    client.force_login(reviewer)

    report = client.get(reverse("coverage"), {"platform": "instagram"}).context["report"]

    assert report.platforms == [("instagram", "Instagram")]
    assert {row.post.code: row.states for row in report.rows}["be-emb-ankara"] == [ACTIVE]
    assert len(report.rows) == 5
    assert [total["platform"] for total in report.totals] == ["Instagram"]


@pytest.mark.parametrize("view", ["coverage", "activity"])
@pytest.mark.parametrize(
    ("field", "value"),
    [("region", "mars"), ("country", "ZZ"), ("kind", "palace"), ("platform", "myspace")],
)
def test_an_unknown_filter_value_answers_400_naming_it(client, reviewer, network, view, field, value):
    client.force_login(reviewer)

    response = client.get(reverse(view), {field: value})

    assert response.status_code == 400
    page = response.content.decode()
    assert "Unknown filter value." in page
    assert f"{field}: Select a valid choice. {value} is not one of the available choices." in page


@pytest.mark.parametrize("view", ["coverage", "activity"])
@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "CSV"])
def test_an_unknown_format_answers_400(client, reviewer, view, fmt):
    client.force_login(reviewer)

    response = client.get(reverse(view), {"format": fmt})

    assert response.status_code == 400
    assert "Unknown format: use csv, or leave it out." in response.content.decode()


def test_the_coverage_csv_has_a_header_and_one_row_per_post(client, reviewer, network):
    client.force_login(reviewer)

    response = client.get(reverse("coverage"), {"format": "csv"})

    rows = csv_rows(response)
    assert 'filename="coverage.csv"' in response["Content-Disposition"]
    assert rows[0] == ["post", "name", "country", "world_region", "kind", *[c for c, _l in PLATFORMS]]
    assert len(rows) == 1 + 5
    by_post = {row[0]: row for row in rows[1:]}
    assert by_post["be-cg-istanbul"][:8] == [
        "be-cg-istanbul",
        "Consulate-General of Belgium in Istanbul",
        "TR",
        "europe",
        "consulate_general",
        ACTIVE,
        SILENT,
        ABSENT,
    ]


def test_the_coverage_csv_applies_the_filters(client, reviewer, network):
    client.force_login(reviewer)

    response = client.get(reverse("coverage"), {"format": "csv", "region": "europe", "platform": "x"})

    assert csv_rows(response) == [
        ["post", "name", "country", "world_region", "kind", "x"],
        ["be-emb-paris", "Embassy of Belgium in Paris", "FR", "europe", "embassy", ABSENT],
        ["be-emb-ankara", "Embassy of Belgium in Ankara", "TR", "europe", "embassy", SILENT],
        [
            "be-cg-istanbul",
            "Consulate-General of Belgium in Istanbul",
            "TR",
            "europe",
            "consulate_general",
            SILENT,
        ],
    ]


# --- Priority countries --------------------------------------------------------------------------


def test_central_adds_priority_countries_from_a_list_of_codes(client, reviewer):
    client.force_login(reviewer)

    response = client.post(reverse("priority_countries"), {"countries": "NL, fr", "note": "Neighbours"})

    assert response.status_code == 302
    assert response["Location"] == reverse("coverage")
    saved = list(PriorityCountry.objects.values_list("country", "note", "added_by"))
    assert saved == [("FR", "Neighbours", reviewer.pk), ("NL", "Neighbours", reviewer.pk)]
    page = client.get(reverse("coverage")).content.decode()
    assert "The priority list is saved." in page
    assert "Netherlands" in page
    assert "Remove France" in page


def test_adding_a_country_twice_keeps_one_entry(client, reviewer):
    client.force_login(reviewer)

    client.post(reverse("priority_countries"), {"countries": "NL"})
    client.post(reverse("priority_countries"), {"countries": "NL; nl"})

    assert PriorityCountry.objects.filter(country="NL").count() == 1


def test_central_removes_a_priority_country(client, reviewer):
    PriorityCountry.objects.create(country="NL", added_by=reviewer)
    PriorityCountry.objects.create(country="FR", added_by=reviewer)
    client.force_login(reviewer)

    response = client.post(reverse("priority_countries"), {"remove": "NL"}, follow=True)

    assert list(PriorityCountry.objects.values_list("country", flat=True)) == ["FR"]
    assert "Removed from the priority list." in response.content.decode()


def test_an_unknown_country_code_is_refused_and_nothing_is_saved(client, reviewer):
    client.force_login(reviewer)

    response = client.post(reverse("priority_countries"), {"countries": "NL, ZZ"}, follow=True)

    assert response.status_code == 200
    assert "Unknown country code: ZZ. Use two-letter codes such as TR, DE." in response.content.decode()
    assert not PriorityCountry.objects.exists()


@pytest.mark.parametrize("persona", ["editor", "manager", "partner_user", "outsider"], indirect=True)
@pytest.mark.parametrize("data", [{"countries": "NL"}, {"remove": "FR"}])
def test_only_central_manages_the_priority_list(client, reviewer, persona, data):
    PriorityCountry.objects.create(country="FR", added_by=reviewer)
    client.force_login(persona)

    response = client.post(reverse("priority_countries"), data)

    assert response.status_code == 403
    assert list(PriorityCountry.objects.values_list("country", flat=True)) == ["FR"]


def test_an_anonymous_visitor_is_sent_to_log_in_before_touching_the_priority_list(client, db):
    response = client.post(reverse("priority_countries"), {"countries": "NL"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not PriorityCountry.objects.exists()


def test_the_priority_list_only_accepts_post(client, reviewer):
    client.force_login(reviewer)

    assert client.get(reverse("priority_countries")).status_code == 405


# --- Activity: cadence against target ------------------------------------------------------------


@pytest.fixture
def cadence(istanbul, ankara, author):
    """Istanbul Facebook (target 1): one a week for eight weeks (on target). Istanbul X (target 1):
    six in each of the last two weeks (above). Ankara Facebook (target 3): four this week (below).
    Ankara Instagram (target 2): three eight weeks ago, nothing since (silent)."""
    on_target = make_channel(post=istanbul, platform="facebook", handle="@BEinIstanbul", weekly_target=1)
    above = make_channel(post=istanbul, platform="x", handle="@BEinIstanbulX", weekly_target=1)
    below = make_channel(post=ankara, platform="facebook", handle="@BEinTurkey", weekly_target=3)
    silent = make_channel(post=ankara, platform="instagram", handle="@beinturkey", weekly_target=2)
    make_channel(post=ankara, platform="x", handle="@old", active=False)
    for monday in EIGHT_WEEKS:
        on_day([on_target], author, monday + timedelta(days=1))
    on_day([above], author, date(2026, 3, 10), count=6)
    on_day([above], author, THIS_MONDAY, count=6)
    on_day([below], author, date(2026, 3, 17), count=4)
    on_day([silent], author, date(2026, 1, 27), count=3)
    return {"on_target": on_target, "above": above, "below": below, "silent": silent}


def channel_rows(report: reports.Activity) -> dict[str, dict]:
    return {row["handle"]: row for row in report.channels}


def test_the_weeks_run_from_monday_back_over_the_chosen_number(cadence):
    assert reports.activity(Post.objects.all(), weeks=8).weeks == EIGHT_WEEKS
    assert reports.activity(Post.objects.all(), weeks=1).weeks == [THIS_MONDAY]


def test_each_active_channel_has_its_weekly_counts_of_published_publications(cadence):
    rows = channel_rows(reports.activity(Post.objects.all(), weeks=8))

    assert list(rows) == ["@BEinIstanbul", "@BEinIstanbulX", "@BEinTurkey", "@beinturkey"]  # post, platform
    assert rows["@BEinIstanbul"]["counts"] == [1] * 8
    assert rows["@BEinIstanbulX"]["counts"] == [0, 0, 0, 0, 0, 0, 6, 6]
    assert rows["@BEinTurkey"]["counts"] == [0, 0, 0, 0, 0, 0, 0, 4]
    assert rows["@beinturkey"]["counts"] == [3, 0, 0, 0, 0, 0, 0, 0]


def test_only_published_publications_in_the_window_are_counted(cadence, author):
    channel = cadence["on_target"]
    for status in ("draft", "in_review", "approved", "failed", "cancelled"):
        on_day([channel], author, date(2026, 3, 3), status=status)
    on_day([channel], author, date(2026, 1, 25))  # the Sunday before the first week

    rows = channel_rows(reports.activity(Post.objects.all(), weeks=8))

    assert rows["@BEinIstanbul"]["counts"] == [1] * 8


def test_each_channel_gets_its_average_and_a_verdict_against_its_target(cadence):
    rows = channel_rows(reports.activity(Post.objects.all(), weeks=8))

    summary = {handle: (row["target"], row["average"], row["verdict"]) for handle, row in rows.items()}
    assert summary == {
        "@BEinIstanbul": (1, 1.0, "on_target"),
        "@BEinIstanbulX": (1, 1.5, "above"),
        "@BEinTurkey": (3, 0.5, "below"),
        "@beinturkey": (2, 0.4, "silent"),
    }


def test_the_verdict_allows_twenty_percent_either_side_of_the_target(istanbul, author):
    channel = make_channel(post=istanbul, platform="facebook", weekly_target=5)

    def verdict() -> tuple[float, str]:
        row = reports.activity(Post.objects.all(), weeks=2).channels[0]
        return row["average"], row["verdict"]

    on_day([channel], author, date(2026, 3, 10), count=3)
    on_day([channel], author, date(2026, 3, 17), count=4)
    assert verdict() == (3.5, "below")  # 70 %
    on_day([channel], author, date(2026, 3, 17))
    assert verdict() == (4.0, "on_target")  # 80 %
    on_day([channel], author, date(2026, 3, 17), count=4)
    assert verdict() == (6.0, "on_target")  # 120 %
    on_day([channel], author, date(2026, 3, 17))
    assert verdict() == (6.5, "above")  # 130 %


def test_a_channel_that_published_nothing_in_the_last_four_weeks_is_silent(istanbul, author):
    channel = make_channel(post=istanbul, platform="facebook", weekly_target=1)
    on_day([channel], author, date(2026, 2, 16), count=10)  # five weeks ago

    row = reports.activity(Post.objects.all(), weeks=8).channels[0]

    assert (row["average"], row["verdict"]) == (1.2, "silent")


def test_the_platform_filter_keeps_only_its_channels(cadence):
    report = reports.activity(Post.objects.all(), weeks=8, platform="facebook")

    assert list(channel_rows(report)) == ["@BEinIstanbul", "@BEinTurkey"]


# --- Activity: the chart geometry ----------------------------------------------------------------


def test_the_bars_are_scaled_to_the_largest_value_with_a_target_line():
    chart = reports.bar_chart([0, 2, 4], 3)

    assert (chart["width"], chart["height"]) == (120, 28)
    assert [(bar["x"], bar["width"], bar["height"], bar["y"]) for bar in chart["bars"]] == [
        (1.0, 38.0, 0.0, 28.0),
        (41.0, 38.0, 13.0, 15.0),
        (81.0, 38.0, 26.0, 2.0),
    ]
    assert chart["target_y"] == 8.5  # 28 - 3/4 of 26


def test_a_target_above_every_value_sets_the_scale():
    chart = reports.bar_chart([1, 2], 4, width=100, height=60)

    assert [bar["height"] for bar in chart["bars"]] == [14.5, 29.0]
    assert [bar["y"] for bar in chart["bars"]] == [45.5, 31.0]
    assert chart["target_y"] == 2.0
    assert [bar["x"] for bar in chart["bars"]] == [1.0, 51.0]


def test_a_chart_without_target_or_values_draws_no_line_and_flat_bars():
    chart = reports.bar_chart([0, 0, 0])

    assert chart["target_y"] is None
    assert {bar["height"] for bar in chart["bars"]} == {0.0}
    assert reports.bar_chart([], None)["bars"] == []


def test_each_channel_row_carries_its_chart(cadence):
    rows = channel_rows(reports.activity(Post.objects.all(), weeks=8))

    assert rows["@BEinIstanbulX"]["chart"] == reports.bar_chart([0, 0, 0, 0, 0, 0, 6, 6], 1)


# --- Activity: language mix and partner share ----------------------------------------------------


def test_the_language_mix_shows_missing_policy_languages_and_languages_outside_it(paris, author):
    channel = make_channel(post=paris, platform="facebook")  # policy: fr, nl
    for variants in ({"fr": "Bonjour", "en": "Hello"}, {"fr": "Salut"}, {"fr": "Oui", "de": "Ja"}):
        publish(channel, author, days_ago=3, variants=variants)
    publish(channel, author, days_ago=3, status="draft", variants={"nl": "Hallo"})
    publish(channel, author, days_ago=90, variants={"nl": "Te oud"})

    row = reports.activity(Post.objects.all(), weeks=8).languages[0]

    assert row["post"] == paris
    assert row["total"] == 5
    assert row["mix"][0] == ("fr", 3, 60.0)
    assert sorted(row["mix"][1:]) == [("de", 1, 20.0), ("en", 1, 20.0)]
    assert row["missing"] == ["nl"]
    assert row["outside"] == ["de", "en"]


def test_a_post_that_published_nothing_has_an_empty_mix(paris):
    row = reports.activity(Post.objects.all(), weeks=8).languages[0]

    assert (row["total"], row["mix"], row["missing"], row["outside"]) == (0, [], [], [])


def test_the_partner_share_is_publications_from_proposals_over_published(istanbul, tokyo, author, fit):
    channel = make_channel(post=istanbul, platform="facebook")
    proposal = make_proposal(partner=fit)
    for _n in range(3):
        publish(channel, author, days_ago=4)
    publish(channel, author, days_ago=4, proposal=proposal, kind="partner_relay")
    publish(channel, author, days_ago=4, proposal=proposal, kind="partner_relay", status="approved")

    share = reports.activity(Post.objects.all(), weeks=8).partner_share

    assert [(row["post"], row["total"], row["from_partners"], row["share"]) for row in share] == [
        (istanbul, 4, 1, 25.0)
    ]  # Tokyo published nothing: no row


# --- Activity: approval turnaround ---------------------------------------------------------------


def decide(publication: Publication, reviewer, *, submitted: datetime, hours: float) -> Review:
    number = publication.revisions.count() + 1
    revision = PublicationRevision.objects.create(publication=publication, number=number, content={})
    review = Review.objects.create(
        publication=publication, revision=revision, reviewer=reviewer, decision="approve", guideline_version=1
    )
    PublicationRevision.objects.filter(pk=revision.pk).update(created_at=submitted)
    Review.objects.filter(pk=review.pk).update(created_at=submitted + timedelta(hours=hours))
    return review


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@pytest.fixture
def reviewed(istanbul, ankara, author, reviewer):
    def publication(post):
        return make_publication(post=post, author=author, status="approved")

    # Week of 9 March: submitted on Friday evening, decided on Monday morning (60 h), counted
    # in the week of the decision.
    decide(publication(istanbul), reviewer, submitted=at(date(2026, 3, 6), 20), hours=60)
    # Week of 2 March: four decisions.
    for hours in (1, 3, 4, 10):
        decide(publication(ankara), reviewer, submitted=at(date(2026, 3, 3), 8), hours=hours)
    # Before the window: left out.
    decide(publication(istanbul), reviewer, submitted=at(date(2026, 1, 20), 8), hours=2)


def test_the_turnaround_gives_the_median_and_90th_percentile_hours_per_week(reviewed):
    turnaround = {row["week"]: row for row in reports.activity(Post.objects.all(), weeks=8).turnaround}

    assert list(turnaround) == EIGHT_WEEKS
    assert turnaround[date(2026, 3, 9)] == {"week": date(2026, 3, 9), "count": 1, "median": 60.0, "p90": 60.0}
    march_2 = turnaround[date(2026, 3, 2)]
    assert (march_2["count"], march_2["median"]) == (4, 3.5)
    assert march_2["median"] <= march_2["p90"]
    assert turnaround[THIS_MONDAY] == {"week": THIS_MONDAY, "count": 0, "median": None, "p90": None}
    assert sum(row["count"] for row in turnaround.values()) == 5


def test_the_turnaround_counts_only_the_selected_posts(reviewed, istanbul):
    turnaround = reports.activity(Post.objects.filter(pk=istanbul.pk), weeks=8).turnaround

    assert [(row["week"], row["count"]) for row in turnaround if row["count"]] == [(date(2026, 3, 9), 1)]


def test_the_90th_percentile_never_exceeds_the_slowest_decision(istanbul, author, reviewer):
    for hours in (1, 2, 6):
        publication = make_publication(post=istanbul, author=author, status="approved")
        decide(publication, reviewer, submitted=at(date(2026, 3, 10), 8), hours=hours)

    week = reports.activity(Post.objects.all(), weeks=2).turnaround[0]

    assert (week["count"], week["median"]) == (3, 2.0)
    assert week["p90"] <= 6
    assert week["p90"] == 5.2  # linear interpolation between the data points ("inclusive")


def test_the_turnaround_matches_the_statistics_module_for_every_count_of_decisions(
    istanbul, author, reviewer
):
    """The database picks the ranks; the figures are those of statistics.median and quantiles."""
    import random
    from statistics import median, quantiles

    rng = random.Random(7)
    weeks = [date(2026, 1, 26) + timedelta(weeks=n) for n in range(8)]
    expected = {}
    for week, count in zip(weeks, (1, 2, 3, 5, 10, 11, 12, 19), strict=True):
        hours = [rng.choice([0.5, 1, 2.25, 7, 30, 60]) + rng.randint(0, 5) for _ in range(count)]
        for value in hours:
            publication = make_publication(post=istanbul, author=author, status="approved")
            decide(
                publication,
                reviewer,
                submitted=at(week, 1) + timedelta(hours=rng.randint(0, 48)),
                hours=value,
            )
        values = sorted(hours)
        p90 = quantiles(values, n=10, method="inclusive")[-1] if count > 1 else values[0]
        expected[week] = (count, round(median(values), 1), round(p90, 1))

    turnaround = reports.activity(Post.objects.all(), weeks=8).turnaround

    assert {row["week"]: (row["count"], row["median"], row["p90"]) for row in turnaround} == expected


# --- Activity: the page, weeks and CSV -----------------------------------------------------------


def test_the_activity_page_defaults_to_eight_weeks(client, reviewer, cadence, reviewed):
    client.force_login(reviewer)

    response = client.get(reverse("activity"))

    assert response.status_code == 200
    assert response.context["weeks"] == 8
    assert response.context["report"].weeks == EIGHT_WEEKS
    page = response.content.decode()
    for text in (
        "Activity over the last 8 weeks",
        "@BEinIstanbul: 1.0 a week on average, target 1",
        'class="verdict-above">above target',
        'class="verdict-silent">silent',
        'class="verdict-below">below target',
        'class="verdict-on_target">on target',
        "Median hours in review per week",
        "?format=csv",
    ):
        assert text in page, text
    assert "@old" not in page


def test_the_chosen_number_of_weeks_is_used_up_to_the_maximum(client, reviewer, cadence):
    client.force_login(reviewer)

    response = client.get(reverse("activity"), {"weeks": str(MAX_WEEKS)})

    assert response.status_code == 200
    assert len(response.context["report"].weeks) == MAX_WEEKS == 26
    assert len(response.context["report"].channels[0]["counts"]) == 26


@pytest.mark.parametrize("weeks", ["0", "27", "5200", "abc", "-1", "2.5"])
def test_a_number_of_weeks_out_of_range_answers_400(client, reviewer, weeks):
    client.force_login(reviewer)

    response = client.get(reverse("activity"), {"weeks": weeks})

    assert response.status_code == 400
    assert "Choose between 1 and 26 weeks." in response.content.decode()


def test_a_superscript_digit_for_the_weeks_answers_400(client, reviewer):
    client.force_login(reviewer)

    response = client.get(reverse("activity"), {"weeks": "²"})

    assert response.status_code == 400


def cadence_table(rows: list[list[str]]) -> list[list[str]]:
    """The cadence table of the activity CSV, which holds every table of the page (the first
    column names the table; each table starts with a header row whose first cell is "table")."""
    assert rows[0][0] == "table"
    end = next((n for n, row in enumerate(rows[1:], 1) if row[0] == "table"), len(rows))
    assert all(row[0] == "cadence" for row in rows[1:end])
    return [row[1:] for row in rows[:end]]


def test_the_activity_csv_has_a_header_and_one_row_per_channel(client, reviewer, cadence):
    client.force_login(reviewer)

    response = client.get(reverse("activity"), {"format": "csv"})

    rows = cadence_table(csv_rows(response))
    assert 'filename="activity.csv"' in response["Content-Disposition"]
    assert rows[0] == [
        "post",
        "platform",
        "handle",
        "weekly_target",
        *[week.isoformat() for week in EIGHT_WEEKS],
        "average",
        "verdict",
    ]
    assert rows[1:] == [
        ["be-cg-istanbul", "facebook", "@BEinIstanbul", "1", *["1"] * 8, "1.0", "on_target"],
        ["be-cg-istanbul", "x", "@BEinIstanbulX", "1", *["0"] * 6, "6", "6", "1.5", "above"],
        ["be-emb-ankara", "facebook", "@BEinTurkey", "3", *["0"] * 7, "4", "0.5", "below"],
        ["be-emb-ankara", "instagram", "@beinturkey", "2", "3", *["0"] * 7, "0.4", "silent"],
    ]


def test_the_activity_csv_applies_the_filters_and_the_weeks(client, reviewer, cadence):
    client.force_login(reviewer)

    response = client.get(
        reverse("activity"), {"format": "csv", "kind": "consulate_general", "platform": "x", "weeks": "2"}
    )

    assert cadence_table(csv_rows(response)) == [
        ["post", "platform", "handle", "weekly_target", "2026-03-09", "2026-03-16", "average", "verdict"],
        ["be-cg-istanbul", "x", "@BEinIstanbulX", "1", "6", "6", "6.0", "above"],
    ]


# --- Access --------------------------------------------------------------------------------------

PERSONAS = ["anonymous", "outsider", "editor", "manager", "partner_user", "reviewer"]
ANSWERS = (LOGIN, 403, 403, 403, 403, 200)


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("view", ["coverage", "activity"])
@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_the_reports_are_for_central_only(client, request, persona, view, fmt, network):
    expected = ANSWERS[PERSONAS.index(request.node.callspec.params["persona"])]
    if persona is not None:
        client.force_login(persona)

    response = client.get(reverse(view), {"format": fmt} if fmt == "csv" else {})

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
    if expected != 200:
        assert b"Embassy of Belgium in Tokyo" not in response.content
        assert b"be-emb-tokyo" not in response.content


# --- Query budgets -------------------------------------------------------------------------------


def fill(*, posts: int, publications: int, author, reviewer, partner, start: int = 0) -> None:
    """`posts` posts with two channels each, `publications` published over them in the last
    weeks, some from a proposal and reviewed, in two languages; two priority countries."""
    countries = ["TR", "JP", "FR", "US", "DE", "BR", "KE", "EG"]
    channels = []
    for n in range(start, start + posts):
        post = make_post(code=f"be-fill-{n}", country=countries[n % len(countries)], kind="embassy")
        channels.append(
            (
                make_channel(post=post, platform="facebook"),
                make_channel(post=post, platform="x", active=n % 3 > 0),
            )
        )
    proposal = make_proposal(partner=partner)
    for n in range(publications):
        pair = channels[n % len(channels)]
        publication = make_publication(
            post=pair[0].post,
            author=author,
            status="published",
            local_date=TODAY - timedelta(days=n % 50),
            channels=list(pair),
            variants={"en": "Hello", "fr": "Bonjour"} if n % 2 else {"nl": "Hallo"},
            proposal=proposal if n % 4 == 0 else None,
        )
        if n % 5 == 0:
            decide(publication, reviewer, submitted=at(TODAY - timedelta(days=n % 40), 8), hours=1 + n % 3)
    for code in ("FR", "NL"):
        PriorityCountry.objects.get_or_create(country=code, defaults={"added_by": reviewer})


@pytest.mark.parametrize("view", ["coverage", "activity"])
@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_the_reports_run_the_same_queries_with_few_and_many_rows(client, reviewer, author, fit, view, fmt):
    client.force_login(reviewer)
    params = {"format": "csv"} if fmt == "csv" else {}

    def count_queries() -> tuple[int, int]:
        client.get(reverse(view), params)  # warm-up: session, memberships
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse(view), params)
        assert response.status_code == 200
        return len(captured), len(response.content)

    fill(posts=3, publications=5, author=author, reviewer=reviewer, partner=fit)
    small, small_size = count_queries()
    fill(posts=27, publications=95, author=author, reviewer=reviewer, partner=fit, start=3)
    many, many_size = count_queries()

    assert many == small
    assert many_size > small_size  # the page did grow with the data
    if view == "coverage":
        assert len(reports.coverage(Post.objects.active(), PLATFORMS).rows) == 30
    else:
        assert len(reports.activity(Post.objects.active(), weeks=8).channels) == 30 + 20


# --- Accessibility basics ------------------------------------------------------------------------


def th_without_scope(page: str) -> list[str]:
    return [tag for tag in re.findall(r"<th\b[^>]*>", page) if "scope=" not in tag]


def main_of(page: str) -> str:
    """The page's main content: the header's icons are decorative SVG, hidden from assistive
    technology, and no chart."""
    return page[page.index("<main") : page.index("</main>")]


def test_the_coverage_map_is_an_image_with_a_title_and_a_description(client, reviewer, network):
    client.force_login(reviewer)

    page = main_of(client.get(reverse("coverage")).content.decode())

    svg = re.search(r"<svg\b([^>]*)>(.*?)</svg>", page, re.S)
    assert svg is not None
    attributes, body = svg.groups()
    assert 'role="img"' in attributes
    assert 'aria-labelledby="map-title map-desc"' in attributes
    assert re.match(r"\s*<title id=\"map-title\">World map of the network's presence</title>", body)
    assert re.search(r'<desc id="map-desc">\S[^<]*</desc>', body)


def test_every_table_header_of_the_coverage_page_has_a_scope(client, reviewer, network):
    client.force_login(reviewer)

    page = client.get(reverse("coverage")).content.decode()

    assert page.count("<th") > 10
    assert th_without_scope(page) == []
    assert page.count("<caption") == page.count("<table")


def test_every_chart_and_table_header_of_the_activity_page_is_labelled(client, reviewer, cadence, reviewed):
    client.force_login(reviewer)

    page = main_of(client.get(reverse("activity")).content.decode())

    charts = re.findall(r"<svg\b([^>]*)><title id=\"([^\"]+)\">([^<]*)</title>", page)
    assert len(charts) == len(re.findall(r"<svg\b", page)) == 4 + 1
    for attributes, title_id, title in charts:
        assert 'role="img"' in attributes
        assert f'aria-labelledby="{title_id}"' in attributes
        assert title.strip(), attributes
    assert len({title_id for _a, title_id, _t in charts}) == 5
    assert th_without_scope(page) == []
