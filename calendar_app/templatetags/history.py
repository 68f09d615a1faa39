"""`{{ event|event_sentence:user }}`: a history row as a sentence for its reader."""

from __future__ import annotations

from typing import Any

from django import template

from calendar_app.history import AnyEvent
from calendar_app.history import event_sentence as sentence

register = template.Library()


@register.filter
def event_sentence(event: AnyEvent, reader: Any = None) -> str:
    return sentence(event, reader)
