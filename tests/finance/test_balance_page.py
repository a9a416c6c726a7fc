"""[Financial Management] > [Balance Management]: the balance, the top-ups waiting for
staff, the history with its filters, pages and exports, the chart and the settings."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from distribution.models import Role
from finance import selectors, services
from finance.models import BalancePreference, TopUp
from tests.distribution.factories import MembershipFactory, UserFactory, owner_of
from tests.finance.factories import TopUpFactory, credit, pay
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db

# Paths, not reverse() at import: resolving at collection time would load the URLconf under DEBUG.
BALANCE = "/finance/balance/"
EXPORT = "/finance/balance/export/"


@pytest.fixture
def staff():
    return UserFactory(email="approver@example.com", is_staff=True)


@pytest.fixture
def me():
    return owner_of(email="owner@example.com")


def _login(client, membership):
    client.force_login(membership.user)
    return client


def test_balance_page_shows_the_balance_the_waiting_top_ups_and_the_history(client, me, staff):
    # given an approved top-up, one pending, one awaiting a second approval and one rejected
    distributor = me.distributor
    approved = TopUpFactory(distributor=distributor, amount=Decimal("500.00"))
    services.topup_approve(actor=staff, top_up=approved)
    pending = TopUpFactory(distributor=distributor, amount=Decimal("700.00"), currency="CNY", quoted_rate="0.138")
    big = TopUpFactory(distributor=distributor, amount=Decimal("9000.00"))
    services.topup_approve(actor=staff, top_up=big)
    rejected = TopUpFactory(distributor=distributor, amount=Decimal("50.00"))
    services.topup_reject(actor=staff, top_up=rejected, reason="No transfer with this reference arrived")
    pay(distributor, "12.34", reference="DO-PAID-1", key="pay-1")

    # when the owner opens the page
    html = _login(client, me).get(BALANCE).content.decode()

    # then the balance shows in USD, with the rounding note and the [Top Up Balance] button
    assert 'data-testid="balance">487.66 <span' in html
    assert "Amounts are rounded to the cent, half up." in html
    assert ">Top Up Balance</a>" in html
    # the waiting top-ups with their status, the rejected one with its reason
    assert f'data-topup="{pending.reference}"' in html and "Pending approval" in html
    assert f'data-topup="{big.reference}"' in html and "Awaiting second approval" in html
    assert "No transfer with this reference arrived" in html
    assert f'data-topup="{approved.reference}"' not in html  # credited: it is in the history
    # the history: the top-up and the payment, newest first, with the balance after each
    assert html.index("DO-PAID-1") < html.index(approved.reference)
    assert "-12.34" in html and "+500.00" in html and "487.66" in html
    assert "<svg" in html and 'data-testid="balance-chart"' in html


def test_balance_page_chart_is_drawn_on_the_server_with_no_script(client, me):
    credit(me.distributor, "25.00", key="c1")
    html = _login(client, me).get(BALANCE).content.decode()
    chart = html[html.index('data-testid="balance-chart"') :]
    chart = chart[: chart.index("</svg>")]
    assert "<svg" in chart and "25.00" in chart
    assert "<script" not in chart and "kozea.github.io" not in html


def test_balance_series_carries_each_day_to_the_next(me):
    credit(me.distributor, "10.00", key="c1")
    credit(me.distributor, "5.00", key="c2")
    series = selectors.balance_series(distributor=me.distributor, days=30)
    assert len(series) == 30 and series[-1] == (timezone.localdate(), Decimal("15.0000"))
    assert series[0][1] == 0


def test_balance_history_filters_by_type_and_date(client, me):
    credit(me.distributor, "100.00", key="c1", reason="Goodwill credit")
    pay(me.distributor, "30.00", reference="DO-FILTER-1", key="p1")
    client = _login(client, me)
    today = timezone.localdate()

    only_payments = client.get(BALANCE, {"kind": "payment"}).content.decode()
    assert "DO-FILTER-1" in only_payments and "Goodwill credit" not in only_payments

    only_adjustments = client.get(BALANCE, {"kind": "adjustment"}).content.decode()
    assert "DO-FILTER-1" not in only_adjustments and "Goodwill credit" in only_adjustments

    today_only = client.get(BALANCE, {"date_from": today.isoformat(), "date_to": today.isoformat()})
    assert "DO-FILTER-1" in today_only.content.decode()
    tomorrow = client.get(BALANCE, {"date_from": (today + timedelta(days=1)).isoformat()}).content.decode()
    assert "DO-FILTER-1" not in tomorrow and "No movements match these filters." in tomorrow
    yesterday = client.get(BALANCE, {"date_to": (today - timedelta(days=1)).isoformat()}).content.decode()
    assert "DO-FILTER-1" not in yesterday

    backwards = client.get(BALANCE, {"date_from": today.isoformat(), "date_to": (today - timedelta(days=1))})
    assert "The start date is after the end date." in backwards.content.decode()


def test_balance_history_pages(client, me, settings):
    settings.PORTAL_PAGE_SIZE = 2
    for n in range(5):
        credit(me.distributor, "1.00", key=f"c{n}", reason=f"credit number {n}")
    client = _login(client, me)
    first = client.get(BALANCE).content.decode()
    assert "credit number 4" in first and "credit number 2" not in first and "Page 1 of 3" in first
    last = client.get(BALANCE, {"page": 3}).content.decode()
    assert "credit number 0" in last and "credit number 4" not in last


def test_balance_history_links_an_order_reference_to_its_order_page(client, me):
    order = OrderFactory(distributor=me.distributor)
    credit(me.distributor, "100.00", key="c1")
    pay(me.distributor, "20.00", reference=order.number, key="p1")
    pay(me.distributor, "5.00", reference="DO-ELSEWHERE", key="p2")

    html = _login(client, me).get(BALANCE).content.decode()

    assert f'href="{reverse("orders:order_detail", args=[order.pk])}"' in html
    assert 'href="/orders/' not in html.split("DO-ELSEWHERE")[0].rsplit("<tr", 1)[-1]


def test_balance_history_links_orders_for_finance_members_who_read_them(client, me):
    # Finance members read orders (without acting on them), so the history links them too.
    order = OrderFactory(distributor=me.distributor)
    credit(me.distributor, "100.00", key="c1")
    pay(me.distributor, "20.00", reference=order.number, key="p1")
    finance = MembershipFactory(distributor=me.distributor, role=Role.FINANCE)

    html = _login(client, finance).get(BALANCE).content.decode()

    assert order.number in html and reverse("orders:order_detail", args=[order.pk]) in html


def test_balance_page_query_count_does_not_grow_with_the_rows(client, me, django_assert_num_queries):
    # given a page with a few rows of every kind, orders among them
    credit(me.distributor, "1000.00", key="c0")
    TopUpFactory(distributor=me.distributor, amount=Decimal("70.00"))
    client = _login(client, me)
    for n in range(3):
        order = OrderFactory(distributor=me.distributor)
        pay(me.distributor, "1.00", reference=order.number, key=f"p{n}")
    client.get(BALANCE)  # warms the session and the content types
    with django_assert_num_queries(QUERIES):
        assert client.get(BALANCE).status_code == 200

    # when the page is full, with more orders and top-ups, the count stays the same
    for n in range(3, 40):
        order = OrderFactory(distributor=me.distributor)
        pay(me.distributor, "1.00", reference=order.number, key=f"p{n}")
        TopUpFactory(distributor=me.distributor, amount=Decimal("1.00"))
    with django_assert_num_queries(QUERIES):
        html = client.get(BALANCE).content.decode()
    assert html.count("<tr data-entry=") == 41 and html.count("/orders/") >= 37


# session, user, membership; balance, top-ups, history count, history page, order links,
# preference, chart (balance before the 30 days, last entry of each day)
QUERIES = 11


def test_balance_export_xlsx_keeps_a_formula_as_text(client, me):
    credit(me.distributor, "50.00", key="c1", reason="=1+1")
    pay(me.distributor, "5.00", reference='=HYPERLINK("http://evil")', key="p1")

    response = _login(client, me).get(EXPORT, {"format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="balance-history-')
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=False))
    assert [cell.value for cell in rows[0]] == [
        "Time",
        "Type",
        "Reference",
        "Memo",
        "Amount (USD)",
        "Balance after (USD)",
    ]
    payment, adjustment = rows[1], rows[2]
    assert (payment[2].value, payment[2].data_type) == ('=HYPERLINK("http://evil")', "s")
    assert (adjustment[3].value, adjustment[3].data_type) == ("=1+1", "s")
    assert (payment[4].value, payment[4].data_type) == (-5, "n")
    assert adjustment[5].value == 50
    assert all(cell.data_type != "f" for row in rows for cell in row)


def test_balance_export_csv_quotes_a_formula_and_keeps_numbers(client, me):
    credit(me.distributor, "50.00", key="c1", reason="=1+1")
    pay(me.distributor, "5.00", reference="@SUM(A1)", key="p1")

    response = _login(client, me).get(EXPORT, {"format": "csv", "kind": ""})

    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Time" and len(rows) == 3
    assert rows[1][1:] == ["Order payment", "'@SUM(A1)", "Payment of 1 order(s)", "-5.00", "45.00"]
    assert rows[2][3] == "'=1+1" and rows[2][4] == "50.00"


def test_balance_export_follows_the_page_filters(client, me):
    credit(me.distributor, "50.00", key="c1", reason="Goodwill")
    pay(me.distributor, "5.00", reference="DO-EXPORT", key="p1")
    response = _login(client, me).get(EXPORT, {"format": "csv", "kind": "adjustment"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "Goodwill" in text and "DO-EXPORT" not in text


@pytest.mark.parametrize(
    ("role", "status"), [(Role.OPERATOR, 403), (Role.FINANCE, 200), (Role.ADMIN, 200), (Role.OWNER, 200)]
)
def test_balance_pages_open_for_owner_admin_and_finance_only(client, me, role, status):
    member = me if role == Role.OWNER else MembershipFactory(distributor=me.distributor, role=role)
    client = _login(client, member)
    for url in (BALANCE, EXPORT, reverse("finance:topup")):
        assert client.get(url).status_code == status, url
    posted = client.post(reverse("finance:preferences"), {"low_balance_threshold": "10"})
    assert posted.status_code == (403 if status == 403 else 302)


def test_balance_page_never_shows_another_distributors_money(client, me, staff):
    # given another distributor with a balance, a payment and top-ups
    other = owner_of().distributor
    credit(other, "777.00", key="other-credit", reason="Theirs only")
    pay(other, "7.00", reference="DO-THEIRS", key="other-pay")
    TopUpFactory(distributor=other, transfer_reference="THEIR-WIRE")
    rejected = TopUpFactory(distributor=other, transfer_reference="THEIR-REJECTED")
    services.topup_reject(actor=staff, top_up=rejected, reason="Their reason")
    client = _login(client, me)

    for response in (client.get(BALANCE), client.get(BALANCE, {"kind": "payment"})):
        html = response.content.decode()
        assert "770.00" not in html and "Theirs only" not in html and "DO-THEIRS" not in html
        assert "THEIR-WIRE" not in html and "Their reason" not in html
    exported = b"".join(client.get(EXPORT, {"format": "csv"}).streaming_content).decode("utf-8-sig")
    assert "DO-THEIRS" not in exported and "Theirs only" not in exported


def test_balance_settings_are_saved_and_read_by_the_orders_app(client, me):
    assert selectors.auto_pay_enabled(me.distributor) is False
    response = _login(client, me).post(
        reverse("finance:preferences"), {"low_balance_threshold": "150.50", "auto_pay": "on"}
    )
    assert response.status_code == 302 and response["Location"] == BALANCE
    preference = BalancePreference.objects.get(distributor=me.distributor)
    assert (preference.low_balance_threshold, preference.auto_pay) == (Decimal("150.50"), True)
    assert selectors.auto_pay_enabled(me.distributor) is True
    html = client.get(BALANCE).content.decode()
    assert 'value="150.50"' in html and "Balance settings saved." in html


def test_balance_settings_refuse_a_negative_threshold(client, me):
    response = _login(client, me).post(reverse("finance:preferences"), {"low_balance_threshold": "-1"}, follow=True)
    assert not BalancePreference.objects.filter(distributor=me.distributor).exists()
    assert "greater than or equal to 0" in response.content.decode()


def test_topups_open_hides_old_rejections(me, staff):
    rejected = TopUpFactory(distributor=me.distributor)
    services.topup_reject(actor=staff, top_up=rejected, reason="Old")
    TopUp.objects.filter(pk=rejected.pk).update(updated_at=timezone.now() - timedelta(days=31))
    assert selectors.topups_open(distributor=me.distributor) == []


def test_balance_urls_are_where_the_tests_say():
    assert (reverse("finance:balance"), reverse("finance:balance_export")) == (BALANCE, EXPORT)
    assert reverse("finance:topup") == "/finance/balance/top-up/"


def test_balance_pages_read_in_simplified_chinese(client, me):
    client = _login(client, me)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": BALANCE})
    try:
        html = client.get(BALANCE).content.decode()
        form = client.get(reverse("finance:topup")).content.decode()
    finally:
        # The request left Chinese active in this thread: the next tests read English.
        client.post("/i18n/setlang/", {"language": "en", "next": BALANCE})
        translation.activate("en")
    assert "余额管理" in html and ">充值</a>" in html and "可用余额" in html
    assert "金额按四舍五入精确到分。" in html and "交易记录" in html
    assert "充值前请先与客服确认汇率" in form and "付款凭证" in form and "公布汇率" in form
