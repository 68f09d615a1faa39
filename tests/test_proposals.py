"""Partner proposals: writing and sending, triage by central, the posts' library, adoption
and provenance; every page and action as a matrix of personas."""

from __future__ import annotations

import io
import itertools
import random
import re
import struct
import zlib
from datetime import date, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from calendar_app import demo, permissions, workflow
from calendar_app.models import (
    Asset,
    Notification,
    Proposal,
    ProposalDismissal,
    ProposalEvent,
    ProposalStatus,
    ProposalVariant,
    Publication,
    PublicationEvent,
    PublicationKind,
    PublicationStatus,
)
from diplomacy import demo as network_demo
from diplomacy.models import Membership, Role
from tests.calendar_factories import make_campaign, make_publication
from tests.factories import make_channel, make_post, make_user

NOW = "2026-03-02 10:00:00+00:00"
TODAY = date(2026, 3, 2)
LOGIN = "login"

_sequence = itertools.count(1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def awex_user(awex):
    return make_user(email="partner.awex@example.org", role=Role.PARTNER_CONTRIBUTOR, partner=awex)


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
def channels(istanbul):
    return {
        "facebook": make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul"),
        "x": make_channel(post=istanbul, platform="x", handle="@BelgiumIstanbul"),
        "instagram": make_channel(post=istanbul, platform="instagram", handle="@old.account", active=False),
    }


# --- building data ----------------------------------------------------------------------------


def png_bytes(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "steelblue").save(buffer, "PNG")
    return buffer.getvalue()


def noise_png(size: tuple[int, int] = (64, 64)) -> bytes:
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, random.Random(7).randbytes(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels in a few dozen bytes (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


SVG = b"""<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">
  <script>alert(document.cookie)</script><rect width="10" height="10"/>
</svg>"""


def make_asset(*, owner, alt_texts: dict[str, str] | None = None) -> Asset:
    return Asset.objects.create(
        image=f"assets/{next(_sequence)}.png",
        content_type="image/png",
        alt_texts=alt_texts if alt_texts is not None else {"en": "Solar panels on a roof"},
        owner=owner,
        checksum="0" * 64,
        width=1200,
        height=628,
    )


def make_proposal_full(
    *,
    partner,
    status: str = ProposalStatus.ACCEPTED,
    title: str | None = None,
    target: str = "network",
    countries: str = "",
    posts=(),
    texts: dict[str, str] | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    campaign=None,
    author=None,
    assets=(),
    submitted: bool | None = None,
) -> Proposal:
    """A proposal as the workflow leaves it in `status` (sent, decided, with texts)."""
    sent = status != ProposalStatus.DRAFT if submitted is None else submitted
    decided = status in (ProposalStatus.ACCEPTED, ProposalStatus.DECLINED)
    proposal = Proposal.objects.create(
        partner=partner,
        title=title or f"Proposal {next(_sequence)}",
        summary="Suggested by the partner.",
        status=status,
        target=target,
        target_countries=countries,
        window_starts_on=starts_on,
        window_ends_on=ends_on,
        campaign=campaign,
        contact="Communications desk, +32 2 000 00 00",
        created_by=author,
        submitted_at=timezone.now() if sent else None,
        decided_at=timezone.now() if decided else None,
        decline_reason="Not for this quarter." if status == ProposalStatus.DECLINED else "",
    )
    if posts:
        proposal.target_posts.set(posts)
    for language, text in (texts if texts is not None else {"en": "Discover Flanders."}).items():
        ProposalVariant.objects.create(proposal=proposal, language=language, text=text)
    if assets:
        proposal.assets.add(*assets)
    return proposal


def new_proposal_data(**overrides) -> dict:
    """A valid form for /proposals/new/ (saved as a draft unless "submit" is added)."""
    data = {
        "title": "Flemish cleantech mission to Istanbul",
        "summary": "Twelve Flemish cleantech companies visit Istanbul and Berlin.",
        "target": "countries",
        "target_countries": "TR, DE",
        "window_starts_on": "2026-03-10",
        "window_ends_on": "2026-04-10",
        "contact": "Lies Peeters, communications, +32 2 504 87 11",
        "text_en": "Flemish cleantech companies visit Istanbul to meet partners. #FlandersInvestment",
        "text_nl": "Vlaamse cleantechbedrijven bezoeken Istanbul. #FlandersInvestment",
        "extra_language_1": "tr",
        "extra_text_1": "Flaman temiz teknoloji şirketleri İstanbul'u ziyaret ediyor.",
        "save": "1",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def login(client, user):
    if user is not None:
        client.force_login(user)
    return client


def assert_login_redirect(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.wsgi_request._messages]


def without_tokens(content: bytes) -> bytes:
    """A page without its per-request CSP nonce and CSRF token, for comparing two answers."""
    return re.sub(rb'(nonce|value)="[^"]*"', b"", content)


def stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()]


# --- A partner writes and sends a proposal ----------------------------------------------------


def test_the_new_proposal_page_offers_a_partner_the_form_with_save_and_send(client, partner_user):
    response = login(client, partner_user).get(reverse("proposal_new"))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="submit"' in page
    assert 'enctype="multipart/form-data"' in page


def test_a_partner_proposes_texts_in_three_languages_for_two_countries_with_a_photo_and_sends_it(
    client,
    partner_user,
    fit,
    reviewer,
    second_reviewer,
    media,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    french = make_user(email="revue.centrale@example.org", role=Role.CENTRAL_REVIEWER, language="fr")
    login(client, partner_user)
    data = new_proposal_data(
        image=SimpleUploadedFile("roof.png", png_bytes(), "image/png"),
        alt_en="Solar panels on a Flemish factory roof",
        alt_nl="Zonnepanelen op het dak van een Vlaamse fabriek",
        save=None,
        submit="1",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("proposal_new"), data)

    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert (proposal.partner, proposal.created_by) == (fit, partner_user)
    assert proposal.title == "Flemish cleantech mission to Istanbul"
    assert proposal.status == ProposalStatus.SUBMITTED
    assert proposal.submitted_at == timezone.now()
    assert (proposal.target, proposal.target_country_list) == ("countries", ["TR", "DE"])
    assert (proposal.window_starts_on, proposal.window_ends_on) == (date(2026, 3, 10), date(2026, 4, 10))
    assert proposal.contact == "Lies Peeters, communications, +32 2 504 87 11"
    assert {v.language: v.text for v in proposal.variants.all()} == {
        "en": "Flemish cleantech companies visit Istanbul to meet partners. #FlandersInvestment",
        "nl": "Vlaamse cleantechbedrijven bezoeken Istanbul. #FlandersInvestment",
        "tr": "Flaman temiz teknoloji şirketleri İstanbul'u ziyaret ediyor.",
    }
    asset = proposal.assets.get()
    assert asset.owner == partner_user
    assert asset.alt_texts == {
        "en": "Solar panels on a Flemish factory roof",
        "nl": "Zonnepanelen op het dak van een Vlaamse fabriek",
    }
    assert (asset.width, asset.height) == (64, 48)
    assert stored_files(media), "the photo and its renditions are stored"
    events = [(e.verb, e.from_status, e.to_status, e.actor) for e in proposal.events.all()]
    assert ("submit", "draft", "submitted", partner_user) in events
    # Central hears about it: in the app and by email, in each reviewer's language.
    notified = Notification.objects.filter(verb="proposal_submitted", proposal=proposal)
    assert {n.recipient for n in notified} == {reviewer, second_reviewer, french}
    assert sorted(mail.to[0] for mail in mailoutbox) == sorted(
        [reviewer.email, second_reviewer.email, french.email]
    )
    english = next(mail for mail in mailoutbox if mail.to == [reviewer.email])
    assert "Flemish cleantech mission to Istanbul" in english.subject
    assert '<html lang="en">' in english.alternatives[0][0]
    in_french = next(mail for mail in mailoutbox if mail.to == [french.email])
    assert '<html lang="fr">' in in_french.alternatives[0][0]
    assert in_french.body.strip().splitlines()[-1] != english.body.strip().splitlines()[-1]
    # The partner sees it sent, with the texts and the photo described.
    page = client.get(response["Location"]).content.decode()
    assert "Submitted" in page
    assert 'alt="Solar panels on a Flemish factory roof"' in page
    assert "Türkiye (TR)" in page or "Turkey (TR)" in page


def test_a_reviewer_finds_the_sent_proposal_on_the_notifications_page(
    client, fit, partner_user, reviewer, django_capture_on_commit_callbacks
):
    proposal = make_proposal_full(
        partner=fit, status="draft", title="Flanders food fair", author=partner_user
    )
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_proposal(partner_user, proposal)

    page = login(client, reviewer).get(reverse("notification_list")).content.decode()

    assert f'href="{proposal.get_absolute_url()}"' in page
    assert "Flanders food fair" in page


def test_a_french_reviewer_gets_a_french_subject_for_a_proposal(
    fit, partner_user, django_capture_on_commit_callbacks, mailoutbox
):
    french = make_user(email="revue.centrale@example.org", role=Role.CENTRAL_REVIEWER, language="fr")
    make_user(email="english@example.org", role=Role.CENTRAL_REVIEWER, language="en")
    proposal = make_proposal_full(partner=fit, status="draft", title="Flanders food fair")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_proposal(partner_user, proposal)

    by_recipient = {mail.to[0]: mail for mail in mailoutbox}
    assert "Flanders food fair" in by_recipient[french.email].subject
    assert by_recipient[french.email].subject != by_recipient["english@example.org"].subject


def test_the_email_about_a_proposal_links_to_the_proposal_page(
    fit, partner_user, reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    proposal = make_proposal_full(partner=fit, status="draft")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit_proposal(partner_user, proposal)

    (mail,) = mailoutbox
    assert proposal.get_absolute_url() in mail.body


def test_creating_a_proposal_starts_its_history(client, partner_user):
    login(client, partner_user).post(reverse("proposal_new"), new_proposal_data())

    proposal = Proposal.objects.get()
    assert [(e.verb, e.actor) for e in proposal.events.all()] == [("created", partner_user)]


def test_save_as_draft_keeps_the_proposal_a_draft_that_central_does_not_see(
    client, partner_user, reviewer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, partner_user).post(reverse("proposal_new"), new_proposal_data())

    proposal = Proposal.objects.get()
    assert response.status_code == 302
    assert (proposal.status, proposal.submitted_at) == (ProposalStatus.DRAFT, None)
    assert not Notification.objects.exists()
    assert mailoutbox == []
    client.force_login(reviewer)
    assert client.get(proposal.get_absolute_url()).status_code == 404
    assert proposal.title not in client.get(reverse("proposal_list")).content.decode()


def test_a_partner_edits_its_draft_on_the_proposal_page_and_sends_it(client, fit, partner_user):
    proposal = make_proposal_full(partner=fit, status="draft", texts={"en": "Old text."})
    login(client, partner_user)
    assert 'name="title"' in client.get(proposal.get_absolute_url()).content.decode()

    response = client.post(
        proposal.get_absolute_url(),
        new_proposal_data(
            title="A better title", target="network", target_countries="", save=None, submit="1"
        ),
    )

    proposal.refresh_from_db()
    assert response.status_code == 302
    assert proposal.title == "A better title"
    assert proposal.status == ProposalStatus.SUBMITTED
    assert sorted(proposal.variants.values_list("language", flat=True)) == ["en", "nl", "tr"]
    assert (proposal.target, proposal.target_countries) == ("network", "")


@pytest.mark.parametrize("status", ["submitted", "accepted", "declined", "withdrawn"])
def test_a_partner_can_no_longer_edit_a_proposal_once_it_is_sent(client, fit, partner_user, status):
    proposal = make_proposal_full(partner=fit, status=status, title="As sent")
    login(client, partner_user)
    assert 'name="title"' not in client.get(proposal.get_absolute_url()).content.decode()

    response = client.post(proposal.get_absolute_url(), new_proposal_data(title="Changed afterwards"))

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert (proposal.title, proposal.status) == ("As sent", status)
    assert sorted(proposal.variants.values_list("language", flat=True)) == ["en"]


def test_sending_a_proposal_without_any_text_is_refused_with_a_message(client, fit, partner_user):
    proposal = make_proposal_full(partner=fit, status="draft", texts={})

    response = login(client, partner_user).post(reverse("proposal_action", args=[proposal.pk, "submit"]))

    assert response.status_code == 302
    assert "Write a suggested text in at least one language first." in messages_of(response)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.submitted_at) == (ProposalStatus.DRAFT, None)
    assert not proposal.events.exists()
    with pytest.raises(workflow.DecisionRefused):
        workflow.submit_proposal(partner_user, proposal)


def test_save_and_send_without_a_text_saves_a_draft_and_says_why_it_was_not_sent(client, partner_user):
    data = new_proposal_data(text_en="", text_nl="", extra_language_1="", extra_text_1="", submit="1")

    response = login(client, partner_user).post(reverse("proposal_new"), data)

    assert response.status_code == 302
    assert Proposal.objects.get().status == ProposalStatus.DRAFT
    assert "Write a suggested text in at least one language first." in messages_of(response)


@pytest.mark.parametrize("status", ["draft", "submitted", "accepted"])
def test_a_partner_withdraws_a_draft_a_submitted_or_an_accepted_proposal(client, fit, partner_user, status):
    proposal = make_proposal_full(partner=fit, status=status)

    response = login(client, partner_user).post(reverse("proposal_action", args=[proposal.pk, "withdraw"]))

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.WITHDRAWN
    event = proposal.events.get()
    assert (event.verb, event.from_status, event.to_status, event.actor) == (
        "withdraw",
        status,
        "withdrawn",
        partner_user,
    )


@pytest.mark.parametrize("status", ["declined", "withdrawn"])
def test_a_declined_or_withdrawn_proposal_cannot_be_withdrawn(client, fit, partner_user, status):
    proposal = make_proposal_full(partner=fit, status=status)

    response = login(client, partner_user).post(reverse("proposal_action", args=[proposal.pk, "withdraw"]))

    assert response.status_code == 403
    proposal.refresh_from_db()
    assert proposal.status == status
    assert not proposal.events.exists()


def test_withdrawing_an_accepted_proposal_leaves_the_posts_adoptions_alone(
    client, fit, partner_user, editor, istanbul
):
    proposal = make_proposal_full(partner=fit, status="accepted")
    adopted = workflow.adopt_proposal(editor, proposal, istanbul)

    workflow.withdraw_proposal(partner_user, proposal)

    adopted.refresh_from_db()
    assert adopted.proposal == proposal
    assert adopted.status == PublicationStatus.DRAFT
    login(client, editor)
    assert proposal.title not in client.get(reverse("proposal_list")).content.decode()


def test_a_forged_post_for_another_partners_proposal_changes_nothing(client, fit, awex_user):
    draft = make_proposal_full(partner=fit, status="draft", title="Fit's draft")
    sent = make_proposal_full(partner=fit, status="submitted", title="Fit's sent one")
    login(client, awex_user)

    answers = [
        client.post(draft.get_absolute_url(), new_proposal_data(title="Hijacked", submit="1")).status_code,
        client.post(reverse("proposal_action", args=[draft.pk, "submit"])).status_code,
        client.post(reverse("proposal_action", args=[draft.pk, "withdraw"])).status_code,
        client.post(reverse("proposal_action", args=[sent.pk, "withdraw"])).status_code,
    ]

    assert answers == [404, 404, 404, 404]
    draft.refresh_from_db()
    sent.refresh_from_db()
    assert (draft.title, draft.status) == ("Fit's draft", "draft")
    assert (sent.title, sent.status) == ("Fit's sent one", "submitted")
    assert not ProposalEvent.objects.exists()
    assert Proposal.objects.count() == 2


def test_another_partners_proposal_and_a_missing_one_answer_the_same_404(client, fit, awex_user):
    proposal = make_proposal_full(partner=fit, status="accepted", title="Flanders food fair")
    login(client, awex_user)

    foreign = client.get(proposal.get_absolute_url())
    missing = client.get(reverse("proposal_detail", args=[proposal.pk + 1000]))

    assert foreign.status_code == missing.status_code == 404
    assert without_tokens(foreign.content) == without_tokens(missing.content)


def test_a_partner_cannot_attach_another_partners_campaign(client, partner_user, awex):
    theirs = make_campaign(name="Wallonia export days", partner=awex, starts_on=date(2026, 3, 1))

    response = login(client, partner_user).post(
        reverse("proposal_new"), new_proposal_data(campaign=theirs.pk)
    )

    assert response.status_code == 400
    assert not Proposal.objects.exists()


def test_a_partner_may_attach_its_own_or_a_central_campaign(client, fit, partner_user):
    own = make_campaign(name="Flanders cleantech missions", partner=fit, starts_on=date(2026, 3, 1))

    response = login(client, partner_user).post(reverse("proposal_new"), new_proposal_data(campaign=own.pk))

    assert response.status_code == 302
    assert Proposal.objects.get().campaign == own


def test_a_partner_aims_a_proposal_at_chosen_posts(client, partner_user, istanbul, ankara):
    data = new_proposal_data(target="posts", target_countries="", target_posts=[istanbul.pk, ankara.pk])

    response = login(client, partner_user).post(reverse("proposal_new"), data)

    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert set(proposal.target_posts.all()) == {istanbul, ankara}
    assert proposal.target_countries == ""


def test_a_target_field_the_target_does_not_need_is_ignored_with_its_errors(client, partner_user, istanbul):
    """The posts field is hidden for "The whole network": a gone post in it must not stop the save."""
    data = new_proposal_data(target="network", target_countries="ZZ", target_posts=[999999])

    response = login(client, partner_user).post(reverse("proposal_new"), data)

    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert (proposal.target, proposal.target_countries) == ("network", "")
    assert not proposal.target_posts.exists()


def test_for_some_countries_a_gone_post_in_the_hidden_posts_field_is_ignored(client, partner_user, istanbul):
    data = new_proposal_data(target="countries", target_countries="TR", target_posts=[istanbul.pk, 999999])

    response = login(client, partner_user).post(reverse("proposal_new"), data)

    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert proposal.target_country_list == ["TR"]
    assert not proposal.target_posts.exists()


def test_for_some_posts_an_unknown_country_in_the_hidden_countries_field_is_ignored(
    client, partner_user, istanbul
):
    data = new_proposal_data(target="posts", target_countries="ZZ", target_posts=[istanbul.pk])

    response = login(client, partner_user).post(reverse("proposal_new"), data)

    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert (proposal.target_countries, list(proposal.target_posts.all())) == ("", [istanbul])


def test_a_gone_post_is_refused_when_the_target_needs_the_posts(client, partner_user, istanbul):
    data = new_proposal_data(target="posts", target_countries="", target_posts=[istanbul.pk, 999999])

    response = login(client, partner_user).post(reverse("proposal_new"), data)

    assert response.status_code == 400
    assert "A chosen post is not in the network any more" in response.content.decode()
    assert "Choose at least one post." not in response.content.decode()
    assert not Proposal.objects.exists()


# --- Bad input ----------------------------------------------------------------------------------


def test_an_unknown_target_country_is_refused_naming_it_and_nothing_is_saved(client, partner_user, media):
    data = new_proposal_data(
        target_countries="TR, ZZ", image=SimpleUploadedFile("roof.png", png_bytes(), "image/png")
    )

    response = login(client, partner_user).post(reverse("proposal_new"), data)

    assert response.status_code == 400
    assert "Unknown country code: ZZ." in response.content.decode()
    assert not Proposal.objects.exists()
    assert not Asset.objects.exists()
    assert stored_files(media) == []


def test_a_window_that_ends_before_it_starts_is_refused(client, partner_user):
    data = new_proposal_data(window_starts_on="2026-04-10", window_ends_on="2026-03-10")

    response = login(client, partner_user).post(reverse("proposal_new"), data)

    assert response.status_code == 400
    assert "The window ends before it starts." in response.content.decode()
    assert not Proposal.objects.exists()


def test_countries_as_target_need_at_least_one_country(client, partner_user):
    response = login(client, partner_user).post(
        reverse("proposal_new"), new_proposal_data(target_countries=" , ")
    )

    assert response.status_code == 400
    assert "Name at least one country." in response.content.decode()
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("make_upload", "says"),
    [
        (lambda: SimpleUploadedFile("drawing.png", SVG, "image/png"), "SVG"),
        (lambda: SimpleUploadedFile("huge.png", png_header_only(10_000, 6_000), "image/png"), "megapixels"),
        (lambda: SimpleUploadedFile("heavy.png", noise_png(), "image/png"), "MB"),
    ],
    ids=["svg-named-png", "too-many-pixels", "too-heavy"],
)
def test_a_fake_or_oversized_photo_is_refused_and_nothing_is_saved(
    client, partner_user, media, monkeypatch, make_upload, says
):
    monkeypatch.setattr("calendar_app.images.MAX_BYTES", 4_000)  # the noise PNG weighs ~12 kB
    data = new_proposal_data(image=make_upload(), alt_en="A photo", submit="1")

    response = login(client, partner_user).post(reverse("proposal_new"), data)

    assert response.status_code == 400
    assert says in response.context["form"].errors["image"][0]
    assert not Proposal.objects.exists()
    assert not Asset.objects.exists()
    assert stored_files(media) == []


@pytest.mark.parametrize("code", ["xyz", "t1", "e"])
def test_an_extra_language_that_is_not_a_two_letter_code_is_refused(client, partner_user, code):
    response = login(client, partner_user).post(
        reverse("proposal_new"), new_proposal_data(extra_language_1=code)
    )

    assert response.status_code == 400
    assert response.context["form"].errors["extra_language_1"]
    assert not Proposal.objects.exists()


def test_an_extra_language_that_already_has_a_text_is_refused(client, partner_user):
    response = login(client, partner_user).post(
        reverse("proposal_new"), new_proposal_data(extra_language_1="EN")
    )

    assert response.status_code == 400
    assert "This language already has a text." in response.content.decode()


def test_an_invalid_edit_of_a_draft_answers_400_and_changes_nothing(client, fit, partner_user):
    proposal = make_proposal_full(partner=fit, status="draft", title="Draft title")

    response = login(client, partner_user).post(
        proposal.get_absolute_url(), new_proposal_data(title="New", target_countries="ZZ")
    )

    assert response.status_code == 400
    proposal.refresh_from_db()
    assert proposal.title == "Draft title"


def test_an_unknown_action_answers_404(client, fit, partner_user):
    proposal = make_proposal_full(partner=fit, status="draft")

    response = login(client, partner_user).post(reverse("proposal_action", args=[proposal.pk, "publish"]))

    assert response.status_code == 404
    assert Proposal.objects.get().status == "draft"


def test_actions_answer_only_to_post(client, fit, partner_user):
    proposal = make_proposal_full(partner=fit, status="draft")

    response = login(client, partner_user).get(reverse("proposal_action", args=[proposal.pk, "submit"]))

    assert response.status_code == 405
    assert Proposal.objects.get().status == "draft"


# --- Who may do what: every page and action x persona -------------------------------------------

PERSONAS = ["anonymous", "outsider", "editor", "manager", "reviewer", "partner_user", "awex_user"]

# page -> expected answer per persona, in PERSONAS order. LOGIN = sent to the login page.
PAGES = {
    "proposal_list": (LOGIN, 403, 200, 200, 200, 200, 200),
    "proposal_new": (LOGIN, 403, 403, 403, 403, 200, 200),
    "regional_share": (LOGIN, 403, 403, 403, 200, 403, 403),
    "regional_share_csv": (LOGIN, 403, 403, 403, 200, 403, 403),
}

# A proposal of `fit` for the whole network, opened by each persona, in each status.
DETAIL = {
    "draft": (LOGIN, 404, 404, 404, 404, 200, 404),
    "submitted": (LOGIN, 404, 404, 404, 200, 200, 404),
    "accepted": (LOGIN, 404, 200, 200, 200, 200, 404),
    "declined": (LOGIN, 404, 404, 404, 200, 200, 404),
    "withdrawn": (LOGIN, 404, 404, 404, 200, 200, 404),
}

# action -> (the status it starts from, expected answer per persona). 302 = done.
ACTIONS = {
    "submit": ("draft", (LOGIN, 404, 404, 404, 404, 302, 404)),
    "withdraw": ("submitted", (LOGIN, 404, 404, 404, 403, 302, 404)),
    "accept": ("submitted", (LOGIN, 404, 404, 404, 302, 403, 404)),
    "decline": ("submitted", (LOGIN, 404, 404, 404, 302, 403, 404)),
    "adopt": ("accepted", (LOGIN, 404, 302, 302, 403, 403, 404)),
    "dismiss": ("accepted", (LOGIN, 404, 302, 302, 403, 403, 404)),
}


def expected_for(table_row: tuple, request) -> object:
    return table_row[PERSONAS.index(request.node.callspec.params["persona"])]


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("page", list(PAGES))
def test_each_persona_gets_the_expected_answer_on_each_proposal_page(client, request, persona, page, fit):
    expected = expected_for(PAGES[page], request)
    url = reverse(page.removesuffix("_csv")) + ("?format=csv" if page.endswith("_csv") else "")

    response = login(client, persona).get(url)

    if expected == LOGIN:
        assert_login_redirect(response)
    else:
        assert response.status_code == expected, page


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("status", list(DETAIL))
def test_each_persona_opens_a_proposal_only_where_it_may_know_it_exists(
    client, request, persona, status, fit, istanbul
):
    expected = expected_for(DETAIL[status], request)
    proposal = make_proposal_full(partner=fit, status=status, title="Flanders at the food fair")

    response = login(client, persona).get(proposal.get_absolute_url())

    if expected == LOGIN:
        assert_login_redirect(response)
    else:
        assert response.status_code == expected, status
        assert ("Flanders at the food fair" in response.content.decode()) == (expected == 200)


def _state(proposal: Proposal) -> tuple:
    proposal.refresh_from_db()
    return (
        proposal.status,
        Publication.objects.filter(proposal=proposal).count(),
        ProposalDismissal.objects.filter(proposal=proposal).count(),
        proposal.events.count(),
    )


@pytest.mark.parametrize("persona", PERSONAS, indirect=True)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_persona_may_take_only_its_own_actions_on_a_proposal(
    client, request, persona, action, fit, istanbul
):
    status, answers = ACTIONS[action]
    expected = expected_for(answers, request)
    proposal = make_proposal_full(partner=fit, status=status)
    before = _state(proposal)

    response = login(client, persona).post(
        reverse("proposal_action", args=[proposal.pk, action]),
        {"reason": "Not for this quarter.", "post": istanbul.code, "target": "network"},
    )

    if expected == LOGIN:
        assert_login_redirect(response)
    else:
        assert response.status_code == expected, action
    assert (_state(proposal) != before) == (expected == 302), "done exactly when allowed"


# What each transition does from each state, called directly (who: the partner submits and
# withdraws, central accepts and declines). None = refused, nothing changes.
STATE_MATRIX = {
    "submit": {"draft": "submitted"},
    "withdraw": {"draft": "withdrawn", "submitted": "withdrawn", "accepted": "withdrawn"},
    "accept": {"submitted": "accepted"},
    "decline": {"submitted": "declined"},
}


@pytest.mark.parametrize("status", ProposalStatus.values)
@pytest.mark.parametrize("action", list(STATE_MATRIX))
def test_each_transition_moves_only_from_the_states_its_table_allows(
    fit, partner_user, reviewer, action, status
):
    proposal = make_proposal_full(partner=fit, status=status)
    actor = partner_user if action in ("submit", "withdraw") else reviewer
    call = {
        "submit": lambda: workflow.submit_proposal(actor, proposal),
        "withdraw": lambda: workflow.withdraw_proposal(actor, proposal),
        "accept": lambda: workflow.accept_proposal(actor, proposal),
        "decline": lambda: workflow.decline_proposal(actor, proposal, reason="Not this quarter."),
    }[action]
    target = STATE_MATRIX[action].get(status)

    if target is None:
        with pytest.raises((PermissionDenied, workflow.TransitionNotAllowed)):
            call()
        assert _state(proposal) == (status, 0, 0, 0)
    else:
        call()
        assert _state(proposal) == (target, 0, 0, 1)
        event = proposal.events.get()
        assert (event.verb, event.from_status, event.to_status, event.actor) == (
            action,
            status,
            target,
            actor,
        )


@pytest.mark.parametrize("action", ["submit", "withdraw"])
def test_central_never_submits_or_withdraws_a_partners_proposal(fit, reviewer, action):
    status = "draft" if action == "submit" else "submitted"
    proposal = make_proposal_full(partner=fit, status=status)

    with pytest.raises(PermissionDenied):
        getattr(workflow, f"{action}_proposal")(reviewer, proposal)

    assert _state(proposal) == (status, 0, 0, 0)


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_a_partner_never_decides_on_its_own_proposal(fit, partner_user, action):
    proposal = make_proposal_full(partner=fit, status="submitted")

    with pytest.raises(PermissionDenied):
        if action == "accept":
            workflow.accept_proposal(partner_user, proposal)
        else:
            workflow.decline_proposal(partner_user, proposal, reason="Self-declined.")

    assert _state(proposal) == ("submitted", 0, 0, 0)


@pytest.mark.parametrize(
    ("target", "countries", "aimed_at", "visible"),
    [
        ("network", "", None, True),
        ("countries", "DE,TR", None, True),
        ("countries", "DE", None, False),
        ("posts", "", "istanbul", True),
        ("posts", "", "ankara", False),
    ],
    ids=["network", "their-country", "other-country", "their-post", "other-post-same-country"],
)
def test_post_staff_see_only_accepted_proposals_aimed_at_their_post(
    client, fit, editor, istanbul, ankara, target, countries, aimed_at, visible
):
    posts = {"istanbul": [istanbul], "ankara": [ankara], None: []}[aimed_at]
    proposal = make_proposal_full(
        partner=fit, status="accepted", target=target, countries=countries, posts=posts
    )
    login(client, editor)

    assert client.get(proposal.get_absolute_url()).status_code == (200 if visible else 404)
    response = client.post(reverse("proposal_action", args=[proposal.pk, "adopt"]), {"post": istanbul.code})
    assert response.status_code == (302 if visible else 404)
    assert Publication.objects.filter(proposal=proposal).exists() == visible


def test_a_draft_the_partner_withdrew_before_sending_stays_invisible_to_central(
    client, fit, partner_user, reviewer
):
    proposal = make_proposal_full(partner=fit, status="draft", title="Never sent")
    workflow.withdraw_proposal(partner_user, proposal)
    login(client, reviewer)

    assert "Never sent" not in client.get(reverse("proposal_list")).content.decode()
    assert client.get(proposal.get_absolute_url()).status_code == 404


def test_a_partner_user_without_a_post_never_sees_the_library(client, fit, partner_user):
    make_proposal_full(partner=fit, status="accepted", title="Shown to posts only")

    response = login(client, partner_user).get(reverse("proposal_list"))

    assert "Proposal library" not in response.content.decode()


# --- Triage by central --------------------------------------------------------------------------


def test_central_accepts_narrowing_the_target_to_a_country_and_attaching_a_campaign(
    client, fit, partner_user, reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    campaign = make_campaign(name="Belgian winter traditions", starts_on=date(2026, 2, 1))
    proposal = make_proposal_full(partner=fit, status="submitted", target="countries", countries="TR,DE")

    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, reviewer).post(
            reverse("proposal_action", args=[proposal.pk, "accept"]),
            {"target": "countries", "target_countries": "tr", "campaign": campaign.pk},
        )

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED
    assert proposal.target_country_list == ["TR"]
    assert proposal.campaign == campaign
    assert (proposal.decided_by, proposal.decided_at) == (reviewer, timezone.now())
    event = proposal.events.get()
    assert (event.verb, event.from_status, event.to_status, event.actor) == (
        "accept",
        "submitted",
        "accepted",
        reviewer,
    )
    (notification,) = Notification.objects.filter(proposal=proposal)
    assert (notification.recipient, notification.verb) == (partner_user, "proposal_accepted")
    assert [mail.to for mail in mailoutbox] == [[partner_user.email]]
    assert proposal.title in mailoutbox[0].subject


def test_central_accepts_for_chosen_posts_only(client, fit, reviewer, editor, istanbul, ankara):
    ankara_editor = make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)
    proposal = make_proposal_full(partner=fit, status="submitted", target="countries", countries="TR")

    login(client, reviewer).post(
        reverse("proposal_action", args=[proposal.pk, "accept"]),
        {"target": "posts", "target_posts": [istanbul.pk]},
    )

    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED
    assert (proposal.target, proposal.target_countries) == ("posts", "")
    assert list(proposal.target_posts.all()) == [istanbul]
    client.force_login(editor)
    assert client.get(proposal.get_absolute_url()).status_code == 200
    client.force_login(ankara_editor)
    assert client.get(proposal.get_absolute_url()).status_code == 404


def test_the_decision_form_starts_from_what_the_partner_asked_for(client, fit, reviewer):
    proposal = make_proposal_full(partner=fit, status="submitted", target="countries", countries="TR,DE")

    response = login(client, reviewer).get(proposal.get_absolute_url())

    form = response.context["accept_form"]
    assert form.initial["target"] == "countries"
    assert form.initial["target_countries"] == ["TR", "DE"]
    assert "Decline" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"target": "countries", "target_countries": "TR, ZZ"}, "ZZ"),
        ({"target": "countries", "target_countries": ""}, "Name at least one country."),
        ({"target": "posts"}, "Choose at least one post."),
        ({"target": "planet"}, "planet"),
    ],
    ids=["unknown-country", "no-country", "no-post", "unknown-target"],
)
def test_accepting_with_bad_targets_is_refused_with_a_message(client, fit, reviewer, data, says):
    proposal = make_proposal_full(partner=fit, status="submitted")

    response = login(client, reviewer).post(reverse("proposal_action", args=[proposal.pk, "accept"]), data)

    assert response.status_code == 302
    assert any(says in message for message in messages_of(response))
    assert _state(proposal) == ("submitted", 0, 0, 0)


