"""Roles on the Orders pages, as the Members page states them: owners and admins see and
do everything; operators act on orders but see no money and cannot pay; finance members
see the money but read orders only (every POST but the export answers 403)."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from distribution.errors import PermissionDeniedError
from distribution.models import Role
from orders.actions import orders_cancel
from orders.models import Order, OrderStatus
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import MembershipFactory, owner_of
from tests.orders.factories import OrderFactory, OrderLineFactory
from tests.stores.factories import StoreFactory

ROLES = [Role.OWNER, Role.ADMIN, Role.OPERATOR, Role.FINANCE]
SEES_MONEY = {Role.OWNER: True, Role.ADMIN: True, Role.OPERATOR: False, Role.FINANCE: True}
CHANGES_ORDERS = {Role.OWNER: True, Role.ADMIN: True, Role.OPERATOR: True, Role.FINANCE: False}
PAYS = {Role.OWNER: True, Role.ADMIN: True, Role.OPERATOR: False, Role.FINANCE: False}

TOTAL = "26.90"
UNIT_PRICE = "12.80"


@pytest.fixture
def owner(db):
    return owner_of()


@pytest.fixture
def order(owner):
    warehouse = WarehouseFactory(code="US-CA", sites="US")
    item = ItemFactory(warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal(UNIT_PRICE))
    store = StoreFactory(distributor=owner.distributor, name="Acme US")
    order = OrderFactory(
        distributor=owner.distributor,
        store=store,
        warehouse=warehouse,
        country="US",
        goods_amount=Decimal("25.60"),
        handling_amount=Decimal("1.30"),
        total_amount=Decimal(TOTAL),
    )
    OrderLineFactory(
        order=order,
        item=item,
        item_code=item.item_id,
        store_sku="SERUM-US",
        quantity=2,
        unit_price=Decimal(UNIT_PRICE),
    )
    return order


def signed_in(client, owner, role):
    member = owner if role == Role.OWNER else MembershipFactory(distributor=owner.distributor, role=role)
    client.force_login(member.user)
    return member


def status_of(order) -> str:
    return Order.objects.get(pk=order.pk).status


@pytest.mark.parametrize("role", ROLES)
def test_order_list_shows_money_and_actions_by_role(client, owner, order, role):
    signed_in(client, owner, role)
    response = client.get(reverse("orders:order_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html
    assert (f"{TOTAL} USD" in html) is SEES_MONEY[role]
    assert (">Total<" in html) is SEES_MONEY[role]
    assert ("Pay selected" in html) is PAYS[role]
    assert ("Cancel selected" in html) is CHANGES_ORDERS[role]
    assert ("Import orders" in html) is CHANGES_ORDERS[role]
    assert "Export selected" in html


@pytest.mark.parametrize("role", ROLES)
def test_order_list_bulk_cancel_by_role(client, owner, order, role):
    signed_in(client, owner, role)
    response = client.post(reverse("orders:order_list"), {"action": "cancel", "order_ids": [order.pk]})
    if CHANGES_ORDERS[role]:
        assert response.status_code == 302
        assert status_of(order) == OrderStatus.CANCELLED
    else:
        assert response.status_code == 403
        assert status_of(order) == OrderStatus.AWAITING_PAYMENT


@pytest.mark.parametrize("role", ROLES)
def test_order_list_bulk_pay_by_role(client, owner, order, role):
    signed_in(client, owner, role)
    response = client.post(reverse("orders:order_list"), {"action": "pay", "order_ids": [order.pk]})
    if PAYS[role]:
        assert response.status_code == 302 and response["Location"].startswith(reverse("orders:pay"))
    else:
        assert response.status_code == 403
    assert client.get(f"{reverse('orders:pay')}?ids={order.pk}").status_code == (200 if PAYS[role] else 403)


@pytest.mark.parametrize("role", ROLES)
def test_order_page_shows_costs_and_actions_by_role(client, owner, order, role):
    signed_in(client, owner, role)
    response = client.get(reverse("orders:order_detail", args=[order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "SERUM-US" in html and "Jane Buyer" in html
    assert ('data-testid="costs"' in html) is SEES_MONEY[role]
    assert (f"{TOTAL} USD" in html) is SEES_MONEY[role]
    assert (f"{UNIT_PRICE} USD" in html) is SEES_MONEY[role]
    assert ("Unit price" in html) is SEES_MONEY[role]
    assert ('data-testid="pay-order"' in html) is PAYS[role]
    assert ("Cancel order" in html) is CHANGES_ORDERS[role]


@pytest.mark.parametrize("role", ROLES)
def test_order_page_cancel_by_role(client, owner, order, role):
    signed_in(client, owner, role)
    response = client.post(reverse("orders:order_detail", args=[order.pk]), {"action": "cancel"})
    assert response.status_code == (302 if CHANGES_ORDERS[role] else 403)
    assert status_of(order) == (OrderStatus.CANCELLED if CHANGES_ORDERS[role] else OrderStatus.AWAITING_PAYMENT)


@pytest.mark.parametrize("role", ROLES)
def test_export_by_role_has_money_columns_only_for_roles_that_see_money(client, owner, order, role):
    signed_in(client, owner, role)
    response = client.post(reverse("orders:order_list"), {"action": "export", "order_ids": [order.pk]})
    assert response.status_code == 200  # an export only reads, so finance members may too
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header, row = rows[0], rows[1]
    assert row[header.index("Order No")] == order.number
    assert row[header.index("Postcode")] == "02134"
    assert ("Total" in header) is SEES_MONEY[role]
    assert ("Currency" in header) is SEES_MONEY[role]
    assert (TOTAL in row) is SEES_MONEY[role]


def test_finance_members_cannot_import_or_sync(client, owner, order):
    signed_in(client, owner, Role.FINANCE)
    assert client.post(reverse("orders:import"), {}).status_code == 403
    assert client.post(reverse("orders:sync_now", args=[order.store.pk]), {}).status_code == 403
    assert client.post(reverse("orders:import_confirm", args=[1])).status_code == 403


def test_finance_members_cannot_cancel_through_the_service_either(owner, order):
    finance = MembershipFactory(distributor=owner.distributor, role=Role.FINANCE)
    with pytest.raises(PermissionDeniedError):
        orders_cancel(actor=finance, orders=[order])
    assert status_of(order) == OrderStatus.AWAITING_PAYMENT


def test_membership_rule_of_roles(owner):
    # The one rule the pages ask (distribution/models.py).
    for role in ROLES:
        member = owner if role == Role.OWNER else MembershipFactory(distributor=owner.distributor, role=role)
        assert member.sees_money is SEES_MONEY[role]
        assert member.may_change("orders") is CHANGES_ORDERS[role]
        assert member.may_pay is PAYS[role]
