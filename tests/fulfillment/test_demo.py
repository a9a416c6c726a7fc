"""`manage.py sandbox_seed` then `seed_demo` (what `make run` runs): the US warehouse comes
connected to the sandbox warehouse account with the same token and webhook secret, so its
REST backend works over real HTTP at once; the other demo warehouses are worked by hand."""

import base64
import io

import pytest
from django.core.management import call_command

from catalog.models import Warehouse
from fulfillment.models import BackendKind, WarehouseBackend
from fulfillment.warehouses import backend_for
from fulfillment.warehouses.base import OutboundLine, OutboundRequest, OutboundStatus, Recipient
from sandbox.models import SandboxOutboundOrder, SandboxWarehouseAccount

pytestmark = pytest.mark.django_db(transaction=True)

# Shaped like the development setting (distribution/settings.py), which is empty under tests.
DEMO_WAREHOUSES = {
    "US-CA": {
        "account": "demo-test-us-ca",
        "api_token": "pat_test-demo-warehouse-token",
        "webhook_secret": "whsec_" + base64.b64encode(b"test-demo-warehouse-webhook-key!").decode(),
        "ship_after_seconds": 300,
    }
}


@pytest.fixture
def demo(live_server, settings, tmp_path):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox"
    settings.SANDBOX_DEMO_SHOPS = {}
    settings.SANDBOX_DEMO_WAREHOUSES = DEMO_WAREHOUSES
    return live_server


def seed() -> str:
    out = io.StringIO()
    call_command("sandbox_seed", stdout=out)
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_demo_connects_the_us_warehouse_to_the_sandbox_and_the_rest_by_hand(demo):
    out = seed()
    assert "demo warehouse accounts demo-test-us-ca" in out
    us = WarehouseBackend.objects.get(warehouse__code="US-CA")
    assert (us.kind, us.base_url) == (BackendKind.REST, f"{demo.url}/sandbox/warehouse/demo-test-us-ca/2026-01")
    assert us.credentials == {"token": "pat_test-demo-warehouse-token"}
    account = SandboxWarehouseAccount.objects.get(shop__domain="demo-test-us-ca")
    assert (account.api_token, account.webhook_secret) == ("pat_test-demo-warehouse-token", us.webhook_secret)
    others = set(WarehouseBackend.objects.exclude(pk=us.pk).values_list("warehouse__code", "kind"))
    assert others == {
        (code, BackendKind.MANUAL) for code in Warehouse.objects.exclude(code="US-CA").values_list("code", flat=True)
    }
    # the demo's US warehouse takes an order over HTTP as soon as the web server runs
    request = OutboundRequest(
        reference="DEMO-0001",
        recipient=Recipient(name="Ada Lovelace", address1="12 Analytical Ave", city="New York", country="US"),
        lines=(OutboundLine(item_id="LS228800001-01-01", quantity=1),),
        service_code="Standard",
    )
    order = backend_for(Warehouse.objects.get(code="US-CA")).create_outbound(request)
    assert order.status == OutboundStatus.PROCESSING
    assert SandboxOutboundOrder.objects.get().account == account


def test_demo_seeding_twice_changes_nothing(demo):
    seed()
    before = list(
        WarehouseBackend.objects.order_by("pk").values_list("pk", "kind", "base_url", "credentials_encrypted")
    )
    seed()
    after = list(WarehouseBackend.objects.order_by("pk").values_list("pk", "kind", "base_url", "credentials_encrypted"))
    assert after == before
    assert SandboxWarehouseAccount.objects.count() == 1


def test_demo_leaves_orders_at_every_stage_of_fulfilment_and_seeding_again_adds_none(demo):
    from finance.models import Transaction
    from fulfillment.models import Outbound, Shipment, TrackingSync
    from orders.models import Order, OrderStatus

    out = seed()
    # then the three demo orders of the no-API store stand shipped, ready for pickup, at the warehouse
    demo_orders = {
        o.platform_order.external_id: o
        for o in Order.objects.filter(platform_order__external_id__startswith="DEMO-F-").select_related(
            "platform_order", "outbound"
        )
    }
    assert {number: o.status for number, o in demo_orders.items()} == {
        "DEMO-F-0001": OrderStatus.SHIPPED,
        "DEMO-F-0002": OrderStatus.AT_WAREHOUSE,
        "DEMO-F-0003": OrderStatus.AT_WAREHOUSE,
    }
    shipped = demo_orders["DEMO-F-0001"]
    (shipment,) = Shipment.objects.filter(order=shipped)
    assert (shipment.carrier, shipment.tracking_number) == ("Yamato Transport", "4310-2026-0001")
    assert TrackingSync.objects.get(shipment=shipment).state == TrackingSync.State.FILE
    pickup = demo_orders["DEMO-F-0002"]
    assert pickup.outbound.ready_for_pickup_at is not None and len(pickup.pickup_code) == 8
    assert "DEMO-F-0001" in out and "shipped" in out
    # and seeding again pays, pushes and ships nothing more
    payments = Transaction.objects.filter(kind="payment").count()
    seed()
    assert Order.objects.filter(platform_order__external_id__startswith="DEMO-F-").count() == 3
    assert Transaction.objects.filter(kind="payment").count() == payments
    assert (Outbound.objects.count(), Shipment.objects.count()) == (3, 1)