@pytest.mark.parametrize("reason", ["", "   "])
def test_declining_needs_a_reason(client, fit, partner_user, reviewer, reason, mailoutbox):
    proposal = make_proposal_full(partner=fit, status="submitted")

    response = login(client, reviewer).post(
        reverse("proposal_action", args=[proposal.pk, "decline"]), {"reason": reason}
    )

    assert response.status_code == 302
    assert "Say why the proposal is declined: the partner reads it." in messages_of(response)
    assert _state(proposal) == ("submitted", 0, 0, 0)
    assert not Notification.objects.exists()


def test_declining_tells_the_partner_why_in_their_language(
    client, fit, partner_user, reviewer, django_capture_on_commit_callbacks, mailoutbox
):
    partner_user.language = "nl"
    partner_user.save(update_fields=["language"])
    proposal = make_proposal_full(partner=fit, status="submitted", title="Flanders AI week")
    reason = "Het netwerk focust dit kwartaal op de economische missie."

    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, reviewer).post(
            reverse("proposal_action", args=[proposal.pk, "decline"]), {"reason": reason}
        )

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decline_reason, proposal.decided_by) == ("declined", reason, reviewer)
    assert proposal.events.get().comment == reason
    (notification,) = Notification.objects.filter(proposal=proposal)
    assert (notification.recipient, notification.verb, notification.comment) == (
        partner_user,
        "proposal_declined",
        reason,
    )
    (mail,) = mailoutbox
    assert mail.to == [partner_user.email]
    assert "Flanders AI week" in mail.subject
    assert reason in mail.body
    assert '<html lang="nl">' in mail.alternatives[0][0]
    client.force_login(partner_user)
    assert reason in client.get(proposal.get_absolute_url()).content.decode()


