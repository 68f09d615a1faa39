"""A select rendered in Python.

Django renders each <option> through a template, and builds a dictionary of
attributes per option before that (Select.optgroups): the filter forms, with a
select of every post and every country, spent about 5 ms per select on that.
QuickSelect writes the same HTML, same attributes (id, aria-*), straight from
the choices.
"""

import html
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIteratorValue
from django.forms.renderers import BaseRenderer
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


class QuickSelect(forms.Select):
    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        # Through iter(): list() alone asks a model choice iterator for its length first,
        # which costs a COUNT query.
        choices = list(iter(self.choices))
        if any(isinstance(label, list | tuple) for _v, label in choices):
            # Groups of options: Django's own rendering.
            return super().render(name, value, attrs, renderer)
        multiple = self.allow_multiple_selected
        wanted = set(self.format_value(value))
        options = []
        for option_value, label in choices:
            if isinstance(option_value, ModelChoiceIteratorValue):
                # The stubs leave out the attribute that Django sets in __init__.
                option_value = option_value.value  # type: ignore[attr-defined]
            text = "" if option_value is None else str(option_value)
            # A single select marks the first match only, as Django's does.
            selected = " selected" if text in wanted else ""
            if selected and not multiple:
                wanted = set()
            options.append(f'<option value="{_escape(text)}"{selected}>{_escape(label)}</option>')
        attrs = self.build_attrs(self.attrs, attrs)
        if multiple:
            attrs["multiple"] = True
        attributes = _attributes(attrs)
        # Every value and label above is escaped.
        return mark_safe(f'<select name="{_escape(name)}"{attributes}>{"".join(options)}</select>')  # noqa: S308


def _escape(value: object) -> str:
    """conditional_escape without its SafeString per call (hundreds of options a page)."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value))


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """The attributes in their order, as django/forms/widgets/attrs.html writes them."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", key) if value is True else format_html(' {}="{}"', key, value),)
            for key, value in attrs.items()
            if value is not False and value is not None
        ),
    )


class QuickSelectMultiple(QuickSelect, forms.SelectMultiple):
    """A multiple select rendered as QuickSelect renders a single one."""


def use_quick_selects(form: forms.BaseForm) -> forms.BaseForm:
    """Swap plain selects for QuickSelect (checkboxes and radio buttons stay as they are)."""
    for field in form.fields.values():
        if type(field.widget) is forms.Select:
            field.widget.__class__ = QuickSelect
        elif type(field.widget) is forms.SelectMultiple:
            field.widget.__class__ = QuickSelectMultiple
    return form
