"""One HTTP call to a platform, its outcome mapped the same way for every API connector.

Standard library only (http.client). The mapping is what keeps a publication from going
out twice, so it is written once, here, and every network error ends in SurelyFailed or
OutcomeUnknown, never in another exception:

- 2xx: the answer (a JSON object when one is expected);
- 401/403, or what the connector recognises as a refused or expired token: SurelyFailed
  asking for new credentials;
- 429, or what the connector recognises as a rate limit: SurelyFailed with `retry_after`
  (Retry-After, or the platform's rate-limit reset header);
- any other 3xx/4xx: SurelyFailed with the platform's own message;
- 5xx: SurelyFailed (the platform says it did not do it; a 503's Retry-After is kept) —
  except 500, 502 and 504 on a posting call to a platform that takes no idempotency key
  (X, Facebook, LinkedIn): a gateway may have passed the request on before failing, and
  a blind retry there is how tools double-post, so the outcome is unknown and a person
  checks. X documents 503 as "overloaded, try again later" and Mastodon, Bluesky and the
  webhook receivers refuse a repeated key, so those are retried;
- no connection (refused, unknown host, TLS handshake, a proxy that refused the tunnel):
  SurelyFailed, not a byte of the request left;
- the connection failed while the request was being written (reset, broken pipe,
  time-out): on a posting call OutcomeUnknown with request_sent=False (the platform
  cannot have the whole request, but a person checks rather than a blind retry), on any
  other call SurelyFailed;
- the whole request was written and the answer never came or broke off (time-out,
  closed without answering, reset, an answer cut short) or came back as garbage after a
  2xx: OutcomeUnknown with request_sent=True on a posting call (it may be live), and
  SurelyFailed on any other call (a read, a session, a media upload posts nothing).

Each exception carries `platform_said`: what the platform answered, short ("HTTP 503:
Service Unavailable — <the start of its body>"), or "" when it answered nothing.
"""

from __future__ import annotations

import base64
import email.utils
import http.client
import json
import secrets
import socket
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from http import HTTPStatus
from typing import Any

from django.utils.translation import gettext as _

from calendar_app.publishing import OutcomeUnknown, SurelyFailed

#: Seconds to wait for a platform to connect and to answer each read. Tests patch it.
TIMEOUT_SECONDS: float = 15
#: Media uploads carry a few hundred kilobytes each: they get longer. A delivery with
#: four images stays well inside the task time-out (Q_CLUSTER "timeout" in settings).
MEDIA_TIMEOUT_SECONDS: float = 30
#: An answer larger than this is not one of the small JSON documents we expect.
MAX_ANSWER_BYTES = 1024 * 1024
USER_AGENT = "diplomatic-content-calendar/1.0 (+publishing connector)"
#: The longest wait a platform's "not before" is taken for: an advisory held back a whole
#: day by an X daily-limit reset would go out hopelessly late, and the engine's own
#: attempt limit and lateness rule decide the rest.
MAX_RETRY_AFTER = 3600
#: Headers that say when a rate limit resets, in the order we trust them: X, Bluesky,
#: Mastodon (each platform uses one; values are seconds, Unix times or ISO 8601 times),
#: and X's daily limits (sent with a 429 when the day's quota, not the window's, ran out).
RESET_HEADERS = (
    "x-rate-limit-reset",
    "ratelimit-reset",
    "x-ratelimit-reset",
    "x-user-limit-24hour-reset",
    "x-app-limit-24hour-reset",
)
#: Facebook's usage headers: JSON whose `estimated_time_to_regain_access` is in minutes
#: (Graph API "Rate Limits": Business Use Case usage for page tokens, page usage).
FACEBOOK_USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-app-usage")
#: How much of an answer's body `platform_said` quotes.
SAID_BODY_CHARS = 200

Predicate = Callable[[int, Any], bool]


@dataclass(frozen=True)
class Answer:
    """An answer: status, reason, headers and body, and `data` when JSON was expected."""

    status: int
    headers: Message
    body: bytes
    data: Any = field(default=None)
    reason: str = ""

    def header(self, name: str) -> str:
        return self.headers.get(name, "") or ""

    @property
    def said(self) -> str:
        return platform_said(self.status, self.reason, self.body)


