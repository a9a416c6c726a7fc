"""PostgreSQL guards the ledger itself: raw SQL cannot edit, delete or unbalance it, and
twenty threads paying, topping up and refunding on one account end exactly right."""

import random
import threading
from decimal import Decimal
from functools import partial

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from distribution.errors import ApplicationError
from finance import services
from finance.audit import ledger_audit
from finance.ledger import Leg, balance_account, platform_account, transaction_post
from finance.models import Account, Entry, Transaction
from tests.concurrency import together
from tests.conftest import using_postgres
from tests.distribution.factories import DistributorFactory

pytestmark = [
    pytest.mark.skipif(not using_postgres(), reason="the database guards are PostgreSQL triggers"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def posted():
    distributor = DistributorFactory()
    value = Decimal("50.00")
    return transaction_post(
        kind=Transaction.Kind.ADJUSTMENT,
        idempotency_key="seed",
        legs=[Leg(balance_account(distributor), value), Leg(platform_account("adjustments", "USD"), -value)],
        distributor=distributor,
    )


def raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE finance_entry SET amount = amount + 1",
        "DELETE FROM finance_entry",
        "UPDATE finance_transaction SET memo = 'edited'",
        "DELETE FROM finance_transaction",
        "DELETE FROM finance_account",
        "UPDATE finance_account SET currency = 'EUR'",
    ],
)
def test_database_refuses_edits_and_deletes(posted, sql):
    with pytest.raises(DatabaseError, match="finance:"):
        raw(sql)
    assert Entry.objects.filter(transaction=posted).count() == 2
    assert ledger_audit().ok


def test_database_refuses_an_unbalanced_transaction_at_commit(posted):
    account = Account.objects.get(kind="adjustments")
    with pytest.raises(DatabaseError, match="does not balance"):
        raw(
            "INSERT INTO finance_entry (transaction_id, account_id, currency, amount, reference) "
            "VALUES (%s, %s, 'USD', 5, '')",
            [posted.pk, account.pk],
        )
    assert Entry.objects.filter(transaction=posted).count() == 2


