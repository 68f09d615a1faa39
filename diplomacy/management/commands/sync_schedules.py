"""Declare the periodic django-q2 jobs, idempotently.

Each of the project's apps lists its jobs in `<app>.tasks.SCHEDULES`. django-q2's
`schedule()` refuses duplicate names but the database does not, so the rows are
written with update_or_create by name: running the command twice leaves one row
per job. Post-local times are never
django-q2 recurrences (they drift across DST): only housekeeping lives here.
"""

from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.models import Schedule


def declared_schedules() -> list[dict[str, Any]]:
    schedules: list[dict[str, Any]] = []
    for config in apps.get_app_configs():
        if not str(config.path).startswith(str(settings.BASE_DIR)):
            continue  # only the project's own apps
        try:
            module = import_module(f"{config.name}.tasks")
        except ModuleNotFoundError:
            continue
        schedules.extend(getattr(module, "SCHEDULES", []))
    return schedules


class Command(BaseCommand):
    help = "Create or update the periodic background jobs."

    def handle(self, *args: Any, **options: Any) -> None:
        declared = declared_schedules()
        for spec in declared:
            values = {k: v for k, v in spec.items() if k != "name"}
            _, created = Schedule.objects.update_or_create(name=spec["name"], defaults=values)
            self.stdout.write(f"{'created' if created else 'updated'}: {spec['name']}")
