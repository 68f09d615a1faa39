"""Connector faults: every way a platform's server can fail a connector ends in SurelyFailed
(nothing was posted: retried) or OutcomeUnknown (it may be live: a person checks), never
in another exception, with what the connector knows of the request (`request_sent`) and
what the platform said (`platform_said`). Each of the six API connectors is tried against
a fake on loopback that closes without answering, resets mid-request, hangs, answers
garbage, a 429 or a 503; http.py's own exchange is tried at the boundary of "the whole
request was written" with raw sockets. Nothing here leaves 127.0.0.1."""

from __future__ import annotations

import contextlib
import email.utils
import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest

from calendar_app.publishing import OutcomeUnknown, SurelyFailed, connector_for, http, webhook
from diplomacy.models import Channel
from tests.factories import make_channel
from tests.fake_platforms import FAKES, GARBAGE, FakePlatform, FakeWebhook
from tests.test_connectors import due_delivery, first_part, make_api_channel

pytestmark = pytest.mark.usefixtures("platforms_on_loopback")

CONNECTORS = ["webhook", *FAKES]
#: Platforms whose posting call takes an idempotency or record key: a 5xx there is retried.
DEDUPLICATED = {"webhook", "mastodon", "bluesky"}
#: The route each fake answers a connection test on.
CHECK_ROUTE = {"webhook": "check", "bluesky": "session"}


@pytest.fixture(params=CONNECTORS)
def fake(request, monkeypatch) -> Iterator[FakePlatform]:
    monkeypatch.setattr(webhook, "TIMEOUT_SECONDS", http.TIMEOUT_SECONDS)
    server = FakeWebhook() if request.param == "webhook" else FAKES[request.param]()
    yield server
    server.close()


@pytest.fixture
def channel(fake, istanbul) -> Channel:
    if fake.name != "webhook":
        return make_api_channel(post=istanbul, connector=fake.name, endpoint=fake.url)
    hooked = make_channel(post=istanbul, platform="x", content_languages="en,fr,nl")
    hooked.connector, hooked.endpoint, hooked.language_plan = "webhook", f"{fake.url}/hook", "combined"
    hooked.save()
    return hooked


def publish(channel: Channel, editor, reviewer) -> None:
    delivery = due_delivery(channel, editor, reviewer)
    connector_for(channel.connector).publish(delivery, first_part(delivery), None)


def http_date(seconds: int) -> str:
    return email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=seconds), usegmt=True)


# --- Each connector, each fault ----------------------------------------------------------


def test_a_connection_closed_without_an_answer_after_the_request_is_unknown_and_was_sent(
    channel, fake, editor, reviewer
):
    fake.script("post", fault="close")
    with pytest.raises(OutcomeUnknown) as unknown:
        publish(channel, editor, reviewer)
    assert unknown.value.request_sent is True
    assert unknown.value.platform_said == ""
    assert "check the channel" in str(unknown.value)
    assert len(fake.calls("post")) == 1


def test_a_connection_reset_while_the_platform_reads_the_request_is_unknown(channel, fake, editor, reviewer):
    fake.script("post", fault="reset")
    with pytest.raises(OutcomeUnknown) as unknown:
        publish(channel, editor, reviewer)
    # A small request is written whole before the platform reads half of it and resets.
    assert unknown.value.request_sent is True
    assert unknown.value.platform_said == ""
    assert len(fake.calls("post")) == 1


def test_a_platform_that_hangs_past_the_time_out_is_unknown(channel, fake, editor, reviewer):
    fake.script("post", delay=http.TIMEOUT_SECONDS + 0.6)
    with pytest.raises(OutcomeUnknown) as unknown:
        publish(channel, editor, reviewer)
    assert unknown.value.request_sent is True
    assert unknown.value.platform_said == ""
    assert "did not answer in time after the publication was sent" in str(unknown.value)


def test_garbage_with_a_success_status_is_unknown_and_quoted(channel, fake, editor, reviewer):
    status = 201 if fake.name == "linkedin" else 200  # LinkedIn: a 201 without its x-restli-id
    fake.script("post", status, GARBAGE, {"Content-Type": "text/html"})
    with pytest.raises(OutcomeUnknown) as unknown:
        publish(channel, editor, reviewer)
    assert unknown.value.request_sent is True
    reason = "Created" if status == 201 else "OK"
    assert unknown.value.platform_said == f"HTTP {status}: {reason} — {GARBAGE.decode()}"


