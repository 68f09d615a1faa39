"""Crisis mode through its pages: who may do what, bad input, the banner, held badges,
query budgets and advisory templates. (The transitions themselves: test_crisis.py.)"""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from calendar_app import workflow
from calendar_app.models import (
    Crisis,
    CrisisEvent,
    CrisisTemplate,
    Delivery,
    NotificationPreference,
    Publication,
    PublicationEvent,
    PublicationKind,
    PublicationStatus,
)
from calendar_app.workflow import AdvisoryContent
from diplomacy import roles
from diplomacy.models import Membership, Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user

#: A Monday morning; the regular publications below are due on the Tuesday.
NOW = "2026-03-09 07:00:00+00:00"
DAY = date(2026, 3, 10)
TEXTS = {"nl": "Hallo.", "fr": "Bonjour.", "en": "Hello.", "tr": "Merhaba."}
ADVISORY = {
    "nl": "Blijf binnen en volg de instructies van de lokale autoriteiten.",
    "fr": "Restez à l'intérieur et suivez les consignes des autorités locales.",
    "en": "Stay indoors and follow the instructions of the local authorities.",
}
S = PublicationStatus


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _no_mfa_prompt(settings):
    # CI may run with DEBUG off, which turns the MFA set-up redirect on for reviewers.
    settings.REQUIRE_MFA_FOR_REVIEWERS = False


@pytest.fixture
def channels(istanbul, ankara):
    return {
        # Publishes the post's languages, so an advisory in Dutch and French has something to send.
        "istanbul_facebook": make_channel(
            post=istanbul, platform="facebook", handle="@Belgium.Istanbul", content_languages=""
        ),
        "istanbul_x": make_channel(post=istanbul, platform="x", handle="@BelgiumInIst"),
        "ankara_facebook": make_channel(post=ankara, platform="facebook", handle="@BelgiumInTurkey"),
    }


@pytest.fixture
def berlin(db):
    return make_post(
        code="be-emb-berlin",
        name="Embassy of Belgium in Berlin",
        city="Berlin",
        country="DE",
        timezone="Europe/Berlin",
        host_languages="de",
        publishing_languages="nl,fr,de",
    )


@pytest.fixture
def berlin_editor(berlin):
    return make_user(email="editor.berlin@example.org", role=Role.POST_EDITOR, post=berlin)


def approved(post, author, *, title=None, day=DAY, at=time(9), channels=None) -> Publication:
    return make_publication(
        post=post,
        author=author,
        title=title,
        status=S.APPROVED,
        local_date=day,
        local_time=at,
        variants=TEXTS,
        channels=channels,
    )


def declare(
    actor, *, title="Coup attempt in Turkey", countries=("TR",), posts=(), whole_network=False
) -> Crisis:
    return workflow.declare_crisis(
        actor,
        title=title,
        reason="Tanks on the Bosphorus bridges; airports closed.",
        whole_network=whole_network,
        countries=list(countries),
        posts=list(posts),
    )


def content(**changes) -> AdvisoryContent:
    fields = {"title": "Stay indoors", "variants": dict(ADVISORY), "platforms": ["facebook", "x"]}
    fields.update(changes)
    return AdvisoryContent(**fields)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def field_error(response, name: str) -> str:
    """The errors the page shows under field `name` (its `<ul class="errorlist">`)."""
    match = re.search(
        rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', response.content.decode(), re.S
    )
    assert match, f"no error shown for {name}"
    return re.sub(r"<[^>]+>", " ", match.group(1)).strip()


# --- The permission matrix ----------------------------------------------------------------

PERSONAS = ["anonymous", "outsider", "partner_user", "editor", "manager", "reviewer", "second_reviewer"]

# action -> expected status per persona, in PERSONAS order. 302 = done (or sent to log in,
# for the anonymous visitor); 404 where a crisis that does not take in the user's post
# must not even be known; 400 where the form offers only the manager's own post and a
# forged other target is refused.
#
# "own" is the crisis for Turkey, declared by `reviewer`: it takes in the Istanbul post
# of `editor` and `manager`. "own_post" is a crisis `manager` declared for Istanbul.
# "foreign" is a crisis for the Ankara post only: not the business of Istanbul's staff.
MATRIX = {
    "view list": (302, 403, 403, 200, 200, 200, 200),
    "view own crisis": (302, 404, 404, 200, 200, 200, 200),
    "view foreign crisis": (302, 404, 404, 404, 404, 200, 200),
    "declare for Turkey": (302, 403, 403, 403, 400, 302, 302),
    "declare for own post": (302, 403, 403, 403, 302, 302, 302),
    "declare for another post": (302, 403, 403, 403, 400, 302, 302),
    "end own crisis": (302, 404, 404, 403, 403, 302, 302),
    "end own post's crisis": (302, 404, 404, 403, 302, 302, 302),
    "end foreign crisis": (302, 404, 404, 404, 404, 302, 302),
    "acknowledge own crisis": (302, 404, 404, 403, 403, 403, 302),
    "release a held publication": (302, 404, 404, 403, 403, 302, 302),
    "compose an advisory": (302, 404, 404, 403, 403, 200, 200),
    "compose for a foreign crisis": (302, 404, 404, 404, 404, 200, 200),
    "break-glass for own post": (302, 404, 404, 403, 200, 403, 403),
    "break-glass for another post": (302, 404, 404, 404, 404, 403, 403),
    "review after the fact": (302, 403, 403, 403, 403, 302, 302),
    "toggle on-call": (302, 403, 403, 403, 403, 302, 302),
    "manage templates": (302, 403, 403, 403, 403, 200, 200),
    "edit a template": (302, 403, 403, 403, 403, 200, 200),
    "delete a template": (302, 403, 403, 403, 403, 302, 302),
}


