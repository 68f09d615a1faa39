"""Connectors: one module per way of putting a publication on a channel.

A connector's `publish(delivery, texts)` returns a Published (the platform's id and
URL) or raises SurelyFailed (nothing was posted: retry later) or OutcomeUnknown (the
request may have gone through: a person must check, it is never retried blindly).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Published:
    post_id: str
    url: str


class SurelyFailed(Exception):
    """Nothing was published; safe to try again (or give up after the limit)."""


class OutcomeUnknown(Exception):
    """The request may have been published (e.g. a time-out after sending)."""


class ManualOnly(Exception):
    """This channel is published by a person from the "publish now" list."""


def connector_for(name: str):
    from calendar_app.publishing import manual, webhook

    return {"manual": manual, "webhook": webhook}[name]
