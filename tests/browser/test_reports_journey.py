"""Central communications read the network's coverage and activity, and export them.

A few posts with channels and recent publications, and a priority country where the
network is silent. The central reviewer opens the coverage report: the world map, the
gaps; narrows it to Europe and exports the CSV, which lists the European posts only.
Then the activity report: filtered by platform and a number of weeks, exported too.
Every page passes the accessibility check.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app.models import PriorityCountry
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]


@pytest.fixture
def network(reviewer):
    """Istanbul and Washington active on Facebook, Tokyo on X; Istanbul silent on X; Berlin, a
    priority, silent on Facebook and absent on X."""
    posts = {
        "istanbul": make_post(
            code="be-cg-istanbul",
            name="Consulate-General of Belgium in Istanbul",
            kind="consulate_general",
            city="Istanbul",
            country="TR",
        ),
        "berlin": make_post(
            code="be-emb-berlin",
            name="Embassy of Belgium in Berlin",
            city="Berlin",
            country="DE",
            timezone="Europe/Berlin",
            host_languages="de",
        ),
        "washington": make_post(
            code="be-emb-washington",
            name="Embassy of Belgium in Washington",
            city="Washington",
            country="US",
            timezone="America/New_York",
            host_languages="en",
        ),
        "tokyo": make_post(
            code="be-emb-tokyo",
            name="Embassy of Belgium in Tokyo",
            city="Tokyo",
            country="JP",
            timezone="Asia/Tokyo",
            host_languages="ja",
        ),
    }
    channels = {
        "istanbul": make_channel(post=posts["istanbul"], platform="facebook", handle="@Belgium.Istanbul"),
        "istanbul_x": make_channel(post=posts["istanbul"], platform="x", handle="@BelgiumInIst"),
        "berlin": make_channel(post=posts["berlin"], platform="facebook", handle="@Belgium.Berlin"),
        "washington": make_channel(post=posts["washington"], platform="facebook", handle="@BelgiumUSA"),
        "tokyo": make_channel(post=posts["tokyo"], platform="x", handle="@BelgiumJapan"),
    }
    editor = make_user(email="editor.network@example.org")
    today = timezone.localdate()
    for key, days in (("istanbul", 2), ("istanbul", 9), ("washington", 3), ("tokyo", 4)):
        channel = channels[key]
        make_publication(
            post=channel.post,
            author=editor,
            status="published",
            local_date=today - timedelta(days=days),
            channels=[channel],
        )
    PriorityCountry.objects.create(country="DE", note="Our neighbour", added_by=reviewer)
    return posts


def download_csv(visitor) -> tuple[str, dict[str, list[str]], list[list[str]]]:
    """Click "Export CSV": a download, not a page; return its file name, query and rows."""
    link = visitor.page.get_by_role("link", name="Export CSV")
    query = parse_qs(urlsplit(link.get_attribute("href")).query)
    with visitor.page.expect_download() as info:
        link.click()
    download = info.value
    assert download.failure() is None
    with open(download.path(), encoding="utf-8", newline="") as file:
        rows = list(csv.reader(io.StringIO(file.read())))
    assert not visitor.unaudited, visitor.unaudited
    return download.suggested_filename, query, rows


def test_central_reads_and_exports_coverage_and_activity(visitor, reviewer, network):
    page = visitor.page
    visitor.log_in(reviewer.email)

    # --- Coverage: the map and the gaps ---------------------------------------------------------
    visitor.goto("/network/coverage/")
    world = page.get_by_role("img", name="World map of the network's presence")
    expect(world).to_be_visible()
    expect(page.locator("svg.map path.state-active")).to_have_count(3)  # TR, US, JP
    expect(page.locator("svg.map path.state-silent")).to_have_count(1)  # DE
    gaps = page.locator("section:has(#gaps-heading)")
    expect(gaps.get_by_role("heading", name="Gaps")).to_be_visible()
    # One line a platform (issue 17: the gaps grouped, not one line per country and platform).
    expect(gaps.locator("li")).to_have_text(
        [
            "Facebook: 1 priority country is not active. Silent for 30 days: Germany. 2 other "
            "countries are active (for example Türkiye, United States of America).",
            "X: 1 priority country is not active. Absent: Germany. 1 other country is active "
            "(for example Japan).",
        ]
    )

    # --- Narrowed to Europe, exported --------------------------------------------------------------
    page.get_by_label("Region of the world").select_option(label="Europe")
    visitor.submit('form[role="search"]')
    assert visitor.path == "/network/coverage/?region=europe&country=&kind=&platform="
    posts = page.locator("table.coverage tr.post-row th")
    expect(posts).to_have_text(["Embassy of Belgium in Berlin", "Consulate-General of Belgium in Istanbul"])
    # Compared within Europe now: no European post is active on X.
    expect(gaps.locator("li")).to_have_text(
        [
            "Facebook: 1 priority country is not active. Silent for 30 days: Germany. 1 other "
            "country is active (for example Türkiye)."
        ]
    )
    filename, query, rows = download_csv(visitor)
    assert filename == "coverage.csv"
    assert query["region"] == ["europe"] and query["format"] == ["csv"]
    header, *body = rows
    assert header[:5] == ["post", "name", "country", "world_region", "kind"]
    assert "facebook" in header and "x" in header
    assert sorted(row[0] for row in body) == ["be-cg-istanbul", "be-emb-berlin"]
    assert {row[3] for row in body} == {"europe"}
    by_post = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert by_post["be-cg-istanbul"]["facebook"] == "active"
    assert by_post["be-emb-berlin"]["facebook"] == "silent"
    assert by_post["be-emb-berlin"]["x"] == "absent"

    # --- Activity, by platform and weeks, exported ---------------------------------------------------
    page.get_by_role("link", name="Activity").first.click()
    visitor.audit()
    assert visitor.path == "/network/activity/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity over the last 8 weeks")
    page.get_by_label("Platform").select_option(label="Facebook")
    page.get_by_label("Weeks").fill("4")
    visitor.submit('form[role="search"]')
    expect(page.get_by_role("heading", level=1)).to_have_text("Activity over the last 4 weeks")
    cadence = page.locator("section:has(#cadence-heading) tbody th")
    expect(cadence).to_have_count(3)
    expect(page.locator("section:has(#cadence-heading)")).not_to_contain_text("@BelgiumInIst")
    filename, query, rows = download_csv(visitor)
    assert filename == "activity.csv"
    assert query["platform"] == ["facebook"] and query["weeks"] == ["4"]
    # Every table of the page in one file: the first column names the table, each table
    # starts with its own header row (first cell "table"); the cadence table comes first.
    assert {row[0] for row in rows} == {
        "table",
        "cadence",
        "languages",
        "partner_share",
        "turnaround",
        "on_time",
    }
    end = next(n for n, row in enumerate(rows[1:], 1) if row[0] == "table")
    header, *body = [row[1:] for row in rows[:end]]
    assert header[:4] == ["post", "platform", "handle", "weekly_target"]
    assert header[-2:] == ["average", "verdict"]
    assert len(header) == 4 + 4 + 2
    assert sorted(row[0] for row in body) == ["be-cg-istanbul", "be-emb-berlin", "be-emb-washington"]
    assert {row[1] for row in body} == {"facebook"}
    by_post = {row[0]: row for row in body}
    assert sum(int(count) for count in by_post["be-cg-istanbul"][4:8]) == 2
    assert by_post["be-emb-berlin"][-1] == "silent"
