"""Import the network registry (posts or channels) from a CSV file.

One function, `import_network_file`, serves both the upload page and the
`import_network` management command. The kind of file is read from its header:

- posts: `code,kind,name,city,country_iso2,timezone,host_languages`, optionally
  `publishing_languages` and `active`; posts are matched by `code`;
- channels: `post_code,platform,handle`, optionally `url`, `content_languages`,
  `language_plan` (thread, separate, combined, single), `separator` (blank_line, dash,
  dots), `weekly_target` and `active`; channels are matched by (post, platform, handle).
  A new channel without a plan or separator takes central's default for its platform;
  an existing channel keeps its own, even where the file has the column but an empty cell.

Other columns (such as `country` or `source` in the shipped posts.csv) are
ignored. The import is all or nothing: every row is checked first and every
problem is reported with its line number (the header is line 1); only a file
without a single error is written, in one transaction. Rows that match the
database exactly are left alone, so importing the same file twice changes
nothing, not even `updated_at`.

An optional column that is absent from the header is "not given": new rows get
the default and existing rows keep their value, so that re-importing the
shipped posts.csv does not reset a publishing-language policy edited since. A
column that is present is the value; an empty cell there means the default.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _
from django_countries import countries
from django_countries.fields import Country

from diplomacy.forms import policy_problems
from diplomacy.models import (
    CHANNEL_LANGUAGE_CHECKS,
    Channel,
    LanguagePlan,
    Platform,
    Post,
    PostKind,
    Separator,
    default_plan,
    known_timezones,
    normalise_languages,
    split_languages,
)

logger = logging.getLogger(__name__)

#: A bigger file is refused: the whole file is validated in memory and written
#: in one transaction, and the network has about 120 posts.
MAX_ROWS = 5000

POSTS = "posts"
CHANNELS = "channels"

POST_COLUMNS = ("code", "kind", "name", "city", "country_iso2", "timezone", "host_languages")
CHANNEL_COLUMNS = ("post_code", "platform", "handle")

#: Every post publishes in the two national languages and English, plus the
#: host languages, unless the file says otherwise.
DEFAULT_PUBLISHING_LANGUAGES = ("nl", "fr", "en")
DEFAULT_WEEKLY_TARGET = 3
MAX_WEEKLY_TARGET = 100

_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_WHOLE_NUMBER_RE = re.compile(r"[0-9]+")
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})
# Channel addresses are profile pages: only web addresses make sense.
_validate_url = URLValidator(schemes=["http", "https"])


@dataclass
class RowError:
    """One problem in the file; `line` 0 means the file as a whole."""

    line: int
    message: str


@dataclass
class ImportReport:
    """What an import did (or, with `dry_run`, would do).

    `kind` is "posts" or "channels", or "" when the header was not recognised.
    When there are errors, nothing was written and the counts are zero.
    """

    kind: str
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Row:
    line: int
    values: dict[str, str]


@dataclass
class _Plan:
    """The writes an import needs, worked out before anything is written."""

    errors: list[RowError] = field(default_factory=list)
    create: list[models.Model] = field(default_factory=list)
    update: list[tuple[models.Model, list[str]]] = field(default_factory=list)
    unchanged: int = 0


def import_network_file(data: bytes, *, dry_run: bool = False) -> ImportReport:
    """Validate a posts or channels CSV file and, if it has no error, import it.

    Returns a report of errors (with line numbers) or of the rows created,
    updated and unchanged. With `dry_run` the file is checked and counted
    but nothing is written.
    """
    try:
        text = _decode(data)
        header, rows, shape_errors = _read_csv(text)
    except _FileError as exc:
        return ImportReport(kind="", errors=[exc.error], dry_run=dry_run)
    kind, errors = _detect_kind(header)
    if errors:
        return ImportReport(kind=kind, errors=errors, dry_run=dry_run)
    columns = frozenset(header)
    planner = _plan_posts if kind == POSTS else _plan_channels

    if dry_run:
        plan = planner(rows, columns, lock=False)
        plan.errors.extend(shape_errors)
    else:
        try:
            # The rows are read and compared inside the transaction that
            # writes them, so "unchanged" is decided on what is really there.
            with transaction.atomic():
                plan = planner(rows, columns, lock=True)
                plan.errors.extend(shape_errors)
                if not plan.errors:
                    _write(plan)
        except IntegrityError:
            # Someone created the same post or channel between our read and
            # our write (PostgreSQL; SQLite's IMMEDIATE transactions serialise).
            logger.warning("Network import collided with a concurrent change", exc_info=True)
            message = _(
                "The registry changed while the file was being imported; nothing was "
                "imported. Please try again."
            )
            return ImportReport(kind=kind, errors=[RowError(0, message)], dry_run=dry_run)

    if plan.errors:
        plan.errors.sort(key=lambda error: error.line)
        return ImportReport(kind=kind, errors=plan.errors, dry_run=dry_run)
    return ImportReport(
        kind=kind,
        created=len(plan.create),
        updated=len(plan.update),
        unchanged=plan.unchanged,
        dry_run=dry_run,
    )


# Reading the file ----------------------------------------------------------


class _FileError(Exception):
    """A problem with the file as a whole: no row can be read."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.error = RowError(line, message)