#: Server errors after which a request may still have been carried out.
AMBIGUOUS_SERVER_ERRORS = (500, 502, 504)

# Where one exchange got to when it failed: what the platform can have received.
PREPARING = "preparing"  # the request is being put together: nothing left
CONNECTING = "connecting"  # DNS, TCP, proxy tunnel, TLS: nothing of the request left
WRITING = "writing"  # headers and body are being written: part of it may have left
WAITING = "waiting"  # all of it was written: the platform may be acting on it
READING = "reading"  # the status line came: the body broke off

#: What a broken exchange raises: socket errors (refused, reset, broken pipe, time-out,
#: unknown host, TLS: all OSError), http.client's (RemoteDisconnected, IncompleteRead,
#: BadStatusLine, LineTooLong, InvalidURL), and ValueError (a header with a line break,
#: a host name that is no IDNA). Anything else is a programming error and is not hidden.
NETWORK_ERRORS = (OSError, http.client.HTTPException, ValueError)


class _Broken(Exception):
    """An exchange that did not complete, and where it stopped."""

    def __init__(self, stage: str, error: BaseException, status: int = 0, reason: str = "") -> None:
        super().__init__(str(error))
        self.stage, self.error, self.status, self.reason = stage, error, status, reason


def request(
    method: str,
    url: str,
    *,
    platform: str,
    headers: dict[str, str] | None = None,
    body: tuple[bytes, str] | None = None,
    posting: bool = False,
    deduplicated: bool = False,
    expect_json: bool = True,
    timeout: float | None = None,
    auth_refused: Predicate | None = None,
    rate_limited: Predicate | None = None,
    accept: Iterable[int] = (),
) -> Answer:
    """Call the platform and map the outcome (see the module docstring).

    `body` is (bytes, content type) as made by `json_body`, `form_body` or `multipart`.
    `posting` marks the one call that publishes; `deduplicated` says the platform refuses
    a repeat of it (an idempotency key or a fixed record key), so a retry is safe.
    `auth_refused` and `rate_limited` let a connector recognise its platform's refusals
    that do not use 401/403/429 (Facebook answers an expired token with 400 and code 190).
    Statuses in `accept` (e.g. a HEAD answered 405) count as answers, not refusals.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise SurelyFailed(_("The address %(url)s is not valid: check the channel settings.") % {"url": url})
    all_headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/json",
        "Connection": "close",
        **(headers or {}),
    }
    data = None
    if body is not None:
        data, all_headers["Content-Type"] = body
    try:
        answer = _exchange(method, url, all_headers, data, timeout or TIMEOUT_SECONDS)
    except _Broken as broken:
        raise _failure(platform, broken, posting=posting) from broken.error
    if 200 <= answer.status < 300:
        if not expect_json:
            return answer
        try:
            parsed = json.loads(answer.body)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise garbage(platform, posting=posting, answer=answer)
        return Answer(answer.status, answer.headers, answer.body, parsed, answer.reason)
    if answer.status in set(accept):
        return answer
    if posting and not deduplicated and answer.status in AMBIGUOUS_SERVER_ERRORS:
        raise OutcomeUnknown(
            _(
                "%(platform)s had a server error (HTTP %(status)s) after the publication was sent: "
                "check the channel to see whether it is there, then record it or send it again."
            )
            % {"platform": platform, "status": answer.status},
            request_sent=True,
            platform_said=answer.said,
        )
    raise refusal(
        platform,
        answer.status,
        answer.headers,
        answer.body,
        auth_refused=auth_refused,
        rate_limited=rate_limited,
        reason=answer.reason,
    )


def _exchange(method: str, url: str, headers: dict[str, str], data: bytes | None, timeout: float) -> Answer:
    """One request and its answer, whatever the status; raises _Broken with the stage it
    reached. Redirects are not followed: a platform API does not redirect, and following
    one would carry the token elsewhere. Each socket operation waits at most `timeout`."""
    parts = urllib.parse.urlsplit(url)
    stage, status, reason = PREPARING, 0, ""
    connection: http.client.HTTPConnection | None = None
    try:
        connection, target, proxy_headers = _connection(parts, timeout)
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in {**headers, **proxy_headers}.items():
            connection.putheader(name, value)
        if data is not None or method in {"POST", "PUT", "PATCH"}:
            connection.putheader("Content-Length", str(len(data or b"")))
        stage = CONNECTING
        connection.connect()
        # From here bytes leave: http.client writes the headers and the body in one go
        # (one sendall when the body is bytes), so once endheaders returns, the whole
        # request was handed to the connection.
        stage = WRITING
        connection.endheaders(data)
        stage = WAITING
        response = connection.getresponse()
        stage, status, reason = READING, response.status, response.reason
        received: list[bytes] = []
        try:
            _read_body(response, received)
        except NETWORK_ERRORS:
            if 200 <= status < 300:
                raise  # a success we cannot read: it may be live
            # A refusal's status is its answer, even when its body broke off.
        return Answer(status=status, headers=response.msg, body=b"".join(received), reason=reason)
    except NETWORK_ERRORS as exc:
        raise _Broken(stage, exc, status, reason) from exc
    finally:
        if connection is not None:
            connection.close()


def _read_body(response: http.client.HTTPResponse, received: list[bytes]) -> None:
    """Read the body into `received` piece by piece (so what came before a failure is kept),
    up to MAX_ANSWER_BYTES; IncompleteRead when the connection ends before its length."""
    size = 0
    while size < MAX_ANSWER_BYTES:
        chunk = response.read1(MAX_ANSWER_BYTES - size)
        if not chunk:
            break
        received.append(chunk)
        size += len(chunk)
    # http.client's read1 takes a connection closed early for the end of the body.
    if size < MAX_ANSWER_BYTES and response.length:
        raise http.client.IncompleteRead(b"".join(received), response.length)


def _connection(
    parts: urllib.parse.SplitResult, timeout: float
) -> tuple[http.client.HTTPConnection, str, dict[str, str]]:
    """A connection to the platform (through the environment's proxy, as urllib went), the
    request target to name on it, and the headers the proxy needs on the request."""
    host, port = parts.hostname or "", parts.port
    target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    https = parts.scheme == "https"
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        proxy_parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        proxy_headers: dict[str, str] = {}
        if proxy_parts.username:
            user, password = proxy_parts.username, proxy_parts.password or ""
            login = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
            proxy_headers["Proxy-Authorization"] = "Basic " + base64.b64encode(login.encode()).decode()
        proxy_host, proxy_port = proxy_parts.hostname or "", proxy_parts.port
        if https:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                proxy_host, proxy_port, timeout=timeout, context=ssl.create_default_context()
            )
            connection.set_tunnel(host, port, headers=proxy_headers)
            return connection, target, {}
        connection = http.client.HTTPConnection(proxy_host, proxy_port, timeout=timeout)
        # A plain-http proxy takes the whole address as the target, and its login as a header.
        return connection, urllib.parse.urlunsplit(parts._replace(fragment="")), proxy_headers
    if https:
        return (
            http.client.HTTPSConnection(host, port, timeout=timeout, context=ssl.create_default_context()),
            target,
            {},
        )
    return http.client.HTTPConnection(host, port, timeout=timeout), target, {}


def _failure(platform: str, broken: _Broken, *, posting: bool) -> SurelyFailed | OutcomeUnknown:
    """The exception for an exchange that broke off at `broken.stage`."""
    error = broken.error
    reason = _describe(error)
    if broken.stage == PREPARING:
        # An address or a header http.client refuses to write (a line break, a bad port).
        return SurelyFailed(
            _("The request to %(platform)s could not be made (%(reason)s): check the channel settings.")
            % {"platform": platform, "reason": reason}
        )
    if broken.stage == CONNECTING:
        return SurelyFailed(
            _("Could not reach %(platform)s: %(reason)s. Nothing was sent.")
            % {"platform": platform, "reason": reason}
        )
    said = platform_said(broken.status, broken.reason, b"") if broken.status else ""
    if not posting:
        # A read, a session or an upload posts nothing: try again later.
        if isinstance(error, TimeoutError):
            return SurelyFailed(
                _("%(platform)s did not answer in time.") % {"platform": platform}, platform_said=said
            )
        return SurelyFailed(
            _("%(platform)s did not answer: %(reason)s.") % {"platform": platform, "reason": reason},
            platform_said=said,
        )
    if broken.stage == WRITING:
        return OutcomeUnknown(
            _(
                "The connection to %(platform)s broke while the publication was being sent "
                "(%(reason)s): it most likely did not arrive, but check the channel to see whether "
                "it is there, then record it or send it again."
            )
            % {"platform": platform, "reason": reason},
            request_sent=False,
        )
    if isinstance(error, TimeoutError):
        return OutcomeUnknown(
            _(
                "%(platform)s did not answer in time after the publication was sent: check the "
                "channel to see whether it is there, then record it or send it again."
            )
            % {"platform": platform},
            request_sent=True,
            platform_said=said,
        )
    return OutcomeUnknown(
        _(
            "%(platform)s broke off the connection after the publication was sent (%(reason)s): "
            "check the channel to see whether it is there, then record it or send it again."
        )
        % {"platform": platform, "reason": reason},
        request_sent=True,
        platform_said=said,
    )


def _describe(error: BaseException) -> str:
    """A short plain description of a network error, for the delivery's message."""
    if isinstance(error, TimeoutError):
        return _("no answer in time")
    if isinstance(error, http.client.RemoteDisconnected):
        return _("the connection was closed without an answer")
    if isinstance(error, ConnectionResetError):
        return _("the connection was reset")
    if isinstance(error, BrokenPipeError):
        return _("the connection was closed while sending")
    if isinstance(error, socket.gaierror):
        return _("its host name could not be looked up (%(error)s)") % {"error": error.strerror or error}
    if isinstance(error, ConnectionRefusedError):
        return _("the connection was refused")
    if isinstance(error, http.client.IncompleteRead):
        return _("the answer was cut short")
    if isinstance(error, ssl.SSLError):
        return _("the secure connection failed (%(error)s)") % {"error": error.reason or error}
    return str(error) or error.__class__.__name__


def platform_said(status: int, reason: str, body: bytes) -> str:
    """What a platform answered, short: "HTTP 503: Service Unavailable — <start of the body>"."""
    if not reason:
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    head = f"HTTP {status}: {reason}" if reason else f"HTTP {status}"
    text = " ".join(body[: SAID_BODY_CHARS * 4].decode("utf-8", "replace").split())[:SAID_BODY_CHARS]
    return f"{head} — {text}" if text else head


def garbage(platform: str, *, posting: bool, answer: Answer | None = None) -> Exception:
    """The exception for a 2xx answer we cannot read (not JSON, or without the id)."""
    said = answer.said if answer is not None else ""
    if posting:
        return OutcomeUnknown(
            _(
                "%(platform)s accepted the publication but its answer could not be read: check the "
                "channel to see whether it is there, then record it or send it again."
            )
            % {"platform": platform},
            request_sent=True,
            platform_said=said,
        )
    return SurelyFailed(
        _("%(platform)s gave an answer that could not be read.") % {"platform": platform}, platform_said=said
    )


def refusal(
    platform: str,
    status: int,
    headers: Message,
    raw: bytes,
    *,
    auth_refused: Predicate | None = None,
    rate_limited: Predicate | None = None,
    reason: str = "",
) -> SurelyFailed:
    """The SurelyFailed for a non-2xx answer: nothing was done."""
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    said = platform_message(payload)
    answered = platform_said(status, reason, raw)
    suffix = f" ({platform}: {said})" if said else ""
    if status in (401, 403) or (auth_refused is not None and auth_refused(status, payload)):
        return SurelyFailed(
            _("The channel's credentials were refused: renew them in the channel settings.") + suffix,
            platform_said=answered,
        )
    if status == 429 or (rate_limited is not None and rate_limited(status, payload)):
        return SurelyFailed(
            _("%(platform)s is limiting the number of requests: it will be tried again later.")
            % {"platform": platform}
            + suffix,
            retry_after=retry_after_seconds(headers),
            platform_said=answered,
        )
    if status >= 500:
        # A rate-limit window's reset says nothing of an outage: only Retry-After counts.
        return SurelyFailed(
            _(
                "%(platform)s had a server error (HTTP %(status)s): nothing was posted, "
                "it will be tried again."
            )
            % {"platform": platform, "status": status},
            retry_after=retry_after_seconds(headers, rate_limit_headers=False),
            platform_said=answered,
        )
    if said:
        return SurelyFailed(
            _("%(platform)s refused the request (HTTP %(status)s): %(message)s")
            % {"platform": platform, "status": status, "message": said},
            platform_said=answered,
        )
    return SurelyFailed(
        _("%(platform)s refused the request (HTTP %(status)s).") % {"platform": platform, "status": status},
        platform_said=answered,
    )


def platform_message(payload: Any) -> str:
    """The human part of a platform's error document, whichever of the usual shapes it has:
    Mastodon {"error": "..."}, Facebook {"error": {"message": ...}}, Bluesky and LinkedIn
    {"message": ...}, X {"detail": ...} or {"errors": [{"message": ...}]}."""
    if not isinstance(payload, dict):
        return ""
    error = payload.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, str):
            return message[:300]
    for key in ("message", "detail", "error_description"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value[:300]
    if isinstance(error, str) and error:
        return error[:300]
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or "")[:300]
    return ""


