"""Translation help: a machine draft of one language's text from another's.

A provider is chosen by the environment (settings `TRANSLATION_PROVIDER`,
`TRANSLATION_API_KEY`, `TRANSLATION_URL`); without one, translation is off and no
button offers it. Requests go only to the address a person configured there, never to
one taken from a form. Every failure (refused key, quota, time-out, an answer that is
not a translation, a language the service does not translate) is a `TranslationFailed`
carrying a message for the person waiting, never a 500.

A machine draft is not a text anyone checked: `MachineText` is what the editor carries
about it until it is saved on the Variant (provenance fields), and the guideline
"machine-translation-checked" refuses submission until a person confirmed or edited it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from calendar_app.models import Variant, language_name

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    from calendar_app.models import Publication

#: The providers one may configure, by the name stored on a machine-translated Variant.
PROVIDERS = ("deepl", "libretranslate")
PROVIDER_NAMES = {"deepl": "DeepL", "libretranslate": "LibreTranslate"}
#: A content language code, as variants store them.
LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
#: What one request may carry: the longest text a variant holds.
MAX_TEXT = 63206


class TranslationFailed(Exception):
    """The provider gave no usable translation; `message` says why, for the person waiting."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Provider(Protocol):
    """A machine-translation service: `translate` returns the text in `target` or raises
    TranslationFailed (the connectors map every error of their API to it)."""

    name: str

    def translate(self, text: str, source: str, target: str) -> str: ...


def configured_provider() -> Provider | None:
    """The provider the settings name, or None when translation is off."""
    name = (getattr(settings, "TRANSLATION_PROVIDER", "") or "").strip().lower()
    key = getattr(settings, "TRANSLATION_API_KEY", "") or ""
    url = getattr(settings, "TRANSLATION_URL", "") or ""
    timeout = float(getattr(settings, "TRANSLATION_TIMEOUT", 10))
    if name == "deepl" and key:
        from calendar_app.translation.deepl_api import DeepLProvider

        return DeepLProvider(key=key, server_url=url or None, timeout=timeout)
    if name == "libretranslate" and url:
        from calendar_app.translation.libretranslate import LibreTranslateProvider

        return LibreTranslateProvider(url=url, key=key, timeout=timeout)
    return None


def enabled() -> bool:
    """Whether translation help is offered (a provider is configured)."""
    return configured_provider() is not None


def translate(text: str, source: str, target: str, provider: Provider | None = None) -> str:
    """`text` (in `source`) machine-translated into `target` by `provider` (the configured one
    by default).

    Raises ValueError for a language code that is not one (the view answers 400),
    TranslationFailed for everything the provider does wrong, and LookupError when
    translation is off (the view answers 404).
    """
    if not (LANGUAGE_CODE.match(source or "") and LANGUAGE_CODE.match(target or "")) or source == target:
        raise ValueError(f"not a pair of language codes: {source!r}, {target!r}")
    provider = provider or configured_provider()
    if provider is None:
        raise LookupError("translation is off")
    text = normalise(text)
    if not text:
        raise TranslationFailed(_("Write the %(language)s text first.") % {"language": language_name(source)})
    if len(text) > MAX_TEXT:
        raise TranslationFailed(_("This text is too long to translate in one go."))
    translated = provider.translate(text, source, target)
    return check_answer(translated, text)


def check_answer(translated: object, original: str) -> str:
    """The translation when it looks like one: a non-empty string of a sane length."""
    if not isinstance(translated, str) or not translated.strip():
        raise TranslationFailed(garbage_message())
    # A translation is rarely more than three times the original; a service answering
    # pages for a sentence is answering something else.
    if len(translated) > 3 * len(original) + 200:
        raise TranslationFailed(garbage_message())
    return normalise(translated)


def garbage_message() -> str:
    return _("The translation service gave an answer that is not a translation. Try again later.")


def unreachable_message() -> str:
    return _(
        "The translation service did not answer in time. Nothing was changed; try again later, "
        "or write the text yourself."
    )


