from django import template

register = template.Library()


@register.filter
def lookup(mapping: dict, key):
    """`{{ labels|lookup:state }}`: a dictionary's value in a template."""
    return mapping.get(key, "")
