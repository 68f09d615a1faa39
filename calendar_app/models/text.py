"""Words and numbers as people type and read them: content languages, language names,
whole numbers in submitted forms."""

from __future__ import annotations

from django.utils.translation import get_language_info

#: Content languages every publication may use, besides each post's host languages.
NETWORK_LANGUAGES = ("nl", "fr", "de", "en")


def language_name(code: str) -> str:
    """“Turkish” for "tr", in the interface language; the code itself when unknown."""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def is_whole_number(value: object) -> bool:
    """ "12" yes; "²", "1.5", "-3" no (str.isdigit alone accepts "²", which int() refuses)."""
    text = str(value)
    return text.isascii() and text.isdigit()


def language_names(codes: list[str]) -> str:
    """ "French (fr), Dutch (nl)" for ["fr", "nl"], for messages."""
    return ", ".join(
        f"{language_name(code)} ({code})" if language_name(code) != code else code for code in codes
    )
