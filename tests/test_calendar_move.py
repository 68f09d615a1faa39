"""Moving a publication from the calendar: the "Move" control (in place with HTMX, or a page
of its own), the drag's answers, who may move what, and bad input; and what the calendar
shows first: post staff's own post, the agenda on narrow screens, the view kept."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calendar_app.models import Publication
from diplomacy.models import Membership, Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user

#: Planned for Tuesday 10 March 2026 at 09:00; "now" is 1 March.
DAY = date(2026, 3, 10)
HTMX = {"HTTP_HX_REQUEST": "true"}
JSON = {"HTTP_ACCEPT": "application/json"}
ANOTHER_POST = "You may not move publications of another post."
CHANGED = "Someone else changed this publication meanwhile. Reload and try again."


@pytest.fixture(autouse=True)
def _first_of_march(time_machine):
    time_machine.move_to(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False)


@pytest.fixture(autouse=True)
def _no_mfa_prompt(settings):
    settings.REQUIRE_MFA_FOR_REVIEWERS = False


@pytest.fixture
def ankara_editor(ankara):
    return make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)


@pytest.fixture
def own(istanbul, editor):
    return make_publication(post=istanbul, author=editor, title="Own draft", local_date=DAY)


@pytest.fixture
def foreign(ankara, ankara_editor):
    """Another post's approved publication: the Istanbul staff see it, but may not move it."""
    return make_publication(
        post=ankara, author=ankara_editor, title="Ankara's", status="approved", local_date=DAY
    )


def move_url(publication: Publication) -> str:
    return reverse("publication_move", args=[publication.pk])


def move(client, publication: Publication, *, headers: dict | None = None, **data):
    fields = {"local_date": "2026-03-12", "local_time": "10:30", "revision": str(publication.revision)}
    fields.update(data)
    return client.post(move_url(publication), fields, **(headers or {}))


def text(response) -> str:
    return html.unescape(response.content.decode())


def where(publication: Publication) -> tuple[date, time, int]:
    publication.refresh_from_db()
    return (
        publication.local_date,
        publication.local_time,
        publication.events.filter(verb="rescheduled").count(),
    )


# --- The "Move" form --------------------------------------------------------------------------


def test_the_move_form_opens_in_place_with_the_date_focused_and_the_zone_named(client, editor, own):
    client.force_login(editor)
    response = client.get(move_url(own), **HTMX)
    assert response.status_code == 200
    content = text(response)
    assert content.lstrip().startswith('<form method="post"')  # a partial, not a page
    assert f'hx-post="{move_url(own)}"' in content
    assert re.search(r'<input type="date" name="local_date" value="2026-03-10"[^>]*autofocus', content)
    assert 'value="09:00"' in content
    assert "Local time in Istanbul (UTC+3)." in content


def test_without_javascript_the_move_control_is_a_page_that_goes_back_where_it_came_from(client, editor, own):
    client.force_login(editor)
    calendar_page = reverse("calendar") + "?view=month&date=2026-03-10"
    response = client.get(move_url(own), HTTP_REFERER=f"http://testserver{calendar_page}")
    assert response.status_code == 200
    assert "<h1>Move a publication</h1>" in response.content.decode()
    assert f'name="next" value="{html.escape(calendar_page)}"' in response.content.decode()

    response = move(client, own, next=calendar_page)

    assert response.status_code == 302
    assert response["Location"] == calendar_page
    assert where(own) == (date(2026, 3, 12), time(10, 30), 1)
    followed = text(client.get(response["Location"]))
    assert "Moved to 12 March 2026, 10:30 Istanbul (UTC+3)." in followed


def test_a_move_elsewhere_than_this_site_goes_back_to_the_calendar(client, editor, own):
    client.force_login(editor)
    response = move(client, own, next="https://elsewhere.example/")
    assert response["Location"] == reverse("calendar")


def test_a_move_in_place_redraws_the_calendar(client, editor, own):
    client.force_login(editor)
    response = move(client, own, headers=HTMX)
    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    assert where(own) == (date(2026, 3, 12), time(10, 30), 1)


def test_cancel_gives_the_move_control_back(client, editor, own):
    client.force_login(editor)
    response = client.get(move_url(own) + "?cancel=1", **HTMX)
    assert response.status_code == 200
    assert 'class="pub-move"' in response.content.decode()
    assert "<form" not in response.content.decode()


# --- Who may move what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "whose", "expected"),
    [
        ("editor", "own", 204),
        ("manager", "own", 204),
        ("reviewer", "own", 204),
        ("editor", "foreign", 403),
        ("manager", "foreign", 403),
        ("reviewer", "foreign", 204),
        ("partner_user", "own", 403),
        ("outsider", "own", 403),
    ],
    indirect=["persona"],
)
def test_each_role_moves_its_own_posts_publications_only(client, persona, whose, expected, request):
    publication = request.getfixturevalue(whose)
    before = where(publication)
    client.force_login(persona)

    response = move(client, publication, headers=HTMX)

    assert response.status_code == expected
    if expected == 204:
        assert where(publication) == (date(2026, 3, 12), time(10, 30), 1)
    else:
        assert where(publication) == before