@pytest.fixture
def world(istanbul, ankara, channels, editor, manager, reviewer, second_reviewer):
    """A crisis for Turkey holding an Istanbul publication, one for Istanbul, one for Ankara,
    a break-glass advisory to review and an advisory template."""
    held = approved(istanbul, editor, title="Held reception", channels=[channels["istanbul_facebook"]])
    own = declare(reviewer)
    own_post = declare(manager, title="Flooding in Istanbul", countries=(), posts=[istanbul])
    foreign = declare(reviewer, title="Earthquake near Ankara", countries=(), posts=[ankara])
    glass = workflow.break_glass(manager, own, istanbul, content(), reason="Central unreachable.")
    template = CrisisTemplate.objects.create(name="Stay indoors", texts=dict(ADVISORY), updated_by=reviewer)
    held.refresh_from_db()
    assert held.held_by == own
    return {
        "held": held,
        "own": own,
        "own_post": own_post,
        "foreign": foreign,
        "glass": glass,
        "template": template,
        "istanbul": istanbul,
        "ankara": ankara,
    }


def request_for(action: str, w: dict) -> tuple[str, str, dict]:
    """(method, url, data) of one action on the world above."""
    declare_data = {"title": "Unrest", "reason": "Demonstrations downtown."}
    crisis_url = {name: w[name].pk for name in ("own", "own_post", "foreign")}
    table = {
        "view list": ("get", reverse("crisis_list"), {}),
        "view own crisis": ("get", reverse("crisis_detail", args=[crisis_url["own"]]), {}),
        "view foreign crisis": ("get", reverse("crisis_detail", args=[crisis_url["foreign"]]), {}),
        "declare for Turkey": (
            "post",
            reverse("crisis_declare"),
            {**declare_data, "target": "countries", "target_countries": "TR"},
        ),
        "declare for own post": (
            "post",
            reverse("crisis_declare"),
            {**declare_data, "target": "posts", "target_posts": [w["istanbul"].pk]},
        ),
        "declare for another post": (
            "post",
            reverse("crisis_declare"),
            {**declare_data, "target": "posts", "target_posts": [w["ankara"].pk]},
        ),
        "end own crisis": ("post", reverse("crisis_action", args=[crisis_url["own"], "end"]), {}),
        "end own post's crisis": ("post", reverse("crisis_action", args=[crisis_url["own_post"], "end"]), {}),
        "end foreign crisis": ("post", reverse("crisis_action", args=[crisis_url["foreign"], "end"]), {}),
        "acknowledge own crisis": (
            "post",
            reverse("crisis_action", args=[crisis_url["own"], "acknowledge"]),
            {},
        ),
        "release a held publication": (
            "post",
            reverse("crisis_release", args=[crisis_url["own"], w["held"].pk]),
            {},
        ),
        "compose an advisory": ("get", reverse("advisory_compose", args=[crisis_url["own"]]), {}),
        "compose for a foreign crisis": (
            "get",
            reverse("advisory_compose", args=[crisis_url["foreign"]]),
            {},
        ),
        "break-glass for own post": ("get", reverse("break_glass", args=[crisis_url["own"]]), {}),
        "break-glass for another post": ("get", reverse("break_glass", args=[crisis_url["foreign"]]), {}),
        "review after the fact": ("post", reverse("crisis_review_after", args=[w["glass"].pk]), {}),
        "toggle on-call": ("post", reverse("crisis_on_call"), {"on_call": "1"}),
        "manage templates": ("get", reverse("crisis_templates"), {}),
        "edit a template": ("get", reverse("crisis_template_edit", args=[w["template"].pk]), {}),
        "delete a template": ("post", reverse("crisis_template_delete", args=[w["template"].pk]), {}),
    }
    return table[action]


def state() -> tuple:
    """Everything a crisis action may change."""
    return (
        list(Crisis.objects.order_by("pk").values_list("pk", "ended_at")),
        CrisisEvent.objects.count(),
        list(Publication.objects.order_by("pk").values_list("pk", "status", "held_by", "missed_in")),
        PublicationEvent.objects.count(),
        list(CrisisTemplate.objects.order_by("pk").values_list("pk", "name")),
        list(NotificationPreference.objects.filter(on_call=True).values_list("user_id", flat=True)),
    )


def test_the_matrix_names_every_action_once():
    assert all(len(row) == len(PERSONAS) for row in MATRIX.values())


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("action", list(MATRIX))
def test_each_role_gets_the_expected_answer_for_each_crisis_action(client, persona, action, world, request):
    name = request.node.callspec.params["persona"]
    expected = MATRIX[action][PERSONAS.index(name)]
    method, url, data = request_for(action, world)
    if persona is not None:
        client.force_login(persona)
    before = state()
    response = getattr(client, method)(url, data)
    assert response.status_code == expected, (action, name, response.status_code)
    if persona is None:
        assert response["Location"].startswith(reverse("account_login"))
    # A refusal changes nothing; a POST that is done changes something.
    done = method == "post" and expected == 302 and persona is not None
    assert (state() != before) == done, (action, name)


@pytest.mark.parametrize("persona", ["outsider", "partner_user"], indirect=True)
def test_partners_and_outsiders_never_see_a_crisis_page_nor_the_menu_item(client, persona, world):
    client.force_login(persona)
    for url in (
        reverse("crisis_list"),
        reverse("crisis_detail", args=[world["own"].pk]),
        reverse("advisory_compose", args=[world["own"].pk]),
        reverse("crisis_templates"),
    ):
        assert client.get(url).status_code in (403, 404), url
    home = client.get(reverse("home"))
    assert reverse("crisis_list") not in home.content.decode()


def test_post_staff_see_only_the_crises_of_their_posts_on_the_list(client, editor, world):
    client.force_login(editor)
    response = client.get(reverse("crisis_list"))
    shown = {crisis.pk for crisis in response.context["active"]}
    assert shown == {world["own"].pk, world["own_post"].pk}
    assert "Earthquake near Ankara" not in text(response)


def test_post_staff_see_only_their_posts_held_publications_on_a_crisis(client, ankara, world):
    ankara_manager = make_user(email="manager.ankara@example.org", role=Role.POST_MANAGER, post=ankara)
    client.force_login(ankara_manager)
    response = client.get(reverse("crisis_detail", args=[world["own"].pk]))
    assert response.status_code == 200
    assert response.context["held_count"] == 0
    assert "Held reception" not in text(response)
    # Nor the Istanbul manager's break-glass advisory on the timeline.
    assert world["glass"].title not in text(response)


# --- The pages do what they say -----------------------------------------------------------


