"""Finance demo: the published rates and the demo distributor's two top-ups (one credited,
one waiting for staff), idempotent."""

import io
from decimal import Decimal

import pytest

from distribution import demo as distribution_demo
from finance import demo, selectors
from finance.models import ExchangeRate, TopUp, Transaction

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    distribution_demo.seed(out)
    demo.seed(out)
    return out.getvalue()


def test_demo_publishes_the_rates_and_credits_the_demo_balance_once():
    output = _seed()
    distributor = distribution_demo.demo_distributor()

    rates = {rate.currency: rate.usd_per_unit for rate in selectors.rates_in_force().values()}
    assert rates == {
        "CNY": Decimal("0.1380000000"),
        "JPY": Decimal("0.0066000000"),
        "EUR": Decimal("1.0800000000"),
        "HKD": Decimal("0.1280000000"),
    }
    assert selectors.balance_available(distributor=distributor) == Decimal("500.00")
    statuses = dict(TopUp.objects.filter(distributor=distributor).values_list("currency", "status"))
    assert statuses == {"USD": TopUp.Status.APPROVED, "CNY": TopUp.Status.PENDING}
    pending = TopUp.objects.get(currency="CNY")
    assert pending.quoted_usd == Decimal("276.00") and pending.proof.read().startswith(b"%PDF-")
    assert "the demo balance is 500.00 USD" in output

    # when it runs again, nothing doubles
    _seed()
    assert ExchangeRate.objects.count() == 4
    assert TopUp.objects.count() == 2
    assert Transaction.objects.count() == 1
    assert selectors.balance_available(distributor=distributor) == Decimal("500.00")


def test_demo_is_part_of_seed_demo(settings, tmp_path):
    from django.apps import apps

    from distribution.apps import DemoSeeding

    assert isinstance(apps.get_app_config("finance"), DemoSeeding)
