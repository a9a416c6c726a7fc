"""The sandbox's demo shops (settings.SANDBOX_DEMO_SHOPS), with the tokens they granted
our app and a few orders each. `make run` runs it before `seed_demo`, whose stores
connect to these shops. Does nothing unless SANDBOX_ENABLED; idempotent."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from sandbox import demo


class Command(BaseCommand):
    help = "Create the sandbox's demo shops (only with SANDBOX_ENABLED)."

    def handle(self, *args, **options):
        if not settings.SANDBOX_ENABLED:
            self.stdout.write("Sandbox: disabled (SANDBOX_ENABLED is off); no demo shops.")
            return
        with transaction.atomic():
            demo.seed(stdout=self.stdout)
