"""Re-encrypt every stored credential under the newest key in STORE_CREDENTIAL_KEYS: each
store's, and the WooCommerce keys waiting on authorizations still in progress.

Run it after putting a new key first in STORE_CREDENTIAL_KEYS; once it reports nothing
unreadable, the old keys may be removed from the setting.
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
        for what, error in result.failures:
            self.stderr.write(f"{what}: {error}")
        self.stdout.write(
            f"Re-encrypted {result.rotated} store(s) and {result.rotated_pending} authorization(s) in progress; "
            f"{len(result.failures)} could not be read."
        )
        if result.failures:
            raise CommandError("Some credentials could not be decrypted with any configured key.")