def test_central_declares_a_crisis_for_turkey_and_is_told_how_many_publications_are_held(
    client, reviewer, istanbul, ankara, editor
):
    approved(istanbul, editor, title="Istanbul reception")
    approved(ankara, editor, title="Ankara concert")
    client.force_login(reviewer)
    response = client.post(
        reverse("crisis_declare"),
        {"title": "Coup attempt", "reason": "Tanks.", "target": "countries", "target_countries": "tr"},
    )
    crisis = Crisis.objects.get()
    assert response.status_code == 302
    assert response["Location"] == crisis.get_absolute_url()
    assert crisis.country_list == ["TR"]
    assert messages_of(response) == ["Crisis declared. 2 scheduled publications are held."]
    assert set(crisis.held_publications.values_list("title", flat=True)) == {
        "Istanbul reception",
        "Ankara concert",
    }


def test_a_post_manager_is_offered_only_their_own_post_to_declare_for(client, manager, istanbul, ankara):
    client.force_login(manager)
    response = client.get(reverse("crisis_list"))
    form = response.context["form"]
    assert set(form.fields) == {"title", "reason", "target_posts"}
    assert list(form.fields["target_posts"].queryset) == [istanbul]
    response = client.post(
        reverse("crisis_declare"),
        {"title": "Flooding", "reason": "The Golden Horn overflows.", "target_posts": [istanbul.pk]},
    )
    assert response.status_code == 302
    assert list(Crisis.objects.get().posts.all()) == [istanbul]


def test_central_broadcasts_an_advisory_to_every_affected_post(client, reviewer, world):
    client.force_login(reviewer)
    url = reverse("advisory_compose", args=[world["own"].pk])
    form = client.get(url).context["form"]
    assert [field.name for field in form.language_fields()][:3] == ["text_nl", "text_fr", "text_en"]
    assert "text_tr" in form.fields  # the host language of the affected posts
    response = client.post(
        url,
        {
            "title": "Stay indoors",
            "text_nl": ADVISORY["nl"],
            "text_fr": ADVISORY["fr"],
            "text_en": ADVISORY["en"],
            "platforms": ["facebook", "x"],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == world["own"].get_absolute_url()
    assert messages_of(response) == ["Advisory sent to review for 2 posts."]
    advisories = Publication.objects.filter(crisis=world["own"], status=S.IN_REVIEW)
    assert {p.post.code for p in advisories} == {"be-cg-istanbul", "be-emb-ankara"}
    by_post = {p.post.code: sorted(c.platform for c in p.channels.all()) for p in advisories}
    assert by_post == {"be-cg-istanbul": ["facebook", "x"], "be-emb-ankara": ["facebook"]}


def test_a_post_manager_breaks_glass_for_their_post_and_central_reviews_it_afterwards(
    client, manager, reviewer, istanbul, channels
):
    crisis = declare(reviewer)
    client.force_login(manager)
    url = reverse("break_glass", args=[crisis.pk])
    response = client.get(url)
    assert list(response.context["form"].fields["post"].queryset) == [istanbul]
    response = client.post(
        url,
        {
            "post": istanbul.pk,
            "title": "Stay indoors",
            "text_nl": ADVISORY["nl"],
            "text_fr": ADVISORY["fr"],
            "platforms": ["facebook"],
            "reason": "Central cannot be reached.",
            "confirm": "on",
        },
    )
    publication = Publication.objects.get(crisis=crisis)
    assert response.status_code == 302
    assert response["Location"] == publication.get_absolute_url()
    assert publication.status == S.APPROVED
    assert messages_of(response) == ["Published without review. Central will review it after the fact."]
    client.force_login(reviewer)
    listed = client.get(reverse("crisis_list"))
    assert [p.pk for p in listed.context["after_the_fact"]] == [publication.pk]
    response = client.post(reverse("crisis_review_after", args=[publication.pk]), {"comment": "Fine."})
    assert response.status_code == 302
    assert client.get(reverse("crisis_list")).context["after_the_fact"] == []
    detail = text(client.get(reverse("crisis_detail", args=[crisis.pk])))
    assert 'class="flagged"' in detail
    assert "Break-glass:" in detail


def test_central_releases_one_held_publication(client, reviewer, editor, istanbul):
    held = approved(istanbul, editor, title="Reception")
    crisis = declare(reviewer)
    client.force_login(reviewer)
    response = client.post(reverse("crisis_release", args=[crisis.pk, held.pk]))
    assert response.status_code == 302
    assert messages_of(response) == ["“Reception” was released: it goes out at its time."]
    held.refresh_from_db()
    assert held.held_by is None and held.missed_in is None


def test_ending_a_crisis_releases_the_future_and_lists_the_past_as_missed(
    client, frozen, reviewer, editor, istanbul
):
    soon = approved(istanbul, editor, title="Morning post", day=date(2026, 3, 9), at=time(12))
    later = approved(istanbul, editor, title="Reception next week", day=date(2026, 3, 16))
    crisis = declare(reviewer)
    frozen.move_to("2026-03-09 12:00:00+00:00")  # 15:00 in Istanbul: the morning post's time passed
    client.force_login(reviewer)
    response = client.post(reverse("crisis_action", args=[crisis.pk, "end"]))
    assert response.status_code == 302
    assert messages_of(response) == ["Crisis ended. Released: 1. Missed their time, to reschedule: 1."]
    soon.refresh_from_db()
    later.refresh_from_db()
    assert (soon.held_by, soon.missed_in) == (None, crisis)
    assert (later.held_by, later.missed_in) == (None, None)
    listing = client.get(reverse("crisis_list"))
    assert [p.title for p in listing.context["missed"]] == ["Morning post"]
    assert "Missed during a crisis: reschedule" in text(listing)
    assert [c.pk for c in listing.context["past"]] == [crisis.pk]


def test_on_call_is_toggled_on_and_off(client, reviewer):
    client.force_login(reviewer)
    client.post(reverse("crisis_on_call"), {"on_call": "1"})
    assert NotificationPreference.objects.get(user=reviewer).on_call
    page = client.get(reverse("crisis_list"))
    assert page.context["on_call"] and page.context["on_call_names"] == [str(reviewer)]
    client.post(reverse("crisis_on_call"), {"on_call": "0"})
    assert not NotificationPreference.objects.get(user=reviewer).on_call


# --- Bad input: a 4xx with a message, nothing saved ---------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"target": "posts"}, "target_posts", "Choose at least one post."),
        ({"target": "countries", "target_countries": "XX"}, "target_countries", "Unknown country code: XX."),
        (
            {"target": "countries", "target_countries": "tr, zz"},
            "target_countries",
            "Unknown country code: ZZ.",
        ),
        (
            {"target": "countries", "target_countries": " , "},
            "target_countries",
            "Name at least one country.",
        ),
        ({"target": "everywhere"}, "target", "Select a valid choice."),
        ({"target": "countries", "target_countries": "TR", "title": ""}, "title", "This field is required."),
        (
            {"target": "countries", "target_countries": "TR", "reason": "  "},
            "reason",
            "This field is required.",
        ),
    ],
)
def test_a_bad_declaration_is_refused_with_a_message_and_nothing_saved(
    client, reviewer, editor, istanbul, data, field, message
):
    held_before = approved(istanbul, editor)
    client.force_login(reviewer)
    response = client.post(
        reverse("crisis_declare"), {"title": "Unrest", "reason": "Demonstrations.", **data}
    )
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert not Crisis.objects.exists()
    held_before.refresh_from_db()
    assert held_before.held_by is None


