"""Filters of the calendar and the queue: labelled choices, pickers, chips, and the last filters
saved per user (applied to a page opened bare, forgotten by "Clear all", bad values dropped)."""

from __future__ import annotations

import html
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from calendar_app.filters import (
    PublicationFilter,
    chosen_filters,
    country_choices,
    drop_unknown_values,
    filter_names,
    language_choices,
    names_a_filter,
)
from calendar_app.forms import DeclareCrisisForm, ProposalForm
from calendar_app.models import FilteredPage, Publication, SavedFilter
from calendar_app.views.review import ApprovalFilter
from tests.calendar_factories import make_campaign, make_publication
from tests.factories import make_post

DAY = date(2026, 3, 10)
#: What central sees on the calendar of `world` (a publication in review is the queue's).
ALL = {"istanbul", "ankara", "tokyo"}


@pytest.fixture(autouse=True)
def _no_mfa_prompt(settings):
    settings.REQUIRE_MFA_FOR_REVIEWERS = False


@pytest.fixture
def tokyo(db):
    return make_post(
        code="be-emb-tokyo",
        name="Embassy of Belgium in Tokyo",
        city="Tokyo",
        country="JP",
        timezone="Asia/Tokyo",
        host_languages="ja",
        publishing_languages="en,ja",
    )


@pytest.fixture
def world(istanbul, ankara, tokyo, editor, reviewer):
    """One approved publication on each post, one in review on Istanbul, one in a campaign."""
    campaign = make_campaign(name="Winter")
    made = {
        "istanbul": make_publication(post=istanbul, author=editor, title="istanbul", status="approved"),
        "ankara": make_publication(post=ankara, author=editor, title="ankara", status="approved"),
        "tokyo": make_publication(
            post=tokyo, author=editor, title="tokyo", status="approved", campaign=campaign
        ),
        "review": make_publication(
            post=istanbul, author=editor, title="in review", status="in_review", variants={"ja": "Konnichiwa"}
        ),
    }
    return {"campaign": campaign, **made}


def calendar(client, **params):
    return client.get(reverse("calendar"), {"view": "month", "date": DAY.isoformat(), **params})


def titles(response) -> set[str]:
    return {item.title for item in response.context["items"]}


def text(response) -> str:
    return html.unescape(response.content.decode())


def chips(response) -> list[tuple[str, str]]:
    """(text, link) of each chip, as the page shows them."""
    found = re.findall(r'<a class="chip" href="([^"]*)">(.*?)</a>', response.content.decode(), re.S)
    return [
        (" ".join(re.sub(r"<[^>]+>", " ", html.unescape(body)).split()), html.unescape(href))
        for href, body in found
    ]


def query_of(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query, keep_blank_values=True)


def saved(user, page=FilteredPage.CALENDAR) -> dict | None:
    row = SavedFilter.objects.filter(user=user, page=page).first()
    return row.query if row else None


# --- Parsing ---------------------------------------------------------------------------------


def test_the_filters_chosen_in_a_query_are_its_non_empty_values_in_the_filters_order():
    query = QueryDict(
        "status=approved&post=be-cg-istanbul&post=&post=be-emb-ankara&country=&view=month&tz=UTC"
    )
    names = filter_names(PublicationFilter)
    assert chosen_filters(query, names) == {
        "post": ["be-cg-istanbul", "be-emb-ankara"],
        "status": ["approved"],
    }
    # Named but empty still says something: the viewer took every filter off.
    assert names_a_filter(QueryDict("country="), names)
    assert not names_a_filter(QueryDict("view=month&date=2026-03-10&tz=UTC&page=2"), names)


def test_the_queue_filters_are_the_calendars_without_status_platform_and_partner_with_its_own_two():
    assert filter_names(ApprovalFilter) == [
        "post", "country", "region", "campaign", "kind", "language", "waiting", "warnings"
    ]  # fmt: skip