def normalise(text: str) -> str:
    """Line breaks as a browser's form does not send them (CRLF to LF), ends trimmed: the
    form of a text its digest is taken from."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def digest(text: str) -> str:
    """A short fingerprint of a text: whether the text saved is the machine's, unedited."""
    return hashlib.sha256(normalise(text).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class MachineText:
    """What is known of a machine-translated text before and after it is saved.

    `fingerprint` is the digest of the text the machine gave: a text saved with another
    digest was edited by a person, which counts as checking it. `checked` is a person's
    confirmation given in the form (recorded on save with their name and the time).
    """

    provider: str
    source: str
    at: datetime
    fingerprint: str
    checked: bool = False

    def token(self) -> str:
        """The form's hidden value: provider, source language, time, fingerprint."""
        return f"{self.provider}:{self.source}:{int(self.at.timestamp())}:{self.fingerprint}"

    @classmethod
    def parse(cls, token: str, *, checked: bool = False) -> MachineText | None:
        """The hidden value read back; None for anything else (the text counts as a person's)."""
        parts = (token or "").split(":")
        if len(parts) != 4:
            return None
        provider, source, seconds, fingerprint = parts
        if provider not in PROVIDERS or not LANGUAGE_CODE.match(source) or not seconds.isdigit():
            return None
        if not re.fullmatch(r"[0-9a-f]{16}", fingerprint):
            return None
        try:
            at = datetime.fromtimestamp(int(seconds), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return cls(provider, source, at, fingerprint, checked)

    def is_edited(self, text: str) -> bool:
        """The text is no longer the machine's: a person changed it."""
        return digest(text) != self.fingerprint

    def is_unchecked(self, text: str) -> bool:
        """Nobody confirmed or edited it yet: the guideline refuses submission."""
        return not self.checked and not self.is_edited(text)

    @property
    def provider_name(self) -> str:
        return PROVIDER_NAMES.get(self.provider, self.provider)


def machine_text(provider: str, source: str, text: str, at: datetime | None = None) -> MachineText:
    # Whole seconds: the time travels through the form as a Unix time.
    return MachineText(provider, source, (at or datetime.now(tz=UTC)).replace(microsecond=0), digest(text))


def draft(text: str, source: str, target: str) -> tuple[str, MachineText]:
    """Translate and describe the result: the text and its provenance."""
    provider = configured_provider()
    if provider is None:
        raise LookupError("translation is off")
    translated = translate(text, source, target, provider)
    return translated, machine_text(provider.name, source, translated)


def refused_key_message() -> str:
    return _(
        "The translation service refused our key. Ask the administrator to check the translation "
        "settings; meanwhile, write the text yourself."
    )


def quota_message() -> str:
    return _(
        "The translation quota is used up for now. Write the text yourself, or ask the administrator "
        "to raise the quota."
    )


def busy_message() -> str:
    return _("The translation service is busy. Try again in a minute.")


def unsupported_message(source: str, target: str) -> str:
    return _("The translation service does not translate from %(source)s into %(target)s.") % {
        "source": language_name(source),
        "target": language_name(target),
    }


# --- Provenance on saved texts ----------------------------------------------------------


def provenance_fields(
    text: str,
    machine: MachineText | None,
    actor: AbstractBaseUser | None,
    *,
    current: Variant | None = None,
    speaks_of_provenance: bool = True,
) -> dict[str, Any]:
    """The Variant provenance fields for `text` about to be saved (`current`: the row as it is).

    - With `machine` (the editor carried a machine draft for this language): the machine's
      provenance; checked by `actor` now when they confirmed it or edited the text, unless
      the same text was checked before (the earlier checker stays).
    - Without, from an editor (`speaks_of_provenance`): a person wrote it; no provenance.
    - Without, from a caller that does not know of drafts: the row's provenance stays, and a
      changed text of an unchecked machine draft is checked by `actor` (editing is checking).
    """
    now = timezone.now()
    unchanged = current is not None and normalise(current.text) == normalise(text)
    if machine is not None:
        fields: dict[str, Any] = {
            "machine_translated": machine.provider,
            "translated_from": machine.source,
            "translated_at": machine.at,
            "checked_by": None,
            "checked_at": None,
        }
        if machine.checked or machine.is_edited(text):
            earlier = current is not None and unchanged and current.checked_by_id is not None
            if earlier and current is not None:
                fields["checked_by"], fields["checked_at"] = current.checked_by, current.checked_at
            else:
                fields["checked_by"], fields["checked_at"] = actor, now
        return fields
    if speaks_of_provenance or current is None:
        return {
            "machine_translated": "",
            "translated_from": "",
            "translated_at": None,
            "checked_by": None,
            "checked_at": None,
        }
    if not unchanged and current.is_unchecked_translation:
        return {"checked_by": actor, "checked_at": now}
    return {}


def machine_text_of(variant: Variant) -> MachineText | None:
    """What the editor carries for a saved machine-drafted text (None for a person's text)."""
    if not variant.machine_translated or variant.translated_at is None:
        return None
    return MachineText(
        variant.machine_translated,
        variant.translated_from,
        variant.translated_at,
        digest(variant.text),
        checked=variant.checked_by_id is not None,
    )


def copy_provenance(variants: list[Variant], publication: Publication) -> None:
    """Give `publication`'s texts the provenance of the same languages' `variants` (a copy)."""
    for variant in variants:
        if variant.machine_translated:
            Variant.objects.filter(publication=publication, language=variant.language).update(
                machine_translated=variant.machine_translated,
                translated_from=variant.translated_from,
                translated_at=variant.translated_at,
                checked_by=variant.checked_by_id,
                checked_at=variant.checked_at,
            )


def provenance_differs(variant: Variant, fields: dict[str, Any]) -> bool:
    """Whether saving `fields` (from provenance_fields) would change the row."""
    for name, value in fields.items():
        if name == "checked_by":
            if variant.checked_by_id != (value.pk if value is not None else None):
                return True
        elif getattr(variant, name) != value:
            return True
    return False
