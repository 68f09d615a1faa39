"""The crisis pages at a desk and on a phone: "is it out?" in the first screen, the posts
summarised by region with the full list one click away, the folded tables in focusable
regions; axe finds nothing serious at 1280 x 900 and 390 x 844, and nothing scrolls sideways.
"""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from calendar_app import workflow
from calendar_app.models import Delivery, Publication, PublicationKind, PublicationStatus
from tests.browser.accessibility import assert_accessible
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

VIEWPORTS = [{"width": 1280, "height": 900}, {"width": 390, "height": 844}]
CITIES = [
    ("TR", "Izmir"),
    ("TR", "Antalya"),
    ("DE", "Berlin"),
    ("DE", "Munich"),
    ("FR", "Paris"),
    ("JP", "Tokyo"),
]


@pytest.fixture
def crisis(reviewer, istanbul):
    made = workflow.declare_crisis(
        reviewer,
        title="Storm over Europe",
        reason="Severe storms; airports closed.",
        whole_network=True,
        countries=[],
        posts=[],
    )
    posts = [istanbul] + [
        make_post(name=f"Consulate of Belgium in {city}", country=country, city=city)
        for country, city in CITIES
    ]
    outcomes = ["delivered", "delivered", "unknown", None, None, "delivered", None]
    for post, outcome in zip(posts, outcomes, strict=True):
        channel = make_channel(post=post, platform="facebook", handle=f"@Belgium.{post.city}")
        advisory = make_publication(
            post=post,
            author=reviewer,
            title="Stay indoors",
            kind=PublicationKind.CRISIS_ADVISORY,
            status=PublicationStatus.PUBLISHED if outcome else PublicationStatus.IN_REVIEW,
            local_date=date(2027, 6, 10),
            variants={"nl": "Blijf binnen.", "fr": "Restez à l'intérieur."},
            channels=[channel],
        )
        Publication.objects.filter(pk=advisory.pk).update(crisis=made)
        if outcome:
            Delivery.objects.create(
                publication=advisory, channel=channel, status=outcome, url="https://social.example/1"
            )
    return made


def test_the_crisis_page_says_whether_it_is_out_in_the_first_screen(visitor, reviewer, crisis):
    page = visitor.page
    visitor.log_in(reviewer.email)
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        visitor.goto(f"/crisis/{crisis.pk}/")
        counts = page.locator(".outcome-counts")
        expect(counts).to_contain_text("3 delivered")
        expect(counts).to_contain_text("3 waiting")
        expect(counts).to_contain_text("1 needs a check first")
        bottom = counts.bounding_box()
        assert bottom is not None and bottom["y"] + bottom["height"] <= viewport["height"], "below the fold"
        expect(page.locator(".crisis-scope")).to_contain_text("7 posts in 4 countries")
        expect(page.locator(".region-summary")).to_contain_text("Europe: 6 posts in 3 countries")
        # Unfold everything: the lists and tables are checked too.
        closed = page.locator("main details:not([open]) > summary:visible")
        while closed.count():
            closed.first.click()
        expect(page.locator(".posts-by-region")).to_contain_text("Consulate of Belgium in Munich")
        table = page.get_by_role("region", name="The advisory of each post, its status and its deliveries")
        expect(table).to_be_visible()
        table.focus()
        expect(table).to_be_focused()
        assert_accessible(page)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page scrolls sideways: {width} px"


def test_the_crisis_list_passes_axe_on_a_desk_and_a_phone(visitor, reviewer, crisis):
    page = visitor.page
    visitor.log_in(reviewer.email)
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        visitor.goto("/crisis/")
        expect(page.locator(".crisis-reach")).to_contain_text("7 posts in 4 countries")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"the page scrolls sideways: {width} px"
