"""The check that a fragment reads only the tables it declares (tests/fragment_reads.py)."""

import pytest
from django.utils.safestring import SafeString

from diplomacy import freshness
from diplomacy.models import Partner, Post, TableVersion
from tests.fragment_reads import tables_read


def test_the_tables_of_a_select_are_those_after_from_and_join():
    assert tables_read(
        [
            'SELECT "a"."id" FROM "calendar_app_publication" INNER JOIN "diplomacy_post" ON (1 = 1) '
            'LEFT OUTER JOIN "calendar_app_campaign" ON (1 = 1) WHERE "a"."id" IN '
            '(SELECT U0."id" FROM "calendar_app_variant" U0)',
            'SELECT EXTRACT(YEAR FROM ("x"."at" AT TIME ZONE \'UTC\')) FROM diplomacy_channel',
            'SELECT EXTRACT(DOW FROM U0."at"), EXTRACT(DOW FROM "U1"."at") FROM "calendar_app_review" U0',
            'UPDATE "diplomacy_partner" SET "name" = %s',  # a write, not a read
        ]
    ) == {
        "calendar_app_publication",
        "diplomacy_post",
        "calendar_app_campaign",
        "calendar_app_variant",
        "diplomacy_channel",
        "calendar_app_review",
    }


@pytest.mark.django_db
def test_a_fragment_that_reads_a_table_it_does_not_declare_is_reported(fragment_reads, fit):
    def build():
        return SafeString(", ".join(partner.name for partner in Partner.objects.all()))

    freshness.fragment("undeclared", reads=(Post,), shape=1, build=build)
    freshness.remembered("declared", reads=(Partner,), shape=1, compute=lambda: Partner.objects.count())
    assert fragment_reads.undeclared == {"undeclared": {Partner._meta.db_table}}
    assert "fragment 'undeclared' reads diplomacy_partner without declaring it" in fragment_reads.report()
    fragment_reads.undeclared.clear()  # seen: this test passes


@pytest.mark.django_db
def test_reading_the_versions_needs_no_declaration(fragment_reads):
    freshness.remembered("versions", reads=(Post,), shape=1, compute=lambda: TableVersion.objects.count())
    assert fragment_reads.undeclared == {}
