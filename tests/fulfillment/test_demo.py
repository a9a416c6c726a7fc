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
