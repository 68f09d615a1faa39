"""Writes that fail, write nothing or come from outside a view leave every version exactly right."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from calendar_app.models import Publication
from diplomacy import freshness
from diplomacy.models import Partner, Post
from tests.calendar_factories import make_publication

PARTNERS = Partner._meta.db_table
POSTS = Post._meta.db_table
PUBLICATIONS = Publication._meta.db_table
POSTS_HEADER = "code,kind,name,city,country_iso2,timezone,host_languages"
ANKARA = "be-emb-ankara,embassy,Embassy of Belgium in Ankara,Ankara,TR,Europe/Istanbul,tr"
NOWHERE = "be-emb-nowhere,embassy,Embassy of Belgium in Nowhere,Nowhere,ZZ,Europe/Istanbul,tr"


def versions(*tables: str) -> tuple[int, ...]:
    return freshness.versions_of(list(tables))


@pytest.mark.django_db(transaction=True)
def test_a_write_refused_by_a_constraint_inside_a_savepoint_moves_only_what_was_kept(istanbul, fit):
    before = versions(PARTNERS, POSTS)
    with transaction.atomic():
        Post.objects.filter(pk=istanbul.pk).update(city="Constantinople")
        with pytest.raises(IntegrityError), transaction.atomic():
            Partner.objects.filter(pk=fit.pk).update(name="Renamed first")
            Partner.objects.create(code=fit.code, name="The same code twice")
    after = versions(PARTNERS, POSTS)
    assert after[0] == before[0] and after[1] != before[1]
    assert Partner.objects.get(pk=fit.pk).name == "Flanders Investment & Trade"


@pytest.mark.django_db(transaction=True)
def test_raw_sql_moves_on_when_committed_and_not_when_rolled_back(istanbul):
    before = versions(POSTS)
    with pytest.raises(RuntimeError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute('UPDATE "diplomacy_post" SET "city" = %s WHERE "id" = %s', ["Undone", istanbul.pk])
        raise RuntimeError
    assert versions(POSTS) == before
    with connection.cursor() as cursor:
        cursor.execute("update diplomacy_post set city = %s where id = %s", ["Raw", istanbul.pk])
    assert versions(POSTS) != before


@pytest.mark.django_db(transaction=True)
def test_a_bulk_update_of_rows_gone_meanwhile_moves_nothing(istanbul, editor):
    publication = make_publication(post=istanbul, author=editor)
    before = versions(PUBLICATIONS)
    Publication.objects.filter(pk=publication.pk).delete()
    deleted = versions(PUBLICATIONS)
    assert deleted != before
    publication.title = "Edited in a stale form"
    assert Publication.objects.bulk_update([publication], ["title"]) == 0
    assert Publication.objects.filter(pk__in=[]).update(title="None") == 0
    assert versions(PUBLICATIONS) == deleted


@pytest.mark.django_db(transaction=True)
def test_a_management_command_moves_on_what_it_imported_and_nothing_when_it_refused(tmp_path: Path):
    before = versions(POSTS)
    refused = tmp_path / "refused.csv"
    refused.write_text(f"{POSTS_HEADER}\n{ANKARA}\n{NOWHERE}\n")
    with pytest.raises(CommandError, match="1 error"):
        call_command("import_network", str(refused), stdout=io.StringIO(), stderr=io.StringIO())
    assert versions(POSTS) == before
    imported = tmp_path / "imported.csv"
    imported.write_text(f"{POSTS_HEADER}\n{ANKARA}\n")
    call_command("import_network", str(imported), stdout=io.StringIO())
    assert Post.objects.filter(code="be-emb-ankara").exists()
    assert versions(POSTS) != before
