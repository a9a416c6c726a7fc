"""The staff console of fulfilment (fulfillment/admin.py): the queues of warehouse pushes
and their bulk actions, entering tracking by hand and from a file, shipments, tracking
syncs, webhooks, and the daily reconciliation (fulfillment/reconcile.py).

Orders are paid for real (the receiver pushes them), to a warehouse worked by hand (the
manual backend: no HTTP), or to the sandbox warehouse over real HTTP where the REST path
is the point. The changelists' query counts are pinned."""

import io
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from finance import services as finance
from fulfillment import reconcile, tracking_import
from fulfillment.models import (
    ManualOutbound,
    Outbound,
    Reconciliation,
    Shipment,
    TrackingSync,
    WarehouseBackend,
    WarehouseEvent,
)
from fulfillment.services import manual_outbound_move
from fulfillment.warehouses.base import WarehouseRejected
from orders.actions import orders_cancel, orders_pay
from orders.ingest.routing import new_order_number
from orders.models import Logistics, Order, OrderEvent, OrderStatus
from sandbox.models import SandboxOutboundOrder
from tests.catalog.factories import ItemFactory, WarehouseFactory
from tests.distribution.factories import owner_of
from tests.fulfillment.factories import (
    ManualOutboundFactory,
    OutboundFactory,
    ShipmentFactory,
    TrackingSyncFactory,
    WarehouseBackendFactory,
)
from tests.fulfillment.orders import make_order, messages_lost
from tests.sandbox_helpers import WarehouseSandbox

pytestmark = pytest.mark.django_db(transaction=True)

OUTBOUNDS = "admin:fulfillment_outbound_changelist"
IMPORT = "admin:fulfillment_outbound_tracking_import"


# --- the world ----------------------------------------------------------------------------


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("staff", "staff@example.com", "pw")


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def warehouse():
    """A warehouse whose staff work the manual queue in our admin."""
    warehouse = WarehouseFactory(code="US-NJ", name="Newark NJ")
    WarehouseBackendFactory(warehouse=warehouse, kind="manual")
    return warehouse


@pytest.fixture
def items(warehouse):
    return [
        ItemFactory(warehouse=warehouse, item_id="LS228800001-01-01", stock_on_hand=500, price=Decimal("10.00")),
        ItemFactory(warehouse=warehouse, item_id="LS228800002-01-01", stock_on_hand=500, price=Decimal("5.00")),
    ]


@pytest.fixture
def funded(staff):
    owner = owner_of()
    finance.adjustment_post(
        actor=staff, distributor=owner.distributor, amount="5000.00", reason="test", idempotency_key="fund"
    )
    return owner


def paid(owner, items, **fields) -> Order:
    """An order paid from the balance; the receiver pushes it to its warehouse at once."""
    order = make_order(owner, items, **fields)
    result = orders_pay(actor=owner, orders=[order], idempotency_key=f"pay:{order.number}")
    assert result.paid, result
    order.refresh_from_db()
    return order


def manual_row(order) -> ManualOutbound:
    return ManualOutbound.objects.get(reference=order.number)


def listed(client, url=OUTBOUNDS, **params) -> set[str]:
    response = client.get(reverse(url), params)
    assert response.status_code == 200
    return {
        str(row.reference) if hasattr(row, "reference") else str(row.pk) for row in response.context["cl"].result_list
    }


def act(client, action, rows, url=OUTBOUNDS) -> list[str]:
    response = client.post(reverse(url), {"action": action, "_selected_action": [row.pk for row in rows]}, follow=True)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def has(messages, *parts) -> bool:
    return any(all(part in message for part in parts) for message in messages)


def age(outbound: Outbound, **fields) -> None:
    Outbound.objects.filter(pk=outbound.pk).update(**fields)


# --- the queues ---------------------------------------------------------------------------


