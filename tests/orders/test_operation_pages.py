"""Step 7's pages: the order page offers only what the order's state allows (hold and
release, split, the recipient, cancel), the split page, and the list's bulk hold, release
and merge with its "can be merged" hint; each calls its service and reports what it did
or why not. Finance members see no button and get 403; another distributor's order is 404."""

from decimal import Decimal

import pytest
from django.urls import reverse

from distribution.models import Role
from orders.actions import order_split, orders_hold, orders_merge
from orders.models import Order, OrderStatus
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import MembershipFactory, owner_of
from tests.orders.test_operations import ADDRESS, make_order
from tests.orders.test_pages import PINNED_LIST_QUERIES
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

ROLES = [Role.OWNER, Role.ADMIN, Role.OPERATOR, Role.FINANCE]
CHANGES_ORDERS = {Role.OWNER: True, Role.ADMIN: True, Role.OPERATOR: True, Role.FINANCE: False}
ACTION_MARKS = ('data-testid="hold-form"', 'data-testid="split-order"', 'data-testid="edit-recipient"')


@pytest.fixture
def owner():
    return owner_of()


@pytest.fixture
def store(owner):
    return StoreFactory(distributor=owner.distributor, site="US", name="Acme US")


@pytest.fixture
def warehouse():
    return WarehouseFactory(code="US-CA", sites="US", handling_fee=Decimal("1.50"))


@pytest.fixture
def serum(warehouse):
    return ItemFactory(warehouse=warehouse, item_id="LS228800001-01-01", price=Decimal("12.00"), stock_on_hand=100)


@pytest.fixture
def mask(warehouse):
    return ItemFactory(warehouse=warehouse, item_id="LS228800002-01-01", price=Decimal("5.00"), stock_on_hand=100)


@pytest.fixture
def order(owner, store, warehouse, serum, mask):
    # serum x3 + mask x1 = 41.00 goods + 1.50 handling
    return make_order(owner, store, warehouse, [(serum, 3), (mask, 1)])


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner.user)
    return client


def as_role(client, owner, role):
    member = owner if role == Role.OWNER else MembershipFactory(distributor=owner.distributor, role=role)
    client.force_login(member.user)
    return member


def detail(client, order) -> str:
    response = client.get(reverse("orders:order_detail", args=[order.pk]))
    assert response.status_code == 200
    return response.content.decode()


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def fresh(order) -> Order:
    return Order.objects.get(pk=order.pk)


# --- the order page -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "offered", "cancel_label"),
    [
        (OrderStatus.AWAITING_PAYMENT, {"hold-form", "split-order", "edit-recipient"}, "Cancel order"),
        (OrderStatus.OUTSIDE_AREA, {"hold-form", "split-order", "edit-recipient"}, "Cancel order"),
        (OrderStatus.PENDING_MAPPING, {"hold-form", "edit-recipient"}, "Cancel order"),
        (OrderStatus.PAID, {"hold-form"}, "Cancel and refund"),
        (OrderStatus.AT_WAREHOUSE, set(), "Request cancel"),
        (OrderStatus.CANCEL_REQUESTED, set(), None),
        (OrderStatus.SHIPPED, set(), None),
    ],
)
def test_order_page_offers_only_the_actions_its_state_allows(signed_in, order, status, offered, cancel_label):
    Order.objects.filter(pk=order.pk).update(status=status)

    html = detail(signed_in, order)

    assert {mark.split('"')[1] for mark in ACTION_MARKS if mark in html} == offered
    for label in ("Cancel order", "Cancel and refund", "Request cancel"):
        assert (f">{label}<" in html) is (label == cancel_label)


def test_cancel_requested_has_its_own_badge_colour(signed_in, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.CANCEL_REQUESTED)
    html = detail(signed_in, order)
    assert 'text-bg-danger" data-testid="order-status">Cancel requested<' in html
    assert 'data-testid="cancel-requested"' in html


def test_request_cancel_of_an_order_at_the_warehouse(signed_in, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.AT_WAREHOUSE)
    response = signed_in.post(reverse("orders:order_detail", args=[order.pk]), {"action": "cancel"}, follow=True)
    assert fresh(order).status == OrderStatus.CANCEL_REQUESTED
    assert f"Cancelled: {order.number}." in page_messages(response)


