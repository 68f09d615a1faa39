"""Bluesky connector (AT Protocol XRPC), on https://bsky.social unless the channel names
another PDS in its `endpoint`.

Credentials: an app password, and the handle (empty: the channel's handle).

- session: POST /xrpc/com.atproto.server.createSession {identifier, password} -> accessJwt, did;
- images: POST /xrpc/com.atproto.repo.uploadBlob (the raw bytes) -> a blob, embedded as
  app.bsky.embed.images with its alt text and aspect ratio;
- post: POST /xrpc/com.atproto.repo.createRecord {repo, collection: app.bsky.feed.post,
  rkey, record} where the record has `text`, `createdAt`, `langs` (the part's languages,
  at most 3), `facets` for links and hashtags, located by UTF-8 byte offsets as the
  lexicon requires, and for a thread's next part `reply` {root, parent}, each a strong
  reference {uri, cid} to the thread's first post and to the previous one. The answer is
  {uri, cid}: the uri is stored as the platform id, the cid as the part's reference. The
  record key is derived from the delivery and the part, so a repeated request for the
  same part is refused as a duplicate record instead of posting twice;
- the live address is https://bsky.app/profile/<handle>/post/<rkey>;
- check: createSession -> the handle;
- a post a person found live is given by its address: the thread's next part needs its
  uri and cid, read with GET /xrpc/com.atproto.repo.getRecord (repo, collection, rkey)
  -> {uri, cid, value} (RecordNotFound when there is none).
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from calendar_app.publishing import NotAPostAddress, Published, SurelyFailed, Thread, content, http

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from calendar_app.publishing.parts import OutgoingPart
    from diplomacy.models import Channel

PLATFORM = "Bluesky"
DEFAULT_BASE = "https://bsky.social"
MAX_IMAGES = 4
MAX_LANGUAGES = 3
POST_COLLECTION = "app.bsky.feed.post"
#: The base32 alphabet of AT Protocol TIDs ("base32-sortable").
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"

#: A URL as written in a text; trailing punctuation is trimmed afterwards.
URL_RE = re.compile(r"https?://[^\s<>\"]+")
#: A hashtag: "#" at the start or after a space, then anything up to a space or a "#".
TAG_RE = re.compile(r"(?:^|(?<=\s))#([^\s#]+)")
TRAILING_PUNCTUATION = ".,;:!?'\"»”’"
#: A post's address in the Bluesky app: /profile/<handle or DID>/post/<record key>.
POST_PATH_RE = re.compile(r"^/profile/(?P<actor>[\w.:%-]{1,253})/post/(?P<rkey>[\w.~:-]{1,512})/?$")
APP_HOSTS = {"bsky.app", "www.bsky.app"}


def _expired(status: int, payload: Any) -> bool:
    """An XRPC ExpiredToken/InvalidToken error comes with 400: the session was refused."""
    return isinstance(payload, dict) and payload.get("error") in {"ExpiredToken", "InvalidToken"}


def _session(channel: Channel, base: str) -> dict[str, Any]:
    values = content.credentials(channel)
    identifier = values.get("account") or channel.handle.lstrip("@")
    answer = http.request(
        "POST",
        f"{base}/xrpc/com.atproto.server.createSession",
        platform=PLATFORM,
        body=http.json_body({"identifier": identifier, "password": values["secret"]}),
        auth_refused=_expired,
    )
    session: dict[str, Any] = answer.data
    if not session.get("accessJwt") or not session.get("did"):
        raise http.garbage(PLATFORM, posting=False, answer=answer)
    return session


def publish(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published:
    channel = delivery.channel
    base = content.base_url(channel, DEFAULT_BASE)
    session = _session(channel, base)
    auth = {"Authorization": f"Bearer {session['accessJwt']}"}
    record: dict = {
        "$type": POST_COLLECTION,
        "text": part.text,
        "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "langs": list(part.languages[:MAX_LANGUAGES]),
    }
    facets = link_and_tag_facets(part.text)
    if facets:
        record["facets"] = facets
    if reply_to is not None:
        if not (reply_to.root.ref and reply_to.parent.ref):
            raise SurelyFailed(
                _("The previous post of the thread has no reference (cid) to answer: nothing was sent.")
            )
        record["reply"] = {
            "root": {"uri": reply_to.root.post_id, "cid": reply_to.root.ref},
            "parent": {"uri": reply_to.parent.post_id, "cid": reply_to.parent.ref},
        }
    pictures = content.images(delivery, "bluesky", limit=min(part.images, MAX_IMAGES), language=part.language)
    if pictures:
        record["embed"] = {
            "$type": "app.bsky.embed.images",
            "images": [
                {
                    "alt": picture.alt,
                    "image": _upload(base, auth, picture),
                    "aspectRatio": {"width": picture.width, "height": picture.height},
                }
                for picture in pictures
            ],
        }
    rkey = record_key(delivery, part)
    answer = http.request(
        "POST",
        f"{base}/xrpc/com.atproto.repo.createRecord",
        platform=PLATFORM,
        headers=auth,
        body=http.json_body(
            {"repo": session["did"], "collection": POST_COLLECTION, "rkey": rkey, "record": record}
        ),
        posting=True,
        deduplicated=True,
        auth_refused=_expired,
    )
    uri, cid = answer.data.get("uri"), answer.data.get("cid")
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise http.garbage(PLATFORM, posting=True, answer=answer)
    handle = session.get("handle") or session["did"]
    return Published(
        post_id=uri[:200],
        url=f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}",
        # A reply names its root and parent by uri and cid: without the cid the thread
        # cannot go on (the next part fails, surely, and says so).
        ref=str(cid)[:200] if isinstance(cid, str) else "",
    )


def reference_from_url(channel: Channel, url: str) -> Published:
    """https://bsky.app/profile/<handle or DID>/post/<rkey> of the channel's account: the
    record's uri and (asked of its server with getRecord) its cid, which a reply names."""
    parts = urllib.parse.urlsplit(url)
    match = POST_PATH_RE.match(parts.path)
    if (parts.hostname or "").lower() not in APP_HOSTS or match is None:
        raise NotAPostAddress(
            _(
                "This is not the address of a Bluesky post: it looks like "
                "https://bsky.app/profile/%(handle)s/post/3kabc…"
            )
            % {"handle": channel.handle.strip().lstrip("@") or "account"}
        )
    actor = urllib.parse.unquote(match.group("actor"))
    base = content.base_url(channel, DEFAULT_BASE)
    session = _session(channel, base)
    if actor.lower() not in {str(session.get("handle") or "").lower(), str(session["did"]).lower()}:
        raise NotAPostAddress(
            _("This is a post of %(given)s, not of this channel's account @%(own)s.")
            % {"given": actor, "own": session.get("handle") or session["did"]}
        )
    query = urllib.parse.urlencode(
        {"repo": session["did"], "collection": POST_COLLECTION, "rkey": match.group("rkey")}
    )
    answer = http.request(
        "GET",
        f"{base}/xrpc/com.atproto.repo.getRecord?{query}",
        platform=PLATFORM,
        headers={"Authorization": f"Bearer {session['accessJwt']}"},
        auth_refused=_expired,
    )
    uri, cid = answer.data.get("uri"), answer.data.get("cid")
    if not (isinstance(uri, str) and uri.startswith("at://") and isinstance(cid, str) and cid):
        raise http.garbage(PLATFORM, posting=False, answer=answer)
    return Published(post_id=uri[:200], url=url, ref=cid[:200])


