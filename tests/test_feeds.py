"""Personal calendar feeds (ICS): creating, renewing and revoking the address, what a
feed holds, whose rights it follows, and its query budget."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from icalendar import Calendar

from calendar_app import demo
from calendar_app.models import CalendarFeed, Publication
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_user

#: The feed's "now": it covers 8 February 2026 12:00 UTC to 10 March 2027 12:00 UTC.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DAY = date(2026, 3, 12)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture(autouse=True)
def _no_mfa_prompt(settings):
    settings.REQUIRE_MFA_FOR_REVIEWERS = False


@pytest.fixture
def ankara_editor(ankara):
    return make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)


def feed_for(user) -> CalendarFeed:
    return CalendarFeed.objects.create(user=user, token=CalendarFeed.new_token())


def feed_path(token: str) -> str:
    return reverse("calendar_feed", args=[token])


def parse(response) -> Calendar:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def events(response) -> dict[str, object]:
    """The feed's events by SUMMARY."""
    return {str(event["SUMMARY"]): event for event in parse(response).walk("VEVENT")}


def summaries(response) -> set[str]:
    return set(events(response))


# --- The address ------------------------------------------------------------------------


def test_a_user_without_a_feed_is_offered_to_create_one(client, editor):
    client.force_login(editor)
    response = client.get(reverse("calendar"))
    assert response.status_code == 200
    assert response.context["feed_url"] is None
    content = response.content.decode()
    assert "Create my feed address" in content
    assert "/feeds/" not in content


def test_creating_a_feed_shows_its_address_with_the_current_filters(client, editor):
    client.force_login(editor)
    query = "view=week&date=2026-03-10&tz=UTC&post=be-cg-istanbul&status=approved"
    response = client.post(reverse("calendar_feed_renew"), {"query": query})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('calendar')}?{query}"
    token = CalendarFeed.objects.get(user=editor).token
    assert len(token) >= 40

    page = client.get(response["Location"])
    url = page.context["feed_url"]
    assert url == f"http://testserver/feeds/{token}.ics?post=be-cg-istanbul&status=approved"
    path = urlsplit(url).path
    assert path.startswith("/feeds/")
    assert path.endswith(".ics")
    content = page.content.decode()
    assert html.escape(url) in content
    assert "Create my feed address" not in content
    assert "Make a new address" in content
    assert client.get(url).status_code == 200


def test_renewing_the_feed_changes_its_token_and_the_old_address_stops_working(client, editor):
    client.force_login(editor)
    client.post(reverse("calendar_feed_renew"))
    old = CalendarFeed.objects.get(user=editor).token
    assert client.get(feed_path(old)).status_code == 200
    client.post(reverse("calendar_feed_renew"))
    new = CalendarFeed.objects.get(user=editor).token
    assert new != old
    assert CalendarFeed.objects.filter(user=editor).count() == 1
    assert client.get(feed_path(old)).status_code == 404
    assert client.get(feed_path(new)).status_code == 200


