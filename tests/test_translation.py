"""Translation help: each provider against a local fake of its API, every failure a clear message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from calendar_app import translation
from calendar_app.translation import MachineText, TranslationFailed
from tests.fake_translators import GARBAGE, FakeDeepL, FakeLibreTranslate


@pytest.fixture
def fake_deepl(settings):
    fake = FakeDeepL()
    settings.TRANSLATION_PROVIDER = "deepl"
    settings.TRANSLATION_API_KEY = FakeDeepL.KEY
    settings.TRANSLATION_URL = fake.url
    settings.TRANSLATION_TIMEOUT = 0.5
    yield fake
    fake.close()


@pytest.fixture
def fake_libre(settings):
    fake = FakeLibreTranslate()
    settings.TRANSLATION_PROVIDER = "libretranslate"
    settings.TRANSLATION_API_KEY = FakeLibreTranslate.KEY
    settings.TRANSLATION_URL = fake.url
    settings.TRANSLATION_TIMEOUT = 0.5
    yield fake
    fake.close()


FAKES = ["fake_deepl", "fake_libre"]


def test_translation_is_off_without_a_provider(settings):
    settings.TRANSLATION_PROVIDER = ""
    assert not translation.enabled()
    with pytest.raises(LookupError):
        translation.translate("Hallo", "nl", "fr")


def test_deepl_without_a_key_or_libretranslate_without_a_server_is_off(settings):
    settings.TRANSLATION_PROVIDER, settings.TRANSLATION_API_KEY = "deepl", ""
    assert not translation.enabled()
    settings.TRANSLATION_PROVIDER, settings.TRANSLATION_URL = "libretranslate", ""
    assert not translation.enabled()


def test_deepl_translates_with_its_key_header_and_a_regional_english(fake_deepl):
    assert (
        translation.translate("Goedemorgen uit Istanbul.", "nl", "en") == "[EN-GB] Goedemorgen uit Istanbul."
    )
    (call,) = fake_deepl.calls("translate")
    assert call.headers["Authorization"] == f"DeepL-Auth-Key {FakeDeepL.KEY}"
    assert call.json()["text"] == ["Goedemorgen uit Istanbul."]
    assert call.json()["source_lang"] == "NL"
    assert call.json()["target_lang"] == "EN-GB"
    assert fake_deepl.problems == []


def test_a_free_deepl_key_goes_to_the_free_api_unless_a_server_is_set():
    from calendar_app.translation.deepl_api import DeepLProvider

    provider = DeepLProvider(key="abc:fx")
    import deepl

    translator = deepl.Translator(provider.key, server_url=provider.server_url)
    assert translator._server_url == "https://api-free.deepl.com"


def test_libretranslate_translates_with_its_key_in_the_body(fake_libre):
    assert translation.translate("Bonjour d'Istanbul.", "fr", "nl") == "(nl) Bonjour d'Istanbul."
    (call,) = fake_libre.calls("translate")
    assert call.json() == {
        "q": "Bonjour d'Istanbul.",
        "source": "fr",
        "target": "nl",
        "format": "text",
        "api_key": FakeLibreTranslate.KEY,
    }
    assert fake_libre.problems == []


@pytest.mark.parametrize("fake_name", FAKES)
def test_a_refused_key_is_a_clear_message(fake_name, request, settings):
    request.getfixturevalue(fake_name)
    settings.TRANSLATION_API_KEY = "not-our-key:fx"
    with pytest.raises(TranslationFailed, match="refused our key"):
        translation.translate("Hallo", "nl", "fr")


def test_deepl_quota_exceeded_is_a_clear_message(fake_deepl):
    fake_deepl.script("translate", 456, {"message": "Quota Exceeded"})
    with pytest.raises(TranslationFailed, match="quota is used up"):
        translation.translate("Hallo", "nl", "fr")


@pytest.mark.parametrize(
    ("status", "error"),
    [(429, "Too many request limits violations"), (403, "Slowdown: character limit reached for this key")],
)
def test_libretranslate_limits_are_a_clear_message(fake_libre, status, error):
    fake_libre.script("translate", status, {"error": error})
    with pytest.raises(TranslationFailed, match="quota is used up"):
        translation.translate("Hallo", "nl", "fr")


@pytest.mark.parametrize("fake_name", FAKES)
def test_a_service_that_hangs_times_out_with_a_clear_message(fake_name, request):
    fake = request.getfixturevalue(fake_name)
    fake.script("translate", None, delay=1.5)
    started = datetime.now(tz=UTC)
    with pytest.raises(TranslationFailed, match="did not answer in time"):
        translation.translate("Hallo", "nl", "fr")
    # One short attempt (0.5 s here), no retries with back-off while a person waits.
    assert (datetime.now(tz=UTC) - started).total_seconds() < 1.4
    assert len(fake.calls("translate")) == 1


@pytest.mark.parametrize("fake_name", FAKES)
@pytest.mark.parametrize(
    "body",
    [
        GARBAGE,
        {"unexpected": "document"},
        {"translations": [{"text": 5, "detected_source_language": "NL", "billed_characters": 1}]},
        {"translatedText": ["not", "a", "string"]},
        {"translations": [], "translatedText": ""},
        {"translations": [{"text": "x" * 5000, "billed_characters": 1}], "translatedText": "x" * 5000},
    ],
)
def test_garbage_answers_are_a_clear_message(fake_name, body, request):
    fake = request.getfixturevalue(fake_name)
    fake.script("translate", 200, body)
    with pytest.raises(TranslationFailed, match="not a translation"):
        translation.translate("Hallo", "nl", "fr")


@pytest.mark.parametrize("fake_name", FAKES)
def test_a_server_error_is_a_clear_message(fake_name, request):
    fake = request.getfixturevalue(fake_name)
    fake.script("translate", 500, {"error": "Internal Server Error", "message": "oops"})
    with pytest.raises(TranslationFailed):
        translation.translate("Hallo", "nl", "fr")


@pytest.mark.parametrize("fake_name", FAKES)
def test_a_language_the_service_does_not_translate_is_a_clear_message(fake_name, request):
    request.getfixturevalue(fake_name)
    with pytest.raises(TranslationFailed, match="does not translate from Dutch into Swahili"):
        translation.translate("Hallo", "nl", "sw")


def test_nothing_is_sent_for_codes_that_are_not_languages_or_an_empty_text(fake_deepl):
    with pytest.raises(ValueError):
        translation.translate("Hallo", "nl", "../etc")
    with pytest.raises(ValueError):
        translation.translate("Hallo", "nl", "nl")
    with pytest.raises(TranslationFailed, match="Write the Dutch text first"):
        translation.translate("  \r\n ", "nl", "fr")
    assert fake_deepl.calls("translate") == []


def test_a_draft_carries_its_provenance_and_an_edit_is_seen(fake_libre):
    text, machine = translation.draft("Hallo", "nl", "fr")
    assert text == "(fr) Hallo"
    assert (machine.provider, machine.source, machine.checked) == ("libretranslate", "nl", False)
    again = MachineText.parse(machine.token())
    assert again is not None and again.fingerprint == machine.fingerprint
    assert again.is_unchecked("(fr) Hallo\r\n")  # the browser's line breaks are not an edit
    assert again.is_edited("(fr) Bonjour")
    assert MachineText.parse(machine.token(), checked=True).is_unchecked("(fr) Hallo") is False


@pytest.mark.parametrize(
    "token",
    [
        "",
        "deepl",
        "evil:nl:1:0123456789abcdef",
        "deepl:xx1:1:0123456789abcdef",
        "deepl:nl:soon:0123456789abcdef",
        "deepl:nl:1:nothex",
        "deepl:nl:99999999999999999:0123456789abcdef",
    ],
)
def test_a_provenance_token_that_is_not_one_is_ignored(token):
    assert MachineText.parse(token) is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TRANSLATION_PROVIDER": "google"}, "TRANSLATION_PROVIDER must be deepl, libretranslate or empty"),
        ({"TRANSLATION_PROVIDER": "deepl"}, "TRANSLATION_PROVIDER=deepl needs TRANSLATION_API_KEY"),
        ({"TRANSLATION_PROVIDER": "libretranslate"}, "needs TRANSLATION_URL"),
        (
            {"TRANSLATION_PROVIDER": "libretranslate", "TRANSLATION_URL": "file:///etc/passwd"},
            "TRANSLATION_URL must be an http(s) address",
        ),
        ({"TRANSLATION_TIMEOUT": "soon"}, "TRANSLATION_TIMEOUT must be a whole number"),
    ],
)
def test_a_half_configured_provider_stops_start_up_with_a_clear_message(env, message):
    from tests.test_settings import manage

    clean = {"TRANSLATION_PROVIDER": "", "TRANSLATION_API_KEY": "", "TRANSLATION_URL": ""}
    result = manage("check", **{**clean, **env})
    assert result.returncode != 0
    assert message in result.stderr
