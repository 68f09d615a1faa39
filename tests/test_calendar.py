"""The shared calendar: month, week and agenda views, who sees what, zones, filters,
query budgets, the CSV export and the links that move in time."""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calendar_app import demo, permissions
from calendar_app.calendar import CELL_LIMIT
from calendar_app.models import FilteredPage, Publication, PublicationStatus, SavedFilter
from diplomacy.models import Role
from tests.calendar_factories import make_campaign, make_proposal, make_publication
from tests.factories import make_channel, make_post, make_user

#: A Tuesday in March 2026: the month grid runs from Monday 23 February to Sunday 5 April.
DAY = date(2026, 3, 10)
MONTH_FIRST = date(2026, 2, 23)
MONTH_LAST = date(2026, 4, 5)
ALL_STATUSES = list(PublicationStatus.values)


@pytest.fixture(autouse=True)
def _no_mfa_prompt(settings):
    # CI may run with DEBUG off, which turns the MFA set-up redirect on for reviewers.
    settings.REQUIRE_MFA_FOR_REVIEWERS = False


@pytest.fixture
def ankara_editor(ankara):
    return make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)


def page(client, **params):
    return client.get(reverse("calendar"), params)


def text(response) -> str:
    return html.unescape(response.content.decode())


def titles(response) -> list[str]:
    return [item.title for item in response.context["items"]]


def cell(response, day: date):
    return next(c for week in response.context["grid"] for c in week if c.day == day)


def link(response, pattern: str) -> str:
    """The (unescaped) href of the first link whose markup matches `pattern` around `HREF`."""
    regex = re.escape(pattern).replace("HREF", '([^"]+)')
    match = re.search(regex, response.content.decode())
    assert match, f"no link like {pattern!r} on the page"
    return html.unescape(match.group(1))


def query_of(href: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(href).query).items()}


# --- Who may open the calendar ------------------------------------------------------------


@pytest.mark.parametrize("view", ["month", "week", "agenda"])
@pytest.mark.parametrize("persona", ["editor", "manager", "reviewer"], indirect=True)
def test_post_staff_and_central_open_every_view(client, persona, view):
    client.force_login(persona)
    response = page(client, view=view, date=DAY.isoformat())
    assert response.status_code == 200
    assert response.context["params"].view == view


@pytest.mark.parametrize("view", ["month", "week", "agenda"])
@pytest.mark.parametrize("persona", ["partner_user", "outsider"], indirect=True)
def test_partners_and_outsiders_are_refused_the_calendar(client, persona, view):
    client.force_login(persona)
    assert page(client, view=view).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client, db):
    response = page(client, view="week")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=/calendar/" in response["Location"]


# --- Who sees what ------------------------------------------------------------------------


@pytest.fixture
def every_status(istanbul, ankara, editor, ankara_editor) -> dict[str, Publication]:
    """One publication per status per post, each status on its own day of March 2026."""
    publications = {}
    for n, status in enumerate(ALL_STATUSES):
        for post, author, name in ((istanbul, editor, "istanbul"), (ankara, ankara_editor, "ankara")):
            publications[f"{name}-{status}"] = make_publication(
                post=post,
                author=author,
                status=status,
                title=f"{name}-{status}",
                local_date=DAY + timedelta(n),
            )
    return publications


def test_an_editor_sees_all_of_their_post_and_only_approved_or_published_of_others(
    client, editor, every_status
):
    expected = {f"istanbul-{status}" for status in ALL_STATUSES} | {"ankara-approved", "ankara-published"}
    client.force_login(editor)
    for view in ("month", "agenda"):
        response = page(client, view=view, date=DAY.isoformat(), scope="network")
        assert set(titles(response)) == expected, view
    visible = set(Publication.objects.visible_to(editor).values_list("title", flat=True))
    assert visible == expected
    for hidden in ("draft", "in_review", "changes_requested", "cancelled", "failed"):
        assert f"ankara-{hidden}" not in visible


def test_central_sees_every_publication_of_every_post(client, reviewer, every_status):
    client.force_login(reviewer)
    response = page(client, view="agenda", date=DAY.isoformat())
    assert set(titles(response)) == set(every_status)
    assert Publication.objects.visible_to(reviewer).count() == len(every_status)


