"""Translation help shared by the forms that hold one text per language (the publication
editor, the advisory composer, the crisis templates): a machine draft's provenance in hidden
fields, the person's confirmation, and the offer "Draft the French from the Dutch"."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from django import forms
from django.forms import BoundField
from django.utils.translation import gettext as _

from calendar_app import translation
from calendar_app.models import language_name


class TranslationHelpMixin:
    """Mixed into a Form with one text field per language (`text_name(language)`)."""

    languages: list[str]
    fields: dict[str, forms.Field]
    initial: MutableMapping[str, Any]

    if TYPE_CHECKING:  # the Form's own, for the type checker only (the mixin comes first)

        def __getitem__(self, name: str) -> BoundField: ...

    def text_name(self, language: str) -> str:
        raise NotImplementedError

    def offered_languages(self) -> list[str]:
        """The languages a draft is offered for, in the order a source is chosen."""
        return list(self.languages)

    def add_provenance_fields(self, language: str) -> None:
        # A machine draft's provenance and a person's confirmation travel with the form
        # until it is saved (calendar_app.translation.MachineText).
        self.fields[f"machine_{language}"] = forms.CharField(
            required=False, max_length=100, widget=forms.HiddenInput
        )
        self.fields[f"checked_{language}"] = forms.CharField(
            required=False, max_length=1, widget=forms.HiddenInput
        )

    def typed(self, name: str) -> str:
        """A field's value as the person sees it now (typed, or initial when unbound)."""
        value = self[name].value()
        return translation.normalise(value if isinstance(value, str) else "")

    def machine_text(self, language: str) -> translation.MachineText | None:
        """The machine draft the form carries for `language`, if its text is there."""
        if not self.typed(self.text_name(language)):
            return None
        return translation.MachineText.parse(
            self.typed(f"machine_{language}"), checked=self.typed(f"checked_{language}") == "1"
        )

    def machine_texts(self) -> dict[str, translation.MachineText]:
        found = {language: self.machine_text(language) for language in self.languages}
        return {language: machine for language, machine in found.items() if machine is not None}

    def unchecked_translations(self) -> list[str]:
        """Languages whose text is a machine draft nobody confirmed or corrected (the guideline)."""
        return [
            language
            for language, machine in self.machine_texts().items()
            if machine.is_unchecked(self.typed(self.text_name(language)))
        ]

    def draft_offer(self, target: str) -> dict[str, str] | None:
        """The offer "Draft the French from the Dutch" for an empty text: from the first
        offered language that has a text (the first other one when none has)."""
        order = self.offered_languages()
        if target not in order:
            return None
        others = [language for language in order if language != target]
        if not others:
            return None
        source = next((language for language in others if self.typed(self.text_name(language))), others[0])
        return {
            "value": f"{target}:{source}",
            "label": _("Draft the %(target)s from the %(source)s")
            % {"target": language_name(target), "source": language_name(source)},
        }

    def translation_help(self, language: str, *, offer: bool | None = None) -> dict[str, Any]:
        """What the template shows beside one text (see _translation_help.html)."""
        offer = translation.enabled() if offer is None else offer
        machine = self.machine_text(language)
        text = self.typed(self.text_name(language))
        return {
            "language": language,
            "language_name": language_name(language),
            "provenance": [self[f"machine_{language}"], self[f"checked_{language}"]],
            "machine": machine,
            "machine_unchecked": machine is not None and machine.is_unchecked(text),
            "machine_source_name": language_name(machine.source) if machine else "",
            "draft": self.draft_offer(language) if offer and not text else None,
        }