def test_a_saved_value_that_no_longer_exists_is_dropped_value_by_value(world, istanbul):
    form = PublicationFilter(
        QueryDict("post=be-cg-istanbul&post=be-emb-gone&status=flying&country=TR&kind=event"),
        queryset=Publication.objects.all(),
    ).form
    saved_values = {
        "post": ["be-cg-istanbul", "be-emb-gone"],
        "status": ["flying"],
        "country": ["TR"],
        "kind": ["event"],
        "nonsense": ["1"],
    }
    assert not form.is_valid()
    kept, dropped = drop_unknown_values(form, saved_values)
    assert kept == {"post": ["be-cg-istanbul"], "country": ["TR"], "kind": ["event"]}
    assert dropped == {"post": ["be-emb-gone"], "status": ["flying"]}


def test_countries_and_languages_are_those_of_the_network_named_in_the_users_language(world):
    with translation.override("fr"):
        assert country_choices() == [("JP", "Japon"), ("TR", "Turquie")]
        languages = dict(language_choices())
    # The network's four languages and the posts' host and publishing ones.
    assert set(languages) == {"nl", "fr", "de", "en", "tr", "ja"}
    assert (languages["tr"], languages["nl"]) == ("Turc", "Néerlandais")
    with translation.override("nl"):
        names = [name for _code, name in language_choices()]
    assert names == sorted(names, key=str.casefold) and "Turks" in names


# --- The page: labels, pickers, chips ----------------------------------------------------------


def test_every_choice_says_what_nothing_chosen_means_and_no_dashes_are_left(client, reviewer, world):
    client.force_login(reviewer)
    page = text(calendar(client))
    assert "---------" not in page
    for label in ("All regions", "All platforms", "Any language", "Any status", "Any kind"):
        assert f'<option value="" selected>{label}</option>' in page
    for name, placeholder in (
        ("post", "All posts"),
        ("country", "All countries"),
        ("campaign", "All campaigns"),
        ("partner", "Any or no partner"),
    ):
        picker = re.search(rf'<select name="{name}"[^>]*>', page).group(0)
        assert "multiple" in picker and "data-picker" in picker
        assert f'data-placeholder="{placeholder}"' in picker
    # The language is chosen from a list, named, not typed as a code.
    assert '<select name="language"' in page and '<option value="ja">Japanese</option>' in page
    queue = text(client.get(reverse("approvals")))
    assert '<option value="" selected>Any time</option>' in queue and "---------" not in queue


def test_several_posts_campaigns_or_countries_are_one_filter_each(client, reviewer, world):
    client.force_login(reviewer)
    both = calendar(client, post=["be-cg-istanbul", "be-emb-tokyo"], status="approved")
    assert titles(both) == {"istanbul", "tokyo"}
    assert titles(calendar(client, country=["JP", "TR"], status="approved")) == {
        "istanbul",
        "ankara",
        "tokyo",
    }
    assert titles(calendar(client, campaign=[world["campaign"].pk])) == {"tokyo"}
    assert titles(calendar(client, language="JA")) == {"in review"}


def test_each_active_filter_is_a_chip_that_links_to_the_page_without_it(client, reviewer, world):
    client.force_login(reviewer)
    response = calendar(client, post=["be-cg-istanbul", "be-emb-tokyo"], status="approved", tz="UTC")
    shown = chips(response)
    assert [label for label, _link in shown] == [
        "Remove the filter Posts: Consulate-General of Belgium in Istanbul ×",
        "Remove the filter Posts: Embassy of Belgium in Tokyo ×",
        "Remove the filter Status: Approved ×",
    ]
    without_istanbul = query_of(shown[0][1])
    assert without_istanbul["post"] == ["be-emb-tokyo"] and without_istanbul["status"] == ["approved"]
    assert without_istanbul["tz"] == ["UTC"] and without_istanbul["view"] == ["month"]
    # The last value of a filter taken off stays named, empty: the saved filters must not return.
    assert query_of(shown[2][1])["status"] == [""]
    assert 'Filters <span class="filter-count">(3)</span>' in response.content.decode()
    clear = re.search(r'<a class="chip-clear" href="([^"]*)">Clear all</a>', response.content.decode()).group(
        1
    )
    assert query_of(html.unescape(clear)) == {
        "view": ["month"], "date": [DAY.isoformat()], "tz": ["UTC"], "clear": ["1"]
    }  # fmt: skip


