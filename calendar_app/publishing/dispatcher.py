"""The publishing dispatcher (`manage.py dispatch`): sends each publication at its time.

A small long-running process beside `qcluster`. Each cycle it prepares what is due
(`engine.prepare_due`: crisis holds, due deliveries made, dead claims expired, finished
publications settled), claims due deliveries in batches and sends them through an
`engine.Sender` (many platform requests in flight, the database written from this one
thread). Between cycles it waits at most a second, less when a publication falls due
sooner, and wakes at once on a PostgreSQL NOTIFY (tasks.wake_dispatcher: an approval, a
retry, a delivery continued, a crisis advisory). Several dispatchers, on several hosts,
share the work through the claim (`FOR UPDATE SKIP LOCKED` on PostgreSQL).

It never stops on a connector's error or a lost database: it logs and goes on at the next
cycle. The waits are measured on the monotonic clock, so a wall clock that jumps neither
stalls it nor makes it spin; what is due is read from the database with the wall clock,
as the minute job reads it.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

from django.db import close_old_connections, connection, connections
from django.utils import timezone

from calendar_app.models import Publication, PublicationStatus
from calendar_app.publishing import engine
from calendar_app.tasks import DISPATCH_CHANNEL

logger = logging.getLogger(__name__)

#: At most this long between two looks at the database.
POLL_SECONDS = 1.0
#: Every this many cycles (and at the first) the dispatcher also settles the publications
#: whose deliveries are all done (engine.settle_finished): a sender settles what it sent
#: itself, so this only catches what a sender that died left, and need not cost a query a
#: second. The minute job settles every time.
SETTLE_EVERY_CYCLES = 30


class Dispatcher:
    """One dispatcher: `run()` until `stop()`; `cycle()` is one pass (the tests drive it)."""

    def __init__(self, *, concurrency: int | None = None, poll_seconds: float = POLL_SECONDS) -> None:
        self.sender = engine.Sender("dispatcher", concurrency)
        self.poll_seconds = poll_seconds
        self.stopping = threading.Event()
        self.cycles = 0
        #: The last claim filled every slot: more may be due behind it.
        self.more_due = False
        self._listener: threading.Thread | None = None

    # -- one pass --

    def cycle(self, now: datetime | None = None) -> dict[str, int]:
        """Prepare what is due and claim what there is room for; returns what it did."""
        now = now or timezone.now()
        if self.sender.sending:
            # Beating while it holds claims; an idle dispatcher writes nothing (the claim beats
            # before it takes any).
            self.sender.beat()
        self.sender.forget_given_back()
        done = engine.prepare_due(now, settle=self.cycles % SETTLE_EVERY_CYCLES == 0)
        claimed = 0
        while True:
            got = self.sender.claim(now)
            claimed += got
            # A full batch may hide more behind it: claim again while there is room.
            if not got or self.sender.free <= 0:
                break
        done["claimed"] = claimed
        self.more_due = self.sender.free <= 0
        self.cycles += 1
        return done

    def next_due_in(self, now: datetime) -> float:
        """Seconds until the next approved publication falls due, at most the poll interval."""
        upcoming = (
            Publication.objects.filter(status=PublicationStatus.APPROVED, scheduled_at__gt=now)
            .order_by("scheduled_at")
            .values_list("scheduled_at", flat=True)
            .first()
        )
        if upcoming is None:
            return self.poll_seconds
        return min(self.poll_seconds, max((upcoming - now).total_seconds(), 0.0))

    # -- the loop --

    def run(self, *, listen: bool = True) -> None:
        """Cycle until `stop()`: after each cycle, wait for answers until the next cycle is
        due (the poll interval, or sooner), or a NOTIFY wakes it."""
        if listen and connection.vendor == "postgresql":
            self._listener = threading.Thread(target=self._listen, name="dispatch-listen", daemon=True)
            self._listener.start()
        next_cycle = time.monotonic()
        try:
            while not self.stopping.is_set():
                if time.monotonic() >= next_cycle:
                    wait = self.poll_seconds
                    try:
                        self.cycle()
                        wait = self.next_due_in(timezone.now())
                    except Exception:
                        # A database restarting, a bug in one publication: logged, and the
                        # next cycle tries again; the loop itself never stops.
                        logger.exception("The dispatch cycle failed; trying again in a second")
                        close_old_connections()
                        connection.close()
                    next_cycle = time.monotonic() + wait
                try:
                    woken = self.sender.pump(max(next_cycle - time.monotonic(), 0.0))
                except Exception:
                    # The answers not written stay in the sender's hand: written at the next pump.
                    logger.exception("Storing the platforms' answers failed; trying again at the next pump")
                    connection.close()
                    woken = False
                if woken:
                    next_cycle = time.monotonic()
                elif self.more_due and self.sender.free >= max(1, self.sender.concurrency // 10):
                    self._claim_more()
        finally:
            self.stopping.set()
            try:
                self.sender.drain(limit=15)  # what is in flight gets its answer stored
            finally:
                self.sender.close()

    def _claim_more(self) -> None:
        """A backlog: slots freed by answers are filled at once, not at the next cycle."""
        try:
            self.sender.claim()
            self.more_due = self.sender.free <= 0
        except Exception:
            logger.exception("Claiming failed; the next cycle tries again")
            connection.close()
            self.more_due = False

    def stop(self) -> None:
        """Ask the loop to end (thread-safe, from a signal handler too)."""
        self.stopping.set()
        self.sender.wake()

    # -- LISTEN --

    def _listen(self) -> None:
        """In its own thread, on its own connection: each NOTIFY wakes the loop. A lost
        connection is opened again after a second; meanwhile the loop polls."""
        while not self.stopping.is_set():
            listener = connections.create_connection("default")
            try:
                listener.ensure_connection()
                listener.set_autocommit(True)
                raw = listener.connection
                raw.execute(f"LISTEN {DISPATCH_CHANNEL}")
                while not self.stopping.is_set():
                    for _notify in raw.notifies(timeout=1.0, stop_after=1):
                        self.sender.wake()
            except Exception:
                logger.warning("The dispatcher lost its LISTEN connection; polling meanwhile", exc_info=True)
                self.stopping.wait(1.0)
            finally:
                listener.close()
