"""LinkedIn connector: the versioned REST API (https://api.linkedin.com unless the channel's
`endpoint` says otherwise), every call with `LinkedIn-Version: YYYYMM` and
`X-Restli-Protocol-Version: 2.0.0`.

Credentials: the author URN (urn:li:organization:… for a page, urn:li:person:… for a
member) and an access token (w_organization_social or w_member_social).

- images: POST /rest/images?action=initializeUpload {"initializeUploadRequest": {"owner"}}
  -> {"value": {"uploadUrl", "image"}}, then PUT the bytes to uploadUrl;
- post: POST /rest/posts {author, commentary, visibility PUBLIC, distribution (main
  feed), lifecycleState PUBLISHED, isReshareDisabledByAuthor, content (media or
  multiImage)} -> 201 with the post's URN in the `x-restli-id` header;
- the commentary is in LinkedIn's "little" text format, whose reserved characters are
  escaped (unescaped, LinkedIn silently cuts the text at the first one); links and
  hashtags are left as they are so that they still work;
- LinkedIn has no threads: each part is a post of its own (reply_to is never given);
- the live address is https://www.linkedin.com/feed/update/<urn>/; given by a person, it
  is kept, with the URN when it is in that form (LinkedIn has no threads to answer);
- check: an organization's localizedName (GET /rest/organizations/{id}), or for a member
  the OpenID userinfo name (GET /v2/userinfo).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _

from calendar_app.publishing import Published, SurelyFailed, Thread, content, http

if TYPE_CHECKING:
    from calendar_app.models import Delivery
    from calendar_app.publishing.parts import OutgoingPart
    from diplomacy.models import Channel

PLATFORM = "LinkedIn"
DEFAULT_BASE = "https://api.linkedin.com"
#: LinkedIn supports each monthly version for about a year: move it forward once a year.
LINKEDIN_VERSION = "202605"
MAX_IMAGES = 20
#: Reserved in the "little" text format (LinkedIn's documentation of the Posts API).
RESERVED = set("\\|{}@[]()<>#*_~")
#: Kept as they are: links (escaping would break them) and hashtags (#word).
KEEP_RE = re.compile(r"https?://[^\s]+|(?:^|(?<=\s))#\w+")
ORGANIZATION_RE = re.compile(r"^urn:li:organization:(\d+)$")
#: The address this connector makes: https://www.linkedin.com/feed/update/<urn>/.
POST_PATH_RE = re.compile(r"^/feed/update/(?P<urn>urn:li:\w+:[\w-]+)/?$")


def _setup(channel: Channel) -> tuple[str, dict[str, str], str]:
    """(base, headers, author URN)."""
    values = content.credentials(channel)
    author = values.get("account", "").strip()
    if not author.startswith("urn:li:"):
        raise SurelyFailed(
            _(
                "The LinkedIn channel needs its author URN (e.g. urn:li:organization:12345) "
                "in the channel settings."
            )
        )
    headers = {
        "Authorization": f"Bearer {values['secret']}",
        "LinkedIn-Version": LINKEDIN_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    return content.base_url(channel, DEFAULT_BASE), headers, author


def publish(delivery: Delivery, part: OutgoingPart, reply_to: Thread | None) -> Published:
    base, headers, author = _setup(delivery.channel)
    document: dict = {
        "author": author,
        "commentary": escape_little_text(part.text),
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }
    pictures = content.images(
        delivery, "linkedin", limit=min(part.images, MAX_IMAGES), language=part.language
    )
    media = [{"id": _upload(base, headers, author, picture), "altText": picture.alt} for picture in pictures]
    if len(media) == 1:
        document["content"] = {"media": media[0]}
    elif media:
        document["content"] = {"multiImage": {"images": media}}
    answer = http.request(
        "POST",
        f"{base}/rest/posts",
        platform=PLATFORM,
        headers=headers,
        body=http.json_body(document),
        posting=True,
        expect_json=False,
    )
    urn = answer.header("x-restli-id").strip()
    if not urn.startswith("urn:li:"):
        raise http.garbage(PLATFORM, posting=True, answer=answer)
    return Published(post_id=urn[:200], url=f"https://www.linkedin.com/feed/update/{urn}/")


def reference_from_url(channel: Channel, url: str) -> Published:
    """The address as given, and the post's URN when the address is the feed/update form."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    linkedin = host == "linkedin.com" or host.endswith(".linkedin.com")
    match = POST_PATH_RE.match(urllib.parse.unquote(parts.path)) if linkedin else None
    return Published(post_id=match.group("urn") if match else "", url=url)


def _upload(base: str, headers: dict[str, str], author: str, picture: content.Image) -> str:
    """initializeUpload, then PUT the bytes; the image URN. A failure posts nothing."""
    answer = http.request(
        "POST",
        f"{base}/rest/images?action=initializeUpload",
        platform=PLATFORM,
        headers=headers,
        body=http.json_body({"initializeUploadRequest": {"owner": author}}),
    )
    value = answer.data.get("value")
    if not isinstance(value, dict) or not value.get("uploadUrl") or not value.get("image"):
        raise http.garbage(PLATFORM, posting=False, answer=answer)
    upload_url = str(value["uploadUrl"])
    # The token goes only to LinkedIn's own hosts (or the API address the channel names).
    host = urllib.parse.urlsplit(upload_url).hostname or ""
    trusted = (
        host == urllib.parse.urlsplit(base).hostname
        or host == "linkedin.com"
        or host.endswith(".linkedin.com")
    )
    http.request(
        "PUT",
        upload_url,
        platform=PLATFORM,
        headers={"Authorization": headers["Authorization"]} if trusted else {},
        body=(picture.content, picture.content_type),
        expect_json=False,
        timeout=http.MEDIA_TIMEOUT_SECONDS,
    )
    return str(value["image"])


def check_connection(channel: Channel) -> str:
    """The organization's name, or the member's, read with the token."""
    base, headers, author = _setup(channel)
    organization = ORGANIZATION_RE.match(author)
    if organization:
        answer = http.request(
            "GET", f"{base}/rest/organizations/{organization.group(1)}", platform=PLATFORM, headers=headers
        )
        name = answer.data.get("localizedName")
    else:
        answer = http.request("GET", f"{base}/v2/userinfo", platform=PLATFORM, headers=headers)
        name = answer.data.get("name")
    if not name:
        raise http.garbage(PLATFORM, posting=False, answer=answer)
    return str(name)


def escape_little_text(text: str) -> str:
    """Backslash-escape the little format's reserved characters, outside links and hashtags."""
    escaped, position = [], 0
    for match in KEEP_RE.finditer(text):
        escaped.append(_escape(text[position : match.start()]))
        escaped.append(match.group())
        position = match.end()
    escaped.append(_escape(text[position:]))
    return "".join(escaped)


def _escape(part: str) -> str:
    return "".join(f"\\{character}" if character in RESERVED else character for character in part)
