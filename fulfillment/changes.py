"""Step 10: what the warehouse did with an order we pushed, applied to our records.

The warehouse tells us by a poll of its changes (`warehouse_poll`, beat), by a signed
webhook (`warehouse_webhook_receive`: the raw event stored first, once per event id,
then applied) or by the answer to a push; staff type tracking in by hand or in a file.
Whatever the source, `outbound_apply(outbound, remote)` applies the order as the
warehouse has it now, and is idempotent: reports come at least once, in any order.

- Every package the warehouse reports becomes a Shipment (once, by the warehouse's
  package id) with the order's lines and quantities in it; its tracking is then sent on
  to each store order (fulfillment/tracking.py).
- The order is shipped when all of it has shipped (or the warehouse says so), picked up
  when collected; cancelled (stock released, refunded) when the warehouse cancelled it.
- A report older than the last one applied never moves the warehouse's status back.
"""

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.state import clip
from orders import events
from orders.actions import warehouse as order_moves
from orders.models import Logistics, Order, OrderEvent, OrderLine, OrderStatus

from .models import Outbound, Shipment, ShipmentLine, WarehouseEvent, WarehousePollState
from .warehouses import BackendNotConfigured, backend_for
from .warehouses.base import OutboundOrder, OutboundStatus, WarehouseError
from .warehouses.base import Shipment as RemoteShipment

logger = logging.getLogger(__name__)

S = OutboundStatus
# Read this far before the last poll again: changes that landed while it ran are not missed.
POLL_OVERLAP = timedelta(minutes=5)
# A warehouse never polled before is read from this far back.
POLL_FIRST_WINDOW = timedelta(days=7)


def _allocate(lines: list[OrderLine], shipped: dict[int, int], remote_lines) -> tuple[list, list[str]]:
    """The order lines (and quantities) a package holds, from its Item IDs: each Item's
    pieces go to that Item's lines in order, up to what each line still has to ship."""
    by_item: dict[str, list[OrderLine]] = {}
    for line in lines:
        by_item.setdefault(line.item_code, []).append(line)
    taken, unknown = [], []
    for remote_line in remote_lines:
        left = remote_line.quantity
        for line in by_item.get(remote_line.item_id, []):
            room = line.quantity - shipped.get(line.pk, 0)
            if left <= 0 or room <= 0:
                continue
            quantity = min(room, left)
            taken.append((line, quantity))
            shipped[line.pk] = shipped.get(line.pk, 0) + quantity
            left -= quantity
        if left > 0:
            unknown.append(f"{remote_line.item_id} × {left}")
    return taken, unknown


def _shipped_quantities(order: Order) -> dict[int, int]:
    shipped: dict[int, int] = {}
    for line_id, quantity in ShipmentLine.objects.filter(shipment__order=order).values_list(
        "order_line_id", "quantity"
    ):
        shipped[line_id] = shipped.get(line_id, 0) + quantity
    return shipped


def shipment_record(
    *, order: Order, lines: list[OrderLine], shipped: dict[int, int], package, source: str
) -> Shipment | None:
    """One package as a Shipment with its lines; None when it is known already. A package
    that names no lines holds whatever of the order has not shipped yet."""
    # Known by the warehouse's id, or by its tracking number (staff typed it in before the
    # warehouse reported it under its own id).
    known = Q(warehouse_shipment_id=package.warehouse_id)
    if package.tracking_number:
        known |= Q(tracking_number=package.tracking_number)
    if Shipment.objects.filter(known, order=order).exists():
        return None
    if package.lines:
        taken, unknown = _allocate(lines, shipped, package.lines)
    else:
        taken = [(line, line.quantity - shipped.get(line.pk, 0)) for line in lines]
        taken = [(line, quantity) for line, quantity in taken if quantity > 0]
        for line, quantity in taken:
            shipped[line.pk] = shipped.get(line.pk, 0) + quantity
        unknown = []
    try:
        with transaction.atomic():
            shipment = Shipment.objects.create(
                order=order,
                warehouse_shipment_id=clip(package.warehouse_id, 100),
                carrier=clip(package.carrier or _("Unknown carrier"), 100),
                service=clip(package.service, 100),
                tracking_number=clip(package.tracking_number, 64),
                tracking_url=package.tracking_url[:500] if package.tracking_url else "",
                shipped_at=package.shipped_at or timezone.now(),
                source=source,
            )
    except IntegrityError:
        return None  # recorded by a concurrent report
    ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, order_line=line, quantity=quantity) for line, quantity in taken]
    )
    message = _("Shipped by %(carrier)s, tracking number %(number)s.") % {
        "carrier": shipment.carrier,
        "number": shipment.tracking_number,
    }
    if unknown:
        message += " " + _("The warehouse also reported pieces this order does not have: %(pieces)s.") % {
            "pieces": ", ".join(unknown)
        }
    events.note(order, message, data={"shipment": shipment.pk, "tracking_number": shipment.tracking_number})
    return shipment


