"""The staff console for money: publishing rates (never editing them), approving and
rejecting top-ups (maker-checker above the threshold, credited once), manual adjustments
(posted once however often the form is sent) and the read-only ledger."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from finance import selectors, services
from finance.audit import ledger_check_record
from finance.models import Account, Entry, ExchangeRate, LedgerCheck, TopUp, Transaction
from tests.distribution.factories import UserFactory, owner_of
from tests.finance.factories import ExchangeRateFactory, TopUpFactory, credit

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def checker_client(django_user_model):
    checker = django_user_model.objects.create_superuser("checker", "checker@example.com", "pw")
    client = Client()
    client.force_login(checker)
    client.user = checker
    return client


@pytest.fixture
def distributor():
    return owner_of(email="distributor@example.com").distributor


def _url(name: str, *args) -> str:
    return reverse(f"admin:finance_{name}", args=args)


def _balance(distributor) -> Decimal:
    return selectors.balance_available(distributor=distributor)


# --- exchange rates ------------------------------------------------------------------------------


def test_rate_add_publishes_through_the_service(staff_client, admin_user):
    page = staff_client.get(_url("exchangerate_add"))
    assert page.status_code == 200 and "Publish an exchange rate" in page.content.decode()

    response = staff_client.post(
        _url("exchangerate_add"), {"currency": "CNY", "usd_per_unit": "0.1390", "source": "BOC 09:30"}
    )

    assert response.status_code == 302
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.usd_per_unit, rate.published_by) == ("CNY", Decimal("0.1390000000"), admin_user)
    assert selectors.rate_at("CNY") == rate


def test_rate_add_refuses_a_second_rate_for_the_same_moment(staff_client):
    moment = timezone.now().replace(microsecond=0)
    ExchangeRateFactory(currency="EUR", valid_from=moment)
    response = staff_client.post(
        _url("exchangerate_add"),
        {
            "currency": "EUR",
            "usd_per_unit": "1.09",
            "valid_from_0": timezone.localtime(moment).strftime("%Y-%m-%d"),
            "valid_from_1": timezone.localtime(moment).strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200
    assert "A EUR rate is already published for that moment." in response.content.decode()
    assert ExchangeRate.objects.count() == 1


def test_rates_cannot_be_edited_or_deleted(staff_client):
    rate = ExchangeRateFactory()
    change = _url("exchangerate_change", rate.pk)
    page = staff_client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()  # shown, read-only
    staff_client.post(change, {"currency": "CNY", "usd_per_unit": "9", "valid_from_0": "2026-01-01"})
    assert staff_client.post(_url("exchangerate_delete", rate.pk), {"post": "yes"}).status_code == 403
    rate.refresh_from_db()
    assert rate.usd_per_unit == Decimal("0.1380000000") and ExchangeRate.objects.count() == 1
    listing = staff_client.get(_url("exchangerate_changelist"), {"currency__exact": "CNY"}).content.decode()
    assert "delete_selected" not in listing and "0.138" in listing


# --- top-ups -------------------------------------------------------------------------------------


def test_topup_approve_with_an_adjusted_rate_credits_at_that_rate(staff_client, distributor, admin_user):
    top_up = TopUpFactory(distributor=distributor, amount=Decimal("700.00"), currency="CNY", quoted_rate="0.138")
    page = staff_client.get(_url("topup_approve", top_up.pk)).content.decode()
    assert 'name="amount" value="700.00"' in page and 'name="rate" value="0.138"' in page

    response = staff_client.post(_url("topup_approve", top_up.pk), {"amount": "700.00", "rate": "0.14"})

    assert response.status_code == 302 and response["Location"] == _url("topup_change", top_up.pk)
    top_up.refresh_from_db()
    assert (top_up.status, top_up.approved_rate, top_up.credited_usd, top_up.approved_by) == (
        TopUp.Status.APPROVED,
        Decimal("0.1400000000"),
        Decimal("98.0000"),
        admin_user,
    )
    assert _balance(distributor) == Decimal("98.00")
    assert top_up.transaction.fx_rate == Decimal("0.14")
    message = staff_client.get(_url("topup_change", top_up.pk)).content.decode()
    assert "approved: 98.00 USD credited" in message


def test_topup_above_the_threshold_needs_a_second_staff_member(
    staff_client, checker_client, distributor, admin_user, settings
):
    settings.FINANCE_SECOND_APPROVAL_USD = "5000"
    top_up = TopUpFactory(distributor=distributor, amount=Decimal("6000.00"))
    page = staff_client.get(_url("topup_change", top_up.pk)).content.decode()
    assert "From 5,000.00 USD two staff members approve" in page

    # when the first staff member approves
    staff_client.post(_url("topup_approve", top_up.pk), {"amount": "6000.00", "rate": "1"})

    # then nothing is credited yet, and the top-up says who approved first
    top_up.refresh_from_db()
    assert top_up.status == TopUp.Status.FIRST_APPROVAL and _balance(distributor) == 0
    page = staff_client.get(_url("topup_change", top_up.pk)).content.decode()
    assert f"Awaiting second approval: first approved by {admin_user}" in page
    listing = staff_client.get(_url("topup_changelist")).content.decode()
    assert f"first approved by {admin_user}" in listing
    # the same staff member cannot be the second
    again = staff_client.post(_url("topup_approve", top_up.pk), {})
    assert "A second staff member must approve top-up" in again.content.decode()
    assert _balance(distributor) == 0

    # when another staff member approves, the balance is credited
    response = checker_client.post(_url("topup_approve", top_up.pk), {})
    assert response.status_code == 302
    top_up.refresh_from_db()
    assert (top_up.status, top_up.first_approved_by, top_up.approved_by) == (
        TopUp.Status.APPROVED,
        admin_user,
        checker_client.user,
    )
    assert _balance(distributor) == Decimal("6000.00")


def test_topup_reject_with_a_reason_the_distributor_sees(staff_client, distributor, client):
    top_up = TopUpFactory(distributor=distributor)
    assert staff_client.post(_url("topup_reject", top_up.pk), {"reason": ""}).status_code == 200

    response = staff_client.post(_url("topup_reject", top_up.pk), {"reason": "Transfer not received"})

    assert response.status_code == 302
    top_up.refresh_from_db()
    assert (top_up.status, top_up.rejection_reason) == (TopUp.Status.REJECTED, "Transfer not received")
    client.force_login(distributor.memberships.get().user)
    html = client.get(reverse("finance:balance")).content.decode()
    assert "Rejected" in html and "Transfer not received" in html
    # and a rejected top-up cannot be approved any more
    staff_client.post(_url("topup_approve", top_up.pk), {"amount": "100", "rate": "1"})
    assert _balance(distributor) == 0


def test_topup_approved_twice_credits_once(staff_client, checker_client, distributor):
    top_up = TopUpFactory(distributor=distributor, amount=Decimal("100.00"))
    data = {"amount": "100.00", "rate": "1"}
    staff_client.post(_url("topup_approve", top_up.pk), data)
    again = staff_client.post(_url("topup_approve", top_up.pk), data, follow=True)
    checker_client.post(_url("topup_approve", top_up.pk), data)
    services.topup_approve(actor=checker_client.user, top_up=top_up)
    assert "is approved already; nothing was done" in again.content.decode()
    assert _balance(distributor) == Decimal("100.00")
    assert Transaction.objects.filter(kind=Transaction.Kind.TOP_UP).count() == 1


def test_topup_change_page_shows_the_proof_to_staff_only(staff_client, distributor, client):
    top_up = TopUpFactory(distributor=distributor)
    page = staff_client.get(_url("topup_change", top_up.pk)).content.decode()
    proof_url = _url("topup_proof", top_up.pk)
    assert proof_url in page and 'name="_save"' not in page
    assert "/media/" not in page  # the stored file's own URL is never shown

    response = staff_client.get(proof_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    assert "sandbox" in response["Content-Security-Policy"]

    client.force_login(distributor.memberships.get().user)  # not staff
    assert client.get(proof_url).status_code == 302  # to the admin login
    plain_staff = UserFactory(is_staff=True)  # staff without the finance permissions
    client.force_login(plain_staff)
    assert client.get(proof_url).status_code == 403
    assert client.post(_url("topup_approve", top_up.pk), {"amount": "1", "rate": "1"}).status_code == 403


def test_topup_list_flags_those_waiting_more_than_24_hours(staff_client, distributor):
    old = TopUpFactory(distributor=distributor, transfer_reference="OLD-WIRE")
    TopUp.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    TopUpFactory(distributor=distributor, transfer_reference="NEW-WIRE")

    waiting = staff_client.get(_url("topup_changelist"), {"waiting": "24h"}).content.decode()
    assert "OLD-WIRE" in waiting and "NEW-WIRE" not in waiting
    everything = staff_client.get(_url("topup_changelist")).content.decode()
    assert "Waiting &gt; 24 h" in everything and everything.count('alt="True"') == 1
    found = staff_client.get(_url("topup_changelist"), {"q": "NEW-WIRE"}).content.decode()
    assert "NEW-WIRE" in found and "OLD-WIRE" not in found


# --- manual adjustments --------------------------------------------------------------------------


def _adjust_form(client, distributor) -> dict:
    page = client.get(_url("account_adjust"), {"distributor": distributor.pk}).content.decode()
    key = re.search(r'name="key" value="([0-9a-f-]+)"', page).group(1)
    return {"distributor": distributor.pk, "direction": "credit", "amount": "25.00", "reason": "Goodwill", "key": key}


def test_adjustment_posts_once_on_a_double_submit(staff_client, distributor):
    data = _adjust_form(staff_client, distributor)

    first = staff_client.post(_url("account_adjust"), data)
    second = staff_client.post(_url("account_adjust"), data, follow=True)

    assert first.status_code == 302
    assert "posted already (the form was sent twice); nothing more was posted" in second.content.decode()
    assert Transaction.objects.filter(kind=Transaction.Kind.ADJUSTMENT).count() == 1
    assert _balance(distributor) == Decimal("25.00")
    # a new form has a new key
    assert _adjust_form(staff_client, distributor)["key"] != data["key"]


def test_adjustment_debit_and_its_refusal_when_the_balance_is_short(staff_client, distributor):
    credit(distributor, "10.00", key="seed")
    data = {**_adjust_form(staff_client, distributor), "direction": "debit", "amount": "15.00", "reason": "Fee"}
    refused = staff_client.post(_url("account_adjust"), data)
    assert refused.status_code == 200 and "5.00 USD more is needed" in refused.content.decode()
    data["amount"] = "4.00"
    assert staff_client.post(_url("account_adjust"), data).status_code == 302
    assert _balance(distributor) == Decimal("6.00")
    assert Transaction.objects.filter(memo="Fee").get().entries.get(account__kind="balance").amount == Decimal("-4")


# --- the ledger is read-only ---------------------------------------------------------------------


@pytest.mark.parametrize("model", ["account", "transaction", "entry", "ledgercheck"])
def test_ledger_rows_cannot_be_added_changed_or_deleted_in_the_admin(staff_client, distributor, model):
    credit(distributor, "10.00", key="seed")
    ledger_check_record()
    row = {
        "account": Account.objects.filter(kind="balance").first,
        "transaction": Transaction.objects.first,
        "entry": Entry.objects.first,
        "ledgercheck": LedgerCheck.objects.first,
    }[model]()
    listing = staff_client.get(_url(f"{model}_changelist"))
    assert listing.status_code == 200 and "delete_selected" not in listing.content.decode()
    assert staff_client.get(_url(f"{model}_add")).status_code == 403
    page = staff_client.get(_url(f"{model}_change", row.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert staff_client.post(_url(f"{model}_change", row.pk), {"amount": "99"}).status_code == 403
    assert staff_client.post(_url(f"{model}_delete", row.pk), {"post": "yes"}).status_code == 403
    assert _balance(distributor) == Decimal("10.00") and Entry.objects.count() == 2


def test_transaction_page_shows_its_entries(staff_client, distributor):
    posted = credit(distributor, "10.00", key="seed", reason="Shown inline")
    page = staff_client.get(_url("transaction_change", posted.pk)).content.decode()
    assert "Shown inline" in page and f"balance:{distributor.pk}:USD" in page and "platform:adjustments:USD" in page


def test_ledger_check_list_shows_the_latest_result(staff_client):
    empty = staff_client.get(_url("ledgercheck_changelist")).content.decode()
    assert "has not been checked yet" in empty
    ledger_check_record()
    page = staff_client.get(_url("ledgercheck_changelist")).content.decode()
    assert 'data-testid="latest-check"' in page and "OK. Every invariant holds" in page
    LedgerCheck.objects.create(
        ok=False, problems=["negative balance: x"], started_at=timezone.now(), finished_at=timezone.now()
    )
    page = staff_client.get(_url("ledgercheck_changelist")).content.decode()
    assert "1 problem found" in page and "negative balance: x" in page


def test_adjustment_form_finds_the_distributor_by_autocomplete(staff_client, distributor):
    response = staff_client.get(
        reverse("admin:autocomplete"),
        {
            "term": distributor.company_name,
            "app_label": "finance",
            "model_name": "account",
            "field_name": "distributor",
        },
    )
    assert response.status_code == 200
    assert response.json()["results"] == [{"id": str(distributor.pk), "text": distributor.company_name}]
