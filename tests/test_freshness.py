"""Cached page fragments stay fresh: every committed write moves its table's version on.

Most tests here run with real commits (`transaction=True`): inside the usual test
transaction nothing ever commits, and a fragment is then always built, never stored.
"""

from datetime import date

import pytest
from django.db import connection, transaction
from django.utils.safestring import SafeString

from calendar_app.models import Publication, Variant
from diplomacy import freshness
from diplomacy.models import Channel, Partner, Post, TableVersion
from tests.calendar_factories import make_publication
from tests.factories import make_partner, make_post

PUBLICATIONS = Publication._meta.db_table


def version(table: str) -> int:
    return freshness.versions_of([table])[0]


class Builds:
    """A fragment builder that counts its calls."""

    def __init__(self, html: str = "<p>built</p>") -> None:
        self.html, self.calls = html, 0

    def __call__(self) -> SafeString:
        self.calls += 1
        return SafeString(f"{self.html}{self.calls}")


@pytest.mark.django_db(transaction=True)
def test_every_kind_of_committed_write_moves_its_table_on(istanbul, editor):
    seen = [version(PUBLICATIONS)]
    publication = make_publication(post=istanbul, author=editor)  # INSERT
    seen.append(version(PUBLICATIONS))
    Publication.objects.filter(pk=publication.pk).update(title="Renamed")  # a bulk UPDATE
    seen.append(version(PUBLICATIONS))
    with connection.cursor() as cursor:  # raw SQL through Django's connection
        cursor.execute('UPDATE "calendar_app_publication" SET title = %s', ["Raw"])
    seen.append(version(PUBLICATIONS))
    assert len(set(seen)) == len(seen), seen
    variants = Variant._meta.db_table
    before = version(variants)
    Variant.objects.filter(publication=publication).delete()  # DELETE
    assert version(variants) != before
    # The many-to-many link table has a version of its own.
    tables = freshness.tables_of([Publication])
    assert PUBLICATIONS in tables and Publication.channels.through._meta.db_table in tables
    links = Publication.channels.through._meta.db_table
    before = version(links)
    channel = Channel.objects.create(post=istanbul, platform="mastodon", handle="@istanbul@mastodon.example")
    publication.channels.add(channel)  # INSERT OR IGNORE on SQLite, ON CONFLICT DO NOTHING on PostgreSQL
    assert version(links) != before


@pytest.mark.django_db(transaction=True)
def test_a_write_moves_its_table_on_only_once_the_transaction_commits(istanbul, editor):
    before = version(PUBLICATIONS)
    with transaction.atomic():
        make_publication(post=istanbul, author=editor)
        assert version(PUBLICATIONS) == before  # not yet: others cannot see the row
        assert freshness.written_here([PUBLICATIONS])
    assert version(PUBLICATIONS) != before
    assert not freshness.written_here([PUBLICATIONS])


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_write_moves_nothing_on(istanbul, editor):
    before = version(PUBLICATIONS)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_publication(post=istanbul, author=editor)
        raise RuntimeError
    assert version(PUBLICATIONS) == before
    assert not freshness.written_here([PUBLICATIONS])


@pytest.mark.django_db(transaction=True)
def test_a_fragment_is_kept_until_a_table_it_reads_changes(istanbul, editor):
    build = Builds()

    def fragment(shape="same"):
        return freshness.fragment("test", reads=(Publication, Post), shape=shape, build=build)

    first = fragment()
    assert fragment() == first and build.calls == 1
    make_partner(code="other", name="Other")  # a table the fragment does not read
    assert fragment() == first and build.calls == 1
    assert fragment(shape="other filters") != first and build.calls == 2
    make_publication(post=istanbul, author=editor)
    assert fragment() != first and build.calls == 3
    Post.objects.filter(pk=istanbul.pk).update(city="İstanbul")
    fragment()
    assert build.calls == 4


@pytest.mark.django_db(transaction=True)
def test_a_fragment_is_never_stored_from_a_transaction_that_wrote_what_it_reads(istanbul, editor):
    build = Builds()
    with transaction.atomic():
        make_publication(post=istanbul, author=editor)
        freshness.fragment("test", reads=(Publication,), shape=1, build=build)
        freshness.fragment("test", reads=(Publication,), shape=1, build=build)
        assert build.calls == 2  # this connection sees a row no one else sees yet
    freshness.fragment("test", reads=(Publication,), shape=1, build=build)
    freshness.fragment("test", reads=(Publication,), shape=1, build=build)
    assert build.calls == 3


@pytest.mark.django_db(transaction=True)
def test_versions_are_never_reused_after_the_table_of_versions_is_emptied(istanbul, editor):
    make_publication(post=istanbul, author=editor)
    first = version(PUBLICATIONS)
    TableVersion.objects.all().delete()
    make_publication(post=istanbul, author=editor)
    assert version(PUBLICATIONS) not in (0, first)