def expected_visibility(persona: str, own: bool, status: str) -> bool:
    if persona == "reviewer":
        return True
    if persona in ("editor", "manager"):
        return own or status in ("approved", "published")
    return False  # partners and outsiders do not use the calendar


@pytest.mark.parametrize("status", ALL_STATUSES)
@pytest.mark.parametrize(
    "persona", ["editor", "manager", "reviewer", "partner_user", "outsider"], indirect=True
)
def test_visible_to_agrees_with_can_view_publication_for_every_status_and_post(
    request, persona, status, istanbul, ankara, ankara_editor
):
    name = request.node.callspec.params["persona"]
    for post, own in ((istanbul, True), (ankara, False)):
        publication = make_publication(post=post, author=ankara_editor, status=status)
        expected = expected_visibility(name, own, status)
        assert permissions.can_view_publication(persona, publication) is expected
        assert Publication.objects.visible_to(persona).filter(pk=publication.pk).exists() is expected


# --- Moving by drag ----------------------------------------------------------------------

#: An entry of the month or week grid: its attributes and its title.
ENTRY = re.compile(r'<li class="pub[^"]*"([^>]*)>.*?<span class="pub-title">([^<]*)</span>', re.DOTALL)
DRAG = re.compile(r'draggable="true" data-reschedule-url="([^"]+)" data-revision="(\d+)"')
#: Every status a post's staff or central may move (published, cancelled and failed are over).
MOVABLE = {"draft", "in_review", "changes_requested", "approved", "missed"}


def entries(response) -> dict[str, tuple[str, str] | None]:
    """Each entry's title, with (reschedule address, revision) when the page offers to drag it."""
    found = {}
    for attributes, title in ENTRY.findall(response.content.decode()):
        drag = DRAG.search(attributes)
        found[html.unescape(title)] = drag.groups() if drag else None
    return found


@pytest.fixture
def before_march(time_machine):
    time_machine.move_to(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False)


@pytest.mark.parametrize("view", ["month", "week"])
def test_a_post_editor_is_offered_a_drag_only_on_their_own_posts_movable_entries(
    client, editor, every_status, before_march, view
):
    client.force_login(editor)
    response = page(client, view=view, date=DAY.isoformat(), scope="network")
    shown = entries(response)
    assert {"ankara-approved", "ankara-published"} & set(shown), "the other post's entries are on the page"
    draggable = {title for title, drag in shown.items() if drag}
    assert draggable == {f"istanbul-{status}" for status in MOVABLE} & set(shown)
    assert not any(title.startswith("ankara-") for title in draggable)


def test_central_is_offered_a_drag_on_every_posts_movable_entries(
    client, reviewer, every_status, before_march
):
    client.force_login(reviewer)
    draggable = {
        title for title, drag in entries(page(client, view="month", date=DAY.isoformat())).items() if drag
    }
    assert draggable == {f"{post}-{status}" for post in ("istanbul", "ankara") for status in MOVABLE}


@pytest.mark.parametrize("persona", ["editor", "reviewer"], indirect=True)
def test_every_drop_the_page_offers_is_accepted_and_every_other_move_refused(
    client, persona, every_status, before_march
):
    client.force_login(persona)
    shown = entries(page(client, view="month", date=DAY.isoformat()))
    for title, drag in shown.items():
        publication = every_status[title]
        address = reverse("publication_reschedule", args=[publication.pk])
        # The last day of the grid: a cell the page offers as a drop target.
        drop = {"local_date": MONTH_LAST.isoformat(), "revision": publication.revision}
        response = client.post(address, drop, HTTP_ACCEPT="application/json")
        if drag:
            assert drag == (address, str(publication.revision)), title
            assert response.status_code == 200 and response.json()["ok"], title
            assert Publication.objects.get(pk=publication.pk).local_date == MONTH_LAST, title
        else:
            assert response.status_code == 403, title


# --- The month grid ---------------------------------------------------------------------


