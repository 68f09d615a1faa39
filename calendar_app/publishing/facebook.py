"""Facebook connector: a Page, through the Graph API (https://graph.facebook.com unless the
channel's `endpoint` says otherwise).

Credentials: the page id and a Page access token (pages_manage_posts,
pages_read_engagement), sent as a Bearer token.

- text only: POST /{version}/{page-id}/feed (`message`) -> {"id": "<page>_<post>"};
- one image: POST /{version}/{page-id}/photos (multipart `source`, `message`) -> {"id", "post_id"};
- several: each image POST /photos with `published=false` (an upload, nothing is shown),
  then POST /feed with `message` and `attached_media[i]={"media_fbid": id}`;
- a page has no threads: each part is a post of its own (reply_to is never given);
- the live address is https://www.facebook.com/<post id>; given by a person, it is kept,
  with the post id when it is in that form (a page has no threads to answer);
- check: GET /{version}/{page-id}?fields=name.

The Graph API answers an expired or revoked token with 400 and error code 190 (and a
missing permission with 10 or 2xx), and a rate limit with codes 4, 17, 32 or 613: these
are read as refused credentials and a rate limit like a 401 and a 429.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from calendar_app.publishing import Published, SurelyFailed, Thread, content, http

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from calendar_app.publishing.parts import OutgoingPart
    from diplomacy.models import Channel

PLATFORM = "Facebook"
DEFAULT_BASE = "https://graph.facebook.com"
GRAPH_VERSION = "v25.0"
MAX_IMAGES = 10
AUTH_CODES = {102, 190, 10}
RATE_LIMIT_CODES = {4, 17, 32, 613}
#: The address this connector makes: https://www.facebook.com/<page id>_<post id>.
POST_PATH_RE = re.compile(r"^/(?P<id>\d+_\d+)/?$")


def _code(payload: Any) -> int | None:
    error = payload.get("error") if isinstance(payload, dict) else None
    return error.get("code") if isinstance(error, dict) else None


def _auth_refused(status: int, payload: Any) -> bool:
    code = _code(payload)
    return code in AUTH_CODES or (isinstance(code, int) and 200 <= code < 300)


def _rate_limited(status: int, payload: Any) -> bool:
    return _code(payload) in RATE_LIMIT_CODES


def _page(channel: Channel) -> tuple[str, dict[str, str], str]:
    """(Graph base with version, auth header, page id)."""
    values = content.credentials(channel)
    page_id = urllib.parse.quote(values.get("account", "").strip(), safe="")
    if not page_id:
        raise SurelyFailed(_("The Facebook channel needs its page id in the channel settings."))
    base = f"{content.base_url(channel, DEFAULT_BASE)}/{GRAPH_VERSION}"
    return base, {"Authorization": f"Bearer {values['secret']}"}, page_id


def _call(
    method: str,
    url: str,
    auth: dict[str, str],
    body: tuple[bytes, str] | None = None,
    *,
    posting: bool = False,
    **kwargs: Any,
) -> http.Answer:
    return http.request(
        method,
        url,
        platform=PLATFORM,
        headers=auth,
        body=body,
        posting=posting,
        auth_refused=_auth_refused,
        rate_limited=_rate_limited,
        **kwargs,
    )


def publish(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published:
    base, auth, page_id = _page(delivery.channel)
    text = part.text
    pictures = content.images(
        delivery, "facebook", limit=min(part.images, MAX_IMAGES), language=part.language
    )
    if len(pictures) == 1:
        picture = pictures[0]
        answer = _call(
            "POST",
            f"{base}/{page_id}/photos",
            auth,
            http.multipart(
                [("message", text)],
                [http.FilePart("source", picture.filename, picture.content_type, picture.content)],
            ),
            posting=True,
            timeout=http.MEDIA_TIMEOUT_SECONDS,
        )
        post_id = answer.data.get("post_id") or answer.data.get("id")
    else:
        fields = [("message", text)]
        for index, picture in enumerate(pictures):
            fields.append(
                (
                    f"attached_media[{index}]",
                    json.dumps({"media_fbid": _upload(base, auth, page_id, picture)}),
                )
            )
        answer = _call("POST", f"{base}/{page_id}/feed", auth, http.form_body(fields), posting=True)
        post_id = answer.data.get("id")
    if not post_id:
        raise http.garbage(PLATFORM, posting=True, answer=answer)
    return Published(post_id=str(post_id)[:200], url=f"https://www.facebook.com/{post_id}")


def reference_from_url(channel: Channel, url: str) -> Published:
    """The address as given, and the post id when the address is the page_post form."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    facebook = host == "facebook.com" or host.endswith(".facebook.com")
    match = POST_PATH_RE.match(parts.path) if facebook else None
    return Published(post_id=match.group("id") if match else "", url=url)


def _upload(base: str, auth: dict[str, str], page_id: str, picture: content.Image) -> str:
    """An unpublished photo to attach to the post: nothing shows until the post is made."""
    answer = _call(
        "POST",
        f"{base}/{page_id}/photos",
        auth,
        http.multipart(
            [("published", "false")],
            [http.FilePart("source", picture.filename, picture.content_type, picture.content)],
        ),
        timeout=http.MEDIA_TIMEOUT_SECONDS,
    )
    photo_id = answer.data.get("id")
    if not photo_id:
        raise http.garbage(PLATFORM, posting=False, answer=answer)
    return str(photo_id)


def check_connection(channel: Channel) -> str:
    """The page's name, read with the page token."""
    base, auth, page_id = _page(channel)
    answer = _call("GET", f"{base}/{page_id}?fields=name", auth)
    name = answer.data.get("name")
    if not name:
        raise http.garbage(PLATFORM, posting=False, answer=answer)
    return str(name)