def test_each_queue_filter_lists_exactly_its_rows(staff_client):
    now = timezone.now()
    waiting = OutboundFactory(state=Outbound.State.PENDING)
    failed = OutboundFactory(state=Outbound.State.FAILED, order__status=OrderStatus.PUSH_FAILED)
    at_warehouse = OutboundFactory(state=Outbound.State.PUSHED, order__status=OrderStatus.AT_WAREHOUSE, pushed_at=now)
    pickup = OutboundFactory(
        state=Outbound.State.PUSHED,
        order__status=OrderStatus.AT_WAREHOUSE,
        order__logistics=Logistics.SELF_PICKUP,
        pushed_at=now,
    )
    part_shipped = OutboundFactory(state=Outbound.State.PUSHED, order__status=OrderStatus.AT_WAREHOUSE, pushed_at=now)
    ShipmentFactory(order=part_shipped.order)
    cancel = OutboundFactory(state=Outbound.State.PUSHED, order__status=OrderStatus.CANCEL_REQUESTED, pushed_at=now)
    # stale: paid three days ago and never pushed; pushed three days ago, not shipped;
    # shipped, and not a word from the warehouse for eight days
    stale_paid = OutboundFactory(state=Outbound.State.PENDING)
    age(stale_paid, created_at=now - timedelta(days=3))
    stale_pushed = OutboundFactory(state=Outbound.State.PUSHED, order__status=OrderStatus.AT_WAREHOUSE)
    age(stale_pushed, created_at=now - timedelta(days=4), pushed_at=now - timedelta(days=3))
    stale_shipped = OutboundFactory(state=Outbound.State.PUSHED, order__status=OrderStatus.SHIPPED)
    age(stale_shipped, pushed_at=now - timedelta(days=12), last_change_at=now - timedelta(days=8))
    ShipmentFactory(order=stale_shipped.order)
    # not stale: pushed 47 hours ago; shipped with an update two days ago; cancelled long ago
    recent = OutboundFactory(state=Outbound.State.PUSHED, order__status=OrderStatus.AT_WAREHOUSE)
    age(recent, created_at=now - timedelta(hours=50), pushed_at=now - timedelta(hours=47))
    ShipmentFactory(order=recent.order)
    heard = OutboundFactory(state=Outbound.State.PUSHED, order__status=OrderStatus.SHIPPED)
    age(heard, pushed_at=now - timedelta(days=12), last_change_at=now - timedelta(days=2))
    gone = OutboundFactory(state=Outbound.State.CANCELLED, order__status=OrderStatus.CANCELLED)
    age(gone, created_at=now - timedelta(days=30), pushed_at=now - timedelta(days=30))

    assert listed(staff_client, queue="to_push") == {waiting.reference, stale_paid.reference}
    assert listed(staff_client, queue="push_failed") == {failed.reference}
    assert listed(staff_client, queue="awaiting_tracking") == {at_warehouse.reference, stale_pushed.reference}
    assert listed(staff_client, queue="cancel_requested") == {cancel.reference}
    assert listed(staff_client, queue="stale") == {
        stale_paid.reference,
        stale_pushed.reference,
        stale_shipped.reference,
    }
    assert len(listed(staff_client)) == 12
    assert pickup.reference not in listed(staff_client, queue="awaiting_tracking")
    # the warehouse and state filters and the search work beside the queues
    assert listed(staff_client, state="failed") == {failed.reference}
    assert listed(staff_client, warehouse__id__exact=failed.warehouse_id) == {failed.reference}
    assert listed(staff_client, q=cancel.order.number) == {cancel.reference}
    Outbound.objects.filter(pk=gone.pk).update(warehouse_order_id="WH-778812")
    assert listed(staff_client, q="WH-778812") == {gone.reference}


def test_the_queue_filter_offers_exactly_the_queues(staff_client):
    response = staff_client.get(reverse(OUTBOUNDS))
    spec = next(spec for spec in response.context["cl"].filter_specs if spec.parameter_name == "queue")
    assert [value for value, _label in spec.lookup_choices] == [
        "to_push",
        "push_failed",
        "awaiting_tracking",
        "cancel_requested",
        "stale",
    ]


def test_the_push_record_is_read_only_and_links_its_order(staff_client):
    outbound = OutboundFactory(state=Outbound.State.FAILED, last_error="Unknown Item ID")
    html = staff_client.get(reverse("admin:fulfillment_outbound_change", args=[outbound.pk])).content.decode()
    assert reverse("admin:orders_order_change", args=[outbound.order_id]) in html
    assert 'name="_save"' not in html and 'name="last_error"' not in html and "Unknown Item ID" in html
    assert staff_client.get(reverse("admin:fulfillment_outbound_add")).status_code == 403
    listing = staff_client.get(reverse(OUTBOUNDS)).content.decode()
    assert reverse("admin:orders_order_change", args=[outbound.order_id]) in listing


# --- the bulk actions ---------------------------------------------------------------------


def test_push_now_pushes_orders_that_waited_for_a_backend_and_says_which_were_not(
    staff_client, funded, items, warehouse
):
    # given a paid order whose warehouse had no backend yet: it waits, its attempt uncounted
    WarehouseBackend.objects.filter(warehouse=warehouse).delete()
    order = paid(funded, items)
    outbound = Outbound.objects.get(order=order)
    assert (order.status, outbound.state) == (OrderStatus.PAID, "pending")
    assert outbound.next_attempt_at > timezone.now() and "has no backend" in outbound.last_error
    failed = OutboundFactory(state=Outbound.State.FAILED, order__status=OrderStatus.PUSH_FAILED)
    # when staff give the warehouse its backend and push both now
    WarehouseBackendFactory(warehouse=warehouse, kind="manual")
    messages = act(staff_client, "push_now", [outbound, failed])
    # then the waiting one is at the warehouse, and the failed one is named with what to do
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WAREHOUSE
    assert manual_row(order).status == ManualOutbound.Status.RECEIVED
    assert has(messages, "1 pushed to the warehouse", order.number)
    assert has(messages, "1 not done", failed.reference, "Retry the failed push")


def test_push_now_reports_a_refusal_with_the_warehouse_words(staff_client, funded, items, warehouse, monkeypatch):
    WarehouseBackend.objects.filter(warehouse=warehouse).delete()
    order = paid(funded, items)
    WarehouseBackendFactory(warehouse=warehouse, kind="manual")

    def refuse(backend, request):
        raise WarehouseRejected("Unknown Item ID LS228800002-01-01")

    monkeypatch.setattr("fulfillment.warehouses.manual.ManualBackend.create_outbound", refuse)
    messages = act(staff_client, "push_now", [Outbound.objects.get(order=order)])
    assert has(messages, "1 not done", order.number, "push failed", "Unknown Item ID LS228800002-01-01")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PUSH_FAILED


