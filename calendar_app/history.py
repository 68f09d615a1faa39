"""History rows as sentences in the reader's language: "Anna Peeters sent it to review",
"Central communications accepted the proposal", "The system published it".

Every registered verb (publication, proposal and crisis histories) has a sentence here; a
test fails when a verb is registered or recorded without one, so a person never reads a
code such as "submit" or "request_changes".

Who did it depends on who reads: staff read the actor's name; a partner reads the post's
name for post staff and "Central communications" for central reviewers, never a staff
member's name or address (their own colleagues they may read by name). Nobody: "The system".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from calendar_app.models import CrisisEvent, ProposalEvent, PublicationEvent
from diplomacy import roles
from diplomacy.formats import format_when
from diplomacy.models import User

#: A publication's history: verb -> sentence (`actor` is who did it).
PUBLICATION_SENTENCES = {
    "created": gettext_lazy("%(actor)s created it"),
    "edited": gettext_lazy("%(actor)s edited it"),
    "edited_after_approval": gettext_lazy("%(actor)s edited it after approval: it went back to review"),
    "rescheduled": gettext_lazy("%(actor)s moved it"),
    "duplicated": gettext_lazy("%(actor)s copied it from another publication"),
    "adopted": gettext_lazy("%(actor)s adopted it from a partner’s proposal"),
    "submit": gettext_lazy("%(actor)s sent it to review"),
    "resubmit": gettext_lazy("%(actor)s sent it to review again"),
    "approve": gettext_lazy("%(actor)s approved it"),
    "request_changes": gettext_lazy("%(actor)s asked for changes"),
    "withdraw": gettext_lazy("%(actor)s withdrew it to draft"),
    "cancel": gettext_lazy("%(actor)s cancelled it"),
    "retry": gettext_lazy("%(actor)s sent it again after a failed delivery"),
    "published": gettext_lazy("%(actor)s published it"),
    "delivery_failed": gettext_lazy("It could not be delivered"),
    "delivery_recorded": gettext_lazy("%(actor)s recorded it as published on a channel"),
    "delivery_retried": gettext_lazy("%(actor)s sent it again to a channel"),
    "delivery_continued": gettext_lazy("%(actor)s recorded a post found live on a channel after a check"),
    "zone_rules_changed": gettext_lazy(
        "%(actor)s moved it in UTC after a change of the zone’s rules (same local time)"
    ),
    "held": gettext_lazy("%(actor)s held it: a crisis was declared"),
    "released": gettext_lazy("%(actor)s released it from the crisis hold"),
    "missed": gettext_lazy("Its time passed during the crisis: it is to be rescheduled"),
    "missed_late": gettext_lazy("It did not go out in time: it is to be rescheduled"),
    "delivery_failed_late": gettext_lazy("A channel was not sent to: its time had passed"),
    "delivery_unknown": gettext_lazy("A delivery’s outcome became unknown: someone must check the channel"),
    "rescheduled_after_missed": gettext_lazy("%(actor)s gave it a new time after it was missed"),
    "break_glass": gettext_lazy("%(actor)s published it at once without review (break-glass)"),
    "reviewed_after": gettext_lazy("%(actor)s reviewed the break-glass publication after the fact"),
    "advisory_retimed": gettext_lazy("%(actor)s moved the advisory to the moment of approval"),
    "translation_checked": gettext_lazy("%(actor)s checked a machine translation"),
    "left_broadcast": gettext_lazy("%(actor)s took it out of its group: it is reviewed on its own"),
}

#: A move with the times it moved between (rescheduled events carry them).
MOVED_FROM_TO = gettext_lazy("%(actor)s moved it from %(from)s to %(to)s")

#: A proposal's history: verb -> sentence.
PROPOSAL_SENTENCES = {
    "created": gettext_lazy("%(actor)s created the proposal"),
    "edited": gettext_lazy("%(actor)s edited the proposal"),
    "submit": gettext_lazy("%(actor)s sent the proposal to central communications"),
    "withdraw": gettext_lazy("%(actor)s withdrew the proposal"),
    "accept": gettext_lazy("%(actor)s accepted the proposal"),
    "decline": gettext_lazy("%(actor)s declined the proposal"),
    "adopted": gettext_lazy("%(actor)s adopted the proposal"),
}

#: A crisis timeline: verb -> sentence.
CRISIS_SENTENCES = {
    "declared": gettext_lazy("%(actor)s declared the crisis"),
    "acknowledged": gettext_lazy("%(actor)s acknowledged it"),
    "escalated": gettext_lazy("Nobody on call acted: all central reviewers were told"),
    "held": gettext_lazy("%(actor)s held the scheduled publications"),
    "released": gettext_lazy("%(actor)s released a held publication"),
    "advisory_broadcast": gettext_lazy("%(actor)s broadcast an advisory"),
    "advisory_approved": gettext_lazy("%(actor)s approved an advisory"),
    "break_glass": gettext_lazy("%(actor)s published an advisory without review (break-glass)"),
    "reviewed_after": gettext_lazy("%(actor)s reviewed a break-glass publication after the fact"),
    "missed": gettext_lazy("%(actor)s listed publications whose time passed for rescheduling"),
    "ended": gettext_lazy("%(actor)s ended the crisis"),
}

#: A verb nobody registered (an old row, a bug): still a sentence, never the code.
UNKNOWN = gettext_lazy("%(actor)s changed it")

AnyEvent = PublicationEvent | ProposalEvent | CrisisEvent


def sentences_for(event: AnyEvent) -> dict[str, Any]:
    """The table of sentences of `event`'s kind of history."""
    if isinstance(event, ProposalEvent):
        return PROPOSAL_SENTENCES
    if isinstance(event, CrisisEvent):
        return CRISIS_SENTENCES
    return PUBLICATION_SENTENCES


