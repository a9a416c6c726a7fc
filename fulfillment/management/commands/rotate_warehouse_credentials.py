"""Re-encrypt every warehouse backend's API token and webhook secret under the newest key in
STORE_CREDENTIAL_KEYS (they are encrypted as store credentials are, with the same keys).

Run it beside `rotate_store_credentials` after putting a new key first; only when both
report nothing unreadable may the old key be dropped.
"""

from django.core.management.base import BaseCommand, CommandError

from fulfillment.services import warehouse_credentials_rotate_all


class Command(BaseCommand):
    help = "Re-encrypt all warehouse backend secrets under the newest STORE_CREDENTIAL_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=200, help="Backends locked and rewritten per transaction."
        )

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = warehouse_credentials_rotate_all(batch_size=options["batch_size"])
        for what, error in result.failures:
            self.stderr.write(f"{what}: {error}")
        self.stdout.write(
            f"Re-encrypted {result.rotated} warehouse backend(s); {len(result.failures)} could not be read."
        )
        if result.failures:
            raise CommandError("Some warehouse secrets could not be decrypted with any configured key.")
