"""Step 7's logistics in a real browser: a distributor chooses self-pickup for one order and
another shipping method for a second, sees the costs follow (first as a preview when
picking, then saved), sets both back to the cheapest method from the list, and sees the
freight on the pay page; the pages fit a 1366 px screen and a 390 px phone without
sideways scroll."""

import re
from decimal import Decimal

import pytest

from orders.models import Logistics, Order
from tests.distribution.factories import owner_of
from tests.orders.test_logistics_pages import method, priced_order
from tests.orders.test_operations_browser import _assert_fits, _messages, _portal_login
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _costs(page) -> str:
    return " ".join(page.get_by_test_id("costs").inner_text().split())


def test_choose_self_pickup_and_a_method_and_see_the_costs_change(page, live_server, request):
    from tests.catalog.factories import ItemFactory, WarehouseFactory

    # given an owner with two orders from one US warehouse (handling 1.50, self-pickup fee 2.50)
    me = owner_of(email="browser-logistics@example.com")
    store = StoreFactory(distributor=me.distributor, site="US", name="Acme US")
    warehouse = WarehouseFactory(
        code="US-CA",
        sites="US",
        handling_fee=Decimal("1.50"),
        self_pickup_fee=Decimal("2.50"),
        address="1 Dock Rd\nLos Angeles, CA 90021",
        opening_hours="Mon–Fri 09:00–17:00",
    )
    usps = method(warehouse, "USPS", "Ground Advantage", "4.00", "2.00", eta=(2, 5))
    ups = method(warehouse, "UPS", "Ground", "6.00", "0.50", eta=(1, 3))
    dhl = method(warehouse, "DHL", "Paket", "3.00", "0.10", countries="DE")
    serum = ItemFactory(warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.00"), weight_grams=150)
    mask = ItemFactory(warehouse=warehouse, item_id="LS228800002-01-01", price=Decimal("5.00"), weight_grams=150)
    # 41.00 goods, 600 g billed on 1,000 g: USPS 6.00 (the cheapest, given), UPS 6.50
    fetched = priced_order(me, store, warehouse, [(serum, 3), (mask, 1)], recipient_name="Ada Park")
    shipped = priced_order(me, store, warehouse, [(serum, 3), (mask, 1)], recipient_name="Mia Chen")
    page.set_viewport_size({"width": 1366, "height": 900})
    _portal_login(page, live_server, "browser-logistics@example.com")

    # when they open the first order, it ships by the cheapest method
    page.goto(f"/orders/{fetched.pk}/")
    assert "Shipping 6.00 USD" in _costs(page) and "Total 48.50 USD" in _costs(page)
    assert page.locator(f"#logistics-{usps.pk}").is_checked()
    assert page.locator(f"#logistics-{dhl.pk}").is_disabled()
    assert "DHL Paket does not serve US." in page.get_by_test_id("logistics").inner_text()

    # and pick self-pickup: the costs card previews no freight and the fee in handling
    pickup = page.get_by_test_id("self-pickup-option")
    assert "Self-pickup at US-CA — fee 2.50 USD, no freight" in " ".join(pickup.inner_text().split())
    assert "1 Dock Rd" in pickup.inner_text() and "Mon–Fri 09:00–17:00" in pickup.inner_text()
    page.check("#logistics-self-pickup")
    assert "Shipping 0.00 USD" in _costs(page) and "Handling 4.00 USD" in _costs(page)
    assert "Total 45.00 USD" in _costs(page) and "not saved yet" in _costs(page)
    # picking the saved method again shows the saved costs
    page.check(f"#logistics-{usps.pk}")
    assert "Total 48.50 USD" in _costs(page) and "not saved yet" not in _costs(page)
    page.check("#logistics-self-pickup")
    page.get_by_test_id("save-logistics").click()

    # then the order is self-pickup, priced without freight
    page.wait_for_url(re.compile(rf"/orders/{fetched.pk}/$"))
    assert f"Logistics chosen: {fetched.number}: self-pickup at US-CA." in _messages(page)
    assert "Shipping 0.00 USD" in _costs(page) and "Handling 4.00 USD" in _costs(page)
    assert "Total 45.00 USD" in _costs(page) and "not saved yet" not in _costs(page)
    assert page.locator("#logistics-self-pickup").is_checked()

    # when they give the second order UPS instead
    page.goto(f"/orders/{shipped.pk}/")
    page.check(f"#logistics-{ups.pk}")
    assert "Shipping 6.50 USD" in _costs(page) and "Total 49.00 USD" in _costs(page)
    page.get_by_role("button", name="Save logistics").click()

    # then it ships by UPS at its freight
    page.wait_for_url(re.compile(rf"/orders/{shipped.pk}/$"))
    assert f"{shipped.number}: UPS Ground, freight 6.50 USD." in _messages(page)
    assert "Shipping 6.50 USD" in _costs(page) and "Total 49.00 USD" in _costs(page)
    assert page.locator(f"#logistics-{ups.pk}").is_checked()

    # and the list shows each order's logistics
    page.goto("/orders/")
    assert page.locator(f"tr[data-order='{fetched.number}'] [data-testid=logistics-cell]").inner_text() == "Self-pickup"
    assert page.locator(f"tr[data-order='{shipped.number}'] [data-testid=logistics-cell]").inner_text() == "UPS Ground"
    assert "45.00 USD" in page.locator(f"tr[data-order='{fetched.number}']").inner_text()

    # when they set both back to the cheapest method from the list
    for order in (fetched, shipped):
        page.check(f"tr[data-order='{order.number}'] input[name=order_ids]")
    page.get_by_test_id("bulk-logistics-choice").select_option("dropshipping")
    page.get_by_test_id("bulk-logistics").click()

    # then each says what it was given
    page.wait_for_url(re.compile(r"/orders/"))
    said = _messages(page)
    assert f"{fetched.number}: USPS Ground Advantage, freight 6.00 USD" in said
    assert f"{shipped.number}: USPS Ground Advantage, freight 6.00 USD" in said
    for order in (fetched, shipped):
        row = page.locator(f"tr[data-order='{order.number}']")
        assert row.get_by_test_id("logistics-cell").inner_text() == "USPS Ground Advantage"
        assert "48.50 USD" in row.inner_text()
    assert set(Order.objects.values_list("logistics", flat=True)) == {Logistics.DROPSHIPPING}

    # and the pay page shows goods, freight and handling before paying
    for order in (fetched, shipped):
        page.check(f"tr[data-order='{order.number}'] input[name=order_ids]")
    page.get_by_role("button", name="Pay selected").click()
    page.wait_for_url(re.compile(r"/orders/pay/"))
    summary = " ".join(page.get_by_test_id("pay-summary").inner_text().split())
    assert "Goods 82.00 USD" in summary and "Shipping 12.00 USD" in summary and "Handling 3.00 USD" in summary
    assert "Total to pay 97.00 USD" in summary
    pay_path = page.url.removeprefix(live_server.url)

    # and the pages fit a laptop and a phone without sideways scroll
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/orders/", f"/orders/{fetched.pk}/", f"/orders/{shipped.pk}/", pay_path):
            _assert_fits(page, path, width, screenshots=request.config.getoption("verbose") > 1)
    # on a phone the pay page still shows what each total is made of
    assert page.get_by_test_id("pay-breakdown").first.is_visible()
