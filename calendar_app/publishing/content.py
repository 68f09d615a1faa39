"""What an API connector sends, read once for all of them: the channel's credentials and
API address, and a part's images. The text of each post and its languages come from the
part itself (calendar_app.sending decides them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from calendar_app import images as image_tools
from calendar_app.publishing import SurelyFailed
from diplomacy.credentials import CredentialsError, usable_for

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from diplomacy.models import Channel


def credentials(channel: Channel) -> dict[str, str]:
    """The channel's decrypted credentials, if they were given for its connector and address.

    A token is only sent to the API address it was entered for: credentials stored before
    the address (or the connector) changed are refused, not sent to the new server.
    """
    if not channel.credentials_token:
        raise SurelyFailed(_("The channel has no credentials: add them in the channel settings."))
    try:
        values = channel.read_credentials()
    except CredentialsError as exc:
        raise SurelyFailed(str(exc)) from exc
    if not usable_for(values, channel.connector, channel.endpoint):
        raise SurelyFailed(
            _(
                "The channel's credentials were entered for another connector or address: "
                "enter them again in the channel settings."
            )
        )
    if not values.get("secret"):
        raise SurelyFailed(_("The channel has no credentials: add them in the channel settings."))
    return values


def base_url(channel: Channel, default: str) -> str:
    """The API's base address: the channel's own (an instance, or a test server) or the default."""
    return (channel.endpoint or default).rstrip("/")


@dataclass(frozen=True)
class Image:
    content: bytes
    content_type: str
    filename: str
    alt: str
    width: int
    height: int


def images(delivery: Delivery, platform: str, *, limit: int, language: str) -> list[Image]:
    """The publication's images (at most `limit`, in the order they were added), each in the
    platform's rendition when there is one, with its description in `language`."""
    result = []
    for asset in delivery.publication.assets.order_by("pk")[:limit]:
        rendition = image_tools.PLATFORM_RENDITION.get(platform)
        name = asset.renditions.get(rendition) if rendition else None
        if name and rendition:
            # A rendition keeps the aspect of its size (a small source is cropped, not enlarged).
            width, height = image_tools.RENDITIONS[rendition]
            content_type = _content_type(name)
        else:
            # A saved asset always has its file; were it missing, opening "" fails below
            # like any unreadable image.
            name, width, height, content_type = (
                asset.image.name or "",
                asset.width,
                asset.height,
                asset.content_type,
            )
        try:
            with asset.image.storage.open(name, "rb") as handle:
                content = handle.read()
        except OSError as exc:
            raise SurelyFailed(
                _("The image %(name)s could not be read: nothing was sent.") % {"name": asset}
            ) from exc
        result.append(
            Image(
                content=content,
                content_type=content_type,
                filename=name.rsplit("/", 1)[-1],
                alt=asset.alt_text(language),
                width=width,
                height=height,
            )
        )
    return result


def _content_type(name: str) -> str:
    extension = name.rsplit(".", 1)[-1].lower()
    return {"png": "image/png", "webp": "image/webp", "gif": "image/gif"}.get(extension, "image/jpeg")
