"""The `manual` backend: an order handed over becomes a row in the warehouse staff's queue;
what staff record in the admin (shipped with tracking, ready for pickup, picked up,
cancelled) is what the backend reports as changes."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from distribution.errors import ApplicationError
from distribution.models import StatusEvent
from distribution.state import IllegalTransition
from fulfillment.models import ManualOutbound
from fulfillment.services import manual_outbound_move
from fulfillment.warehouses import BackendNotConfigured, backend_for
from fulfillment.warehouses.base import (
    CancelRefused,
    OutboundLine,
    OutboundNotFound,
    OutboundRequest,
    OutboundStatus,
    Recipient,
    WebhookRejected,
)
from fulfillment.warehouses.manual import ManualBackend
from tests.catalog.factories import WarehouseFactory
from tests.fulfillment.factories import ManualOutboundFactory, WarehouseBackendFactory

pytestmark = pytest.mark.django_db

SERUM = "LS228800001-01-03"
Status = ManualOutbound.Status


def outbound(reference="DO26000201", **changes) -> OutboundRequest:
    fields = {
        "reference": reference,
        "recipient": Recipient(
            name="田中 由紀",
            address1="1-2-3 Shibuya",
            city="Shibuya-ku",
            region="Tokyo",
            postcode="150-0002",
            country="JP",
        ),
        "lines": (OutboundLine(item_id=SERUM, quantity=2, name="Serum"),),
        "service_code": "YAMATO-TA-Q-BIN",
    }
    return OutboundRequest(**{**fields, **changes})


@pytest.fixture
def warehouse():
    warehouse = WarehouseFactory(code="JP-TYO", country="JP", sites="JP")
    WarehouseBackendFactory(warehouse=warehouse, kind="manual")
    return warehouse


@pytest.fixture
def backend(warehouse) -> ManualBackend:
    return backend_for(warehouse)


def test_manual_create_puts_the_order_in_the_staff_queue(backend, warehouse):
    order = backend.create_outbound(outbound())
    row = ManualOutbound.objects.get(warehouse=warehouse)
    assert (order.reference, order.status, order.warehouse_id) == ("DO26000201", OutboundStatus.RECEIVED, str(row.pk))
    assert (row.recipient_name, row.postcode, row.service_code) == ("田中 由紀", "150-0002", "YAMATO-TA-Q-BIN")
    assert row.lines == [{"item_id": SERUM, "quantity": 2, "name": "Serum"}]


def test_manual_create_twice_is_one_row(backend):
    first = backend.create_outbound(outbound())
    assert backend.create_outbound(outbound()).warehouse_id == first.warehouse_id
    assert ManualOutbound.objects.count() == 1
    assert backend.find_outbound("DO26000201").warehouse_id == first.warehouse_id
    assert backend.find_outbound("DO00000000") is None


def test_manual_queue_round_trip_staff_ship_and_changes_report_it(backend, admin_user):
    # given an order handed over, and a moment after
    backend.create_outbound(outbound())
    since = datetime.now(tz=UTC)
    # when staff record the shipment
    row = ManualOutbound.objects.get()
    manual_outbound_move(
        outbound=row,
        to_status=Status.SHIPPED,
        actor=admin_user,
        carrier="Yamato Transport",
        service="TA-Q-BIN",
        tracking_number="4970-1234-5678",
        tracking_url="https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number=497012345678",
    )
    # then the backend's changes report it shipped, with one package holding the order
    (changed,) = backend.changes_since(since).orders
    assert changed.status == OutboundStatus.SHIPPED
    (package,) = changed.shipments
    assert (package.carrier, package.service, package.tracking_number) == (
        "Yamato Transport",
        "TA-Q-BIN",
        "4970-1234-5678",
    )
    assert [(line.item_id, line.quantity) for line in package.lines] == [(SERUM, 2)]
    event = StatusEvent.objects.get(object_id=row.pk, content_type__model="manualoutbound")
    assert (event.from_status, event.to_status, event.actor) == ("received", "shipped", admin_user)


def test_manual_shipping_without_tracking_is_refused(backend):
    backend.create_outbound(outbound())
    with pytest.raises(ApplicationError, match="carrier and tracking number"):
        manual_outbound_move(outbound=ManualOutbound.objects.get(), to_status=Status.SHIPPED, carrier="Yamato")
    assert ManualOutbound.objects.get().status == Status.RECEIVED


def test_manual_self_pickup_becomes_ready_then_picked_up(backend):
    backend.create_outbound(outbound(service_code="", self_pickup=True, pickup_code="PK1234"))
    row = ManualOutbound.objects.get()
    with pytest.raises(ApplicationError, match="not shipped"):
        manual_outbound_move(outbound=row, to_status=Status.SHIPPED, carrier="x", tracking_number="y")
    manual_outbound_move(outbound=row, to_status=Status.READY_FOR_PICKUP)
    assert backend.find_outbound("DO26000201").status == OutboundStatus.READY_FOR_PICKUP
    manual_outbound_move(outbound=row, to_status=Status.PICKED_UP, message="Collected by the courier of Acme")
    order = backend.find_outbound("DO26000201")
    assert (order.status, order.shipments, order.message) == (
        OutboundStatus.PICKED_UP,
        (),
        "Collected by the courier of Acme",
    )


def test_manual_cancel_before_shipping_and_refused_after(backend, admin_user):
    backend.create_outbound(outbound())
    assert backend.cancel_outbound("DO26000201").status == OutboundStatus.CANCELLED
    assert backend.cancel_outbound("DO26000201").status == OutboundStatus.CANCELLED
    backend.create_outbound(outbound(reference="DO26000202"))
    manual_outbound_move(
        outbound=ManualOutbound.objects.get(reference="DO26000202"),
        to_status=Status.SHIPPED,
        actor=admin_user,
        carrier="Japan Post",
        tracking_number="EJ123456789JP",
    )
    with pytest.raises(CancelRefused, match="Shipped"):
        backend.cancel_outbound("DO26000202")
    with pytest.raises(OutboundNotFound):
        backend.cancel_outbound("DO26000999")


def test_manual_cancelled_order_cannot_ship_afterwards(backend):
    backend.create_outbound(outbound())
    backend.cancel_outbound("DO26000201")
    with pytest.raises(IllegalTransition, match="from Cancelled at the warehouse to Shipped"):
        manual_outbound_move(
            outbound=ManualOutbound.objects.get(), to_status=Status.SHIPPED, carrier="x", tracking_number="y"
        )


def test_manual_changes_since_pages_by_cursor(warehouse):
    backend = ManualBackend(warehouse, page_size=2)
    before = datetime.now(tz=UTC) - timedelta(seconds=1)
    for number in range(1, 6):
        backend.create_outbound(outbound(reference=f"DO2600030{number}"))
    pages = list(backend.iter_changes(before))
    assert [len(page.orders) for page in pages] == [2, 2, 1]
    references = [order.reference for page in pages for order in page.orders]
    assert references == [f"DO2600030{n}" for n in range(1, 6)]
    assert backend.changes_since(datetime.now(tz=UTC) + timedelta(minutes=1)).orders == ()


def test_manual_queue_of_another_warehouse_is_not_reported(backend):
    ManualOutboundFactory(reference="DO26000299")  # another warehouse's queue
    assert backend.find_outbound("DO26000299") is None
    assert backend.changes_since(datetime.now(tz=UTC) - timedelta(hours=1)).orders == ()


def test_manual_backend_takes_no_webhooks(backend):
    with pytest.raises(WebhookRejected, match="no webhooks"):
        backend.parse_webhook({}, b"{}")


def test_backend_for_a_warehouse_without_a_backend_says_what_to_do():
    with pytest.raises(BackendNotConfigured, match="has no backend"):
        backend_for(WarehouseFactory(code="DE-FRA"))


# --- the staff console ------------------------------------------------------------------


def test_manual_admin_records_a_shipment(backend, admin_client):
    backend.create_outbound(outbound())
    row = ManualOutbound.objects.get()
    url = reverse("admin:fulfillment_manualoutbound_change", args=[row.pk])
    assert admin_client.get(url).status_code == 200
    # staff pick "Shipped" and type the tracking
    answer = admin_client.post(
        url,
        {
            "next_status": "shipped",
            "new_carrier": "Sagawa",
            "new_service": "",
            "new_tracking_number": "3601-2345-6789",
            "new_tracking_url": "",
            "note": "",
        },
    )
    assert answer.status_code == 302
    row.refresh_from_db()
    assert (row.status, row.carrier, row.tracking_number) == (Status.SHIPPED, "Sagawa", "3601-2345-6789")
    assert row.handled_by is not None and row.shipped_at is not None


def test_manual_admin_refuses_a_shipment_without_tracking(backend, admin_client):
    backend.create_outbound(outbound())
    row = ManualOutbound.objects.get()
    url = reverse("admin:fulfillment_manualoutbound_change", args=[row.pk])
    answer = admin_client.post(url, {"next_status": "shipped", "new_carrier": "Sagawa", "new_tracking_number": ""})
    assert answer.status_code == 200
    assert "needs its carrier and tracking number" in answer.content.decode()
    row.refresh_from_db()
    assert row.status == Status.RECEIVED


def test_manual_admin_lists_the_queue(backend, admin_client):
    backend.create_outbound(outbound())
    page = admin_client.get(reverse("admin:fulfillment_manualoutbound_changelist"))
    assert page.status_code == 200 and "DO26000201" in page.content.decode()