def retry_after_seconds(
    headers: Message, now: datetime | None = None, *, rate_limit_headers: bool = True
) -> int | None:
    """Seconds to wait (at most MAX_RETRY_AFTER) from Retry-After (seconds or an HTTP
    date), or else, with `rate_limit_headers`, from the platforms' rate-limit reset headers
    (seconds, a Unix time or an ISO 8601 time; the latest of them) and Facebook's usage
    headers; None when there is none."""
    now = now or datetime.now(UTC)
    value = (headers.get("Retry-After") or "").strip()
    if value:
        if value.isdigit():
            return _clamp(int(value))
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return _clamp((when - now).total_seconds())
    if not rate_limit_headers:
        return None
    waits = [wait for name in RESET_HEADERS if (wait := _reset_wait(headers.get(name), now)) is not None]
    waits += [wait for name in FACEBOOK_USAGE_HEADERS if (wait := _usage_wait(headers.get(name))) is not None]
    return _clamp(max(waits)) if waits else None


def _reset_wait(header: str | None, now: datetime) -> float | None:
    value = (header or "").strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return (when - now).total_seconds()
    # A Unix time is large; a delay in seconds is small.
    return number - now.timestamp() if number > 1_000_000_000 else number


def _usage_wait(header: str | None) -> float | None:
    """Facebook: {"<id>": [{"estimated_time_to_regain_access": minutes, ...}]} (business use
    case) or {"estimated_time_to_regain_access": minutes, ...} (page, app)."""
    try:
        document = json.loads(header or "")
    except ValueError:
        return None
    found: list[float] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            minutes = node.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float) and not isinstance(minutes, bool) and minutes > 0:
                found.append(minutes * 60.0)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(document)
    return max(found) if found else None