def outbound_apply(*, outbound: Outbound, remote: OutboundOrder, source: str = Shipment.Source.WAREHOUSE) -> Outbound:
    """Apply the order as the warehouse has it now (see the module docstring)."""
    new_shipments: list[Shipment] = []
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("warehouse").get(pk=outbound.order_id)
        outbound = Outbound.objects.select_for_update().get(pk=outbound.pk)
        stale = (
            remote.updated_at is not None
            and outbound.last_change_at is not None
            and remote.updated_at < outbound.last_change_at
        )
        lines = list(OrderLine.objects.filter(order=order, item__isnull=False).order_by("pk"))
        shipped = _shipped_quantities(order)
        for package in remote.shipments:
            shipment = shipment_record(order=order, lines=lines, shipped=shipped, package=package, source=source)
            if shipment is not None:
                new_shipments.append(shipment)
        if new_shipments:
            Order.objects.filter(pk=order.pk).update(tracking_number=new_shipments[-1].tracking_number)
        if not stale:
            _status_record(outbound, order, remote)
        all_shipped = bool(lines) and all(shipped.get(line.pk, 0) >= line.quantity for line in lines)
        status = remote.status if not stale else outbound.warehouse_status
        _order_follow(outbound, order, status, all_shipped, remote.message)
        if new_shipments:
            from .tracking import tracking_syncs_plan

            syncs = [sync for shipment in new_shipments for sync in tracking_syncs_plan(shipment)]
            transaction.on_commit(lambda: _syncs_queue(syncs))
    return outbound


def _syncs_queue(syncs) -> None:
    from .models import TrackingSync
    from .tasks import sync_tracking

    for sync in syncs:
        if sync.state == TrackingSync.State.PENDING:
            sync_tracking.delay(sync.pk)


def _status_record(outbound: Outbound, order: Order, remote: OutboundOrder) -> None:
    fields = {
        "warehouse_status": remote.status,
        "warehouse_status_text": clip(remote.warehouse_status, 100),
        "warehouse_message": clip(remote.message, 500),
        "last_change_at": remote.updated_at or timezone.now(),
    }
    if remote.warehouse_id and not outbound.warehouse_order_id:
        fields["warehouse_order_id"] = clip(remote.warehouse_id, 100)
    if remote.status == S.EXCEPTION and remote.message and remote.message != outbound.warehouse_message:
        events.note(order, _("The warehouse reports a problem: %(message)s") % {"message": remote.message})
    if remote.status == S.READY_FOR_PICKUP and outbound.ready_for_pickup_at is None:
        fields["ready_for_pickup_at"] = timezone.now()
        events.note(
            order,
            _("Ready for pickup at %(warehouse)s; the pickup code is %(code)s.")
            % {"warehouse": order.warehouse.name if order.warehouse_id else "", "code": order.pickup_code or "—"},
        )
    if remote.status == S.PICKED_UP and outbound.picked_up_at is None:
        fields["picked_up_at"] = timezone.now()
    for name, value in fields.items():
        setattr(outbound, name, value)
    outbound.save(update_fields=[*fields, "updated_at"])


