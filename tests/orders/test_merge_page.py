"""The merge confirmation page (issue 14): [Merge selected] on the list opens a page that
lists the selected orders, the rule check (the rule and the orders it fails for, and then
no confirm button), the merged order's recipient, lines and cost beside the sources'
costs added up, priced without saving anything; [Confirm merge] merges once. Another
distributor's order is 404, finance members get 403, the page's queries do not grow with
the orders."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from distribution.models import Role
from orders.models import Order, OrderStatus
from tests.catalog.factories import ItemFactory, ShippingMethodFactory, WarehouseFactory
from tests.distribution.factories import MembershipFactory, owner_of
from tests.orders.test_operations import make_order
from tests.orders.test_paid_quote import priced, shipped
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

MIA = {"recipient_name": "Mia Chen", "address1": "2150 Mission St", "city": "San Francisco"}


@pytest.fixture
def owner():
    return owner_of()


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, site="US", name="Acme US")


@pytest.fixture
def warehouse():
    return WarehouseFactory(
        code="US-CA", sites="US", handling_fee=Decimal("1.50"), handling_fee_per_extra_piece=Decimal("0.30")
    )


@pytest.fixture
def ups(warehouse):
    method = ShippingMethodFactory(warehouse=warehouse, carrier="UPS", service="Ground", code="UPS_GROUND")
    priced(method, "6.00", "0.50")  # the first 500 g 6.00, each further 500 g 0.50
    return method


@pytest.fixture
def serum(warehouse):
    return ItemFactory(
        warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.00"), weight_grams=400, stock_on_hand=100
    )


@pytest.fixture
def mask(warehouse):
    return ItemFactory(
        warehouse=warehouse, item_id="LS228800002-01-01", price=Decimal("5.00"), weight_grams=150, stock_on_hand=100
    )


@pytest.fixture
def pair(owner, store, warehouse, serum, mask, ups):
    # serum × 1: 12.00 + 6.00 (400 g, billed on 500 g) + 1.50 = 19.50
    first = shipped(owner, store, warehouse, [(serum, 1)])
    Order.objects.filter(pk=first.pk).update(**MIA)
    # mask × 2: 10.00 + 6.00 (300 g) + 1.50 + 0.30 = 17.80; the same recipient, spelled otherwise
    second = shipped(owner, store, warehouse, [(mask, 2)])
    Order.objects.filter(pk=second.pk).update(
        recipient_name="MIA  CHEN", address1="2150 mission st.", city="SAN FRANCISCO"
    )
    return Order.objects.get(pk=first.pk), Order.objects.get(pk=second.pk)


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner.user)
    return client


def merge_url(*orders) -> str:
    return f"{reverse('orders:merge')}?ids={','.join(str(o.pk) for o in orders)}"


def ids(*orders) -> dict:
    return {"ids": ",".join(str(o.pk) for o in orders)}


def section(html: str, testid: str) -> str:
    start = html.index(f'data-testid="{testid}"')
    return " ".join(html[start : start + 6000].split())


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}]


# --- what the page shows -------------------------------------------------------------------------


def test_the_page_shows_the_orders_the_merged_order_and_its_cost_against_the_sources_and_saves_nothing(signed_in, pair):
    first, second = pair
    assert (first.total_amount, second.total_amount) == (Decimal("19.50"), Decimal("17.80"))

    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(merge_url(second, first))

    assert response.status_code == 200 and not writes(queries)
    html = response.content.decode()
    sources = section(html, "merge-sources")
    assert first.number in sources and second.number in sources and "19.50 USD" in sources
    assert 'data-testid="merge-check"' in html and 'data-testid="merge-refused"' not in html
    recipient = section(html, "merged-recipient")
    assert "Mia Chen" in recipient and "2150 Mission St" in recipient
    # one parcel: 700 g billed on 1,000 g, 6.00 + 0.50
    assert "One parcel by UPS Ground, billed on 1,000 g." in recipient
    lines = section(html, "merge-lines")
    assert "LS228800001-01-01" in lines and "LS228800002-01-01" in lines
    assert lines.count(first.number) >= 1 and lines.count(second.number) >= 1
    costs = section(html, "merge-costs")
    for part, separately, merged in (
        ("goods", "22.00", "22.00"),
        ("shipping", "12.00", "6.50"),
        ("handling", "3.30", "2.10"),  # 1.50 once, and 2 extra pieces of the three
        ("total", "37.30 USD", "30.60 USD"),
    ):
        assert f'data-separately="{part}">{separately}<' in costs and f'data-merged="{part}">{merged}<' in costs
    assert "Merging saves 6.70 USD." in costs
    assert 'data-testid="confirm-merge"' in html and f'name="ids" value="{first.pk},{second.pk}"' in html
    assert Order.objects.count() == 2
    assert set(Order.objects.values_list("merged_into", flat=True)) == {None}


def test_the_cost_shown_is_what_the_merge_then_charges(signed_in, pair):
    first, second = pair
    preview = signed_in.get(merge_url(first, second)).context["merged"]

    signed_in.post(reverse("orders:merge"), ids(first, second))

    merged = Order.objects.get(merged_from=first)
    fields = ("goods_amount", "shipping_amount", "handling_amount", "total_amount", "chargeable_grams")
    assert [getattr(merged, name) for name in fields] == [getattr(preview, name) for name in fields]


def test_a_refused_merge_names_the_rule_and_the_orders_and_offers_no_confirm(
    signed_in, owner, store, warehouse, pair, serum
):
    first, second = pair
    other = shipped(owner, store, warehouse, [(serum, 1)])  # Jane Buyer: another recipient

    response = signed_in.get(merge_url(first, second, other))

    html = response.content.decode()
    refused = section(html, "merge-refused")
    assert "Rule: the same recipient and address." in refused
    assert f"these do not: {other.number}" in refused
    assert section(html, "merge-failed-for").startswith(
        f'data-testid="merge-failed-for">Fails for: <span class="font-monospace">{other.number}<'
    )
    rows = section(html, "merge-sources")
    assert f'<tr data-order="{other.number}" class="table-danger" data-fails-rule>' in rows
    assert f'<tr data-order="{first.number}">' in rows
    for absent in ("confirm-merge", "merge-costs", "merge-lines", "merged-recipient"):
        assert f'data-testid="{absent}"' not in html


def test_orders_that_cannot_be_merged_at_all_are_named(signed_in, owner, pair):
    first, second = pair
    Order.objects.filter(pk=second.pk).update(held_at=timezone.now(), hold_reason="wait")

    held = signed_in.get(merge_url(first, second)).content.decode()
    alone = signed_in.get(merge_url(first)).content.decode()

    assert "Rule: unpaid, every line mapped, not on hold." in section(held, "merge-refused")
    assert f"not on hold are merged: {second.number}" in section(held, "merge-refused")
    assert "Merge 2 to 20 orders at a time." in section(alone, "merge-refused")
    assert 'data-testid="confirm-merge"' not in held + alone


# --- confirming ----------------------------------------------------------------------------------


def test_confirm_merges_once_and_a_second_confirm_is_refused_with_the_reason(signed_in, pair):
    first, second = pair

    response = signed_in.post(reverse("orders:merge"), ids(first, second), follow=True)

    merged = Order.objects.get(merged_from=first)
    assert response.redirect_chain[-1][0] == reverse("orders:order_detail", args=[merged.pk])
    assert f"Merged {first.number}, {second.number} into {merged.number}." in page_messages(response)
    assert merged.total_amount == Decimal("30.60")
    assert set(Order.objects.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)) == {
        OrderStatus.SUPERSEDED
    }

    again = signed_in.post(reverse("orders:merge"), ids(first, second))

    assert again.status_code == 400
    [said] = page_messages(again)
    assert said == (
        "These orders cannot be merged: only unpaid orders with every line mapped and not on hold are merged: "
        f"{first.number}, {second.number}."
    )
    html = again.content.decode()
    assert 'data-testid="merge-refused"' in html and 'data-testid="confirm-merge"' not in html
    assert Order.objects.count() == 3 and Order.objects.filter(merged_from__isnull=False).distinct().count() == 1


def test_the_lists_merge_button_goes_through_the_page(signed_in, pair):
    first, second = pair

    response = signed_in.post(
        reverse("orders:order_list"), {"action": "merge", "order_ids": [first.pk, second.pk]}, follow=True
    )

    assert response.redirect_chain[-1][0] == merge_url(first, second)
    assert (
        response.templates[0].name == "orders/merge.html" and 'data-testid="confirm-merge"' in response.content.decode()
    )
    assert Order.objects.count() == 2


def test_without_a_selection_the_page_sends_back_to_the_list(signed_in):
    response = signed_in.get(reverse("orders:merge"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("orders:order_list")
    assert "Select the orders to merge." in page_messages(response)


def test_the_confirm_needs_the_csrf_token(owner, pair):
    first, second = pair
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner.user)

    assert client.get(merge_url(first, second)).status_code == 200
    assert client.post(reverse("orders:merge"), ids(first, second)).status_code == 403
    assert not Order.objects.filter(merged_into__isnull=False).exists()


# --- tenancy and roles ---------------------------------------------------------------------------


def test_another_distributors_order_in_the_selection_is_not_found(signed_in, pair, warehouse, serum):
    first, second = pair
    stranger = owner_of()
    foreign = make_order(stranger, StoreFactory(distributor=stranger.distributor), warehouse, [(serum, 1)])

    assert signed_in.get(merge_url(first, foreign)).status_code == 404
    assert signed_in.get(merge_url(foreign)).status_code == 404
    assert signed_in.post(reverse("orders:merge"), ids(first, second, foreign)).status_code == 404
    assert signed_in.get(f"{reverse('orders:merge')}?ids={first.pk},x1").status_code == 404
    assert not Order.objects.filter(merged_into__isnull=False).exists()
    assert Order.objects.get(pk=foreign.pk).status == OrderStatus.AWAITING_PAYMENT


def test_finance_members_get_403_and_merge_nothing(client, owner, pair):
    first, second = pair
    client.force_login(MembershipFactory(distributor=owner.distributor, role=Role.FINANCE).user)

    assert client.get(merge_url(first, second)).status_code == 403
    assert client.post(reverse("orders:merge"), ids(first, second)).status_code == 403
    assert not Order.objects.filter(merged_into__isnull=False).exists()


def test_operators_merge_without_seeing_money(client, owner, pair):
    first, second = pair
    client.force_login(MembershipFactory(distributor=owner.distributor, role=Role.OPERATOR).user)

    html = client.get(merge_url(first, second)).content.decode()

    assert 'data-testid="confirm-merge"' in html and 'data-testid="merge-costs"' not in html and "USD" not in html
    assert client.post(reverse("orders:merge"), ids(first, second)).status_code == 302
    assert Order.objects.filter(merged_into__isnull=False).count() == 2


# --- queries ---------------------------------------------------------------------------------------

# The page's queries, whatever the number of orders: the session, the user and the membership
# (3), the orders with their stores and warehouses (1), their lines with items and products (1),
# and one freight quote of the merged parcel (methods, cards, zones, rows: 4).
PINNED_MERGE_PAGE_QUERIES = 9


@pytest.mark.parametrize("count", [2, 12])
def test_the_pages_queries_do_not_grow_with_the_orders(signed_in, owner, store, warehouse, serum, ups, count):
    orders = [shipped(owner, store, warehouse, [(serum, 1)]) for _ in range(count)]

    with CaptureQueriesContext(connection) as queries:
        response = signed_in.get(merge_url(*orders))

    assert response.status_code == 200 and 'data-testid="confirm-merge"' in response.content.decode()
    assert len(queries) == PINNED_MERGE_PAGE_QUERIES, [q["sql"][:80] for q in queries.captured_queries]