def test_switching_the_feed_off_deletes_it_and_its_address_stops_working(client, editor):
    client.force_login(editor)
    client.post(reverse("calendar_feed_renew"))
    token = CalendarFeed.objects.get(user=editor).token
    response = client.post(reverse("calendar_feed_revoke"), {"query": "view=agenda"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('calendar')}?view=agenda"
    assert not CalendarFeed.objects.filter(user=editor).exists()
    assert client.get(feed_path(token)).status_code == 404
    assert "Create my feed address" in client.get(reverse("calendar")).content.decode()


def test_a_guessed_token_is_a_404(client, editor):
    feed_for(editor)
    assert client.get(feed_path(CalendarFeed.new_token())).status_code == 404
    assert client.get(feed_path("x")).status_code == 404


def test_renewing_and_revoking_take_a_post_from_a_logged_in_user(client, editor):
    for name in ("calendar_feed_renew", "calendar_feed_revoke"):
        response = client.post(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    client.force_login(editor)
    assert client.get(reverse("calendar_feed_renew")).status_code == 405
    assert client.get(reverse("calendar_feed_revoke")).status_code == 405
    assert not CalendarFeed.objects.exists()


@pytest.mark.parametrize("persona", ["partner_user", "outsider"], indirect=True)
def test_a_partner_or_outsider_cannot_create_a_feed(client, persona):
    client.force_login(persona)
    assert client.post(reverse("calendar_feed_renew")).status_code == 403
    assert not CalendarFeed.objects.exists()


def test_a_feed_whose_owner_lost_the_calendar_is_a_404(client, partner_user):
    # A feed row left over from before the user became a partner contributor.
    assert client.get(feed_path(feed_for(partner_user).token)).status_code == 404


def test_the_feed_of_an_inactive_user_is_a_404(client, editor, istanbul):
    make_publication(post=istanbul, author=editor, local_date=DAY)
    token = feed_for(editor).token
    assert client.get(feed_path(token)).status_code == 200
    editor.is_active = False
    editor.save(update_fields=["is_active"])
    assert client.get(feed_path(token)).status_code == 404


# --- What a feed holds ------------------------------------------------------------------


def test_the_feed_is_a_calendar_with_one_event_per_publication(client, editor, istanbul):
    publication = make_publication(
        post=istanbul,
        author=editor,
        title="Belgian evening",
        status="approved",
        local_date=DAY,
        local_time=time(9, 30),
        variants={"en": "Join us", "tr": "Bize katılın"},
        revision=3,
    )
    cancelled = make_publication(
        post=istanbul, author=editor, title="Called off", status="cancelled", local_date=DAY
    )
    response = client.get(feed_path(feed_for(editor).token))
    calendar = parse(response)
    assert str(calendar["VERSION"]) == "2.0"
    assert "content calendar" in str(calendar["PRODID"]).lower()
    assert len(calendar.walk("VEVENT")) == 2

    event = events(response)["Belgian evening (Consulate-General of Belgium in Istanbul)"]
    assert str(event["UID"]) == f"publication-{publication.pk}@content-calendar"
    assert event.decoded("DTSTAMP") == NOW
    start = event.decoded("DTSTART")
    assert start == datetime(2026, 3, 12, 6, 30, tzinfo=UTC)  # 09:30 in Istanbul
    assert start.utcoffset() == timedelta(0)
    assert b"DTSTART:20260312T063000Z" in response.content
    assert event.decoded("DTEND") - start == timedelta(minutes=15)
    description = str(event["DESCRIPTION"])
    assert "Status: Approved" in description
    assert "[en] Join us" in description
    assert "[tr] Bize katılın" in description
    assert str(event["URL"]) == f"http://testserver/publications/{publication.pk}/"
    assert int(event["SEQUENCE"]) == 3
    assert event.decoded("LAST-MODIFIED") == NOW
    assert str(event["STATUS"]) == "CONFIRMED"

    called_off = events(response)["Called off (Consulate-General of Belgium in Istanbul)"]
    assert str(called_off["UID"]) == f"publication-{cancelled.pk}@content-calendar"
    assert str(called_off["STATUS"]) == "CANCELLED"


def test_a_changed_publication_keeps_its_uid_with_a_higher_sequence(client, editor, istanbul, time_machine):
    publication = make_publication(post=istanbul, author=editor, title="Before", local_date=DAY)
    path = feed_path(feed_for(editor).token)
    (before,) = parse(client.get(path)).walk("VEVENT")

    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    publication.title = "After"
    publication.local_time = time(11, 0)
    publication.scheduled_at = publication.recompute_scheduled_at()
    publication.revision += 1
    publication.save()

    (after,) = parse(client.get(path)).walk("VEVENT")
    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) == int(before["SEQUENCE"]) + 1
    assert after.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")
    assert str(after["SUMMARY"]).startswith("After")
    assert after.decoded("DTSTART") == datetime(2026, 3, 12, 8, 0, tzinfo=UTC)


def test_a_publication_moved_by_a_zone_rule_change_tells_calendar_clients(
    client, editor, istanbul, time_machine
):
    from calendar_app import workflow

    publication = make_publication(post=istanbul, author=editor, local_date=DAY, local_time=time(9, 0))
    # As if stored under older rules for Istanbul (UTC+2): one hour off today's instant.
    Publication.objects.filter(pk=publication.pk).update(
        scheduled_at=publication.scheduled_at + timedelta(hours=1)
    )
    path = feed_path(feed_for(editor).token)
    (before,) = parse(client.get(path)).walk("VEVENT")

    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    assert workflow.recompute_instants_for_zone("Europe/Istanbul") == 1

    (after,) = parse(client.get(path)).walk("VEVENT")
    assert after.decoded("DTSTART") == before.decoded("DTSTART") - timedelta(hours=1)
    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("LAST-MODIFIED") > before.decoded("LAST-MODIFIED")


def test_the_feed_covers_the_past_thirty_days_and_the_coming_year(client, editor, istanbul):
    # Istanbul is UTC+3: 15:00 there is 12:00 UTC, the edge of the window.
    for title, day, hour in (
        ("too old", date(2026, 2, 8), 14),
        ("oldest", date(2026, 2, 8), 15),
        ("farthest", date(2027, 3, 10), 14),
        ("too far", date(2027, 3, 10), 15),
    ):
        make_publication(post=istanbul, author=editor, title=title, local_date=day, local_time=time(hour, 0))
    found = summaries(client.get(feed_path(feed_for(editor).token)))
    assert {summary.split(" (")[0] for summary in found} == {"oldest", "farthest"}


@pytest.fixture
def two_posts(istanbul, ankara, editor, ankara_editor):
    for status in ("draft", "in_review", "changes_requested", "approved", "published", "cancelled"):
        make_publication(
            post=istanbul, author=editor, title=f"istanbul-{status}", status=status, local_date=DAY
        )
        make_publication(
            post=ankara, author=ankara_editor, title=f"ankara-{status}", status=status, local_date=DAY
        )


def titles_in(response) -> set[str]:
    return {summary.split(" (")[0] for summary in summaries(response)}


def test_an_editors_feed_holds_only_what_the_editor_may_see(client, editor, two_posts):
    found = titles_in(client.get(feed_path(feed_for(editor).token)))
    assert found == set(Publication.objects.visible_to(editor).values_list("title", flat=True))
    assert {"istanbul-draft", "istanbul-in_review", "ankara-approved", "ankara-published"} <= found
    assert not {"ankara-draft", "ankara-in_review", "ankara-changes_requested", "ankara-cancelled"} & found


def test_a_central_reviewers_feed_holds_every_post(client, reviewer, two_posts):
    assert len(titles_in(client.get(feed_path(feed_for(reviewer).token)))) == 12


def test_the_feed_applies_the_filters_in_its_address(client, editor, two_posts):
    path = feed_path(feed_for(editor).token)
    assert titles_in(client.get(path, {"status": "approved"})) == {"istanbul-approved", "ankara-approved"}
    assert titles_in(client.get(path, {"post": "be-emb-ankara"})) == {"ankara-approved", "ankara-published"}
    assert titles_in(client.get(path, {"post": "be-emb-ankara", "status": "draft"})) == set()
    refused = client.get(path, {"status": "flying"})
    assert refused.status_code == 400
    assert refused.content.decode() == "Unknown filter in the feed address."


# --- Query budget -----------------------------------------------------------------------


def feed_queries(client, path: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    count = len(parse(response).walk("VEVENT"))
    return count, [query["sql"] for query in ctx.captured_queries]


@pytest.mark.parametrize("filtered", [False, True])
def test_the_feed_runs_the_same_queries_with_few_and_with_many_publications(
    client, editor, istanbul, ankara, ankara_editor, filtered
):
    for post in (istanbul, ankara):
        make_channel(post=post, platform="facebook")
    make_publication(post=istanbul, author=editor, title="anchor", local_date=DAY)
    demo.create_publications(30, today=NOW.date(), seed=1)
    path = feed_path(feed_for(editor).token) + ("?post=be-cg-istanbul&language=en" if filtered else "")
    few, small = feed_queries(client, path)
    demo.create_publications(570, today=NOW.date(), seed=2)
    many, big = feed_queries(client, path)
    assert many > few * 5
    listing = (
        "\n".join(f"  {sql}" for sql in small) + "\n--- with many:\n" + "\n".join(f"  {sql}" for sql in big)
    )
    assert len(big) == len(small), (
        f"{len(small)} queries with {few} events, {len(big)} with {many}:\n{listing}"
    )


# --- Serialising and caching ------------------------------------------------------------


def icalendar_document(rows: list[tuple], texts: dict, *, stamp: datetime, base_url: str) -> bytes:
    """The same events built with the icalendar library: the reference the fast writer matches."""
    from icalendar import Event

    cal = Calendar()
    cal.add("prodid", "-//Diplomatic network content calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Content calendar")
    labels = dict(Publication._meta.get_field("status").choices)
    for pk, title, status, scheduled_at, _end, updated_at, created_at, revision, post_name in rows:
        event = Event()
        event.add("uid", f"publication-{pk}@content-calendar")
        event.add("dtstamp", stamp)
        event.add("dtstart", scheduled_at)
        event.add("dtend", scheduled_at + timedelta(minutes=15))
        event.add("summary", f"{title} ({post_name})")
        description = "\n\n".join(f"[{language}] {text}" for language, text in texts.get(pk, []))
        status_line = f"Status: {labels[status]}"
        event.add("description", f"{status_line}\n\n{description}" if description else status_line)
        event.add("url", base_url.rstrip("/") + reverse("publication_detail", args=[pk]))
        event.add("sequence", revision)
        event.add("last-modified", updated_at)
        event.add("created", created_at)
        event.add("status", "CANCELLED" if status == "cancelled" else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()


def test_the_feed_writer_matches_the_icalendar_library_byte_for_byte():
    import random

    from calendar_app import feeds

    rng = random.Random(5545)
    # Escapes, line ends, multi-byte characters and lengths that land on every fold boundary.
    alphabet = list("abcdefghij klmnop") + [
        "\\",
        ";",
        ",",
        "\n",
        "\r\n",
        "\r",
        "\\N",
        "^",
        "é",
        "ı",
        "日",
        "😀",
        ":",
    ]
    statuses = [value for value, _label in Publication._meta.get_field("status").choices]
    rows, texts = [], {}
    for pk in range(1, 400):
        title = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        start, modified, created = (
            datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=rng.randint(0, 10**7), microseconds=pk)
            for _ in range(3)
        )
        status = rng.choice(statuses)
        rows.append((pk, title, status, start, start, modified, created, rng.randint(1, 30), "Post, «Ñ»"))
        if pk % 3:
            texts[pk] = [
                (language, "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400))))
                for language in sorted(rng.sample(["en", "fr", "nl", "tr"], k=rng.randint(1, 3)))
            ]
    stamp = datetime(2026, 3, 10, 12, 0, 0, 123456, tzinfo=UTC)
    base_url = "https://calendar.example.org/"

    ours = feeds.serialise(rows, texts, stamp=stamp, base_url=base_url)

    assert ours == icalendar_document(rows, texts, stamp=stamp, base_url=base_url)


def test_the_times_the_database_formats_are_those_icalendar_writes(editor, istanbul, ankara_editor, ankara):
    from calendar_app import feeds

    for n, post in enumerate((istanbul, ankara, istanbul)):
        make_publication(
            post=post,
            author=editor,
            title=f"n{n}; a, b",
            status="approved",
            local_date=DAY + timedelta(days=n),
            local_time=time(23, 59 - n),
            variants={"en": "Hello\nthere", "fr": "Salut"},
            revision=n + 1,
        )
    Publication.objects.filter(title="n1; a, b").update(
        updated_at=datetime(2026, 3, 9, 23, 59, 59, 999999, tzinfo=UTC)
    )
    queryset = Publication.objects.visible_to(editor)
    publications = feeds.feed_publications(queryset)
    rows = list(
        publications.values_list(
            "pk",
            "title",
            "status",
            "scheduled_at",
            "scheduled_at",
            "updated_at",
            "created_at",
            "revision",
            "post__name",
        )
    )
    assert len(rows) == 3

    built = feeds.build_feed(queryset, base_url="http://testserver/")

    assert built == icalendar_document(
        rows, feeds.feed_texts(publications), stamp=NOW, base_url="http://testserver/"
    )


@pytest.mark.django_db(transaction=True)  # a real commit: inside a test's transaction nothing is stored
def test_an_unchanged_feed_is_served_from_the_cache_with_fewer_queries(client, editor, istanbul):
    from diplomacy import freshness

    make_publication(post=istanbul, author=editor, title="First", local_date=DAY)
    path = feed_path(feed_for(editor).token)
    freshness.move_on_everywhere()  # the versions of what was just written, before counting
    with CaptureQueriesContext(connection) as first:
        body = client.get(path).content
    with CaptureQueriesContext(connection) as second:
        again = client.get(path)
    assert again.content == body
    # The versions only: neither the token's owner, nor the publications, nor their texts.
    assert len(first) > 1
    assert len(second) == 1
    assert '"diplomacy_tableversion"' in second.captured_queries[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_an_edit_shows_in_the_next_poll_of_a_cached_feed(client, editor, istanbul, time_machine):
    from calendar_app import workflow

    publication = make_publication(post=istanbul, author=editor, title="Before", local_date=DAY)
    other = make_publication(post=istanbul, author=editor, title="Other", local_date=DAY)
    path = feed_path(feed_for(editor).token)
    assert titles_in(client.get(path)) == {"Before", "Other"}

    # A bulk update that touches neither updated_at nor the revision.
    Publication.objects.filter(pk=publication.pk).update(title="Renamed")
    assert titles_in(client.get(path)) == {"Renamed", "Other"}
    # A status change through the workflow.
    time_machine.move_to(NOW + timedelta(minutes=1), tick=False)
    workflow.cancel(editor, other)
    assert str(events(client.get(path))["Other (Consulate-General of Belgium in Istanbul)"]["STATUS"]) == (
        "CANCELLED"
    )
    # A deletion.
    Publication.objects.filter(pk=other.pk).delete()
    assert titles_in(client.get(path)) == {"Renamed"}


@pytest.mark.django_db(transaction=True)
def test_a_calendar_client_that_has_the_current_feed_gets_a_304(client, editor, istanbul):
    make_publication(post=istanbul, author=editor, title="First", local_date=DAY)
    path = feed_path(feed_for(editor).token)
    response = client.get(path)
    etag = response["ETag"]
    assert etag.startswith('"')
    unchanged = client.get(path, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    make_publication(post=istanbul, author=editor, title="Second", local_date=DAY)
    changed = client.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert titles_in(changed) == {"First", "Second"}


@pytest.mark.django_db(transaction=True)
def test_a_cached_feed_follows_a_change_of_its_owners_rights_at_once(
    client, editor, ankara_editor, istanbul, ankara
):
    from diplomacy import roles
    from diplomacy.models import Membership

    # Two drafts alike in count, time and revision: moving the editor from Istanbul to Ankara
    # changes only the rights.
    make_publication(post=istanbul, author=editor, title="Istanbul draft", status="draft", local_date=DAY)
    make_publication(post=ankara, author=ankara_editor, title="Ankara draft", status="draft", local_date=DAY)
    path = feed_path(feed_for(editor).token)
    assert titles_in(client.get(path)) == {"Istanbul draft"}

    Membership.objects.filter(user=editor).update(post=ankara)
    roles.forget_memberships(editor)

    assert titles_in(client.get(path)) == {"Ankara draft"}


@pytest.mark.django_db(transaction=True)
def test_a_cached_feed_stops_at_once_when_its_owner_is_deactivated_or_the_token_renewed(
    client, editor, istanbul
):
    make_publication(post=istanbul, author=editor, title="First", local_date=DAY)
    feed = feed_for(editor)
    path = feed_path(feed.token)
    assert client.get(path).status_code == 200
    assert client.get(path).status_code == 200  # from the cache
    type(editor).objects.filter(pk=editor.pk).update(is_active=False)
    assert client.get(path).status_code == 404
    type(editor).objects.filter(pk=editor.pk).update(is_active=True)
    assert client.get(path).status_code == 200
    type(feed).objects.filter(pk=feed.pk).update(token="renewed")
    assert client.get(path).status_code == 404


# --- What a process keeps in memory ------------------------------------------------------


def test_recent_feeds_keep_the_last_served_within_their_budget():
    from calendar_app.feeds import RecentFeeds

    recent = RecentFeeds(budget=10)
    later = NOW.timestamp() + 300
    recent.put("a", b"aaaa", later)
    recent.put("b", b"bbbb", later)
    assert recent.get("a") == b"aaaa"  # now the most recently served
    recent.put("c", b"cccc", later)  # 12 bytes: the least recently served goes
    assert recent.get("b") is None
    assert recent.get("a") == b"aaaa" and recent.get("c") == b"cccc"
    recent.put("huge", b"x" * 11, later)  # larger than the whole budget: not kept, nothing dropped
    assert recent.get("huge") is None and len(recent) == 2


def test_a_recent_feed_expires_with_the_caches_copy(time_machine):
    from calendar_app.feeds import RecentFeeds

    recent = RecentFeeds(budget=100)
    recent.put("a", b"feed", NOW.timestamp() + 300)
    time_machine.move_to(NOW + timedelta(seconds=299), tick=False)
    assert recent.get("a") == b"feed"
    time_machine.move_to(NOW + timedelta(seconds=300), tick=False)
    assert recent.get("a") is None and len(recent) == 0


@pytest.mark.django_db(transaction=True)
def test_a_poll_of_an_unchanged_feed_hands_out_the_processs_own_copy(client, editor, istanbul, monkeypatch):
    from django.core.cache import cache

    make_publication(post=istanbul, author=editor, title="First", local_date=DAY)
    path = feed_path(feed_for(editor).token)
    first = client.get(path).content
    gets = []
    real_get = cache.get
    monkeypatch.setattr(
        cache, "get", lambda *args, **kwargs: gets.append(args[0]) or real_get(*args, **kwargs)
    )
    assert client.get(path).content == first
    assert not [key for key in gets if "ics-feed" in key]  # not unpickled from the cache again
    make_publication(post=istanbul, author=editor, title="Second", local_date=DAY)
    assert titles_in(client.get(path)) == {"First", "Second"}  # a new key: built again


@pytest.mark.django_db(transaction=True)
def test_another_process_serves_the_feed_from_the_shared_cache(client, editor, istanbul):
    from calendar_app.feeds import recent_feeds

    make_publication(post=istanbul, author=editor, title="First", local_date=DAY)
    path = feed_path(feed_for(editor).token)
    first = client.get(path)
    recent_feeds.clear()  # as a second gunicorn worker, whose memory holds nothing yet
    again = client.get(path)
    assert again.content == first.content and again["ETag"] == first["ETag"]