def _order_follow(outbound: Outbound, order: Order, status: str, all_shipped: bool, message: str) -> None:
    """Move the order where the warehouse says it is (each move only from where it may)."""
    if order.status in (OrderStatus.PAID, OrderStatus.PUSH_FAILED) and status:
        # The warehouse has it after all (a push that failed after its answer was lost).
        Outbound.objects.filter(pk=outbound.pk).exclude(state=Outbound.State.CANCELLED).update(
            state=Outbound.State.PUSHED, last_error="", next_attempt_at=None, pushed_at=Coalesce("pushed_at", Now())
        )
        order_moves.order_pushed(
            order=order, message=_("Found at warehouse %(warehouse)s.") % {"warehouse": order.warehouse.code}
        )
    if status == S.CANCELLED and ShipmentLine.objects.filter(shipment__order=order).exists():
        # The rest of a partly shipped order was cancelled: some pieces left and were paid
        # for, the others stay. Nothing is refunded or released on its own; staff settle it.
        if not order.events.filter(data__partly_cancelled=True).exists():
            events.note(
                order,
                _("The warehouse cancelled what had not shipped yet: staff will settle the pieces that stayed."),
                data={"partly_cancelled": True},
            )
        return
    if status == S.CANCELLED:
        Outbound.objects.filter(pk=outbound.pk).update(state=Outbound.State.CANCELLED, cancel_state="")
        order_moves.order_cancel_confirmed(
            order=order, message=_("Cancelled at the warehouse; stock released and refunded to the balance.")
        )
        return
    if status == S.PICKED_UP:
        order_moves.order_picked_up(order=order, message=_("Collected at the warehouse."))
    elif status == S.SHIPPED or all_shipped:
        words = _("Shipped: every piece has left the warehouse.")
        if order.status == OrderStatus.CANCEL_REQUESTED:
            words = _("The cancel came too late: the warehouse had shipped it.")
            Outbound.objects.filter(pk=outbound.pk).update(cancel_state="refused", cancel_message=clip(words, 500))
        order_moves.order_shipped(order=order, message=words)


# --- the sources ------------------------------------------------------------------------


def outbound_for(warehouse, reference: str) -> Outbound | None:
    return Outbound.objects.filter(warehouse=warehouse, reference=reference).first()


def warehouse_poll(*, warehouse, http=None, now=None) -> tuple[int, int]:
    """Read the warehouse's changes since the last poll and apply them; (applied, not ours).

    The start is moved only after every page was read, so a poll that fails half-way is
    read again from the same place next time."""
    now = now or timezone.now()
    state, _created = WarehousePollState.objects.get_or_create(warehouse=warehouse)
    since = (state.changes_from - POLL_OVERLAP) if state.changes_from else now - POLL_FIRST_WINDOW
    applied = strangers = failed = 0
    try:
        backend = backend_for(warehouse, http=http)
        for page in backend.iter_changes(since):
            references = [remote.reference for remote in page.orders]
            known = {o.reference: o for o in Outbound.objects.filter(warehouse=warehouse, reference__in=references)}
            for remote in page.orders:
                outbound = known.get(remote.reference)
                if outbound is None:
                    strangers += 1
                    continue
                try:
                    outbound_apply(outbound=outbound, remote=remote)
                    applied += 1
                except Exception:  # one order never stops the rest of the poll
                    failed += 1
                    logger.exception("applying %s from %s", remote.reference, warehouse.code)
            for rejected in page.rejected:
                logger.warning("%s: change of %s unreadable: %s", warehouse.code, rejected.reference, rejected.reason)
    except (WarehouseError, BackendNotConfigured) as exc:
        WarehousePollState.objects.filter(pk=state.pk).update(
            last_polled_at=now, last_ok=False, last_message=clip(str(exc), 500)
        )
        return applied, strangers
    message = _("%(applied)d orders updated, %(strangers)d not ours.") % {"applied": applied, "strangers": strangers}
    if failed:
        # Read again from the same place next time: a change that could not be applied is not skipped.
        message += " " + _("%(failed)d could not be applied and are read again.") % {"failed": failed}
        WarehousePollState.objects.filter(pk=state.pk).update(last_polled_at=now, last_ok=False, last_message=message)
        return applied, strangers
    WarehousePollState.objects.filter(pk=state.pk).update(
        changes_from=now, last_polled_at=now, last_ok=True, last_message=message
    )
    return applied, strangers


class WebhookOutcome:
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