def test_a_crisis_without_title_or_reason_is_refused_and_both_are_named(client, reviewer):
    client.force_login(reviewer)
    response = client.post(reverse("crisis_declare"), {"title": "", "reason": "", "target": "network"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"title", "reason"}
    assert not Crisis.objects.exists()


def test_a_manager_cannot_declare_for_another_post_by_forging_the_form(client, manager, ankara):
    client.force_login(manager)
    response = client.post(
        reverse("crisis_declare"),
        {"title": "Unrest", "reason": "Demonstrations.", "target_posts": [ankara.pk]},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in field_error(response, "target_posts")
    assert not Crisis.objects.exists()


def advisory_data(**changes) -> dict:
    data = {
        "title": "Stay indoors",
        "text_nl": ADVISORY["nl"],
        "text_fr": ADVISORY["fr"],
        "text_en": ADVISORY["en"],
        "platforms": ["facebook", "x"],
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("french", [None, "", "   "])
def test_an_advisory_without_french_is_refused_and_the_message_names_french(
    client, reviewer, channels, french
):
    crisis = declare(reviewer)
    client.force_login(reviewer)
    response = client.post(reverse("advisory_compose", args=[crisis.pk]), advisory_data(text_fr=french))
    assert response.status_code == 400
    assert field_error(response, "text_fr") == "This field is required."
    # The error sits with the field labelled French.
    assert re.search(r'field-invalid">\s*<label for="id_text_fr">French', response.content.decode()), (
        "the French field is not marked invalid"
    )
    assert not Publication.objects.filter(crisis=crisis).exists()


def test_an_advisory_with_no_platform_is_refused(client, reviewer, channels):
    crisis = declare(reviewer)
    client.force_login(reviewer)
    response = client.post(reverse("advisory_compose", args=[crisis.pk]), advisory_data(platforms=None))
    assert response.status_code == 400
    assert field_error(response, "platforms") == "This field is required."
    assert not Publication.objects.filter(crisis=crisis).exists()


def test_an_advisory_on_a_platform_no_affected_post_has_is_refused(client, reviewer, channels):
    crisis = declare(reviewer)
    client.force_login(reviewer)
    response = client.post(reverse("advisory_compose", args=[crisis.pk]), advisory_data(platforms=["tiktok"]))
    assert response.status_code == 400
    assert "Select a valid choice" in field_error(response, "platforms")
    assert not Publication.objects.filter(crisis=crisis).exists()


def test_an_advisory_for_an_ended_crisis_is_refused(client, reviewer, channels):
    crisis = declare(reviewer)
    workflow.end_crisis(reviewer, crisis)
    client.force_login(reviewer)
    response = client.post(reverse("advisory_compose", args=[crisis.pk]), advisory_data())
    assert response.status_code == 403
    assert not Publication.objects.filter(crisis=crisis).exists()


def break_glass_data(post, **changes) -> dict:
    data = {
        "post": post.pk,
        "title": "Stay indoors",
        "text_nl": ADVISORY["nl"],
        "text_fr": ADVISORY["fr"],
        "platforms": ["facebook"],
        "reason": "Central cannot be reached.",
        "confirm": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"reason": None}, "reason", "This field is required."),
        ({"reason": "   "}, "reason", "This field is required."),
        ({"confirm": None}, "confirm", "This field is required."),
        ({"text_fr": ""}, "text_fr", "This field is required."),
    ],
)
def test_break_glass_without_a_reason_or_the_confirmation_is_refused(
    client, reviewer, manager, istanbul, channels, changes, field, message
):
    crisis = declare(reviewer)
    client.force_login(manager)
    response = client.post(reverse("break_glass", args=[crisis.pk]), break_glass_data(istanbul, **changes))
    assert response.status_code == 400
    assert field_error(response, field) == message
    assert not Publication.objects.filter(crisis=crisis).exists()
    assert not CrisisEvent.objects.filter(verb="break_glass").exists()


