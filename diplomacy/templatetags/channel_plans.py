"""A channel's language plan in a few words, for the registry pages."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from diplomacy.models import Channel, LanguagePlan, Separator

register = template.Library()


def plan_in_words(channel: Channel) -> str:
    """ "Thread, nl → fr → en → tr", "One post, fr / nl (a blank line between)", "Only fr"...

    The languages are the channel's own, else its post's policy (the post is read then).
    """
    languages = channel.publishing_languages
    if channel.language_plan == LanguagePlan.SINGLE:
        return _("Only %(language)s") % {"language": languages[0] if languages else "—"}
    if channel.language_plan == LanguagePlan.THREAD:
        return _("Thread, %(languages)s") % {"languages": " → ".join(languages)}
    if channel.language_plan == LanguagePlan.SEPARATE:
        return _("Separate posts, %(languages)s") % {"languages": ", ".join(languages)}
    separators: dict[str, str] = {
        Separator.BLANK_LINE: _("a blank line between"),
        Separator.DASH: _("a dash between"),
        Separator.DOTS: _("dots between"),
    }
    separator = separators.get(channel.separator, "")
    return _("One post, %(languages)s (%(separator)s)") % {
        "languages": " / ".join(languages),
        "separator": separator,
    }


register.filter("plan_in_words", plan_in_words)
