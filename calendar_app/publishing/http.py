"""One HTTP call to a platform, its outcome mapped the same way for every API connector.

Standard library only (urllib). The mapping is what keeps a publication from going out
twice, so it is written once, here:

- 2xx: the answer (a JSON object when one is expected);
- 401/403, or what the connector recognises as a refused or expired token: SurelyFailed
  asking for new credentials;
- 429, or what the connector recognises as a rate limit: SurelyFailed with `retry_after`
  (Retry-After, or the platform's rate-limit reset header);
- any other 3xx/4xx: SurelyFailed with the platform's own message;
- 5xx: SurelyFailed (the platform says it did not do it) — except 500, 502 and 504 on a
  posting call to a platform that takes no idempotency key (X, Facebook, LinkedIn): a
  gateway may have passed the request on before failing, and a blind retry there is how
  tools double-post, so the outcome is unknown and a person checks;
- no connection (refused, unknown host, time-out while connecting or sending): SurelyFailed,
  nothing reached the platform;
- the request was sent and the answer never came (time-out, dropped connection) or came
  back as garbage after a 2xx: OutcomeUnknown on a posting call (it may be live), and
  SurelyFailed on any other call (a read, a session, a media upload posts nothing).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import IO, Any

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
#: A retry_after beyond a day is a platform's way of saying "tomorrow": cap it there.
MAX_RETRY_AFTER = 24 * 3600
#: Headers that say when a rate limit resets, in the order we trust them: X, Bluesky,
#: Mastodon (each platform uses one; values are seconds, Unix times or ISO 8601 times).
RESET_HEADERS = ("x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset")

Predicate = Callable[[int, Any], bool]


@dataclass(frozen=True)
class Answer:
    """A 2xx answer: status, headers and body, and `data` when JSON was expected."""

    status: int
    headers: Message
    body: bytes
    data: Any = field(default=None)

    def header(self, name: str) -> str:
        return self.headers.get(name, "") or ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A platform API does not redirect; following one would carry the token elsewhere."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


#: Server errors after which a request may still have been carried out.
AMBIGUOUS_SERVER_ERRORS = (500, 502, 504)


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
    all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        data, all_headers["Content-Type"] = body
    try:
        prepared = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310 - scheme checked below
    except ValueError as exc:
        raise SurelyFailed(
            _("The address %(url)s is not valid: check the channel settings.") % {"url": url}
        ) from exc
    if prepared.type not in {"http", "https"}:
        raise SurelyFailed(_("The address %(url)s is not valid: check the channel settings.") % {"url": url})
    accepted = set(accept)
    try:
        with _opener.open(prepared, timeout=timeout or TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only, checked above
            status, answer_headers, raw = response.status, response.headers, _read(response)
    except urllib.error.HTTPError as exc:
        raw = _read_quietly(exc)
        if exc.code in accepted:
            return Answer(status=exc.code, headers=exc.headers, body=raw)
        if posting and not deduplicated and exc.code in AMBIGUOUS_SERVER_ERRORS:
            raise OutcomeUnknown(
                _(
                    "%(platform)s had a server error (HTTP %(status)s) after the publication was sent: "
                    "check the channel to see whether it is there, then record it or send it again."
                )
                % {"platform": platform, "status": exc.code}
            ) from exc
        raise refusal(
            platform, exc.code, exc.headers, raw, auth_refused=auth_refused, rate_limited=rate_limited
        ) from exc
    except urllib.error.URLError as exc:
        # urllib wraps what fails while connecting and sending the request: the platform
        # never received a whole request, so it cannot have acted on it.
        raise SurelyFailed(
            _("Could not reach %(platform)s: %(reason)s. Nothing was sent.")
            % {"platform": platform, "reason": exc.reason}
        ) from exc
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        # Raised while waiting for or reading the answer: the request had gone out.
        if posting:
            raise OutcomeUnknown(
                _(
                    "%(platform)s did not answer in time after the publication was sent: check the "
                    "channel to see whether it is there, then record it or send it again."
                )
                % {"platform": platform}
            ) from exc
        raise SurelyFailed(
            _("%(platform)s did not answer in time: %(error)s.") % {"platform": platform, "error": exc}
        ) from exc
    if not expect_json:
        return Answer(status=status, headers=answer_headers, body=raw)
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise garbage(platform, posting=posting)
    return Answer(status=status, headers=answer_headers, body=raw, data=parsed)


def garbage(platform: str, *, posting: bool) -> Exception:
    """The exception for a 2xx answer we cannot read (not JSON, or without the id)."""
    if posting:
        return OutcomeUnknown(
            _(
                "%(platform)s accepted the publication but its answer could not be read: check the "
                "channel to see whether it is there, then record it or send it again."
            )
            % {"platform": platform}
        )
    return SurelyFailed(_("%(platform)s gave an answer that could not be read.") % {"platform": platform})


def refusal(
    platform: str,
    status: int,
    headers: Message,
    raw: bytes,
    *,
    auth_refused: Predicate | None = None,
    rate_limited: Predicate | None = None,
) -> SurelyFailed:
    """The SurelyFailed for a non-2xx answer: nothing was done."""
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    said = platform_message(payload)
    suffix = f" ({platform}: {said})" if said else ""
    if status in (401, 403) or (auth_refused is not None and auth_refused(status, payload)):
        return SurelyFailed(
            _("The channel's credentials were refused: renew them in the channel settings.") + suffix
        )
    if status == 429 or (rate_limited is not None and rate_limited(status, payload)):
        wait = retry_after_seconds(headers)
        return SurelyFailed(
            _("%(platform)s is limiting the number of requests: it will be tried again later.")
            % {"platform": platform}
            + suffix,
            retry_after=wait,
        )
    if status >= 500:
        return SurelyFailed(
            _(
                "%(platform)s had a server error (HTTP %(status)s): nothing was posted, "
                "it will be tried again."
            )
            % {"platform": platform, "status": status}
        )
    if said:
        return SurelyFailed(
            _("%(platform)s refused the request (HTTP %(status)s): %(message)s")
            % {"platform": platform, "status": status, "message": said}
        )
    return SurelyFailed(
        _("%(platform)s refused the request (HTTP %(status)s).") % {"platform": platform, "status": status}
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


def retry_after_seconds(headers: Message, now: datetime | None = None) -> int | None:
    """Seconds to wait from Retry-After (seconds or an HTTP date) or a rate-limit reset
    header (seconds, a Unix time or an ISO 8601 time); None when there is none."""
    now = now or datetime.now(UTC)
    value = (headers.get("Retry-After") or "").strip()
    if value:
        if value.isdigit():
            return _clamp(int(value))
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return _clamp((when - now).total_seconds())
    for name in RESET_HEADERS:
        value = (headers.get(name) or "").strip()
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:
                when = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return _clamp((when - now).total_seconds())
        # A Unix time is large; a delay in seconds is small.
        return _clamp(number - now.timestamp() if number > 1_000_000_000 else number)
    return None


def _clamp(seconds: float) -> int:
    return int(min(max(seconds, 1), MAX_RETRY_AFTER))


def _read(response: IO[bytes]) -> bytes:
    return response.read(MAX_ANSWER_BYTES)


def _read_quietly(exc: urllib.error.HTTPError) -> bytes:
    try:
        return exc.read(MAX_ANSWER_BYTES) or b""
    except (OSError, http.client.HTTPException):
        return b""


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
