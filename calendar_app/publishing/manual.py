"""The default connector: staff post the exact approved parts themselves (the "publish
now" list shows them, from calendar_app.publishing.parts.for_delivery) and record the
live address; the engine only lists the publication as due."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from calendar_app.publishing import ManualOnly

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from calendar_app.publishing import Thread
    from calendar_app.publishing.parts import OutgoingPart
    from diplomacy.models import Channel


def publish(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> NoReturn:
    raise ManualOnly


def reference_from_url(channel: Channel, url: str) -> NoReturn:
    """No engine sends a manual channel's parts: a person records them all."""
    raise ManualOnly


def check_connection(channel: Channel) -> NoReturn:
    """Nothing to connect to: a person publishes."""
    raise ManualOnly