@pytest.mark.parametrize("persona", ["editor", "manager"], indirect=True)
def test_post_staff_are_told_they_may_not_move_another_posts_publication(client, persona, foreign):
    client.force_login(persona)
    for response in (client.get(move_url(foreign), **HTMX), move(client, foreign, headers=HTMX)):
        assert response.status_code == 403
        assert ANOTHER_POST in text(response)
        assert 'role="alert"' in response.content.decode()
    assert where(foreign)[2] == 0


def test_another_posts_draft_is_not_even_acknowledged(client, editor, ankara, ankara_editor):
    draft = make_publication(post=ankara, author=ankara_editor, local_date=DAY)
    client.force_login(editor)
    assert client.get(move_url(draft), **HTMX).status_code == 404
    assert move(client, draft, headers=HTMX).status_code == 404


def test_someone_who_lost_the_right_meanwhile_is_told_why(client, editor, own, ankara):
    client.force_login(editor)
    assert client.get(move_url(own), **HTMX).status_code == 200
    # Moved to Ankara while the form was open: Istanbul's draft is out of their reach now...
    Membership.objects.filter(user=editor).update(post=ankara)
    assert move(client, own, headers=HTMX).status_code == 404
    # ...and an approved one is visible, but not theirs to move.
    Publication.objects.filter(pk=own.pk).update(status="approved")
    response = move(client, own, headers=HTMX)
    assert response.status_code == 403
    assert ANOTHER_POST in text(response)
    assert where(own) == (DAY, time(9, 0), 0)


def test_a_published_publication_can_no_longer_be_moved(client, editor, istanbul):
    published = make_publication(post=istanbul, author=editor, status="published", local_date=DAY)
    client.force_login(editor)
    response = move(client, published, headers=HTMX)
    assert response.status_code == 403
    assert "This publication can no longer be moved: it is published." in text(response)


# --- Bad input ---------------------------------------------------------------------------------


@pytest.fixture
def brussels_post(db):
    return make_post(code="be-test-brussels", city="Brussels", country="BE", timezone="Europe/Brussels")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"local_date": "2026-03-29", "local_time": "02:30"},
            "02:30 does not exist on 29 March 2026 in Brussels",
        ),
        (
            {"local_date": "2026-10-25", "local_time": "02:30"},
            "02:30 happens twice on 25 October 2026 in Brussels",
        ),
        (
            {"local_date": "2026-02-27", "local_time": "10:00"},
            "This time has already passed in Brussels (UTC+1).",
        ),
        ({"local_date": "tomorrow", "local_time": "10:00"}, "Enter a valid date."),
        ({"local_date": "2026-03-12", "local_time": "25:61"}, "Enter a valid time."),
        ({"local_date": "", "local_time": "10:00"}, "This field is required."),
    ],
)
def test_a_bad_date_or_time_is_refused_next_to_its_field_and_nothing_moves(
    client, reviewer, brussels_post, data, message
):
    publication = make_publication(post=brussels_post, author=reviewer, local_date=DAY)
    client.force_login(reviewer)

    response = move(client, publication, headers=HTMX, **data)

    assert response.status_code == 400
    content = text(response)
    assert message in content
    assert re.search(r'<ul class="errorlist" id="move-\d+-local_(date|time)_error"', content)
    assert 'aria-invalid="true"' in content
    assert where(publication) == (DAY, time(9, 0), 0)


def test_a_move_of_a_changed_publication_says_someone_changed_it(client, editor, own):
    client.force_login(editor)
    response = move(client, own, headers=HTMX, revision=str(own.revision - 1 or 7))
    assert response.status_code == 409
    assert CHANGED in text(response)
    assert where(own) == (DAY, time(9, 0), 0)


# --- The drag's answers ------------------------------------------------------------------------


def drag(client, publication: Publication, **data):
    fields = {"local_date": "2026-03-12", "revision": str(publication.revision), **data}
    return client.post(reverse("publication_reschedule", args=[publication.pk]), fields, **JSON)


def test_a_drag_onto_another_posts_publication_is_refused_with_the_reason_as_json(client, editor, foreign):
    client.force_login(editor)
    response = drag(client, foreign)
    assert response.status_code == 403
    assert json.loads(response.content) == {"ok": False, "message": ANOTHER_POST}


def test_a_drag_of_a_changed_publication_answers_409_with_the_reason(client, editor, own):
    client.force_login(editor)
    response = drag(client, own, revision="99")
    assert response.status_code == 409
    assert json.loads(response.content)["message"] == CHANGED


def test_a_drop_on_a_day_keeps_the_time_and_a_drop_on_an_hour_sets_it(client, editor, own):
    client.force_login(editor)
    assert drag(client, own).status_code == 200
    assert where(own) == (date(2026, 3, 12), time(9, 0), 1)
    assert drag(client, own, local_date="2026-03-13", local_time="14:00").status_code == 200
    assert where(own) == (date(2026, 3, 13), time(14, 0), 2)