def test_a_success_without_the_post_id_is_unknown_but_a_receiver_may_name_none(
    channel, fake, editor, reviewer
):
    status = 201 if fake.name == "linkedin" else 200  # LinkedIn's id is its x-restli-id header
    fake.script("post", status, {"ok": True})
    if fake.name == "webhook":
        # The webhook contract: a 2xx answer *may* name the post; JSON without it is delivered.
        delivery = due_delivery(channel, editor, reviewer)
        published = connector_for("webhook").publish(delivery, first_part(delivery), None)
        assert (published.post_id, published.url) == ("", "")
        return
    with pytest.raises(OutcomeUnknown) as unknown:
        publish(channel, editor, reviewer)
    assert unknown.value.request_sent is True
    reason = "Created" if status == 201 else "OK"
    assert unknown.value.platform_said == f'HTTP {status}: {reason} — {{"ok": true}}'


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [("120", (120, 120)), ("date", (290, 300)), ("99999", (http.MAX_RETRY_AFTER, http.MAX_RETRY_AFTER))],
    ids=["seconds", "http-date", "capped"],
)
def test_a_429_says_when_to_try_again_in_seconds_or_as_a_date(
    channel, fake, editor, reviewer, retry_after, expected
):
    value = http_date(300) if retry_after == "date" else retry_after
    fake.script("post", 429, {"error": "Too many requests"}, {"Retry-After": value})
    with pytest.raises(SurelyFailed) as refused:
        publish(channel, editor, reviewer)
    low, high = expected
    assert low <= refused.value.retry_after <= high
    assert refused.value.platform_said == 'HTTP 429: Too Many Requests — {"error": "Too many requests"}'


def test_a_503_posted_nothing_and_keeps_its_retry_after(channel, fake, editor, reviewer):
    fake.script("post", 503, {"error": "Service Unavailable"}, {"Retry-After": http_date(60)})
    with pytest.raises(SurelyFailed) as refused:
        publish(channel, editor, reviewer)
    assert 50 <= refused.value.retry_after <= 60
    assert refused.value.platform_said == 'HTTP 503: Service Unavailable — {"error": "Service Unavailable"}'
    assert "nothing was posted" in str(refused.value)


def test_a_503_without_retry_after_leaves_the_wait_to_the_engine(channel, fake, editor, reviewer):
    # A rate-limit window's reset says nothing of an outage.
    fake.script("post", 503, b"", {"x-rate-limit-reset": str(int(datetime.now(UTC).timestamp()) + 900)})
    with pytest.raises(SurelyFailed) as refused:
        publish(channel, editor, reviewer)
    assert refused.value.retry_after is None
    assert refused.value.platform_said == "HTTP 503: Service Unavailable"


def test_a_500_is_unknown_only_where_the_platform_cannot_refuse_a_repeat(channel, fake, editor, reviewer):
    fake.script("post", 500, {"error": "Internal error"})
    expected = SurelyFailed if fake.name in DEDUPLICATED else OutcomeUnknown
    with pytest.raises(expected) as failed:
        publish(channel, editor, reviewer)
    assert failed.value.platform_said == 'HTTP 500: Internal Server Error — {"error": "Internal error"}'
    if expected is OutcomeUnknown:
        assert failed.value.request_sent is True


def test_a_refused_connection_surely_sent_nothing(channel, fake, editor, reviewer):
    fake.close()  # the port is free again: nobody listens there
    with pytest.raises(SurelyFailed, match="Nothing was sent") as refused:
        publish(channel, editor, reviewer)
    assert refused.value.platform_said == ""


@pytest.mark.parametrize("fault", ["close", "reset", "hang", "429"])
def test_a_connection_test_turns_every_fault_into_a_surely_failed(channel, fake, fault):
    route = CHECK_ROUTE.get(fake.name, "check")
    if fault == "hang":
        fake.script(route, delay=http.TIMEOUT_SECONDS + 0.6)
    elif fault == "429":
        fake.script(route, 429, {"error": "Too many requests"}, {"Retry-After": "45"})
    else:
        fake.script(route, fault=fault)
    with pytest.raises(SurelyFailed) as failed:
        connector_for(channel.connector).check_connection(channel)
    if fault == "429":
        assert failed.value.retry_after == 45
        assert failed.value.platform_said.startswith("HTTP 429: Too Many Requests")


