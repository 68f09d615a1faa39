"""LibreTranslate (self-hostable): POST {url}/translate.

Request: JSON {"q", "source", "target", "format": "text", "api_key"}; answer
{"translatedText": "..."}; errors {"error": "..."} with 400 (bad request, an unsupported
language), 403 (a refused or missing key, or the key's limit), 429 (too many requests,
the instance's rate limit) and 500. Standard library only; redirects are not followed
(they would carry the key elsewhere).
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import IO, Any

from calendar_app.translation import (
    TranslationFailed,
    garbage_message,
    quota_message,
    refused_key_message,
    unreachable_message,
    unsupported_message,
)

#: An answer larger than this is not the small JSON document we expect.
MAX_ANSWER_BYTES = 1024 * 1024


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: Any, newurl: str
    ) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _error_of(body: bytes) -> str:
    try:
        document = json.loads(body)
    except ValueError:
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, str) else ""


class LibreTranslateProvider:
    name = "libretranslate"

    def __init__(self, *, url: str, key: str = "", timeout: float = 10) -> None:
        self.url = url.rstrip("/") + "/translate"
        self.key = key
        self.timeout = timeout

    def translate(self, text: str, source: str, target: str) -> str:
        payload: dict[str, str] = {"q": text, "source": source, "target": target, "format": "text"}
        if self.key:
            payload["api_key"] = self.key
        # The address is the configured TRANSLATION_URL, checked to be http(s) in settings.
        request = urllib.request.Request(  # noqa: S310
            self.url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with _opener.open(request, timeout=self.timeout) as response:
                body = response.read(MAX_ANSWER_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise TranslationFailed(
                self._refusal(exc.code, exc.read(MAX_ANSWER_BYTES), source, target)
            ) from exc
        except (OSError, http.client.HTTPException) as exc:  # URLError, time-outs, resets, cut answers
            raise TranslationFailed(unreachable_message()) from exc
        if len(body) > MAX_ANSWER_BYTES:
            raise TranslationFailed(garbage_message())
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise TranslationFailed(garbage_message()) from exc
        translated = document.get("translatedText") if isinstance(document, dict) else None
        if not isinstance(translated, str):
            raise TranslationFailed(garbage_message())
        return translated

    def _refusal(self, status: int, body: bytes, source: str, target: str) -> str:
        error = _error_of(body).lower()
        if status == 403:
            # LibreTranslate says 403 both for a bad key and for a key past its limit.
            return quota_message() if "limit" in error or "quota" in error else refused_key_message()
        if status == 429:
            # The instance's limit per key or per address ("Too many request limits violations").
            return quota_message()
        if status == 400 and ("not supported" in error or "language" in error):
            return unsupported_message(source, target)
        return garbage_message()
