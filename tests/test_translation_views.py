"""Translation help in the editor, without JavaScript: draft, confirm, edit, submit."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from calendar_app import guidelines, translation, workflow
from calendar_app.models import CrisisTemplate, Publication, PublicationEvent, Variant
from calendar_app.translation import MachineText
from calendar_app.translation.checking import confirm_machine_translation
from diplomacy.models import Role
from tests.calendar_factories import make_publication
from tests.factories import make_channel, make_post, make_user
from tests.fake_translators import FakeDeepL, FakeLibreTranslate

NOW = "2026-11-28 10:00:00+00:00"
DUTCH = "Belgische cleantechbedrijven bezoeken deze week Istanbul."


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def fake_libre(settings):
    fake = FakeLibreTranslate()
    settings.TRANSLATION_PROVIDER = "libretranslate"
    settings.TRANSLATION_API_KEY = FakeLibreTranslate.KEY
    settings.TRANSLATION_URL = fake.url
    settings.TRANSLATION_TIMEOUT = 0.5
    yield fake
    fake.close()


@pytest.fixture
def translation_off(settings):
    settings.TRANSLATION_PROVIDER = ""
    settings.TRANSLATION_API_KEY = ""
    settings.TRANSLATION_URL = ""


@pytest.fixture
def facebook(istanbul):
    # Publishes the post's languages: an advisory in Dutch and French has something to send there.
    return make_channel(post=istanbul, platform="facebook", handle="@Belgium.Istanbul", content_languages="")


def form_data(channel, **extra):
    data = {
        "post": "be-cg-istanbul",
        "title": "Cleantech mission",
        "kind": "regular",
        "channels": [channel.pk],
        "local_date": "2026-12-10",
        "local_time": "09:00",
        "variant_nl": DUTCH,
        "variant_en": "Belgian cleantech companies visit Istanbul this week.",
        "variant_tr": "Belçikalı temiz teknoloji şirketleri bu hafta İstanbul'da.",
    }
    data.update(extra)
    return data


def hidden(page: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    return match.group(1) if match else ""


def drafted(client, channel, **extra):
    """Press "Draft the French from the Dutch" on the new-publication editor."""
    response = client.post(reverse("publication_new"), form_data(channel, translate="fr:nl", **extra))
    return response, response.content.decode()


def test_the_draft_button_is_hidden_when_translation_is_off(client, editor, facebook, translation_off):
    client.force_login(editor)
    page = client.get(reverse("publication_new") + "?post=be-cg-istanbul").content.decode()
    assert 'name="translate"' not in page
    response = client.post(reverse("publication_new"), form_data(facebook, translate="fr:nl"))
    assert response.status_code == 404


def test_an_empty_text_the_post_publishes_offers_a_draft_from_the_first_language_written(
    client, editor, facebook, fake_libre
):
    client.force_login(editor)
    page = client.get(reverse("publication_new") + "?post=be-cg-istanbul").content.decode()
    # Nothing written yet: from the first other language of the post's policy (nl, fr, en, tr).
    assert 'value="fr:nl"' in page and "Draft the French from the Dutch" in page
    assert 'value="nl:fr"' in page
    # German is offered as a text but the post does not publish in it: no draft offered.
    assert 'value="de:' not in page
    response, page = drafted(client, facebook, variant_nl="", variant_en="Hello", variant_fr="")
    assert 'value="nl:en"' in page  # English is the first language with a text now


def test_drafting_fills_the_text_keeps_everything_typed_and_saves_nothing(
    client, editor, facebook, fake_libre
):
    client.force_login(editor)
    response, page = drafted(client, facebook)
    assert response.status_code == 200
    assert f"(fr) {DUTCH}" in page
    assert "Cleantech mission" in page and "Belçikalı temiz" in page
    assert "Machine translation — not yet checked" in page
    assert MachineText.parse(hidden(page, "machine_fr")).source == "nl"
    assert Publication.objects.count() == 0
    assert fake_libre.problems == []


def test_a_saved_draft_blocks_submission_until_someone_confirms_it(client, editor, facebook, fake_libre):
    client.force_login(editor)
    _response, page = drafted(client, facebook)
    data = form_data(facebook, variant_fr=f"(fr) {DUTCH}", machine_fr=hidden(page, "machine_fr"))
    response = client.post(reverse("publication_new"), data)
    assert response.status_code == 302
    publication = Publication.objects.get()
    french = publication.variants.get(language="fr")
    assert (french.machine_translated, french.translated_from, french.checked_by) == (
        "libretranslate",
        "nl",
        None,
    )
    assert french.translated_at is not None

    with pytest.raises(workflow.GuidelinesFailed) as refused:
        workflow.submit(editor, publication)
    assert [result.code for result in refused.value.results] == ["machine-translation-checked"]

    page = client.get(publication.get_absolute_url()).content.decode()
    assert "Machine translation — not yet checked" in page
    response = client.post(
        reverse("confirm_translation", args=[publication.pk, "fr"]), {"revision": publication.revision}
    )
    assert response.status_code == 302
    french.refresh_from_db()
    assert french.checked_by == editor and french.checked_at is not None
    assert PublicationEvent.objects.filter(publication=publication, verb="translation_checked").exists()
    workflow.submit(editor, Publication.objects.get(pk=publication.pk))
    assert Publication.objects.get(pk=publication.pk).status == "in_review"


def test_confirming_in_the_editor_is_recorded_with_the_save(client, editor, facebook, fake_libre):
    client.force_login(editor)
    _response, page = drafted(client, facebook)
    data = form_data(facebook, variant_fr=f"(fr) {DUTCH}", machine_fr=hidden(page, "machine_fr"))
    response = client.post(reverse("publication_new"), {**data, "confirm_translation": "fr"})
    page = response.content.decode()
    assert response.status_code == 200 and Publication.objects.count() == 0
    assert hidden(page, "checked_fr") == "1"
    assert "Machine translation — not yet checked" not in page
    client.post(reverse("publication_new"), {**data, "checked_fr": "1"})
    french = Variant.objects.get(language="fr")
    assert french.machine_translated == "libretranslate" and french.checked_by == editor


def test_editing_a_draft_records_who_checked_it(client, editor, manager, facebook, fake_libre):
    client.force_login(editor)
    _response, page = drafted(client, facebook)
    client.post(
        reverse("publication_new"),
        form_data(facebook, variant_fr=f"(fr) {DUTCH}", machine_fr=hidden(page, "machine_fr")),
    )
    publication = Publication.objects.get()
    client.force_login(manager)
    page = client.get(reverse("publication_edit", args=[publication.pk])).content.decode()
    data = form_data(
        facebook,
        variant_fr="Des entreprises belges de technologies propres visitent Istanbul cette semaine.",
        machine_fr=hidden(page, "machine_fr"),
        revision=publication.revision,
        publication=publication.pk,
    )
    assert client.post(reverse("publication_edit", args=[publication.pk]), data).status_code == 302
    french = Variant.objects.get(language="fr")
    assert french.checked_by == manager and french.machine_translated == "libretranslate"
    assert guidelines.CheckContext.for_publication(publication).unchecked_translations == []


def test_editing_the_text_checks_it_even_from_a_form_that_knows_nothing_of_drafts(editor, istanbul, facebook):
    publication = make_publication(post=istanbul, author=editor, channels=[facebook], variants={"nl": DUTCH})
    Variant.objects.filter(publication=publication).update(machine_translated="deepl", translated_from="fr")
    content = workflow.PublicationContent(
        title="t",
        kind="regular",
        campaign=None,
        channels=[facebook],
        local_date=publication.local_date,
        local_time=publication.local_time,
        variants={"nl": DUTCH + " Welkom!"},
    )
    workflow.update_publication(editor, publication, content, expected_revision=publication.revision)
    variant = Variant.objects.get(publication=publication)
    assert variant.machine_translated == "deepl" and variant.checked_by == editor


def test_a_copy_keeps_its_texts_unchecked(editor, istanbul, facebook):
    publication = make_publication(post=istanbul, author=editor, channels=[facebook], variants={"nl": DUTCH})
    Variant.objects.filter(publication=publication).update(machine_translated="deepl", translated_from="fr")
    (copy,) = workflow.duplicate_publication(
        editor, publication, local_date=publication.local_date, local_time=publication.local_time
    )
    assert guidelines.CheckContext.for_publication(copy).unchecked_translations == ["nl"]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ({"status": 403, "body": {"error": "Invalid API key"}}, "refused our key"),
        ({"status": 429, "body": {"error": "Too many request limits violations"}}, "quota is used up"),
        ({"status": 200, "body": b"<html>oops</html>"}, "not a translation"),
        ({"status": None, "delay": 1.5}, "did not answer in time"),
    ],
)
def test_a_failing_service_says_why_and_keeps_every_text(
    client, editor, facebook, fake_libre, script, message
):
    fake_libre.script("translate", **script)
    client.force_login(editor)
    response, page = drafted(client, facebook)
    assert response.status_code == 200
    assert message in page
    assert DUTCH in page and "Cleantech mission" in page
    assert hidden(page, "machine_fr") == ""
    assert Publication.objects.count() == 0


@pytest.mark.parametrize(
    "extra",
    [
        {"translate": "xx:nl"},
        {"translate": "fr:zz"},
        {"translate": "fr:fr"},
        {"translate": "fr"},
        {"confirm_translation": "zz"},
    ],
)
def test_unknown_language_codes_are_a_bad_request(client, editor, facebook, fake_libre, extra):
    client.force_login(editor)
    response = client.post(reverse("publication_new"), form_data(facebook, **extra))
    assert response.status_code == 400
    assert fake_libre.calls("translate") == []


def test_only_people_who_may_edit_the_publication_may_translate(client, editor, facebook, fake_libre):
    other_post = make_post(code="be-emb-ankara", name="Embassy in Ankara")
    stranger = make_user(role=Role.POST_EDITOR, post=other_post)
    approved = make_publication(post=facebook.post, author=editor, channels=[facebook], status="approved")
    client.force_login(stranger)
    data = form_data(facebook, translate="fr:nl", revision=approved.revision)
    assert client.post(reverse("publication_edit", args=[approved.pk]), data).status_code == 403
    assert client.post(reverse("publication_new"), data).status_code == 403
    draft = make_publication(post=facebook.post, author=editor, channels=[facebook])
    assert client.post(reverse("publication_edit", args=[draft.pk]), data).status_code == 404
    assert fake_libre.calls("translate") == []


def test_only_people_who_may_edit_it_confirm_a_draft_and_only_the_revision_they_read(
    client, editor, reviewer, facebook
):
    publication = make_publication(
        post=facebook.post, author=editor, channels=[facebook], variants={"fr": "Bonjour"}
    )
    Variant.objects.filter(publication=publication).update(machine_translated="deepl", translated_from="nl")
    url = reverse("confirm_translation", args=[publication.pk, "fr"])
    stranger = make_user(role=Role.POST_EDITOR, post=make_post())
    client.force_login(stranger)
    assert client.post(url, {"revision": publication.revision}).status_code == 404
    client.force_login(reviewer)
    client.post(url, {"revision": publication.revision + 1}, follow=True)
    assert Variant.objects.get(publication=publication).checked_by is None
    assert client.post(url, {"revision": "x"}).status_code == 400
    assert client.post(reverse("confirm_translation", args=[publication.pk, "nl"])).status_code == 404
    client.post(url, {"revision": publication.revision})
    assert Variant.objects.get(publication=publication).checked_by == reviewer


def test_the_live_check_sees_an_unchecked_draft_in_the_form(client, editor, facebook, fake_libre):
    client.force_login(editor)
    _response, page = drafted(client, facebook)
    data = form_data(facebook, variant_fr=f"(fr) {DUTCH}", machine_fr=hidden(page, "machine_fr"))
    results = client.post(reverse("publication_check"), data).content.decode()
    assert "Machine translation not yet checked: French (fr)" in results
    results = client.post(reverse("publication_check"), {**data, "checked_fr": "1"}).content.decode()
    assert "Machine translation not yet checked" not in results
    results = client.post(reverse("publication_check"), {**data, "variant_fr": "Mon texte."}).content.decode()
    assert "Machine translation not yet checked" not in results


def test_deepl_drafts_in_the_editor_too(client, editor, facebook, settings):
    fake = FakeDeepL()
    try:
        settings.TRANSLATION_PROVIDER, settings.TRANSLATION_API_KEY = "deepl", FakeDeepL.KEY
        settings.TRANSLATION_URL, settings.TRANSLATION_TIMEOUT = fake.url, 0.5
        client.force_login(editor)
        _response, page = drafted(client, facebook)
        assert f"[FR] {DUTCH}" in page
        assert MachineText.parse(hidden(page, "machine_fr")).provider == "deepl"
    finally:
        fake.close()


# --- Crisis: the advisory composer and the templates ---------------------------------------

ADVISORY_NL = "Blijf binnen en volg de instructies van de lokale autoriteiten."


@pytest.fixture(autouse=True)
def _no_mfa_prompt(settings):
    # CI may run with DEBUG off, which turns the MFA set-up redirect on for reviewers.
    settings.REQUIRE_MFA_FOR_REVIEWERS = False


@pytest.fixture
def crisis(reviewer, istanbul, facebook):
    return workflow.declare_crisis(
        reviewer,
        title="Unrest in Istanbul",
        reason="Demonstrations",
        whole_network=False,
        countries=["TR"],
        posts=[],
    )


def test_the_composer_drafts_an_advisory_text_and_refuses_to_send_it_unchecked(
    client, reviewer, crisis, fake_libre
):
    url = reverse("advisory_compose", args=[crisis.pk])
    client.force_login(reviewer)
    assert "Draft the French from the Dutch" in client.get(url).content.decode()
    data = {"title": "Stay indoors", "platforms": ["facebook"], "text_nl": ADVISORY_NL}
    response = client.post(url, {**data, "translate": "fr:nl"})
    page = response.content.decode()
    assert response.status_code == 200 and f"(fr) {ADVISORY_NL}" in page
    assert "Stay indoors" in page
    assert re.search(r'<input type="checkbox" name="platforms" value="facebook"[^>]* checked', page)
    sent = {**data, "text_fr": f"(fr) {ADVISORY_NL}", "machine_fr": hidden(page, "machine_fr")}
    response = client.post(url, sent)
    assert response.status_code == 400
    assert "Machine translation not yet checked: French (fr)" in response.content.decode()
    assert not Publication.objects.filter(crisis=crisis).exists()

    response = client.post(url, {**sent, "checked_fr": "1"})
    assert response.status_code == 302
    french = Variant.objects.get(publication__crisis=crisis, language="fr")
    assert (french.machine_translated, french.translated_from, french.checked_by) == (
        "libretranslate",
        "nl",
        reviewer,
    )


def test_the_composer_hides_the_button_when_translation_is_off(client, reviewer, crisis, translation_off):
    url = reverse("advisory_compose", args=[crisis.pk])
    client.force_login(reviewer)
    assert 'name="translate"' not in client.get(url).content.decode()
    response = client.post(
        url, {"title": "t", "platforms": ["facebook"], "text_nl": "x", "translate": "fr:nl"}
    )
    assert response.status_code == 404


def test_a_post_editor_cannot_translate_in_the_composer(client, editor, crisis, fake_libre):
    client.force_login(editor)
    url = reverse("advisory_compose", args=[crisis.pk])
    response = client.post(
        url, {"title": "t", "platforms": ["facebook"], "text_nl": "x", "translate": "fr:nl"}
    )
    assert response.status_code == 403
    assert fake_libre.calls("translate") == []


def test_a_crisis_template_is_drafted_and_saved_only_once_checked(client, reviewer, fake_libre):
    client.force_login(reviewer)
    url = reverse("crisis_templates")
    data = {"name": "Stay indoors", "text_fr": "Restez à l'intérieur."}
    response = client.post(url, {**data, "translate": "nl:fr"})
    page = response.content.decode()
    assert response.status_code == 200 and "(nl) Restez à l&#x27;intérieur." in page
    drafted_data = {**data, "text_nl": "(nl) Restez à l'intérieur.", "machine_nl": hidden(page, "machine_nl")}
    response = client.post(url, drafted_data)
    assert response.status_code == 400 and "Machine translation not yet checked" in response.content.decode()
    response = client.post(url, {**drafted_data, "confirm_translation": "nl"})
    assert hidden(response.content.decode(), "checked_nl") == "1"
    assert client.post(url, {**drafted_data, "checked_nl": "1"}).status_code == 302
    assert CrisisTemplate.objects.get().texts["nl"] == "(nl) Restez à l'intérieur."


def test_drafting_says_that_a_chosen_image_must_be_chosen_again(client, editor, facebook, fake_libre):
    client.force_login(editor)
    image = SimpleUploadedFile("photo.png", b"\x89PNG not really", content_type="image/png")
    response = client.post(reverse("publication_new"), form_data(facebook, translate="fr:nl", image=image))
    assert response.status_code == 200
    assert "choose the image again" in response.content.decode()


def test_a_draft_checked_while_in_review_no_longer_blocks_its_approval(editor, reviewer, istanbul, facebook):
    texts = {"nl": DUTCH, "en": "Hello.", "tr": "Merhaba.", "fr": "Bonjour."}
    publication = make_publication(
        post=istanbul,
        author=editor,
        channels=[facebook],
        variants=texts,
        status="approved",
        local_date=date(2026, 12, 10),
    )
    french = "Des entreprises belges visitent Istanbul."
    content = workflow.PublicationContent(
        title=publication.title,
        kind="regular",
        campaign=None,
        channels=[facebook],
        local_date=publication.local_date,
        local_time=publication.local_time,
        variants={**texts, "fr": french},
        machine_texts={"fr": translation.machine_text("deepl", "nl", french)},
    )
    publication = workflow.update_publication(editor, publication, content, expected_revision=1)
    assert publication.status == "in_review"
    assert [check["code"] for check in publication.latest_revision.checks if not check["passed"]] == [
        "machine-translation-checked"
    ]
    with pytest.raises(workflow.DecisionRefused):
        workflow.approve(reviewer, publication, expected_revision=publication.revision)

    confirm_machine_translation(editor, publication, "fr", expected_revision=publication.revision)
    publication = Publication.objects.get(pk=publication.pk)
    revision = publication.latest_revision
    assert revision.submitted_by == editor and not revision.has_blocking
    workflow.approve(reviewer, publication, expected_revision=publication.revision)
    assert Publication.objects.get(pk=publication.pk).status == "approved"
