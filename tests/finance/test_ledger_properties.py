"""Random sequences of ledger operations (top up, approve, pay, refund, adjust, and retries
with the same key) keep every invariant: the balance is what a plain model of it says,
never below zero, no order refunded beyond what was paid, check_ledger clean."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from distribution.errors import ApplicationError
from finance import services
from finance.audit import ledger_audit
from finance.ledger import IdempotencyConflict, InsufficientFunds, balance_account
from tests.distribution.factories import DistributorFactory
from tests.finance.factories import TopUpFactory

CENTS = st.integers(min_value=1, max_value=50_000).map(lambda cents: Decimal(cents) / 100)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.model_balance = Decimal("0.00")
        self.paid: dict[str, Decimal] = {}
        self.refunded: dict[str, Decimal] = {}
        self.keys: dict[str, tuple] = {}
        self.counter = 0

    @initialize()
    def open(self):
        from django.contrib.auth import get_user_model

        self.distributor = DistributorFactory()
        self.staff, _ = get_user_model().objects.get_or_create(
            username="prop-staff", defaults={"email": "prop@example.com", "is_staff": True}
        )
        self.top_ups = []

    def next_key(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.distributor.pk}-{self.counter}"

    @rule(amount=CENTS)
    def top_up_and_approve(self, amount):
        top_up = TopUpFactory(distributor=self.distributor, amount=amount, quoted_usd=amount)
        services.topup_approve(actor=self.staff, top_up=top_up)
        self.top_ups.append(top_up)
        self.model_balance += amount

    @precondition(lambda self: self.top_ups)
    @rule(data=st.data())
    def approve_again(self, data):
        top_up = data.draw(st.sampled_from(self.top_ups))
        services.topup_approve(actor=self.staff, top_up=top_up)  # credits nothing more

    @rule(amounts=st.lists(CENTS, min_size=1, max_size=3), retry=st.booleans())
    def pay(self, amounts, retry):
        key = self.next_key("pay")
        charges = [services.Charge(f"{key}-o{i}", amount) for i, amount in enumerate(amounts)]
        total = sum(amounts, Decimal(0))
        try:
            services.payment_post(distributor=self.distributor, idempotency_key=key, charges=charges)
        except InsufficientFunds:
            assert total > self.model_balance
            return
        if retry:
            again = services.payment_post(distributor=self.distributor, idempotency_key=key, charges=charges)
            assert again.replayed
        self.model_balance -= total
        for charge in charges:
            self.paid[charge.reference] = charge.amount
        self.keys[key] = tuple(charges)

    @precondition(lambda self: self.keys)
    @rule(data=st.data())
    def reuse_a_key_for_another_payment(self, data):
        key = data.draw(st.sampled_from(sorted(self.keys)))
        with pytest.raises(IdempotencyConflict):
            services.payment_post(
                distributor=self.distributor, idempotency_key=key, charges=[services.Charge("other", Decimal("1.00"))]
            )

    @precondition(lambda self: self.paid)
    @rule(data=st.data(), part=st.booleans(), retry=st.booleans())
    def refund(self, data, part, retry):
        reference = data.draw(st.sampled_from(sorted(self.paid)))
        left = self.paid[reference] - self.refunded.get(reference, Decimal(0))
        wanted = data.draw(CENTS) if part else None
        key = self.next_key("refund")
        try:
            posted = services.refund_post(
                distributor=self.distributor, reference=reference, idempotency_key=key, amount=wanted
            )
        except ApplicationError:
            assert left == 0 or (wanted is not None and wanted > left)
            return
        credited = posted.entries.get(account__kind="balance").amount
        assert credited == (left if wanted is None else wanted) and credited <= left
        if retry:
            assert services.refund_post(
                distributor=self.distributor, reference=reference, idempotency_key=key, amount=wanted
            ).replayed
        self.refunded[reference] = self.refunded.get(reference, Decimal(0)) + credited
        self.model_balance += credited

    @rule(amount=CENTS, debit=st.booleans())
    def adjust(self, amount, debit):
        value = -amount if debit else amount
        try:
            services.adjustment_post(
                actor=self.staff,
                distributor=self.distributor,
                amount=value,
                reason="property test",
                idempotency_key=self.next_key("adj"),
            )
        except InsufficientFunds:
            assert debit and amount > self.model_balance
            return
        self.model_balance += value

    @invariant()
    def balance_is_the_model_and_never_negative(self):
        if not hasattr(self, "distributor"):
            return
        account = balance_account(self.distributor)
        account.refresh_from_db()
        assert account.balance == self.model_balance
        assert account.balance >= 0

    def teardown(self):
        if hasattr(self, "distributor"):
            audit = ledger_audit()
            assert audit.ok, audit.problems


@pytest.mark.django_db
def test_random_sequences_of_ledger_operations_keep_every_invariant():
    from hypothesis.stateful import run_state_machine_as_test

    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