@pytest.mark.parametrize("status", ["accepted", "declined", "withdrawn"])
@pytest.mark.parametrize("action", ["accept", "decline"])
def test_deciding_a_proposal_already_decided_changes_nothing(client, fit, reviewer, status, action):
    proposal = make_proposal_full(partner=fit, status=status)
    before = _state(proposal)

    response = login(client, reviewer).post(
        reverse("proposal_action", args=[proposal.pk, action]), {"target": "network", "reason": "Again."}
    )

    assert response.status_code in (302, 403)
    assert _state(proposal) == before
    assert proposal.decided_by is None


def test_accepting_a_proposal_already_decided_is_refused_with_a_message(
    client, fit, reviewer, second_reviewer
):
    proposal = make_proposal_full(partner=fit, status="submitted")
    workflow.accept_proposal(reviewer, proposal)

    response = login(client, second_reviewer).post(
        reverse("proposal_action", args=[proposal.pk, "accept"]), {"target": "network"}
    )

    assert response.status_code == 302
    assert any("cannot be accepted now" in message for message in messages_of(response))
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.decline_proposal(second_reviewer, Proposal.objects.get(pk=proposal.pk), reason="No.")


def test_two_reviewers_deciding_at_once_cannot_both_win(fit, reviewer, second_reviewer):
    proposal = make_proposal_full(partner=fit, status="submitted")
    seen_by_second = Proposal.objects.get(pk=proposal.pk)

    workflow.accept_proposal(reviewer, proposal)
    with pytest.raises(workflow.StaleEdit) as refused:  # the same failure as a publication's
        workflow.decline_proposal(second_reviewer, seen_by_second, reason="Too late.")

    assert refused.value.current.status == "accepted"

    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decline_reason) == ("accepted", reviewer, "")
    assert list(proposal.events.values_list("verb", flat=True)) == ["accept"]


