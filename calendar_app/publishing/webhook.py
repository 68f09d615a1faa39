"""Webhook connector: a signed JSON document POSTed to the channel's address, for
in-house systems. The body is signed with HMAC-SHA256 under WEBHOOK_SIGNING_KEY
(header X-Signature: sha256=<hex>) and carries an Idempotency-Key header, so the
receiver can refuse a repeat. A 2xx answer may name the post: {"id": ..., "url": ...}.

One request per part of the delivery (one platform post each, as calendar_app.sending
makes them for the channel's language plan), in order, each sent only once the receiver
has answered the one before. The document:

    {
      "publication": 42,                       # the publication's id
      "post": "TR-IST",                        # the diplomatic post's code
      "channel": {"platform": "x", "handle": "@BelgiumInIstanbul"},
      "plan": "thread",                        # thread | separate | combined | single
      "scheduled_at": "2026-12-07T08:00:00+00:00",
      "part": {
        "number": 2,                           # 1..of, in the order they go out
        "of": 4,
        "languages": ["fr"],                   # a combined part has several, in order
        "text": "La Belgique ..."              # exactly what to post
      },
      "images": 0,                             # how many of the publication's images it carries
      "in_reply_to": "post-17",                # a thread: the receiver's id of the previous
                                               # part (its answer's "id"); otherwise null
      "in_reply_to_url": "https://...",        # the previous part's live address, or null
      "idempotency_key": "3f9c..."             # the part's own key (the header's)
    }

Only the languages the channel publishes are sent: the document has no other texts.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from calendar_app.publishing import OutcomeUnknown, Published, SurelyFailed, Thread, http

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from calendar_app.publishing.parts import OutgoingPart
    from diplomacy.models import Channel

TIMEOUT_SECONDS = 10


def sign(body: bytes) -> str:
    key = settings.WEBHOOK_SIGNING_KEY.encode()
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def document(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> dict:
    """The JSON document of one part (see the module docstring)."""
    channel = delivery.channel
    return {
        "publication": delivery.publication_id,
        "post": delivery.publication.post.code,
        "channel": {"platform": channel.platform, "handle": channel.handle},
        "plan": delivery.plan or channel.language_plan,
        "scheduled_at": delivery.publication.scheduled_at.isoformat(),
        "part": {
            "number": part.number,
            "of": part.of,
            "languages": list(part.languages),
            "text": part.text,
        },
        "images": part.images,
        # A part recorded by a person gives its address, not the receiver's id.
        "in_reply_to": (reply_to.parent.post_id or None) if reply_to is not None else None,
        "in_reply_to_url": (reply_to.parent.url or None) if reply_to is not None else None,
        "idempotency_key": part.idempotency_key,
    }


def publish(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published:
    channel = delivery.channel
    if not channel.endpoint:
        raise SurelyFailed("The channel has no webhook address.")
    body = json.dumps(document(delivery, part, reply_to), ensure_ascii=False).encode()
    request = urllib.request.Request(  # noqa: S310 - the address is an https/http URL central configured
        channel.endpoint,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Idempotency-Key": part.idempotency_key,
            "X-Signature": sign(body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            payload = response.read(65536)
    except urllib.error.HTTPError as exc:
        # The receiver answered: it did not publish (4xx: refused; 5xx, 429: try again).
        raise SurelyFailed(f"HTTP {exc.code} from the webhook") from exc
    except TimeoutError as exc:
        # Sent, no answer: it may have been published.
        raise OutcomeUnknown("No answer from the webhook in time: check whether it was published.") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise OutcomeUnknown(
                "No answer from the webhook in time: check whether it was published."
            ) from exc
        raise SurelyFailed(f"Could not reach the webhook: {exc.reason}") from exc
    try:
        answer = json.loads(payload or b"{}")
    except ValueError:
        answer = {}
    if not isinstance(answer, dict):
        answer = {}
    return Published(post_id=str(answer.get("id", ""))[:200], url=str(answer.get("url", ""))[:500])


def reference_from_url(channel: Channel, url: str) -> Published:
    """The address as given: the receiver names its posts itself (its answers' "id"), and an
    address says nothing of that id, so a thread continued from it answers nothing."""
    return Published(post_id="", url=url)


def check_connection(channel: Channel) -> str:
    """A HEAD request to the webhook address: any answer below 500 (405 included) means a
    receiver is there. HEAD carries no body and changes nothing, so nothing is published;
    the signature and the receiver's own checks are not tested by it."""
    if not channel.endpoint:
        raise SurelyFailed(_("The channel has no webhook address."))
    host = urllib.parse.urlsplit(channel.endpoint).netloc
    http.request(
        "HEAD",
        channel.endpoint,
        platform=host,
        expect_json=False,
        accept=range(400, 500),
        timeout=TIMEOUT_SECONDS,
    )
    return host