def _decode(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise _FileError(
            0,
            _(
                "This looks like a spreadsheet workbook, not a CSV file. Save it as "
                "“CSV UTF-8” and try again."
            ),
        )
    try:
        # utf-8-sig drops the byte-order mark Excel puts in front of "CSV UTF-8".
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = _(
            "The file must be encoded as UTF-8, but line %(line)s is not. Save it as "
            "“CSV UTF-8” and try again; nothing was imported."
        ) % {"line": line}
        raise _FileError(0, message) from exc
    if not text.strip():
        raise _FileError(0, _("The file is empty: the first line must be the header."))
    if "\x00" in text:
        # PostgreSQL refuses NUL in text, and it means a binary or UTF-16 file.
        line = text.count("\n", 0, text.index("\x00")) + 1
        message = _("Line %(line)s contains a NUL character: this is not a UTF-8 text file.") % {"line": line}
        raise _FileError(line, message)
    return text


def _read_csv(text: str) -> tuple[list[str], list[_Row], list[RowError]]:
    """Split the text into a normalised header and the non-empty data rows.

    Rows of the wrong length are returned as errors; problems that stop the
    whole file raise _FileError.
    """
    first_line = text.splitlines()[0]
    # Excel with a Belgian or French locale separates "CSV" fields by ";".
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader)]
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        message = _("These columns appear more than once: %(columns)s.") % {"columns": ", ".join(duplicates)}
        raise _FileError(1, message)
    errors: list[RowError] = []

    rows: list[_Row] = []
    while True:
        # line_num counts physical lines, so a quoted value spanning several
        # lines still gives the line where its row starts.
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            message = _("This line is not valid CSV (%(error)s).") % {"error": exc}
            raise _FileError(line, message) from exc
        fields = [value.strip() for value in fields]
        if not any(fields):
            continue  # blank lines and the ",,,," rows spreadsheets leave behind
        if any(fields[len(header) :]):
            message = _(
                "This line has %(found)s values but the header has %(expected)s columns; "
                "put values that contain a comma between double quotes."
            ) % {"found": len(fields), "expected": len(header)}
            errors.append(RowError(line, message))
            continue
        if len(rows) == MAX_ROWS:
            message = _(
                "The file has more than %(limit)s rows; split it into files of at most %(limit)s rows."
            ) % {"limit": MAX_ROWS}
            raise _FileError(0, message)
        # Missing trailing values count as empty cells.
        values = dict(zip(header, fields + [""] * (len(header) - len(fields)), strict=True))
        rows.append(_Row(line, values))
    return header, rows, errors


def _detect_kind(header: list[str]) -> tuple[str, list[RowError]]:
    columns = set(header)
    if columns.issuperset(POST_COLUMNS):
        return POSTS, []
    if columns.issuperset(CHANNEL_COLUMNS):
        return CHANNELS, []
    required: tuple[str, ...]
    if columns & {"post_code", "platform", "handle"}:
        kind, required = CHANNELS, CHANNEL_COLUMNS
    elif columns & set(POST_COLUMNS):
        kind, required = POSTS, POST_COLUMNS
    else:
        message = _(
            "The header is not that of a posts file (columns %(posts)s) nor of a "
            "channels file (columns %(channels)s)."
        ) % {"posts": ", ".join(POST_COLUMNS), "channels": ", ".join(CHANNEL_COLUMNS)}
        return "", [RowError(1, message)]
    missing = ", ".join(name for name in required if name not in columns)
    if kind == POSTS:
        message = _("The posts file lacks the required column(s): %(columns)s.")
    else:
        message = _("The channels file lacks the required column(s): %(columns)s.")
    return kind, [RowError(1, message % {"columns": missing})]