def test_hold_with_a_reason_shows_the_banner_and_release_takes_it_away(signed_in, order):
    url = reverse("orders:order_detail", args=[order.pk])

    response = signed_in.post(url, {"action": "hold", "hold_reason": "buyer asked to wait"}, follow=True)

    assert fresh(order).hold_reason == "buyer asked to wait"
    assert f"Put on hold: {order.number}." in page_messages(response)
    html = response.content.decode()
    assert 'data-testid="hold-banner"' in html and "On hold: buyer asked to wait" in html
    assert 'data-testid="release-order"' in html
    # held: neither paid nor split, and not held twice
    assert 'data-testid="pay-order"' not in html and 'data-testid="split-order"' not in html
    assert 'data-testid="hold-form"' not in html

    response = signed_in.post(url, {"action": "release"}, follow=True)
    assert not fresh(order).is_held
    assert f"Released from hold: {order.number}." in page_messages(response)
    html = response.content.decode()
    assert 'data-testid="hold-banner"' not in html and 'data-testid="pay-order"' in html


def test_hold_without_a_reason_says_so_and_holds_nothing(signed_in, order):
    response = signed_in.post(
        reverse("orders:order_detail", args=[order.pk]), {"action": "hold", "hold_reason": "  "}, follow=True
    )
    assert not fresh(order).is_held
    assert "Please give a reason." in page_messages(response)


def test_release_of_an_order_not_on_hold_reports_why(signed_in, order):
    response = signed_in.post(reverse("orders:order_detail", args=[order.pk]), {"action": "release"}, follow=True)
    assert f"{order.number} was not released: it is not on hold." in page_messages(response)


def test_edit_recipient_saves_the_checked_address(signed_in, order):
    response = signed_in.post(
        reverse("orders:order_detail", args=[order.pk]), {"action": "recipient", **ADDRESS}, follow=True
    )
    edited = fresh(order)
    assert (edited.recipient_name, edited.postal_code, edited.country) == ("Mia Chen", "02134", "US")
    assert f"The recipient of {order.number} was saved." in page_messages(response)
    assert "Recipient corrected in the portal." in response.content.decode()


def test_edit_recipient_refusal_is_shown_by_the_form_with_what_was_typed(signed_in, order):
    typed = {**ADDRESS, "recipient_name": "Mia Typed", "postal_code": "ABCDE"}

    response = signed_in.post(reverse("orders:order_detail", args=[order.pk]), {"action": "recipient", **typed})

    assert response.status_code == 400
    html = response.content.decode()
    error = html[html.index('data-testid="recipient-error"') :][:300]
    assert "ZIP" in error
    assert 'value="Mia Typed"' in html and 'value="ABCDE"' in html
    assert 'class="collapse show mb-3" id="recipient-edit"' in html  # the form stays open
    assert fresh(order).recipient_name == "Jane Buyer"


def test_edit_recipient_into_another_country_moves_the_order_outside_the_area(signed_in, order):
    japan = {**ADDRESS, "country": "JP", "postal_code": "1500002", "city": "Tokyo"}
    response = signed_in.post(
        reverse("orders:order_detail", args=[order.pk]), {"action": "recipient", **japan}, follow=True
    )
    assert fresh(order).status == OrderStatus.OUTSIDE_AREA
    assert any("cannot be paid now" in m and "outside the service area" in m for m in page_messages(response))


def test_edit_recipient_is_not_offered_after_payment(signed_in, order):
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)
    assert 'data-testid="recipient-form"' not in detail(signed_in, order)
    response = signed_in.post(
        reverse("orders:order_detail", args=[order.pk]), {"action": "recipient", **ADDRESS}, follow=True
    )
    assert any("only before payment" in m for m in page_messages(response))
    assert fresh(order).recipient_name == "Jane Buyer"


