"""`check_ledger`: every invariant of the ledger, proven on the data as it is.

1. every transaction has at least two entries and they sum to zero in each currency;
2. every entry names a transaction and an account that exist, is in its account's
   currency and at its currency's precision;
3. every balance account's cached balance equals the sum of its entries, and its
   entries' balance_after run as a chain ending at that balance;
4. no balance account is below zero; platform accounts keep no cache;
5. no order (entry reference) was refunded more than was paid for it;
6. a transaction that reverses another belongs to the same distributor;
7. on PostgreSQL, the guard triggers are installed.

Each query is one aggregate over the tables (the cost is a scan of the entries), so it
runs nightly, not on every request. Problems name the rows, for staff to act on.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.utils import timezone

from distribution.money import CURRENCY_PRECISION

from .models import Account, Entry, LedgerCheck, Transaction

TRIGGERS = {
    "finance_entry_append_only",
    "finance_transaction_append_only",
    "finance_account_never_deleted",
    "finance_account_identity",
    "finance_entry_balanced",
    "finance_entry_checked",
    "finance_account_cache",
}
SHOWN = 50  # problems of one kind listed in full; the rest are counted
FOUR = Decimal("0.0001")  # amounts are shown as stored


@dataclass
class Audit:
    problems: list[str] = field(default_factory=list)
    transactions: int = 0
    entries: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, kind: str, rows: list[str]) -> None:
        for row in rows[:SHOWN]:
            self.problems.append(f"{kind}: {row}")
        if len(rows) > SHOWN:
            self.problems.append(f"{kind}: … and {len(rows) - SHOWN} more")


def exact(value) -> Decimal:
    """A sum as the ledger stores amounts (SQLite sums decimals as floats: 1.8e-15 is 0)."""
    return Decimal(str(value or 0)).quantize(FOUR)


def ledger_audit() -> Audit:
    audit = Audit(transactions=Transaction.objects.count(), entries=Entry.objects.count())

    sums = Entry.objects.values("transaction_id", "currency").annotate(total=Sum("amount")).order_by("transaction_id")
    if connection.vendor == "postgresql":
        sums = sums.exclude(total=0)  # exact numeric sums: let the database filter
    audit.add(
        "unbalanced transaction",
        [
            f"transaction {row['transaction_id']} sums to {exact(row['total'])} {row['currency']}"
            for row in sums.iterator()
            if exact(row["total"]) != 0
        ],
    )
    lonely = Transaction.objects.annotate(n=Count("entries")).filter(n__lt=2).values_list("pk", "n")
    audit.add("transaction with fewer than two entries", [f"transaction {pk} has {n}" for pk, n in lonely])

    orphans = Entry.objects.filter(
        ~Exists(Transaction.objects.filter(pk=OuterRef("transaction_id")))
        | ~Exists(Account.objects.filter(pk=OuterRef("account_id")))
    ).values_list("pk", "transaction_id", "account_id")
    audit.add(
        "entry naming a transaction or account that does not exist",
        [f"entry {pk} (transaction {txn}, account {account})" for pk, txn, account in orphans],
    )
    mismatched = Entry.objects.exclude(currency=F("account__currency")).values_list("pk", "currency", "account__code")
    audit.add(
        "entry in another currency than its account",
        [f"entry {pk} in {currency} on {code}" for pk, currency, code in mismatched],
    )
    for currency, places in CURRENCY_PRECISION.items():
        step = Decimal(1).scaleb(-places)
        # amount / step must be whole: checked in Python on the (few) entries of the currency with decimals.
        off = [
            f"entry {pk}: {amount} {currency}"
            for pk, amount in Entry.objects.filter(currency=currency).values_list("pk", "amount").iterator()
            if amount % step != 0
        ]
        audit.add("entry beyond its currency's precision", off)

    sums = dict(
        Entry.objects.filter(account__kind=Account.Kind.BALANCE)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    cached_wrong, negative, chain = [], [], []
    for account in Account.objects.filter(kind=Account.Kind.BALANCE).only("pk", "code", "balance"):
        total = exact(sums.get(account.pk))
        if account.balance != total:
            cached_wrong.append(f"{account.code} caches {account.balance}, its entries sum to {total}")
        if account.balance < 0:
            negative.append(f"{account.code} is at {account.balance}")
    audit.add("cached balance differs from its entries", cached_wrong)
    audit.add("negative balance", negative)
    running: dict[int, Decimal] = {}
    for pk, account_id, amount, after in (
        Entry.objects.filter(account__kind=Account.Kind.BALANCE)
        .order_by("account_id", "id")
        .values_list("pk", "account_id", "amount", "balance_after")
        .iterator(chunk_size=5000)
    ):
        expected = running.get(account_id, Decimal(0)) + amount
        if after != expected:
            chain.append(f"entry {pk} says {after}, the chain gives {expected}")
        running[account_id] = expected
    audit.add("balance_after chain broken", chain)
    platform_cache = (
        Account.objects.exclude(kind=Account.Kind.BALANCE).exclude(balance=0).values_list("code", flat=True)
    )
    audit.add("platform account with a cached balance", list(platform_cache))

    per_order = (
        Entry.objects.filter(account__kind=Account.Kind.BALANCE)
        .exclude(reference="")
        .values("account_id", "reference")
        .annotate(
            paid=Sum("amount", filter=Q(transaction__kind=Transaction.Kind.PAYMENT)),
            refunded=Sum("amount", filter=Q(transaction__kind=Transaction.Kind.REFUND)),
        )
        .filter(refunded__gt=0)
    )
    audit.add(
        "refunded more than paid",
        [
            f"{row['reference']} on account {row['account_id']}: paid {-exact(row['paid'])}, "
            f"refunded {exact(row['refunded'])}"
            for row in per_order
            if exact(row["refunded"]) > -exact(row["paid"])
        ],
    )
    foreign = Transaction.objects.filter(reverses__isnull=False).exclude(distributor_id=F("reverses__distributor_id"))
    audit.add(
        "reversal of another distributor's transaction",
        [f"transaction {pk}" for pk in foreign.values_list("pk", flat=True)],
    )

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'finance_%%'")
            installed = {row[0] for row in cursor.fetchall()}
        audit.add("guard trigger missing", sorted(TRIGGERS - installed))
    return audit


def ledger_check_record() -> LedgerCheck:
    """Run the audit and keep its result for the admin."""
    started = timezone.now()
    audit = ledger_audit()
    return LedgerCheck.objects.create(
        ok=audit.ok,
        problems=audit.problems[:1000],
        transactions=audit.transactions,
        entries=audit.entries,
        started_at=started,
        finished_at=timezone.now(),
    )
