"""Factories for exchange rates and top-ups (ledger rows are only ever made by posting)."""

from decimal import Decimal

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from catalog.demo import pdf_bytes
from finance.models import ExchangeRate, TopUp
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