def test_database_refuses_a_broken_balance_chain(posted):
    account = Account.objects.get(kind="balance")
    platform = Account.objects.get(kind="adjustments")
    with (
        pytest.raises(DatabaseError, match="says balance"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO finance_transaction (kind, idempotency_key, request_hash, reference, memo, "
            "fx_source_currency, created_at) VALUES ('adjustment', 'forged', '', '', '', '', now()) RETURNING id"
        )
        forged = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO finance_entry (transaction_id, account_id, currency, amount, reference, balance_after) "
            "VALUES (%s, %s, 'USD', 5, '', 1000), (%s, %s, 'USD', -5, '', NULL)",
            [forged, account.pk, forged, platform.pk],
        )


@pytest.mark.parametrize(
    ("names", "message"),
    [("transaction", "transaction 999999, which does not exist"), ("account", "account 999999, which does not exist")],
)
def test_database_refuses_an_entry_naming_a_row_that_does_not_exist(posted, names, message):
    account = Account.objects.get(kind="adjustments")
    transaction_id, account_id = (999999, account.pk) if names == "transaction" else (posted.pk, 999999)
    with pytest.raises(DatabaseError, match=message):
        raw(
            "INSERT INTO finance_entry (transaction_id, account_id, currency, amount, reference) "
            "VALUES (%s, %s, 'USD', 0, '')",
            [transaction_id, account_id],
        )
    assert Entry.objects.count() == 2


def test_database_refuses_an_entry_in_another_currency_than_its_account(posted):
    account = Account.objects.get(kind="adjustments")
    with pytest.raises(DatabaseError, match="another currency"):
        raw(
            "INSERT INTO finance_entry (transaction_id, account_id, currency, amount, reference) "
            "VALUES (%s, %s, 'EUR', 5, ''), (%s, %s, 'EUR', -5, '')",
            [posted.pk, account.pk, posted.pk, account.pk],
        )


def test_database_checks_every_row_of_one_insert_against_the_chain(posted):
    """A thousand-row INSERT is checked as a whole: a broken balance_after in its last row is found."""
    account = Account.objects.get(kind="balance")
    platform = Account.objects.get(kind="adjustments")
    with pytest.raises(DatabaseError, match="says balance"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO finance_transaction (kind, idempotency_key, request_hash, reference, memo, "
            "fx_source_currency, created_at) VALUES ('adjustment', 'forged', '', '', '', '', now()) RETURNING id"
        )
        forged = cursor.fetchone()[0]
        rows = [(forged, account.pk, "USD", 1, "", 50 + n) for n in range(1, 1000)]
        rows.append((forged, account.pk, "USD", 1, "", 2000))  # should say 1050
        rows.append((forged, platform.pk, "USD", -1000, "", None))
        cursor.execute(
            "INSERT INTO finance_entry (transaction_id, account_id, currency, amount, reference, balance_after) "
            "VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows)),
            [value for row in rows for value in row],
        )
        cursor.execute("UPDATE finance_account SET balance = 1050 WHERE id = %s", [account.pk])


def test_database_refuses_a_cached_balance_that_is_not_the_entries(posted):
    with pytest.raises(DatabaseError, match="caches balance"):
        raw("UPDATE finance_account SET balance = 1000 WHERE kind = 'balance'")
    assert Account.objects.get(kind="balance").balance == Decimal("50.00")


def test_database_refuses_a_negative_balance(posted):
    with pytest.raises(DatabaseError):
        raw("UPDATE finance_account SET balance = -1 WHERE kind = 'balance'")


def test_twenty_threads_paying_topping_up_and_refunding_end_exactly_right(django_user_model):
    distributor = DistributorFactory()
    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    services.adjustment_post(
        actor=staff, distributor=distributor, amount="100.00", reason="opening", idempotency_key="open"
    )
    barrier = threading.Barrier(20)
    expected = {"balance": Decimal("100.00")}
    lock = threading.Lock()
    errors: list[str] = []

    def worker(n: int):
        rng = random.Random(n)  # noqa: S311 (test data)
        try:
            barrier.wait(timeout=10)
            for step in range(10):
                key = f"w{n}-{step}"
                choice = rng.choice(["pay", "pay", "top", "refund", "retry"])
                try:
                    if choice in ("pay", "retry"):
                        amount = Decimal(rng.randint(1, 3000)) / 100
                        charge = [services.Charge(f"DO-{n}-{step}", amount)]
                        services.payment_post(distributor=distributor, idempotency_key=key, charges=charge)
                        if choice == "retry":  # the same request again charges once
                            services.payment_post(distributor=distributor, idempotency_key=key, charges=charge)
                        with lock:
                            expected["balance"] -= amount
                    elif choice == "top":
                        amount = Decimal(rng.randint(1, 2000)) / 100
                        services.adjustment_post(
                            actor=staff, distributor=distributor, amount=amount, reason="top", idempotency_key=key
                        )
                        with lock:
                            expected["balance"] += amount
                    else:
                        reference = f"DO-{n}-{step - 1}"
                        refunded = services.refund_post(
                            distributor=distributor, reference=reference, idempotency_key=key
                        )
                        with lock:
                            expected["balance"] += refunded.entries.get(account__kind="balance").amount
                except services.InsufficientFunds:
                    pass
                except ApplicationError as exc:
                    if "Nothing was paid" not in str(exc) and "in full" not in str(exc):
                        errors.append(str(exc))
        except Exception as exc:  # noqa: BLE001 (the test reports what went wrong in a thread)
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    account = balance_account(distributor)
    account.refresh_from_db()
    assert account.balance == expected["balance"] and account.balance >= 0
    assert ledger_audit().ok
    call_command("check_ledger", "--no-record")


def test_racing_payments_on_a_balance_that_covers_only_some_charge_exactly_that_many(django_user_model):
    """The lock is taken by the balance UPDATE, after a first unlocked look: a payment that
    a concurrent one left uncovered is refused with the shortfall, never posted."""
    distributor = DistributorFactory()
    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    services.adjustment_post(actor=staff, distributor=distributor, amount="50.00", reason="open", idempotency_key="o")

    results = together(
        *(
            partial(
                services.payment_post,
                distributor=distributor,
                idempotency_key=f"race-{n}",
                charges=[services.Charge(f"DO-{n}", Decimal("10"))],
            )
            for n in range(12)
        )
    )

    posted = [r for r in results if isinstance(r, Transaction)]
    refused = [r for r in results if isinstance(r, services.InsufficientFunds)]
    assert (len(posted), len(refused)) == (5, 7), results
    assert all(r.extra["shortfall"] == Decimal("10.00") for r in refused)
    account = balance_account(distributor)
    account.refresh_from_db()
    assert account.balance == 0
    assert ledger_audit().ok


def test_one_key_posted_by_racing_requests_is_posted_once(django_user_model):
    distributor = DistributorFactory()
    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    services.adjustment_post(actor=staff, distributor=distributor, amount="50.00", reason="open", idempotency_key="o")
    charge = [services.Charge("DO-1", Decimal("10"))]

    pay = partial(services.payment_post, distributor=distributor, idempotency_key="same", charges=charge)
    results = together(*[pay] * 8)

    assert all(isinstance(r, Transaction) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert Transaction.objects.filter(idempotency_key="same").count() == 1
    account = balance_account(distributor)
    account.refresh_from_db()
    assert account.balance == Decimal("40.00")


def test_a_payment_whose_balance_is_emptied_while_it_waits_is_refused_short(django_user_model):
    """The deterministic form of the race: the second payment has seen enough money, waits
    on the first one's lock, and is then refused (asked again: 'short'), charging nothing."""
    distributor = DistributorFactory()
    staff = django_user_model.objects.create_user("staff", "staff@example.com", "pw", is_staff=True)
    services.adjustment_post(actor=staff, distributor=distributor, amount="50.00", reason="open", idempotency_key="o")
    outcome: dict = {}

    def second():
        try:
            services.payment_post(
                distributor=distributor, idempotency_key="second", charges=[services.Charge("DO-2", Decimal("10"))]
            )
        except services.InsufficientFunds as exc:
            outcome["refused"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=second)
    with transaction.atomic():
        services.payment_post(
            distributor=distributor, idempotency_key="first", charges=[services.Charge("DO-1", Decimal("50"))]
        )
        thread.start()
        with connection.cursor() as cursor:
            for _ in range(200):  # until the second one waits on our row lock
                cursor.execute("SELECT pg_stat_clear_snapshot()")  # the view is read once per transaction otherwise
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                if cursor.fetchone()[0]:
                    break
                threading.Event().wait(0.02)
            else:
                pytest.fail("the second payment never waited on the lock")
    thread.join(timeout=30)

    assert outcome["refused"].extra["shortfall"] == Decimal("10.00")
    assert not Transaction.objects.filter(idempotency_key="second").exists()
    assert ledger_audit().ok
