"""A crisis in Türkiye, from its declaration to the list of what missed its time.

A central reviewer declares a crisis for Türkiye (country TR) from /crisis/: the approved
publications of the Istanbul consulate are held, and its editor sees them marked so on
the calendar, under the crisis banner. Central writes one advisory in Dutch, French and
English for Facebook and X; it is broadcast to both posts in Türkiye and a second
reviewer approves the two advisories, one item in the approval queue, with one decision. The publishing
engine sends them through the webhook connector to a fake platform on loopback: one
POST per channel, nothing twice, and nothing of what the crisis holds. Central ends the
crisis: the publication still to come is released, the one whose time passed during the
crisis is listed on /crisis/ for rescheduling and is not sent late. Every page passes
the accessibility check.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from calendar_app import workflow
from calendar_app.models import Crisis, Publication, instant_for
from calendar_app.publishing import engine
from diplomacy.models import Role
from tests.browser.picking import pick
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user
from tests.fake_receiver import FakeReceiver

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("one_request_at_a_time"),
]

ISTANBUL = zoneinfo.ZoneInfo("Europe/Istanbul")
CRISIS = "Coup attempt in Türkiye"
REASON = "Military units on the Bosphorus bridges; Istanbul airports closed."
ADVISORY = "Stay indoors"
TEXTS = {
    "nl": "Blijf binnen en volg de instructies van de lokale autoriteiten. Noodnummer: +90 212 000 00 00.",
    "fr": "Restez à l'intérieur et suivez les consignes des autorités locales. Urgence : +90 212 000 00 00.",
    "en": "Stay indoors and follow the instructions of the local authorities. Emergency: +90 212 000 00 00.",
}
REGULAR_TEXTS = {
    "nl": "Open dag in het consulaat.",
    "fr": "Journée portes ouvertes au consulat.",
    "en": "Open day at the consulate.",
    "tr": "Konsoloslukta açık gün.",
}
ISTANBUL_NAME = "Consulate-General of Belgium in Istanbul"
ANKARA_NAME = "Embassy of Belgium in Ankara"


@pytest.fixture
def fake_platform():
    receiver = FakeReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def network(fake_platform):
    """Istanbul and Ankara, each on Facebook (one post, Dutch then French) and X (a thread:
    Dutch, then French answering it) through the webhook connector."""
    istanbul = make_post(
        code="be-cg-istanbul",
        name=ISTANBUL_NAME,
        kind="consulate_general",
        city="Istanbul",
        publishing_languages="nl,fr,en,tr",
    )
    ankara = make_post(code="be-emb-ankara", name=ANKARA_NAME, city="Ankara")
    channels = {}
    for post, prefix in ((istanbul, "Istanbul"), (ankara, "Ankara")):
        for platform in ("facebook", "x"):
            channel = make_channel(
                post=post, platform=platform, handle=f"@Belgium{prefix}", content_languages="nl,fr"
            )
            channel.connector, channel.endpoint = "webhook", fake_platform.url
            channel.language_plan = "thread" if platform == "x" else "combined"
            channel.save()
            channels[(post.code, platform)] = channel
    return {"istanbul": istanbul, "ankara": ankara, "channels": channels}


@pytest.fixture
def people(network):
    return {
        "central": make_user(email="central.reviewer@example.org", role=Role.CENTRAL_REVIEWER),
        "second": make_user(email="second.reviewer@example.org", role=Role.CENTRAL_REVIEWER),
        "editor": make_user(
            email="editor.istanbul@example.org", role=Role.POST_EDITOR, post=network["istanbul"]
        ),
    }


def approved_at(post, author, title: str, local: datetime, channels) -> Publication:
    return make_publication(
        post=post,
        author=author,
        title=title,
        status="approved",
        local_date=local.date(),
        local_time=local.time().replace(second=0, microsecond=0),
        channels=channels,
        variants=REGULAR_TEXTS,
    )


def move_into_the_past(publication: Publication, minutes: int = 5) -> None:
    """Its time passes while the crisis holds it."""
    local = (
        (timezone.now() - timedelta(minutes=minutes)).astimezone(ISTANBUL).replace(second=0, microsecond=0)
    )
    Publication.objects.filter(pk=publication.pk).update(
        local_date=local.date(),
        local_time=local.time(),
        scheduled_at=instant_for(local.date(), local.time(), publication.timezone),
    )


def run_the_engine_after(moment: datetime) -> dict[str, int]:
    """The publish-due job, run as it would be once `moment` has passed."""
    with time_machine.travel(moment + timedelta(seconds=5), tick=True):
        return engine.publish_due()


def test_a_crisis_holds_publications_fast_tracks_advisories_and_lists_what_was_missed(
    visitor, new_visitor, network, people, fake_platform
):
    istanbul, ankara, channels = network["istanbul"], network["ankara"], network["channels"]
    now_in_istanbul = timezone.now().astimezone(ISTANBUL)
    facebook = channels[("be-cg-istanbul", "facebook")]
    # The consulate's approved publications: one in three days, one in ten minutes.
    open_day = approved_at(
        istanbul,
        people["editor"],
        "Open day at the consulate",
        (now_in_istanbul + timedelta(days=3)).replace(hour=11, minute=0),
        [facebook],
    )
    tulips = approved_at(
        istanbul,
        people["editor"],
        "Tulip festival in Emirgan",
        now_in_istanbul + timedelta(minutes=10),
        [facebook],
    )
    # A regular publication of Ankara waits in the approval queue.
    regular = make_publication(
        post=ankara,
        author=people["editor"],
        title="Concert at the embassy",
        local_date=(now_in_istanbul + timedelta(days=4)).date(),
        channels=[channels[("be-emb-ankara", "facebook")]],
        variants=REGULAR_TEXTS,
    )
    workflow.submit(people["central"], regular)

    # --- Central declares the crisis for Türkiye ---------------------------------------------------
    central = visitor
    page = central.page
    central.log_in(people["central"].email)
    central.goto("/crisis/")
    expect(page.locator("section:has(#active-heading)")).to_contain_text("No crisis is active.")
    declare = page.locator("section:has(#declare-heading)")
    declare.get_by_label(re.compile(r"^Title\b")).fill(CRISIS)
    declare.get_by_label(re.compile(r"^Reason\b")).fill(REASON)
    where = declare.get_by_role("group", name="Where?")
    where.get_by_label("Some countries").check()
    pick(declare, "Countries", "Türk")
    central.submit("section:has(#declare-heading) form")
    crisis = Crisis.objects.get()
    assert central.path == f"/crisis/{crisis.pk}/"
    assert crisis.country_list == ["TR"] and crisis.declared_by == people["central"]
    expect(page.locator(".messages")).to_contain_text("Crisis declared. 2 scheduled publications are held.")
    expect(page.locator(".crisis-banner")).to_contain_text(CRISIS)
    held = page.locator("section:has(#held-heading)")
    expect(held.get_by_role("heading")).to_have_text("Held publications (2)")
    expect(held.locator("tbody tr")).to_have_count(2)
    # Summarised by region and country; the names are folded, grouped by country.
    expect(page.locator("dl.crisis-scope")).to_contain_text("2 posts in 1 country")
    expect(page.locator("dl.crisis-scope")).to_contain_text(f"Türkiye (2): {ISTANBUL_NAME}; {ANKARA_NAME}")
    assert set(crisis.held_publications.values_list("pk", flat=True)) == {open_day.pk, tulips.pk}

    # --- The Istanbul editor sees them held on the calendar, under the banner -----------------------
    editor = new_visitor()
    editor.log_in(people["editor"].email)
    expect(editor.page.locator(".crisis-banner")).to_contain_text(CRISIS)
    editor.goto(f"/calendar/?view=agenda&date={now_in_istanbul.date().isoformat()}")
    for title in ("Open day at the consulate", "Tulip festival in Emirgan"):
        row = editor.page.locator(
            "li.agenda-item", has=editor.page.get_by_role("link", name=title, exact=True)
        )
        expect(row.locator(".pub-held")).to_have_text("⏸ Held: crisis")
    editor.goto(f"/calendar/?view=month&date={open_day.local_date.isoformat()}")
    item = editor.page.locator("li", has=editor.page.get_by_role("link", name=re.compile("Open day")))
    expect(item.locator(".pub-held").first).to_contain_text("Held: crisis")

    # --- Central writes one advisory for every affected post ---------------------------------------
    page.get_by_role("link", name="Write an advisory for every affected post").click()
    central.audit()
    assert central.path == f"/crisis/{crisis.pk}/advisory/"
    page.get_by_label(re.compile(r"^Internal title\b")).fill(ADVISORY)
    texts = page.get_by_role("group", name="Texts")
    texts.get_by_label(re.compile(r"^Dutch\b")).fill(TEXTS["nl"])
    texts.get_by_label(re.compile(r"^French\b")).fill(TEXTS["fr"])
    texts.get_by_label("English (optional)").fill(TEXTS["en"])
    platforms = page.get_by_role("group", name=re.compile(r"^Platforms"))
    for name in ("Facebook", "X"):
        platforms.get_by_label(name, exact=True).check()
    # Nothing went out on these channels in the last 30 days: none is ticked by default, and
    # central ticks them all.
    expect(page.locator(".advisory-reach")).to_contain_text("0 posts")
    page.get_by_text("Choose the channels, post by post").click()
    boxes = page.locator('input[name="channels"]')
    expect(boxes).to_have_count(4)
    for n in range(4):
        boxes.nth(n).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send to review for every affected post").click()
    central.audit()
    assert central.path == f"/crisis/{crisis.pk}/"
    expect(page.locator(".messages")).to_contain_text("Advisory sent to review for 2 posts.")
    advisories = list(Publication.objects.filter(crisis=crisis).order_by("post__name"))
    assert [a.post for a in advisories] == [istanbul, ankara]
    assert all(a.status == "in_review" and a.kind == "crisis_advisory" for a in advisories)
    for advisory in advisories:
        assert {v.language: v.text for v in advisory.variants.all()} == TEXTS
        assert sorted(c.platform for c in advisory.channels.all()) == ["facebook", "x"]
    rows = page.locator("section:has(#advisories-heading) tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("In review")

    # --- The second reviewer approves them, as one group, from the top of the queue ---------------
    second = new_visitor()
    second.log_in(people["second"].email)
    second.goto("/approvals/")
    queue = second.page.locator("li.approval-item")
    # The two advisories are one item, first; the regular publication follows.
    expect(queue).to_have_count(2)
    group = queue.nth(0)
    expect(group.get_by_role("heading", level=2)).to_have_text(f"Advisory “{ADVISORY}”, 2 posts")
    expect(group).to_contain_text("crisis advisory")
    expect(group.locator('p[lang="fr"]')).to_have_text(TEXTS["fr"])
    expect(queue.nth(1)).to_have_id(f"approval-{regular.pk}")
    with second.page.expect_navigation():
        group.get_by_role("button", name="Approve the group").click()
    second.audit()
    expect(second.page.locator(".messages")).to_contain_text("2 approved.")
    for advisory in advisories:
        advisory.refresh_from_db()
        assert advisory.status == "approved" and advisory.held_by is None

    # --- The engine sends them: one POST per part, and nothing the crisis holds ---------------------
    move_into_the_past(tulips)  # the festival's time passes during the crisis
    outcome = run_the_engine_after(max(a.scheduled_at for a in advisories))
    assert outcome.get("delivered") == 4, outcome
    assert fake_platform.wait_for(6, timeout=5)
    received = list(fake_platform.received)
    assert len(received) == 6
    assert fake_platform.duplicates() == {}
    sent = sorted(
        (r.body["post"], r.body["channel"]["platform"], r.body["part"]["number"], r.body["part"]["text"])
        for r in received
    )
    both = TEXTS["nl"] + "\n\n" + TEXTS["fr"]
    assert sent == [
        ("be-cg-istanbul", "facebook", 1, both),
        ("be-cg-istanbul", "x", 1, TEXTS["nl"]),
        ("be-cg-istanbul", "x", 2, TEXTS["fr"]),
        ("be-emb-ankara", "facebook", 1, both),
        ("be-emb-ankara", "x", 1, TEXTS["nl"]),
        ("be-emb-ankara", "x", 2, TEXTS["fr"]),
    ]
    assert fake_platform.problems == []  # each French post answers its Dutch one
    assert {r.body["publication"] for r in received} == {a.pk for a in advisories}
    for advisory in advisories:
        advisory.refresh_from_db()
        assert advisory.status == "published"
    central.goto(f"/crisis/{crisis.pk}/")
    # Is it out? said first; each post's row is one click away.
    expect(page.locator(".outcome-counts")).to_contain_text("2 delivered")
    page.get_by_text("Each post's advisory (2)").click()
    rows = page.locator("section:has(#advisories-heading) tbody tr")
    for n in range(2):
        expect(rows.nth(n)).to_contain_text("Published")
        expect(rows.nth(n).get_by_role("link", name="live post")).to_have_count(2)
    expect(page.locator("ol.timeline")).to_contain_text("approved an advisory")

    # --- Central ends the crisis ---------------------------------------------------------------------
    central.submit(f'form[action="/crisis/{crisis.pk}/end/"]')
    expect(page.locator(".messages")).to_contain_text("Crisis ended.")
    expect(page.locator(".messages")).to_contain_text("Missed their time, to reschedule: 1.")
    expect(page.locator("h1")).to_contain_text("(ended)")
    expect(page.locator(".crisis-banner")).to_have_count(0)
    missed = page.locator("section:has(#missed-heading)")
    expect(missed.get_by_role("link", name="Tulip festival in Emirgan")).to_be_visible()
    open_day.refresh_from_db()
    tulips.refresh_from_db()
    assert (open_day.held_by, open_day.missed_in) == (None, None)
    assert (tulips.held_by, tulips.missed_in) == (None, crisis)

    # --- /crisis/ lists what missed its time; nothing goes out late ----------------------------------
    central.goto("/crisis/")
    expect(page.locator("section:has(#active-heading)")).to_contain_text("No crisis is active.")
    rows = page.locator("section:has(#missed-heading) tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("rowheader")).to_have_text("Tulip festival in Emirgan")
    expect(rows).to_contain_text(ISTANBUL_NAME)
    expect(rows.get_by_role("link", name=CRISIS)).to_have_attribute("href", f"/crisis/{crisis.pk}/")
    expect(page.locator("section:has(#past-heading)").get_by_role("link", name=CRISIS)).to_be_visible()
    outcome = run_the_engine_after(timezone.now())
    assert "delivered" not in outcome, outcome
    assert len(fake_platform.received) == 6
    tulips.refresh_from_db()
    assert tulips.status == "missed" and not tulips.deliveries.exists()

    # --- The editor's calendar: the banner is gone, the festival waits to be rescheduled -------------
    editor.goto(f"/calendar/?view=agenda&date={tulips.local_date.isoformat()}")
    expect(editor.page.locator(".crisis-banner")).to_have_count(0)
    row = editor.page.locator(
        "li.agenda-item", has=editor.page.get_by_role("link", name="Tulip festival in Emirgan", exact=True)
    )
    expect(row.locator(".pub-missed")).to_have_text("⚠ Missed: reschedule")
    row = editor.page.locator(
        "li.agenda-item", has=editor.page.get_by_role("link", name="Open day at the consulate", exact=True)
    )
    expect(row.locator(".pub-held, .pub-missed")).to_have_count(0)


def test_the_crisis_forms_are_accessible_with_and_without_errors(visitor, new_visitor, network, people):
    """The pages the journey does not pass: break-glass, templates, and forms showing errors."""
    manager = make_user(
        email="manager.istanbul@example.org", role=Role.POST_MANAGER, post=network["istanbul"]
    )
    crisis = workflow.declare_crisis(people["central"], title=CRISIS, reason=REASON, countries=["TR"])

    # --- Central: a refused declaration, a refused advisory, the templates -----------------------------
    page = visitor.page
    visitor.log_in(people["central"].email)
    visitor.goto("/crisis/")
    declare = page.locator("section:has(#declare-heading)")
    declare.get_by_role("group", name="Where?").get_by_label("Some countries").check()
    visitor.submit("section:has(#declare-heading) form")
    expect(page.locator("#id_target_countries_error")).to_contain_text("Name at least one country.")
    expect(page.locator("#id_title_error")).to_be_visible()
    assert Crisis.objects.count() == 1

    visitor.goto(f"/crisis/{crisis.pk}/advisory/")
    page.get_by_role("group", name="Texts").get_by_label(re.compile(r"^Dutch\b")).fill(TEXTS["nl"])
    for checkbox in page.get_by_role("group", name=re.compile(r"^Platforms")).get_by_role("checkbox").all():
        checkbox.uncheck()
    visitor.submit('form:has(button:text-is("Send to review for every affected post"))')
    expect(page.locator("#id_text_fr_error")).to_have_text("This field is required.")
    expect(page.locator("#id_platforms_error")).to_have_text("This field is required.")
    assert not Publication.objects.filter(crisis=crisis).exists()

    visitor.goto("/crisis/templates/")
    page.get_by_label(re.compile(r"^Name\b")).fill(ADVISORY)
    page.get_by_label(re.compile(r"^Dutch\b")).fill(TEXTS["nl"])
    page.get_by_label(re.compile(r"^French\b")).fill(TEXTS["fr"])
    visitor.submit('form:has(button:text-is("Save the template"))')
    expect(page.locator(".messages")).to_contain_text(f"Template “{ADVISORY}” saved.")
    page.get_by_role("link", name=ADVISORY).click()
    visitor.audit()
    expect(page.get_by_role("heading", name=f"Edit “{ADVISORY}”")).to_be_visible()

    # --- The Istanbul manager: break-glass from a template, refused without its confirmation -----------
    post_manager = new_visitor()
    post_manager.log_in(manager.email)
    post_manager.goto(f"/crisis/{crisis.pk}/")
    post_manager.page.get_by_role("link", name="Publish an advisory at once (break-glass)").click()
    post_manager.audit()
    post_manager.page.get_by_label("Start from a template").select_option(label=ADVISORY)
    post_manager.submit('form:has(button:text-is("Fill in the texts"))')
    expect(post_manager.page.get_by_label(re.compile(r"^French\b"))).to_have_value(TEXTS["fr"])
    post_manager.page.get_by_label(re.compile(r"^Why it cannot wait")).fill("Central cannot be reached.")
    post_manager.submit('form:has(button:text-is("Publish now without review"))')
    expect(post_manager.page.locator("#id_confirm_error")).to_have_text("This field is required.")
    assert not Publication.objects.filter(crisis=crisis).exists()
    post_manager.page.get_by_label(re.compile(r"^I publish this at once")).check()
    post_manager.submit('form:has(button:text-is("Publish now without review"))')
    expect(post_manager.page.locator(".messages")).to_contain_text("Published without review.")
    glass = Publication.objects.get(crisis=crisis)
    assert post_manager.path == f"/publications/{glass.pk}/"
    assert glass.status == "approved" and glass.post == network["istanbul"]

    # --- Central sees it to review after the fact --------------------------------------------------------
    visitor.goto("/crisis/")
    after = page.locator("section:has(#after-heading)")
    expect(after.get_by_role("button", name=re.compile(r"^Mark as reviewed"))).to_have_count(1)
    visitor.submit("section:has(#after-heading) form")
    expect(page.locator(".messages")).to_contain_text("Reviewed after the fact")
    expect(page.locator("section:has(#after-heading)")).to_have_count(0)
