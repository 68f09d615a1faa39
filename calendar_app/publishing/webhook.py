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
import urllib.parse
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext as _

from calendar_app.publishing import Published, SurelyFailed, Thread, http

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from calendar_app.publishing.parts import OutgoingPart
    from diplomacy.models import Channel

#: Seconds to wait for the receiver to connect and to answer each read. Tests patch it.
TIMEOUT_SECONDS: float = 10


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
    """POST the part's signed document. Every outcome goes through http.request: a refusal
    (4xx, 429, 5xx) is SurelyFailed (the Idempotency-Key lets the receiver refuse a
    repeat, so even a 500 is retried), a connection that breaks once the document left
    or a 2xx that is not the contract's JSON is OutcomeUnknown (it may be live)."""
    channel = delivery.channel
    if not channel.endpoint:
        raise SurelyFailed(_("The channel has no webhook address."))
    body = json.dumps(document(delivery, part, reply_to), ensure_ascii=False).encode()
    answer = http.request(
        "POST",
        channel.endpoint,
        platform=_platform(channel),
        headers={"Idempotency-Key": part.idempotency_key, "X-Signature": sign(body)},
        body=(body, "application/json"),
        posting=True,
        deduplicated=True,
        expect_json=False,
        timeout=TIMEOUT_SECONDS,
    )
    # The contract lets a receiver answer with nothing, or with {"id", "url"}; anything
    # else (an error page behind a 200) says the receiver is not what we think it is.
    answered: object = {}
    if answer.body.strip():
        try:
            answered = json.loads(answer.body)
        except ValueError:
            answered = None
    if not isinstance(answered, dict):
        raise http.garbage(_platform(channel), posting=True, answer=answer)
    return Published(post_id=str(answered.get("id") or "")[:200], url=str(answered.get("url") or "")[:500])


def _platform(channel: Channel) -> str:
    """How messages name the receiver: its host (and port), never the user and password an
    address may carry (`netloc` would show them to post staff in errors)."""
    parts = urllib.parse.urlsplit(channel.endpoint)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    if not host:
        return _("the webhook")
    return f"{host}:{port}" if port else host


def reference_from_url(channel: Channel, url: str) -> Published:
    """The address as given: the receiver names its posts itself (its answers' "id"), and an
    address says nothing of that id, so a thread continued from it answers nothing."""
    return Published(post_id="", url=url)


def check_connection(channel: Channel) -> str:
    """A HEAD request to the webhook address: any answer below 500 (405 included) but a 429
    means a receiver is there. HEAD carries no body and changes nothing, so nothing is published;
    the signature and the receiver's own checks are not tested by it."""
    if not channel.endpoint:
        raise SurelyFailed(_("The channel has no webhook address."))
    host = _platform(channel)
    http.request(
        "HEAD",
        channel.endpoint,
        platform=host,
        expect_json=False,
        # A 429 is a receiver there but busy: it says when to try again, like any platform.
        accept=[status for status in range(400, 500) if status != 429],
        timeout=TIMEOUT_SECONDS,
    )
    return host
