"""The home page as a dashboard: the "Start here" checklist that ticks itself from the
data, the figures (orders by status, unmapped SKUs, stores failing to pull), each for the
roles that may open the page it links to, and a query count that does not grow."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from distribution.models import Role
from finance.models import TopUp
from mapping.models import SeenSku
from orders.models import OrderStatus, StorePullState
from stores.models import Platform, Store
from tests.distribution.factories import DistributorFactory, MembershipFactory, owner_of
from tests.finance.factories import TopUpFactory
from tests.mapping.factories import MappingFactory, SeenSkuFactory
from tests.orders.factories import OrderFactory, StorePullStateFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

STEPS = ["stores.connect", "mapping.map", "orders.first", "finance.topup"]


def home(client, member):
    client.force_login(member.user)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    return response


def step_states(html: str) -> dict[str, str]:
    """{step name: "true"/"false"} of the checklist as the page shows it."""
    return dict(re.findall(r'data-step="([^"]+)" data-done="(true|false)"', html))


def panel(response, template: str) -> dict:
    [context] = [context for name, context in response.context["panels"] if name == template]
    return context


def templates_shown(response) -> set[str]:
    return {name for name, _context in response.context["panels"]}


@pytest.fixture
def me():
    return owner_of(DistributorFactory(company_name="Newcomer Trading"))


# --- the checklist ----------------------------------------------------------------------------


def test_new_distributor_sees_every_step_of_the_checklist_unticked(client, me):
    # given a distributor who has just signed up
    # when the owner opens the home page
    html = home(client, me).content.decode()
    # then the four steps are listed in order, none ticked, each linked to where it is done
    assert 'data-testid="checklist"' in html and "Start here" in html
    assert list(step_states(html).items()) == [(name, "false") for name in STEPS]
    assert "0 of 4 done" in html
    for url_name in ("stores:store_list", "mapping:mapping_list", "orders:import", "finance:topup"):
        assert f'href="{reverse(url_name)}"' in html


def test_store_step_ticks_when_a_store_is_connected_not_when_it_was_removed(client, me):
    # given a store the distributor removed
    StoreFactory(distributor=me.distributor, removed_at=timezone.now())
    assert step_states(home(client, me).content.decode())["stores.connect"] == "false"
    # when a store is connected
    StoreFactory(distributor=me.distributor, platform=Platform.OTHER, name="Offline")
    # then the step is ticked and the count moves on
    html = home(client, me).content.decode()
    assert step_states(html)["stores.connect"] == "true" and "1 of 4 done" in html


def test_mapping_step_ticks_with_the_first_mapping(client, me):
    # given a store of the distributor's, and another distributor's mapping
    store = StoreFactory(distributor=me.distributor)
    MappingFactory(store=StoreFactory())
    assert step_states(home(client, me).content.decode())["mapping.map"] == "false"
    # when one of its SKUs is mapped
    MappingFactory(store=store)
    # then the step is ticked
    assert step_states(home(client, me).content.decode())["mapping.map"] == "true"


def test_order_step_ticks_with_the_first_order(client, me):
    # given an order of another distributor only
    OrderFactory()
    assert step_states(home(client, me).content.decode())["orders.first"] == "false"
    # when the distributor has an order
    OrderFactory(distributor=me.distributor, store=StoreFactory(distributor=me.distributor))
    # then the step is ticked
    assert step_states(home(client, me).content.decode())["orders.first"] == "true"


def test_topup_step_waits_for_approval_then_ticks(client, me):
    # given a top-up sent and waiting for staff
    top_up = TopUpFactory(distributor=me.distributor)
    html = home(client, me).content.decode()
    # then the step is not ticked yet, and says it waits for approval
    assert step_states(html)["finance.topup"] == "false"
    assert "Your top-up waits for approval by platform staff." in html
    # when staff approve it
    TopUp.objects.filter(pk=top_up.pk).update(status=TopUp.Status.APPROVED)
    html = home(client, me).content.decode()
    # then it is ticked and the note is gone
    assert step_states(html)["finance.topup"] == "true"
    assert "waits for approval by platform staff" not in html


def test_rejected_topup_does_not_tick_the_step(client, me):
    TopUpFactory(distributor=me.distributor, status=TopUp.Status.REJECTED)
    html = home(client, me).content.decode()
    assert step_states(html)["finance.topup"] == "false" and 'data-testid="step-note"' not in html


def _set_up_completely(distributor):
    store = StoreFactory(distributor=distributor)
    MappingFactory(store=store)
    OrderFactory(distributor=distributor, store=store)
    TopUpFactory(distributor=distributor, status=TopUp.Status.APPROVED)
    return store


def test_checklist_collapses_to_one_line_once_every_step_is_done(client, me):
    # given a distributor who did all four steps
    _set_up_completely(me.distributor)
    # when the owner opens the home page
    html = home(client, me).content.decode()
    # then the checklist is folded into "You're set up", its steps all ticked
    assert 'data-testid="checklist"' not in html
    assert 'data-testid="checklist-done"' in html and "You're set up" in html
    assert list(step_states(html).items()) == [(name, "true") for name in STEPS]


def test_each_role_is_listed_only_the_steps_it_may_do(client, me):
    # given an operator and a finance member of the distributor
    operator = MembershipFactory(distributor=me.distributor, role=Role.OPERATOR)
    finance = MembershipFactory(distributor=me.distributor, role=Role.FINANCE)
    # then the operator has the store-side steps and no top-up; finance only the top-up
    assert list(step_states(home(client, operator).content.decode())) == STEPS[:3]
    assert list(step_states(home(client, finance).content.decode())) == ["finance.topup"]


# --- the figures ------------------------------------------------------------------------------


def test_orders_by_status_counts_only_this_distributor_and_links_each_tab(client, me):
    # given orders in three statuses, and another distributor's orders
    store = StoreFactory(distributor=me.distributor)
    for status, n in (
        (OrderStatus.PENDING_MAPPING, 2),
        (OrderStatus.AWAITING_PAYMENT, 3),
        (OrderStatus.PUSH_FAILED, 1),
    ):
        for _ in range(n):
            OrderFactory(distributor=me.distributor, store=store, status=status)
    OrderFactory(status=OrderStatus.AWAITING_PAYMENT)
    # when the owner opens the home page
    response = home(client, me)
    figure = panel(response, "orders/home_orders.html")
    # then each status with orders is counted, in the list's tab order, linked to its tab
    assert [(row["status"], row["count"]) for row in figure["rows"]] == [
        (OrderStatus.PENDING_MAPPING, 2),
        (OrderStatus.AWAITING_PAYMENT, 3),
        (OrderStatus.PUSH_FAILED, 1),
    ]
    assert figure["total"] == 6
    html = response.content.decode()
    list_url = reverse("orders:order_list")
    for status in (OrderStatus.PENDING_MAPPING, OrderStatus.AWAITING_PAYMENT, OrderStatus.PUSH_FAILED):
        assert f'href="{list_url}?status={status}"' in html
    assert "6 orders in all" in html
    # and the tab the link opens holds the orders counted
    tab = client.get(f"{list_url}?status={OrderStatus.AWAITING_PAYMENT}")
    assert len(tab.context["orders"]) == 3


def test_orders_by_status_says_no_orders_yet(client, me):
    html = home(client, me).content.decode()
    assert 'data-testid="no-orders"' in html and f'href="{reverse("orders:import")}"' in html


def test_unmapped_skus_counts_the_queue_and_links_to_it(client, me):
    # given two unmapped SKUs holding up 3 orders, a SKU since mapped, one marked not
    # supplied, one of a removed store and one of another distributor
    store = StoreFactory(distributor=me.distributor)
    SeenSkuFactory(store=store, sku="A", waiting_orders=2)
    SeenSkuFactory(store=store, sku="B", waiting_orders=1)
    SeenSkuFactory(store=store, sku="MAPPED", waiting_orders=0)
    MappingFactory(store=store, store_sku="MAPPED")
    SeenSkuFactory(store=store, sku="GIFT", not_supplied_at=timezone.now())
    SeenSkuFactory(store=StoreFactory(distributor=me.distributor, removed_at=timezone.now()), sku="OLD")
    SeenSkuFactory(sku="ELSEWHERE")
    # when the owner opens the home page
    response = home(client, me)
    figure = panel(response, "mapping/home_unmapped.html")
    # then the figure counts the queue the mapping page shows, linked to that queue
    assert (figure["skus"], figure["orders"]) == (2, 3)
    unmapped_url = f"{reverse('mapping:mapping_list')}?status=unmapped"
    html = response.content.decode()
    assert f'href="{unmapped_url}"' in html and "3 orders wait for a mapping." in html
    queue = client.get(unmapped_url)
    assert queue.context["counts"]["unmapped"] == 2
    assert SeenSku.objects.count() == 6  # the four left out are there, not counted


def test_unmapped_skus_reads_all_mapped_at_zero(client, me):
    html = home(client, me).content.decode()
    assert "Every SKU seen in your orders is mapped." in html


def test_stores_failing_to_pull_names_each_with_where_to_fix_it(client, me):
    # given an expired store, an authorized store whose last pull failed, and stores that
    # are fine or not pulled at all (disabled, no API, removed, another distributor's)
    d = me.distributor
    expired = StoreFactory(distributor=d, name="Lapsed", status=Store.Status.EXPIRED, status_reason="Token expired")
    pulled = StoreFactory(distributor=d, name="Broken pull")
    StorePullStateFactory(store=pulled, last_result=StorePullState.Result.FAILED, last_message="HTTP 500 from Shopify")
    healthy = StoreFactory(distributor=d, name="Healthy")
    StorePullStateFactory(store=healthy, last_result=StorePullState.Result.OK)
    StoreFactory(distributor=d, name="Off", status=Store.Status.DISABLED)
    StoreFactory(distributor=d, name="Offline", platform=Platform.OTHER, status=Store.Status.FAILED)
    StoreFactory(distributor=d, name="Gone", status=Store.Status.REVOKED, removed_at=timezone.now())
    StoreFactory(name="Not mine", status=Store.Status.EXPIRED)
    # when the owner opens the home page
    response = home(client, me)
    figure = panel(response, "orders/home_pull_failures.html")
    # then the two failing stores are named, by their label, with the page that fixes each
    assert figure["total"] == 2 and figure["more"] == 0
    assert [(row["label"], row["url"]) for row in figure["rows"]] == [
        (pulled.label, reverse("orders:sync")),
        (expired.label, reverse("stores:reauthorize", args=[expired.pk])),
    ]
    html = response.content.decode()
    assert "Token expired" in html and "HTTP 500 from Shopify" in html and "Last pull failed" in html


def test_stores_failing_to_pull_lists_a_few_and_counts_the_rest(client, me):
    for n in range(12):
        StoreFactory(distributor=me.distributor, name=f"Expired {n:02d}", status=Store.Status.EXPIRED)
    figure = panel(home(client, me), "orders/home_pull_failures.html")
    assert (len(figure["rows"]), figure["total"], figure["more"]) == (10, 12, 2)


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            Role.OWNER,
            {"orders/home_orders.html", "mapping/home_unmapped.html", "orders/home_pull_failures.html"},
            set(),
        ),
        (
            Role.OPERATOR,
            {"orders/home_orders.html", "mapping/home_unmapped.html", "orders/home_pull_failures.html"},
            {"finance/home_panel.html"},
        ),
        (
            Role.FINANCE,
            {"orders/home_orders.html", "finance/home_panel.html"},
            {"mapping/home_unmapped.html", "orders/home_pull_failures.html"},
        ),
    ],
)
def test_each_figure_is_shown_to_the_roles_that_open_its_page(client, me, role, shown, hidden):
    # given a member of the role
    member = me if role == Role.OWNER else MembershipFactory(distributor=me.distributor, role=role)
    # when they open the home page
    response = home(client, member)
    # then they see the figures whose pages they may open, and no other
    templates = templates_shown(response)
    assert shown <= templates and not (hidden & templates)
    # and each figure's link opens for them
    html = response.content.decode()
    targets = {
        "orders/home_orders.html": reverse("orders:order_list"),
        "mapping/home_unmapped.html": reverse("mapping:mapping_list"),
        "orders/home_pull_failures.html": reverse("stores:store_list"),
    }
    for template in shown & targets.keys():
        assert f'href="{targets[template]}' in html
        assert client.get(targets[template]).status_code == 200


# --- the query count --------------------------------------------------------------------------

# session, user, membership; the checklist (one query for its four steps); orders by
# status (one grouped query); unmapped SKUs (one aggregate); stores failing to pull (one,
# with its count as a window); the balance panel (balance, alert level, top-ups waiting);
# the fulfilment alerts (an aggregate, stuck orders, failed syncs and their count).
HOME_QUERIES = 14


def _world(distributor, n: int) -> None:
    """n of everything the dashboard counts."""
    for i in range(n):
        store = StoreFactory(distributor=distributor, status=Store.Status.EXPIRED)
        StorePullStateFactory(store=store, last_result=StorePullState.Result.FAILED)
        MappingFactory(store=store)
        SeenSkuFactory(store=store, waiting_orders=i + 1)
        for status in (OrderStatus.PENDING_MAPPING, OrderStatus.AWAITING_PAYMENT, OrderStatus.PAID):
            OrderFactory(distributor=distributor, store=store, status=status)
        TopUpFactory(distributor=distributor)


def test_home_query_count_does_not_grow_with_stores_or_orders(client, me, django_assert_num_queries):
    client.force_login(me.user)
    # given a new distributor, then one with a few, then one with many of everything
    with django_assert_num_queries(HOME_QUERIES):
        assert client.get(reverse("portal:home")).status_code == 200
    _world(me.distributor, 2)
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("portal:home"))
    assert panel(response, "orders/home_pull_failures.html")["total"] == 2
    _world(me.distributor, 6)
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("portal:home"))
    # then the figures grew and the queries did not
    assert panel(response, "orders/home_orders.html")["total"] == 24
    assert panel(response, "mapping/home_unmapped.html")["skus"] == 8
