"""`manage.py dispatch`: the publishing dispatcher, long-running, supervised beside qcluster.

One a host: a second one started on the same host (and database) refuses to start, with a
message, rather than compete with the first for SQLite's one writer or double the load.
Dispatchers on several hosts share the work (see calendar_app.publishing.dispatcher).
SIGTERM or Ctrl-C stops it after the answers in flight are stored (at most ~15 s).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import signal
import tempfile
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from calendar_app.publishing.dispatcher import Dispatcher

logger = logging.getLogger(__name__)


def lock_path() -> Path:
    """The host-wide lock of this database's dispatcher (DISPATCH_LOCK_DIR, default the
    temporary directory)."""
    database = connection.settings_dict
    name = f"{database.get('HOST') or ''}:{database.get('PORT') or ''}/{database['NAME']}"
    digest = hashlib.sha256(name.encode()).hexdigest()[:16]
    folder = Path(getattr(settings, "DISPATCH_LOCK_DIR", "") or tempfile.gettempdir())
    return folder / f"calendar-dispatch-{digest}.lock"


def take_host_lock(path: Path) -> TextIO:
    """An exclusive lock held while the process lives (the kernel lets go of it when the
    process dies, even by SIGKILL); CommandError when another dispatcher holds it."""
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise CommandError(
            f"A dispatcher already runs on this host for this database ({holder}); "
            f"stop it first (lock: {path})."
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    return handle


class Command(BaseCommand):
    help = "Run the publishing dispatcher: sends each publication at its time (long-running)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--concurrency",
            type=int,
            default=None,
            help="platform requests in flight at once (default: DISPATCH_CONCURRENCY, 32)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        concurrency = options["concurrency"]
        if concurrency is not None and not 1 <= concurrency <= 1000:
            raise CommandError("--concurrency must be between 1 and 1000.")
        lock = take_host_lock(lock_path())
        dispatcher = Dispatcher(concurrency=concurrency)

        def stop(signum: int, frame: object) -> None:
            dispatcher.stop()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            f"Dispatcher {dispatcher.sender.token} started ({connection.vendor}, "
            f"{dispatcher.sender.concurrency} requests in flight at most)."
        )
        try:
            dispatcher.run()
        finally:
            lock.close()
        self.stdout.write("Dispatcher stopped.")
