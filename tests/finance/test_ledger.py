"""The ledger: balanced, append-only, idempotent postings; balances never below zero;
top-ups through FX clearing; refunds never above what was paid; check_ledger."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from finance import services
from finance.audit import ledger_audit
from finance.ledger import (
    IdempotencyConflict,
    InsufficientFunds,
    LedgerError,
    Leg,
    balance_account,
    balance_of,
    platform_account,
    transaction_post,
)
from finance.models import Account, Entry, Transaction
from tests.distribution.factories import DistributorFactory

pytestmark = pytest.mark.django_db

USD = "USD"


@pytest.fixture
def distributor():
    return DistributorFactory(company_name="Ledger Co")


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff@example.com", "staff@example.com", "pw", is_staff=True)


def credit(distributor, amount: str, key: str = "credit-1") -> Transaction:
    value = Decimal(amount)
    return transaction_post(
        kind=Transaction.Kind.ADJUSTMENT,
        idempotency_key=key,
        legs=[Leg(balance_account(distributor), value), Leg(platform_account(Account.Kind.ADJUSTMENTS, USD), -value)],
        distributor=distributor,
    )


def balance(distributor) -> Decimal:
    return balance_of(balance_account(distributor))


def test_transaction_post_writes_balanced_entries_and_the_cached_balance(distributor):
    posted = credit(distributor, "25.50")
    assert posted.replayed is False
    entries = list(posted.entries.order_by("id").values_list("account__code", "currency", "amount", "balance_after"))
    assert entries == [
        (f"balance:{distributor.pk}:USD", "USD", Decimal("25.5000"), Decimal("25.5000")),
        ("platform:adjustments:USD", "USD", Decimal("-25.5000"), None),
    ]
    assert balance(distributor) == Decimal("25.50")
    assert balance_of(platform_account(Account.Kind.ADJUSTMENTS, USD)) == Decimal("-25.50")


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        (["10.00", "-9.99"], "do not sum to zero"),
        (["10.001", "-10.001"], "more decimals than USD allows"),
        (["10.00"], "at least two entries"),
    ],
)
def test_transaction_post_refuses_what_cannot_be_right(distributor, amounts, message):
    accounts = [balance_account(distributor), platform_account(Account.Kind.ADJUSTMENTS, USD)]
    legs = [Leg(account, Decimal(amount)) for account, amount in zip(accounts, amounts, strict=False)]
    with pytest.raises(LedgerError, match=message):
        transaction_post(kind="adjustment", idempotency_key="bad", legs=legs, distributor=distributor)
    assert not Transaction.objects.exists() and not Entry.objects.exists()


def test_transaction_post_refuses_a_float(distributor):
    legs = [Leg(balance_account(distributor), 1.5), Leg(platform_account(Account.Kind.ADJUSTMENTS, USD), -1.5)]
    with pytest.raises(LedgerError, match="never floats"):
        transaction_post(kind="adjustment", idempotency_key="float", legs=legs, distributor=distributor)


def test_transaction_post_refuses_an_overdraft_naming_the_shortfall(distributor):
    credit(distributor, "10.00")
    legs = [
        Leg(balance_account(distributor), Decimal("-12.50")),
        Leg(platform_account("revenue", USD), Decimal("12.50")),
    ]
    with pytest.raises(InsufficientFunds) as refused:
        transaction_post(kind="payment", idempotency_key="pay-1", legs=legs, distributor=distributor)
    assert refused.value.extra["shortfall"] == Decimal("2.50")
    assert "2.50 USD more is needed" in str(refused.value)
    assert balance(distributor) == Decimal("10.00") and Transaction.objects.count() == 1


def test_same_key_same_request_answers_the_first_transaction(distributor):
    first = credit(distributor, "10.00", key="k")
    again = credit(distributor, "10.00", key="k")
    assert (again.pk, again.replayed) == (first.pk, True)
    assert balance(distributor) == Decimal("10.00")


def test_same_key_other_request_is_refused(distributor):
    credit(distributor, "10.00", key="k")
    with pytest.raises(IdempotencyConflict, match="other details"):
        credit(distributor, "11.00", key="k")
    assert balance(distributor) == Decimal("10.00")


def test_topup_in_cny_goes_through_fx_clearing_at_the_approved_rate(distributor, staff):
    top_up = _topup(distributor, "700.00", "CNY", rate="0.1380000000")
    approved = services.topup_approve(actor=staff, top_up=top_up)
    assert approved.status == "approved" and approved.credited_usd == Decimal("96.60")
    legs = set(approved.transaction.entries.values_list("account__code", "currency", "amount"))
    assert legs == {
        ("platform:cash:CNY", "CNY", Decimal("-700.0000")),
        ("platform:fx:CNY", "CNY", Decimal("700.0000")),
        ("platform:fx:USD", "USD", Decimal("-96.6000")),
        (f"balance:{distributor.pk}:USD", "USD", Decimal("96.6000")),
    }
    posted = approved.transaction
    assert (posted.fx_rate, posted.fx_source_amount, posted.fx_source_currency) == (
        Decimal("0.1380000000"),
        Decimal("700.0000"),
        "CNY",
    )
    assert ledger_audit().ok


def test_topup_rounds_to_the_cent_half_up(distributor, staff):
    # 3 JPY at 0.0065 = 0.0195 USD -> 0.02
    top_up = _topup(distributor, "3", "JPY", rate="0.0065000000")
    assert services.topup_approve(actor=staff, top_up=top_up).credited_usd == Decimal("0.02")


def test_topup_approved_twice_credits_once(distributor, staff):
    top_up = _topup(distributor, "100.00", "USD")
    services.topup_approve(actor=staff, top_up=top_up)
    services.topup_approve(actor=staff, top_up=top_up)
    assert balance(distributor) == Decimal("100.00")
    assert Transaction.objects.filter(kind="top_up").count() == 1


def test_topup_above_the_threshold_needs_a_second_staff_member(distributor, staff, django_user_model, settings):
    settings.FINANCE_SECOND_APPROVAL_USD = "5000"
    checker = django_user_model.objects.create_user("checker", "checker@example.com", "pw", is_staff=True)
    top_up = _topup(distributor, "6000.00", "USD")
    first = services.topup_approve(actor=staff, top_up=top_up)
    assert first.status == "first_approval" and balance(distributor) == 0
    with pytest.raises(services.ApplicationError, match="second staff member"):
        services.topup_approve(actor=staff, top_up=top_up)
    done = services.topup_approve(actor=checker, top_up=top_up)
    assert (done.status, done.first_approved_by, done.approved_by) == ("approved", staff, checker)
    assert balance(distributor) == Decimal("6000.00")


def test_topup_rejected_with_a_reason_is_never_credited(distributor, staff):
    top_up = _topup(distributor, "100.00", "USD")
    rejected = services.topup_reject(actor=staff, top_up=top_up, reason="No such transfer received")
    assert (rejected.status, rejected.rejection_reason) == ("rejected", "No such transfer received")
    with pytest.raises(services.ApplicationError, match="rejected"):
        services.topup_approve(actor=staff, top_up=top_up)
    assert balance(distributor) == 0


def test_refund_never_more_than_was_paid_nor_twice(distributor):
    credit(distributor, "100.00")
    services.payment_post(
        distributor=distributor,
        idempotency_key="pay-1",
        charges=[services.Charge("DO1", Decimal("30.00")), services.Charge("DO2", Decimal("20.00"))],
    )
    assert balance(distributor) == Decimal("50.00")
    with pytest.raises(services.ApplicationError, match="At most 30.00 USD"):
        services.refund_post(distributor=distributor, reference="DO1", idempotency_key="r-0", amount="30.01")
    services.refund_post(distributor=distributor, reference="DO1", idempotency_key="r-1", amount="10.00")
    again = services.refund_post(distributor=distributor, reference="DO1", idempotency_key="r-1", amount="10.00")
    assert again.replayed
    rest = services.refund_post(distributor=distributor, reference="DO1", idempotency_key="r-2")
    assert rest.entries.get(account__kind="balance").amount == Decimal("20.00")
    assert rest.reverses.kind == Transaction.Kind.PAYMENT
    with pytest.raises(services.ApplicationError, match="refunded in full"):
        services.refund_post(distributor=distributor, reference="DO1", idempotency_key="r-3")
    with pytest.raises(services.ApplicationError, match="Nothing was paid"):
        services.refund_post(distributor=distributor, reference="DO9", idempotency_key="r-4")
    assert balance(distributor) == Decimal("80.00")
    assert ledger_audit().ok


def test_payment_refused_whole_when_the_balance_is_short(distributor):
    credit(distributor, "40.00")
    with pytest.raises(InsufficientFunds):
        services.payment_post(
            distributor=distributor,
            idempotency_key="pay-2",
            charges=[services.Charge("DO1", Decimal("30.00")), services.Charge("DO2", Decimal("20.00"))],
        )
    assert balance(distributor) == Decimal("40.00")
    assert not Transaction.objects.filter(kind="payment").exists()


def test_adjustment_is_a_transaction_with_a_reason(distributor, staff):
    services.adjustment_post(
        actor=staff, distributor=distributor, amount="5.00", reason="Goodwill", idempotency_key="a1"
    )
    services.adjustment_post(actor=staff, distributor=distributor, amount="-2.00", reason="Fee", idempotency_key="a2")
    assert balance(distributor) == Decimal("3.00")
    assert list(Transaction.objects.filter(kind="adjustment").order_by("id").values_list("memo", flat=True)) == [
        "Goodwill",
        "Fee",
    ]


@pytest.mark.ledger_broken_on_purpose
def test_check_ledger_passes_on_good_books_and_fails_on_tampered_ones(distributor):
    # check_ledger must find what the database guards would refuse: on PostgreSQL they are
    # switched off for this test's transaction, as a superuser restoring a dump could.
    guards_off()
    credit(distributor, "10.00")
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "Ledger OK" in out.getvalue()
    # a cached balance changed behind the ledger's back
    Account.objects.filter(kind="balance").update(balance=Decimal("99.00"))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("check_ledger", "--no-record", stdout=io.StringIO(), stderr=err)
    assert exited.value.code == 1
    assert "caches 99.0000, its entries sum to 10.0000" in err.getvalue()


def guards_off() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")


def _topup(distributor, amount: str, currency: str, rate: str = "1"):
    from tests.finance.factories import TopUpFactory

    return TopUpFactory(distributor=distributor, amount=Decimal(amount), currency=currency, quoted_rate=Decimal(rate))
