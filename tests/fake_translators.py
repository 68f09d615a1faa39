"""Local fakes of the translation services, on 127.0.0.1, for the translation tests.

Each follows its service's documented requests and answers, checks what it receives
(what it finds wrong goes to `problems` and is answered with a 400 in the service's own
error shape) and translates by tagging the text with the target language, so a test
knows exactly what came back. `script(route, ...)` makes a route refuse, hang or answer
garbage (see tests.fake_platforms.FakePlatform).
"""

from __future__ import annotations

from tests.fake_platforms import Answer, FakePlatform, Received, json_answer

GARBAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class FakeDeepL(FakePlatform):
    """DeepL's API: POST /v2/translate, header "Authorization: DeepL-Auth-Key <key>", JSON
    {"text": [...], "target_lang", "source_lang"?}; answers {"translations": [{"detected_source_language",
    "text", "billed_characters"}]}; 403 for a refused key, 456 when the quota is used up."""

    name = "deepl"
    KEY = "0c4a1f2e-5b6d-4e7f-8a9b-0c1d2e3f4a5b:fx"
    ROUTES = [("POST", r"/v2/translate", "translate")]

    def authorised(self, received: Received) -> bool:
        return received.headers.get("Authorization") == f"DeepL-Auth-Key {self.KEY}"

    def unauthorised(self) -> Answer:
        return json_answer(403, {"message": "Wrong endpoint. Use https://api.deepl.com"})

    def bad_request(self, message: str) -> Answer:
        return json_answer(400, {"message": message})

    def answer_translate(self, received: Received) -> Answer:
        self.expect(received.headers.get("Content-Type", "").startswith("application/json"), "a JSON body")
        document = received.json()
        texts = document.get("text")
        self.expect(
            isinstance(texts, list) and texts and all(isinstance(t, str) for t in texts), "text: [str]"
        )
        target = document.get("target_lang", "")
        if target not in {"NL", "FR", "DE", "EN-GB", "EN-US", "TR", "PT-PT", "ES", "IT"}:
            return json_answer(400, {"message": "Value for 'target_lang' not supported."})
        source = document.get("source_lang")
        self.expect(
            source is None or source in {"NL", "FR", "DE", "EN", "TR", "PT", "ES", "IT"}, "a source code"
        )
        return json_answer(
            200,
            {
                "translations": [
                    {
                        "detected_source_language": source or "NL",
                        "text": f"[{target}] {text}",
                        "billed_characters": len(text),
                    }
                    for text in texts
                ]
            },
        )


class FakeLibreTranslate(FakePlatform):
    """A LibreTranslate server: POST /translate, JSON {"q", "source", "target", "format", "api_key"};
    answers {"translatedText"}; errors {"error": "..."} with 400, 403, 429 and 500."""

    name = "libretranslate"
    KEY = "libre-key-42"
    LANGUAGES = {"nl", "fr", "de", "en", "tr", "es", "it", "pt"}
    ROUTES = [("POST", r"/translate", "translate")]

    def authorised(self, received: Received) -> bool:
        try:
            return received.json().get("api_key") == self.KEY
        except ValueError:
            return False

    def unauthorised(self) -> Answer:
        return json_answer(403, {"error": "Invalid API key"})

    def bad_request(self, message: str) -> Answer:
        return json_answer(400, {"error": message})

    def answer_translate(self, received: Received) -> Answer:
        document = received.json()
        self.expect(isinstance(document.get("q"), str) and document["q"], "q: a text")
        self.expect(document.get("format") == "text", 'format: "text"')
        if document.get("source") not in self.LANGUAGES:
            return json_answer(400, {"error": f"{document.get('source')} is not supported"})
        if document.get("target") not in self.LANGUAGES:
            return json_answer(400, {"error": f"{document.get('target')} is not supported"})
        return json_answer(200, {"translatedText": f"({document['target']}) {document['q']}"})
