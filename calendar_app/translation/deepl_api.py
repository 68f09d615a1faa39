"""DeepL, through its maintained Python client (`deepl`).

The client posts to /v2/translate with the header "DeepL-Auth-Key <key>" and reads
{"translations": [{"detected_source_language", "text"}]}. A free key (ending ":fx") goes
to api-free.deepl.com unless TRANSLATION_URL names another server. DeepL wants a regional
variant for some targets ("EN-GB", "PT-PT"); sources are plain codes.
"""

from __future__ import annotations

import deepl
from deepl import http_client

from calendar_app.translation import (
    TranslationFailed,
    busy_message,
    garbage_message,
    quota_message,
    refused_key_message,
    unreachable_message,
    unsupported_message,
)

#: DeepL refuses the plain code for these targets ("EN" is deprecated): British English and
#: European Portuguese, as a European ministry writes them.
TARGET_VARIANTS = {"en": "EN-GB", "pt": "PT-PT", "zh": "ZH-HANS"}


def target_code(language: str) -> str:
    return TARGET_VARIANTS.get(language, language.upper())


class DeepLProvider:
    name = "deepl"

    def __init__(self, *, key: str, server_url: str | None = None, timeout: float = 10) -> None:
        self.key = key
        self.server_url = server_url
        self.timeout = timeout

    def translate(self, text: str, source: str, target: str) -> str:
        # The client keeps its network settings in module globals (its documented way to set
        # them). A person is waiting for the answer: one short attempt, no retries with
        # back-off that would keep the page loading for minutes.
        http_client.min_connection_timeout = self.timeout
        http_client.max_network_retries = 0
        translator = deepl.Translator(self.key, server_url=self.server_url, send_platform_info=False)
        try:
            result = translator.translate_text(
                text, source_lang=source.upper(), target_lang=target_code(target)
            )
        except deepl.AuthorizationException as exc:
            raise TranslationFailed(refused_key_message()) from exc
        except deepl.QuotaExceededException as exc:
            raise TranslationFailed(quota_message()) from exc
        except deepl.TooManyRequestsException as exc:
            raise TranslationFailed(busy_message()) from exc
        except deepl.ConnectionException as exc:
            raise TranslationFailed(unreachable_message()) from exc
        except deepl.DeepLException as exc:
            if exc.http_status_code == 400:
                # The only thing we vary is the pair of languages: "Value for 'target_lang'
                # not supported."
                raise TranslationFailed(unsupported_message(source, target)) from exc
            raise TranslationFailed(garbage_message()) from exc
        except (IndexError, KeyError, TypeError, ValueError, AttributeError) as exc:
            # The client reads the answer without checking it: a document without
            # translations, or with fields of the wrong type, ends here.
            raise TranslationFailed(garbage_message()) from exc
        finally:
            translator.close()
        translated = getattr(result, "text", None)
        if not isinstance(translated, str):
            raise TranslationFailed(garbage_message())
        return translated