def warehouse_webhook_receive(*, warehouse, headers, body: bytes) -> tuple[str, WarehouseEvent]:
    """Verify a warehouse's webhook, store it once by its id, and queue it to be applied.
    Raises WebhookRejected (nothing stored) when it is not provably the warehouse's."""
    backend = backend_for(warehouse)
    event = backend.parse_webhook(headers, body)
    try:
        with transaction.atomic():
            row = WarehouseEvent.objects.create(
                warehouse=warehouse, event_id=clip(event.id, 100), type=clip(event.type, 60), payload=event.payload
            )
    except IntegrityError:
        return WebhookOutcome.DUPLICATE, WarehouseEvent.objects.get(warehouse=warehouse, event_id=clip(event.id, 100))
    from .tasks import apply_warehouse_event

    transaction.on_commit(lambda: apply_warehouse_event.delay(row.pk))
    return WebhookOutcome.ACCEPTED, row


def warehouse_event_apply(*, event_id: int) -> WarehouseEvent | None:
    """Apply a stored webhook event (once: a processed event is left alone)."""
    row = WarehouseEvent.objects.select_related("warehouse").filter(pk=event_id, processed_at__isnull=True).first()
    if row is None:
        return None
    backend = backend_for(row.warehouse)
    error = ""
    try:
        remote = backend.event_order(row.payload)
        if remote is not None:
            outbound = outbound_for(row.warehouse, remote.reference)
            if outbound is None:
                error = _("No order of ours has the reference %(reference)s.") % {"reference": remote.reference}
            else:
                outbound_apply(outbound=outbound, remote=remote)
    except Exception as exc:  # recorded on the event, for staff's "apply again"; the poll reads it too
        logger.warning("warehouse event %s: %s", row.event_id, exc)
        error = str(exc) or exc.__class__.__name__
    WarehouseEvent.objects.filter(pk=row.pk).update(processed_at=timezone.now(), error=clip(error, 500))
    row.refresh_from_db()
    return row


def tracking_enter(
    *,
    order: Order,
    carrier: str,
    tracking_number: str,
    tracking_url: str = "",
    service: str = "",
    shipped_at=None,
    actor=None,
    source: str = Shipment.Source.STAFF,
) -> Shipment | None:
    """Staff type (or import) the tracking of an order the warehouse shipped without
    telling us: one package with everything not yet shipped, applied as the warehouse's
    own report would be (the order ships, its tracking goes on to the stores). The same
    tracking number again records nothing; None then."""
    carrier, tracking_number = " ".join(carrier.split()), "".join(tracking_number.split())
    if not carrier or not tracking_number:
        raise ApplicationError(_("Both the carrier and the tracking number are needed."))
    if Shipment.objects.filter(order=order, tracking_number=tracking_number).exists():
        return None
    if order.status not in (OrderStatus.AT_WAREHOUSE, OrderStatus.CANCEL_REQUESTED):
        raise ApplicationError(
            _("Order %(number)s is %(status)s: only an order at the warehouse gets tracking.")
            % {"number": order.number, "status": order.get_status_display().lower()}
        )
    if order.logistics == Logistics.SELF_PICKUP:
        raise ApplicationError(_("Order %(number)s is collected, not shipped.") % {"number": order.number})
    outbound = Outbound.objects.filter(order=order).first()
    if outbound is None:
        raise ApplicationError(_("Order %(number)s was never pushed to a warehouse.") % {"number": order.number})
    package_id = f"{source}-{tracking_number}"[:100]
    package = RemoteShipment(
        warehouse_id=package_id,
        carrier=carrier,
        tracking_number=tracking_number,
        service=service.strip(),
        tracking_url=tracking_url.strip(),
        shipped_at=shipped_at or timezone.now(),
    )
    remote = OutboundOrder(
        warehouse_id=outbound.warehouse_order_id,
        reference=outbound.reference,
        status=OutboundStatus.SHIPPED,
        warehouse_status=outbound.warehouse_status_text,
        shipments=(package,),
        updated_at=timezone.now(),
    )
    outbound_apply(outbound=outbound, remote=remote, source=source)
    shipment = Shipment.objects.filter(order=order, warehouse_shipment_id=package_id).first()
    if shipment is not None and actor is not None:
        OrderEvent.objects.filter(order=order, data__shipment=shipment.pk).update(actor=actor)
    return shipment