def test_the_triage_list_shows_waiting_proposals_first_and_never_drafts(client, fit, awex, reviewer):
    make_proposal_full(partner=fit, status="accepted", title="Decided earlier")
    make_proposal_full(partner=awex, status="submitted", title="Waiting from AWEX")
    make_proposal_full(partner=fit, status="draft", title="Still a draft")
    make_proposal_full(partner=fit, status="declined", title="Declined one")

    response = login(client, reviewer).get(reverse("proposal_list"))

    titles = [proposal.title for proposal in response.context["triage"]]
    assert titles[0] == "Waiting from AWEX"
    assert set(titles) == {"Waiting from AWEX", "Decided earlier", "Declined one"}
    assert "Still a draft" not in response.content.decode()


def test_central_filters_the_triage_list_by_partner_and_status(client, fit, awex, reviewer):
    make_proposal_full(partner=fit, status="submitted", title="Fit waiting")
    make_proposal_full(partner=fit, status="accepted", title="Fit accepted")
    make_proposal_full(partner=awex, status="submitted", title="AWEX waiting")
    login(client, reviewer)

    by_partner = client.get(reverse("proposal_list"), {"partner": "fit"})
    by_status = client.get(reverse("proposal_list"), {"status": "submitted"})

    assert {p.title for p in by_partner.context["triage"]} == {"Fit waiting", "Fit accepted"}
    assert {p.title for p in by_status.context["triage"]} == {"Fit waiting", "AWEX waiting"}


