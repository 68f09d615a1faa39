"""Print, as JSON, what each channel of a publication will send (or sent): its parts, their
text, languages, length as the platform counts it, limit and images. From the same
function the engine, the connectors and the previews use (calendar_app.sending), for
support staff and scripts."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from calendar_app.models import Publication
from calendar_app.publishing import parts


class Command(BaseCommand):
    help = "Print as JSON what each channel of publication ID will send (its parts, per channel)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("publication_id", metavar="ID", type=int, help="The publication's id.")

    def handle(self, *args: Any, **options: Any) -> None:
        publication = Publication.objects.filter(pk=options["publication_id"]).first()
        if publication is None:
            raise CommandError(f"There is no publication with id {options['publication_id']}.")
        self.stdout.write(json.dumps(parts.describe(publication), indent=2, ensure_ascii=False))
