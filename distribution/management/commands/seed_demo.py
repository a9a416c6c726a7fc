"""Demo data for a newcomer: a staff user and a demo distributor, printed credentials.

Idempotent: run it any number of times. Every installed app whose AppConfig is a
`DemoSeeding` config seeds its own demo rows, in INSTALLED_APPS order (which is the order of
the layers: the core first, then catalog, stores, mapping, orders ...). The command
names no app, so the core imports none of the apps above it.

The sandbox (the outside world) seeds its demo shops with its own command,
`manage.py sandbox_seed`, which `make run` runs first.
"""

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from distribution.apps import DemoSeeding


class Command(BaseCommand):
    help = "Create or refresh the demo data (staff user, demo distributor, and each app's demo rows)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with DEBUG off (the demo passwords are public: never on a real deployment).",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError("seed_demo creates users with public passwords; refusing with DEBUG off.")
        for config in apps.get_app_configs():
            if isinstance(config, DemoSeeding):
                with transaction.atomic():
                    config.seed_demo(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
