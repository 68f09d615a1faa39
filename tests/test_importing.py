"""The CSV import of the network registry: posts and channels files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from diplomacy.importing import MAX_ROWS, ImportReport, import_network_file
from diplomacy.models import Channel, Post

POSTS_HEADER = "code,kind,name,city,country_iso2,timezone,host_languages"
CHANNELS_HEADER = "post_code,platform,handle,url,content_languages,weekly_target,active"

ANKARA = "be-emb-ankara,embassy,Embassy of Belgium in Ankara,Ankara,TR,Europe/Istanbul,tr"
ISTANBUL = (
    "be-cg-istanbul,consulate_general,Consulate-General of Belgium in Istanbul,Istanbul,TR,Europe/Istanbul,tr"
)
BERN = "be-emb-bern,embassy,Embassy of Belgium in Bern,Bern,CH,Europe/Zurich,de;fr;it"


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def make_post(code: str = "be-emb-ankara", **fields: object) -> Post:
    defaults: dict[str, object] = {
        "kind": "embassy",
        "name": f"Post {code}",
        "city": "Ankara",
        "country": "TR",
        "timezone": "Europe/Istanbul",
        "host_languages": "tr",
        "publishing_languages": "nl,fr,en,tr",
    }
    return Post.objects.create(code=code, **(defaults | fields))


def counts() -> tuple[int, int]:
    return Post.objects.count(), Channel.objects.count()


def error_lines(report: ImportReport) -> list[int]:
    return [error.line for error in report.errors]


def messages(report: ImportReport) -> str:
    return "\n".join(error.message for error in report.errors)


# Posts -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_posts_file_creates_posts_with_default_publishing_languages() -> None:
    report = import_network_file(csv_bytes(POSTS_HEADER, ANKARA, BERN))

    assert report.ok, report.errors
    assert (report.kind, report.created, report.updated, report.unchanged) == ("posts", 2, 0, 0)
    bern = Post.objects.get(code="be-emb-bern")
    assert bern.kind == "embassy"
    assert bern.country.code == "CH"
    assert bern.timezone == "Europe/Zurich"
    assert bern.host_languages == "de,fr,it"
    assert bern.publishing_languages == "nl,fr,en,de,it"
    assert bern.active is True


@pytest.mark.django_db
def test_the_shipped_posts_file_imports_cleanly_and_twice_changes_nothing() -> None:
    data = (Path(settings.BASE_DIR) / "diplomacy/data/posts.csv").read_bytes()
    rows = len([line for line in data.decode("utf-8-sig").splitlines()[1:] if line.strip()])

    first = import_network_file(data)
    second = import_network_file(data)

    assert first.ok, first.errors
    assert (first.kind, first.created) == ("posts", rows)
    assert Post.objects.count() == rows
    assert Post.objects.filter(country="XK").exists()  # Kosovo, a user-assigned code
    assert (second.created, second.updated, second.unchanged) == (0, 0, rows)


@pytest.mark.django_db
def test_optional_post_columns_are_read_and_case_is_forgiven() -> None:
    data = csv_bytes(
        POSTS_HEADER + ",publishing_languages,active,country,source",
        "be-emb-ankara,Embassy,Ankara embassy,Ankara,tr,Europe/Istanbul,TR,"
        '"fr, nl, en, nl",no,Türkiye,somewhere',
    )

    report = import_network_file(data)

    assert report.ok, report.errors
    post = Post.objects.get()
    assert (post.kind, post.country.code, post.host_languages) == ("embassy", "TR", "tr")
    assert post.publishing_languages == "fr,nl,en"
    assert post.active is False


@pytest.mark.django_db
def test_reimporting_the_same_posts_file_saves_nothing() -> None:
    data = csv_bytes(POSTS_HEADER, ANKARA, ISTANBUL)
    import_network_file(data)
    stamps = dict(Post.objects.values_list("code", "updated_at"))

    report = import_network_file(data)

    assert report.ok
    assert (report.created, report.updated, report.unchanged) == (0, 0, 2)
    assert dict(Post.objects.values_list("code", "updated_at")) == stamps


@pytest.mark.django_db
def test_a_changed_row_updates_its_post_and_keeps_values_the_file_does_not_give() -> None:
    make_post("be-emb-ankara", name="Old name", publishing_languages="nl,fr,tr", active=False)
    make_post("be-cg-istanbul", kind="consulate_general", name=ISTANBUL.split(",")[2], city="Istanbul")

    report = import_network_file(csv_bytes(POSTS_HEADER, ANKARA, ISTANBUL, BERN))

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (1, 1, 1)
    ankara = Post.objects.get(code="be-emb-ankara")
    assert ankara.name == "Embassy of Belgium in Ankara"
    # No publishing_languages or active column: an edited policy survives.
    assert ankara.publishing_languages == "nl,fr,tr"
    assert ankara.active is False


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("be-x,castle,X,Ankara,TR,Europe/Istanbul,tr", "Unknown kind “castle”"),
        ("be-x,castle,X,Ankara,TR,Europe/Istanbul,tr", "consulate_general"),
        ("be-x,embassy,X,Ankara,ZZ,Europe/Istanbul,tr", "Unknown country code “ZZ”."),
        ("be-x,embassy,X,Ankara,TR,Europe/Ankara,tr", "Unknown time zone “Europe/Ankara”"),
        ("be-x,embassy,X,Ankara,TR,Europe/Istanbul,tur", "tur"),
        ("be-x,embassy,X,,TR,Europe/Istanbul,tr", "“city” is empty"),
        ("be x,embassy,X,Ankara,TR,Europe/Istanbul,tr", "code:"),
        ("be-x,embassy," + "X" * 201 + ",Ankara,TR,Europe/Istanbul,tr", "name:"),
    ],
)
def test_a_bad_post_row_is_reported_on_its_line_and_nothing_is_saved(row: str, expected: str) -> None:
    make_post("be-emb-bern", name="Old name")
    before = counts()

    report = import_network_file(csv_bytes(POSTS_HEADER, ANKARA, row, ISTANBUL, BERN))

    assert not report.ok
    assert error_lines(report) == [3]
    assert expected in messages(report)
    assert counts() == before
    assert Post.objects.get(code="be-emb-bern").name == "Old name"
    assert (report.created, report.updated, report.unchanged) == (0, 0, 0)


@pytest.mark.django_db
def test_a_bad_active_value_is_reported() -> None:
    report = import_network_file(csv_bytes(POSTS_HEADER + ",active", ANKARA + ",maybe"))

    assert error_lines(report) == [2]
    assert "“maybe”" in messages(report)
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_kosovo_is_a_known_country() -> None:
    row = "be-do-pristina,office,Belgian Office in Pristina,Pristina,XK,Europe/Belgrade,sq;sr"

    report = import_network_file(csv_bytes(POSTS_HEADER, row))

    assert report.ok, report.errors
    assert Post.objects.get().country.code == "XK"


@pytest.mark.django_db
def test_a_code_twice_in_the_file_names_both_lines() -> None:
    report = import_network_file(csv_bytes(POSTS_HEADER, ANKARA, BERN, ANKARA))

    assert error_lines(report) == [4]
    assert "lines 2 and 4" in messages(report)
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_every_bad_row_is_reported_at_once() -> None:
    report = import_network_file(
        csv_bytes(
            POSTS_HEADER,
            ANKARA.replace(",TR,", ",ZZ,"),
            ISTANBUL,
            BERN.replace("Europe/Zurich", "Europe/Bern").replace(",embassy,", ",palace,"),
        )
    )

    assert error_lines(report) == [2, 4, 4]
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_line_numbers_count_lines_inside_quoted_values() -> None:
    report = import_network_file(
        csv_bytes(
            POSTS_HEADER,
            'be-emb-ankara,embassy,"Embassy of Belgium\nin Ankara",Ankara,TR,Europe/Istanbul,tr',
            "be-emb-bern,embassy,Bern,Bern,ZZ,Europe/Zurich,de",
        )
    )

    assert error_lines(report) == [4]


@pytest.mark.django_db
def test_an_unquoted_comma_is_reported_on_its_line() -> None:
    row = "be-emb-washington,embassy,Embassy in Washington, D.C.,Washington,US,America/New_York,en"

    report = import_network_file(csv_bytes(POSTS_HEADER, ANKARA, row))

    assert error_lines(report) == [3]
    assert "double quotes" in messages(report)
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_blank_lines_are_skipped_but_still_counted() -> None:
    report = import_network_file(csv_bytes(POSTS_HEADER, "", ",,,,,,", ANKARA.replace("TR", "ZZ")))

    assert error_lines(report) == [4]


@pytest.mark.django_db
def test_a_semicolon_separated_file_from_excel_imports() -> None:
    data = csv_bytes(POSTS_HEADER.replace(",", ";"), ANKARA.replace(",", ";"))

    report = import_network_file(data)

    assert report.ok, report.errors
    assert Post.objects.get().code == "be-emb-ankara"


# The file as a whole ---------------------------------------------------------


@pytest.mark.django_db
def test_a_file_that_is_not_utf8_is_refused() -> None:
    data = (POSTS_HEADER + "\n" + ANKARA.replace("Ankara,TR", "Liège,TR") + "\n").encode("latin-1")

    report = import_network_file(data)

    assert len(report.errors) == 1
    assert report.errors[0].line in (0, 1)
    assert "UTF-8" in report.errors[0].message
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_a_utf8_byte_order_mark_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + csv_bytes(POSTS_HEADER, ANKARA.replace("Ankara,TR", "Liège,TR"))

    report = import_network_file(data)

    assert report.ok, report.errors
    assert Post.objects.get().city == "Liège"


@pytest.mark.django_db
def test_an_empty_file_is_refused() -> None:
    report = import_network_file(b"  \n")

    assert len(report.errors) == 1
    assert "empty" in report.errors[0].message


@pytest.mark.django_db
def test_a_spreadsheet_workbook_is_refused() -> None:
    report = import_network_file(b"PK\x03\x04\x14\x00\x06\x00binary")

    assert "CSV" in messages(report)


@pytest.mark.django_db
def test_a_missing_posts_column_is_named() -> None:
    header = "code,kind,name,city,country_iso2,host_languages"

    report = import_network_file(csv_bytes(header, "be-emb-ankara,embassy,A,Ankara,TR,tr"))

    assert report.kind == "posts"
    assert error_lines(report) == [1]
    assert "timezone" in messages(report)
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_a_missing_channels_column_is_named() -> None:
    report = import_network_file(csv_bytes("post_code,platform", "be-emb-ankara,x"))

    assert report.kind == "channels"
    assert error_lines(report) == [1]
    assert "handle" in messages(report)


@pytest.mark.django_db
def test_an_unknown_header_names_both_kinds_of_file() -> None:
    report = import_network_file(csv_bytes("foo,bar", "1,2"))

    assert report.kind == ""
    assert error_lines(report) == [1]
    assert "post_code" in messages(report) and "timezone" in messages(report)


@pytest.mark.django_db
def test_a_column_named_twice_is_refused() -> None:
    report = import_network_file(csv_bytes(POSTS_HEADER + ",name", ANKARA + ",Other"))

    assert error_lines(report) == [1]
    assert "name" in messages(report)


@pytest.mark.django_db
def test_more_rows_than_the_limit_are_refused() -> None:
    rows = [f"be-{n},embassy,P{n},City,TR,Europe/Istanbul,tr" for n in range(MAX_ROWS + 1)]

    report = import_network_file(csv_bytes(POSTS_HEADER, *rows))

    assert len(report.errors) == 1
    assert str(MAX_ROWS) in report.errors[0].message
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_a_dry_run_counts_but_writes_nothing() -> None:
    make_post("be-emb-ankara", name="Old name")

    report = import_network_file(csv_bytes(POSTS_HEADER, ANKARA, BERN), dry_run=True)

    assert report.ok and report.dry_run
    assert (report.created, report.updated, report.unchanged) == (1, 1, 0)
    assert counts() == (1, 0)
    assert Post.objects.get().name == "Old name"


# Channels --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_channels_file_creates_and_then_leaves_channels_alone() -> None:
    make_post("be-emb-ankara")
    data = csv_bytes(
        CHANNELS_HEADER,
        "be-emb-ankara,X,@BelgiumInTurkey,https://x.com/BelgiumInTurkey,tr;en,5,yes",
        "be-emb-ankara,facebook,BelgiumInTurkey,,,,",
    )

    first = import_network_file(data)
    stamps = dict(Channel.objects.values_list("pk", "updated_at"))
    second = import_network_file(data)

    assert first.ok, first.errors
    assert (first.kind, first.created) == ("channels", 2)
    x = Channel.objects.get(platform="x")
    assert (x.handle, x.url, x.content_languages, x.weekly_target, x.active) == (
        "@BelgiumInTurkey",
        "https://x.com/BelgiumInTurkey",
        "tr,en",
        5,
        True,
    )
    facebook = Channel.objects.get(platform="facebook")
    assert (facebook.url, facebook.weekly_target) == ("", 3)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2)
    assert dict(Channel.objects.values_list("pk", "updated_at")) == stamps


@pytest.mark.django_db
def test_a_changed_channel_row_updates_that_channel() -> None:
    post = make_post("be-emb-ankara")
    channel = Channel.objects.create(post=post, platform="x", handle="@BE", weekly_target=3)

    report = import_network_file(
        csv_bytes("post_code,platform,handle,weekly_target", "be-emb-ankara,x,@BE,7")
    )

    assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
    channel.refresh_from_db()
    assert channel.weekly_target == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("be-emb-nowhere,x,@BE,,,,", "Unknown post code “be-emb-nowhere”"),
        ("be-emb-ankara,myspace,@BE,,,,", "Unknown platform “myspace”"),
        ("be-emb-ankara,myspace,@BE,,,,", "facebook"),
        ("be-emb-ankara,x,,,,,", "“handle” is empty"),
        ("be-emb-ankara,x,@BE,,,101,", "101"),
        ("be-emb-ankara,x,@BE,,,-1,", "whole number"),
        ("be-emb-ankara,x,@BE,,,2.5,", "whole number"),
        ("be-emb-ankara,x,@BE,not a url,,,", "Invalid URL “not a url”"),
        ("be-emb-ankara,x,@BE,javascript:alert(1),,,", "Invalid URL"),
        ("be-emb-ankara,x,@BE,,turkish,,", "turkish"),
        ("be-emb-ankara,x,@BE,,,,sometimes", "sometimes"),
    ],
)
def test_a_bad_channel_row_is_reported_on_its_line_and_nothing_is_saved(row: str, expected: str) -> None:
    make_post("be-emb-ankara")
    before = counts()

    report = import_network_file(
        csv_bytes(CHANNELS_HEADER, "be-emb-ankara,facebook,BelgiumInTurkey,,,,", row)
    )

    assert not report.ok
    assert error_lines(report) == [3]
    assert expected in messages(report)
    assert counts() == before


@pytest.mark.django_db
def test_a_weekly_target_of_zero_and_of_one_hundred_are_accepted() -> None:
    make_post("be-emb-ankara")

    report = import_network_file(
        csv_bytes("post_code,platform,handle,weekly_target", "be-emb-ankara,x,@a,0", "be-emb-ankara,x,@b,100")
    )

    assert report.ok, report.errors
    assert sorted(Channel.objects.values_list("weekly_target", flat=True)) == [0, 100]


@pytest.mark.django_db
def test_a_channel_twice_in_the_file_names_both_lines() -> None:
    make_post("be-emb-ankara")

    report = import_network_file(
        csv_bytes(
            "post_code,platform,handle",
            "be-emb-ankara,x,@BE",
            "be-emb-ankara,bluesky,@BE",
            "be-emb-ankara,x,@BE",
        )
    )

    assert error_lines(report) == [4]
    assert "lines 2 and 4" in messages(report)
    assert counts() == (1, 0)


@pytest.mark.django_db
def test_new_channels_without_plan_columns_take_centrals_default_for_their_platform() -> None:
    from diplomacy.models import PlatformDefault

    make_post("be-emb-ankara")
    PlatformDefault.objects.create(platform="mastodon", language_plan="separate", separator="dots")

    report = import_network_file(
        csv_bytes(
            "post_code,platform,handle",
            "be-emb-ankara,x,@BE",
            "be-emb-ankara,facebook,BE",
            "be-emb-ankara,mastodon,@be@diplo.social",
        )
    )

    assert report.ok, report.errors
    assert dict(Channel.objects.values_list("platform", "language_plan")) == {
        "x": "thread",
        "facebook": "combined",
        "mastodon": "separate",
    }
    assert Channel.objects.get(platform="mastodon").separator == "dots"


@pytest.mark.django_db
def test_plan_columns_set_the_plan_an_empty_cell_meaning_the_default() -> None:
    make_post("be-emb-ankara")

    report = import_network_file(
        csv_bytes(
            "post_code,platform,handle,content_languages,language_plan,separator",
            "be-emb-ankara,x,@BelgiqueTurquie,fr,Single,",
            "be-emb-ankara,facebook,BE,,combined,dash",
            "be-emb-ankara,bluesky,@be.bsky.social,,,",
        )
    )

    assert report.ok, report.errors
    assert set(Channel.objects.values_list("platform", "language_plan", "separator")) == {
        ("x", "single", "blank_line"),
        ("facebook", "combined", "dash"),
        ("bluesky", "thread", "blank_line"),
    }


@pytest.mark.django_db
def test_an_existing_channel_keeps_its_plan_when_the_file_has_no_plan_column() -> None:
    post = make_post("be-emb-ankara")
    Channel.objects.create(post=post, platform="x", handle="@BE", language_plan="separate")

    report = import_network_file(
        csv_bytes("post_code,platform,handle,weekly_target", "be-emb-ankara,x,@BE,3")
    )
    changed = import_network_file(
        csv_bytes("post_code,platform,handle,language_plan", "be-emb-ankara,x,@BE,thread")
    )

    assert report.unchanged == 1
    assert changed.updated == 1
    assert Channel.objects.get().language_plan == "thread"


@pytest.mark.django_db
def test_an_existing_channel_keeps_its_plan_and_separator_where_the_cells_are_empty() -> None:
    from diplomacy.models import PlatformDefault

    post = make_post("be-emb-ankara")
    Channel.objects.create(post=post, platform="x", handle="@BE", language_plan="separate", separator="dots")
    PlatformDefault.objects.create(platform="x", language_plan="combined", separator="dash")

    report = import_network_file(
        csv_bytes(
            "post_code,platform,handle,language_plan,separator",
            "be-emb-ankara,x,@BE,,",
            "be-emb-ankara,x,@BE2,,",
        )
    )

    assert report.ok, report.errors
    assert (report.created, report.unchanged) == (1, 1)
    assert dict(Channel.objects.values_list("handle", "language_plan")) == {
        "@BE": "separate",
        "@BE2": "combined",
    }
    assert dict(Channel.objects.values_list("handle", "separator")) == {"@BE": "dots", "@BE2": "dash"}


@pytest.mark.django_db
def test_an_empty_plan_cell_beside_a_new_separator_changes_only_the_separator() -> None:
    post = make_post("be-emb-ankara")
    Channel.objects.create(post=post, platform="x", handle="@BE", language_plan="separate", separator="dots")

    report = import_network_file(
        csv_bytes("post_code,platform,handle,language_plan,separator", "be-emb-ankara,x,@BE,,dash")
    )

    assert report.updated == 1
    assert Channel.objects.values_list("language_plan", "separator").get() == ("separate", "dash")


@pytest.mark.django_db
def test_reading_existing_channels_costs_no_query_per_row(django_assert_num_queries) -> None:
    post = make_post("be-emb-ankara")
    for n in range(5):
        Channel.objects.create(post=post, platform="x", handle=f"@BE{n}", language_plan="thread")
    rows = [f"be-emb-ankara,x,@BE{n},thread" for n in range(5)]

    # Posts and channels; existing channels need no central default; no query per row.
    with django_assert_num_queries(2):
        report = import_network_file(
            csv_bytes("post_code,platform,handle,language_plan", *rows), dry_run=True
        )

    assert report.unchanged == 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row", "column", "expected"),
    [
        ("be-emb-ankara,facebook,@BE,,thread,", "language_plan", "Facebook has no threads"),
        ("be-emb-ankara,linkedin,@BE,,thread,", "language_plan", "LinkedIn has no threads"),
        ("be-emb-ankara,x,@BE,,haiku,", "language_plan", "Unknown language_plan “haiku”"),
        ("be-emb-ankara,x,@BE,,combined,stars", "separator", "Unknown separator “stars”"),
        ("be-emb-ankara,x,@BE,,single,", "content_languages", "names exactly one language"),
        ("be-emb-ankara,x,@BE,fr;nl,single,", "content_languages", "names exactly one language"),
        ("be-emb-ankara,x,@BE,de,single,", "content_languages", "publishes nothing in de"),
        ("be-emb-ankara,myspace,@BE,,thread,", "platform", "Unknown platform “myspace”"),
    ],
)
def test_a_bad_plan_is_reported_on_its_line_and_nothing_is_saved(
    row: str, column: str, expected: str
) -> None:
    make_post("be-emb-ankara")

    report = import_network_file(
        csv_bytes(
            "post_code,platform,handle,content_languages,language_plan,separator",
            "be-emb-ankara,x,@fine,,thread,",
            row,
        )
    )

    assert not report.ok
    assert error_lines(report) == [3]
    assert expected in messages(report)
    assert column in messages(report) or column == "platform"
    assert counts() == (1, 0)


@pytest.mark.django_db
def test_a_channel_of_a_post_without_any_language_is_refused() -> None:
    make_post("be-emb-silent", publishing_languages="")

    report = import_network_file(csv_bytes("post_code,platform,handle", "be-emb-silent,x,@BE"))

    assert error_lines(report) == [2]
    assert "publishes no language" in messages(report)
    assert counts() == (1, 0)


# The management command ------------------------------------------------------


@pytest.mark.django_db
def test_the_command_imports_a_file_and_prints_the_counts(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes(csv_bytes(POSTS_HEADER, ANKARA, BERN))
    out = io.StringIO()

    call_command("import_network", str(path), stdout=out)

    assert "posts: 2 created, 0 updated, 0 unchanged" in out.getvalue()
    assert counts() == (2, 0)


@pytest.mark.django_db
def test_the_command_dry_run_says_so_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes(csv_bytes(POSTS_HEADER, ANKARA))
    out = io.StringIO()

    call_command("import_network", str(path), "--dry-run", stdout=out)

    assert "posts: 1 created" in out.getvalue()
    assert "dry run" in out.getvalue()
    assert counts() == (0, 0)


@pytest.mark.django_db
def test_the_command_prints_each_error_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_bytes(csv_bytes(POSTS_HEADER, ANKARA, ISTANBUL.replace("TR", "ZZ"), BERN))
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 error"):
        call_command("import_network", str(path), stdout=out, stderr=err)

    assert "line 3: Unknown country code “ZZ”." in err.getvalue()
    assert out.getvalue() == ""
    assert counts() == (0, 0)


def test_the_command_fails_on_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_network", str(tmp_path / "nope.csv"))
