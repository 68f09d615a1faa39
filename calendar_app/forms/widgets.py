"""Pickers: a multiple select that static/js/pickers.js turns into a searchable list (Tom Select).

Without JavaScript it stays the plain multiple select it is rendered as (QuickSelectMultiple);
the module only reads the data attributes below, so every text it shows is translated here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from diplomacy.widgets import QuickSelectMultiple

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class PickerSelectMultiple(QuickSelectMultiple):
    """Several values chosen by typing part of their name; `placeholder` says what none means."""

    #: Without JavaScript: a list box this many rows high, not the browser's four.
    ROWS = 6

    def __init__(self, attrs: dict[str, Any] | None = None, *, placeholder: StrOrPromise = "") -> None:
        super().__init__(
            attrs={
                "data-picker": "",
                "data-placeholder": placeholder,
                "data-remove-label": _("Remove"),
                "data-no-results": _("Nothing matches."),
                "size": self.ROWS,
                **(attrs or {}),
            }
        )


def posts_picker() -> PickerSelectMultiple:
    """Posts found by typing part of their name."""
    return PickerSelectMultiple(placeholder=_("Type a post’s name"))


def country_name_choices(codes: set[str] | None = None) -> list[tuple[str, str]]:
    """(code, name) of every country (or of `codes`), named and sorted in the active language."""
    return [(code, str(name)) for code, name in countries if codes is None or code in codes]


class CountryMultipleChoiceField(forms.MultipleChoiceField):
    """Countries by name in the user's language; the value is a list of ISO codes.

    Also takes what the form took before pickers, codes typed in one box separated by commas
    ("tr, DE"), so that a bookmarked or scripted submission keeps working."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", PickerSelectMultiple(placeholder=_("Type a country’s name")))
        super().__init__(choices=country_name_choices, **kwargs)

    def validate(self, value: Any) -> None:
        # Every unknown code named at once, rather than the first "not one of the choices".
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        known = dict(countries)
        unknown = [code for code in value if code not in known]
        if unknown:
            raise forms.ValidationError(
                _("Unknown country code: %(codes)s."),
                params={"codes": ", ".join(unknown)},
                code="unknown_country",
            )

    def to_python(self, value: Any) -> list[str]:
        values = super().to_python([value] if isinstance(value, str) else value)
        codes = [code.strip().upper() for item in values for code in item.replace(";", ",").split(",")]
        return list(dict.fromkeys(code for code in codes if code))

    def prepare_value(self, data: Any) -> Any:
        # What the picker shows selected: the same codes, whichever way they came in.
        if not data:
            return data
        return self.to_python(list(data) if isinstance(data, list | tuple) else [data])
