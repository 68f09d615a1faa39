"""Mastodon connector: the channel's instance (its `endpoint`, e.g. https://mastodon.social).

Credentials: an access token (scopes write:statuses, write:media, read:accounts).

- images: POST /api/v2/media (multipart `file`, `description`) -> a MediaAttachment; 202
  means the full size is still processing: GET /api/v1/media/:id until it answers 200;
- post: POST /api/v1/statuses (`status`, `language`, `media_ids[]`, `visibility`, and for
  a thread's next part `in_reply_to_id`) with an `Idempotency-Key` header (the part's
  key): Mastodon answers a repeated key with the status it already made, so a retried
  request cannot post twice; the answer is a Status whose `id` and `url` are stored;
- check: GET /api/v1/accounts/verify_credentials -> the account;
- a status a person found live is given by its address on the channel's own server,
  https://<server>/@<user>/<id> (or /users/<user>/statuses/<id>): the id is the
  status's on that server, which is what a reply there names.

A status is one part: its text, and its language (the first, for a combined part).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from calendar_app.publishing import NotAPostAddress, Published, SurelyFailed, Thread, content, http

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from calendar_app.publishing.parts import OutgoingPart
    from diplomacy.models import Channel

PLATFORM = "Mastodon"
MAX_IMAGES = 4
#: How often and how long to wait for an image the instance is still processing.
MEDIA_POLLS = 5
MEDIA_POLL_SECONDS = 1.0
#: A status's address on its own server: /@user/<id> or /users/<user>/statuses/<id>.
STATUS_PATH_RE = re.compile(r"^/(?:@[\w.-]+|users/[\w.-]+/statuses)/(?P<id>[A-Za-z0-9]{1,40})/?$")


def _base(channel: Channel) -> str:
    if not channel.endpoint:
        raise SurelyFailed(_("The Mastodon channel needs the address of its server in the channel settings."))
    return content.base_url(channel, "")


def _auth(values: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {values['secret']}"}


def publish(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published:
    channel = delivery.channel
    base = _base(channel)
    values = content.credentials(channel)
    media_ids = [
        _upload(base, values, image)
        for image in content.images(
            delivery, "mastodon", limit=min(part.images, MAX_IMAGES), language=part.language
        )
    ]
    fields = [("status", part.text), ("language", part.language), ("visibility", "public")]
    fields += [("media_ids[]", media_id) for media_id in media_ids]
    if reply_to is not None:
        fields.append(("in_reply_to_id", reply_to.parent.post_id))
    answer = http.request(
        "POST",
        f"{base}/api/v1/statuses",
        platform=PLATFORM,
        headers={**_auth(values), "Idempotency-Key": part.idempotency_key},
        body=http.form_body(fields),
        posting=True,
        deduplicated=True,
    )
    status_id = answer.data.get("id")
    if not status_id:
        raise http.garbage(PLATFORM, posting=True, answer=answer)
    return Published(
        post_id=str(status_id)[:200], url=str(answer.data.get("url") or answer.data.get("uri") or "")[:500]
    )


def reference_from_url(channel: Channel, url: str) -> Published:
    """https://<server>/@<user>/<id> on the channel's own server: the status id there."""
    server = urllib.parse.urlsplit(_base(channel)).hostname or ""
    parts = urllib.parse.urlsplit(url)
    match = STATUS_PATH_RE.match(parts.path)
    if match is None:
        raise NotAPostAddress(
            _("This is not the address of a Mastodon post: it looks like https://%(server)s/@account/1234.")
            % {"server": server}
        )
    if (parts.hostname or "").lower() != server.lower():
        # The same status seen from another server has another id there.
        raise NotAPostAddress(
            _(
                "This address is on %(given)s, not on the channel's server %(server)s: "
                "open the post on %(server)s and give that address."
            )
            % {"given": parts.hostname or "?", "server": server}
        )
    return Published(post_id=match.group("id"), url=url)


def _upload(base: str, values: dict[str, str], image: content.Image) -> str:
    """Upload one image; its MediaAttachment id. Before the post: a failure posts nothing."""
    answer = http.request(
        "POST",
        f"{base}/api/v2/media",
        platform=PLATFORM,
        headers=_auth(values),
        body=http.multipart(
            [("description", image.alt)] if image.alt else [],
            [http.FilePart("file", image.filename, image.content_type, image.content)],
        ),
        timeout=http.MEDIA_TIMEOUT_SECONDS,
    )
    media_id = answer.data.get("id")
    if not media_id:
        raise http.garbage(PLATFORM, posting=False, answer=answer)
    if answer.status == 202:
        # Accepted, still processing: a status may not carry it until it is done.
        for _attempt in range(MEDIA_POLLS):
            time.sleep(MEDIA_POLL_SECONDS)
            polled = http.request(
                "GET", f"{base}/api/v1/media/{media_id}", platform=PLATFORM, headers=_auth(values)
            )
            if polled.status == 200:
                break
    return str(media_id)


def check_connection(channel: Channel) -> str:
    """verify_credentials: the account the token belongs to."""
    base = _base(channel)
    answer = http.request(
        "GET",
        f"{base}/api/v1/accounts/verify_credentials",
        platform=PLATFORM,
        headers=_auth(content.credentials(channel)),
    )
    account = answer.data.get("acct") or answer.data.get("username")
    if not account:
        raise http.garbage(PLATFORM, posting=False, answer=answer)
    name = answer.data.get("display_name")
    return f"{name} (@{account})" if name else f"@{account}"
