"""[Top Up Balance] in a real browser: the distributor tops up in CNY with a PDF proof,
staff approve it in the admin, the distributor pays two orders from the balance, and
sees the balance and the history change at each step."""

import re
from decimal import Decimal

import pytest

from catalog.demo import pdf_bytes
from finance.models import TopUp
from tests.distribution.factories import UserFactory, owner_of
from tests.finance.factories import ExchangeRateFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-word-2026"


def _portal_login(page, live_server, email):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def test_topup_in_cny_approved_by_staff_shows_in_the_balance_and_history(page, live_server):
    # given a distributor owner and a published CNY rate
    me = owner_of(email="browser-topup@example.com")
    ExchangeRateFactory(currency="CNY", usd_per_unit=Decimal("0.1380000000"))
    UserFactory(email="browser-staff@example.com", is_staff=True, is_superuser=True)
    _portal_login(page, live_server, "browser-topup@example.com")

    # when they open [Financial Management] > [Balance Management] from the menu
    page.get_by_role("button", name="Financial Management").or_(
        page.get_by_role("link", name="Financial Management")
    ).first.click()
    page.get_by_test_id("portal-nav").get_by_role("link", name="Balance Management", exact=True).click()
    page.wait_for_url(re.compile(r"/finance/balance/$"))
    assert page.get_by_test_id("balance").inner_text().startswith("0.00")

    # and press [Top Up Balance], enter 1,000 CNY: the page shows what it gives in USD
    page.get_by_role("link", name="Top Up Balance", exact=True).click()
    page.wait_for_url(re.compile(r"/finance/balance/top-up/$"))
    assert "confirm the exchange rate with customer service" in page.get_by_test_id("rate-advice").inner_text()
    page.select_option("select[name=currency]", "CNY")
    page.fill("input[name=amount]", "1000")
    assert page.get_by_test_id("usd-estimate").inner_text() == "138.00"
    page.select_option("select[name=method]", "alipay")
    page.fill("input[name=transfer_reference]", "ALIPAY-BROWSER-1")
    page.set_input_files(
        "input[name=proof]",
        files=[{"name": "alipay.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes(["ALIPAY-BROWSER-1"])}],
    )
    page.get_by_role("button", name="Submit top-up").click()

    # then the top-up waits for approval in the list
    page.wait_for_url(re.compile(r"/finance/balance/$"))
    top_up = TopUp.objects.get(distributor=me.distributor)
    row = page.locator(f"tr[data-topup='{top_up.reference}']")
    assert "Pending approval" in row.inner_text() and "1,000.00 CNY" in row.inner_text()

    # when staff log in to the admin, open the top-up and approve it
    staff = page.context.browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    admin = staff.new_page()
    admin.goto("/admin/login/")
    admin.fill("input[name=username]", "browser-staff@example.com")
    admin.fill("input[name=password]", PASSWORD)
    admin.click("input[type=submit]")
    admin.goto("/admin/finance/topup/?q=ALIPAY-BROWSER-1")
    admin.get_by_role("link", name=top_up.reference).click()
    assert "Pending: check the proof" in admin.get_by_test_id("approval-state").inner_text()
    admin.get_by_test_id("topup-approve").click()
    assert admin.locator("input[name=rate]").input_value() == "0.138"
    admin.get_by_role("button", name="Approve").click()
    assert "approved: 138.00 USD credited" in admin.locator(".messagelist").first.inner_text()
    assert admin.get_by_test_id("approval-state").inner_text() == "Approved and credited."
    staff.close()

    # then the distributor sees the new balance and the top-up in the history
    page.reload()
    assert page.get_by_test_id("balance").inner_text().startswith("138.00")
    history = page.get_by_test_id("history-table").inner_text()
    assert top_up.reference in history and "+138.00" in history and "1,000.00 CNY @ 0.138" in history
    assert page.locator(f"tr[data-topup='{top_up.reference}']").count() == 0

    # when they select two orders in [Orders] and pay them
    first, second = (_payable_order(me, total) for total in ("25.50", "40.00"))
    page.goto("/orders/")
    for order in (first, second):
        page.check(f"tr[data-order='{order.number}'] input[name=order_ids]")
    page.get_by_role("button", name="Pay selected").click()
    page.wait_for_url(re.compile(r"/orders/pay/"))
    summary = page.get_by_test_id("pay-summary").inner_text()
    assert "65.50 USD" in summary and "138.00 USD" in summary and "72.50 USD" in summary
    page.get_by_test_id("confirm-payment").click()
    page.wait_for_url(re.compile(r"/orders/\?status=paid"))
    assert page.locator(f"tr[data-order='{first.number}']").count() == 1
    assert page.locator(f"tr[data-order='{second.number}']").count() == 1

    # then the balance went down by what they cost, and each order is in the history
    page.goto("/finance/balance/")
    assert page.get_by_test_id("balance").inner_text().startswith("72.50")
    history = page.get_by_test_id("history-table").inner_text()
    assert first.number in history and second.number in history and "-25.50" in history and "-40.00" in history


def _payable_order(me, total: str):
    from tests.catalog.factories import ItemFactory, WarehouseFactory
    from tests.orders.factories import OrderFactory, OrderLineFactory
    from tests.stores.factories import StoreFactory

    item = ItemFactory(warehouse=WarehouseFactory(code="US-CA", sites="US"), stock_on_hand=10)
    order = OrderFactory(
        distributor=me.distributor,
        store=StoreFactory(distributor=me.distributor),
        warehouse=item.warehouse,
        country="US",
        total_amount=Decimal(total),
        goods_amount=Decimal(total),
    )
    OrderLineFactory(order=order, item=item, item_code=item.item_id, quantity=1)
    return order


@pytest.mark.parametrize("width", [1366, 390])
def test_balance_pages_fit_the_screen_without_sideways_scroll(page, live_server, width, request):
    # given a balance with history and waiting top-ups
    from finance import services
    from tests.finance.factories import TopUpFactory, credit, pay

    me = owner_of(email=f"fit-{width}@example.com")
    ExchangeRateFactory(currency="CNY")
    credit(me.distributor, "1234.56", key="fit-credit", reason="Opening credit for the demo of a long memo text")
    for n in range(3):
        pay(me.distributor, "12.34", reference=f"DO2612010000{n}", key=f"fit-pay-{n}")
    TopUpFactory(distributor=me.distributor, amount=Decimal("7000.00"), currency="CNY", quoted_rate="0.138")
    rejected = TopUpFactory(distributor=me.distributor, transfer_reference="A-VERY-LONG-TRANSFER-REFERENCE-0001")
    services.topup_reject(
        actor=UserFactory(is_staff=True), top_up=rejected, reason="The transfer reference does not match any payment"
    )
    page.set_viewport_size({"width": width, "height": 900})
    _portal_login(page, live_server, f"fit-{width}@example.com")

    for path in ("/finance/balance/", "/finance/balance/top-up/"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
        hidden = page.evaluate(
            "[...document.querySelectorAll('.table-responsive')].map(t => t.scrollWidth - t.clientWidth)"
        )
        assert all(extra <= 0 for extra in hidden), f"a table on {path} scrolls sideways at {width}px: {hidden}"
        if request.config.getoption("verbose") > 1:
            page.screenshot(path=f"var/screenshots/finance{path.replace('/', '-')}{width}.png", full_page=True)
