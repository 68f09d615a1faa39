"""A webhook receiver on loopback, as the webhook connector's contract describes it.

It answers each POST with {"id", "url"}, counts the requests per Idempotency-Key (a
key seen twice is a double post), and can hold requests unanswered until told, so a
test can stop a worker while the platform has the request but has not answered. A part
of a thread names the part it answers (`in_reply_to`): one it never gave is a problem,
listed in `problems`. With `mode` it misbehaves as a platform may, after counting the
request: "hang" (never answers, until closed), "reset" (drops the connection without an
answer), "garbage" (200 with a body that is no JSON). It never leaves 127.0.0.1. Used
by the engine's tests and by bench/lateness.py.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    key: str
    body: dict
    at: float  # time.time() when the request arrived


class FakeReceiver:
    """Start with `FakeReceiver()`, point channels at `.url`, `close()` at the end."""

    #: How long a held request waits for `release()` at most, so a forgotten hold ends.
    HOLD_LIMIT = 60.0

    #: The ways `mode` misbehaves; "answer" (the default) answers as the contract says.
    MODES = ("answer", "hang", "reset", "garbage")

    def __init__(
        self, *, status: int = 200, delay: float | Callable[[], float] = 0.0, mode: str = "answer"
    ) -> None:
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}")
        self.status = status
        self.mode = mode
        self._closed = threading.Event()
        #: Seconds each answer takes, as a real platform's would (or a function drawing them).
        self.delay = delay
        self.received: list[Received] = []
        #: What was wrong in a request (an answer to a post never made).
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._to_hold = 0
        #: Set when a held request has arrived (the platform has it, no answer given yet).
        self.holding = threading.Event()
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    document = json.loads(body or b"{}")
                except ValueError:
                    document = {}
                with fake._lock:
                    answered = document.get("in_reply_to") if isinstance(document, dict) else None
                    number = str(answered).removeprefix("post-")
                    if answered is not None and not (
                        number.isdigit() and 1 <= int(number) <= len(fake.received)
                    ):
                        fake.problems.append(f"in_reply_to {answered!r} is no post of this receiver")
                    fake.received.append(
                        Received(self.headers.get("Idempotency-Key", ""), document, time.time())
                    )
                    number = len(fake.received)
                    hold = fake._to_hold > 0
                    if hold:
                        fake._to_hold -= 1
                if hold:
                    fake.holding.set()
                    fake._release.wait(fake.HOLD_LIMIT)
                time.sleep(fake.delay() if callable(fake.delay) else fake.delay)
                if fake.mode == "hang":
                    fake._closed.wait(fake.HOLD_LIMIT)
                    return
                if fake.mode == "reset":
                    # Linger 0: closing sends a TCP reset, not an orderly end.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if fake.mode == "garbage":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "15")
                    self.end_headers()
                    self.wfile.write(b"<html>oops</ht>")
                    return
                answer = json.dumps({"id": f"post-{number}", "url": f"https://social.example/post-{number}"})
                try:
                    self.send_response(fake.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer.encode())
                except OSError:
                    pass  # the worker that asked is gone (killed while we held its request)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        # `shutdown()` waits until serve_forever next looks at its flag: look often, so that
        # closing the receiver at the end of a test takes milliseconds, not the default 0.5 s.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def hold_next(self, count: int = 1) -> None:
        """Keep the next `count` requests unanswered until `release()`."""
        with self._lock:
            self._to_hold = count
        self.holding.clear()
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    def per_key(self) -> Counter[str]:
        with self._lock:
            return Counter(received.key for received in self.received)

    def duplicates(self) -> dict[str, int]:
        """Idempotency keys posted more than once, with their counts: a double post each."""
        return {key: count for key, count in self.per_key().items() if count > 1}

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until at least `count` requests have arrived; False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._closed.set()
        self.release()
        self.server.shutdown()
        self.server.server_close()