def test_an_unknown_filter_value_answers_400_not_500(client, reviewer):
    response = login(client, reviewer).get(reverse("proposal_list"), {"status": "bogus"})

    assert response.status_code == 400


# --- The posts' library -------------------------------------------------------------------------


def library_titles(client, post) -> list[str]:
    response = client.get(reverse("proposal_list"))
    assert response.status_code == 200
    (section,) = [section for section in response.context["library"] if section["post"] == post]
    return sorted(proposal.title for proposal in section["items"])


def test_the_library_offers_accepted_proposals_aimed_at_the_post_inside_their_window(
    client, fit, awex, editor, istanbul, ankara, berlin
):
    def accepted(title, **extra):
        return make_proposal_full(partner=extra.pop("partner", fit), status="accepted", title=title, **extra)

    accepted("For the network")
    accepted("For Türkiye and Germany", target="countries", countries="DE,TR", partner=awex)
    accepted("For Istanbul", target="posts", posts=[istanbul])
    accepted("Last day today", ends_on=TODAY)
    accepted("Starts next month", starts_on=TODAY + timedelta(days=30))
    accepted("Dismissed by Ankara only", target="countries", countries="TR")
    ProposalDismissal.objects.create(
        proposal=Proposal.objects.get(title="Dismissed by Ankara only"), post=ankara, reason="Not ours."
    )
    # Not for Istanbul:
    accepted("For Germany", target="countries", countries="DE")
    accepted("For Ankara", target="posts", posts=[ankara, berlin])
    accepted("Window ended yesterday", ends_on=TODAY - timedelta(days=1))
    ProposalDismissal.objects.create(
        post=istanbul, reason="We did this last year.", proposal=accepted("Dismissed")
    )
    for status in ("draft", "submitted", "declined", "withdrawn"):
        make_proposal_full(partner=fit, status=status, title=f"A {status} one")

    assert library_titles(login(client, editor), istanbul) == sorted(
        [
            "For the network",
            "For Türkiye and Germany",
            "For Istanbul",
            "Last day today",
            "Starts next month",
            "Dismissed by Ankara only",
        ]
    )