def test_a_month_cell_lists_the_first_few_and_links_the_rest_to_that_days_agenda(client, editor, istanbul):
    busy = [
        make_publication(post=istanbul, author=editor, title=f"busy-{hour}", local_time=time(hour, 0))
        for hour in (12, 8, 10, 9, 11)
    ]
    make_publication(post=istanbul, author=editor, title="next-day", local_date=DAY + timedelta(1))
    client.force_login(editor)
    response = page(client, view="month", date=DAY.isoformat())
    busy_cell = cell(response, DAY)
    assert [item.title for item in busy_cell.items] == ["busy-8", "busy-9", "busy-10"][:CELL_LIMIT]
    assert busy_cell.total == 5
    assert busy_cell.more == 5 - CELL_LIMIT
    more = link(response, f'<a class="more" href="HREF">+{5 - CELL_LIMIT} more</a>')
    assert query_of(more) == {"view": "agenda", "span": "day", "date": DAY.isoformat(), "tz": "post"}

    day_agenda = client.get(reverse("calendar") + more)
    assert day_agenda.status_code == 200
    assert titles(day_agenda) == ["busy-8", "busy-9", "busy-10", "busy-11", "busy-12"]
    assert {item.pk for item in day_agenda.context["items"]} == {p.pk for p in busy}


def test_a_quiet_day_has_no_more_link(client, editor, istanbul):
    make_publication(post=istanbul, author=editor)
    client.force_login(editor)
    response = page(client, view="month", date=DAY.isoformat())
    assert cell(response, DAY).more == 0
    assert 'class="more"' not in response.content.decode()


# --- Time zones -------------------------------------------------------------------------


@pytest.fixture
def wellington(db):
    return make_post(
        code="be-emb-wellington",
        name="Embassy of Belgium in Wellington",
        city="Wellington",
        country="NZ",
        timezone="Pacific/Auckland",
        host_languages="en",
    )


def test_a_late_evening_in_istanbul_stays_on_its_day_in_post_time_and_in_utc(client, editor, istanbul):
    make_publication(post=istanbul, author=editor, title="late", local_time=time(23, 30))
    client.force_login(editor)
    local = page(client, view="month", date=DAY.isoformat(), tz="post")
    assert [item.title for item in cell(local, DAY).items] == ["late"]
    in_utc = page(client, view="month", date=DAY.isoformat(), tz="UTC")
    assert [item.title for item in cell(in_utc, DAY).items] == ["late"]
    assert '<span class="pub-time">20:30</span>' in in_utc.content.decode()


@pytest.mark.parametrize("view", ["month", "week", "agenda"])
def test_each_entry_shows_its_time_status_and_platforms(client, editor, istanbul, view):
    channels = [make_channel(post=istanbul, platform="facebook"), make_channel(post=istanbul, platform="x")]
    make_publication(
        post=istanbul,
        author=editor,
        title="entry",
        status="approved",
        local_time=time(9, 5),
        channels=channels,
    )
    client.force_login(editor)

    content = page(client, view=view, date=DAY.isoformat(), tz="post").content.decode()

    assert "09:05" in content
    assert "Approved" in content
    # Each platform: our own icon, and its name (visible, or for screen readers in the week).
    for code, name in (("facebook", "Facebook"), ("x", "X")):
        label = f'<span class="visually-hidden">{name}</span>' if view == "week" else name
        assert f'<use href="#platform-{code}"></use></svg>{label}</span>' in content
    assert content.index('#platform-facebook"></use>') < content.index('#platform-x"></use>')


@pytest.mark.parametrize(("zone", "shown_at"), [("UTC", "19:00"), ("Europe/Brussels", "20:00")])
def test_a_morning_in_auckland_falls_on_the_day_before_in_european_zones(
    client, reviewer, wellington, zone, shown_at
):
    # 08:00 on 10 March in Auckland (NZDT, UTC+13) is 19:00 UTC on 9 March.
    make_publication(post=wellington, author=reviewer, title="kia ora", local_time=time(8, 0))
    client.force_login(reviewer)
    local = page(client, view="month", date=DAY.isoformat(), tz="post")
    assert [item.title for item in cell(local, DAY).items] == ["kia ora"]
    assert cell(local, DAY - timedelta(1)).items == []

    moved = page(client, view="month", date=DAY.isoformat(), tz=zone)
    assert [item.title for item in cell(moved, DAY - timedelta(1)).items] == ["kia ora"]
    assert cell(moved, DAY).items == []
    assert f'<span class="pub-time">{shown_at}</span>' in moved.content.decode()

    week = page(client, view="week", date=DAY.isoformat(), tz=zone)
    hour = int(shown_at[:2])
    row = dict(week.context["rows"])[hour]
    assert [c.day for c in row if c.items] == [DAY - timedelta(1)]

    day_before = page(client, view="agenda", span="day", date=(DAY - timedelta(1)).isoformat(), tz=zone)
    assert titles(day_before) == ["kia ora"]
    assert titles(page(client, view="agenda", span="day", date=DAY.isoformat(), tz=zone)) == []