def test_break_glass_by_an_editor_is_forbidden(client, reviewer, editor, istanbul, channels):
    crisis = declare(reviewer)
    client.force_login(editor)
    url = reverse("break_glass", args=[crisis.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, break_glass_data(istanbul)).status_code == 403
    assert not Publication.objects.filter(crisis=crisis).exists()


def test_break_glass_for_a_forged_other_post_is_refused(client, reviewer, manager, ankara, channels):
    """The crisis takes in Ankara too, but the form offers only the manager's own post."""
    crisis = declare(reviewer)
    client.force_login(manager)
    response = client.post(reverse("break_glass", args=[crisis.pk]), break_glass_data(ankara))
    assert response.status_code == 400
    assert "Select a valid choice" in field_error(response, "post")
    assert not Publication.objects.filter(crisis=crisis).exists()


def test_releasing_a_publication_that_is_not_held_is_a_404(client, reviewer, editor, istanbul):
    crisis = declare(reviewer)
    free = approved(istanbul, editor, title="Declared after the crisis")  # not held
    client.force_login(reviewer)
    assert client.post(reverse("crisis_release", args=[crisis.pk, free.pk])).status_code == 404
    assert client.post(reverse("crisis_release", args=[crisis.pk, 99999999])).status_code == 404
    free.refresh_from_db()
    assert free.held_by is None and free.missed_in is None


def test_releasing_twice_says_it_is_no_longer_held(client, reviewer, editor, istanbul):
    held = approved(istanbul, editor)
    crisis = declare(reviewer)
    client.force_login(reviewer)
    client.post(reverse("crisis_release", args=[crisis.pk, held.pk]))
    assert client.post(reverse("crisis_release", args=[crisis.pk, held.pk])).status_code == 404


def test_an_unknown_crisis_action_is_a_404(client, reviewer):
    crisis = declare(reviewer)
    client.force_login(reviewer)
    assert client.post(reverse("crisis_action", args=[crisis.pk, "explode"])).status_code == 404
    assert client.get(reverse("crisis_action", args=[crisis.pk, "end"])).status_code == 405
    assert Crisis.objects.get().is_active


def test_ending_an_ended_crisis_says_so(client, reviewer, second_reviewer):
    crisis = declare(reviewer)
    client.force_login(reviewer)
    client.post(reverse("crisis_action", args=[crisis.pk, "end"]))
    ended_at = Crisis.objects.get().ended_at
    # A colleague with the page still open clicks "End" too.
    client.force_login(second_reviewer)
    response = client.post(reverse("crisis_action", args=[crisis.pk, "end"]))
    assert Crisis.objects.get().ended_at == ended_at
    assert CrisisEvent.objects.filter(verb="ended").count() == 1
    assert response.status_code == 302
    # (The first click's confirmation is still in the same browser's message cookie.)
    assert messages_of(response)[-1:] == ["This crisis has already ended."]


def test_ending_an_ended_crisis_changes_nothing(client, reviewer, second_reviewer):
    crisis = declare(reviewer)
    workflow.end_crisis(reviewer, crisis)
    ended_at = Crisis.objects.get().ended_at
    client.force_login(second_reviewer)
    response = client.post(reverse("crisis_action", args=[crisis.pk, "end"]))
    assert response.status_code in (302, 400, 403, 409)
    assert Crisis.objects.get().ended_at == ended_at
    assert CrisisEvent.objects.filter(verb="ended").count() == 1


@pytest.mark.parametrize("value", ["abc", "99999999999999", "", "-1", "1.5", "0"])
def test_a_bad_template_parameter_on_the_composer_is_ignored(client, reviewer, channels, value):
    crisis = declare(reviewer)
    client.force_login(reviewer)
    for name in ("advisory_compose",):
        response = client.get(reverse(name, args=[crisis.pk]), {"template": value})
        assert response.status_code == 200
        assert response.context["template"] is None
        assert response.context["form"]["title"].value() in (None, "")


@pytest.mark.parametrize("value", ["abc", "99999999999999"])
def test_a_bad_template_parameter_on_break_glass_is_ignored(client, reviewer, manager, channels, value):
    crisis = declare(reviewer)
    client.force_login(manager)
    response = client.get(reverse("break_glass", args=[crisis.pk]), {"template": value})
    assert response.status_code == 200


def test_a_superscript_digit_as_template_is_ignored_not_a_500(client, reviewer, channels):
    crisis = declare(reviewer)
    client.force_login(reviewer)
    response = client.get(reverse("advisory_compose", args=[crisis.pk]), {"template": "²"})
    assert response.status_code == 200


# --- The banner ---------------------------------------------------------------------------


def banner(response) -> str:
    match = re.search(r'<aside class="crisis-banner".*?</aside>', response.content.decode(), re.S)
    return match.group(0) if match else ""


@pytest.mark.parametrize("persona", ["reviewer", "editor", "manager"], indirect=True)
@pytest.mark.parametrize("path", ["/", "/calendar/", "/approvals/", "/crisis/"])
def test_central_and_staff_of_an_affected_post_see_the_banner_on_every_page(client, persona, path):
    crisis = declare(make_user(role=Role.CENTRAL_REVIEWER))
    client.force_login(persona)
    response = client.get(path)
    if response.status_code == 403:  # /approvals/ is central's
        return
    assert response.status_code == 200
    shown = banner(response)
    assert "Coup attempt in Turkey" in shown
    assert f'href="{crisis.get_absolute_url()}"' in shown


@pytest.mark.parametrize("path", ["/", "/calendar/"])
def test_staff_of_an_unaffected_post_do_not_see_the_banner(client, reviewer, berlin_editor, path):
    declare(reviewer)
    client.force_login(berlin_editor)
    response = client.get(path)
    assert response.status_code == 200
    assert banner(response) == ""


def test_staff_of_a_post_outside_a_post_crisis_do_not_see_it(client, reviewer, editor, ankara):
    declare(reviewer, title="Earthquake near Ankara", countries=(), posts=[ankara])
    client.force_login(editor)
    assert banner(client.get("/")) == ""


@pytest.mark.parametrize("persona", ["partner_user", "outsider"], indirect=True)
def test_partners_and_outsiders_never_see_the_banner(client, reviewer, persona):
    declare(reviewer, title="Whole network", countries=(), whole_network=True)
    client.force_login(persona)
    response = client.get("/")
    assert response.status_code == 200
    assert banner(response) == ""


def test_an_anonymous_visitor_sees_no_banner(client, reviewer):
    declare(reviewer)
    response = client.get(reverse("account_login"))
    assert banner(response) == ""


def test_the_banner_disappears_when_the_crisis_ends(client, reviewer, editor):
    crisis = declare(reviewer)
    client.force_login(editor)
    assert banner(client.get("/calendar/"))
    workflow.end_crisis(reviewer, crisis)
    assert banner(client.get("/calendar/")) == ""
    client.force_login(reviewer)
    assert banner(client.get("/")) == ""


def test_the_banner_lists_each_active_crisis(client, reviewer, editor, istanbul):
    declare(reviewer)
    declare(reviewer, title="Flooding in Istanbul", countries=(), posts=[istanbul])
    client.force_login(editor)
    shown = banner(client.get("/"))
    assert shown.count("<li>") == 2
    assert "Coup attempt in Turkey" in shown and "Flooding in Istanbul" in shown


def test_the_banner_costs_at_most_one_query_for_the_crises(client, editor):
    """The banner is lazy: one query for active crises, none when the page does not show it."""
    client.force_login(editor)
    client.get("/")  # warm up
    with CaptureQueriesContext(connection) as captured:
        client.get("/")
    crisis_queries = [q["sql"] for q in captured.captured_queries if "calendar_app_crisis" in q["sql"]]
    assert len(crisis_queries) <= 1


# --- Held and missed badges ---------------------------------------------------------------


@pytest.mark.parametrize("view", ["agenda", "month", "week"])
@pytest.mark.parametrize("persona", ["reviewer", "editor"], indirect=True)
def test_a_held_publication_shows_held_on_the_calendar(client, reviewer, istanbul, persona, view):
    author = make_user(role=Role.POST_EDITOR, post=istanbul)
    approved(istanbul, author, title="Held reception")
    declare(reviewer)
    client.force_login(persona)
    response = client.get(reverse("calendar"), {"view": view, "date": DAY.isoformat()})
    page = text(response)
    assert "Held reception" in page
    assert "Held: crisis" in page
    assert "Missed: reschedule" not in page


@pytest.mark.parametrize("view", ["agenda", "month"])
def test_a_missed_publication_shows_missed_on_the_calendar(client, frozen, reviewer, editor, istanbul, view):
    approved(istanbul, editor, title="Morning post", day=date(2026, 3, 9), at=time(12))
    crisis = declare(reviewer)
    frozen.move_to("2026-03-09 12:00:00+00:00")
    workflow.end_crisis(reviewer, crisis)
    client.force_login(editor)
    response = client.get(reverse("calendar"), {"view": view, "date": "2026-03-09"})
    page = text(response)
    assert "Morning post" in page
    assert "Missed: reschedule" in page
    assert "Held: crisis" not in page


def test_nothing_is_flagged_when_no_crisis_holds_it(client, reviewer, editor, istanbul):
    approved(istanbul, editor, title="Ordinary reception")
    client.force_login(editor)
    page = text(client.get(reverse("calendar"), {"view": "agenda", "date": DAY.isoformat()}))
    assert "Ordinary reception" in page
    assert "Held: crisis" not in page


def test_approving_in_the_queue_during_a_crisis_shows_the_publication_held(
    client, reviewer, second_reviewer, editor, istanbul, channels
):
    declare(second_reviewer)
    publication = make_publication(
        post=istanbul,
        author=editor,
        title="Reception in review",
        local_date=date(2026, 3, 16),
        variants=TEXTS,
        channels=[channels["istanbul_facebook"]],
    )
    workflow.submit(editor, publication)
    client.force_login(reviewer)
    queue = client.get(reverse("approvals"))
    assert "Reception in review" in text(queue)
    response = client.post(
        reverse("publication_transition", args=[publication.pk, "approve"]),
        {"revision": publication.revision},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    item = text(response)
    assert "Approved" in item
    assert "Held: crisis" in item
    publication.refresh_from_db()
    assert publication.status == S.APPROVED and publication.held_by is not None


def test_advisories_are_at_the_top_of_the_approval_queue_whatever_their_time(
    client, reviewer, second_reviewer, editor, istanbul, channels
):
    regular = make_publication(
        post=istanbul,
        author=editor,
        title="Earlier regular publication",
        local_date=date(2026, 3, 16),
        variants=TEXTS,
        channels=[channels["istanbul_facebook"]],
    )
    workflow.submit(editor, regular)
    crisis = declare(reviewer)
    made, _skipped = workflow.broadcast_advisory(reviewer, crisis, content())
    # Even when the regular publication is due first.
    Publication.objects.filter(pk__in=[p.pk for p in made]).update(
        scheduled_at=regular.scheduled_at + timedelta(days=1)
    )
    client.force_login(second_reviewer)
    page = client.get(reverse("approvals")).content.decode()
    # The advisory's two posts are one item: its group.
    titles = re.findall(r"<h2[^>]*>(?:<a [^>]+>)?([^<]+)(?:</a>)?</h2>", page)
    assert titles == ["Advisory “Stay indoors”, 2 posts", "Earlier regular publication"]


# --- Query budgets ------------------------------------------------------------------------


def populate(crisis: Crisis, size: int, reviewer, viewer) -> None:
    """`size` of everything the crisis pages list: posts taken in (`viewer` works for each)
    with held publications, advisories with deliveries, missed publications, break-glass
    advisories and timeline rows by different people."""
    for n in range(size):
        post = make_post(country="TR", name=f"Post {n:02d} in Türkiye")
        if not roles.is_central(viewer):
            Membership.objects.create(user=viewer, role=Role.POST_EDITOR, post=post)
        channel = make_channel(post=post, platform="facebook")
        staff = make_user(role=Role.POST_MANAGER, post=post)
        held = approved(post, staff, title=f"Held {n}", channels=[channel])
        Publication.objects.filter(pk=held.pk).update(held_by=crisis)
        missed = approved(post, staff, title=f"Missed {n}", channels=[channel])
        Publication.objects.filter(pk=missed.pk).update(missed_in=crisis)
        advisory = make_publication(
            post=post,
            author=reviewer,
            title=f"Advisory {n}",
            kind=PublicationKind.CRISIS_ADVISORY,
            status=S.PUBLISHED,
            local_date=DAY,
            variants=ADVISORY,
            channels=[channel],
        )
        Publication.objects.filter(pk=advisory.pk).update(crisis=crisis)
        Delivery.objects.create(
            publication=advisory, channel=channel, status="delivered", url=f"https://social.example/{n}"
        )
        glass = make_publication(
            post=post,
            author=staff,
            title=f"Break-glass {n}",
            kind=PublicationKind.CRISIS_ADVISORY,
            status=S.APPROVED,
            local_date=DAY,
            variants=ADVISORY,
            channels=[channel],
        )
        Publication.objects.filter(pk=glass.pk).update(crisis=crisis)
        workflow.record_event(glass, staff, "break_glass", comment="Central unreachable.")
        for verb, publication, actor in (
            ("held", held, staff),
            ("advisory_broadcast", advisory, make_user(role=Role.CENTRAL_REVIEWER)),
            ("break_glass", glass, staff),
        ):
            CrisisEvent.objects.create(crisis=crisis, actor=actor, verb=verb, publication=publication)


def queries_for(client, url: str):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response, [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize("persona", ["reviewer", "manager"], indirect=True)
@pytest.mark.parametrize("page", ["list", "detail"])
def test_the_crisis_pages_run_the_same_queries_with_few_and_many_rows(client, reviewer, persona, page):
    counts = {}
    for size in (1, 6):
        crisis = declare(reviewer, title=f"Crisis at size {size}")
        populate(crisis, size, reviewer, persona)
        url = reverse("crisis_list") if page == "list" else reverse("crisis_detail", args=[crisis.pk])
        client.force_login(persona)
        client.get(url)  # warm up (session, content types)
        response, counts[size] = queries_for(client, url)
        # The rows are there, for central and for the staff of those posts alike.
        if page == "detail":
            assert response.context["held_count"] == size
            assert len(response.context["advisories"]) == 2 * size
            assert len(response.context["missed"]) == size
            assert len(response.context["events"]) >= 3 * size
        else:
            assert len(response.context["missed"]) == size
            if persona == reviewer:
                assert len(response.context["after_the_fact"]) == size
        Publication.objects.all().delete()
        Crisis.objects.all().delete()
    assert len(counts[6]) == len(counts[1]), "\n".join(["with 1:", *counts[1], "", "with 6:", *counts[6]])


def test_the_crisis_list_runs_the_same_queries_with_few_and_many_crises(client, reviewer, istanbul):
    counts = {}
    for size in (1, 6):
        for n in range(size):
            declare(make_user(role=Role.CENTRAL_REVIEWER), title=f"Crisis {n}", countries=("TR",))
        client.force_login(reviewer)
        client.get(reverse("crisis_list"))
        _response, counts[size] = queries_for(client, reverse("crisis_list"))
        Crisis.objects.all().delete()
    assert len(counts[6]) == len(counts[1]), "\n".join(["with 1:", *counts[1], "", "with 6:", *counts[6]])


# --- Advisory templates -------------------------------------------------------------------


def template_data(**changes) -> dict:
    data = {
        "name": "Stay indoors",
        "text_nl": ADVISORY["nl"],
        "text_fr": ADVISORY["fr"],
        "text_en": ADVISORY["en"],
        "text_de": "",
    }
    data.update(changes)
    return data


def test_central_adds_edits_and_deletes_a_template(client, reviewer):
    client.force_login(reviewer)
    response = client.post(reverse("crisis_templates"), template_data())
    assert response.status_code == 302
    assert messages_of(response) == ["Template “Stay indoors” saved."]
    template = CrisisTemplate.objects.get()
    assert template.texts == ADVISORY
    assert template.updated_by == reviewer
    listing = text(client.get(reverse("crisis_templates")))
    assert f'href="{reverse("crisis_template_edit", args=[template.pk])}"' in listing

    edit = client.get(reverse("crisis_template_edit", args=[template.pk]))
    assert edit.context["form"]["text_fr"].value() == ADVISORY["fr"]
    response = client.post(
        reverse("crisis_template_edit", args=[template.pk]),
        template_data(name="Stay indoors and away from windows", text_en=""),
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Stay indoors and away from windows"
    assert set(template.texts) == {"nl", "fr"}

    response = client.post(reverse("crisis_template_delete", args=[template.pk]))
    assert response.status_code == 302
    assert messages_of(response)[-1] == "Template “Stay indoors and away from windows” deleted."
    assert not CrisisTemplate.objects.exists()


@pytest.mark.parametrize("name", ["Stay indoors", "stay INDOORS", "  Stay indoors  "])
def test_a_duplicate_template_name_is_refused_with_a_message(client, reviewer, name):
    CrisisTemplate.objects.create(name="Stay indoors", texts={"nl": "x", "fr": "y"})
    client.force_login(reviewer)
    response = client.post(reverse("crisis_templates"), template_data(name=name, text_nl="Other"))
    assert response.status_code == 400
    assert field_error(response, "name") == "A template with this name exists already."
    assert list(CrisisTemplate.objects.values_list("name", "texts")) == [
        ("Stay indoors", {"nl": "x", "fr": "y"})
    ]


def test_renaming_a_template_to_another_ones_name_is_refused(client, reviewer):
    CrisisTemplate.objects.create(name="Stay indoors", texts={"nl": "x", "fr": "y"})
    other = CrisisTemplate.objects.create(name="Avoid travel", texts={"nl": "a", "fr": "b"})
    client.force_login(reviewer)
    response = client.post(
        reverse("crisis_template_edit", args=[other.pk]), template_data(name="Stay Indoors")
    )
    assert response.status_code == 400
    other.refresh_from_db()
    assert other.name == "Avoid travel"
    # Saving a template under its own name is no duplicate.
    response = client.post(
        reverse("crisis_template_edit", args=[other.pk]), template_data(name="Avoid travel")
    )
    assert response.status_code == 302


def test_a_template_without_dutch_or_french_is_refused(client, reviewer):
    client.force_login(reviewer)
    response = client.post(reverse("crisis_templates"), template_data(text_fr=""))
    assert response.status_code == 400
    assert field_error(response, "text_fr") == "This field is required."
    assert not CrisisTemplate.objects.exists()


def test_an_unknown_template_is_a_404(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("crisis_template_edit", args=[99999999])).status_code == 404
    assert client.post(reverse("crisis_template_delete", args=[99999999])).status_code == 404
    assert client.get(reverse("crisis_template_delete", args=[99999999])).status_code == 405


def test_the_composer_fills_in_a_template(client, reviewer, channels):
    crisis = declare(reviewer)
    template = CrisisTemplate.objects.create(name="Stay indoors", texts=dict(ADVISORY), updated_by=reviewer)
    CrisisTemplate.objects.create(name="Avoid travel", texts={"nl": "Reis niet.", "fr": "Ne voyagez pas."})
    client.force_login(reviewer)
    url = reverse("advisory_compose", args=[crisis.pk])
    plain = client.get(url)
    assert plain.context["form"]["text_nl"].value() in (None, "")
    assert "Avoid travel" in text(plain) and "Stay indoors" in text(plain)
    response = client.get(url, {"template": template.pk})
    assert response.status_code == 200
    form = response.context["form"]
    assert form["title"].value() == "Stay indoors"
    for language in ("nl", "fr", "en"):
        assert form[f"text_{language}"].value() == ADVISORY[language]
    page = response.content.decode()
    assert f'<option value="{template.pk}" selected>Stay indoors</option>' in page
    assert "Restez à l&#x27;intérieur" in page


def test_break_glass_fills_in_a_template_and_keeps_it_chosen(client, reviewer, manager, channels):
    crisis = declare(reviewer)
    CrisisTemplate.objects.create(name="Avoid travel", texts={"nl": "Reis niet.", "fr": "Ne voyagez pas."})
    template = CrisisTemplate.objects.create(name="Stay indoors", texts=dict(ADVISORY))
    client.force_login(manager)
    response = client.get(reverse("break_glass", args=[crisis.pk]), {"template": template.pk})
    assert response.context["form"]["text_fr"].value() == ADVISORY["fr"]
    assert f'<option value="{template.pk}" selected>Stay indoors</option>' in response.content.decode()


def test_template_list_counts_languages_in_singular_and_plural(client, reviewer):
    CrisisTemplate.objects.create(name="One", texts={"nl": "Een."})
    CrisisTemplate.objects.create(name="Two", texts={"nl": "Twee.", "fr": "Deux."})
    client.force_login(reviewer)
    page = text(client.get(reverse("crisis_templates")))
    assert re.search(r"— 1 language(?!s)\b", page)
    assert "— 2 languages" in page


# --- The forms' structure (what a screen reader announces) -------------------------------


def fieldsets(response) -> list[str]:
    return re.findall(r"<fieldset[^>]*>.*?</fieldset>", response.content.decode(), re.S)


def test_the_declare_form_names_its_target_group_with_a_legend(client, reviewer):
    client.force_login(reviewer)
    response = client.get(reverse("crisis_list"))
    groups = [group for group in fieldsets(response) if 'name="target"' in group]
    assert len(groups) == 1
    assert re.search(r"<legend>Where\? ", groups[0])
    assert 'id="id_target_countries"' in groups[0] and 'id="id_target_posts"' in groups[0]
    assert '<label for="">' not in response.content.decode()


def test_a_refused_target_is_shown_in_its_group(client, reviewer):
    client.force_login(reviewer)
    response = client.post(reverse("crisis_declare"), {"title": "T", "reason": "R", "target": "elsewhere"})
    assert response.status_code == 400
    group = next(group for group in fieldsets(response) if 'name="target"' in group)
    assert 'class="field-invalid"' in group and 'id="id_target_error"' in group


@pytest.mark.parametrize("page", ["advisory_compose", "break_glass"])
def test_the_composer_names_its_platform_group_and_keeps_languages_together(
    client, reviewer, manager, channels, page
):
    crisis = declare(reviewer)
    client.force_login(reviewer if page == "advisory_compose" else manager)
    response = client.get(reverse(page, args=[crisis.pk]))
    html = response.content.decode()
    assert '<label for="">' not in html
    platforms = next(group for group in fieldsets(response) if 'name="platforms"' in group)
    assert re.search(r"<legend>Platforms ", platforms)
    texts = next(group for group in fieldsets(response) if "<legend>Texts</legend>" in group)
    for language in ("nl", "fr", "en", "de", "tr"):
        assert f'id="id_text_{language}"' in texts
    if page == "break_glass":
        # The confirmation comes last, just above the button.
        order = [
            html.index(f'id="id_{name}"') for name in ("text_tr", "platforms", "post", "reason", "confirm")
        ]
        assert order == sorted(order)
        assert html.index('id="id_confirm"') < html.index("Publish now without review")


def test_an_advisory_stays_at_the_top_of_the_queue_after_its_minute_has_passed(
    client, frozen, reviewer, second_reviewer, channels
):
    crisis = declare(reviewer)
    made, _skipped = workflow.broadcast_advisory(reviewer, crisis, content())
    frozen.shift(90)  # a reviewer opens the queue a minute and a half later
    client.force_login(second_reviewer)
    page = client.get(reverse("approvals")).content.decode()
    shown = {int(pk) for pk in re.findall(r'name="member" value="(\d+):', page)}
    assert shown == {p.pk for p in made}


def test_the_home_page_counts_an_advisory_past_its_minute_as_waiting_as_the_queue_does(
    client, frozen, reviewer, second_reviewer, channels
):
    crisis = declare(reviewer)
    made, _skipped = workflow.broadcast_advisory(reviewer, crisis, content())
    frozen.shift(90)
    client.force_login(second_reviewer)
    queue = client.get(reverse("approvals")).context["counts"]
    assert queue == {"waiting": len(made), "due_soon": len(made), "expired": 0}
    home = text(client.get(reverse("home")))
    assert f"{len(made)} waiting for review" in home
    assert "0 expired in review" in home


def test_reviewing_after_the_fact_what_was_not_break_glass_or_twice_says_so(
    client, reviewer, second_reviewer, manager, istanbul, channels
):
    crisis = declare(reviewer)
    broadcast, _skipped = workflow.broadcast_advisory(reviewer, crisis, content())
    glass = workflow.break_glass(manager, crisis, istanbul, content(), reason="Central unreachable.")
    client.force_login(second_reviewer)
    url = reverse("crisis_review_after", args=[broadcast[0].pk])
    response = client.post(url)
    assert response.status_code == 302
    assert messages_of(response) == ["This publication was not published with break-glass."]
    client.post(reverse("crisis_review_after", args=[glass.pk]))
    response = client.post(reverse("crisis_review_after", args=[glass.pk]))
    assert messages_of(response)[-1] == "This publication was already reviewed after the fact."
    assert PublicationEvent.objects.filter(verb="reviewed_after").count() == 1
    regular = approved(istanbul, manager)
    assert client.post(reverse("crisis_review_after", args=[regular.pk])).status_code == 404