def test_the_library_has_a_section_for_each_post_of_the_user(client, fit, istanbul, berlin):
    both = make_user(email="regional.editor@example.org", role=Role.POST_EDITOR, post=istanbul)
    Membership.objects.create(user=both, role=Role.POST_MANAGER, post=berlin)
    make_proposal_full(
        partner=fit, status="accepted", title="For Germany", target="countries", countries="DE"
    )
    login(client, both)

    assert library_titles(client, berlin) == ["For Germany"]
    assert library_titles(client, istanbul) == []


def test_a_post_dismisses_a_proposal_with_a_reason_that_central_reads(
    client, fit, editor, reviewer, partner_user, istanbul
):
    proposal = make_proposal_full(partner=fit, status="accepted", title="Flanders food fair")
    login(client, editor)

    response = client.post(
        reverse("proposal_action", args=[proposal.pk, "dismiss"]),
        {"post": istanbul.code, "reason": "Our audience is not in the food trade."},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("proposal_list")
    dismissal = ProposalDismissal.objects.get()
    assert (dismissal.proposal, dismissal.post, dismissal.user) == (proposal, istanbul, editor)
    assert library_titles(client, istanbul) == []
    central_page = login(client, reviewer).get(proposal.get_absolute_url()).content.decode()
    assert "Consulate-General of Belgium in Istanbul: Our audience is not in the food trade." in central_page
    partner_page = login(client, partner_user).get(proposal.get_absolute_url()).content.decode()
    assert "Our audience is not in the food trade." not in partner_page


def test_a_post_cannot_dismiss_or_adopt_for_a_post_it_does_not_work_for(client, fit, editor, ankara):
    proposal = make_proposal_full(partner=fit, status="accepted")
    login(client, editor)

    for action in ("dismiss", "adopt"):
        response = client.post(reverse("proposal_action", args=[proposal.pk, action]), {"post": ankara.code})
        assert response.status_code == 403
    missing = client.post(reverse("proposal_action", args=[proposal.pk, "adopt"]), {"post": "be-nowhere"})
    assert missing.status_code == 404
    assert _state(proposal) == ("accepted", 0, 0, 0)


# --- Adoption -----------------------------------------------------------------------------------


def test_adopting_makes_a_draft_partner_relay_of_the_post_with_the_texts_and_photos_on_its_active_channels(
    client, fit, partner_user, editor, istanbul, channels
):
    campaign = make_campaign(name="Flanders cleantech missions", partner=fit, starts_on=date(2026, 2, 1))
    photo = make_asset(owner=partner_user)
    texts = {
        "en": "Cleantech from Flanders.",
        "nl": "Cleantech uit Vlaanderen.",
        "tr": "Flaman temiz teknoloji.",
    }
    proposal = make_proposal_full(
        partner=fit,
        status="accepted",
        title="Flemish cleantech mission",
        texts=texts,
        assets=[photo],
        campaign=campaign,
        starts_on=TODAY + timedelta(days=10),
        ends_on=TODAY + timedelta(days=40),
    )

    response = login(client, editor).post(
        reverse("proposal_action", args=[proposal.pk, "adopt"]), {"post": istanbul.code}
    )

    publication = Publication.objects.get()
    assert response.status_code == 302
    assert response["Location"] == publication.get_absolute_url()
    assert (publication.post, publication.author, publication.proposal) == (istanbul, editor, proposal)
    assert (publication.kind, publication.status) == (PublicationKind.PARTNER_RELAY, PublicationStatus.DRAFT)
    assert publication.title == "Flemish cleantech mission"
    assert publication.campaign == campaign
    assert {v.language: v.text for v in publication.variants.all()} == texts
    assert list(publication.assets.all()) == [photo]
    assert set(publication.channels.all()) == {channels["facebook"], channels["x"]}
    assert (publication.local_date, publication.local_time) == (TODAY + timedelta(days=10), time(10, 0))
    assert publication.timezone == "Europe/Istanbul"
    assert list(PublicationEvent.objects.filter(publication=publication).values_list("verb", flat=True)) == [
        "created",
        "adopted",
    ]
    event = proposal.events.get()
    assert (event.verb, event.actor, event.data) == (
        "adopted",
        editor,
        {"post": istanbul.code, "publication": publication.pk},
    )
    assert proposal.status == Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.ACCEPTED
    # The library says so instead of offering it again.
    assert "Adopted by your post." in client.get(reverse("proposal_list")).content.decode()


def test_a_proposal_without_a_future_window_start_is_planned_three_days_ahead(fit, editor, istanbul):
    proposal = make_proposal_full(partner=fit, status="accepted", starts_on=TODAY - timedelta(days=3))

    publication = workflow.adopt_proposal(editor, proposal, istanbul)

    assert (publication.local_date, publication.local_time) == (TODAY + timedelta(days=3), time(10, 0))


def test_an_adopted_draft_is_planned_inside_the_proposals_window(fit, editor, istanbul):
    proposal = make_proposal_full(partner=fit, status="accepted", ends_on=TODAY + timedelta(days=1))

    publication = workflow.adopt_proposal(editor, proposal, istanbul)

    assert publication.local_date <= proposal.window_ends_on


def test_an_adopted_draft_follows_the_normal_review_and_its_guidelines(
    fit, partner_user, editor, reviewer, istanbul, channels, django_capture_on_commit_callbacks
):
    photo = make_asset(owner=partner_user, alt_texts=dict.fromkeys(("en", "nl", "fr", "tr"), "Solar panels"))
    proposal = make_proposal_full(
        partner=fit,
        status="accepted",
        texts={"en": "Cleantech from Flanders.", "nl": "Cleantech uit Vlaanderen.", "tr": "Temiz teknoloji."},
        assets=[photo],
    )
    publication = workflow.adopt_proposal(editor, proposal, istanbul)

    # Istanbul publishes in nl, fr, en and tr: the French text is missing.
    with pytest.raises(workflow.GuidelinesFailed) as failed:
        workflow.submit(editor, publication)
    assert [result.code for result in failed.value.results] == ["required-languages"]
    assert Publication.objects.get(pk=publication.pk).status == PublicationStatus.DRAFT

    publication.variants.create(language="fr", text="Cleantech de Flandre.")
    with django_capture_on_commit_callbacks(execute=True):
        workflow.submit(editor, Publication.objects.get(pk=publication.pk))

    publication.refresh_from_db()
    assert publication.status == PublicationStatus.IN_REVIEW
    assert publication.latest_revision.checks
    assert Notification.objects.filter(verb="submitted", publication=publication, recipient=reviewer).exists()


@pytest.mark.parametrize(
    ("status", "ends_on"),
    [("declined", None), ("withdrawn", None), ("accepted", TODAY - timedelta(days=1))],
    ids=["declined", "withdrawn", "window-ended"],
)
def test_adopting_a_declined_withdrawn_or_expired_proposal_is_refused(
    client, fit, editor, istanbul, status, ends_on
):
    proposal = make_proposal_full(partner=fit, status=status, ends_on=ends_on)

    response = login(client, editor).post(
        reverse("proposal_action", args=[proposal.pk, "adopt"]), {"post": istanbul.code}
    )

    assert response.status_code in (403, 404)
    assert not Publication.objects.exists()
    with pytest.raises(PermissionDenied):
        workflow.adopt_proposal(editor, proposal, istanbul)
    assert not Publication.objects.exists()
    assert not proposal.events.exists()


def test_an_expired_proposal_is_still_readable_but_offers_no_adoption(client, fit, editor, istanbul):
    proposal = make_proposal_full(partner=fit, status="accepted", ends_on=TODAY - timedelta(days=1))

    response = login(client, editor).get(proposal.get_absolute_url())

    assert response.status_code == 200
    assert response.context["adopt_posts"] == []
    assert "Adopt for" not in response.content.decode()


# --- Provenance for the partner -----------------------------------------------------------------


def test_the_partner_sees_which_posts_adopted_it_with_status_and_time_and_nothing_else(
    client, fit, awex, partner_user, editor, istanbul, ankara
):
    ankara_editor = make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)
    proposal = make_proposal_full(partner=fit, status="accepted", title="Flanders food fair")
    in_istanbul = workflow.adopt_proposal(editor, proposal, istanbul)
    in_ankara = workflow.adopt_proposal(ankara_editor, proposal, ankara)
    Publication.objects.filter(pk=in_ankara.pk).update(
        status=PublicationStatus.PUBLISHED, title="Food fair, Ankara version"
    )
    make_publication(post=istanbul, author=editor, title="Internal draft about visas", status="draft")
    make_proposal_full(partner=awex, status="accepted", title="Wallonia export days")

    response = login(client, partner_user).get(proposal.get_absolute_url())

    page = response.content.decode()
    adoptions = {publication.post: publication.status for publication in response.context["adoptions"]}
    assert adoptions == {istanbul: "draft", ankara: "published"}
    assert istanbul.name in page and ankara.name in page
    assert "Draft" in page and "Published" in page
    assert "5 March 2026, 10:00 Istanbul (UTC+3)" in page
    assert "Internal draft about visas" not in page
    assert "Wallonia export days" not in page
    assert "Food fair, Ankara version" not in page
    # The partner's list counts the adoptions; the posts' drafts themselves stay internal.
    listing = client.get(reverse("proposal_list"))
    assert [(p.title, p.adoptions) for p in listing.context["own"]] == [("Flanders food fair", 2)]
    assert "Wallonia export days" not in listing.content.decode()
    assert client.get(in_istanbul.get_absolute_url()).status_code in (403, 404)