def test_the_page_names_the_zone_of_its_times(client, editor):
    client.force_login(editor)
    # The place and its offset today (UTC+1 in winter, UTC+2 in summer).
    assert re.search(r"Times are in Brussels \(UTC\+[12]\)\.", text(page(client, tz="Europe/Brussels")))
    assert "Times are each post's local time." in text(page(client, tz="post"))
    assert "Times are each post's local time." in text(page(client))


def test_the_brussels_week_follows_the_spring_clock_change(client, editor, istanbul, time_machine):
    time_machine.move_to(datetime(2026, 3, 27, 12, 0, tzinfo=UTC), tick=False)
    # Istanbul is UTC+3 all year; Brussels goes from UTC+1 to UTC+2 on Sunday 29 March 2026.
    make_publication(
        post=istanbul,
        author=editor,
        title="saturday night",
        local_date=date(2026, 3, 29),
        local_time=time(1, 30),
    )  # 22:30 UTC on 28 March: 23:30 in Brussels on Saturday
    make_publication(
        post=istanbul,
        author=editor,
        title="sunday night",
        local_date=date(2026, 3, 30),
        local_time=time(0, 30),
    )  # 21:30 UTC on 29 March: 23:30 in Brussels on Sunday
    make_publication(
        post=istanbul, author=editor, title="monday", local_date=date(2026, 3, 30), local_time=time(1, 30)
    )  # 22:30 UTC on 29 March: 00:30 on Monday in Brussels
    client.force_login(editor)
    response = page(client, view="week", tz="Europe/Brussels")
    assert response.context["window"].first == date(2026, 3, 23)
    cells = {(c.day, c.hour): [i.title for i in c.items] for _h, row in response.context["rows"] for c in row}
    assert cells[(date(2026, 3, 28), 23)] == ["saturday night"]
    assert cells[(date(2026, 3, 29), 23)] == ["sunday night"]
    assert "monday" not in titles(response)


# --- Filters ----------------------------------------------------------------------------


@pytest.fixture
def filter_world(istanbul, ankara, editor, ankara_editor, reviewer, fit):
    tokyo = make_post(
        code="be-emb-tokyo",
        name="Embassy of Belgium in Tokyo",
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
        host_languages="ja",
        publishing_languages="en,ja",
    )
    istanbul_facebook = make_channel(post=istanbul, platform="facebook")
    istanbul_x = make_channel(post=istanbul, platform="x")
    ankara_x = make_channel(post=ankara, platform="x")
    tokyo_instagram = make_channel(post=tokyo, platform="instagram")
    winter = make_campaign(name="Winter")
    make_publication(
        post=istanbul,
        author=editor,
        title="istanbul-facebook",
        status="approved",
        local_date=date(2026, 3, 2),
        channels=[istanbul_facebook],
        variants={"en": "Hello"},
        campaign=winter,
    )
    make_publication(
        post=istanbul,
        author=editor,
        title="istanbul-both",
        status="in_review",
        local_date=date(2026, 3, 3),
        channels=[istanbul_facebook, istanbul_x],
        variants={"en": "Hello", "nl": "Hallo"},
    )
    make_publication(
        post=ankara,
        author=ankara_editor,
        title="ankara-event",
        status="published",
        kind="event",
        local_date=date(2026, 3, 4),
        channels=[ankara_x],
        variants={"tr": "Merhaba"},
    )
    make_publication(
        post=tokyo,
        author=reviewer,
        title="tokyo-relay",
        status="approved",
        kind="partner_relay",
        local_date=date(2026, 3, 5),
        channels=[tokyo_instagram],
        variants={"fr": "Bonjour", "ja": "Konnichiwa"},
        proposal=make_proposal(partner=fit),
    )
    return {"campaign": winter}


