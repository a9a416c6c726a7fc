"""Prove the ledger's invariants (finance/audit.py); exit 1 and list the offending rows if one fails.

manage.py check_ledger            # prints the result, records it for the admin
manage.py check_ledger --no-record
"""

from django.core.management.base import BaseCommand

from finance.audit import ledger_audit, ledger_check_record


class Command(BaseCommand):
    help = "Check every invariant of the ledger; exit status 1 when one fails."

    def add_arguments(self, parser):
        parser.add_argument("--no-record", action="store_true", help="Do not keep the result for the admin.")

    def handle(self, *args, **options):
        if options["no_record"]:
            audit = ledger_audit()
            ok, problems, transactions, entries = audit.ok, audit.problems, audit.transactions, audit.entries
        else:
            check = ledger_check_record()
            ok, problems, transactions, entries = check.ok, check.problems, check.transactions, check.entries
        for problem in problems:
            self.stderr.write(problem)
        summary = f"{transactions} transactions, {entries} entries checked"
        if ok:
            self.stdout.write(self.style.SUCCESS(f"Ledger OK: {summary}."))
            return
        self.stderr.write(self.style.ERROR(f"Ledger FAILED: {len(problems)} problem(s); {summary}."))
        raise SystemExit(1)
