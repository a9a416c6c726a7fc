"""Step 7's logistics in the portal: the order page's Logistics card lists the warehouse's
shipping methods quoted for the order (price, delivery time; the ones that cannot carry it
disabled with the reason) and self-pickup (the warehouse's address, hours and fee), and
[Save logistics] prices the order again; paid orders show their logistics read-only; the
list sets logistics in bulk and shows each order's method; the pay page shows the freight.
Members who see no money see no prices; finance members get no form and 403; another
distributor's order is 404."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from distribution.models import Role
from orders.actions import orders_logistics_choose
from orders.ingest import platform_order_ingest
from orders.models import Logistics, Order, OrderStatus, PlatformOrder
from tests.catalog.factories import (
    ItemFactory,
    RateCardFactory,
    RateRowFactory,
    RateZoneFactory,
    ShippingMethodFactory,
    WarehouseFactory,
)
from tests.distribution.factories import MembershipFactory, owner_of
from tests.orders.test_left_out_lines import line
from tests.orders.test_left_out_lines import order as platform_order
from tests.orders.test_operations import make_order
from tests.orders.test_pages import PINNED_LIST_QUERIES
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

ROLES = [Role.OWNER, Role.ADMIN, Role.OPERATOR, Role.FINANCE]
CHANGES_ORDERS = {Role.OWNER: True, Role.ADMIN: True, Role.OPERATOR: True, Role.FINANCE: False}
SEES_MONEY = {Role.OWNER: True, Role.ADMIN: True, Role.OPERATOR: False, Role.FINANCE: True}


@pytest.fixture
def owner():
    return owner_of()


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, site="US", name="Acme US")


@pytest.fixture
def warehouse():
    return WarehouseFactory(
        code="US-CA",
        sites="US",
        handling_fee=Decimal("1.50"),
        self_pickup_fee=Decimal("2.50"),
        address="1 Dock Rd\nLos Angeles, CA 90021",
        opening_hours="Mon–Fri 09:00–17:00",
    )


def method(warehouse, carrier, service, first_price, step_price, *, eta=(1, 5), **fields):
    """A method with one card in force: the first 500 g `first_price`, each further 500 g `step_price`."""
    shipping = ShippingMethodFactory(
        warehouse=warehouse, carrier=carrier, service=service, eta_min_days=eta[0], eta_max_days=eta[1], **fields
    )
    zone = RateZoneFactory(card=RateCardFactory(method=shipping), country=fields.get("countries", "US")[:2])
    RateRowFactory(zone=zone, first_grams=500, first_price=Decimal(first_price), step_price=Decimal(step_price))
    return shipping


@pytest.fixture
def usps(warehouse):
    return method(warehouse, "USPS", "Ground Advantage", "4.00", "2.00", eta=(2, 5))


@pytest.fixture
def ups(warehouse):
    return method(warehouse, "UPS", "Ground", "6.00", "0.50", eta=(1, 3))


@pytest.fixture
def dhl(warehouse):
    # Serves Germany only: listed for a US order, disabled, with its reason.
    return method(warehouse, "DHL", "Paket", "3.00", "0.10", countries="DE")


@pytest.fixture
def serum(warehouse):
    return ItemFactory(warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.00"), weight_grams=150)


@pytest.fixture
def mask(warehouse):
    return ItemFactory(warehouse=warehouse, item_id="LS228800002-01-01", price=Decimal("5.00"), weight_grams=150)


def priced_order(owner, store, warehouse, lines, **fields):
    """An order as new orders are made: dropshipping by the cheapest method that serves it."""
    made = make_order(owner, store, warehouse, lines, **fields)
    orders_logistics_choose(actor=owner, orders=[made], logistics=Logistics.DROPSHIPPING)
    return fresh(made)


@pytest.fixture
def order(owner, store, warehouse, serum, mask, usps, ups, dhl):
    # serum × 3 + mask × 1 = 41.00 goods + 1.50 handling; 600 g, billed on 1,000 g:
    # USPS 4.00 + 2.00 = 6.00 (the cheapest), UPS 6.00 + 0.50 = 6.50
    return priced_order(owner, store, warehouse, [(serum, 3), (mask, 1)])


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner.user)
    return client


def as_role(client, owner, role):
    member = owner if role == Role.OWNER else MembershipFactory(distributor=owner.distributor, role=role)
    client.force_login(member.user)
    return member


def fresh(order) -> Order:
    return Order.objects.get(pk=order.pk)


def url(order) -> str:
    return reverse("orders:order_detail", args=[order.pk])


def card(html: str, testid: str = "logistics") -> str:
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</div></div>", start)]


def option(html: str, method) -> str:
    start = html.index(f'data-testid="logistics-option" data-method="{method.pk}"')
    return html[start : html.index("</label>", start)]


def costs(html: str) -> str:
    start = html.index('data-testid="costs"')
    return html[start : html.index("</dl>", start)]


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def choose(client, order, value, **extra):
    return client.post(url(order), {"action": "logistics", "logistics_choice": value, **extra}, follow=True)


# --- the order page's choices -------------------------------------------------------------------


def test_order_page_lists_the_methods_with_price_and_delivery_time_cheapest_checked(signed_in, order, usps, ups):
    html = signed_in.get(url(order)).content.decode()

    listed = card(html)
    assert 'data-testid="logistics-form"' in listed and 'data-testid="save-logistics"' in listed
    # cheapest first, as quoted for this order
    assert listed.index("USPS Ground Advantage") < listed.index("UPS Ground") < listed.index("DHL Paket")
    first = option(html, usps)
    assert "6.00 USD" in first and "delivery 2–5 business days" in first and "billed on 1,000 g" in first
    assert f'value="{usps.pk}" checked' in first  # what the new order was given
    second = option(html, ups)
    assert "6.50 USD" in second and "delivery 1–3 business days" in second and "checked" not in second


def test_a_method_that_cannot_carry_the_order_is_listed_disabled_with_its_reason(signed_in, order, dhl):
    html = signed_in.get(url(order)).content.decode()

    refused = option(html, dhl)
    assert f'value="{dhl.pk}" disabled' in refused
    assert "DHL Paket does not serve US." in refused
    assert "USD" not in refused  # no price for what cannot be chosen


def test_order_page_offers_self_pickup_with_the_warehouses_address_hours_and_fee(signed_in, order):
    html = signed_in.get(url(order)).content.decode()

    pickup = html[html.index('data-testid="self-pickup-option"') :][:2000]
    assert "Self-pickup at US-CA" in pickup and "fee 2.50 USD, no freight" in pickup
    assert "1 Dock Rd<br>Los Angeles, CA 90021" in pickup and "Mon–Fri 09:00–17:00" in pickup
    assert 'value="self_pickup" checked' not in pickup


def test_each_option_carries_what_the_order_would_cost_with_it(signed_in, order, ups):
    html = signed_in.get(url(order)).content.decode()

    assert 'data-shipping="6.50" data-handling="1.50" data-total="49.00"' in option(html, ups)
    pickup = html[html.index('id="logistics-self-pickup"') :][:400]
    assert 'data-shipping="0.00" data-handling="4.00" data-total="45.00"' in pickup


def test_choosing_a_method_changes_the_costs(signed_in, order, ups):
    before = costs(signed_in.get(url(order)).content.decode())
    assert "6.00 USD" in before and "48.50 USD" in before

    response = choose(signed_in, order, str(ups.pk))

    chosen = fresh(order)
    assert (chosen.chosen_method, chosen.shipping_amount, chosen.total_amount) == (
        ups,
        Decimal("6.50"),
        Decimal("49.00"),
    )
    assert page_messages(response) == [f"Logistics chosen: {order.number}: UPS Ground, freight 6.50 USD."]
    html = response.content.decode()
    after = costs(html)
    assert "41.00 USD" in after and "6.50 USD" in after and "1.50 USD" in after and "49.00 USD" in after
    assert f'value="{ups.pk}" checked' in option(html, ups)
    assert "Dropshipping by UPS Ground: freight 6.50 USD." in html  # the timeline


def test_choosing_self_pickup_shows_no_freight_and_the_fee_in_handling(signed_in, order):
    response = choose(signed_in, order, "self_pickup")

    chosen = fresh(order)
    assert (chosen.logistics, chosen.chosen_method, chosen.shipping_method) == (Logistics.SELF_PICKUP, None, "")
    assert page_messages(response) == [f"Logistics chosen: {order.number}: self-pickup at US-CA."]
    html = response.content.decode()
    after = costs(html)
    assert "0.00 USD" in after and "4.00 USD" in after and "45.00 USD" in after
    assert 'data-testid="self-pickup-costs"' in html
    assert 'value="self_pickup" checked' in html


def test_choosing_a_method_that_cannot_carry_it_says_why_and_changes_nothing(signed_in, order, usps, dhl):
    response = choose(signed_in, order, str(dhl.pk))

    assert page_messages(response) == [f"{order.number} kept its logistics: DHL Paket does not serve US."]
    kept = fresh(order)
    assert (kept.chosen_method, kept.shipping_amount) == (usps, Decimal("6.00"))


@pytest.mark.parametrize("value", ["", "by-pigeon", "12; drop table"])
def test_choosing_nothing_or_nonsense_asks_for_a_choice(signed_in, order, usps, value):
    response = choose(signed_in, order, value)
    assert page_messages(response) == ["Choose a shipping method or self-pickup."]
    assert fresh(order).chosen_method == usps


def test_a_new_order_comes_with_the_cheapest_method_checked(signed_in, owner, store, warehouse, usps, ups):
    from mapping.models import Mapping

    item = ItemFactory(warehouse=warehouse, price=Decimal("12.00"), weight_grams=1400)
    Mapping.objects.create(store=store, store_sku="SERUM", item=item)
    platform_order_ingest(store=store, order=platform_order("7001", line("SERUM")), source=PlatformOrder.Source.PULL)
    made = Order.objects.get(store=store)

    html = signed_in.get(url(made)).content.decode()

    # 1,400 g, billed on 1,500 g: UPS 6.00 + 2 × 0.50 = 7.00 beats USPS 4.00 + 2 × 2.00 = 8.00
    assert f'value="{ups.pk}" checked' in option(html, ups) and "7.00 USD" in option(html, ups)
    assert "8.00 USD" in option(html, usps) and "checked" not in option(html, usps)


def test_order_page_quotes_once_whatever_the_number_of_methods(signed_in, owner, store, warehouse, serum, usps):
    one = priced_order(owner, store, warehouse, [(serum, 1)])

    def queries(order) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert signed_in.get(url(order)).status_code == 200
        return len(captured)

    few = queries(one)
    for n in range(4):
        method(warehouse, "Carrier", f"Service {n}", "5.00", "1.00")
    assert queries(one) == few


# --- what an order has, when it cannot be chosen -------------------------------------------------


def test_paid_order_shows_its_logistics_read_only(signed_in, order, usps):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)

    html = signed_in.get(url(order)).content.decode()

    shown = card(html)
    assert 'data-testid="logistics-form"' not in shown and 'name="logistics_choice"' not in shown
    assert "USPS Ground Advantage" in shown and "delivery 2–5 business days" in shown
    assert "1,000 g" in shown[shown.index('data-testid="chargeable-weight"') :]
    freight = shown[shown.index("Freight paid") :]
    assert "6.00 USD" in freight


def test_paid_self_pickup_order_shows_where_and_when_and_its_pickup_code(signed_in, owner, order):
    orders_logistics_choose(actor=owner, orders=[order], logistics=Logistics.SELF_PICKUP)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.AT_WAREHOUSE, pickup_code="PK-4821")

    shown = card(signed_in.get(url(order)).content.decode())

    assert "Self-pickup at US-CA" in shown and "1 Dock Rd" in shown and "Mon–Fri 09:00–17:00" in shown
    assert 'data-testid="pickup-code">PK-4821<' in shown
    assert 'name="logistics_choice"' not in shown


def test_self_pickup_order_without_a_code_yet_shows_none(signed_in, owner, order):
    orders_logistics_choose(actor=owner, orders=[order], logistics=Logistics.SELF_PICKUP)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    assert 'data-testid="pickup-code"' not in signed_in.get(url(order)).content.decode()


def test_an_order_waiting_for_a_mapping_says_logistics_come_later(signed_in, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PENDING_MAPPING, missing_skus=["NEW-SKU"])

    shown = card(signed_in.get(url(order)).content.decode())

    assert 'name="logistics_choice"' not in shown
    assert "Logistics cannot be chosen yet: it waits for a mapping." in shown
    assert 'data-testid="freight"' not in shown  # not priced yet: no "0.00" that reads as free


def test_choosing_for_a_paid_order_says_why_not(signed_in, order, ups):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    response = choose(signed_in, order, str(ups.pk))
    assert page_messages(response) == [
        f"{order.number} kept its logistics: it is paid; logistics are chosen before payment."
    ]
    assert fresh(order).shipping_amount == Decimal("6.00")


# --- roles and tenancy ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_logistics_card_by_role(client, owner, order, usps, role):
    as_role(client, owner, role)

    shown = card(client.get(url(order)).content.decode())

    assert ('data-testid="logistics-form"' in shown) is CHANGES_ORDERS[role]
    assert "USPS Ground Advantage" in shown
    assert ("6.00 USD" in shown) is SEES_MONEY[role]
    assert ("2.50 USD" in shown) is (SEES_MONEY[role] and CHANGES_ORDERS[role])
    assert "delivery 2–5 business days" in shown  # delivery times are no money
    assert ("data-total=" in shown) is (SEES_MONEY[role] and CHANGES_ORDERS[role])


@pytest.mark.parametrize("role", ROLES)
def test_choosing_logistics_by_role(client, owner, order, ups, role):
    as_role(client, owner, role)

    response = client.post(url(order), {"action": "logistics", "logistics_choice": str(ups.pk)})

    assert response.status_code == (302 if CHANGES_ORDERS[role] else 403)
    assert (fresh(order).chosen_method == ups) is CHANGES_ORDERS[role]
    bulk = client.post(
        reverse("orders:order_list"),
        {"action": "logistics", "logistics_choice": "self_pickup", "order_ids": [order.pk]},
    )
    assert bulk.status_code == (302 if CHANGES_ORDERS[role] else 403)
    assert (fresh(order).logistics == Logistics.SELF_PICKUP) is CHANGES_ORDERS[role]


def test_an_operator_is_told_the_method_but_not_the_freight(client, owner, order, ups):
    as_role(client, owner, Role.OPERATOR)
    response = choose(client, order, str(ups.pk))
    assert page_messages(response) == [f"Logistics chosen: {order.number}: UPS Ground."]


def test_another_distributors_order_is_not_found(signed_in, serum, mask, warehouse, usps, ups):
    stranger = owner_of()
    foreign = priced_order(stranger, StoreFactory(distributor=stranger.distributor), warehouse, [(serum, 1)])

    assert signed_in.get(url(foreign)).status_code == 404
    posted = signed_in.post(url(foreign), {"action": "logistics", "logistics_choice": "self_pickup"})
    assert posted.status_code == 404
    response = signed_in.post(
        reverse("orders:order_list"),
        {"action": "logistics", "logistics_choice": "self_pickup", "order_ids": [foreign.pk]},
        follow=True,
    )
    assert page_messages(response) == ["Select at least one order."]
    assert fresh(foreign).logistics == Logistics.DROPSHIPPING and fresh(foreign).chosen_method == usps


# --- the list -------------------------------------------------------------------------------------------


def bulk(client, orders, choice):
    return client.post(
        reverse("orders:order_list"),
        {"action": "logistics", "logistics_choice": choice, "order_ids": [o.pk for o in orders]},
        follow=True,
    )


def test_list_offers_the_bulk_logistics_with_its_two_choices(signed_in, order):
    html = signed_in.get(reverse("orders:order_list")).content.decode()
    choices = html[html.index('data-testid="bulk-logistics-choice"') :][:400]
    assert '<option value="dropshipping">Dropshipping, cheapest method</option>' in choices
    assert '<option value="self_pickup">Self-pickup</option>' in choices
    assert 'data-testid="bulk-logistics"' in html


def test_bulk_self_pickup_reports_each_order(signed_in, owner, store, warehouse, serum, order):
    paid = priced_order(owner, store, warehouse, [(serum, 1)])
    Order.objects.filter(pk=paid.pk).update(status=OrderStatus.PAID)

    response = bulk(signed_in, [order, paid], "self_pickup")

    said = page_messages(response)
    assert f"Logistics chosen: {order.number}: self-pickup at US-CA." in said
    assert f"{paid.number} kept its logistics: it is paid; logistics are chosen before payment." in said
    assert fresh(order).logistics == Logistics.SELF_PICKUP and fresh(paid).logistics == Logistics.DROPSHIPPING


def test_bulk_dropshipping_gives_each_order_its_cheapest_method(
    signed_in, owner, store, warehouse, serum, usps, ups, dhl
):
    light = priced_order(owner, store, warehouse, [(serum, 1)])  # 150 g: USPS 4.00, UPS 6.00
    heavy = priced_order(owner, store, warehouse, [(serum, 10)])  # 1,500 g: USPS 8.00, UPS 7.00
    for made in (light, heavy):
        orders_logistics_choose(actor=owner, orders=[made], logistics=Logistics.SELF_PICKUP)
    waiting = priced_order(owner, store, warehouse, [(serum, 1)])
    Order.objects.filter(pk=waiting.pk).update(status=OrderStatus.PENDING_MAPPING, missing_skus=["NEW"])

    response = bulk(signed_in, [light, heavy, waiting], "dropshipping")

    first, second = sorted([(light.number, "USPS Ground Advantage", "4.00"), (heavy.number, "UPS Ground", "7.00")])
    said = page_messages(response)
    assert (
        f"Logistics chosen: {first[0]}: {first[1]}, freight {first[2]} USD; "
        f"{second[0]}: {second[1]}, freight {second[2]} USD."
    ) in said
    assert f"{waiting.number} kept its logistics: it waits for a mapping." in said
    assert (fresh(light).chosen_method, fresh(heavy).chosen_method) == (usps, ups)


def test_bulk_dropshipping_where_no_method_serves_says_so(signed_in, owner, store, warehouse, serum, order):
    far = priced_order(owner, store, warehouse, [(serum, 1)])
    orders_logistics_choose(actor=owner, orders=[far], logistics=Logistics.SELF_PICKUP)
    Order.objects.filter(pk=far.pk).update(country="CA", postal_code="M5V 2T6")

    response = bulk(signed_in, [far], "dropshipping")

    [said] = page_messages(response)
    assert said.startswith(f"{far.number} kept its logistics: ")
    assert fresh(far).logistics == Logistics.SELF_PICKUP


def test_bulk_logistics_needs_a_choice(signed_in, order):
    response = bulk(signed_in, [order], "cheapest-ish")
    assert page_messages(response) == ["Choose a shipping method or self-pickup."]


def test_list_shows_each_orders_method_or_self_pickup(signed_in, owner, store, warehouse, serum, order, ups):
    pickup = priced_order(owner, store, warehouse, [(serum, 1)])
    orders_logistics_choose(actor=owner, orders=[pickup], logistics=Logistics.SELF_PICKUP)

    html = signed_in.get(reverse("orders:order_list")).content.decode()

    def cell(number):
        row = html[html.index(f'data-order="{number}"') :]
        start = row.index('data-testid="logistics-cell"')
        return row[start : row.index("</td>", start)]

    assert "USPS Ground Advantage" in cell(order.number)
    assert "Self-pickup" in cell(pickup.number)
    assert '<th scope="col" class="d-none d-md-table-cell">Logistics</th>' in html  # folds away on phones


@pytest.mark.parametrize("rows", [5, 30])
def test_list_with_logistics_costs_no_query_per_row(
    signed_in, owner, store, warehouse, serum, usps, ups, settings, rows, django_assert_num_queries
):
    settings.PORTAL_PAGE_SIZE = 50
    made = [priced_order(owner, store, warehouse, [(serum, 1 + n % 12)]) for n in range(rows)]
    orders_logistics_choose(actor=owner, orders=made[::3], logistics=Logistics.SELF_PICKUP)

    with django_assert_num_queries(PINNED_LIST_QUERIES):
        response = signed_in.get(reverse("orders:order_list"))

    html = response.content.decode()
    assert html.count('data-testid="logistics-cell"') == rows
    assert html.count('data-testid="logistics-cell">Self-pickup<') == len(made[::3])


# --- the pay page -------------------------------------------------------------------------------------


def test_pay_page_shows_each_orders_freight_and_what_the_total_is_made_of(signed_in, owner, order, ups):
    pickup = priced_order(owner, order.store, order.warehouse, [(order.lines.first().item, 1)])
    orders_logistics_choose(actor=owner, orders=[pickup], logistics=Logistics.SELF_PICKUP)

    html = signed_in.get(f"{reverse('orders:pay')}?ids={order.pk},{pickup.pk}").content.decode()

    row = html[html.index(f'data-order="{order.number}"') :][:1500]
    assert "USPS Ground Advantage" in row and ">6.00<" in row and ">1.50<" in row and "48.50 USD" in row
    assert "Goods 41.00 + shipping 6.00 + handling 1.50" in row  # on phones, under the order
    other = html[html.index(f'data-order="{pickup.number}"') :][:1500]
    assert "Self-pickup" in other and ">0.00<" in other and ">4.00<" in other
    summary = html[html.index('data-testid="pay-summary"') :][:1500]
    # goods 41.00 + 12.00, freight 6.00 + 0, handling 1.50 + 4.00
    assert "53.00 USD" in summary and "6.00 USD" in summary and "5.50 USD" in summary and "64.50 USD" in summary