def test_a_page_without_filters_shows_no_chips_and_keeps_the_form_folded(client, reviewer, world):
    client.force_login(reviewer)
    response = calendar(client)
    assert chips(response) == []
    assert '<details class="filter-panel">' in response.content.decode()
    assert "Clear all" not in text(response)


# --- Saved per user ------------------------------------------------------------------------


def test_the_last_filters_are_saved_and_applied_when_the_page_is_opened_without_any(client, reviewer, world):
    client.force_login(reviewer)
    calendar(client, post="be-cg-istanbul", status="approved", tz="UTC")
    assert saved(reviewer) == {"post": ["be-cg-istanbul"], "status": ["approved"]}

    response = client.get(reverse("calendar"), {"view": "agenda", "date": DAY.isoformat()})
    assert response.status_code == 200
    assert titles(response) == {"istanbul"}
    assert "These are the filters you used last time." in text(response)
    assert len(chips(response)) == 2
    # The page's own links carry them, as if they had been in the address.
    assert "post=be-cg-istanbul" in response.context["filter_query"]


def test_clear_all_forgets_the_saved_filters(client, reviewer, world):
    client.force_login(reviewer)
    calendar(client, post="be-cg-istanbul")
    response = calendar(client, clear="1")
    assert saved(reviewer) is None
    assert titles(response) == ALL
    assert "clear" not in response.context["filter_query"]
    assert titles(calendar(client)) == ALL


def test_taking_the_last_filter_off_forgets_them_too(client, reviewer, world):
    client.force_login(reviewer)
    calendar(client, status="approved")
    response = calendar(client, status="")
    assert saved(reviewer) is None
    assert titles(response) == ALL


def test_each_page_and_each_user_has_its_own_saved_filters(client, reviewer, second_reviewer, world):
    client.force_login(reviewer)
    calendar(client, country="JP")
    client.get(reverse("approvals"), {"country": "TR"})
    assert saved(reviewer) == {"country": ["JP"]}
    assert saved(reviewer, FilteredPage.APPROVALS) == {"country": ["TR"]}
    client.force_login(second_reviewer)
    assert titles(calendar(client)) == ALL


def test_browsing_with_the_same_filters_writes_nothing(client, reviewer, world):
    client.force_login(reviewer)
    calendar(client, country="TR")
    before = SavedFilter.objects.get(user=reviewer).updated_at
    with CaptureQueriesContext(connection) as captured:
        calendar(client, country="TR", date="2026-04-10")
    assert not [
        q for q in captured.captured_queries if "savedfilter" in q["sql"] and "SELECT" not in q["sql"]
    ]
    assert SavedFilter.objects.get(user=reviewer).updated_at == before


@pytest.mark.parametrize(
    ("stored", "control", "left"),
    [
        ({"post": ["be-cg-istanbul", "be-emb-gone"]}, "post", {"post": ["be-cg-istanbul"]}),
        ({"status": ["flying"], "country": ["JP"]}, "status", {"country": ["JP"]}),
        ({"language": ["xx"]}, "language", None),
        ({"campaign": ["999999"], "kind": ["regular"]}, "campaign", {"kind": ["regular"]}),
        ({"post": "be-emb-gone", "region": [["europe"]], "kind": 7}, "post", None),
    ],
    ids=["deleted-post", "unknown-status", "unknown-language", "deleted-campaign", "malformed"],
)
def test_a_saved_value_that_no_longer_exists_is_dropped_with_a_message_next_to_its_control(
    client, reviewer, world, stored, control, left
):
    SavedFilter.objects.create(user=reviewer, page=FilteredPage.CALENDAR, query=stored)
    client.force_login(reviewer)
    response = calendar(client)
    assert response.status_code == 200
    note = re.search(rf'<p class="filter-note" id="id_{control}_note">(.*?)</p>', text(response), re.S)
    assert note and "of your saved filters here no longer exist" in note.group(1)
    assert re.search(rf'<select name="{control}"[^>]*aria-describedby="id_{control}_note"', text(response))
    # The panel opens on the message; what is left is applied and saved without the bad value.
    assert '<details class="filter-panel" open>' in response.content.decode()
    assert saved(reviewer) == left
    # What is left is a chip each, as if it had been in the address.
    assert len(chips(response)) == sum(len(values) for values in (left or {}).values())


