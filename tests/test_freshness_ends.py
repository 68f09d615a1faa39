"""What a task, a command or a shell wrote outside a transaction moves on when that work ends.

A write outside a transaction waits for the connection's next statement to move its table on;
a worker waiting for its next task, or a process about to exit, may have none.
"""

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_q.signals import post_execute, post_execute_in_worker
from django_q.tasks import async_task

from diplomacy import freshness
from diplomacy.models import Partner, Post, TableVersion

PARTNERS = Partner._meta.db_table
POSTS = Post._meta.db_table


def versions(*tables: str) -> tuple[int, ...]:
    return freshness.versions_of(list(tables))


def version_writes(queries: CaptureQueriesContext) -> list[str]:
    written = [(freshness._WRITE.match(q["sql"]), q["sql"]) for q in queries.captured_queries]
    return [sql for match, sql in written if match and match.group(1) == TableVersion._meta.db_table]


def writes_then_fails(code: str, post_pk: int) -> None:
    """A task that commits a partner on its own, then fails half way through a transaction."""
    Partner.objects.create(code=code, name="Written before the failure")
    with transaction.atomic():
        Post.objects.filter(pk=post_pk).update(city="Never saved")
        raise RuntimeError("the task fails half way")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("end", [post_execute_in_worker, post_execute], ids=["worker", "monitor"])
def test_the_end_of_a_task_moves_on_what_was_written_outside_a_transaction_at_once(end):
    before = versions(PARTNERS)
    Partner.objects.create(code="due", name="Written by a task")
    with CaptureQueriesContext(connection) as queries:
        end.send(sender="django_q", func=None, task={})
    assert len(version_writes(queries)) == 1  # no other statement needed
    assert versions(PARTNERS) != before


@pytest.mark.django_db(transaction=True)
def test_a_task_that_fails_half_way_moves_on_what_it_committed_and_nothing_else(istanbul):
    before = versions(PARTNERS, POSTS)
    with pytest.raises(RuntimeError, match="half way"):
        async_task(writes_then_fails, "before-failure", istanbul.pk)  # run inline (conftest)
    after = versions(PARTNERS, POSTS)
    assert after[0] != before[0], "the committed partner moved on"
    assert after[1] == before[1], "the rolled back post did not"
    assert Post.objects.get(pk=istanbul.pk).city == "Istanbul"


@pytest.mark.django_db(transaction=True)
def test_the_exit_of_a_command_or_a_shell_moves_on_what_is_due():
    before = versions(PARTNERS)
    Partner.objects.create(code="shell", name="Typed into a shell")
    with CaptureQueriesContext(connection) as queries:
        freshness.move_on_at_exit()
    assert len(version_writes(queries)) == 1
    assert versions(PARTNERS) != before


@pytest.mark.django_db(transaction=True)
def test_the_exit_never_fails_on_a_database_that_cannot_answer(monkeypatch, caplog):
    Partner.objects.create(code="shell", name="Typed into a shell")

    def unreachable(*args, **kwargs):
        raise ConnectionError("the database is gone")

    monkeypatch.setattr(freshness, "_move_on", unreachable)
    freshness.move_on_at_exit()
    assert "Could not move the versions due on at exit" in caplog.text


def a_database_for_another_process(tmp_path: Path) -> tuple[str, Callable[[str], int]]:
    """The test database as another process reaches it (SQLite's in-memory one copied to a
    file), and how to read a table's version there."""
    if connection.vendor == "postgresql":
        url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/" + connection.settings_dict["NAME"]
        return url, lambda table: versions(table)[0]
    path = tmp_path / "copy.sqlite3"
    with sqlite3.connect(connection.settings_dict["NAME"], uri=True) as source, sqlite3.connect(path) as copy:
        source.backup(copy)

    def version_in_the_copy(table: str) -> int:
        with sqlite3.connect(path) as copy:
            found = copy.execute(
                'SELECT "version" FROM "diplomacy_tableversion" WHERE "table" = ?', [table]
            ).fetchone()
        return found[0] if found else 0

    return f"sqlite:///{path}", version_in_the_copy


@pytest.mark.django_db(transaction=True)
def test_a_shell_that_wrote_outside_a_transaction_moves_it_on_as_it_exits(tmp_path):
    url, version = a_database_for_another_process(tmp_path)
    before = version(PARTNERS)
    typed = "from diplomacy.models import Partner; Partner.objects.create(code='shell', name='Typed')"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", typed],
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert version(PARTNERS) != before  # no statement came after the write: the exit moved it