ALL_FOUR = {"istanbul-facebook", "istanbul-both", "ankara-event", "tokyo-relay"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"post": "be-cg-istanbul"}, {"istanbul-facebook", "istanbul-both"}),
        ({"country": "JP"}, {"tokyo-relay"}),
        ({"country": "TR"}, {"istanbul-facebook", "istanbul-both", "ankara-event"}),
        ({"region": "asia"}, {"tokyo-relay"}),
        ({"region": "europe"}, {"istanbul-facebook", "istanbul-both", "ankara-event"}),
        ({"platform": "x"}, {"istanbul-both", "ankara-event"}),
        ({"platform": "instagram"}, {"tokyo-relay"}),
        ({"language": "tr"}, {"ankara-event"}),
        ({"language": "FR"}, {"tokyo-relay"}),
        ({"language": "en"}, {"istanbul-facebook", "istanbul-both"}),
        ({"campaign": "CAMPAIGN"}, {"istanbul-facebook"}),
        ({"status": "in_review"}, {"istanbul-both"}),
        ({"kind": "event"}, {"ankara-event"}),
        ({"partner": "fit"}, {"tokyo-relay"}),
        ({"post": "be-cg-istanbul", "platform": "x"}, {"istanbul-both"}),
        ({"status": "approved", "region": "europe"}, {"istanbul-facebook"}),
    ],
)
def test_each_filter_narrows_the_calendar(client, reviewer, filter_world, query, expected):
    query = {
        key: str(filter_world["campaign"].pk) if value == "CAMPAIGN" else value
        for key, value in query.items()
    }
    client.force_login(reviewer)
    assert set(titles(page(client, view="month", date=DAY.isoformat()))) == ALL_FOUR
    for view in ("month", "agenda"):
        response = page(client, view=view, date="2026-03-01", **query)
        assert response.status_code == 200
        assert set(titles(response)) == expected, view


def test_a_filter_on_a_platform_lists_a_publication_on_two_such_channels_once(client, reviewer, istanbul):
    channels = [make_channel(post=istanbul, platform="x"), make_channel(post=istanbul, platform="x")]
    make_publication(post=istanbul, author=reviewer, title="twice on x", channels=channels)
    client.force_login(reviewer)
    response = page(client, view="agenda", date=DAY.isoformat(), platform="x")
    assert titles(response) == ["twice on x"]


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("post", "nope", "Select a valid choice"),
        ("status", "flying", "Select a valid choice"),
        ("region", "mars", "Select a valid choice"),
        ("language", "english", "Select a valid choice"),
        ("campaign", "999999", "Select a valid choice"),
        ("partner", "nobody", "Select a valid choice"),
        ("country", "ZZ", "Select a valid choice"),
        ("platform", "myspace", "Select a valid choice"),
        ("kind", "palace", "Select a valid choice"),
    ],
)
def test_an_unknown_filter_value_is_a_400_with_the_form_error(
    client, editor, filter_world, key, value, error
):
    client.force_login(editor)
    response = page(client, view="month", date=DAY.isoformat(), **{key: value})
    assert response.status_code == 400
    errors = response.context["filter"].form.errors
    assert list(errors) == [key]
    assert error in errors[key][0]
    assert error in text(response)
    assert "items" not in response.context


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"view": "year"}, "Unknown view “year”: use month, week or agenda."),
        ({"date": "2026-13-01"}, "“2026-13-01” is not a date: use YYYY-MM-DD."),
        ({"date": "tomorrow"}, "“tomorrow” is not a date: use YYYY-MM-DD."),
        ({"date": "1970-01-01"}, "Choose a date between 2000 and 2100."),
        ({"date": "2101-01-01"}, "Choose a date between 2000 and 2100."),
        ({"tz": "Mars/Base"}, "Unknown time zone “Mars/Base”."),
        ({"span": "week"}, "Unknown span “week”."),
        ({"format": "xlsx"}, "Unknown format: use csv, or leave it out."),
    ],
)
def test_a_bad_view_date_zone_or_format_is_a_400_with_a_message(client, editor, query, message):
    client.force_login(editor)
    response = page(client, **query)
    assert response.status_code == 400
    assert response.context["message"] == message
    assert message in text(response)


