"""A new distributor signs up in a real browser, finds the "Start here" checklist with
nothing ticked, follows each item's link, does the step there, and sees it tick.

Every step is done through the portal's own pages: a store without an API through the
authorize form, a mapping through [Add], the first order through the order-file import of
a small CSV, a top-up through [Top Up Balance] with a PNG proof. Only the approval of the
top-up is done as staff do it, through the finance service (the admin is not the portal).
"""

import re

import pytest
from django.core import mail

from catalog.demo import png_bytes
from distribution.models import Distributor
from finance import services as finance
from finance.models import TopUp
from orders.imports import format as orderfile
from orders.models import Order
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "checklist@example.com"
PASSWORD = "Checklist-pass-2026"


def _sign_up_and_sign_in(page, live_server):
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.fill("input[name=company_name]", "Checklist Trading")
    page.fill("input[name=contact_person]", "Ada Checklist")
    page.fill("input[name=phone]", "+1 646 555 0102")
    page.fill("input[name=country]", "US")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    link = re.search(r"https?://[^/]+(/accounts/confirm-email/[^\s]+)", mail.outbox[-1].body).group(1)
    page.goto(link)
    page.click("form button[type=submit]")
    page.goto("/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _states(page) -> dict[str, str]:
    steps = page.locator("[data-step]")
    return {
        steps.nth(i).get_attribute("data-step"): steps.nth(i).get_attribute("data-done") for i in range(steps.count())
    }


def _follow(page, step: str) -> None:
    """From the home page, the step's own link."""
    page.goto("/")
    page.locator(f'[data-step="{step}"] a').first.click()
    page.wait_for_load_state()


def _order_csv(tmp_path, sku: str):
    path = tmp_path / "first-order.csv"
    values = {
        orderfile.ORDER_NO: "FIRST-1",
        orderfile.SKU: sku,
        "Order Date": "2026-01-31",
        "Quantity": "1",
        "Recipient": "Ada Lovelace",
        "Phone": "+1 212 555 0101",
        "Email": "ada@example.com",
        "Country": "US",
        "State/Province": "NY",
        "City": "New York",
        "Address 1": "12 Analytical Ave",
        "Postcode": "02134",
    }
    header = orderfile.COLUMNS
    rows = [header, [values.get(column, "") for column in header]]
    path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_a_new_distributor_follows_the_checklist_and_sees_each_step_tick(page, live_server, tmp_path):
    # given our catalogue has an item in a warehouse serving the US
    item = ItemFactory(warehouse=WarehouseFactory(code="US-NJ", sites="US"))
    # and a visitor signs up and signs in
    _sign_up_and_sign_in(page, live_server)

    # then the home page shows the checklist with nothing ticked
    checklist = page.get_by_test_id("checklist")
    assert checklist.is_visible() and "Start here" in checklist.inner_text()
    assert _states(page) == {
        "stores.connect": "false",
        "mapping.map": "false",
        "orders.first": "false",
        "finance.topup": "false",
    }

    # when they follow "Connect a store" and add a store without an API
    _follow(page, "stores.connect")
    page.select_option("select[name=platform]", "other")
    page.get_by_test_id("authorize-now").click()
    page.wait_for_url(re.compile(r"/stores/authorize/\?platform=other"))
    assert page.locator("main h1").inner_text() == "Add a store without an API"
    page.fill("input[name=name]", "Market Stall US")
    page.fill("input[name=site]", "US")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/stores/")
    # then its step ticks on the home page
    page.goto("/")
    assert _states(page)["stores.connect"] == "true"

    # when they follow "Map your SKUs" and add a mapping with [Add]
    _follow(page, "mapping.map")
    page.get_by_test_id("mapping-add").click()
    page.wait_for_url(re.compile(r"/mapping/add/"))
    page.select_option("select[name=store]", label="Market Stall US · Other platform (no API) · US")
    page.fill("input[name=store_sku]", "STALL-SERUM")
    page.fill("input[name=item_id]", item.item_id)
    page.locator("form[data-mapping-form] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/mapping/"))
    page.goto("/")
    assert _states(page)["mapping.map"] == "true"

    # when they follow "Get your first order" and import a one-order CSV into the store
    _follow(page, "orders.first")
    assert page.url.endswith("/orders/import/")
    page.select_option("select[name=store]", label="Market Stall US · Other platform (no API) · US")
    page.set_input_files("input[name=file]", str(_order_csv(tmp_path, "STALL-SERUM")))
    page.get_by_role("button", name="Upload and check").click()
    page.get_by_test_id("import-confirm").click()
    page.wait_for_load_state()
    assert Order.objects.filter(distributor__company_name="Checklist Trading").count() == 1
    page.goto("/")
    assert _states(page)["orders.first"] == "true"

    # when they follow "Top up your balance" and send a transfer with a PNG proof
    _follow(page, "finance.topup")
    proof = tmp_path / "transfer.png"
    proof.write_bytes(png_bytes((10, 120, 200)))
    page.fill("input[name=amount]", "150.00")
    page.select_option("select[name=currency]", "USD")
    page.fill("input[name=transfer_reference]", "WIRE-CHECKLIST-1")
    page.set_input_files("input[name=proof]", str(proof))
    page.get_by_role("button", name="Submit top-up").click()
    page.wait_for_load_state()
    # then the step waits for staff, not ticked yet
    page.goto("/")
    assert _states(page)["finance.topup"] == "false"
    assert "waits for approval" in page.locator('[data-step="finance.topup"]').inner_text()

    # when staff approve it
    top_up = TopUp.objects.get(distributor=Distributor.objects.get(company_name="Checklist Trading"))
    finance.topup_approve(actor=UserFactory(email="finance-staff@example.com", is_staff=True), top_up=top_up)

    # then every step is done and the checklist folds into "You're set up"
    page.goto("/")
    assert page.get_by_test_id("checklist").count() == 0
    done = page.get_by_test_id("checklist-done")
    assert done.is_visible() and "You're set up" in done.inner_text()
    assert set(_states(page).values()) == {"true"}
    # and the figures show the order the distributor imported
    assert "1 order in all" in page.get_by_test_id("home-orders").inner_text()
