"""Step 7's operations in a real browser: a distributor splits an order on the split page
(the live check, adding and removing a part), merges two orders the list says can be
merged through the merge page (what the merge makes and costs, then [Confirm merge]),
puts the merged order on hold and releases it, and sees the costs on the pages follow;
the pages fit a 1366 px screen and a 390 px phone without sideways scroll."""

import re
from decimal import Decimal

import pytest

from orders.models import Order
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import owner_of
from tests.orders.test_operations import make_order
from tests.stores.factories import StoreFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-word-2026"


def _portal_login(page, live_server, email):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _messages(page) -> str:
    return page.locator(".messages").inner_text()


def _assert_fits(page, path, width, screenshots: bool):
    page.goto(path)
    if screenshots:
        name = re.sub(r"\W+", "-", path).strip("-")
        page.screenshot(path=f"var/screenshots/operations-{name}-{width}.png", full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
    hidden = page.evaluate(
        "[...document.querySelectorAll('.table-responsive')].map(t => t.scrollWidth - t.clientWidth)"
    )
    assert all(extra <= 0 for extra in hidden), f"a table on {path} scrolls sideways at {width}px: {hidden}"


def test_split_merge_hold_and_release_change_the_orders_and_their_costs(page, live_server, request):
    # given an owner with three orders from one US warehouse (handling 1.50 USD per order)
    me = owner_of(email="browser-ops@example.com")
    store = StoreFactory(distributor=me.distributor, site="US", name="Acme US")
    warehouse = WarehouseFactory(code="US-CA", sites="US", handling_fee=Decimal("1.50"))
    serum = ItemFactory(warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.00"), stock_on_hand=50)
    mask = ItemFactory(warehouse=warehouse, item_id="LS228800002-01-01", price=Decimal("5.00"), stock_on_hand=50)
    big = make_order(me, store, warehouse, [(serum, 3), (mask, 1)], recipient_name="Ada Park", address1="1 Main St")
    first = make_order(me, store, warehouse, [(serum, 1)], recipient_name="Mia Chen", address1="2150 Mission St")
    second = make_order(me, store, warehouse, [(mask, 2)], recipient_name="MIA CHEN", address1="2150 mission st.")
    page.set_viewport_size({"width": 1366, "height": 900})
    _portal_login(page, live_server, "browser-ops@example.com")

    # when they open the big order (41.00 goods + 1.50 handling) and press [Split]
    page.goto(f"/orders/{big.pk}/")
    assert "42.50 USD" in page.get_by_test_id("costs").inner_text()
    page.get_by_test_id("split-order").click()
    page.wait_for_url(re.compile(rf"/orders/{big.pk}/split/$"))
    serum_line, mask_line = big.lines.order_by("pk")
    status = page.locator("[data-split-status]")
    submit = page.get_by_test_id("split-submit")
    # everything starts in part 1, so part 2 is empty and the split waits
    assert "A part has nothing in it yet." in status.inner_text() and submit.is_disabled()

    # and move one serum to part 2: the line does not add up until part 1 gives it away
    page.fill(f"input[name=part2_{serum_line.pk}]", "1")
    serum_row = page.locator(f"tr[data-line='{serum_line.pk}']")
    assert serum_row.locator("[data-given]").inner_text() == "4"
    assert "do not add up" in status.inner_text() and submit.is_disabled()
    page.fill(f"input[name=part1_{serum_line.pk}]", "2")
    assert serum_row.locator("[data-given]").inner_text() == "3"
    # a third part can be added (empty, so the split waits again) and taken away
    page.get_by_role("button", name="Add a part (up to 20)").click()
    assert page.locator("thead th[data-part]").count() == 3
    assert page.locator(f"input[name=part3_{mask_line.pk}]").input_value() == "0"
    assert submit.is_disabled()
    page.get_by_role("button", name="Remove the last part").click()
    assert page.locator("thead th[data-part]").count() == 2
    # the mask goes with the single serum
    page.fill(f"input[name=part1_{mask_line.pk}]", "0")
    page.fill(f"input[name=part2_{mask_line.pk}]", "1")
    assert status.inner_text() == "Every line adds up." and submit.is_enabled()
    submit.click()

    # then they are back on the order, now split, with its two parts priced again
    page.wait_for_url(re.compile(rf"/orders/{big.pk}/$"))
    part_one, part_two = Order.objects.filter(parent=big).order_by("pk")
    assert f"was split into {part_one.number}, {part_two.number}" in _messages(page)
    assert page.get_by_test_id("order-status").inner_text() == "Split or merged"
    parts = page.get_by_test_id("split-into").inner_text()
    assert f"{part_one.number} (25.50 USD)" in parts and f"{part_two.number} (18.50 USD)" in parts
    page.get_by_test_id("split-into").get_by_role("link", name=part_one.number).click()
    page.wait_for_url(re.compile(rf"/orders/{part_one.pk}/$"))
    assert "25.50 USD" in page.get_by_test_id("costs").inner_text()
    assert big.number in page.get_by_test_id("split-from").inner_text()

    # when the list says the two orders to Mia Chen can be merged, and they merge them
    page.goto("/orders/")
    hint = page.locator(f"tr[data-order='{first.number}']").get_by_test_id("merge-hint")
    assert hint.inner_text() == "can be merged with 1"
    hint.click()
    checked = page.eval_on_selector_all(
        "input[name=order_ids]:checked", "boxes => boxes.map(b => b.closest('tr').dataset.order)"
    )
    assert sorted(checked) == sorted([first.number, second.number])  # the split parts are a group of their own
    page.get_by_test_id("bulk-merge").click()

    # then the merge page shows what the merge makes before anything changes: the two orders,
    # the rule check, the recipient, the lines, and one handling fee instead of two
    page.wait_for_url(re.compile(rf"/orders/merge/\?ids={first.pk},{second.pk}$"))
    merge_page = page.url
    assert Order.objects.filter(merged_into__isnull=False).count() == 0
    sources = page.get_by_test_id("merge-sources").inner_text()
    assert first.number in sources and second.number in sources
    assert "can be merged" in page.get_by_test_id("merge-check").inner_text()
    assert "Mia Chen" in page.get_by_test_id("merged-recipient").inner_text()
    assert page.get_by_test_id("merge-lines").locator("tbody tr").count() == 2
    assert page.locator("[data-separately='total']").inner_text() == "25.00 USD"
    assert page.locator("[data-merged='total']").inner_text() == "23.50 USD"
    assert page.get_by_test_id("merge-difference").inner_text() == "Merging saves 1.50 USD."
    for width in (390, 1366):  # the page fits a phone and a laptop
        page.set_viewport_size({"width": width, "height": 900})
        _assert_fits(page, merge_page, width, screenshots=request.config.getoption("verbose") > 1)

    # when they confirm, one order replaces them, priced once: 22.00 goods + one handling fee
    page.get_by_test_id("confirm-merge").click()
    merged = Order.objects.get(merged_from=first)
    page.wait_for_url(re.compile(rf"/orders/{merged.pk}/$"))
    assert f"into {merged.number}" in _messages(page)
    assert "23.50 USD" in page.get_by_test_id("costs").inner_text()
    page.goto("/orders/")
    assert "23.50 USD" in page.locator(f"tr[data-order='{merged.number}']").inner_text()
    # the page of the merge done says it cannot be done again, and offers no confirm
    page.goto(merge_page)
    assert "Only unpaid orders" in page.get_by_test_id("merge-refused").inner_text()
    assert page.get_by_test_id("confirm-merge").count() == 0
    page.goto(f"/orders/{merged.pk}/")
    sources = page.get_by_test_id("merged-from").inner_text()
    assert f"{first.number} (13.50 USD)" in sources and f"{second.number} (11.50 USD)" in sources
    assert "23.50 USD" in page.get_by_test_id("costs").inner_text()

    # when they put the merged order on hold with a reason
    page.fill("#hold-reason", "buyer asked to wait")
    page.get_by_role("button", name="Hold", exact=True).click()

    # then the page says so, and it can no longer be paid
    page.wait_for_url(re.compile(rf"/orders/{merged.pk}/$"))
    assert "On hold: buyer asked to wait" in page.get_by_test_id("hold-banner").inner_text()
    assert page.get_by_test_id("pay-order").count() == 0

    # when they release it, it can be paid again
    page.get_by_test_id("release-order").click()
    page.wait_for_url(re.compile(rf"/orders/{merged.pk}/$"))
    assert page.get_by_test_id("hold-banner").count() == 0
    assert page.get_by_test_id("pay-order").is_visible()
    assert f"Released from hold: {merged.number}." in _messages(page)

    # and the pages fit a laptop and a phone without sideways scroll
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in (
            "/orders/",
            f"/orders/{merged.pk}/",
            f"/orders/{big.pk}/",
            f"/orders/{part_two.pk}/split/",
            f"/orders/merge/?ids={first.pk},{second.pk}",
        ):
            _assert_fits(page, path, width, screenshots=request.config.getoption("verbose") > 1)