# --- Query budgets ----------------------------------------------------------------------


def captured(client, params: dict):
    with CaptureQueriesContext(connection) as ctx:
        response = page(client, **params)
    assert response.status_code == 200
    return response, [query["sql"] for query in ctx.captured_queries]


@pytest.fixture
def loaded(monkeypatch) -> list[Publication]:
    """Every Publication instance built from a database row, to see what a page reads."""
    rows: list[Publication] = []
    from_db = Publication.from_db.__func__

    def spy(cls, db, field_names, values):
        instance = from_db(cls, db, field_names, values)
        rows.append(instance)
        return instance

    monkeypatch.setattr(Publication, "from_db", classmethod(spy))
    return rows


def same_queries(small: list[str], big: list[str]) -> str:
    def listing(queries: list[str]) -> str:
        return "\n".join(f"  {n}. {sql}" for n, sql in enumerate(queries, 1))

    return f"{len(small)} queries with few rows:\n{listing(small)}\n{len(big)} with many:\n{listing(big)}"


@pytest.fixture
def demo_network(istanbul, ankara, editor, ankara_editor, time_machine):
    time_machine.move_to(datetime(2026, 3, 10, 9, 0, tzinfo=UTC), tick=False)
    paris = make_post(code="be-emb-paris", city="Paris", country="FR", timezone="Europe/Paris")
    for post in (istanbul, ankara, paris):
        make_channel(post=post, platform="facebook")
        make_channel(post=post, platform="x")
    # One of each view's window for sure, however the demo's dice fall.
    make_publication(post=istanbul, author=editor, title="anchor", status="approved")
    assert demo.create_publications(30, today=DAY, seed=1) == 30


VIEWS_TO_BUDGET = {
    "month, network-wide": {"view": "month", "date": DAY.isoformat()},
    "week, one post": {"view": "week", "date": DAY.isoformat(), "post": "be-cg-istanbul"},
    "week, in Brussels": {"view": "week", "date": DAY.isoformat(), "tz": "Europe/Brussels"},
    "agenda": {"view": "agenda", "date": DAY.isoformat()},
}


@pytest.mark.parametrize("persona", ["reviewer", "editor"], indirect=True)
def test_each_view_runs_the_same_queries_with_few_and_with_many_publications(client, persona, demo_network):
    client.force_login(persona)
    page(client)  # warm the session

    def first_visit(params: dict) -> tuple:
        # Each view as if opened for the first time: not with the filters the one before saved.
        # (Deleting them writes the table in the test's transaction, where the saved filters
        # are then read, not cached: written in both rounds, for the same queries.)
        SavedFilter.objects.update_or_create(user=persona, page=FilteredPage.CALENDAR, defaults={"query": {}})
        SavedFilter.objects.all().delete()
        return captured(client, params)

    small = {name: first_visit(params)[1] for name, params in VIEWS_TO_BUDGET.items()}
    assert demo.create_publications(570, today=DAY, seed=2) == 570
    assert Publication.objects.count() == 601
    for name, params in VIEWS_TO_BUDGET.items():
        response, big = first_visit(params)
        assert len(big) == len(small[name]), f"{name}: {same_queries(small[name], big)}"
        assert response.context["items"], name


def test_the_month_loads_only_its_window_and_a_few_per_day_with_exact_counts(
    client, reviewer, demo_network, loaded
):
    demo.create_publications(570, today=DAY, seed=2)
    client.force_login(reviewer)
    page(client)  # warm the session
    loaded.clear()
    response, _queries = captured(client, {"view": "month", "date": DAY.isoformat()})
    assert all(MONTH_FIRST <= row.local_date <= MONTH_LAST for row in loaded)
    assert sorted(row.pk for row in loaded) == sorted(item.pk for item in response.context["items"])
    window = response.context["window"]
    assert (window.first, window.last) == (MONTH_FIRST, MONTH_LAST)
    items = response.context["items"]
    assert all(MONTH_FIRST <= item.local_date <= MONTH_LAST for item in items)
    per_day = Counter(Publication.objects.values_list("local_date", flat=True))
    cells = [c for week in response.context["grid"] for c in week]
    assert len(cells) == 42
    assert any(c.more for c in cells), "the data should overflow some cells"
    for c in cells:
        assert len(c.items) == min(per_day[c.day], CELL_LIMIT), c.day
        assert c.total == per_day[c.day], c.day
    in_window = Publication.objects.filter(local_date__range=(MONTH_FIRST, MONTH_LAST)).count()
    assert len(items) == sum(len(c.items) for c in cells) < in_window


