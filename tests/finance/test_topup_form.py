"""[Top Up Balance]: the form, the published rates and the contact to confirm them with,
and what the request refuses (a proof sent before, a file that is no image or PDF, one
that is too large, a currency with no published rate)."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalog.demo import pdf_bytes, png_bytes
from distribution.models import Distributor, Role
from finance.models import TopUp
from tests.distribution.factories import MembershipFactory, owner_of
from tests.finance.factories import ExchangeRateFactory, proof_upload

pytestmark = pytest.mark.django_db

TOPUP = "/finance/balance/top-up/"  # a path: no URL resolving at import time


@pytest.fixture
def me(client):
    member = owner_of(email="topup@example.com")
    client.force_login(member.user)
    return member


@pytest.fixture
def cny_rate():
    return ExchangeRateFactory(currency="CNY", usd_per_unit=Decimal("0.1380000000"))


def _post(client, **overrides):
    data = {
        "amount": "700.00",
        "currency": "CNY",
        "method": TopUp.Method.ALIPAY,
        "transfer_reference": "ALIPAY-2026-0001",
        "proof": proof_upload("alipay receipt 0001"),
        **overrides,
    }
    return client.post(TOPUP, data)


def test_topup_form_shows_the_rates_the_advice_and_the_contact(client, me, cny_rate, settings):
    settings.FINANCE_CONTACT_NAME = "Ms. Li, customer service"
    settings.FINANCE_CONTACT_EMAIL = "li@platform.example"
    settings.FINANCE_CONTACT_PHONE = "+86 755 1234 5678 / WeChat: li-cs"
    html = client.get(TOPUP).content.decode()
    assert '<h1 class="h3 mb-3">Top Up Balance</h1>' in html
    assert "confirm the exchange rate with customer service before you recharge" in html
    assert "Ms. Li, customer service" in html and "li@platform.example" in html and "WeChat: li-cs" in html
    assert '<tr data-rate="CNY">' in html and "0.138<" in html
    assert '<tr data-rate="EUR">' in html and "Not published yet" in html
    # the rates the page's estimate uses, and no script from elsewhere
    assert '"CNY": "0.1380000000"' in html and '"USD": "1"' in html
    assert "cdn" not in html.lower()


def test_topup_form_creates_a_pending_top_up_at_the_published_rate(client, me, cny_rate):
    response = _post(client)

    assert response.status_code == 302 and response["Location"] == reverse("finance:balance")
    top_up = TopUp.objects.get(distributor=me.distributor)
    assert (top_up.status, top_up.amount, top_up.currency, top_up.method) == (
        TopUp.Status.PENDING,
        Decimal("700.0000"),
        "CNY",
        TopUp.Method.ALIPAY,
    )
    assert (top_up.quoted_rate, top_up.quoted_usd) == (Decimal("0.1380000000"), Decimal("96.6000"))
    assert top_up.requested_by == me.user and top_up.proof_name == "proof.pdf"
    assert top_up.proof.read().startswith(b"%PDF-")
    page = client.get(reverse("finance:balance")).content.decode()
    assert "is waiting for approval by platform staff: about 96.60 USD" in page
    assert f'data-topup="{top_up.reference}"' in page and "Pending approval" in page


def test_topup_form_in_usd_needs_no_rate(client, me):
    assert _post(client, currency="USD", amount="250.00").status_code == 302
    assert TopUp.objects.get().quoted_usd == Decimal("250.00")


def test_topup_form_refuses_a_proof_sent_before_naming_the_first_top_up(client, me, cny_rate):
    _post(client)
    first = TopUp.objects.get()

    response = _post(client, transfer_reference="ALIPAY-AGAIN")

    assert response.status_code == 400
    html = response.content.decode()
    assert f"This proof was already sent with top-up {first.reference}" in html
    assert 'data-testid="proof-error"' in html
    assert TopUp.objects.count() == 1


def test_topup_form_refuses_a_file_that_is_not_an_image_or_pdf(client, me, cny_rate):
    fake = SimpleUploadedFile("proof.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = _post(client, proof=fake)
    assert response.status_code == 400
    assert "The proof must be a PDF, JPEG, PNG or WebP file (checked by its content)." in response.content.decode()
    assert not TopUp.objects.exists()


def test_topup_form_takes_an_image(client, me, cny_rate):
    image = SimpleUploadedFile("transfer.png", png_bytes((10, 120, 200)), content_type="image/png")
    assert _post(client, proof=image).status_code == 302
    assert TopUp.objects.get().proof_name == "transfer.png"


def test_topup_form_refuses_a_proof_over_10_mb(client, me, cny_rate):
    big = pdf_bytes(["big"]) + b"0" * (10 * 1024 * 1024)
    response = _post(client, proof=SimpleUploadedFile("big.pdf", big, content_type="application/pdf"))
    assert response.status_code == 400
    assert "The proof is larger than 10 MB" in response.content.decode()
    assert not TopUp.objects.exists()


def test_topup_form_refuses_a_huge_body_before_reading_it(client, me, cny_rate):
    response = client.generic(
        "POST", TOPUP, b"x", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH=str(50 * 2**20)
    )
    assert response.status_code == 400
    assert "The proof is larger than 10 MB" in response.content.decode()


def test_topup_form_refuses_a_currency_without_a_published_rate(client, me, cny_rate):
    response = _post(client, currency="EUR")
    assert response.status_code == 400
    assert "No EUR rate is published yet: contact customer service" in response.content.decode()
    assert not TopUp.objects.exists()


def test_topup_form_refuses_decimals_a_currency_does_not_have(client, me):
    ExchangeRateFactory(currency="JPY", usd_per_unit=Decimal("0.0066"))
    response = _post(client, currency="JPY", amount="1000.50")
    assert "JPY amounts have at most 0 decimals." in response.content.decode()
    assert _post(client, currency="JPY", amount="1000", proof=proof_upload("jpy")).status_code == 302
    assert TopUp.objects.get().quoted_usd == Decimal("6.60")


def test_topup_form_is_refused_to_an_operator_and_a_suspended_distributor(client):
    operator = MembershipFactory(role=Role.OPERATOR)
    client.force_login(operator.user)
    assert client.get(TOPUP).status_code == 403
    owner = owner_of()
    Distributor.objects.filter(pk=owner.distributor.pk).update(status=Distributor.Status.SUSPENDED)
    client.force_login(owner.user)
    assert client.get(TOPUP).status_code == 200
    assert _post(client, currency="USD").status_code == 403
    assert not TopUp.objects.exists()
