"""A pytest plugin: a fragment that reads a table it does not declare fails the test.

A cached fragment is rebuilt only when a table it declares (`reads=`) moves on; one that reads
another table stays stale after a write to it. Every fragment and remembered value passes
`freshness.build_declared`, so the SQL it runs there is captured and its tables compared with what
it declares.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import pytest
from django.db import connections

from diplomacy import freshness
from diplomacy.models import TableVersion

#: What any build may read undeclared: the versions themselves and the session.
ALWAYS_READ = frozenset({TableVersion._meta.db_table, "django_session"})
_SELECT = re.compile(r"\s*(?:SELECT|WITH)\b", re.IGNORECASE)
#: A name after FROM or JOIN, unless a column follows it (`EXTRACT(DAY FROM U0."at")`).
_TABLE = re.compile(r'\b(?:FROM|JOIN)\s+(?:"(\w+)"|(\w+)\b)(?!\s*\.)', re.IGNORECASE)


def tables_read(statements: Iterable[str]) -> set[str]:
    """The tables named after FROM or JOIN in the SELECTs among `statements`."""
    tables: set[str] = set()
    for sql in statements:
        if _SELECT.match(sql):
            tables.update(quoted or bare for quoted, bare in _TABLE.findall(sql))
    return tables


class FragmentReads:
    """The builds of this test that read a table they did not declare."""

    def __init__(self) -> None:
        self.undeclared: dict[str, set[str]] = {}

    def watch(self, build: Callable) -> Callable:
        def watched(name: str, reads, build_it: Callable):
            statements: list[str] = []

            def capture(execute, sql, params, many, context):
                statements.append(sql)
                return execute(sql, params, many, context)

            with connections["default"].execute_wrapper(capture):
                result = build(name, reads, build_it)
            extra = tables_read(statements) - set(freshness.tables_of(reads)) - ALWAYS_READ
            if extra:
                self.undeclared.setdefault(name, set()).update(extra)
            return result

        return watched

    def report(self) -> str:
        return "\n".join(
            f"fragment {name!r} reads {', '.join(sorted(tables))} without declaring it in reads="
            for name, tables in sorted(self.undeclared.items())
        )


@pytest.fixture
def fragment_reads(monkeypatch) -> FragmentReads:
    """The undeclared reads of this test's builds (a test may inspect and clear them)."""
    reads = FragmentReads()
    monkeypatch.setattr(freshness, "build_declared", reads.watch(freshness.build_declared))
    return reads


@pytest.fixture(autouse=True)
def _fragments_read_only_what_they_declare(fragment_reads):
    yield
    if fragment_reads.undeclared:
        pytest.fail(fragment_reads.report(), pytrace=False)