def test_retry_push_sends_a_failed_push_again(staff_client, funded, items, monkeypatch):
    # given an order the warehouse refused (its push failed), and one at the warehouse
    def refuse(backend, request):
        raise WarehouseRejected("The warehouse is closed for stocktaking.")

    monkeypatch.setattr("fulfillment.warehouses.manual.ManualBackend.create_outbound", refuse)
    refused = paid(funded, items)
    monkeypatch.undo()
    fine = paid(funded, items)
    assert (refused.status, fine.status) == (OrderStatus.PUSH_FAILED, OrderStatus.AT_WAREHOUSE)
    # when staff retry both
    messages = act(staff_client, "retry_push", Outbound.objects.filter(order__in=[refused, fine]))
    # then the failed one is pushed again (the receiver takes it) and the other is named
    refused.refresh_from_db()
    assert refused.status == OrderStatus.AT_WAREHOUSE
    assert manual_row(refused).status == ManualOutbound.Status.RECEIVED
    assert OrderEvent.objects.filter(
        order=refused, to_status=OrderStatus.PAID, message__contains="stocktaking"
    ).exists()
    assert has(messages, "1 push(es) retried", refused.number)
    assert has(messages, "1 not done", fine.number, "only a failed push is retried")


def test_carry_cancel_request_cancels_at_the_warehouse_or_says_it_came_too_late(staff_client, funded, items):
    stoppable, shipped, untouched = paid(funded, items), paid(funded, items), paid(funded, items)
    # the cancel requests' messages are lost: both sit in "cancel requested"; the warehouse
    # ships one of them meanwhile
    with messages_lost():
        orders_cancel(actor=funded, orders=[stoppable, shipped], reason="buyer changed their mind")
    manual_outbound_move(
        outbound=manual_row(shipped), to_status="shipped", carrier="UPS", tracking_number="1Z999AA10123456784"
    )
    rows = Outbound.objects.filter(order__in=[stoppable, shipped, untouched])
    assert listed(staff_client, queue="cancel_requested") == {stoppable.number, shipped.number}
    # when staff carry them
    messages = act(staff_client, "carry_cancel_request", rows)
    # then one is cancelled (and refunded), the shipped one ships, the third is named
    assert Order.objects.get(pk=stoppable.pk).status == OrderStatus.CANCELLED
    assert manual_row(stoppable).status == ManualOutbound.Status.CANCELLED
    assert Order.objects.get(pk=shipped.pk).status == OrderStatus.SHIPPED
    assert has(messages, "1 cancelled at the warehouse and refunded", stoppable.number)
    assert has(messages, shipped.number, "too late")
    assert has(messages, untouched.number, "no cancel request is open")


