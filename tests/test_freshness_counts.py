"""A transition writes its versions once: one statement after its commit, whatever it wrote."""

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf

from calendar_app import workflow
from calendar_app.models import Publication
from diplomacy import freshness
from diplomacy.models import TableVersion
from tests.calendar_factories import make_publication
from tests.factories import make_channel

TEXTS = {
    "nl": "Belgische bedrijven bezoeken Istanbul.",
    "fr": "Des entreprises belges visitent Istanbul.",
    "en": "Belgian companies visit Istanbul.",
    "tr": "Belçikalı şirketler İstanbul'u ziyaret ediyor.",
}


def version_writes(queries: CaptureQueriesContext) -> list[str]:
    written = [(freshness._WRITE.match(q["sql"]), q["sql"]) for q in queries.captured_queries]
    return [sql for match, sql in written if match and match.group(1) == TableVersion._meta.db_table]


@pytest.fixture
def _tasks_queued(monkeypatch):
    """As in production: the e-mails go to the queue, a worker sends them (and moves its own
    writes on at the task's end)."""
    monkeypatch.setattr(Conf, "SYNC", False)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_tasks_queued")
@time_machine.travel("2026-11-28 10:00:00+00:00", tick=False)
def test_a_submit_and_an_approval_each_write_the_versions_in_one_statement(istanbul, editor, reviewer):
    facebook = make_channel(post=istanbul, platform="facebook")
    draft = make_publication(
        post=istanbul, author=editor, local_date=date(2026, 12, 10), channels=[facebook], variants=TEXTS
    )
    for action in ("submit", "approve"):
        publication = Publication.objects.get(pk=draft.pk)
        with CaptureQueriesContext(connection) as queries:
            if action == "submit":
                workflow.submit(editor, publication)
            else:
                workflow.approve(reviewer, publication, expected_revision=publication.revision)
        writes = version_writes(queries)
        statements = [q["sql"] for q in queries.captured_queries]
        assert len(writes) == 1, (action, writes)
        assert statements.index(writes[0]) > statements.index("COMMIT"), action
        # Every table the transition wrote, in that one statement (the SQL as logged, with values).
        for table in ("publication", "publicationevent", "notification"):
            assert f"'calendar_app_{table}'" in writes[0], (action, table)
    assert Publication.objects.get(pk=draft.pk).status == "approved"
