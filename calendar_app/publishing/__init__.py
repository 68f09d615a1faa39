"""Connectors: one module per way of putting a publication on a channel.

A connector's `publish(delivery, part, reply_to)` posts one part of a delivery (one
platform post, as calendar_app.sending made it: its text, languages and how many images
it carries) and returns a Published (the platform's id, URL and, where a reply needs it,
a reference such as Bluesky's cid), or raises SurelyFailed (nothing was posted: retry
later) or OutcomeUnknown (the request may have gone through: a person must check, it is
never retried blindly). `reply_to` is None, or for the parts of a thread after the first
the Thread so far: its root (part 1) and parent (the previous part), as the platform
returned them. The engine calls it once per part, in order, and stores each answer
before the next part is sent.
Every connector also has `check_connection(channel) -> str`: a harmless authenticated
read that returns the account's name, or raises SurelyFailed with the reason; and
`reference_from_url(channel, url) -> Published`: the post a person found live at `url`
on the channel, as a thread's next part needs it to answer (the id, and the reference
where the platform asks for one), or NotAPostAddress when `url` is no post of the
channel's (SurelyFailed when the platform must be asked and cannot answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from calendar_app.publishing.parts import OutgoingPart
    from diplomacy.models import Channel


@dataclass(frozen=True)
class Published:
    post_id: str
    url: str
    #: What a reply needs besides the id (Bluesky: the record's cid); "" elsewhere.
    ref: str = ""


@dataclass(frozen=True)
class Thread:
    """The posts a thread's next part answers: its first (root) and the one before (parent)."""

    root: Published
    parent: Published


class SurelyFailed(Exception):
    """Nothing was published; safe to try again (or give up after the limit).

    `retry_after` (seconds) is the platform's own "not before" (a 429's Retry-After or
    rate-limit reset header), when it gave one; the engine waits at least that long.
    `platform_said` is what the platform answered, short ("HTTP 429: rate limited"), or ""
    when it answered nothing.
    """

    def __init__(self, *args: object, retry_after: int | None = None, platform_said: str = "") -> None:
        super().__init__(*args)
        self.retry_after = retry_after
        self.platform_said = platform_said


class OutcomeUnknown(Exception):
    """The request may have been published (e.g. a time-out after sending).

    `request_sent` says what the connector knows of the request: True once its whole body
    was written to the platform's server (it may well be live), False when it surely did
    not fully leave, None when nobody knows. `platform_said` as for SurelyFailed.
    """

    def __init__(self, *args: object, request_sent: bool | None = None, platform_said: str = "") -> None:
        super().__init__(*args)
        self.request_sent = request_sent
        self.platform_said = platform_said


class NotAPostAddress(Exception):
    """The address a person gave is not that of a post of this channel (the message says why)."""


class ManualOnly(Exception):
    """This channel is published by a person from the "publish now" list."""


class Connector(Protocol):
    """What every connector module provides (see the module docstring)."""

    def publish(self, delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published: ...

    def check_connection(self, channel: Channel) -> str: ...

    def reference_from_url(self, channel: Channel, url: str) -> Published: ...


def connector_for(name: str) -> Connector:
    """The connector module for a Channel.connector value (KeyError when unknown)."""
    from calendar_app.publishing import bluesky, facebook, linkedin, manual, mastodon, webhook, x

    # Typed as Connector: the type checker holds each module to the protocol.
    connectors: dict[str, Connector] = {
        "manual": manual,
        "webhook": webhook,
        "mastodon": mastodon,
        "bluesky": bluesky,
        "facebook": facebook,
        "x": x,
        "linkedin": linkedin,
    }
    return connectors[name]
