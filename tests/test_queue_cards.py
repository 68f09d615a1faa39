"""What a card of the approval queue shows: the reviewer's language first and the others
folded, the checks in one line, the time in the post's zone and in Brussels, the comment
above both buttons, the keys; and the parts of it as plain functions."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
from django.urls import reverse
from django.utils import translation

from calendar_app import workflow
from calendar_app.models import PublicationRevision, PublicationStatus, Variant
from calendar_app.views.review import checks_summary, texts_for_reader, zone_place
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user

pytestmark = pytest.mark.django_db

TEXTS = {
    "nl": "Receptie in het Consulaat-Generaal.",
    "fr": "Réception au Consulat général.",
    "en": "Reception at the Consulate-General.",
    "tr": "Başkonsoloslukta resepsiyon.",
}


def waiting(post, author, *, checks=None, title="Reception", day=date(2027, 6, 10), at=time(18, 0)):
    publication = make_publication(
        post=post,
        author=author,
        title=title,
        status=PublicationStatus.IN_REVIEW,
        local_date=day,
        local_time=at,
        variants=TEXTS,
        channels=[make_channel(post=post, platform="facebook"), make_channel(post=post, platform="x")],
    )
    checks = checks or []
    PublicationRevision.objects.create(
        publication=publication,
        number=1,
        content={},
        submitted_by=author,
        checks=checks,
        has_warnings=any(c["severity"] == "warning" and not c["passed"] for c in checks),
        has_blocking=any(c["severity"] == "blocking" and not c["passed"] for c in checks),
    )
    return publication


def card(html: str, pk: int) -> str:
    """The markup of one item of the queue: up to the next item or the end of the list."""
    start = html.index(f'id="approval-{pk}"')
    ends = [at for at in (html.find('<li class="approval-item', start), html.find("</ol>", start)) if at > 0]
    return html[start : min(ends, default=len(html))]


def failed(code: str, severity: str) -> dict:
    return {"code": code, "severity": severity, "passed": False, "problems": [f"{code} problem"]}


# --- The parts, as plain functions ------------------------------------------------------------


def test_the_checks_are_said_in_one_line():
    passed = {"code": "alt-text", "severity": "blocking", "passed": True, "problems": []}
    with translation.override("en"):
        assert checks_summary([]).label == "Checks pass"
        assert checks_summary([passed]).state == "pass"
        assert checks_summary([failed("a", "warning"), failed("b", "warning")]).label == "2 warnings"
        one = checks_summary([failed("a", "blocking"), passed])
        assert (one.state, one.label) == ("blocking", "1 blocking")
        both = checks_summary([failed("a", "blocking"), failed("b", "warning")])
        assert (both.state, both.label) == ("blocking", "1 blocking, 1 warning")
        assert [check["code"] for check in both.failed] == ["a", "b"]


def test_the_reviewer_reads_their_language_first_else_the_posts_first_language(istanbul, editor):
    publication = make_publication(post=istanbul, author=editor, variants=TEXTS)
    variants = list(Variant.objects.filter(publication=publication))
    order = ["nl", "fr", "en", "tr"]
    with translation.override("en"):
        first, others = texts_for_reader(variants, "fr", order)
        assert first is not None and first.language == "fr"
        assert [text.language for text in others] == ["nl", "en", "tr"]
        first, others = texts_for_reader(variants, "de", order)
        assert first is not None and first.language == "nl"  # the post leads with Dutch
        assert [text.name for text in others] == ["French", "English", "Turkish"]
        first, _others = texts_for_reader(variants, "en-gb", order)
        assert first is not None and first.language == "en"
    assert texts_for_reader([], "en", order) == (None, [])


def test_a_zone_is_named_after_its_place():
    assert zone_place("Europe/Istanbul") == "Istanbul"
    assert zone_place("America/Argentina/Buenos_Aires") == "Buenos Aires"
    assert zone_place("UTC") == "UTC"
    assert zone_place("Not/A_Zone") == "Not/A_Zone"


# --- The card ---------------------------------------------------------------------------------


def test_a_card_shows_the_readers_text_and_folds_the_others(client, reviewer, istanbul, editor):
    publication = waiting(istanbul, editor)
    client.force_login(reviewer)
    html = card(client.get(reverse("approvals")).content.decode(), publication.pk)
    before_toggle, folded = html.split('<details class="approval-others">')
    assert '<p lang="en">Reception at the Consulate-General.</p>' in before_toggle
    for language in ("nl", "fr", "tr"):
        assert f'<p lang="{language}">' not in before_toggle
        assert f'<p lang="{language}">{TEXTS[language]}' in folded.replace("&#x27;", "'")
    assert "Also in: Dutch, French, Turkish" in folded


def test_a_dutch_speaking_reviewer_reads_the_dutch_first(client, reviewer, istanbul, editor):
    publication = waiting(istanbul, editor)
    client.force_login(reviewer)
    html = card(client.get(reverse("approvals"), HTTP_ACCEPT_LANGUAGE="nl").content.decode(), publication.pk)
    before_toggle = html.split('<details class="approval-others">')[0]
    assert '<p lang="nl">Receptie in het Consulaat-Generaal.</p>' in before_toggle


def test_a_card_names_the_time_in_the_posts_zone_and_in_brussels(client, reviewer, istanbul, editor):
    # 18:00 in Istanbul (UTC+3) is 17:00 in Brussels in summer (UTC+2).
    publication = waiting(istanbul, editor, day=date(2027, 6, 10), at=time(18, 0))
    client.force_login(reviewer)
    html = re.sub(r"\s+", " ", card(client.get(reverse("approvals")).content.decode(), publication.pk))
    assert "Thu 10 Jun 18:00</time> Istanbul" in html
    assert "/ 17:00 Brussels" in html
    assert "Facebook, X" in html


@pytest.mark.parametrize(
    ("checks", "summary", "state"),
    [
        ([], "Checks pass", "checks-pass"),
        (
            [failed("sensitive-terms", "warning"), failed("hashtag", "warning")],
            "2 warnings",
            "checks-warning",
        ),
        ([failed("https-links", "blocking")], "1 blocking", "checks-blocking"),
    ],
)
def test_a_card_says_its_checks_in_one_line_with_the_details_folded(
    client, reviewer, istanbul, editor, checks, summary, state
):
    publication = waiting(istanbul, editor, checks=checks)
    client.force_login(reviewer)
    html = re.sub(r"\s+", " ", card(client.get(reverse("approvals")).content.decode(), publication.pk))
    assert f'<details class="approval-checks {state}">' in html
    assert f"</span> {summary}</summary>" in html
    for check in checks:
        assert f"{check['code']} problem" in html.split(summary)[1]


def test_the_comment_is_above_both_buttons_in_one_form(client, reviewer, istanbul, editor):
    publication = waiting(istanbul, editor)
    client.force_login(reviewer)
    html = card(client.get(reverse("approvals")).content.decode(), publication.pk)
    assert html.count("<form") == 1
    comment = html.index(f'id="comment-{publication.pk}"')
    approve = html.index(">Approve</button>")
    request_changes = html.index(">Request changes</button>")
    assert comment < approve < request_changes
    # Without JavaScript "Request changes" posts the same form to its own address.
    request_url = reverse("publication_transition", args=[publication.pk, "request_changes"])
    assert f'formaction="{request_url}"' in html


def test_a_blocking_failure_disables_approve_but_not_request_changes(client, reviewer, istanbul, editor):
    publication = waiting(istanbul, editor, checks=[failed("https-links", "blocking")])
    client.force_login(reviewer)
    html = card(client.get(reverse("approvals")).content.decode(), publication.pk)
    assert re.search(r"<button[^>]*data-queue-approve[^>]* disabled>Approve</button>", html)
    assert re.search(r'<button type="submit" class="secondary"[^>]*>Request changes</button>', html)


def test_the_page_lists_its_keyboard_shortcuts(client, reviewer, istanbul, editor):
    waiting(istanbul, editor)
    client.force_login(reviewer)
    html = client.get(reverse("approvals")).content.decode()
    keys = html.split("data-queue-keys>")[1].split("</section>")[0]
    for key in ("<kbd>j</kbd>", "<kbd>k</kbd>", "<kbd>a</kbd>", "<kbd>r</kbd>"):
        assert key in keys
    assert 'role="status" aria-live="polite" id="queue-status"' in html
    assert "js/queue.js" in html


def test_a_decision_in_place_answers_the_decided_card_with_its_message(client, reviewer, istanbul, editor):
    publication = waiting(istanbul, editor)
    client.force_login(reviewer)
    url = reverse("publication_transition", args=[publication.pk, "request_changes"])
    response = client.post(url, {"revision": 1, "comment": "Add the address."}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-decided" in html
    assert "Sent back to the post with your comment." in html
    assert "<form" not in html  # nothing left to decide on it


def test_request_changes_without_a_comment_keeps_the_card_open_and_says_why(
    client, reviewer, istanbul, editor
):
    publication = waiting(istanbul, editor)
    client.force_login(reviewer)
    url = reverse("publication_transition", args=[publication.pk, "request_changes"])
    response = client.post(url, {"revision": 1, "comment": ""}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "data-decided" not in html
    assert "data-queue-message" in html and "comment" in html.split("data-queue-message")[1]
    publication.refresh_from_db()
    assert publication.status == PublicationStatus.IN_REVIEW


def test_approving_with_a_comment_goes_through_the_workflow(client, reviewer, istanbul, editor):
    publication = make_publication(
        post=istanbul,
        author=editor,
        local_date=date(2027, 6, 10),
        channels=[make_channel(post=istanbul, platform="facebook")],
        variants=TEXTS,
    )
    workflow.submit(editor, publication)
    client.force_login(reviewer)
    url = reverse("publication_transition", args=[publication.pk, "approve"])
    response = client.post(url, {"revision": 1, "comment": "Fine.", "next": "/approvals/"})
    assert response.status_code == 302
    publication.refresh_from_db()
    assert publication.status == PublicationStatus.APPROVED


def test_a_posts_local_time_is_named_after_its_city_not_its_zones(client, reviewer):
    pristina = make_post(
        code="be-off-pristina",
        name="Office of Belgium in Pristina",
        city="Pristina",
        country="XK",
        timezone="Europe/Belgrade",
        host_languages="sq",
        publishing_languages="nl,fr,en",
    )
    author = make_user(role=Role.POST_EDITOR, post=pristina)
    publication = waiting(pristina, author, day=date(2027, 1, 12), at=time(13, 0))
    client.force_login(reviewer)
    html = re.sub(r"\s+", " ", card(client.get(reverse("approvals")).content.decode(), publication.pk))
    assert "Tue 12 Jan 13:00</time> Pristina" in html
    assert "Belgrade" not in html
    assert "/ 13:00 Brussels" in html