def test_an_image_upload_that_breaks_off_posted_nothing(istanbul, editor, reviewer, settings, tmp_path):
    from tests.test_connectors import make_photo

    settings.MEDIA_ROOT = tmp_path
    fake = FAKES["mastodon"]()
    try:
        channel = make_api_channel(post=istanbul, connector="mastodon", endpoint=fake.url)
        delivery = due_delivery(channel, editor, reviewer, assets=[make_photo(editor, istanbul)])
        fake.script("media", fault="close")
        with pytest.raises(SurelyFailed):
            connector_for("mastodon").publish(delivery, first_part(delivery), None)
        assert fake.calls("post") == []
    finally:
        fake.close()


# --- http.py at the boundary: was the whole request written? --------------------------------


@contextlib.contextmanager
def raw_server(serve: Callable[[socket.socket], None], *, accept: bool = True) -> Iterator[str]:
    """A one-connection server on loopback running `serve(connection)`; its base URL."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def run() -> None:
        try:
            connection, _address = listener.accept()
        except OSError:
            return
        with connection:
            with contextlib.suppress(OSError):
                serve(connection)
            done.wait(5)

    thread = threading.Thread(target=run, daemon=True) if accept else None
    if thread is not None:
        thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        done.set()
        listener.close()
        if thread is not None:
            thread.join(5)


def read_headers(connection: socket.socket) -> tuple[bytes, int]:
    """Read up to the end of the headers: (what came after them, the Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _sep, rest = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return rest, length


def read_request(connection: socket.socket) -> None:
    rest, length = read_headers(connection)
    while len(rest) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        rest += chunk


def post(url: str, body: bytes, *, posting: bool = True) -> None:
    http.request(
        "POST",
        url,
        platform="Test",
        body=(body, "application/octet-stream"),
        posting=posting,
        expect_json=False,
    )


#: Larger than loopback's socket buffers on both sides: writing it blocks until read.
LARGE = b"x" * (32 * 1024 * 1024)


def test_a_server_that_reads_the_whole_request_then_closes_had_it_sent():
    with raw_server(read_request) as url, pytest.raises(OutcomeUnknown) as unknown:
        post(url, b'{"text": "Belgium at the fair"}')
    assert unknown.value.request_sent is True
    assert unknown.value.platform_said == ""


def test_a_server_that_closes_after_the_headers_did_not_get_the_request():
    def close_after_headers(connection: socket.socket) -> None:
        read_headers(connection)
        # Closing with the body unread resets the connection: the client is still writing.

    with raw_server(close_after_headers) as url, pytest.raises(OutcomeUnknown) as unknown:
        post(url, LARGE)
    assert unknown.value.request_sent is False
    assert unknown.value.platform_said == ""
    assert "most likely did not arrive" in str(unknown.value)


def test_a_write_that_breaks_off_on_a_call_that_posts_nothing_surely_failed():
    with raw_server(read_headers) as url, pytest.raises(SurelyFailed):
        post(url, LARGE, posting=False)


def test_a_server_that_never_reads_times_out_while_the_request_is_written():
    # Connected (the kernel accepts it) but never read: the write waits, then times out.
    with raw_server(read_request, accept=False) as url, pytest.raises(OutcomeUnknown) as unknown:
        post(url, LARGE)
    assert unknown.value.request_sent is False


def test_an_answer_cut_short_is_unknown_and_names_its_status():
    def cut_short(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"id": ')

    with raw_server(cut_short) as url, pytest.raises(OutcomeUnknown) as unknown:
        post(url, b"{}")
    assert unknown.value.request_sent is True
    assert unknown.value.platform_said == "HTTP 200: OK"


def test_a_refusal_whose_body_is_cut_short_is_still_a_refusal():
    def cut_short(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(
            b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 30\r\nContent-Length: 100\r\n\r\nbusy"
        )

    with raw_server(cut_short) as url, pytest.raises(SurelyFailed) as refused:
        post(url, b"{}")
    assert refused.value.retry_after == 30
    assert refused.value.platform_said == "HTTP 503: Service Unavailable — busy"


def test_a_status_line_that_is_no_http_is_unknown():
    def nonsense(connection: socket.socket) -> None:
        read_request(connection)
        connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")

    with raw_server(nonsense) as url, pytest.raises(OutcomeUnknown) as unknown:
        post(url, b"{}")
    assert unknown.value.request_sent is True


def test_a_tls_handshake_that_fails_surely_sent_nothing():
    def plain_http(connection: socket.socket) -> None:
        connection.recv(65536)
        connection.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    with raw_server(plain_http) as url, pytest.raises(SurelyFailed, match="Nothing was sent"):
        post(url.replace("http://", "https://"), b"{}")


def test_an_unknown_host_surely_sent_nothing(monkeypatch):
    def no_such_host(address, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_such_host)
    with pytest.raises(SurelyFailed, match="Could not reach Test: its host name could not be looked up"):
        post("https://api.example.invalid/2/tweets", b"{}")


def test_a_header_value_that_cannot_be_sent_is_refused_before_connecting():
    with pytest.raises(SurelyFailed, match="could not be made"):
        http.request(
            "GET", "http://127.0.0.1:9/x", platform="Test", headers={"Authorization": "Bearer a\r\nb"}
        )


def test_platform_said_quotes_the_status_and_the_start_of_the_body():
    assert http.platform_said(503, "Service Unavailable", b"") == "HTTP 503: Service Unavailable"
    assert http.platform_said(418, "", b"  short\n and stout  ") == "HTTP 418: I'm a Teapot — short and stout"
    assert len(http.platform_said(500, "", b"x" * 5000)) == len("HTTP 500: Internal Server Error — ") + 200


def headers(**values: str) -> Message:
    message = Message()
    for key, value in values.items():
        message[key.replace("_", "-")] = value
    return message


def test_facebooks_usage_headers_say_when_access_comes_back():
    usage = {"104912345678901": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    assert http.retry_after_seconds(headers(X_Business_Use_Case_Usage=json.dumps(usage))) == 7 * 60
    assert http.retry_after_seconds(headers(X_Page_Usage='{"call_count": 100}')) is None


def test_the_latest_of_several_reset_headers_is_waited_for_within_the_cap():
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    window, day = str(int(now.timestamp()) + 600), str(int(now.timestamp()) + 20 * 3600)
    assert http.retry_after_seconds(headers(x_rate_limit_reset=window), now) == 600
    assert (
        http.retry_after_seconds(headers(x_rate_limit_reset=window, x_user_limit_24hour_reset=day), now)
        == http.MAX_RETRY_AFTER
    )


def test_the_environments_proxy_is_used_as_urllib_did(monkeypatch):
    proxy = FAKES["x"]()
    try:
        for name in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("http_proxy", proxy.url.replace("http://", "http://relay:s%40cret@"))
        answer = http.request(
            "GET",
            "http://api.x.example/2/users/me",
            platform="X",
            headers={"Authorization": f"Bearer {proxy.TOKEN}"},
        )
        assert answer.data["data"]["username"] == "BelgiumInTR"
        [received] = proxy.calls("check")
        assert received.headers["Proxy-Authorization"] == "Basic cmVsYXk6c0BjcmV0"  # relay:s@cret
    finally:
        proxy.close()


def test_a_webhook_address_with_a_password_never_shows_it_in_what_staff_read(istanbul, editor, reviewer):
    fake = FakeWebhook()
    try:
        hooked = make_channel(post=istanbul, platform="x", content_languages="en,fr,nl")
        secret_url = fake.url.replace("http://", "http://relay:s3cret-word@") + "/hook"
        hooked.connector, hooked.endpoint, hooked.language_plan = "webhook", secret_url, "combined"
        hooked.save()
        fake.script("post", 503, b"down for maintenance")
        with pytest.raises(SurelyFailed) as failed:
            publish(hooked, editor, reviewer)
    finally:
        fake.close()
    said = f"{failed.value} {failed.value.platform_said}"
    assert "s3cret-word" not in said
    assert "relay:" not in said
    assert "127.0.0.1" in str(failed.value)