def reads_as_partner(reader: Any) -> bool:
    """A partner's contributor who is not also ministry staff."""
    return bool(reader) and roles.is_partner_contributor(reader) and not roles.is_internal(reader)


def actor_name(actor: User | None, reader: Any, *, post_code: str = "") -> str:
    """Who did it, as `reader` may read it (see the module's docstring).

    For a partner, post staff are their post (the one named `post_code` when they work for
    several) and central reviewers are "Central communications".
    """
    if actor is None:
        return _("The system")
    if not reads_as_partner(reader):
        return str(actor)
    if roles.is_central(actor):
        return _("Central communications")
    posts = roles.posts_of(actor)
    if posts:
        named = [post for post in posts if post.code == post_code]
        return (named or posts)[0].name
    if roles.partner_ids(actor) & roles.partner_ids(reader):
        return str(actor)  # a colleague of the reader's own partner
    return _("Central communications")


def prepare(events: Iterable[AnyEvent], reader: Any) -> list[AnyEvent]:
    """`events` as a list, their actors' roles loaded in one query when `reader` needs them
    (a partner reads roles, not names): call it before `event_sentence` over a history."""
    rows = list(events)
    if reads_as_partner(reader):
        roles.load_memberships(event.actor for event in rows)
    return rows


def _moment(value: Any) -> str:
    """A rescheduled event's {"date": ISO date, "time": "HH:MM"} as the reader reads it."""
    try:
        return format_when(date.fromisoformat(value["date"]), time.fromisoformat(value["time"]), None)
    except (KeyError, TypeError, ValueError):
        return ""


def event_sentence(event: AnyEvent, reader: Any = None) -> str:
    """One history row as a sentence in the active language, for `reader`."""
    data = event.data if isinstance(event.data, dict) else {}
    post_code = data.get("post") if isinstance(data.get("post"), str) else ""
    params = {"actor": actor_name(event.actor, reader, post_code=post_code or "")}
    if isinstance(event, PublicationEvent) and event.verb == "rescheduled":
        before, after = _moment(data.get("from")), _moment(data.get("to"))
        if before and after:
            return str(MOVED_FROM_TO) % {**params, "from": before, "to": after}
    sentence = sentences_for(event).get(event.verb, UNKNOWN)
    return str(sentence) % params
