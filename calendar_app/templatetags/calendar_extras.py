from django import template
from django.utils.translation import gettext_lazy

from calendar_app.guidelines import RULES

register = template.Library()


@register.filter
def lookup(mapping: dict, key):
    """`{{ labels|lookup:state }}`: a dictionary's value in a template."""
    return mapping.get(key, "")


@register.filter
def rule_title(code: str) -> str:
    """`{{ check.code|rule_title }}`: a guideline's title in the reader's language, never its
    code ("Posting frequency", not "frequency"); an unknown code reads "A guideline"."""
    rule = RULES.get(code)
    return str(rule.title) if rule is not None else str(gettext_lazy("A guideline"))
