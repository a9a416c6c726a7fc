"""Re-encrypt every store's credentials under the newest key in STORE_CREDENTIAL_KEYS.

Run it after putting a new key first in STORE_CREDENTIAL_KEYS; once it reports every
store under the newest key, the old keys may be removed from the setting.
"""

from django.core.management.base import BaseCommand, CommandError

from stores.services import store_credentials_rotate_all


class Command(BaseCommand):
    help = "Re-encrypt all stored platform credentials under the newest STORE_CREDENTIAL_KEYS key."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200, help="Stores locked and rewritten per transaction.")

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = store_credentials_rotate_all(batch_size=options["batch_size"])
        for store_id, error in result.failures:
            self.stderr.write(f"store {store_id}: {error}")
        self.stdout.write(f"Re-encrypted {result.rotated} store(s); {len(result.failures)} could not be read.")
        if result.failures:
            raise CommandError("Some stores' credentials could not be decrypted with any configured key.")
