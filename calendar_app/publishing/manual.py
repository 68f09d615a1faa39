"""The default connector: staff post the exact approved text themselves and record the
live address; the engine only lists the publication as due."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from calendar_app.publishing import ManualOnly

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from diplomacy.models import Channel


def publish(delivery: Delivery, texts: dict[str, str]) -> NoReturn:
    raise ManualOnly


def check_connection(channel: Channel) -> NoReturn:
    """Nothing to connect to: a person publishes."""
    raise ManualOnly
