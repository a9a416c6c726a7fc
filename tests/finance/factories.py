"""Factories for exchange rates, top-ups and balance preferences, and helpers that post
money through the services (ledger rows are only ever made by posting)."""

from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from catalog.demo import pdf_bytes
from finance import services
from finance.models import BalancePreference, ExchangeRate, TopUp, Transaction
from tests.distribution.factories import DistributorFactory


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExchangeRate

    currency = "CNY"
    usd_per_unit = Decimal("0.1380000000")
    valid_from = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=1))
    source = "Bank of China mid-rate"


class TopUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TopUp

    distributor = factory.SubFactory(DistributorFactory)
    amount = Decimal("100.00")
    currency = "USD"
    method = TopUp.Method.BANK_TRANSFER
    transfer_reference = factory.Sequence(lambda n: f"WIRE-{n:06d}")
    proof_sha256 = factory.Sequence(lambda n: f"{n:064x}")
    proof = factory.LazyAttribute(lambda o: ContentFile(pdf_bytes([o.transfer_reference]), name="proof.pdf"))
    quoted_rate = Decimal("1")
    quoted_usd = factory.LazyAttribute(lambda o: o.amount)


FACTORIES = {ExchangeRate: ExchangeRateFactory, TopUp: TopUpFactory}


class BalancePreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BalancePreference

    distributor = factory.SubFactory(DistributorFactory)
    auto_pay = False
    low_balance_threshold = Decimal("0")


FACTORIES[BalancePreference] = BalancePreferenceFactory


# --- money in and out, the way the services post it (ledger rows are never made by hand) ------


def credit(distributor, amount: str, *, key: str, reason: str = "Test credit") -> Transaction:
    """A credit adjustment by a staff member made for the purpose."""
    return services.adjustment_post(
        actor=_staff(), distributor=distributor, amount=Decimal(amount), reason=reason, idempotency_key=key
    )


def pay(distributor, amount: str, *, reference: str, key: str) -> Transaction:
    """An order payment as the orders app asks for it."""
    return services.payment_post(
        distributor=distributor, idempotency_key=key, charges=[services.Charge(reference, Decimal(amount))]
    )


def proof_upload(text: str = "receipt", name: str = "proof.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes([text]), content_type="application/pdf")


def _staff():
    from tests.distribution.factories import UserFactory

    return UserFactory(email="ledger-staff@example.com", is_staff=True)