def test_the_week_of_one_post_loads_only_that_post_and_that_week(
    client, editor, istanbul, demo_network, loaded
):
    demo.create_publications(570, today=DAY, seed=2)
    client.force_login(editor)
    page(client)  # warm the session
    loaded.clear()
    response, _queries = captured(client, VIEWS_TO_BUDGET["week, one post"])
    first, last = date(2026, 3, 9), date(2026, 3, 15)
    assert sorted(row.pk for row in loaded) == sorted(item.pk for item in response.context["items"])
    assert (response.context["window"].first, response.context["window"].last) == (first, last)
    items = response.context["items"]
    assert items
    assert {item.post.code for item in items} == {istanbul.code}
    assert all(first <= item.local_date <= last for item in items)


def test_the_agenda_loads_one_page_from_its_date_on(client, reviewer, demo_network, loaded):
    demo.create_publications(570, today=DAY, seed=2)
    client.force_login(reviewer)
    page(client)  # warm the session
    loaded.clear()
    response, _queries = captured(client, VIEWS_TO_BUDGET["agenda"])
    items = response.context["items"]
    assert len(items) == 50
    assert [row.pk for row in loaded] == [item.pk for item in items]
    assert all(item.local_date >= DAY for item in items)
    keys = [(item.local_date, item.local_time, item.pk) for item in items]
    assert keys == sorted(keys)
    assert (
        response.context["page_obj"].paginator.count
        == Publication.objects.filter(local_date__gte=DAY).count()
    )


# --- CSV export -------------------------------------------------------------------------

HEADER = [
    "id",
    "post",
    "title",
    "status",
    "kind",
    "local_date",
    "local_time",
    "time_zone",
    "utc",
    "channels",
    "languages",
    "campaign",
]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def march(istanbul, ankara, editor, ankara_editor) -> dict[str, Publication]:
    facebook = make_channel(post=istanbul, platform="facebook", handle="@BelgiumInIstanbul")
    winter = make_campaign(name="Winter")

    def at(title: str, day: date, hour: int = 9, **extra) -> Publication:
        return make_publication(
            post=extra.pop("post", istanbul),
            author=extra.pop("author", editor),
            title=title,
            local_date=day,
            local_time=time(hour, 0),
            **extra,
        )

    return {
        "before": at("before", date(2026, 2, 22)),
        "first": at("first", MONTH_FIRST),
        "nine": at(
            "nine", DAY, 9, channels=[facebook], variants={"en": "Hi", "tr": "Merhaba"}, campaign=winter
        ),
        "eight": at("eight", DAY, 8),
        "ankara": at("ankara", DAY + timedelta(1), post=ankara, author=ankara_editor, status="approved"),
        "ankara draft": at("ankara draft", DAY + timedelta(1), post=ankara, author=ankara_editor),
        "last": at("last", MONTH_LAST, 18),
        "after": at("after", MONTH_LAST + timedelta(1)),
    }


def test_the_csv_export_has_a_header_and_the_months_rows_in_the_views_order(client, editor, march):
    client.force_login(editor)
    response = page(client, view="month", date=DAY.isoformat(), format="csv", scope="network")
    rows = csv_rows(response)
    assert rows[0] == HEADER
    expected = ["first", "eight", "nine", "ankara", "last"]
    assert [row[2] for row in rows[1:]] == expected
    assert 'filename="calendar-2026-02-23-42d.csv"' in response["Content-Disposition"]
    nine = next(row for row in rows if row[2] == "nine")
    assert nine == [
        str(march["nine"].pk),
        "be-cg-istanbul",
        "nine",
        "draft",
        "regular",
        "2026-03-10",
        "09:00",
        "Europe/Istanbul",
        "2026-03-10T06:00:00Z",
        "facebook:@BelgiumInIstanbul",
        "en tr",
        "Winter",
    ]
    html_page = page(client, view="month", date=DAY.isoformat(), scope="network")
    assert [row[0] for row in rows[1:]] == [str(item.pk) for item in html_page.context["items"]]