def _clamp(seconds: float) -> int:
    return int(min(max(seconds, 1), MAX_RETRY_AFTER))


# --- Request bodies -----------------------------------------------------------------


def json_body(document: Any) -> tuple[bytes, str]:
    return json.dumps(document, ensure_ascii=False).encode(), "application/json; charset=utf-8"


def form_body(fields: Iterable[tuple[str, str]]) -> tuple[bytes, str]:
    return urllib.parse.urlencode(list(fields)).encode(), "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class FilePart:
    name: str
    filename: str
    content_type: str
    content: bytes


def multipart(fields: Iterable[tuple[str, str]], files: Iterable[FilePart] = ()) -> tuple[bytes, str]:
    """A multipart/form-data body: text fields, then files."""
    boundary = "----calendar" + secrets.token_hex(16)
    lines: list[bytes] = []
    for name, value in fields:
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{_quote(name)}"'.encode(),
            b"",
            str(value).encode(),
        ]
    for part in files:
        lines += [
            f"--{boundary}".encode(),
            (
                f'Content-Disposition: form-data; name="{_quote(part.name)}"; '
                f'filename="{_quote(part.filename)}"'
            ).encode(),
            f"Content-Type: {part.content_type}".encode(),
            b"",
            part.content,
        ]
    lines += [f"--{boundary}--".encode(), b""]
    return b"\r\n".join(lines), f"multipart/form-data; boundary={boundary}"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")
