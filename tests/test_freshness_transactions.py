"""A table's version moves exactly when a write to it commits: transactions, savepoints, rows.

Every test here lets commits happen for real (`transaction=True`).
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_app.models import Publication, Variant
from calendar_app.views.calendar import CALENDAR_READS
from calendar_app.views.review import APPROVALS_READS
from diplomacy import freshness
from diplomacy.models import Partner, Post, TableVersion, User
from tests.calendar_factories import make_publication
from tests.factories import PASSWORD, make_partner

PUBLICATIONS = Publication._meta.db_table
VARIANTS = Variant._meta.db_table
PARTNERS = Partner._meta.db_table
POSTS = Post._meta.db_table
USERS = User._meta.db_table


def version(table: str) -> int:
    return freshness.versions_of([table])[0]


def versions(*tables: str) -> tuple[int, ...]:
    return freshness.versions_of(list(tables))


def version_writes(queries: CaptureQueriesContext) -> list[str]:
    """The statements among `queries` that wrote versions."""
    written = [(freshness._WRITE.match(q["sql"]), q["sql"]) for q in queries.captured_queries]
    return [sql for match, sql in written if match and match.group(1) == TableVersion._meta.db_table]


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_after_a_rolled_back_one_to_the_same_table_moves_it_on():
    before = version(PARTNERS)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_partner(code="gone", name="Rolled back")
        raise RuntimeError
    assert version(PARTNERS) == before
    with transaction.atomic():
        make_partner(code="kept", name="Committed")
    assert version(PARTNERS) != before


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_rolled_back_discards_only_the_tables_written_inside_it(istanbul):
    before = versions(PARTNERS, POSTS)
    with transaction.atomic():
        Post.objects.filter(pk=istanbul.pk).update(city="Constantinople")
        with pytest.raises(RuntimeError), transaction.atomic():
            make_partner(code="inner", name="Inside the savepoint")
            raise RuntimeError
        assert not freshness.written_here([PARTNERS]) and freshness.written_here([POSTS])
    after = versions(PARTNERS, POSTS)
    assert after[0] == before[0] and after[1] != before[1]


@pytest.mark.django_db(transaction=True)
def test_a_released_savepoint_keeps_its_tables_for_the_commit(istanbul):
    before = versions(PARTNERS, POSTS)
    with transaction.atomic():
        with transaction.atomic():
            make_partner(code="inner", name="Inside a savepoint")
        Post.objects.filter(pk=istanbul.pk).update(city="Constantinople")
    after = versions(PARTNERS, POSTS)
    assert after[0] != before[0] and after[1] != before[1]


@pytest.mark.django_db(transaction=True)
def test_the_first_write_rolled_back_with_its_savepoint_leaves_the_later_ones_moving_on(istanbul):
    # The transaction's first write happens inside the savepoint that rolls back: what it
    # registered for the commit must not go with it.
    before = versions(PARTNERS, POSTS)
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            make_partner(code="inner", name="Inside the savepoint")
            raise RuntimeError
        Post.objects.filter(pk=istanbul.pk).update(city="Constantinople")
        with pytest.raises(RuntimeError), transaction.atomic():
            make_partner(code="again", name="Inside another one")
            raise RuntimeError
    after = versions(PARTNERS, POSTS)
    assert after[0] == before[0] and after[1] != before[1]


@pytest.mark.django_db(transaction=True)
def test_rolling_back_to_a_savepoint_opened_before_any_write_discards_every_table(istanbul):
    before = versions(PARTNERS, POSTS)
    with transaction.atomic():
        opened = transaction.savepoint()
        make_partner(code="inner", name="After the savepoint")
        Post.objects.filter(pk=istanbul.pk).update(city="Constantinople")
        transaction.savepoint_rollback(opened)
        assert not freshness.written_here([PARTNERS, POSTS])
    assert versions(PARTNERS, POSTS) == before


@pytest.mark.django_db(transaction=True)
def test_a_manual_savepoint_rolled_back_keeps_what_was_written_before_it(istanbul):
    before = versions(PARTNERS, POSTS)
    with transaction.atomic():
        Post.objects.filter(pk=istanbul.pk).update(city="Constantinople")
        opened = transaction.savepoint()
        make_partner(code="inner", name="After the savepoint")
        transaction.savepoint_rollback(opened)
    after = versions(PARTNERS, POSTS)
    assert after[0] == before[0] and after[1] != before[1]


@pytest.mark.django_db(transaction=True)
def test_a_savepoint_inside_a_savepoint_rolled_back_leaves_the_outer_savepoints_tables(istanbul):
    before = versions(PARTNERS, POSTS, PUBLICATIONS)
    with transaction.atomic():
        with transaction.atomic():
            Post.objects.filter(pk=istanbul.pk).update(city="Constantinople")
            with pytest.raises(RuntimeError), transaction.atomic():
                make_partner(code="deepest", name="Two savepoints down")
                raise RuntimeError
        assert freshness.written_here([POSTS]) and not freshness.written_here([PARTNERS])
    after = versions(PARTNERS, POSTS, PUBLICATIONS)
    assert after[0] == before[0] and after[1] != before[1] and after[2] == before[2]


@pytest.mark.django_db(transaction=True)
def test_a_transaction_moves_every_table_it_wrote_in_one_statement_after_its_commit(istanbul, editor):
    before = versions(PUBLICATIONS, VARIANTS, POSTS)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        make_publication(post=istanbul, author=editor)  # a publication and its variant
        Post.objects.filter(pk=istanbul.pk).update(city="Constantinople")
        with transaction.atomic():
            Publication.objects.update(title="Renamed")
    writes = version_writes(queries)
    assert len(writes) == 1, writes
    statements = [q["sql"] for q in queries.captured_queries]
    assert statements.index(writes[0]) > statements.index("COMMIT")
    after = versions(PUBLICATIONS, VARIANTS, POSTS)
    assert all(a != b for a, b in zip(after, before, strict=True))


@pytest.mark.django_db(transaction=True)
def test_writes_outside_a_transaction_move_on_together_before_the_next_statement():
    before = versions(PARTNERS, POSTS)
    with CaptureQueriesContext(connection) as queries:
        partner = Partner.objects.create(code="auto", name="Autocommitted")
        Partner.objects.filter(pk=partner.pk).update(name="Renamed")
        after = versions(PARTNERS, POSTS)  # the next statement: the versions move first
    assert after[0] != before[0] and after[1] == before[1]
    assert len(version_writes(queries)) == 2  # the INSERT's, then the UPDATE's


@pytest.mark.django_db(transaction=True)
def test_a_write_that_changed_no_row_moves_nothing(istanbul, editor):
    publication = make_publication(post=istanbul, author=editor)
    channel = istanbul.channels.create(platform="mastodon", handle="@istanbul@mastodon.example")
    publication.channels.add(channel)
    links = Publication.channels.through._meta.db_table
    before = versions(PUBLICATIONS, VARIANTS, links)
    with CaptureQueriesContext(connection) as queries:
        assert Publication.objects.filter(pk=publication.pk, status="approved").update(title="Lost") == 0
        assert Variant.objects.filter(language="xx").delete()[0] == 0
        publication.channels.add(channel)  # already linked: INSERT OR IGNORE / ON CONFLICT DO NOTHING
        with connection.cursor() as cursor:
            cursor.execute('UPDATE "calendar_app_publication" SET title = %s WHERE id = %s', ["Raw", -1])
        with transaction.atomic():
            Publication.objects.filter(pk=-1).update(title="Nothing")
    assert versions(PUBLICATIONS, VARIANTS, links) == before
    assert version_writes(queries) == []


@pytest.mark.django_db(transaction=True)
def test_a_login_alone_moves_nothing_but_a_change_people_see_does(client, editor):
    editor.set_password("a long enough password")
    editor.save()
    before = version(USERS)
    assert client.login(email=editor.email, password="a long enough password")  # SET last_login
    assert User.objects.get(pk=editor.pk).last_login is not None
    assert version(USERS) == before
    User.objects.filter(pk=editor.pk).update(last_login=timezone.now(), full_name="Renamed")
    assert version(USERS) != before


def test_an_update_sets_only_unshown_columns_when_every_assigned_column_is_listed():
    only = freshness.sets_only_unshown_columns
    assert USERS == "diplomacy_user"
    assert only(USERS, 'UPDATE "diplomacy_user" SET "last_login" = %s WHERE "diplomacy_user"."id" = %s')
    assert only(USERS, "update diplomacy_user set last_login=now()")
    assert not only(USERS, 'UPDATE "diplomacy_user" SET "last_login" = %s, "full_name" = %s WHERE "id" = 1')
    assert not only(USERS, 'UPDATE "diplomacy_user" SET "full_name" = %s WHERE "last_login" = %s')
    assert not only(USERS, 'DELETE FROM "diplomacy_user" WHERE "last_login" = %s')
    assert not only(POSTS, 'UPDATE "diplomacy_post" SET "last_login" = %s')


@pytest.mark.django_db(transaction=True)
def test_a_login_through_the_login_page_leaves_every_page_of_the_network_cached(client, editor):
    tables = sorted({*freshness.tables_of(APPROVALS_READS), *freshness.tables_of(CALENDAR_READS)})
    before = freshness.versions_of(tables)
    response = client.post(reverse("account_login"), {"login": editor.email, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert freshness.versions_of(tables) == before


@pytest.mark.django_db(transaction=True)
def test_a_transaction_managed_by_hand_moves_its_tables_on_only_once_committed(istanbul):
    before = versions(POSTS)
    transaction.set_autocommit(False)
    try:
        Post.objects.filter(pk=istanbul.pk).update(city="Constantinople")
        assert versions(POSTS) == before  # others cannot see the change yet
        transaction.commit()
    finally:
        transaction.set_autocommit(True)
    assert versions(POSTS) != before
