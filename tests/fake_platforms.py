"""Local fakes of the platforms' APIs, on 127.0.0.1, for the connector tests.

Each fake follows its platform's documented requests and answers (paths, auth headers,
bodies, status codes, error documents, rate-limit headers), checks what it receives and
records it. What it finds wrong in a request goes to `problems` (and is answered with a
400 in the platform's own error shape), so a test ends with `assert fake.problems == []`.

`fake.script(route, ...)` makes a route answer otherwise: another status and body
(a 401, a 429 with Retry-After, a 503, garbage), or answer late (`delay`), or not at all
(`fault="close"`: the whole request is read, then the connection closed without a word;
`fault="reset"`: the headers and half the body are read, then the connection reset), to
exercise every outcome of a connector; with `after=n` only once the route has answered n
requests as usual (the third post of a thread fails). Replies are checked as the platforms check
them: a reply names a post the fake made. Nothing here talks to anything but loopback.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
GARBAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"

Answer = tuple[int, dict[str, str], bytes]


def json_answer(status: int, document: Any, headers: dict[str, str] | None = None) -> Answer:
    return (
        status,
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        json.dumps(document).encode(),
    )


@dataclass
class Received:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    route: str = ""

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)

    def multipart(self) -> tuple[dict[str, str], dict[str, tuple[str, str, bytes]]]:
        """(text fields, files as {name: (filename, content type, bytes)})."""
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + self.body)
        fields, files = {}, {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if part.get_filename():
                files[name] = (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
            else:
                fields[name] = part.get_payload(decode=True).decode()
        return fields, files


@dataclass
class Scripted:
    status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    #: Requests of the route answered as usual before this script applies.
    after: int = 0
    #: "close": no answer, the connection closed; "reset": reset while reading the request.
    fault: str = ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that gave up (a time-out test) is expected, not an error


class FakePlatform:
    """A platform on loopback. Subclasses list `ROUTES` and answer each route."""

    name = ""
    #: (HTTP method, path regex, route name) in order; the route answers via `answer_<name>`.
    ROUTES: list[tuple[str, str, str]] = []

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.problems: list[str] = []
        self.scripted: dict[str, Scripted] = {}
        self.ids = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                if fake.resets(self.command, parts.path):
                    # Half the body read, then a reset (RST): the client is cut off mid-request.
                    body = self.rfile.read(length // 2) if length else b""
                    received = Received(self.command, parts.path, parse_qs(parts.query), self.headers, body)
                    fake.dispatch(received)
                    self.close_connection = True
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    return
                body = self.rfile.read(length) if length else b""
                received = Received(self.command, parts.path, parse_qs(parts.query), self.headers, body)
                answer = fake.dispatch(received)
                if answer is None:
                    # The whole request read, the connection closed without a status line.
                    self.close_connection = True
                    return
                status, headers, payload = answer
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_HEAD = _handle  # noqa: N815 - http.server's names

            def log_message(self, *args) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # A short poll interval: shutting a fake down at the end of each test takes that long.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- scripting ---------------------------------------------------------------

    def script(
        self,
        route: str,
        status: int | None = None,
        body: Any = b"",
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
        after: int = 0,
        fault: str = "",
    ) -> None:
        """From now on (once `after` more requests of the route were answered as usual),
        `route` answers `status` with `body` (a dict is sent as JSON), after `delay`
        seconds; with `status` None it only waits, then answers as usual; with `fault`
        "close" or "reset" it never answers (see the module docstring)."""
        if isinstance(body, dict):
            headers = {"Content-Type": "application/json", **(headers or {})}
            body = json.dumps(body).encode()
        self.scripted[route] = Scripted(
            status=status,
            body=body,
            headers=headers or {},
            delay=delay,
            after=len(self.calls(route)) + after,
            fault=fault,
        )

    def calls(self, route: str) -> list[Received]:
        return [received for received in self.received if received.route == route]

    def resets(self, method: str, path: str) -> bool:
        """Whether the next request to this method and path is to be reset mid-request (by
        its route as the path names it: a reset comes before the body is read)."""
        route = next(
            (
                route
                for route_method, pattern, route in self.ROUTES
                if method == route_method and re.fullmatch(pattern, path)
            ),
            None,
        )
        scripted = self.scripted.get(route or "")
        return (
            scripted is not None
            and scripted.fault == "reset"
            and len(self.calls(route or "")) >= scripted.after
        )

    # --- serving -------------------------------------------------------------------

    def dispatch(self, received: Received) -> Answer | None:
        """The answer to a request, or None for no answer at all (a scripted fault)."""
        found = next(
            (
                (route, match)
                for method, pattern, route in self.ROUTES
                if received.method == method and (match := re.fullmatch(pattern, received.path))
            ),
            None,
        )
        if found is None:
            return json_answer(404, {"error": f"no route {received.method} {received.path}"})
        route, match = found
        received.route = self.route_of(route, received)
        self.received.append(received)
        scripted = self.scripted.get(received.route)
        if scripted is not None and len(self.calls(received.route)) > scripted.after:
            time.sleep(scripted.delay)
            if scripted.fault:
                return None
            if scripted.status is not None:
                return scripted.status, scripted.headers, scripted.body
        if not self.authorised(received):
            return self.unauthorised()
        try:
            return getattr(self, f"answer_{received.route}")(received, *match.groups())
        except Problem as problem:
            self.problems.append(f"{received.route}: {problem}")
            return self.bad_request(str(problem))

    def route_of(self, route: str, received: Received) -> str:
        return route

    def expect(self, condition: object, message: str) -> None:
        if not condition:
            raise Problem(message)

    # Each platform says these its own way.
    def authorised(self, received: Received) -> bool:
        raise NotImplementedError

    def unauthorised(self) -> Answer:
        raise NotImplementedError

    def bad_request(self, message: str) -> Answer:
        raise NotImplementedError

    def expired(self) -> tuple[str, Answer]:
        """(route, answer) of the platform refusing expired credentials."""
        raise NotImplementedError


class Problem(Exception):
    """Something in a request that the platform's documentation does not allow."""