def test_the_csv_export_applies_the_filters(client, editor, march):
    client.force_login(editor)
    by_post = csv_rows(page(client, view="month", date=DAY.isoformat(), format="csv", post="be-emb-ankara"))
    assert [row[2] for row in by_post[1:]] == ["ankara"]  # never the draft of another post
    by_status = csv_rows(page(client, view="week", date=DAY.isoformat(), format="csv", status="draft"))
    assert [row[2] for row in by_status[1:]] == ["eight", "nine"]


def test_a_week_export_covers_seven_days(client, editor, march):
    client.force_login(editor)
    response = page(client, view="week", date=DAY.isoformat(), format="csv", scope="network")
    assert [row[2] for row in csv_rows(response)[1:]] == ["eight", "nine", "ankara"]
    assert 'filename="calendar-2026-03-09-7d.csv"' in response["Content-Disposition"]


def test_an_agenda_export_covers_ninety_days_from_its_date(client, editor, istanbul):
    for title, offset in (("day before", -1), ("day one", 0), ("day ninety", 89), ("day ninety-one", 90)):
        make_publication(post=istanbul, author=editor, title=title, local_date=DAY + timedelta(offset))
    client.force_login(editor)
    response = page(client, view="agenda", date=DAY.isoformat(), format="csv")
    assert [row[2] for row in csv_rows(response)[1:]] == ["day one", "day ninety"]
    assert 'filename="calendar-2026-03-10-90d.csv"' in response["Content-Disposition"]


def test_a_day_agenda_export_covers_that_day(client, editor, march):
    client.force_login(editor)
    response = page(client, view="agenda", span="day", date=DAY.isoformat(), format="csv")
    assert [row[2] for row in csv_rows(response)[1:]] == ["eight", "nine"]


# --- Moving in time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("view", "previous", "following"),
    [
        ("month", "2026-02-01", "2026-04-01"),
        ("week", "2026-03-03", "2026-03-17"),
        ("agenda", "2026-03-03", "2026-03-17"),
    ],
)
def test_previous_next_and_today_links_keep_the_filters_and_the_zone(
    client, editor, istanbul, view, previous, following
):
    make_publication(post=istanbul, author=editor, status="approved")  # so that the agenda is not empty
    client.force_login(editor)
    filters = {"post": "be-cg-istanbul", "status": "approved", "tz": "Europe/Brussels"}
    response = page(client, view=view, date=DAY.isoformat(), **filters)
    assert response.status_code == 200
    kept = {"view": view, **filters}
    assert query_of(link(response, '<a href="HREF" rel="prev">')) == {**kept, "date": previous}
    following_href = link(response, '<a href="HREF" rel="next">')
    assert query_of(following_href) == {**kept, "date": following}
    assert query_of(link(response, '<a href="HREF">Today</a>')) == kept

    moved = client.get(reverse("calendar") + following_href)
    assert moved.status_code == 200
    assert moved.context["params"].anchor == date.fromisoformat(following)
    assert moved.context["params"].zone == "Europe/Brussels"
    assert moved.context["filter"].form.cleaned_data["status"] == "approved"


def test_without_a_date_the_calendar_opens_on_today_in_brussels(client, editor, time_machine):
    # 23:30 UTC on 31 March is already 1 April in Brussels.
    time_machine.move_to(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), tick=False)
    client.force_login(editor)
    response = page(client)
    assert response.context["params"].anchor == date(2026, 4, 1)
    assert response.context["today"] == date(2026, 4, 1)


def test_an_empty_agenda_still_offers_navigation_and_says_nothing_is_planned(client, editor):
    client.force_login(editor)
    response = page(client, view="agenda", date=DAY.isoformat())
    assert response.status_code == 200
    content = text(response)
    assert "Nothing planned from this date on with these filters." in content
    assert 'rel="next"' in content
    assert "Create my feed address" in content