def test_post_staff_do_not_see_where_else_a_proposal_was_adopted(client, fit, editor, istanbul, ankara):
    ankara_editor = make_user(email="editor.ankara@example.org", role=Role.POST_EDITOR, post=ankara)
    proposal = make_proposal_full(partner=fit, status="accepted")
    workflow.adopt_proposal(ankara_editor, proposal, ankara)

    response = login(client, editor).get(proposal.get_absolute_url())

    assert "see_adoptions" not in response.context["actions"]
    assert ankara.name not in response.content.decode()


# --- Query budgets ------------------------------------------------------------------------------


def count_queries(client) -> int:
    client.get(reverse("proposal_list"))  # warm-up: session, memberships
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("proposal_list"))
    assert response.status_code == 200
    return len(captured)


def fill(size: int, *, fit, awex, editor, istanbul, ankara) -> None:
    """`size` proposals of two partners in every status, some adopted, some dismissed."""
    statuses = ["accepted", "submitted", "accepted", "declined", "draft", "withdrawn"]
    for n in range(size):
        status = statuses[n % len(statuses)]
        proposal = make_proposal_full(
            partner=fit if n % 3 else awex,
            status=status,
            target=["network", "countries", "posts"][n % 3],
            countries="TR,DE",
            posts=[istanbul],
            texts={"en": f"Text {n}", "nl": f"Tekst {n}"},
            ends_on=TODAY + timedelta(days=n),
        )
        if status == "accepted" and n % 4 == 0:
            make_publication(post=istanbul, author=editor, proposal=proposal, kind="partner_relay")
            make_publication(post=ankara, author=editor, proposal=proposal, kind="partner_relay")
        if status == "accepted" and n % 4 == 2:
            ProposalDismissal.objects.create(proposal=proposal, post=istanbul)