# --- What the calendar offers ------------------------------------------------------------------


def calendar(client, **params):
    return client.get(reverse("calendar"), params)


def test_only_movable_entries_carry_a_move_control_and_a_drag(client, editor, own, foreign):
    client.force_login(editor)
    for view in ("month", "week", "agenda"):
        content = calendar(client, view=view, date=DAY.isoformat(), scope="network").content.decode()
        assert f'href="{move_url(own)}"' in content, view
        assert f'href="{move_url(foreign)}"' not in content, view
        assert content.count('draggable="true"') == (0 if view == "agenda" else 1), view


def test_week_hours_are_drop_targets_only_at_each_posts_local_time(client, editor, own):
    client.force_login(editor)
    local = calendar(client, view="week", date=DAY.isoformat(), tz="post").content.decode()
    assert 'data-date="2026-03-10" data-time="09:00"' in local
    elsewhere = calendar(client, view="week", date=DAY.isoformat(), tz="UTC").content.decode()
    assert "data-time=" not in elsewhere
    assert not re.search(r'<td class="slot" data-date=', elsewhere)


def test_post_staff_see_their_own_post_first_and_the_network_one_tap_away(client, editor, own, foreign):
    client.force_login(editor)
    response = calendar(client, view="month", date=DAY.isoformat())
    assert [item.title for item in response.context["items"]] == ["Own draft"]
    content = text(response)
    assert "Showing Consulate-General of Belgium in Istanbul only." in content
    network_link = re.search(r'<a href="([^"]+)">Show the whole network</a>', response.content.decode())
    assert network_link

    network = client.get(reverse("calendar") + html.unescape(network_link.group(1)))
    assert sorted(item.title for item in network.context["items"]) == ["Ankara's", "Own draft"]
    assert "Show Consulate-General of Belgium in Istanbul only" in text(network)
    # The filters' choice of a post, country or region is taken as it is.
    chosen = calendar(client, view="month", date=DAY.isoformat(), post="be-emb-ankara")
    assert [item.title for item in chosen.context["items"]] == ["Ankara's"]


def test_central_sees_the_whole_network_by_default(client, reviewer, own, foreign):
    client.force_login(reviewer)
    response = calendar(client, view="month", date=DAY.isoformat())
    assert sorted(item.title for item in response.context["items"]) == ["Ankara's", "Own draft"]
    assert "Show the whole network" not in text(response)


def test_the_feed_address_of_post_staff_names_the_post_the_page_shows(client, editor, own):
    client.force_login(editor)
    client.post(reverse("calendar_feed_renew"))
    content = text(calendar(client, view="month", date=DAY.isoformat()))
    assert re.search(r'id="feed-url"[^>]*value="[^"]*\.ics\?[^"]*post=be-cg-istanbul', content)


def test_an_unknown_scope_is_refused_with_a_message(client, editor):
    client.force_login(editor)
    response = calendar(client, scope="everything")
    assert response.status_code == 400
    assert "Unknown scope: use scope=network, or leave it out." in text(response)


def test_without_a_chosen_view_the_page_carries_the_grid_for_wide_and_the_agenda_for_narrow_screens(
    client, editor, own
):
    client.force_login(editor)
    content = calendar(client, date=DAY.isoformat()).content.decode()
    assert re.search(r'<div class="calendar-panel wide-only">\s*<h2 id="month-caption"', content)
    assert re.search(r'<div class="calendar-panel narrow-only">\s*<section class="agenda"', content)
    # The form keeps "no view": applying filters leaves the choice to the screen.
    assert '<input type="hidden" name="view" value="">' in content


def test_a_view_picked_in_the_address_is_kept_for_the_browser_session(client, editor, own):
    client.force_login(editor)
    picked = calendar(client, view="month", date=DAY.isoformat())
    assert picked.cookies["calendar_view"].value == "month"
    assert picked.cookies["calendar_view"]["max-age"] == ""  # a session cookie
    again = calendar(client, date=DAY.isoformat())
    assert again.context["params"].view == "month"
    assert "narrow-only" not in again.content.decode()
    # A day's agenda from a "+N more" link is a look, not a choice.
    day = calendar(client, view="agenda", span="day", date=DAY.isoformat())
    assert "calendar_view" not in day.cookies


def test_the_calendar_without_a_chosen_view_runs_the_same_queries_with_few_and_many_entries(
    client, editor, istanbul
):
    channel = make_channel(post=istanbul, platform="x")
    client.force_login(editor)

    def count() -> int:
        calendar(client, date=DAY.isoformat())  # warm: the session, the fragments' keys
        from django.core.cache import cache

        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert calendar(client, date=DAY.isoformat()).status_code == 200
        return len(queries)

    make_publication(post=istanbul, author=editor, local_date=DAY, channels=[channel])
    few = count()
    for n in range(30):
        make_publication(
            post=istanbul, author=editor, local_date=date(2026, 3, 2 + n % 25), channels=[channel]
        )
    assert count() == few
