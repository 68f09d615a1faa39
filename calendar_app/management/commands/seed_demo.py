"""Load the demo: the Belgian network, partners, demo users, campaigns and publications.

Running it again updates the network and the users and adds no publication
twice (publications are only generated into an empty calendar).
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from calendar_app import demo as calendar_demo
from calendar_app.models import Publication
from diplomacy import demo as network_demo
from diplomacy.models import Channel, Partner, Post, Role


class Command(BaseCommand):
    help = "Load the Belgian demo network, partners, demo users, campaigns and publications."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", default=network_demo.DEFAULT_PASSWORD, help="Password of every demo user."
        )
        parser.add_argument(
            "--publications", type=int, default=1500, help="How many publications to create (default 1500)."
        )
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if posts exist.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo creates users with a known password; it refuses to run with "
                "DEBUG off. Add --force if this really is a demo machine."
            )
        if options["publications"] < 0:
            raise CommandError("--publications must be zero or more.")
        if options["if_empty"] and Post.objects.exists():
            self.stdout.write("The database already holds a network; nothing loaded.")
            self.print_logins(options["password"])
            return
        with transaction.atomic():
            network_demo.load_partners()
            network_demo.load_posts()
            network_demo.create_channels()
            network_demo.create_users(options["password"])
        self.stdout.write(
            f"Network: {Post.objects.count()} posts, {Channel.objects.count()} channels, "
            f"{Partner.objects.count()} partners."
        )
        if Publication.objects.exists():
            self.stdout.write("The calendar already holds publications; none added.")
        else:
            self.stdout.write(f"Creating {options['publications']} publications…")
            created = calendar_demo.create_publications(options["publications"])
            self.stdout.write(f"Calendar: {created} publications.")
            proposals = calendar_demo.create_proposals()
            self.stdout.write(f"Proposals: {proposals} from the regional partners.")
            crisis = calendar_demo.create_past_crisis()
            self.stdout.write(f"Crises that ended: {crisis} publications (advisories, held, missed).")
            deliveries = calendar_demo.create_deliveries()
            self.stdout.write(f"Deliveries: {deliveries}.")
        calendar_demo.create_priority_countries()
        calendar_demo.create_crisis_templates()
        self.stdout.write(self.style.SUCCESS("Demo loaded."))
        self.print_logins(options["password"])

    def print_logins(self, password: str) -> None:
        self.stdout.write(f"Demo users (password: {password}):")
        for email, _name, role, scope in network_demo.DEMO_USERS:
            self.stdout.write(f"  {email:32} {Role(role).label} ({scope or 'network'})")
        self.stdout.write(f"  {network_demo.ADMIN_EMAIL:32} administrator (/admin/)")