def test_a_deleted_post_in_a_saved_filter_is_named_in_the_message(client, reviewer, world, tokyo):
    SavedFilter.objects.create(
        user=reviewer, page=FilteredPage.APPROVALS, query={"post": ["be-emb-tokyo", "be-cg-istanbul"]}
    )
    Publication.objects.filter(post=tokyo).delete()
    tokyo.delete()
    client.force_login(reviewer)
    response = client.get(reverse("approvals"))
    assert response.status_code == 200
    assert "One choice of your saved filters here no longer exists: it was left out." in text(response)
    assert saved(reviewer, FilteredPage.APPROVALS) == {"post": ["be-cg-istanbul"]}


def test_an_unknown_value_in_the_address_is_a_400_with_the_message_next_to_the_control(
    client, reviewer, world
):
    client.force_login(reviewer)
    response = calendar(client, post=["be-cg-istanbul", "be-emb-nowhere"])
    assert response.status_code == 400
    assert re.search(r'<ul class="errorlist" id="id_post_error"><li>Select a valid choice', text(response))
    assert '<details class="filter-panel" open>' in response.content.decode()
    assert saved(reviewer) is None


def test_saved_filters_cost_the_same_queries_with_few_and_with_many_publications(
    client, reviewer, istanbul, ankara, editor
):
    client.force_login(reviewer)

    def bare_page_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = calendar(client)
        assert response.status_code == 200 and "These are the filters you used last time." in text(response)
        return len(captured.captured_queries)

    SavedFilter.objects.create(
        user=reviewer, page=FilteredPage.CALENDAR, query={"post": ["be-cg-istanbul"], "country": ["TR"]}
    )
    make_publication(post=istanbul, author=editor, status="approved")
    calendar(client)  # warm the session
    few = bare_page_queries()
    for n in range(30):
        make_publication(post=istanbul if n % 2 else ankara, author=editor, status="approved")
    assert bare_page_queries() == few


# --- Countries and posts chosen by name in the crisis and proposal forms ----------------------


def test_the_crisis_declaration_names_countries_and_posts_in_the_users_language(istanbul, ankara):
    with translation.override("fr"):
        form = DeclareCrisisForm(central=True)
        rendered = str(form["target_countries"])
        posts = str(form["target_posts"])
    assert '<option value="TR">Turquie</option>' in rendered and "data-picker" in rendered
    assert "data-picker" in posts and "Embassy of Belgium in Ankara" in posts
    chosen = DeclareCrisisForm(
        {"title": "Coup", "reason": "Tanks.", "target": "countries", "target_countries": ["TR", "DE"]},
        central=True,
    )
    assert chosen.is_valid(), chosen.errors
    assert chosen.cleaned_data["target_countries"] == ["TR", "DE"]


def test_the_proposal_form_takes_countries_chosen_by_name_or_typed_as_before(fit):
    base = {"title": "Flanders days", "target": "countries"}
    for given in (["TR", "DE"], "TR, de", ["tr;DE"]):
        form = ProposalForm({**base, "target_countries": given}, partner=fit)
        form.is_valid()
        assert form.cleaned_data["target_countries"] == ["TR", "DE"], given
    refused = ProposalForm({**base, "target_countries": ["TR", "ZZ", "XX"]}, partner=fit)
    assert not refused.is_valid()
    assert refused.errors["target_countries"] == ["Unknown country code: ZZ, XX."]
    assert '<option value="TR" selected>Türkiye</option>' in str(
        ProposalForm({**base, "target_countries": "TR, DE"}, partner=fit)["target_countries"]
    )
