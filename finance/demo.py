"""Finance demo: a published rate table, and two top-ups of the demo distributor.

- rates for CNY, JPY, EUR and HKD, valid from a fixed date (so a re-run finds them);
- a 500 USD bank transfer, approved by the demo staff user: the balance covers the demo
  orders;
- a CNY Alipay top-up still waiting for approval, for staff to approve in the admin.

Idempotent: rates are found by (currency, valid from); a top-up by its proof, a tiny PDF
made here with fixed content, whose hash is unique among top-ups; the approval posts
under the top-up's own idempotency key, so it credits once however often this runs.
"""

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from catalog.demo import pdf_bytes
from distribution import demo as distribution_demo
from distribution.models import Distributor, Role
from distribution.money import quantize

from . import selectors, services
from .models import ExchangeRate, TopUp

RATES_FROM = datetime(2026, 1, 1, tzinfo=UTC)
RATES = {"CNY": "0.1380", "JPY": "0.0066", "EUR": "1.08", "HKD": "0.128"}
# (amount, currency, method, transfer reference, approved?)
TOP_UPS = [
    ("500.00", "USD", TopUp.Method.BANK_TRANSFER, "DEMO-WIRE-0001", True),
    ("2000.00", "CNY", TopUp.Method.ALIPAY, "DEMO-ALIPAY-0002", False),
]


def _proof(reference: str) -> bytes:
    return pdf_bytes(["Demo transfer receipt", reference])


def seed(stdout) -> None:
    staff = get_user_model().objects.get(username=distribution_demo.STAFF[0])
    for currency, value in RATES.items():
        if not ExchangeRate.objects.filter(currency=currency, valid_from=RATES_FROM).exists():
            services.rate_publish(
                actor=staff, currency=currency, usd_per_unit=Decimal(value), valid_from=RATES_FROM, source="Demo"
            )
    try:
        distributor = distribution_demo.demo_distributor()
    except Distributor.DoesNotExist:
        return
    owner = distributor.memberships.get(role=Role.OWNER)
    for amount, currency, method, reference, approve in TOP_UPS:
        proof = _proof(reference)
        top_up = TopUp.objects.filter(proof_sha256=hashlib.sha256(proof).hexdigest()).first()
        if top_up is None:
            top_up = services.topup_request(
                actor=owner,
                amount=Decimal(amount),
                currency=currency,
                method=method,
                transfer_reference=reference,
                proof=ContentFile(proof, name=f"{reference.lower()}.pdf"),
            )
        if approve and top_up.status != TopUp.Status.APPROVED:
            services.topup_approve(actor=staff, top_up=top_up)
    rates = ", ".join(f"{code} {value}" for code, value in RATES.items())
    balance = quantize(selectors.balance_available(distributor=distributor), "USD")
    stdout.write(f"Finance: rates in USD per unit {rates}; the demo balance is {balance} USD")
    stdout.write("Finance: one CNY top-up waits for approval in the admin (Finance > Top-ups)")
