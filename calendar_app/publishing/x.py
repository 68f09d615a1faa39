"""X connector: API v2 (https://api.x.com unless the channel's `endpoint` says otherwise).

Credentials: an OAuth 2.0 user access token (scopes tweet.write, users.read, media.write),
sent as a Bearer token. Such a token expires after two hours unless it is refreshed;
refreshing is not done here, so an expired token is refused like any other and the
delivery asks for new credentials in the channel settings.

- images: POST /2/media/upload (multipart `media`, `media_category=tweet_image`) ->
  {"data": {"id"}}; the description through POST /2/media/metadata;
- post: POST /2/tweets {"text", "media": {"media_ids"}} -> {"data": {"id", "text"}};
  a thread's next part adds "reply": {"in_reply_to_tweet_id": <the previous part's id>};
  X takes no idempotency key (it refuses an identical text as a duplicate, with 403);
- the live address is https://x.com/<handle>/status/<id> (twitter.com before 2024): a
  person who found a post live gives it, and its id is what the next part answers;
- check: GET /2/users/me -> the username.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from calendar_app.publishing import NotAPostAddress, Published, Thread, content, http

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from calendar_app.publishing.parts import OutgoingPart
    from diplomacy.models import Channel

PLATFORM = "X"
DEFAULT_BASE = "https://api.x.com"
MAX_IMAGES = 4
MAX_ALT_TEXT = 1000
#: A post's address: /<handle>/status/<id>, or /i/web/status/<id> (no handle), and
#: whatever follows the id (/photo/1, ?s=20).
STATUS_PATH_RE = re.compile(r"^/(?:i/web|i|(?P<handle>\w{1,15}))/status/(?P<id>\d{1,25})(?:/.*)?$")
HOSTS = {"x.com", "www.x.com", "mobile.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com"}


def _auth(channel: Channel) -> dict[str, str]:
    return {"Authorization": f"Bearer {content.credentials(channel)['secret']}"}


def _data(answer: http.Answer, *, posting: bool) -> dict:
    data = answer.data.get("data")
    if not isinstance(data, dict) or not data.get("id"):
        raise http.garbage(PLATFORM, posting=posting, answer=answer)
    return data


def publish(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published:
    channel = delivery.channel
    base = content.base_url(channel, DEFAULT_BASE)
    auth = _auth(channel)
    document: dict = {"text": part.text}
    media_ids = [
        _upload(base, auth, picture)
        for picture in content.images(
            delivery, "x", limit=min(part.images, MAX_IMAGES), language=part.language
        )
    ]
    if media_ids:
        document["media"] = {"media_ids": media_ids}
    if reply_to is not None:
        document["reply"] = {"in_reply_to_tweet_id": reply_to.parent.post_id}
    answer = http.request(
        "POST",
        f"{base}/2/tweets",
        platform=PLATFORM,
        headers=auth,
        body=http.json_body(document),
        posting=True,
    )
    post_id = str(_data(answer, posting=True)["id"])
    handle = channel.handle.strip().lstrip("@")
    url = f"https://x.com/{handle}/status/{post_id}" if handle else f"https://x.com/i/web/status/{post_id}"
    return Published(post_id=post_id[:200], url=url)


def reference_from_url(channel: Channel, url: str) -> Published:
    """https://x.com/<handle>/status/<id> (or twitter.com) of this channel's account: the id."""
    parts = urllib.parse.urlsplit(url)
    match = STATUS_PATH_RE.match(parts.path)
    if (parts.hostname or "").lower() not in HOSTS or match is None:
        raise NotAPostAddress(
            _("This is not the address of a post on X: it looks like https://x.com/%(handle)s/status/1234.")
            % {"handle": channel.handle.strip().lstrip("@") or "account"}
        )
    own = channel.handle.strip().lstrip("@")
    given = match.group("handle")
    if given and own and given.lower() != own.lower():
        raise NotAPostAddress(
            _("This is a post of @%(given)s, not of this channel's account @%(own)s.")
            % {"given": given, "own": own}
        )
    return Published(post_id=match.group("id"), url=url)


def _upload(base: str, auth: dict[str, str], picture: content.Image) -> str:
    """Upload one image (and its description); its media id. A failure posts nothing."""
    answer = http.request(
        "POST",
        f"{base}/2/media/upload",
        platform=PLATFORM,
        headers=auth,
        body=http.multipart(
            [("media_category", "tweet_image")],
            [http.FilePart("media", picture.filename, picture.content_type, picture.content)],
        ),
        timeout=http.MEDIA_TIMEOUT_SECONDS,
    )
    media_id = str(_data(answer, posting=False)["id"])
    if picture.alt:
        http.request(
            "POST",
            f"{base}/2/media/metadata",
            platform=PLATFORM,
            headers=auth,
            body=http.json_body(
                {"id": media_id, "metadata": {"alt_text": {"text": picture.alt[:MAX_ALT_TEXT]}}}
            ),
        )
    return media_id


def check_connection(channel: Channel) -> str:
    """GET /2/users/me: the account the token acts for."""
    base = content.base_url(channel, DEFAULT_BASE)
    answer = http.request("GET", f"{base}/2/users/me", platform=PLATFORM, headers=_auth(channel))
    data = _data(answer, posting=False)
    username = data.get("username")
    return f"@{username}" if username else str(data.get("name") or data["id"])