def test_split_parent_and_parts_link_to_each_other_with_their_costs(signed_in, owner, order):
    serum_line, mask_line = order.lines.order_by("pk")
    first, second = order_split(
        actor=owner, order=order, parts=[{serum_line.pk: 2}, {serum_line.pk: 1, mask_line.pk: 1}]
    )

    parent = detail(signed_in, order)
    part = detail(signed_in, first)

    related = parent[parent.index('data-testid="split-into"') :][:800]
    assert reverse("orders:order_detail", args=[first.pk]) in related and "25.50 USD" in related
    assert reverse("orders:order_detail", args=[second.pk]) in related and "18.50 USD" in related
    assert 'data-testid="split-from"' in part and reverse("orders:order_detail", args=[order.pk]) in part


def test_merged_order_lists_its_sources_and_each_source_points_at_it(signed_in, owner, store, warehouse, serum):
    first, second = (make_order(owner, store, warehouse, [(serum, 1)]) for _ in range(2))
    merged = orders_merge(actor=owner, orders=[first, second])

    html = detail(signed_in, merged)
    sources = html[html.index('data-testid="merged-from"') :][:800]
    assert first.number in sources and second.number in sources
    assert "13.50 USD" in sources
    source = detail(signed_in, first)
    assert 'data-testid="merged-into"' in source and reverse("orders:order_detail", args=[merged.pk]) in source


# --- the split page -------------------------------------------------------------------------------


def split_url(order) -> str:
    return reverse("orders:order_split", args=[order.pk])


def test_split_page_has_a_column_per_part_starting_with_two(signed_in, order):
    serum_line, mask_line = order.lines.order_by("pk")

    html = signed_in.get(split_url(order)).content.decode()

    assert html.count('<th scope="col" class="text-center" data-part=') == 2
    assert f'name="part1_{serum_line.pk}" value="3"' in html and f'name="part2_{serum_line.pk}" value="0"' in html
    assert f'name="part1_{mask_line.pk}" value="1"' in html
    assert 'data-max-parts="20"' in html
    assert "1.50 USD per order" in html


def test_split_page_splits_and_names_the_new_orders(signed_in, order):
    serum_line, mask_line = order.lines.order_by("pk")

    response = signed_in.post(
        split_url(order),
        {
            f"part1_{serum_line.pk}": "2",
            f"part1_{mask_line.pk}": "0",
            f"part2_{serum_line.pk}": "1",
            f"part2_{mask_line.pk}": "1",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("orders:order_detail", args=[order.pk])
    first, second = Order.objects.filter(parent=order).order_by("pk")
    assert f"Order {order.number} was split into {first.number}, {second.number}." in page_messages(response)
    assert (first.total_amount, second.total_amount) == (Decimal("25.50"), Decimal("18.50"))
    assert fresh(order).status == OrderStatus.SUPERSEDED


def test_split_page_takes_more_parts_than_two(signed_in, order):
    serum_line, mask_line = order.lines.order_by("pk")
    data = {f"part{n}_{serum_line.pk}": "1" for n in (1, 2, 3)} | {f"part3_{mask_line.pk}": "1"}

    signed_in.post(split_url(order), data)

    assert Order.objects.filter(parent=order).count() == 3


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"part1": ("2", "1"), "part2": ("2", "")}, "they must add up"),
        ({"part1": ("3", "1"), "part2": ("abc", "0")}, "not a whole number"),
        ({"part1": ("3", "1"), "part2": ("0", "0")}, "Part 2 has nothing in it"),
    ],
)
def test_split_page_refusal_keeps_what_was_typed(signed_in, order, typed, message):
    serum_line, mask_line = order.lines.order_by("pk")
    data = {}
    for part, (serum_qty, mask_qty) in typed.items():
        data[f"{part}_{serum_line.pk}"] = serum_qty
        data[f"{part}_{mask_line.pk}"] = mask_qty

    response = signed_in.post(split_url(order), data)

    assert response.status_code == 400
    assert any(message in m for m in page_messages(response))
    html = response.content.decode()
    for name, value in data.items():
        assert f'name="{name}" value="{value or 0}"' in html
    assert fresh(order).status == OrderStatus.AWAITING_PAYMENT and not Order.objects.filter(parent=order).exists()


def test_split_page_of_an_order_that_cannot_be_split_says_why(signed_in, owner, order):
    orders_hold(actor=owner, orders=[order], reason="wait")
    response = signed_in.get(split_url(order), follow=True)
    assert response.redirect_chain[-1][0] == reverse("orders:order_detail", args=[order.pk])
    assert f"Order {order.number} cannot be split: it is on hold." in page_messages(response)


