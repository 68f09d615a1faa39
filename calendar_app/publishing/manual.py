"""The default connector: staff post the exact approved text themselves and record the
live address; the engine only lists the publication as due."""

from calendar_app.publishing import ManualOnly


def publish(delivery, texts: dict[str, str]):
    raise ManualOnly


def check_connection(channel) -> str:
    """Nothing to connect to: a person publishes."""
    raise ManualOnly