@pytest.mark.django_db(transaction=True)
def test_the_month_shows_a_change_made_after_it_was_cached(client, istanbul, editor, reviewer):
    today = date.today()
    publication = make_publication(post=istanbul, author=editor, title="Before the change", local_date=today)
    client.force_login(reviewer)
    url = f"/calendar/?view=month&date={today.isoformat()}"
    assert "Before the change" in client.get(url).content.decode()
    Publication.objects.filter(pk=publication.pk).update(title="After the change")
    page = client.get(url).content.decode()
    assert "After the change" in page and "Before the change" not in page


@pytest.mark.django_db(transaction=True)
def test_the_calendar_filter_lists_a_post_added_after_it_was_cached(client, istanbul, reviewer):
    client.force_login(reviewer)
    assert "Embassy of Belgium in Ankara" not in client.get("/calendar/").content.decode()
    make_post(code="be-emb-ankara", name="Embassy of Belgium in Ankara", city="Ankara")
    assert "Embassy of Belgium in Ankara" in client.get("/calendar/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_coverage_report_shows_a_channel_added_after_it_was_cached(client, istanbul, reviewer):
    client.force_login(reviewer)
    row = 'Consulate-General of Belgium in Istanbul</a></th><td class="state-{}">'
    assert row.format("absent") in client.get("/network/coverage/?platform=mastodon").content.decode()
    Channel.objects.create(post=istanbul, platform="mastodon", handle="@istanbul@mastodon.example")
    assert row.format("silent") in client.get("/network/coverage/?platform=mastodon").content.decode()


@pytest.mark.django_db(transaction=True)
def test_fragments_are_per_language(client, reviewer):
    client.force_login(reviewer)
    english = client.get("/network/activity/", headers={"accept-language": "en"}).content.decode()
    french = client.get("/network/activity/", headers={"accept-language": "fr"}).content.decode()
    assert "Language mix per post" in english
    assert "Language mix per post" not in french


def test_unwatched_tables_are_not_versioned():
    assert not freshness._WRITE.match('SELECT 1 FROM "calendar_app_publication"')
    for sql, table in [
        ('INSERT INTO "calendar_app_publication" ("title") VALUES (%s)', "calendar_app_publication"),
        ('UPDATE "diplomacy_post" SET "city" = %s', "diplomacy_post"),
        ('DELETE FROM "calendar_app_variant" WHERE id = 1', "calendar_app_variant"),
        ("update calendar_app_review set x = 1", "calendar_app_review"),
        # A many-to-many add: SQLite's conflict clause, PostgreSQL's.
        (
            'INSERT OR IGNORE INTO "calendar_app_crisis_posts" ("crisis_id") VALUES (1)',
            "calendar_app_crisis_posts",
        ),
        (
            'INSERT INTO "calendar_app_crisis_posts" ("crisis_id") VALUES (1) ON CONFLICT DO NOTHING',
            "calendar_app_crisis_posts",
        ),
        ('UPDATE OR IGNORE "diplomacy_post" SET "city" = %s', "diplomacy_post"),
        ('REPLACE INTO "diplomacy_partner" ("code") VALUES (%s)', "diplomacy_partner"),
        ("UPDATE orders SET x = 1", "orders"),
    ]:
        assert freshness._WRITE.match(sql).group(1) == table
    assert "django_session".startswith(freshness._UNWATCHED_PREFIXES)
    assert not Partner._meta.db_table.startswith(freshness._UNWATCHED_PREFIXES)


@pytest.mark.django_db(transaction=True)
def test_a_queue_served_from_the_cache_carries_the_viewers_own_csrf_token(istanbul, editor, reviewer):
    import re
    from datetime import time, timedelta

    from django.test import Client
    from django.utils import timezone

    from calendar_app.models import PublicationRevision

    soon = timezone.localdate() + timedelta(days=3)
    publication = make_publication(
        post=istanbul, author=editor, status="in_review", local_date=soon, local_time=time(9)
    )
    PublicationRevision.objects.create(
        publication=publication, number=publication.revision, content={}, submitted_by=editor, checks=[]
    )
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.force_login(reviewer)
    second.force_login(reviewer)  # the same person in a second browser: another CSRF secret
    first.get("/approvals/")
    page = second.get("/approvals/").content.decode()
    assert freshness.csrf_marker() not in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = second.post(
        f"/publications/{publication.pk}/approve/",
        {"csrfmiddlewaretoken": token, "revision": publication.revision, "next": "/approvals/"},
    )
    assert response.status_code == 302
    publication.refresh_from_db()
    assert publication.status == "approved"
    # And the queue no longer lists it, for either browser.
    assert publication.title not in first.get("/approvals/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_home_page_lists_a_draft_saved_after_it_was_cached(client, istanbul, editor):
    client.force_login(editor)
    assert "A fresh draft" not in client.get("/").content.decode()
    make_publication(post=istanbul, author=editor, title="A fresh draft", status="draft")
    assert "A fresh draft" in client.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_editor_shows_a_title_changed_after_it_was_cached(client, istanbul, editor):
    publication = make_publication(post=istanbul, author=editor, title="Old title", status="draft")
    client.force_login(editor)
    assert 'value="Old title"' in client.get(f"/publications/{publication.pk}/edit/").content.decode()
    Publication.objects.filter(pk=publication.pk).update(title="New title")
    page = client.get(f"/publications/{publication.pk}/edit/").content.decode()
    assert 'value="New title"' in page and 'value="Old title"' not in page


@pytest.mark.django_db(transaction=True)
def test_a_request_reads_the_versions_once_however_many_fragments_it_shows(client, reviewer):
    from django.test.utils import CaptureQueriesContext

    client.force_login(reviewer)
    client.get("/network/coverage/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/network/coverage/")  # the filter form and the report, both from the cache
    reads = [q for q in queries.captured_queries if '"diplomacy_tableversion"' in q["sql"]]
    assert len(reads) == 1


@pytest.mark.django_db(transaction=True)
def test_a_thread_that_wrote_outside_a_transaction_moves_the_version_on_before_it_ends():
    import threading

    partners = Partner._meta.db_table
    before = version(partners)

    def work():
        Partner.objects.create(code="thread", name="Written by a thread")  # autocommit
        freshness.close_connections()  # as the publishing engine's senders end

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert version(partners) != before


@pytest.mark.django_db(transaction=True)
def test_a_remembered_value_is_kept_until_a_table_it_reads_changes_none_included(istanbul, editor):
    calls = []

    def nothing_yet():
        calls.append(1)
        return None

    def remembered():
        return freshness.remembered("test", reads=(Publication,), shape=editor.pk, compute=nothing_yet)

    assert remembered() is None and remembered() is None
    assert len(calls) == 1  # a remembered None is not taken for a missing copy
    make_publication(post=istanbul, author=editor)
    remembered()
    assert len(calls) == 2


@pytest.mark.django_db(transaction=True)
def test_the_bell_counts_a_notification_made_after_it_was_cached_and_one_read(client, istanbul, editor):
    from django.utils import timezone

    from calendar_app.models import Notification

    client.force_login(editor)
    assert "Notifications (0 unread)" in client.get("/").content.decode()
    notification = Notification.objects.create(recipient=editor, verb="approved")
    assert "Notifications (1 unread)" in client.get("/").content.decode()
    Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())
    assert "Notifications (0 unread)" in client.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_crisis_banner_shows_a_crisis_declared_after_it_was_cached_and_drops_it_once_ended(
    client, istanbul, editor, reviewer
):
    from django.utils import timezone

    from calendar_app.models import Crisis

    client.force_login(editor)
    assert "Earthquake near Istanbul" not in client.get("/").content.decode()
    crisis = Crisis.objects.create(
        title="Earthquake near Istanbul",
        reason="Aftershocks",
        declared_by=reviewer,
        declared_at=timezone.now(),
    )
    crisis.posts.add(istanbul)
    assert "Earthquake near Istanbul" in client.get("/").content.decode()
    Crisis.objects.filter(pk=crisis.pk).update(ended_at=timezone.now())
    assert "Earthquake near Istanbul" not in client.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_crisis_banner_follows_the_posts_a_crisis_takes_in(client, istanbul, editor, reviewer):
    from django.utils import timezone

    from calendar_app.models import Crisis

    elsewhere = make_post(code="be-emb-ankara", name="Embassy of Belgium in Ankara", city="Ankara")
    crisis = Crisis.objects.create(
        title="Floods in Ankara", reason="Rivers", declared_by=reviewer, declared_at=timezone.now()
    )
    crisis.posts.add(elsewhere)
    client.force_login(editor)
    assert "Floods in Ankara" not in client.get("/").content.decode()  # not the editor's post
    crisis.posts.add(istanbul)  # only the link table changes
    assert "Floods in Ankara" in client.get("/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_calendar_offers_a_feed_address_made_after_it_was_cached(client, editor):
    from calendar_app.models import CalendarFeed

    client.force_login(editor)
    assert 'id="feed-url"' not in client.get("/calendar/").content.decode()
    feed = CalendarFeed.objects.create(user=editor, token=CalendarFeed.new_token())
    assert feed.token in client.get("/calendar/").content.decode()
    CalendarFeed.objects.filter(pk=feed.pk).update(token="renewed-token")
    page = client.get("/calendar/").content.decode()
    assert "renewed-token" in page and feed.token not in page