@pytest.mark.parametrize("persona", ["partner_user", "reviewer", "editor"], indirect=True)
def test_the_proposals_page_runs_the_same_queries_with_3_and_30_proposals(
    client, persona, fit, awex, editor, istanbul, ankara
):
    login(client, persona)
    data = {"fit": fit, "awex": awex, "editor": editor, "istanbul": istanbul, "ankara": ankara}
    fill(3, **data)
    small = count_queries(client)

    fill(27, **data)

    assert count_queries(client) == small


# --- The demo -----------------------------------------------------------------------------------


def test_seed_demo_makes_proposals_in_every_status_some_adopted_by_several_posts_and_published(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--password", "demo-pass-123", "--publications", "0", verbosity=0)

    proposals = list(Proposal.objects.prefetch_related("publications__post", "variants", "target_posts"))
    assert {proposal.status for proposal in proposals} == set(ProposalStatus.values)
    assert len({proposal.partner_id for proposal in proposals}) >= 3
    assert all(proposal.variants.all() for proposal in proposals)
    adopted = [proposal for proposal in proposals if proposal.publications.all()]
    assert adopted and all(proposal.status == ProposalStatus.ACCEPTED for proposal in adopted)
    assert any(len({p.post_id for p in proposal.publications.all()}) >= 2 for proposal in adopted)
    relays = [publication for proposal in adopted for publication in proposal.publications.all()]
    assert any(publication.status == PublicationStatus.PUBLISHED for publication in relays)
    assert all(publication.kind == PublicationKind.PARTNER_RELAY for publication in relays)
    assert all(permissions.proposal_targets_post(p.proposal, p.post) for p in relays)
    declined = [proposal for proposal in proposals if proposal.status == ProposalStatus.DECLINED]
    assert all(proposal.decline_reason for proposal in declined)
    assert all(proposal.submitted_at is None for proposal in proposals if proposal.status == "draft")
    assert demo.create_proposals() == 0, "a second run adds nothing"


def test_the_demos_decided_proposals_say_when_they_were_decided(db):
    network_demo.load_partners()
    network_demo.load_posts()
    network_demo.create_channels()
    network_demo.create_users("demo-pass-123")
    demo.create_proposals()

    decided = Proposal.objects.filter(status__in=["accepted", "declined"])
    assert decided and all(proposal.decided_at for proposal in decided)


def test_a_proposal_whose_save_fails_after_its_image_was_stored_leaves_no_file_behind(
    client, partner_user, media, monkeypatch
):
    from django.db import DatabaseError

    def fail(**kwargs):
        raise DatabaseError("the history could not be written")

    monkeypatch.setattr(ProposalEvent.objects, "create", fail)  # runs after the image is stored
    login(client, partner_user)
    data = new_proposal_data(
        image=SimpleUploadedFile("roof.png", png_bytes(), "image/png"), alt_en="Solar panels on a roof"
    )
    with pytest.raises(DatabaseError):
        client.post(reverse("proposal_new"), data)
    assert not Proposal.objects.exists() and not Asset.objects.exists()
    assert [path for path in media.rglob("*") if path.is_file()] == []
