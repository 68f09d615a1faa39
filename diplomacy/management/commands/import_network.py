"""`manage.py import_network FILE [--dry-run]`: import posts or channels from CSV."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from diplomacy.importing import import_network_file


class Command(BaseCommand):
    help = (
        "Import a CSV file of posts or of channels (the kind is read from the header). "
        "Nothing is written if any row is wrong."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="The CSV file, encoded as UTF-8.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and count the changes without writing anything.",
        )

    def handle(self, *args: Any, file: Path, dry_run: bool, **options: Any) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc.strerror}
            ) from exc

        report = import_network_file(data, dry_run=dry_run)
        if not report.ok:
            for error in report.errors:
                self.stderr.write(
                    _("line %(line)s: %(message)s") % {"line": error.line, "message": error.message}
                )
            raise CommandError(
                ngettext(
                    "%(count)s error; nothing was imported.",
                    "%(count)s errors; nothing was imported.",
                    len(report.errors),
                )
                % {"count": len(report.errors)}
            )

        summary = _("%(kind)s: %(created)s created, %(updated)s updated, %(unchanged)s unchanged") % {
            "kind": report.kind,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
        }
        if dry_run:
            summary = _("%(summary)s (dry run: nothing written)") % {"summary": summary}
        self.stdout.write(self.style.SUCCESS(summary))
