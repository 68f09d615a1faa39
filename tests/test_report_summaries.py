"""Coverage and activity answer first (issue 17): a summary of findings with counts, each
linking to its details; the long tables folded by world region with counts in each fold's
summary; the gaps grouped one line a platform; platforms no post uses named once instead of
a column of "absent"; the activity verdict right after the channel; the activity CSV with
every table of the page; map tooltips and the network filter in the reader's language."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from calendar_app import reports
from calendar_app.models import PriorityCountry
from diplomacy.models import Platform, Post
from tests.calendar_factories import make_proposal, make_publication
from tests.factories import make_channel, make_post, make_user

NOW = "2026-03-18 12:00:00+00:00"
TODAY = date(2026, 3, 18)
PLATFORMS = list(Platform.choices)
ACTIVE, SILENT, INACTIVE, ABSENT = reports.ACTIVE, reports.SILENT, reports.INACTIVE, reports.ABSENT


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def author(db):
    return make_user(email="author@example.org")


def publish(channel, author, *, days_ago: int, status: str = "published", **extra):
    return make_publication(
        post=channel.post,
        author=author,
        status=status,
        local_date=TODAY - timedelta(days=days_ago),
        channels=[channel],
        **extra,
    )


@pytest.fixture
def network(istanbul, ankara, tokyo, paris, author):
    """Türkiye: Istanbul active on Facebook, silent on X; Ankara active on Instagram, silent on X.
    Japan: active on Facebook, a switched-off X account. France: no channel. Nobody is on
    LinkedIn, YouTube, Bluesky, Mastodon or Threads."""
    publish(make_channel(post=istanbul, platform="facebook"), author, days_ago=5)
    publish(make_channel(post=istanbul, platform="x"), author, days_ago=40)
    make_channel(post=ankara, platform="x")
    publish(make_channel(post=ankara, platform="instagram"), author, days_ago=2)
    publish(make_channel(post=tokyo, platform="facebook"), author, days_ago=10)
    make_channel(post=tokyo, platform="x", active=False)
    return {"istanbul": istanbul, "ankara": ankara, "tokyo": tokyo, "paris": paris}


def coverage_of(posts=None, platforms=None) -> reports.Coverage:
    return reports.coverage(posts if posts is not None else Post.objects.all(), platforms or PLATFORMS)


def main_of(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


# --- Coverage: findings --------------------------------------------------------------------------


def test_coverage_opens_with_findings_that_count_and_link_to_their_details(network, reviewer, client):
    PriorityCountry.objects.create(country="FR", added_by=reviewer)
    PriorityCountry.objects.create(country="JP", added_by=reviewer)

    findings = coverage_of().findings

    assert [(finding.text, finding.anchor) for finding in findings] == [
        (
            "2 priority countries are not active where other countries are: 2 on Instagram, 1 on Facebook.",
            "gaps-heading",
        ),
        ("1 of 3 countries with a post published nothing in 30 days: France.", "presence-heading"),
        ("2 channels are silent for 30 days. 1 channel is switched off.", "platforms-heading"),
        ("5 platforms unused: LinkedIn, YouTube, Bluesky, Mastodon, Threads.", "platforms-heading"),
        ("Widest presence: Facebook, active at 2 of 4 posts.", "platforms-heading"),
    ]


def test_the_findings_come_first_and_every_link_reaches_a_heading(network, reviewer, client):
    PriorityCountry.objects.create(country="FR", added_by=reviewer)
    client.force_login(reviewer)

    page = main_of(client.get(reverse("coverage")).content.decode())

    first = page.index('id="findings-heading"')
    assert first < page.index('class="world-map"') < page.index('id="presence-heading"')
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    findings = page[first : page.index("</section>", first)]
    anchors = re.findall(r'<a href="#([^"]+)">', findings)
    assert len(anchors) == 5
    assert set(anchors) <= ids


def test_without_priority_countries_the_findings_say_how_to_add_them(network):
    findings = coverage_of().findings

    assert (findings[0].text, findings[0].anchor) == (
        "No priority country yet: add them below to see where they lag.",
        "priority-heading",
    )


def test_when_every_priority_country_is_active_the_findings_say_so(network, reviewer):
    PriorityCountry.objects.create(country="TR", added_by=reviewer)  # active on Facebook and Instagram

    assert coverage_of().findings[0].text == "Every priority country is active wherever other countries are."


def test_an_empty_selection_says_so_instead_of_findings(db):
    findings = coverage_of(Post.objects.none()).findings

    assert [finding.text for finding in findings] == ["No post matches these filters."]


# --- Coverage: gaps grouped ----------------------------------------------------------------------


def test_the_gaps_are_grouped_one_line_a_platform_most_lagging_first(network, reviewer, make_us):
    PriorityCountry.objects.create(country="FR", added_by=reviewer)
    PriorityCountry.objects.create(country="US", added_by=reviewer)
    report = coverage_of()

    assert len(report.gaps) == 4  # one per country and platform, as before
    groups = [(group.platform, group.by_state, group.others) for group in report.gap_groups]
    assert groups == [
        ("Facebook", [(ABSENT, ["France"]), (SILENT, ["United States of America"])], 2),
        ("Instagram", [(ABSENT, ["France", "United States of America"])], 1),
    ]
    assert report.gap_groups[0].text == (
        "2 priority countries are not active. Absent: France. Silent for 30 days: United States of "
        "America. 2 other countries are active (for example Japan, Türkiye)."
    )


@pytest.fixture
def make_us(db):
    """Washington: a Facebook page that never published."""
    post = make_post(
        code="be-emb-washington", name="Embassy of Belgium in Washington", country="US", city="Washington"
    )
    return make_channel(post=post, platform="facebook")


def test_the_page_shows_one_gap_line_a_platform(network, reviewer, client):
    PriorityCountry.objects.create(country="FR", added_by=reviewer)
    client.force_login(reviewer)

    page = client.get(reverse("coverage")).content.decode()
    gaps = page[page.index('id="gaps-heading"') : page.index("</section>", page.index('id="gaps-heading"'))]

    assert gaps.count("<li>") == 2
    assert "<strong>Facebook</strong>: 1 priority country is not active. Absent: France." in gaps


def test_a_switched_off_channel_alone_is_counted_in_a_whole_sentence(tokyo, author):
    publish(make_channel(post=tokyo, platform="facebook"), author, days_ago=3)
    make_channel(post=tokyo, platform="x", active=False)

    texts = [finding.text for finding in coverage_of().findings]

    assert "1 channel is switched off." in texts
    assert not [text for text in texts if "silent for 30 days" in text]


# --- Coverage: unused platforms and folds ------------------------------------------------------


def test_platforms_no_post_uses_are_named_once_and_left_out_of_the_tables(network, reviewer, client):
    report = coverage_of()
    assert report.unused == ["LinkedIn", "YouTube", "Bluesky", "Mastodon", "Threads"]
    assert report.shown == [("facebook", "Facebook"), ("x", "X"), ("instagram", "Instagram")]
    assert [total["platform"] for total in report.shown_totals] == ["Facebook", "X", "Instagram"]
    client.force_login(reviewer)

    page = main_of(client.get(reverse("coverage")).content.decode())

    assert "No post uses: LinkedIn, YouTube, Bluesky, Mastodon, Threads." in page
    tables = page[page.index('id="platforms-heading"') :]
    assert '<th scope="col">YouTube</th>' not in tables
    assert '<th scope="row">YouTube</th>' not in tables
    assert '<th scope="col">Instagram</th>' in tables


def test_a_chosen_platform_keeps_its_column_even_when_nobody_uses_it(network, reviewer, client):
    client.force_login(reviewer)

    report = client.get(reverse("coverage"), {"platform": "youtube"}).context["report"]

    assert report.shown == [("youtube", "YouTube")]
    assert report.unused == ["YouTube"]  # named, and shown all the same: the column asked for
    assert [fold.countries[0][2] for fold in report.regions][0] == [ABSENT]


def test_the_presence_table_is_folded_by_region_with_counts_in_each_summary(network):
    report = coverage_of()

    folds = [(fold.region, fold.label, fold.summary) for fold in report.regions]
    assert folds == [
        ("europe", "Europe", "2 countries, 3 posts: 1 active, 1 absent"),
        ("asia", "Asia", "1 country, 1 post: 1 active"),
    ]
    europe = report.regions[0]
    assert [(code, states) for code, _name, states, _rows in europe.countries] == [
        ("FR", [ABSENT, ABSENT, ABSENT]),
        ("TR", [ACTIVE, SILENT, ACTIVE]),
    ]


def test_each_region_is_a_fold_of_its_own_table_opened_only_when_alone(network, reviewer, client):
    client.force_login(reviewer)

    everything = main_of(client.get(reverse("coverage")).content.decode())
    asia = main_of(client.get(reverse("coverage"), {"region": "asia"}).content.decode())

    assert everything.count('<details class="report-fold">') == 2  # Europe and Asia
    assert '<summary><span class="fold-name">Europe</span>' in everything
    assert asia.count('<details class="report-fold" open>') == 1
    assert everything.count("<caption") == everything.count("<table")


# --- Coverage: the map in the reader's language --------------------------------------------------


def test_the_map_tooltips_are_in_the_readers_language(network, reviewer, client):
    reviewer.language = "nl"
    reviewer.save(update_fields=["language"])
    client.force_login(reviewer)

    page = client.get(reverse("coverage")).content.decode()

    assert '<path d="' in page
    assert re.search(r'class="state-active"><title>Japan: actief</title>', page)
    assert re.search(r'class="state-none"><title>Duitsland</title>', page)
    assert "<title>Germany</title>" not in page


# --- The network filter's yes/no select ----------------------------------------------------------


def test_the_network_filters_yes_no_select_follows_the_language(client, editor):
    client.force_login(editor)

    english = client.get(reverse("network")).content.decode()
    with translation.override("fr"):
        french = client.get(reverse("network"), headers={"accept-language": "fr"}).content.decode()

    assert re.search(r'<option value="" selected>Any</option>\s*<option value="true">Yes</option>', english)
    assert re.search(r'<option value="true">Oui</option>\s*<option value="false">Non</option>', french)
    assert ">Unknown<" not in english


# --- Activity ------------------------------------------------------------------------------------


@pytest.fixture
def cadence(istanbul, ankara, tokyo, author, fit):
    """Istanbul Facebook (target 1): one a week for eight weeks (on target), one of them from a
    partner. Istanbul X (target 1): six in each of the last two weeks (above). Ankara Facebook
    (target 3): four this week (below). Tokyo X (target 2): three eight weeks ago (silent)."""
    weeks = [date(2026, 1, 26) + timedelta(weeks=n) for n in range(8)]
    on_target = make_channel(post=istanbul, platform="facebook", handle="@BEinIstanbul", weekly_target=1)
    above = make_channel(post=istanbul, platform="x", handle="@BEinIstanbulX", weekly_target=1)
    below = make_channel(post=ankara, platform="facebook", handle="@BEinTurkey", weekly_target=3)
    silent = make_channel(post=tokyo, platform="x", handle="@BEinJapan", weekly_target=2)
    proposal = make_proposal(partner=fit)
    for n, monday in enumerate(weeks):
        make_publication(
            post=istanbul,
            author=author,
            status="published",
            local_date=monday + timedelta(days=1),
            channels=[on_target],
            variants={"tr": "Merhaba", "en": "Hello"},
            proposal=proposal if n == 0 else None,
            kind="partner_relay" if n == 0 else "regular",
        )
    for day, channel, count in ((date(2026, 3, 10), above, 6), (date(2026, 3, 16), above, 6)):
        for _n in range(count):
            make_publication(
                post=istanbul, author=author, status="published", local_date=day, channels=[channel]
            )
    for _n in range(4):
        make_publication(
            post=ankara, author=author, status="published", local_date=date(2026, 3, 17), channels=[below]
        )
    for _n in range(3):
        make_publication(
            post=tokyo, author=author, status="published", local_date=date(2026, 1, 27), channels=[silent]
        )


def activity_of(**kwargs) -> reports.Activity:
    return reports.activity(Post.objects.all(), weeks=kwargs.pop("weeks", 8), **kwargs)


def test_activity_opens_with_findings_that_count_and_link_to_their_sections(cadence):
    findings = [(finding.text, finding.anchor) for finding in activity_of().findings]

    assert findings[:2] == [
        ("1 of 4 channels published nothing in the last four weeks.", "cadence-heading"),
        ("Against their weekly target: 1 channels below, 1 on target, 1 above.", "cadence-heading"),
    ]
    # The factory's texts are English: Istanbul (nl, fr, en, tr) leaves out Dutch and French,
    # Ankara Dutch, French and Turkish, Tokyo (ja, en) Japanese. A tie goes to the first code.
    assert findings[2:] == [
        (
            "3 of 3 posts that published left out a language of their policy (most often French).",
            "languages-heading",
        ),
        ("Regional partners' content: 3.7 % of 27 publications; 2 of 3 posts relayed none.", "share-heading"),
    ]  # no decision and no delivery in this data: no turnaround or on-time finding


def test_the_language_finding_names_the_language_left_out_most_often(paris, tokyo, istanbul, author):
    # Paris (fr, nl) leaves out Dutch, Istanbul (nl, fr, en, tr) Dutch, French and Turkish,
    # Tokyo (ja, en) Japanese: Dutch twice.
    publish(make_channel(post=paris, platform="facebook"), author, days_ago=3, variants={"fr": "Bonjour"})
    publish(make_channel(post=istanbul, platform="facebook"), author, days_ago=3, variants={"en": "Hello"})
    publish(make_channel(post=tokyo, platform="facebook"), author, days_ago=3, variants={"en": "Hello"})

    findings = {finding.anchor: finding.text for finding in activity_of().findings}

    assert findings["languages-heading"] == (
        "3 of 3 posts that published left out a language of their policy (most often Dutch)."
    )


def test_posts_that_published_nothing_are_counted(paris, tokyo):
    texts = [finding.text for finding in activity_of().findings]

    assert "2 posts published nothing in these weeks." in texts


def test_the_turnaround_and_on_time_findings_give_the_last_week_with_decisions(cadence):
    report = activity_of()
    report.turnaround[-2].update(count=3, median=5.5, p90=20.0)
    report.turnaround[-1].update(count=0, median=None, p90=None)
    report.on_time = {"delivered": 4, "on_time": 3, "share": 75.0}

    texts = [finding.text for finding in reports.activity_findings(report)]

    assert texts[-2] == (
        "Central decided 3 publications; in the week of 9 March, a median of 5.5 hours in review "
        "(90th percentile 20.0)."
    )
    assert texts[-1] == "Delivered on time: 75.0 % (3 of 4)."


def test_the_cadence_languages_and_partner_tables_are_folded_by_region_with_counts(cadence):
    report = activity_of()

    assert [(fold.label, fold.summary) for fold in report.channel_folds] == [
        ("Europe", "3 channels: 1 below target, 1 on target, 1 above target"),
        ("Asia", "1 channel: 1 silent"),
    ]
    assert [fold.label for fold in report.language_folds] == ["Europe", "Asia"]
    assert report.share_folds[0].summary == "2 posts published 24, of which 1 from partners (4.2 %)"
    assert [[row["handle"] for row in fold.rows] for fold in report.channel_folds] == [
        ["@BEinIstanbul", "@BEinIstanbulX", "@BEinTurkey"],  # by post name, then platform
        ["@BEinJapan"],
    ]


def test_the_language_summaries_count_posts_in_whole_phrases_singular_and_plural(cadence, paris):
    report = activity_of()

    assert [(fold.label, fold.summary) for fold in report.language_folds] == [
        ("Europe", "3 posts: 2 posts leave out a policy language, 1 post published nothing"),
        ("Asia", "1 post: 1 post leaves out a policy language"),
    ]


def test_the_verdict_comes_right_after_the_channel(cadence, reviewer, client):
    client.force_login(reviewer)

    page = main_of(client.get(reverse("activity")).content.decode())

    head = re.search(r"<table class=\"cadence\">.*?<thead><tr>(.*?)</tr></thead>", page, re.S)
    assert head is not None
    columns = re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", head.group(1))
    assert columns[:4] == ["Channel", "Verdict", "Average", "Target"]
    row = re.search(
        r"<tbody>\s*<tr><th scope=\"row\">[^<]*<span[^>]*>[^<]*</span></th>\s*<td class=\"verdict-", page
    )
    assert row is not None


# --- Activity: the CSV holds every table -----------------------------------------------------------


def tables_of(body: str) -> dict[str, list[list[str]]]:
    tables: dict[str, list[list[str]]] = {}
    current = None
    for row in csv.reader(io.StringIO(body)):
        if row[0] == "table":
            current = []
            header = row[1:]
            current.append(header)
        else:
            assert current is not None
            tables.setdefault(row[0], current)
            current.append(row[1:])
    return tables


def test_the_activity_csv_holds_every_table_of_the_page_named_in_its_first_column(cadence, reviewer, client):
    client.force_login(reviewer)

    response = client.get(reverse("activity"), {"format": "csv"})

    assert response.status_code == 200
    body = response.content.decode()
    headers = [row for row in csv.reader(io.StringIO(body)) if row[0] == "table"]
    assert [header[1] for header in headers] == ["post", "post", "post", "week", "delivered"]
    tables = tables_of(body)
    assert list(tables) == ["cadence", "languages", "partner_share", "turnaround", "on_time"]
    assert len(tables["cadence"]) == 1 + 4
    assert tables["languages"][0] == [
        "post",
        "policy",
        "texts_published",
        "mix_percent",
        "policy_not_used",
        "outside_policy",
    ]
    assert len(tables["languages"]) == 1 + 3
    assert tables["partner_share"][0] == [
        "post",
        "world_region",
        "published",
        "from_partners",
        "share_percent",
    ]
    istanbul = next(row for row in tables["partner_share"] if row[0] == "be-cg-istanbul")
    assert istanbul == ["be-cg-istanbul", "europe", "20", "1", "5.0"]
    assert len(tables["turnaround"]) == 1 + 8
    assert tables["on_time"] == [["delivered", "on_time", "share_percent"], ["0", "0", ""]]


def test_every_table_of_the_csv_neutralises_cells_that_look_like_formulas():
    response = reports.csv_tables_response(
        "t.csv",
        [
            ("first", ["a"], [["=1+1"]]),
            ("second", ["b", "c"], [["+SUM(A1)", "@BelgiumInTurkey"], ["-2", '@x("y")']]),
        ],
    )

    rows = list(csv.reader(io.StringIO(response.content.decode())))

    assert rows == [
        ["table", "a"],
        ["first", "'=1+1"],
        ["table", "b", "c"],
        ["second", "'+SUM(A1)", "@BelgiumInTurkey"],
        ["second", "'-2", '\'@x("y")'],
    ]


def test_the_page_says_how_the_csv_is_laid_out_next_to_the_link(reviewer, client, db):
    client.force_login(reviewer)

    page = main_of(client.get(reverse("activity")).content.decode())

    link = page.index("Export CSV")
    note = page.index("One CSV file with every table of this page")
    assert 0 < note - link < 400
    assert 'aria-describedby="export-note"' in page
