"""An advisory for the whole network, reviewed as one.

The on-call reviewer declares a crisis for the whole network from /crisis/ and writes one
advisory in Dutch, French and English. The composer ticks only the channels active in the
last 30 days and counts, before sending, the posts and channels it will reach. The second
reviewer finds ONE item in the approval queue for the advisory of every post, reads its
texts once, takes one post out of the group, and approves the rest with one decision; the
post taken out waits in the queue as an item of its own. Every page passes the
accessibility check.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app.models import Crisis, Delivery, Publication
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

TEXTS = {
    "nl": "Blijf binnen en volg de instructies van de lokale autoriteiten.",
    "fr": "Restez à l'intérieur et suivez les consignes des autorités locales.",
    "en": "Stay indoors and follow the instructions of the local authorities.",
}
POSTS = {
    "be-emb-ankara": ("Embassy of Belgium in Ankara", "TR", "Europe/Istanbul"),
    "be-emb-berlin": ("Embassy of Belgium in Berlin", "DE", "Europe/Berlin"),
    "be-emb-tokyo": ("Embassy of Belgium in Tokyo", "JP", "Asia/Tokyo"),
    "be-emb-lima": ("Embassy of Belgium in Lima", "PE", "America/Lima"),
}


def went_out(channel, author, days_ago: int) -> None:
    publication = make_publication(post=channel.post, author=author, status="published", channels=[channel])
    Delivery.objects.create(
        publication=publication,
        channel=channel,
        status="delivered",
        delivered_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def network():
    """Four posts on Facebook, two of them on X too. Lima's Facebook page and Berlin's X
    account have been quiet for two months."""
    author = make_user(email="editor@example.org")
    posts = {
        code: make_post(code=code, name=name, country=country, timezone=zone, host_languages="")
        for code, (name, country, zone) in POSTS.items()
    }
    for code, post in posts.items():
        facebook = make_channel(post=post, platform="facebook", handle=f"@{code}", content_languages="nl,fr")
        went_out(facebook, author, 60 if code == "be-emb-lima" else 3)
    for code in ("be-emb-ankara", "be-emb-berlin"):
        x = make_channel(post=posts[code], platform="x", handle=f"@{code}.x", content_languages="nl,fr")
        went_out(x, author, 60 if code == "be-emb-berlin" else 8)
    return posts


def test_a_network_wide_advisory_is_reviewed_as_one_item_with_one_decision(visitor, new_visitor, network):
    central_user = make_user(email="central.reviewer@example.org", role=Role.CENTRAL_REVIEWER)
    second_user = make_user(email="second.reviewer@example.org", role=Role.CENTRAL_REVIEWER)

    # --- The on-call reviewer declares a crisis for the whole network --------------------------
    central = visitor
    page = central.page
    central.log_in(central_user.email)
    central.goto("/crisis/")
    declare = page.locator("section:has(#declare-heading)")
    declare.get_by_label(re.compile(r"^Title\b")).fill("Global travel disruption")
    declare.get_by_label(re.compile(r"^Reason\b")).fill("Airspace closures across several regions.")
    declare.get_by_role("group", name="Where?").get_by_label("The whole network").check()
    central.submit("section:has(#declare-heading) form")
    crisis = Crisis.objects.get()
    assert crisis.whole_network

    # --- Writes the advisory once; the composer counts before sending ----------------------------
    page.get_by_role("link", name="Write an advisory for every affected post").click()
    central.audit()
    reach = page.locator(".advisory-reach")
    expect(reach).to_contain_text(
        "3 posts, 3 Facebook pages, 1 X account (only channels active in the last 30 days are ticked)"
    )
    expect(page.locator("#channels-rule")).to_contain_text("active in the last 30 days")
    page.get_by_text("Choose the channels, post by post").click()
    expect(page.get_by_label(re.compile(r"^Facebook @be-emb-lima"))).not_to_be_checked()
    expect(page.get_by_label(re.compile(r"^Facebook @be-emb-ankara"))).to_be_checked()
    # A quiet page may still be ticked: with HTMX the counts follow at once.
    lima = page.get_by_label(re.compile(r"^Facebook @be-emb-lima"))
    lima.check()
    expect(reach).to_contain_text("4 posts, 4 Facebook pages, 1 X account")
    lima.uncheck()
    expect(reach).to_contain_text("3 posts, 3 Facebook pages, 1 X account")
    page.get_by_label(re.compile(r"^Internal title\b")).fill("Stay indoors")
    texts = page.get_by_role("group", name="Texts")
    texts.get_by_label(re.compile(r"^Dutch\b")).fill(TEXTS["nl"])
    texts.get_by_label(re.compile(r"^French\b")).fill(TEXTS["fr"])
    texts.get_by_label("English (optional)").fill(TEXTS["en"])
    with page.expect_navigation():
        page.get_by_role("button", name="Send to review for every affected post").click()
    central.audit()
    expect(page.locator(".messages")).to_contain_text("Advisory sent to review for 3 posts.")
    advisories = {p.post.code: p for p in Publication.objects.filter(crisis=crisis)}
    assert set(advisories) == {"be-emb-ankara", "be-emb-berlin", "be-emb-tokyo"}
    assert sorted(c.platform for c in advisories["be-emb-ankara"].channels.all()) == ["facebook", "x"]
    assert [c.platform for c in advisories["be-emb-berlin"].channels.all()] == ["facebook"]

    # --- The second reviewer sees ONE item, excludes a post, approves with one decision ----------
    second = new_visitor()
    second.log_in(second_user.email)
    second.goto("/approvals/")
    queue = second.page.locator("li.approval-item")
    expect(queue).to_have_count(1)
    group = queue.first
    expect(group.get_by_role("heading", level=2)).to_have_text("Advisory “Stay indoors”, 3 posts")
    expect(group.locator('p[lang="fr"]')).to_have_text(TEXTS["fr"])
    group.get_by_text("The 3 posts and their channels").click()
    group.get_by_label("Exclude Embassy of Belgium in Tokyo").check()
    with second.page.expect_navigation():
        group.get_by_role("button", name="Approve the group").click()
    second.audit()
    messages = second.page.locator(".messages")
    expect(messages).to_contain_text("2 approved.")
    expect(messages).to_contain_text("1 post was taken out of the group: Embassy of Belgium in Tokyo.")
    # Tokyo's advisory waits on its own; the group is gone from the queue.
    expect(queue).to_have_count(1)
    expect(queue.first).to_have_id(f"approval-{advisories['be-emb-tokyo'].pk}")
    statuses = dict(Publication.objects.filter(crisis=crisis).values_list("post__code", "status"))
    assert statuses == {"be-emb-ankara": "approved", "be-emb-berlin": "approved", "be-emb-tokyo": "in_review"}

    # --- The crisis page shows the group's progress -------------------------------------------
    central.goto(f"/crisis/{crisis.pk}/")
    expect(page.locator(".group-progress")).to_contain_text(
        "“Stay indoors”: 2 posts — 0 in review, 0 sent back, 2 approved"
    )