# --- Mastodon ---------------------------------------------------------------------------


class FakeMastodon(FakePlatform):
    """A Mastodon instance: POST /api/v2/media, GET /api/v1/media/:id, POST
    /api/v1/statuses (with Idempotency-Key), GET /api/v1/accounts/verify_credentials."""

    name = "mastodon"
    TOKEN = "mastodon-access-token-7f3a"
    ROUTES = [
        ("POST", r"/api/v2/media", "media"),
        ("GET", r"/api/v1/media/([\w-]+)", "media_status"),
        ("POST", r"/api/v1/statuses", "post"),
        ("GET", r"/api/v1/accounts/verify_credentials", "check"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.statuses_by_key: dict[str, dict] = {}
        #: Every status made, by id, in the order they were made.
        self.statuses: dict[str, dict] = {}
        #: Answer uploads with 202 (still processing) and the first poll with 206.
        self.processing = False
        self.polls: dict[str, int] = {}

    def authorised(self, received: Received) -> bool:
        return received.headers.get("Authorization") == f"Bearer {self.TOKEN}"

    def unauthorised(self) -> Answer:
        return json_answer(401, {"error": "The access token is invalid"})

    def bad_request(self, message: str) -> Answer:
        return json_answer(422, {"error": f"Validation failed: {message}"})

    def expired(self) -> tuple[str, Answer]:
        return "post", json_answer(401, {"error": "The access token was revoked"})

    def answer_media(self, received: Received) -> Answer:
        fields, files = received.multipart()
        self.expect("file" in files, "the image goes in the multipart field `file`")
        filename, content_type, content = files["file"]
        self.expect(content_type.startswith("image/") and content, "an image file")
        media_id = f"media-{next(self.ids)}"
        attachment = {
            "id": media_id,
            "type": "image",
            "url": None if self.processing else f"{self.url}/system/{media_id}.jpg",
            "preview_url": f"{self.url}/system/{media_id}-small.jpg",
            "description": fields.get("description"),
        }
        return json_answer(202 if self.processing else 200, attachment)

    def answer_media_status(self, received: Received, media_id: str) -> Answer:
        self.polls[media_id] = self.polls.get(media_id, 0) + 1
        done = self.polls[media_id] > 1
        return json_answer(200 if done else 206, {"id": media_id, "type": "image", "url": None})

    def answer_post(self, received: Received) -> Answer:
        form = received.form()
        key = received.headers.get("Idempotency-Key")
        self.expect(key, "an Idempotency-Key header")
        self.expect(form.get("status", [""])[0].strip(), "a non-empty `status`")
        self.expect(form.get("visibility") == ["public"], "visibility=public")
        language = form.get("language", [None])[0]
        self.expect(language is None or re.fullmatch(r"[a-z]{2,3}", language), "language is an ISO 639 code")
        in_reply_to = form.get("in_reply_to_id", [None])[0]
        self.expect(
            in_reply_to is None or in_reply_to in self.statuses, f"in_reply_to_id {in_reply_to!r} is a status"
        )
        if key in self.statuses_by_key:
            # Mastodon answers a repeated key with the status it already made.
            return json_answer(200, self.statuses_by_key[key])
        status_id = f"11{next(self.ids):04d}"
        status = {
            "id": status_id,
            "uri": f"{self.url}/users/belgium/statuses/{status_id}",
            "url": f"https://diplo.social/@belgium/{status_id}",
            "content": form["status"][0],
            "language": language,
            "in_reply_to_id": in_reply_to,
            "visibility": "public",
            "media_attachments": [{"id": media_id} for media_id in form.get("media_ids[]", [])],
        }
        self.statuses_by_key[key] = status
        self.statuses[status_id] = status
        return json_answer(200, status)

    def answer_check(self, received: Received) -> Answer:
        return json_answer(
            200, {"id": "1", "username": "belgium", "acct": "belgium", "display_name": "Belgium in Türkiye"}
        )


# --- Bluesky ----------------------------------------------------------------------------


class FakeBluesky(FakePlatform):
    """A PDS: createSession, uploadBlob, createRecord (app.bsky.feed.post), getRecord."""

    name = "bluesky"
    HANDLE = "belgium.bsky.social"
    APP_PASSWORD = "abcd-efgh-ijkl-mnop"
    DID = "did:plc:belgium4turkiye"
    ACCESS = "eyJhbGciOiJFUzI1NksifQ.access.jwt"
    ROUTES = [
        ("POST", r"/xrpc/com\.atproto\.server\.createSession", "session"),
        ("POST", r"/xrpc/com\.atproto\.repo\.uploadBlob", "media"),
        ("POST", r"/xrpc/com\.atproto\.repo\.createRecord", "post"),
        ("GET", r"/xrpc/com\.atproto\.repo\.getRecord", "record"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, dict] = {}
        #: The cid of each record made, by its uri (a reply names both).
        self.cids: dict[str, str] = {}

    def authorised(self, received: Received) -> bool:
        if received.route == "session":
            return True  # the password is checked by the session itself
        if received.route == "record" and "Authorization" not in received.headers:
            return True  # getRecord does not require auth (a token given must be valid)
        return received.headers.get("Authorization") == f"Bearer {self.ACCESS}"

    def unauthorised(self) -> Answer:
        return json_answer(401, {"error": "AuthenticationRequired", "message": "Authentication Required"})

    def bad_request(self, message: str) -> Answer:
        return json_answer(400, {"error": "InvalidRequest", "message": message})

    def expired(self) -> tuple[str, Answer]:
        return "post", json_answer(400, {"error": "ExpiredToken", "message": "Token has expired"})

    def answer_session(self, received: Received) -> Answer:
        document = received.json()
        if document.get("identifier") != self.HANDLE or document.get("password") != self.APP_PASSWORD:
            return json_answer(
                401, {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}
            )
        return json_answer(
            200,
            {
                "accessJwt": self.ACCESS,
                "refreshJwt": "eyJhbGciOiJFUzI1NksifQ.refresh.jwt",
                "handle": self.HANDLE,
                "did": self.DID,
                "active": True,
            },
        )

    def answer_media(self, received: Received) -> Answer:
        content_type = received.headers.get("Content-Type", "")
        self.expect(content_type.startswith("image/"), "uploadBlob takes the image's own content type")
        self.expect(received.body, "the raw image bytes")
        self.expect(len(received.body) <= 1_000_000, "an image blob is at most 1,000,000 bytes")
        link = f"bafkreiblob{next(self.ids)}"
        return json_answer(
            200,
            {
                "blob": {
                    "$type": "blob",
                    "ref": {"$link": link},
                    "mimeType": content_type,
                    "size": len(received.body),
                }
            },
        )

    def answer_post(self, received: Received) -> Answer:
        document = received.json()
        self.expect(document.get("repo") == self.DID, "repo is the session's DID")
        self.expect(document.get("collection") == "app.bsky.feed.post", "collection app.bsky.feed.post")
        rkey = document.get("rkey")
        self.expect(rkey is None or TID_RE.match(rkey), f"a post's rkey is a TID, got {rkey!r}")
        record = document.get("record", {})
        self.expect(record.get("$type") == "app.bsky.feed.post", "record $type")
        self.expect(isinstance(record.get("text"), str) and record["text"], "record text")
        self.expect(
            re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", record.get("createdAt", "")),
            "createdAt is an ISO 8601 UTC time",
        )
        langs = record.get("langs", [])
        self.expect(isinstance(langs, list) and 0 < len(langs) <= 3, "langs: 1 to 3 language codes")
        encoded = record["text"].encode()
        for facet in record.get("facets", []):
            start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
            covered = encoded[start:end].decode("utf-8")  # a wrong offset splits a character
            for feature in facet["features"]:
                if feature["$type"] == "app.bsky.richtext.facet#link":
                    self.expect(
                        covered == feature["uri"], f"link facet covers {covered!r}, not {feature['uri']!r}"
                    )
                elif feature["$type"] == "app.bsky.richtext.facet#tag":
                    self.expect(covered == "#" + feature["tag"], f"tag facet covers {covered!r}")
        for image in record.get("embed", {}).get("images", []):
            self.expect(image["image"].get("$type") == "blob", "an embedded image is an uploaded blob")
            self.expect("alt" in image, "every image has alt text (may be empty)")
        reply = record.get("reply")
        if reply is not None:
            for end in ("root", "parent"):
                ref = reply.get(end) or {}
                self.expect(
                    ref.get("uri") in self.cids and self.cids[ref["uri"]] == ref.get("cid"),
                    f"reply.{end} is a strong reference (uri and cid) to a record, got {ref!r}",
                )
            parent = self.records.get(reply["parent"]["uri"].rsplit("/", 1)[-1], {})
            root = (parent.get("reply") or {}).get("root", {}).get("uri") or reply["parent"]["uri"]
            self.expect(reply["root"]["uri"] == root, "reply.root is the root of the parent's thread")
        rkey = rkey or f"3l{next(self.ids):011d}"
        if rkey in self.records:
            return self.bad_request(f"Record already exists: {rkey}")
        self.records[rkey] = record
        uri, cid = f"at://{self.DID}/app.bsky.feed.post/{rkey}", f"bafyreirecord{next(self.ids)}"
        self.cids[uri] = cid
        return json_answer(200, {"uri": uri, "cid": cid})

    def answer_record(self, received: Received) -> Answer:
        """getRecord (repo: a handle or DID, collection, rkey; cid optional) -> {uri, cid, value},
        or 400 RecordNotFound as the lexicon names it."""
        query = {key: values[0] for key, values in received.query.items()}
        for name in ("repo", "collection", "rkey"):
            self.expect(query.get(name), f"getRecord needs `{name}`")
        self.expect(re.fullmatch(r"[a-z]+(\.[a-zA-Z0-9-]+)+", query["collection"]), "collection is an NSID")
        uri = f"at://{self.DID}/{query['collection']}/{query['rkey']}"
        found = (
            query["repo"] in {self.DID, self.HANDLE}
            and query["collection"] == "app.bsky.feed.post"
            and query["rkey"] in self.records
            and query.get("cid", self.cids.get(uri)) == self.cids.get(uri)
        )
        if not found:
            return json_answer(
                400,
                {
                    "error": "RecordNotFound",
                    "message": f"Could not locate record: at://{query['repo']}/{query['collection']}/{query['rkey']}",
                },
            )
        return json_answer(200, {"uri": uri, "cid": self.cids[uri], "value": self.records[query["rkey"]]})


# --- Facebook ---------------------------------------------------------------------------


class FakeFacebook(FakePlatform):
    """The Graph API for one Page: /{page}/feed, /{page}/photos, /{page}?fields=name."""

    name = "facebook"
    PAGE_ID = "104912345678901"
    TOKEN = "EAAGfacebookpagetoken"
    ROUTES = [
        ("POST", r"/v\d+\.\d+/(\d+)/feed", "post"),
        ("POST", r"/v\d+\.\d+/(\d+)/photos", "photos"),
        ("GET", r"/v\d+\.\d+/(\d+)", "check"),
    ]

    def route_of(self, route: str, received: Received) -> str:
        if route == "photos":
            # An unpublished photo is an upload for a later post; a published one is the post.
            fields, _files = received.multipart()
            return "media" if fields.get("published") == "false" else "post"
        return route

    def authorised(self, received: Received) -> bool:
        return received.headers.get("Authorization") == f"Bearer {self.TOKEN}"

    def unauthorised(self) -> Answer:
        return json_answer(
            400,
            {
                "error": {
                    "message": "Invalid OAuth access token - Cannot parse access token",
                    "type": "OAuthException",
                    "code": 190,
                    "fbtrace_id": "AbCdEf",
                }
            },
        )

    def bad_request(self, message: str) -> Answer:
        return json_answer(
            400,
            {"error": {"message": message, "type": "OAuthException", "code": 100, "fbtrace_id": "AbCdEf"}},
        )

    def expired(self) -> tuple[str, Answer]:
        return "post", json_answer(
            400,
            {
                "error": {
                    "message": "Error validating access token: Session has expired on Friday, 27-Nov-26.",
                    "type": "OAuthException",
                    "code": 190,
                    "error_subcode": 463,
                    "fbtrace_id": "AbCdEf",
                }
            },
        )

    def answer_post(self, received: Received, page_id: str) -> Answer:
        self.expect(page_id == self.PAGE_ID, "the channel's page")
        if received.path.endswith("/photos"):
            fields, files = received.multipart()
            self.expect("source" in files, "the photo goes in the multipart field `source`")
            self.expect(fields.get("message"), "the text as `message`")
            photo_id = f"90{next(self.ids):04d}"
            return json_answer(200, {"id": photo_id, "post_id": f"{page_id}_{next(self.ids):05d}"})
        form = received.form()
        self.expect(form.get("message", [""])[0], "the text as `message`")
        for key, values in form.items():
            if key.startswith("attached_media["):
                self.expect("media_fbid" in json.loads(values[0]), 'attached_media[i] = {"media_fbid": …}')
        return json_answer(200, {"id": f"{page_id}_{next(self.ids):05d}"})

    def answer_media(self, received: Received, page_id: str) -> Answer:
        _fields, files = received.multipart()
        self.expect("source" in files, "the photo goes in the multipart field `source`")
        return json_answer(200, {"id": f"90{next(self.ids):04d}"})

    def answer_check(self, received: Received, page_id: str) -> Answer:
        self.expect(received.query.get("fields") == ["name"], "?fields=name")
        return json_answer(200, {"name": "Belgium in Türkiye", "id": page_id})


# --- X ---------------------------------------------------------------------------------


class FakeX(FakePlatform):
    """API v2: /2/media/upload, /2/media/metadata, /2/tweets, /2/users/me."""

    name = "x"
    TOKEN = "x-oauth2-user-token"
    ROUTES = [
        ("POST", r"/2/media/upload", "media"),
        ("POST", r"/2/media/metadata", "metadata"),
        ("POST", r"/2/tweets", "post"),
        ("GET", r"/2/users/me", "check"),
    ]

    def __init__(self) -> None:
        super().__init__()
        #: Every post made, by id: its request document.
        self.tweets: dict[str, dict] = {}

    def authorised(self, received: Received) -> bool:
        return received.headers.get("Authorization") == f"Bearer {self.TOKEN}"

    def unauthorised(self) -> Answer:
        return json_answer(
            401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        )

    def bad_request(self, message: str) -> Answer:
        return json_answer(
            400,
            {
                "errors": [{"message": message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.twitter.com/2/problems/invalid-request",
            },
        )

    def expired(self) -> tuple[str, Answer]:
        return "post", json_answer(
            401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        )

    def answer_media(self, received: Received) -> Answer:
        fields, files = received.multipart()
        self.expect(fields.get("media_category") == "tweet_image", "media_category=tweet_image")
        self.expect("media" in files, "the image goes in the multipart field `media`")
        media_id = f"18800{next(self.ids):05d}"
        return json_answer(
            200,
            {
                "data": {
                    "id": media_id,
                    "media_key": f"3_{media_id}",
                    "size": len(files["media"][2]),
                    "expires_after_secs": 86400,
                    "image": {"image_type": files["media"][1], "w": 1200, "h": 628},
                }
            },
        )

    def answer_metadata(self, received: Received) -> Answer:
        document = received.json()
        self.expect(document.get("id"), "the media id")
        self.expect(document.get("metadata", {}).get("alt_text", {}).get("text"), "metadata.alt_text.text")
        return json_answer(200, {"data": {"id": document["id"], "associated_metadata": document["metadata"]}})

    def answer_post(self, received: Received) -> Answer:
        document = received.json()
        self.expect(isinstance(document.get("text"), str) and document["text"], "a text")
        if "media" in document:
            self.expect(document["media"].get("media_ids"), "media.media_ids")
        if "reply" in document:
            replied = document["reply"].get("in_reply_to_tweet_id")
            self.expect(replied in self.tweets, f"reply.in_reply_to_tweet_id {replied!r} is a post")
        tweet_id = f"14458805{next(self.ids):05d}"
        self.tweets[tweet_id] = document
        return json_answer(201, {"data": {"id": tweet_id, "text": document["text"]}})

    def answer_check(self, received: Received) -> Answer:
        return json_answer(
            200, {"data": {"id": "2244994945", "name": "Belgium in Türkiye", "username": "BelgiumInTR"}}
        )


# --- LinkedIn --------------------------------------------------------------------------


class FakeLinkedIn(FakePlatform):
    """The versioned REST API: images initializeUpload + upload, posts, organizations,
    userinfo; every /rest call needs LinkedIn-Version and X-Restli-Protocol-Version."""

    name = "linkedin"
    TOKEN = "AQVlinkedintoken"
    AUTHOR = "urn:li:organization:5515715"
    ROUTES = [
        ("POST", r"/rest/images", "media"),
        ("PUT", r"/dms-uploads/(\d+)", "upload"),
        ("POST", r"/rest/posts", "post"),
        ("GET", r"/rest/organizations/(\d+)", "check"),
        ("GET", r"/v2/userinfo", "userinfo"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.uploaded: dict[str, bytes] = {}

    def authorised(self, received: Received) -> bool:
        return received.headers.get("Authorization") == f"Bearer {self.TOKEN}"

    def unauthorised(self) -> Answer:
        return json_answer(
            401,
            {
                "status": 401,
                "serviceErrorCode": 65600,
                "code": "INVALID_ACCESS_TOKEN",
                "message": "Invalid access token",
            },
        )

    def bad_request(self, message: str) -> Answer:
        return json_answer(422, {"status": 422, "message": message})

    def expired(self) -> tuple[str, Answer]:
        return "post", json_answer(
            401,
            {
                "status": 401,
                "serviceErrorCode": 65601,
                "code": "EXPIRED_ACCESS_TOKEN",
                "message": "The token used in the request has expired",
            },
        )

    def _versioned(self, received: Received) -> None:
        self.expect(
            re.fullmatch(r"\d{6}", received.headers.get("LinkedIn-Version") or ""), "LinkedIn-Version: YYYYMM"
        )
        self.expect(
            received.headers.get("X-Restli-Protocol-Version") == "2.0.0", "X-Restli-Protocol-Version: 2.0.0"
        )

    def answer_media(self, received: Received) -> Answer:
        self._versioned(received)
        self.expect(received.query.get("action") == ["initializeUpload"], "?action=initializeUpload")
        owner = received.json().get("initializeUploadRequest", {}).get("owner")
        self.expect(owner == self.AUTHOR, "the image's owner is the author")
        number = next(self.ids)
        return json_answer(
            200,
            {
                "value": {
                    "uploadUrlExpiresAt": 1790000000000,
                    "uploadUrl": f"{self.url}/dms-uploads/{number}",
                    "image": f"urn:li:image:C4E10AQ{number:06d}",
                }
            },
        )

    def answer_upload(self, received: Received, number: str) -> Answer:
        self.expect(received.body, "the image bytes")
        self.uploaded[f"urn:li:image:C4E10AQ{int(number):06d}"] = received.body
        return 201, {}, b""

    def answer_post(self, received: Received) -> Answer:
        self._versioned(received)
        document = received.json()
        self.expect(document.get("author") == self.AUTHOR, "the author URN")
        self.expect(isinstance(document.get("commentary"), str), "commentary")
        self.expect(document.get("visibility") == "PUBLIC", "visibility PUBLIC")
        self.expect(
            document.get("distribution", {}).get("feedDistribution") == "MAIN_FEED", "feedDistribution"
        )
        self.expect(document.get("lifecycleState") == "PUBLISHED", "lifecycleState PUBLISHED")
        media = document.get("content", {}).get("media")
        if media:
            self.expect(media.get("id") in self.uploaded, "content.media.id is an uploaded image")
        return 201, {"x-restli-id": f"urn:li:share:70{next(self.ids):05d}"}, b""

    def answer_check(self, received: Received, organization_id: str) -> Answer:
        self._versioned(received)
        return json_answer(200, {"id": int(organization_id), "localizedName": "Belgium in Türkiye"})

    def answer_userinfo(self, received: Received) -> Answer:
        return json_answer(200, {"sub": "782bbtaQ", "name": "Consul General", "email_verified": True})


# --- A webhook receiver ------------------------------------------------------------------


class FakeWebhook(FakePlatform):
    """A receiver as the webhook connector's contract describes it (POST /hook, signed JSON,
    an Idempotency-Key, answered with {"id", "url"}), scriptable like the platforms; not in
    FAKES, whose platforms have credentials. tests/fake_receiver.py is the engine's."""

    name = "webhook"
    ROUTES = [("POST", r"/hook", "post"), ("HEAD", r"/hook", "check")]

    def authorised(self, received: Received) -> bool:
        return True

    def bad_request(self, message: str) -> Answer:
        return json_answer(400, {"error": message})

    def answer_post(self, received: Received) -> Answer:
        self.expect(received.headers.get("Idempotency-Key"), "an Idempotency-Key header")
        self.expect(str(received.headers.get("X-Signature", "")).startswith("sha256="), "an X-Signature")
        number = next(self.ids)
        return json_answer(200, {"id": f"post-{number}", "url": f"https://social.example/post-{number}"})

    def answer_check(self, received: Received) -> Answer:
        return 405, {"Allow": "POST"}, b""


FAKES: dict[str, type[FakePlatform]] = {
    fake.name: fake for fake in (FakeMastodon, FakeBluesky, FakeFacebook, FakeX, FakeLinkedIn)
}

#: The credentials each fake accepts, as the channel form stores them.
CREDENTIALS: dict[str, dict[str, str]] = {
    "mastodon": {"secret": FakeMastodon.TOKEN},
    "bluesky": {"account": FakeBluesky.HANDLE, "secret": FakeBluesky.APP_PASSWORD},
    "facebook": {"account": FakeFacebook.PAGE_ID, "secret": FakeFacebook.TOKEN},
    "x": {"secret": FakeX.TOKEN},
    "linkedin": {"account": FakeLinkedIn.AUTHOR, "secret": FakeLinkedIn.TOKEN},
}