# --- the list's bulk hold, release and merge -------------------------------------------------------


def bulk(client, action, orders, **data):
    return client.post(
        reverse("orders:order_list"), {"action": action, "order_ids": [o.pk for o in orders], **data}, follow=True
    )


def test_bulk_hold_reports_each_order(signed_in, owner, store, warehouse, serum):
    unpaid = make_order(owner, store, warehouse, [(serum, 1)])
    pushed = make_order(owner, store, warehouse, [(serum, 1)], status=OrderStatus.AT_WAREHOUSE)

    response = bulk(signed_in, "hold", [unpaid, pushed], hold_reason="stock check")

    assert fresh(unpaid).hold_reason == "stock check" and not fresh(pushed).is_held
    said = page_messages(response)
    assert f"Put on hold: {unpaid.number}." in said
    assert any(m.startswith(f"{pushed.number} was not put on hold: it is at warehouse") for m in said)
    assert 'data-testid="held"' in response.content.decode()


def test_bulk_hold_needs_a_reason(signed_in, order):
    response = bulk(signed_in, "hold", [order], hold_reason="")
    assert not fresh(order).is_held and "Please give a reason." in page_messages(response)


def test_bulk_release(signed_in, owner, store, warehouse, serum):
    held, free = (make_order(owner, store, warehouse, [(serum, 1)]) for _ in range(2))
    orders_hold(actor=owner, orders=[held], reason="wait")

    response = bulk(signed_in, "release", [held, free])

    assert not fresh(held).is_held
    assert f"Released from hold: {held.number}." in page_messages(response)
    assert f"{free.number} was not released: it is not on hold." in page_messages(response)


def test_bulk_merge_goes_to_the_confirmation_page_and_merges_nothing_yet(
    signed_in, owner, store, warehouse, serum, mask
):
    first = make_order(owner, store, warehouse, [(serum, 1)])
    second = make_order(owner, store, warehouse, [(mask, 2)])

    response = signed_in.post(reverse("orders:order_list"), {"action": "merge", "order_ids": [second.pk, first.pk]})

    # the merge page (tests/orders/test_merge_page.py) shows what the merge makes, then confirms
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('orders:merge')}?ids={first.pk},{second.pk}"
    assert Order.objects.count() == 2 and fresh(first).merged_into_id is None


def test_bulk_actions_leave_another_distributors_orders_alone(signed_in, serum, warehouse):
    stranger = owner_of()
    foreign = make_order(stranger, StoreFactory(distributor=stranger.distributor), warehouse, [(serum, 1)])
    for action in ("hold", "release", "merge"):
        response = bulk(signed_in, action, [foreign], hold_reason="mine now")
        assert "Select at least one order." in page_messages(response)
    foreign = fresh(foreign)
    assert not foreign.is_held and foreign.status == OrderStatus.AWAITING_PAYMENT


# --- the "can be merged" hint ----------------------------------------------------------------------


def hints(response) -> dict[str, int]:
    return {order.number: order.merge_with for order in response.context["orders"] if order.merge_with}


def test_list_hints_which_orders_can_be_merged(signed_in, owner, store, warehouse, serum):
    same = [make_order(owner, store, warehouse, [(serum, 1)], address1="2150 Mission St") for _ in range(2)]
    spelled = make_order(owner, store, warehouse, [(serum, 1)], address1="2150 MISSION st.")
    elsewhere = make_order(owner, store, warehouse, [(serum, 1)], recipient_name="Someone Else")
    held = make_order(owner, store, warehouse, [(serum, 1)], address1="2150 Mission St")
    orders_hold(actor=owner, orders=[held], reason="wait")
    paid = make_order(owner, store, warehouse, [(serum, 1)], address1="2150 Mission St", status=OrderStatus.PAID)
    other_store = make_order(owner, StoreFactory(distributor=owner.distributor), warehouse, [(serum, 1)])

    response = signed_in.get(reverse("orders:order_list"))

    assert hints(response) == {order.number: 2 for order in [*same, spelled]}
    for order in (elsewhere, held, paid, other_store):
        assert order.number not in hints(response)
    html = response.content.decode()
    assert html.count("can be merged with 2") == 3
    group = {o.merge_group for o in response.context["orders"] if o.merge_with}
    assert len(group) == 1 and f'data-merge-group="{group.pop()}"' in html