# Checking rows ---------------------------------------------------------------


class _RowChecker:
    """Collects the errors of one row and remembers which columns were bad."""

    def __init__(self, row: _Row, errors: list[RowError]) -> None:
        self.row = row
        self.errors = errors
        self.bad: set[str] = set()

    def error(self, column: str, message: str) -> None:
        self.bad.add(column)
        self.errors.append(RowError(self.row.line, message))

    def required(self, column: str) -> str:
        value = self.row.values[column]
        if not value:
            self.error(column, _("The column “%(column)s” is empty.") % {"column": column})
        return value

    def choice(self, column: str, allowed: list[str], message: str) -> str:
        value = self.required(column).lower()
        if value and value not in allowed:
            self.error(column, message % {"value": value, "allowed": ", ".join(allowed)})
        return value

    def languages(self, column: str) -> list[str]:
        codes = split_languages(normalise_languages(self.row.values[column]))
        bad = [code for code in codes if not _LANGUAGE_RE.fullmatch(code)]
        if bad:
            message = _(
                "Unknown language code(s) in %(column)s: %(codes)s; give two-letter codes such as nl, fr, en."
            ) % {"column": column, "codes": ", ".join(bad)}
            self.error(column, message)
        return [code for code in codes if code not in bad]

    def boolean(self, column: str) -> bool:
        value = self.row.values[column].lower()
        if not value:
            return True
        if value not in _TRUE | _FALSE:
            message = _("“%(value)s” in %(column)s is not one of true, false, yes, no, 1, 0.") % {
                "value": self.row.values[column],
                "column": column,
            }
            self.error(column, message)
        return value in _TRUE

    def full_clean(self, instance: models.Model, columns: dict[str, str], exclude: set[str]) -> None:
        """Run the model's own validators on the fields not already reported.

        Uniqueness and constraints are left out: duplicates are checked
        against the file and the database by the caller, and Django would
        spend a query per row on each.
        """
        fields = {name for name, column in columns.items() if column in self.bad}
        try:
            instance.full_clean(exclude=fields | exclude, validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                for message in messages:
                    if name == NON_FIELD_ERRORS:
                        self.errors.append(RowError(self.row.line, message))
                    else:
                        text = _("%(column)s: %(message)s") % {
                            "column": columns.get(name, name),
                            "message": message,
                        }
                        self.error(columns.get(name, name), text)

    @property
    def ok(self) -> bool:
        return not self.bad


def _compare(instance: models.Model, wanted: dict[str, Any]) -> list[str]:
    """Set `wanted` on `instance`; return the names of the fields that changed."""
    changed = []
    for name, value in wanted.items():
        current = getattr(instance, name)
        if isinstance(current, Country):
            current = current.code
        if current != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _duplicate_message(first: int, line: int) -> str:
    return _("This row repeats line %(first)s (lines %(first)s and %(line)s).") % {
        "first": first,
        "line": line,
    }


# CSV column of each model field, for messages that name what the user wrote.
_POST_FIELD_COLUMNS = {name: name for name in POST_COLUMNS} | {
    "country": "country_iso2",
    "publishing_languages": "publishing_languages",
    "active": "active",
}
_CHANNEL_FIELD_COLUMNS = {
    "post": "post_code",
    "platform": "platform",
    "handle": "handle",
    "url": "url",
    "content_languages": "content_languages",
    "language_plan": "language_plan",
    "separator": "separator",
    "weekly_target": "weekly_target",
    "active": "active",
}


def _plan_posts(rows: list[_Row], columns: frozenset[str], *, lock: bool) -> _Plan:
    plan = _Plan()
    existing_posts = Post.objects.filter(code__in={row.values["code"] for row in rows})
    if lock:
        existing_posts = existing_posts.select_for_update()
    existing = {post.code: post for post in existing_posts}
    known_countries = {code for code, _name in countries}
    zones = known_timezones()
    kinds = list(PostKind.values)
    first_line: dict[str, int] = {}

    for row in rows:
        check = _RowChecker(row, plan.errors)
        code = check.required("code")
        if code in first_line:
            check.error("code", _duplicate_message(first_line[code], row.line))
        elif code:
            first_line[code] = row.line
        kind = check.choice("kind", kinds, _("Unknown kind “%(value)s”; allowed: %(allowed)s."))
        name = check.required("name")
        city = check.required("city")
        country = check.required("country_iso2").upper()
        if country and country not in known_countries:
            check.error("country_iso2", _("Unknown country code “%(value)s”.") % {"value": country})
        zone = check.required("timezone")
        if zone and zone not in zones:
            message = _("Unknown time zone “%(value)s”; give an IANA name such as Europe/Brussels.") % {
                "value": zone
            }
            check.error("timezone", message)
        host = check.languages("host_languages")
        wanted: dict[str, Any] = {
            "kind": kind,
            "name": name,
            "city": city,
            "country": country,
            "timezone": zone,
            "host_languages": ",".join(host),
        }
        default_publishing = normalise_languages([*DEFAULT_PUBLISHING_LANGUAGES, *host])
        if "publishing_languages" in columns:
            publishing = check.languages("publishing_languages")
            wanted["publishing_languages"] = ",".join(publishing) or default_publishing
        if "active" in columns:
            wanted["active"] = check.boolean("active")

        post = existing.get(code)
        stored_policy: list[str] = []
        if post is None:
            wanted.setdefault("publishing_languages", default_publishing)
            post = Post(code=code, **wanted)
            changed = None
        else:
            stored_policy = post.publishing_language_list
            changed = _compare(post, wanted)
        # The country was checked above against the same list; django-countries'
        # own check walks all 250 choices per row, most of the import's time.
        check.full_clean(post, _POST_FIELD_COLUMNS, exclude={"country"})
        if check.ok and changed and "publishing_languages" in changed:
            # As on the post form: the post's channels must still publish as checked.
            for problem in policy_problems(post, stored_policy):
                message = _(
                    "With this publishing-language policy, a channel of the post would not "
                    "publish as it should: %(problem)s"
                )
                check.error("publishing_languages", message % {"problem": problem})
        _add_to_plan(plan, check, post, changed)
    return plan


def _plan_channels(rows: list[_Row], columns: frozenset[str], *, lock: bool) -> _Plan:
    plan = _Plan()
    posts = {
        post.code: post for post in Post.objects.filter(code__in={row.values["post_code"] for row in rows})
    }
    existing_channels = Channel.objects.filter(post__in=list(posts.values()))
    if lock:
        existing_channels = existing_channels.select_for_update()
    existing = {(channel.post_id, channel.platform, channel.handle): channel for channel in existing_channels}
    platforms = list(Platform.values)
    first_line: dict[tuple[str, str, str], int] = {}
    #: Central's (plan, separator) per platform, read once per platform.
    defaults: dict[str, tuple[str, str]] = {}

    for row in rows:
        check = _RowChecker(row, plan.errors)
        post_code = check.required("post_code")
        post = posts.get(post_code)
        if post_code and post is None:
            message = _("Unknown post code “%(value)s”; import the post first.") % {"value": post_code}
            check.error("post_code", message)
        platform = check.choice(
            "platform", platforms, _("Unknown platform “%(value)s”; allowed: %(allowed)s.")
        )
        handle = check.required("handle")
        key = (post_code, platform, handle)
        if all(key):
            if key in first_line:
                check.error("handle", _duplicate_message(first_line[key], row.line))
            else:
                first_line[key] = row.line

        wanted: dict[str, Any] = {}
        if "url" in columns:
            url = row.values["url"]
            if url:
                try:
                    _validate_url(url)
                except ValidationError:
                    message = _("Invalid URL “%(value)s”; give a full address starting with https://.") % {
                        "value": url
                    }
                    check.error("url", message)
            wanted["url"] = url
        if "content_languages" in columns:
            wanted["content_languages"] = ",".join(check.languages("content_languages"))
        if "weekly_target" in columns:
            wanted["weekly_target"] = _weekly_target(check)
        if "active" in columns:
            wanted["active"] = check.boolean("active")

        channel = existing.get((post.pk, platform, handle)) if post else None
        if channel is not None:
            wanted.update(
                _language_plan(check, columns, (channel.language_plan, channel.separator), new=False)
            )
        elif platform and "platform" not in check.bad:
            # An unknown platform has no plan to check: the row is refused already.
            if platform not in defaults:
                defaults[platform] = default_plan(platform)
            wanted.update(_language_plan(check, columns, defaults[platform], new=True))
        if channel is None:
            channel = Channel(platform=platform, handle=handle, **wanted)
            if post is not None:
                channel.post = post
            changed = None
        else:
            assert post is not None  # a channel is found through its post
            channel.post = post  # the post Channel.clean() reads, without a query per row
            changed = _compare(channel, wanted)
        # The post was looked up above; Django's check of the foreign key
        # would cost one query per row.
        check.full_clean(channel, _CHANNEL_FIELD_COLUMNS, exclude={"post"})
        if check.ok and changed and _LANGUAGE_SETTINGS & set(changed):
            # As on the channel form: planned publications must still go out as checked.
            for problem in (problem for run in CHANNEL_LANGUAGE_CHECKS for problem in run(channel)):
                message = _(
                    "A publication planned on this channel would not go out as it was checked: %(problem)s"
                )
                check.error("content_languages", message % {"problem": problem})
        _add_to_plan(plan, check, channel, changed)
    return plan


#: A channel's settings that change what it sends (see CHANNEL_LANGUAGE_CHECKS).
_LANGUAGE_SETTINGS = {"content_languages", "language_plan", "separator"}


def _language_plan(
    check: _RowChecker, columns: frozenset[str], fallback: tuple[str, str], *, new: bool
) -> dict[str, str]:
    """The row's language plan and separator: the cell's value. An empty cell keeps what
    `fallback` gives: an existing channel's own plan and separator (re-importing an export
    with blank cells changes nothing), or for a new channel central's default for the
    platform. A new channel in a file without the column takes the default too; an
    existing one keeps its own."""
    wanted: dict[str, str] = {}
    for column, allowed, kept in (
        ("language_plan", LanguagePlan.values, fallback[0]),
        ("separator", Separator.values, fallback[1]),
    ):
        if column not in columns:
            if new:
                wanted[column] = kept
            continue
        value = check.row.values[column].lower()
        if value and value not in allowed:
            message = _("Unknown %(column)s “%(value)s”; allowed: %(allowed)s.") % {
                "column": column,
                "value": check.row.values[column],
                "allowed": ", ".join(allowed),
            }
            check.error(column, message)
            value = ""
        wanted[column] = value or kept
    return wanted


def _weekly_target(check: _RowChecker) -> int:
    value = check.row.values["weekly_target"]
    if not value:
        return DEFAULT_WEEKLY_TARGET
    # The model's check constraint caps the target at 100; say so per row
    # rather than fail the whole transaction.
    if not _WHOLE_NUMBER_RE.fullmatch(value) or int(value) > MAX_WEEKLY_TARGET:
        message = _("The weekly target must be a whole number from 0 to %(max)s, not “%(value)s”.") % {
            "max": MAX_WEEKLY_TARGET,
            "value": value,
        }
        check.error("weekly_target", message)
        return DEFAULT_WEEKLY_TARGET
    return int(value)


def _add_to_plan(plan: _Plan, check: _RowChecker, instance: models.Model, changed: list[str] | None) -> None:
    """File a checked row as a creation, an update or unchanged."""
    if not check.ok:
        return
    if changed is None:
        plan.create.append(instance)
    elif changed:
        plan.update.append((instance, changed))
    else:
        plan.unchanged += 1


def _write(plan: _Plan) -> None:
    for instance in plan.create:
        instance.save(force_insert=True)
    for instance, changed in plan.update:
        # Only the columns the file changed: an edit made meanwhile to another
        # field through the registry pages is not overwritten.
        instance.save(update_fields=[*changed, "updated_at"])
