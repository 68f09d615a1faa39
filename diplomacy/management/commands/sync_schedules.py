"""Declare the periodic django-q2 jobs, idempotently.

django-q2's `schedule()` refuses duplicate names but the database does not,
so schedules are kept here and written with update_or_create by name; running
the command twice leaves one row per job. Post-local times are never django-q2
recurrences (they drift across DST): only network-wide housekeeping lives here.
"""

from django.core.management.base import BaseCommand
from django_q.models import Schedule

SCHEDULES = [
    {
        "name": "clear-expired-sessions",
        "func": "diplomacy.tasks.clear_expired_sessions",
        "schedule_type": Schedule.DAILY,
    },
]


class Command(BaseCommand):
    help = "Create or update the periodic background jobs."

    def handle(self, *args, **options) -> None:
        for spec in SCHEDULES:
            values = {k: v for k, v in spec.items() if k != "name"}
            _, created = Schedule.objects.update_or_create(name=spec["name"], defaults=values)
            self.stdout.write(f"{'created' if created else 'updated'}: {spec['name']}")