def test_poll_the_warehouse_applies_what_its_staff_did_and_names_a_warehouse_that_failed(staff_client, funded, items):
    order = paid(funded, items)
    manual_outbound_move(
        outbound=manual_row(order), to_status="shipped", carrier="USPS", tracking_number="9400111899223100001234"
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AT_WAREHOUSE  # we have not heard yet
    unconfigured = OutboundFactory(state=Outbound.State.PUSHED, order__status=OrderStatus.AT_WAREHOUSE)
    messages = act(staff_client, "poll_warehouse", [Outbound.objects.get(order=order), unconfigured])
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED and order.tracking_number == "9400111899223100001234"
    assert has(messages, "1 warehouse(s) polled", "US-NJ (1 orders updated, 0 not ours)")
    assert has(messages, unconfigured.warehouse.code, "has no backend")


@pytest.fixture
def sandbox(live_server):
    return WarehouseSandbox(live_server.url)


@pytest.fixture
def rest_warehouse(sandbox):
    account = sandbox.control("console-us", ship_after_seconds=3600, webhook_url="")
    warehouse = WarehouseFactory(code="US-CA", name="Ontario CA")
    WarehouseBackendFactory(
        warehouse=warehouse,
        kind="rest",
        base_url=sandbox.api_url("console-us"),
        token=account["api_token"],
        webhook_secret=account["webhook_secret"],
    )
    return warehouse


@pytest.fixture
def rest_items(rest_warehouse):
    return [ItemFactory(warehouse=rest_warehouse, item_id="LS228800009-01-01", stock_on_hand=50, price=Decimal("8"))]


def test_poll_the_warehouse_over_http_ships_what_the_sandbox_shipped(staff_client, funded, rest_items, sandbox):
    order = paid(funded, rest_items, quantities=(1,))
    assert order.status == OrderStatus.AT_WAREHOUSE
    sandbox.control("console-us", ship_now=order.number)
    messages = act(staff_client, "poll_warehouse", [Outbound.objects.get(order=order)])
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    assert has(messages, "US-CA (1 orders updated")


# --- entering tracking by hand ------------------------------------------------------------


def tracking_url(outbound):
    return reverse("admin:fulfillment_outbound_tracking", args=[outbound.pk])


def test_enter_tracking_ships_the_order_and_names_who_entered_it(staff_client, staff, funded, items):
    order = paid(funded, items)
    outbound = Outbound.objects.get(order=order)
    change = staff_client.get(reverse("admin:fulfillment_outbound_change", args=[outbound.pk])).content.decode()
    assert tracking_url(outbound) in change  # the button on the push's page
    assert staff_client.get(tracking_url(outbound)).status_code == 200
    response = staff_client.post(
        tracking_url(outbound),
        {"carrier": "UPS", "tracking_number": " 1Z 999AA1 0123456784 ", "tracking_url": ""},
        follow=True,
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    (shipment,) = Shipment.objects.filter(order=order)
    assert (shipment.carrier, shipment.tracking_number, shipment.source) == ("UPS", "1Z999AA10123456784", "staff")
    assert sum(line.quantity for line in shipment.lines.all()) == 3
    assert OrderEvent.objects.get(order=order, data__shipment=shipment.pk).actor == staff
    assert has([str(m) for m in response.context["messages"]], "1Z999AA10123456784", "shipped")
    # the same number again is an error on the form, and records nothing
    again = staff_client.post(tracking_url(outbound), {"carrier": "UPS", "tracking_number": "1Z999AA10123456784"})
    assert "already recorded" in again.content.decode()
    assert Shipment.objects.filter(order=order).count() == 1


def test_enter_tracking_errors_are_shown_on_the_form(staff_client, funded, items):
    pickup = paid(funded, items, logistics=Logistics.SELF_PICKUP)
    outbound = Outbound.objects.get(order=pickup)
    html = staff_client.post(tracking_url(outbound), {"carrier": "UPS", "tracking_number": "1Z1"}).content.decode()
    assert 'data-testid="admin-error"' in html and "is collected, not shipped" in html
    html = staff_client.post(tracking_url(outbound), {"carrier": "", "tracking_number": ""}).content.decode()
    assert html.count('class="errorlist') >= 2
    html = staff_client.post(
        tracking_url(outbound), {"carrier": "UPS", "tracking_number": "1Z1", "tracking_url": "not a url"}
    ).content.decode()
    assert "Enter a valid URL" in html
    assert not Shipment.objects.exists()


# --- the tracking file --------------------------------------------------------------------

HEADER = ["Order No", "Carrier", "Tracking No", "Tracking URL"]


def xlsx(rows, header=HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content, name="tracking.xlsx"):
    return client.post(reverse(IMPORT), {"file": SimpleUploadedFile(name, content)})


@pytest.fixture
def file_orders(funded, items):
    """Orders for every kind of row: two at the warehouse, a self-pickup, a cancelled one,
    one already shipped with its tracking, one at the warehouse for a reused number."""
    ok1, ok2, ok3, ok4, ok5 = (paid(funded, items) for _n in range(5))
    pickup = paid(funded, items, logistics=Logistics.SELF_PICKUP)
    cancelled = paid(funded, items)
    orders_cancel(actor=funded, orders=[cancelled])
    shipped = paid(funded, items)
    manual_outbound_move(
        outbound=manual_row(shipped), to_status="shipped", carrier="USPS", tracking_number="9400100000000000000077"
    )
    from fulfillment.changes import warehouse_poll

    warehouse_poll(warehouse=items[0].warehouse)
    reused = paid(funded, items)
    orders = {
        "ok1": ok1,
        "ok2": ok2,
        "ok3": ok3,
        "ok4": ok4,
        "ok5": ok5,
        "pickup": pickup,
        "cancelled": cancelled,
        "shipped": shipped,
        "reused": reused,
    }
    for order in orders.values():
        order.refresh_from_db()
    assert orders["cancelled"].status == OrderStatus.CANCELLED and orders["shipped"].status == OrderStatus.SHIPPED
    return orders


def test_tracking_import_previews_every_row_with_its_error_and_saves_nothing(staff_client, file_orders):
    o = file_orders
    rows = [
        [o["ok1"].number, "UPS", "1Z999AA10000000001", "https://www.ups.com/track?tracknum=1Z999AA10000000001"],
        ["DO260101ZZZZZZZZ", "UPS", "1Z999AA10000000002", ""],  # no such order
        [o["cancelled"].number, "UPS", "1Z999AA10000000003", ""],  # not at the warehouse
        [o["pickup"].number, "UPS", "1Z999AA10000000004", ""],  # self-pickup
        [o["ok2"].number, "", "1Z999AA10000000005", ""],  # no carrier
        [o["ok3"].number.lower(), "DHL", "", ""],  # no tracking number (the number in lower case is found)
        [o["ok1"].number, "UPS", "1Z999AA10000000001", ""],  # the same row again
        [o["reused"].number, "USPS", "9400100000000000000077", ""],  # recorded for another order
        [o["ok4"].number, "FedEx", 9400100000000000000099, ""],  # typed as a number: digits lost
        ["DO260101ZZZZZZZY", "FedEx", "7712 0000 0001", "ftp://example.com/x"],  # not a web address
        [o["ok5"].number, "FedEx", "7712 3456 7890", ""],  # spaces in the number are dropped
    ]
    response = upload(staff_client, xlsx(rows))
    assert response.status_code == 200
    read = response.context["read"]
    errors = {row.number: row.error for row in read.rows}
    assert errors[2] == ""
    assert errors[3] == "No order has the number DO260101ZZZZZZZZ."
    assert errors[4] == f"Order {o['cancelled'].number} is not at the warehouse: it is cancelled."
    assert "self-pickup" in errors[5]
    assert errors[6] == "Carrier is missing."
    assert errors[7] == "Tracking No is missing."
    assert errors[8] == "Duplicate row: the same as row 2."
    assert errors[9] == f"Tracking number 9400100000000000000077 is already recorded for order {o['shipped'].number}."
    assert "saved as a number" in errors[10] and "lost digits" in errors[10]
    assert "is not a web address" in errors[11]
    assert errors[12] == ""
    assert [(row.number, row.tracking_number) for row in read.valid] == [
        (2, "1Z999AA10000000001"),
        (12, "771234567890"),
    ]
    html = response.content.decode()
    assert "11 rows: 2 ok, 9 with an error." in html and 'name="payload"' in html
    assert "No order has the number DO260101ZZZZZZZZ." in html
    # the preview records nothing
    assert not Shipment.objects.filter(source="import").exists()
    assert Order.objects.get(pk=o["ok1"].pk).status == OrderStatus.AT_WAREHOUSE


def test_tracking_import_confirm_records_only_the_ok_rows(staff_client, staff, file_orders):
    o = file_orders
    rows = [
        [o["ok1"].number, "UPS", "1Z999AA10000000001", "https://www.ups.com/track?tracknum=1Z999AA10000000001"],
        [o["pickup"].number, "UPS", "1Z999AA10000000004", ""],
        [o["ok2"].number, "FedEx", "771234567890", ""],
    ]
    response = upload(staff_client, xlsx(rows))
    payload = response.context["payload"]
    # meanwhile the second order shipped some other way: its row is checked again and refused
    Shipment.objects.create(
        order=o["ok2"], warehouse_shipment_id="X-1", carrier="FedEx", tracking_number="771234567890"
    )
    confirmed = staff_client.post(reverse(IMPORT), {"payload": payload}, follow=True)
    messages = [str(m) for m in confirmed.context["messages"]]
    assert has(messages, "Tracking recorded for 1 order(s).")
    assert has(messages, "Row 4", o["ok2"].number, "already recorded for this order")
    ok1 = Order.objects.get(pk=o["ok1"].pk)
    assert ok1.status == OrderStatus.SHIPPED and ok1.tracking_number == "1Z999AA10000000001"
    shipment = Shipment.objects.get(order=ok1)
    assert (shipment.source, shipment.tracking_url) == ("import", rows[0][3])
    assert OrderEvent.objects.get(order=ok1, data__shipment=shipment.pk).actor == staff
    assert Order.objects.get(pk=o["pickup"].pk).status == OrderStatus.AT_WAREHOUSE
    assert Shipment.objects.filter(source="import").count() == 1
    # a second confirm of the same preview records nothing more
    staff_client.post(reverse(IMPORT), {"payload": payload})
    assert Shipment.objects.filter(source="import").count() == 1


def test_tracking_import_reads_a_csv_with_other_column_names(staff_client, file_orders):
    content = (f"\ufeff订单号,Courier,运单号\n{file_orders['ok1'].number},UPS,001Z999AA1\n").encode()
    response = upload(staff_client, content, name="tracking.csv")
    (row,) = response.context["read"].rows
    assert (row.ok, row.carrier, row.tracking_number) == (True, "UPS", "001Z999AA1")  # the zeros stay


def test_a_row_with_nothing_to_record_offers_no_confirm(staff_client, file_orders):
    html = upload(staff_client, xlsx([["DO260101ZZZZZZZZ", "UPS", "1Z1", ""]])).content.decode()
    assert 'data-testid="import-nothing"' in html and 'name="payload"' not in html


def _zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _bomb() -> bytes:
    """A real workbook whose sheet inflates a thousandfold."""
    content = xlsx([["DO1", "UPS", "1Z1", ""]])
    source = zipfile.ZipFile(io.BytesIO(content))
    parts = {name: source.read(name) for name in source.namelist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"<sheetData>", b"<!--" + b" " * (20 << 20) + b"--><sheetData>")
    return _zip(parts)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tracking.xlsx", b"", "The submitted file is empty."),
        ("tracking.exe", b"MZ\x90\x00" * 50, "is not an Excel workbook (.xlsx) or a CSV file"),
        ("tracking.xlsx", b"\x00\x01garbage" * 100, "is not an Excel workbook"),
        ("tracking.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "old .xls workbook"),
        ("tracking.xlsx", _zip({"hello.txt": b"not a workbook"}), "has no workbook inside"),
        ("tracking.xlsx", _bomb(), "unpacks to more than"),
        (
            "tracking.xlsx",
            xlsx([["DO1", "UPS"]], header=["Order No", "Carrier", "Weight"]),
            "Columns missing: Tracking No",
        ),
        ("tracking.xlsx", xlsx([]), "no rows to import"),
        ("tracking.csv", b"\xef\xbb\xbf", "The file is empty"),
        ("tracking.csv", b"Order No,Carrier,Tracking No\n" + b"DO1,UPS,1Z1\n" * 5_001, "more than 5,000 rows"),
        ("tracking.csv", b"Order No,Carrier,Tracking No\n" + b"x" * (6 << 20), "larger than 5 MB"),
    ],
)
def test_a_hostile_or_broken_file_is_a_clear_message_and_changes_nothing(
    staff_client, funded, items, name, content, message
):
    order = paid(funded, items)
    response = upload(staff_client, content, name=name)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="errorlist' in html, html[-3000:]
    assert message in html
    assert response.context["read"] is None and 'name="payload"' not in html
    assert not Shipment.objects.exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AT_WAREHOUSE


def test_a_forged_or_stale_preview_records_nothing(staff_client, file_orders):
    forged = signing.dumps({"rows": [[2, file_orders["ok1"].number, "UPS", "1Z1", ""]]}, salt="another salt")
    response = staff_client.post(reverse(IMPORT), {"payload": forged}, follow=True)
    assert "The preview has expired" in response.content.decode()
    assert not Shipment.objects.filter(source="import").exists()


def test_the_tracking_template_has_the_columns_as_text_and_instructions(staff_client):
    response = staff_client.get(reverse("admin:fulfillment_outbound_tracking_template"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Tracking"]
    assert [cell.value for cell in sheet[1]] == HEADER
    assert book["Instructions"]["A1"].value.startswith("One row per order")
    # the template reads back as a file with no rows
    with pytest.raises(tracking_import.spreadsheet.FileRejected, match="no rows"):
        tracking_import.parse_tracking_file(io.BytesIO(response.content), name="tracking-template.xlsx")
    listing = staff_client.get(reverse(OUTBOUNDS)).content.decode()
    assert reverse(IMPORT) in listing and reverse("admin:fulfillment_outbound_tracking_template") in listing


# --- shipments, tracking syncs, webhooks ---------------------------------------------------


def test_tracking_sync_queues_and_retry(staff_client):
    failed = TrackingSyncFactory(state=TrackingSync.State.FAILED, attempts=8, platform_answer="422 bad line id")
    pending = TrackingSyncFactory(state=TrackingSync.State.PENDING)
    in_file = TrackingSyncFactory(state=TrackingSync.State.FILE)
    synced = TrackingSyncFactory(state=TrackingSync.State.SYNCED)
    url = "admin:fulfillment_trackingsync_changelist"
    assert listed(staff_client, url, queue="failed") == {str(failed.pk)}
    assert listed(staff_client, url, queue="pending") == {str(pending.pk)}
    assert listed(staff_client, url, queue="file") == {str(in_file.pk)}
    messages = act(staff_client, "retry", [failed, synced], url=url)
    failed.refresh_from_db()
    assert (failed.state, failed.attempts) == ("pending", 0) and failed.next_attempt_at is not None
    assert TrackingSync.objects.get(pk=synced.pk).state == "synced"
    assert has(messages, "1 tracking sync(s) to be sent again")
    assert has(messages, "1 not retried", synced.shipment.tracking_number)


def test_shipment_pages_are_read_only_with_their_lines(staff_client, funded, items):
    order = paid(funded, items)
    from fulfillment.changes import tracking_enter

    shipment = tracking_enter(order=order, carrier="UPS", tracking_number="1Z999AA10123456784")
    html = staff_client.get(reverse("admin:fulfillment_shipment_change", args=[shipment.pk])).content.decode()
    assert "LS228800001-01-01" in html and "LS228800002-01-01" in html and 'name="_save"' not in html
    assert staff_client.get(reverse("admin:fulfillment_shipment_add")).status_code == 403
    listing = staff_client.get(reverse("admin:fulfillment_shipment_changelist"), {"q": "1Z999AA10123456784"})
    assert [row.pk for row in listing.context["cl"].result_list] == [shipment.pk]


@pytest.fixture
def webhook_warehouse():
    warehouse = WarehouseFactory(code="US-TX")
    WarehouseBackendFactory(warehouse=warehouse, kind="rest", base_url="https://api.warehouse.example/2026-01")
    return warehouse


def _event(warehouse, reference, *, error="", processed=True, event_id="msg_1"):
    payload = {
        "type": "order.shipment.exception",
        "timestamp": "2026-12-01T00:00:00Z",
        "data": {"id": 881, "reference_id": reference, "status": "Processing", "shipments": []},
    }
    return WarehouseEvent.objects.create(
        warehouse=warehouse,
        event_id=event_id,
        type=payload["type"],
        payload=payload,
        error=error,
        processed_at=timezone.now() if processed else None,
    )


def test_warehouse_events_filter_show_the_payload_and_apply_again(staff_client, webhook_warehouse):
    outbound = OutboundFactory(
        warehouse=webhook_warehouse, state=Outbound.State.PUSHED, order__status=OrderStatus.AT_WAREHOUSE
    )
    # it came before the push was recorded: "no order of ours"; another applied fine
    erred = _event(webhook_warehouse, outbound.reference, error="No order of ours has the reference.")
    fine = _event(webhook_warehouse, outbound.reference, event_id="msg_2")
    waiting = _event(webhook_warehouse, "DO-OTHER", processed=False, event_id="msg_3")
    url = "admin:fulfillment_warehouseevent_changelist"
    assert listed(staff_client, url, processed="error") == {str(erred.pk)}
    assert listed(staff_client, url, processed="ok") == {str(fine.pk)}
    assert listed(staff_client, url, processed="no") == {str(waiting.pk)}
    html = staff_client.get(reverse("admin:fulfillment_warehouseevent_change", args=[erred.pk])).content.decode()
    assert "<pre" in html and "&quot;reference_id&quot;: &quot;" in html and "No order of ours" in html
    messages = act(staff_client, "apply_again", [erred, fine, waiting], url=url)
    erred.refresh_from_db()
    assert erred.error == "" and erred.processed_at is not None
    assert Outbound.objects.get(pk=outbound.pk).warehouse_status == "processing"
    assert has(messages, "1 event(s) applied: msg_1")
    assert has(messages, "msg_2", "left alone")
    assert has(messages, "msg_3", "No order of ours has the reference DO-OTHER")


# --- the reconciliation -------------------------------------------------------------------


def kinds(result: Reconciliation) -> set[tuple[str, str]]:
    return {(row["reference"], row["difference"]) for row in result.differences}


def test_reconciliation_finds_every_kind_of_difference(funded, items, warehouse):
    agree = paid(funded, items)
    missing = paid(funded, items)
    ManualOutbound.objects.filter(reference=missing.number).delete()  # the warehouse lost it
    cancelled_there = paid(funded, items)
    ManualOutbound.objects.filter(reference=cancelled_there.number).update(status="cancelled")
    shipped_there = paid(funded, items)
    ManualOutbound.objects.filter(reference=shipped_there.number).update(
        status="shipped", carrier="USPS", tracking_number="9400100000000000000555", shipped_at=timezone.now()
    )
    from fulfillment.changes import tracking_enter

    shipped_here = paid(funded, items)
    tracking_enter(order=shipped_here, carrier="UPS", tracking_number="1Z999AA10000000042")
    stranger = ManualOutboundFactory(warehouse=warehouse, reference=new_order_number())
    ManualOutboundFactory(warehouse=warehouse, reference="AMZ-112-3344")  # not our format: not ours to judge

    result = reconcile.warehouse_reconcile(warehouse=warehouse)

    assert result.error == "" and result.checked == 5
    assert kinds(result) == {
        (missing.number, reconcile.MISSING),
        (cancelled_there.number, reconcile.STATUS),
        (shipped_there.number, reconcile.STATUS),
        (shipped_there.number, reconcile.SHIPMENT),
        (shipped_here.number, reconcile.STATUS),
        (stranger.reference, reconcile.UNKNOWN),
    }
    by_kind = {(row["reference"], row["difference"]): row for row in result.differences}
    assert by_kind[(cancelled_there.number, "status")]["ours"] == "at_warehouse"
    assert by_kind[(cancelled_there.number, "status")]["theirs"] == "cancelled"
    assert by_kind[(shipped_here.number, "status")] == {
        "reference": shipped_here.number,
        "ours": "shipped",
        "theirs": "received",
        "difference": "status",
    }
    assert by_kind[(shipped_there.number, "shipment_not_recorded")]["theirs"] == "USPS 9400100000000000000555"
    assert agree.number not in {row["reference"] for row in result.differences}
    # nothing of ours was changed by looking
    assert Order.objects.get(pk=shipped_there.pk).status == OrderStatus.AT_WAREHOUSE


def test_reconciliation_leaves_out_orders_pushed_before_the_window(funded, items, warehouse):
    old = paid(funded, items)
    Outbound.objects.filter(order=old).update(pushed_at=timezone.now() - timedelta(days=40))
    ManualOutbound.objects.filter(reference=old.number).delete()
    result = reconcile.warehouse_reconcile(warehouse=warehouse)
    assert (result.checked, result.differences) == (0, [])


def test_a_backend_error_is_the_reconciliation_error():
    warehouse = WarehouseFactory(code="DE-FRA")
    OutboundFactory(warehouse=warehouse, state=Outbound.State.PUSHED, pushed_at=timezone.now())
    result = reconcile.warehouse_reconcile(warehouse=warehouse)
    assert "has no backend" in result.error and result.differences == [] and result.checked == 0


def test_reconciliation_over_http_with_the_sandbox(funded, rest_items, rest_warehouse, sandbox, live_server):
    agree = paid(funded, rest_items, quantities=(1,))
    missing = paid(funded, rest_items, quantities=(1,))
    assert missing.status == OrderStatus.AT_WAREHOUSE
    SandboxOutboundOrder.objects.filter(reference_id=missing.number).delete()
    shipped_there = paid(funded, rest_items, quantities=(1,))
    sandbox.control("console-us", ship_now=shipped_there.number)  # we have not polled
    # someone created an order at the warehouse under a number of ours we never pushed
    account = sandbox.control("console-us")
    stranger = new_order_number()
    body = {
        "reference_id": stranger,
        "shipping_method": "STANDARD",
        "recipient": {"name": "X", "address": {"address1": "1 Rd", "city": "LA", "country": "US"}},
        "products": [{"reference_id": "LS228800009-01-01", "name": "x", "quantity": 1}],
    }
    answer = requests.post(
        f"{sandbox.api_url('console-us')}/order",
        json=body,
        headers={"Authorization": f"Bearer {account['api_token']}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text

    result = reconcile.warehouse_reconcile(warehouse=rest_warehouse)

    assert result.error == "" and result.checked == 3
    assert kinds(result) == {
        (missing.number, reconcile.MISSING),
        (shipped_there.number, reconcile.STATUS),
        (shipped_there.number, reconcile.SHIPMENT),
        (stranger, reconcile.UNKNOWN),
    }
    assert agree.number not in {row["reference"] for row in result.differences}


def test_reconciliation_admin_shows_the_differences_and_runs_now(staff_client, funded, items, warehouse):
    missing = paid(funded, items)
    ManualOutbound.objects.filter(reference=missing.number).delete()
    # "run now" from the list's button, for one warehouse
    run = reverse("admin:fulfillment_reconciliation_run")
    assert staff_client.get(run).status_code == 200
    response = staff_client.post(run, {"warehouse": warehouse.pk}, follow=True)
    assert has([str(m) for m in response.context["messages"]], "US-NJ (1 compared, 1 differences)")
    result = Reconciliation.objects.get()
    html = staff_client.get(reverse("admin:fulfillment_reconciliation_change", args=[result.pk])).content.decode()
    assert 'data-testid="differences"' in html and "the warehouse has no such order" in html
    assert reverse("admin:orders_order_change", args=[missing.pk]) in html
    # and the action on a row runs its warehouse again
    messages = act(staff_client, "run_now", [result], url="admin:fulfillment_reconciliation_changelist")
    assert has(messages, "1 warehouse(s) reconciled") and Reconciliation.objects.count() == 2


def test_the_nightly_task_reconciles_every_warehouse_with_a_backend(funded, items, warehouse):
    from fulfillment.tasks import reconcile_warehouses

    paid(funded, items)
    WarehouseFactory(code="JP-TYO")  # no backend: not reconciled
    assert reconcile_warehouses() == 1
    assert list(Reconciliation.objects.values_list("warehouse__code", "checked")) == [("US-NJ", 1)]


def test_the_beat_schedule_runs_the_reconciliation_nightly():
    from distribution.celery import app

    entry = app.conf.beat_schedule["fulfillment-reconcile-warehouses"]
    assert entry["task"] == "fulfillment.tasks.reconcile_warehouses"
    assert entry["schedule"].hour == {4} and entry["schedule"].minute == {7}


# --- query counts -------------------------------------------------------------------------

# Every list: the session, the user, the portal's membership lookup (a context processor),
# one count, the page. Beside them: the warehouse filter's choices (pushes, shipments,
# webhooks), the webhook types, and the reconciliations' full count and date hierarchy.
OUTBOUND_LIST_QUERIES = 6
SHIPMENT_LIST_QUERIES = 6
SYNC_LIST_QUERIES = 5
EVENT_LIST_QUERIES = 7
RECONCILIATION_LIST_QUERIES = 9


def _outbounds(n):
    for _i in range(n):
        outbound = OutboundFactory(state=Outbound.State.PUSHED, order__status=OrderStatus.AT_WAREHOUSE)
        ShipmentFactory(order=outbound.order)


@pytest.mark.parametrize(
    ("url", "make", "queries"),
    [
        (OUTBOUNDS, _outbounds, OUTBOUND_LIST_QUERIES),
        (
            "admin:fulfillment_shipment_changelist",
            lambda n: [TrackingSyncFactory() for _i in range(n)],
            SHIPMENT_LIST_QUERIES,
        ),
        (
            "admin:fulfillment_trackingsync_changelist",
            lambda n: [TrackingSyncFactory() for _i in range(n)],
            SYNC_LIST_QUERIES,
        ),
        (
            "admin:fulfillment_warehouseevent_changelist",
            lambda n: [
                _event(WarehouseFactory(), "DO1", event_id=f"msg_{WarehouseEvent.objects.count()}") for _i in range(n)
            ],
            EVENT_LIST_QUERIES,
        ),
        (
            "admin:fulfillment_reconciliation_changelist",
            lambda n: [
                Reconciliation.objects.create(
                    warehouse=WarehouseFactory(), checked=3, differences=[{"reference": "DO1", "difference": "status"}]
                )
                for _i in range(n)
            ],
            RECONCILIATION_LIST_QUERIES,
        ),
    ],
)
def test_changelist_query_counts_are_pinned(staff_client, django_assert_num_queries, url, make, queries):
    make(3)
    staff_client.get(reverse(url))  # the session is warm
    with django_assert_num_queries(queries):
        assert staff_client.get(reverse(url)).status_code == 200
    make(7)
    with django_assert_num_queries(queries):
        response = staff_client.get(reverse(url))
    assert len(response.context["cl"].result_list) == 10


@pytest.mark.parametrize("queue", ["to_push", "push_failed", "awaiting_tracking", "cancel_requested", "stale"])
def test_each_queue_reads_in_the_same_queries(staff_client, django_assert_num_queries, queue):
    _outbounds(4)
    with django_assert_num_queries(OUTBOUND_LIST_QUERIES):
        assert staff_client.get(reverse(OUTBOUNDS), {"queue": queue}).status_code == 200