def _upload(base: str, auth: dict[str, str], picture: content.Image) -> dict:
    """uploadBlob: the blob reference to embed. Before the post: a failure posts nothing."""
    answer = http.request(
        "POST",
        f"{base}/xrpc/com.atproto.repo.uploadBlob",
        platform=PLATFORM,
        headers=auth,
        body=(picture.content, picture.content_type),
        timeout=http.MEDIA_TIMEOUT_SECONDS,
        auth_refused=_expired,
    )
    blob = answer.data.get("blob")
    if not isinstance(blob, dict):
        raise http.garbage(PLATFORM, posting=False, answer=answer)
    return blob


def check_connection(channel: Channel) -> str:
    """createSession: the handle the app password opens."""
    session = _session(channel, content.base_url(channel, DEFAULT_BASE))
    return "@" + str(session.get("handle") or session["did"])


def link_and_tag_facets(text: str) -> list[dict]:
    """Rich-text facets for the links and hashtags in `text`, at UTF-8 byte offsets."""
    facets = []
    for match in URL_RE.finditer(text):
        url = _trim(match.group())
        start = match.start()
        facets.append(
            _facet(text, start, start + len(url), {"$type": "app.bsky.richtext.facet#link", "uri": url})
        )
    for match in TAG_RE.finditer(text):
        tag = _trim(match.group(1))
        if not tag or tag.isdigit():
            continue
        start = match.start()  # the "#"
        facets.append(
            _facet(text, start, start + 1 + len(tag), {"$type": "app.bsky.richtext.facet#tag", "tag": tag})
        )
    return sorted(facets, key=lambda facet: facet["index"]["byteStart"])


def _trim(value: str) -> str:
    value = value.rstrip(TRAILING_PUNCTUATION)
    # A closing parenthesis belongs to the URL only when it opened one: "(see https://x.y/a)".
    while value.endswith(")") and value.count("(") < value.count(")"):
        value = value[:-1].rstrip(TRAILING_PUNCTUATION)
    return value


def _facet(text: str, start: int, end: int, feature: dict) -> dict:
    byte_start = len(text[:start].encode())
    byte_end = byte_start + len(text[start:end].encode())
    return {"index": {"byteStart": byte_start, "byteEnd": byte_end}, "features": [feature]}


def record_key(delivery: Delivery, part: OutgoingPart) -> str:
    """A TID (the record key a post needs) fixed for this part of this delivery: the
    microseconds of the delivery's creation plus the part's number less one (so the parts
    of a thread follow each other, and part 1 keeps the key a whole delivery had before
    deliveries had parts) and a clock id from the part's idempotency key, in AT
    Protocol's base32-sortable."""
    micros = (int(delivery.created_at.timestamp() * 1_000_000) + part.number - 1) & ((1 << 53) - 1)
    clock_id = int(hashlib.sha256(part.idempotency_key.encode()).hexdigest(), 16) % 1024
    value = (micros << 10) | clock_id
    characters = []
    for _position in range(13):
        characters.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(characters))
