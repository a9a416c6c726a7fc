"""While the demo runs, a new order in each sandbox demo shop every few minutes, so a
newcomer watches orders arrive through the scheduled pull. Each tick also lets the sandbox
warehouse ship the packages whose time has come and send the webhooks that are due.

    manage.py sandbox_trickle               # every SANDBOX_TRICKLE_SECONDS (180), until stopped
    manage.py sandbox_trickle --once        # one order per shop, then exit

`make run` starts it beside web, worker and beat (Procfile.dev). With the sandbox off it
idles instead of exiting, because honcho stops every process when one ends.
"""

import logging
import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections

from sandbox import demo, warehouse

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Place a new order in each sandbox demo shop every few minutes (demo only)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Place one order per shop and exit.")
        parser.add_argument(
            "--every",
            type=float,
            default=float(os.environ.get("SANDBOX_TRICKLE_SECONDS", "180")),
            help="Seconds between orders (default SANDBOX_TRICKLE_SECONDS or 180).",
        )

    def handle(self, *args, **options):
        if options["once"]:
            self.tick()
            return
        if not settings.SANDBOX_ENABLED:
            self.stdout.write("Sandbox: disabled; the trickle idles.")
        while True:
            time.sleep(max(options["every"], 1.0))
            if not settings.SANDBOX_ENABLED:
                continue
            close_old_connections()
            try:
                self.tick()
            except DatabaseError as exc:  # the database restarting is no reason to stop the demo
                logger.warning("sandbox trickle: %s", exc)

    def tick(self) -> None:
        placed = demo.trickle()
        shipped = warehouse.advance_all() if settings.SANDBOX_ENABLED else 0
        self.stdout.write(f"Sandbox: {placed} new order(s); {shipped} warehouse package(s) left.")