@pytest.mark.parametrize("rows", [5, 30])
def test_list_hint_costs_no_query_per_row(
    signed_in, owner, store, warehouse, serum, settings, rows, django_assert_num_queries
):
    settings.PORTAL_PAGE_SIZE = 50
    for _ in range(rows):
        make_order(owner, store, warehouse, [(serum, 1)])

    with django_assert_num_queries(PINNED_LIST_QUERIES):
        response = signed_in.get(reverse("orders:order_list"))

    assert len(hints(response)) == rows and set(hints(response).values()) == {rows - 1}


# --- roles and tenancy ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_only_members_who_change_orders_see_the_operations(client, owner, store, warehouse, serum, order, role):
    make_order(owner, store, warehouse, [(serum, 1)])  # a second order to the same recipient
    as_role(client, owner, role)

    page = detail(client, order)
    listing = client.get(reverse("orders:order_list")).content.decode()

    for mark in ACTION_MARKS:
        assert (mark in page) is CHANGES_ORDERS[role]
    for mark in ('data-testid="bulk-merge"', 'data-testid="bulk-hold"', 'data-testid="bulk-release"', "merge-hint"):
        assert (mark in listing) is CHANGES_ORDERS[role]
    assert client.get(split_url(order)).status_code == (200 if CHANGES_ORDERS[role] else 403)


@pytest.mark.parametrize("role", ROLES)
def test_operations_by_role(client, owner, store, warehouse, serum, order, role):
    as_role(client, owner, role)
    expected = 302 if CHANGES_ORDERS[role] else 403
    url = reverse("orders:order_detail", args=[order.pk])
    serum_line, mask_line = order.lines.order_by("pk")

    assert client.post(url, {"action": "hold", "hold_reason": "wait"}).status_code == expected
    assert fresh(order).is_held is CHANGES_ORDERS[role]
    assert client.post(url, {"action": "release"}).status_code == expected
    assert not fresh(order).is_held
    assert client.post(url, {"action": "recipient", **ADDRESS}).status_code == expected
    assert (fresh(order).recipient_name == "Mia Chen") is CHANGES_ORDERS[role]
    first, second = (make_order(owner, store, warehouse, [(serum, 1)], **ADDRESS) for _ in range(2))
    assert (
        client.post(reverse("orders:order_list"), {"action": "merge", "order_ids": [first.pk, second.pk]}).status_code
        == expected
    )
    assert client.post(reverse("orders:merge"), {"ids": f"{first.pk},{second.pk}"}).status_code == expected
    assert (fresh(first).merged_into_id is not None) is CHANGES_ORDERS[role]
    for action in ("hold", "release"):
        data = {"action": action, "order_ids": [order.pk], "hold_reason": "wait"}
        assert client.post(reverse("orders:order_list"), data).status_code == expected
    split = {f"part1_{serum_line.pk}": "3", f"part2_{mask_line.pk}": "1"}
    assert client.post(split_url(order), split).status_code == expected
    assert (fresh(order).status == OrderStatus.SUPERSEDED) is CHANGES_ORDERS[role]


def test_another_distributors_order_is_not_found_on_the_operation_pages(signed_in, serum, warehouse):
    stranger = owner_of()
    foreign = make_order(stranger, StoreFactory(distributor=stranger.distributor), warehouse, [(serum, 2)])
    line = foreign.lines.get()
    url = reverse("orders:order_detail", args=[foreign.pk])

    assert signed_in.get(split_url(foreign)).status_code == 404
    assert signed_in.post(split_url(foreign), {f"part1_{line.pk}": "1", f"part2_{line.pk}": "1"}).status_code == 404
    assert signed_in.post(url, {"action": "hold", "hold_reason": "mine now"}).status_code == 404
    assert signed_in.post(url, {"action": "recipient", **ADDRESS}).status_code == 404
    foreign = fresh(foreign)
    assert (
        not foreign.is_held
        and foreign.recipient_name == "Jane Buyer"
        and foreign.status == OrderStatus.AWAITING_PAYMENT
    )
