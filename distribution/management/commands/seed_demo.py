"""Demo data for a newcomer: a staff user and a demo distributor, printed credentials.

Idempotent: run it any number of times. Each app that has demo data offers
`<app>.demo.seed(stdout)`; they run in dependency order after the core's.
"""

from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

# The sandbox (the outside world's demo shops, only with SANDBOX_ENABLED) comes before the
# stores that connect to its shops.
DEMO_APPS = ["distribution", "catalog", "sandbox", "stores", "mapping", "orders", "finance", "fulfillment"]


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
        for app in DEMO_APPS:
            if app == "sandbox" and not settings.SANDBOX_ENABLED:
                continue
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            with transaction.atomic():
                module.seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is ready."))
