"""A channel's API credentials, encrypted at rest.

The credentials of a channel (an access token, an app password, a page id...) are a
small dict of strings, stored on the Channel as one Fernet token (AES-128-CBC with an
HMAC-SHA256, from `cryptography`): a database dump or backup alone does not hand out
working tokens. The key is CHANNEL_CREDENTIALS_KEY (settings.CHANNEL_CREDENTIALS_KEYS);
several comma-separated keys allow a rotation: the first encrypts, each of them decrypts.

The dict also records which connector and which API address the credentials were given
for: a token is only ever sent to the server it was entered for (see `usable_for`).

Which values each API connector needs:

- mastodon: secret = access token (scope write:statuses write:media read:accounts)
- bluesky: account = handle (empty: the channel's handle), secret = app password
- facebook: account = page id, secret = page access token
- x: secret = OAuth 2.0 user access token (tweet.write users.read media.write)
- linkedin: account = author URN (urn:li:organization:… or urn:li:person:…), secret = access token
"""

from __future__ import annotations

import binascii
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _

#: For each API connector: does it need an account identifier besides the secret?
NEEDS_ACCOUNT: dict[str, bool] = {
    "mastodon": False,
    "bluesky": False,
    "facebook": True,
    "x": False,
    "linkedin": True,
}


class CredentialsError(Exception):
    """Credentials cannot be stored or read; `str(exc)` says why, for a person."""


def _fernet() -> MultiFernet:
    keys = [key for key in getattr(settings, "CHANNEL_CREDENTIALS_KEYS", []) if key]
    if not keys:
        raise CredentialsError(
            _(
                "The server has no CHANNEL_CREDENTIALS_KEY, so channel credentials can be neither "
                "stored nor read. Ask the administrator to set it."
            )
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, binascii.Error) as exc:
        raise CredentialsError(
            _(
                "The server's CHANNEL_CREDENTIALS_KEY is not a valid key (32 url-safe base64-encoded "
                "bytes). Ask the administrator to correct it."
            )
        ) from exc


def encrypt(values: dict[str, str]) -> str:
    """The Fernet token (text) of `values`."""
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    """The dict behind a token; CredentialsError when no configured key opens it."""
    try:
        values = json.loads(_fernet().decrypt(token.encode()))
    except (InvalidToken, ValueError) as exc:
        raise CredentialsError(
            _(
                "The stored credentials cannot be read with the server's current key "
                "(CHANNEL_CREDENTIALS_KEY changed?): enter them again in the channel settings."
            )
        ) from exc
    if not isinstance(values, dict):
        raise CredentialsError(
            _("The stored credentials are damaged: enter them again in the channel settings.")
        )
    return {str(key): str(value) for key, value in values.items()}


def usable_for(values: dict[str, str], connector: str, endpoint: str) -> bool:
    """Were these credentials entered for this connector and this API address?"""
    return values.get("connector") == connector and values.get("endpoint", "") == (endpoint or "")
