"""The daily reconciliation: our orders at one warehouse compared with what it holds.

`warehouse_reconcile` takes our Outbound rows pushed to the warehouse in the last `days`
(at the warehouse or cancelled there, or shipped), and the warehouse's orders changed in
that time (`iter_changes(since)`; any of ours not in that list is looked up by its
reference), and records every difference in a `Reconciliation` row:

- MISSING: we pushed it, the warehouse holds no such order;
- UNKNOWN: the warehouse holds an order under a reference in our format (DO…) that we
  never pushed there;
- STATUS: the two disagree on where it stands: the warehouse shipped, cancelled or handed
  it over while our order is still at the warehouse (or our push is marked failed); or
  ours is shipped, picked up or cancelled while theirs is not;
- SHIPMENT: a package the warehouse sent that we have not recorded.

Nothing is changed: staff read the differences in the admin (Fulfilment >
Reconciliations) and act (poll the warehouse, enter tracking, retry a push). A backend
error is recorded as the reconciliation's error, with no differences (a half-read list
would report orders as missing that are not).
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from catalog.models import Warehouse
from distribution.state import clip
from orders.ingest.routing import NUMBER_ALPHABET
from orders.models import Order, OrderStatus

from .models import Outbound, Reconciliation, Shipment
from .warehouses import BackendNotConfigured, backend_for
from .warehouses.base import FINAL_STATUSES, OutboundOrder, OutboundStatus, WarehouseError

logger = logging.getLogger(__name__)

MISSING = "missing_at_warehouse"
UNKNOWN = "unknown_to_us"
STATUS = "status"
SHIPMENT = "shipment_not_recorded"
KINDS = (MISSING, UNKNOWN, STATUS, SHIPMENT)

# Our order numbers: DO, the date (yymmdd), 8 characters of Crockford's base 32; a split's
# parts add -1, -2 ... (orders/ingest/routing.py, orders/actions/split.py).
REFERENCE_FORMAT = re.compile(rf"^DO\d{{6}}[{re.escape(NUMBER_ALPHABET)}]{{8}}(?:-\d{{1,3}})*$")

# Our order is still with the warehouse in these.
OPEN = frozenset({OrderStatus.PAID, OrderStatus.PUSH_FAILED, OrderStatus.AT_WAREHOUSE, OrderStatus.CANCEL_REQUESTED})
S = OutboundStatus


def ours_format(reference: str) -> bool:
    return bool(REFERENCE_FORMAT.match(reference or ""))


def _difference(reference: str, kind: str, ours: str = "", theirs: str = "") -> dict:
    return {"reference": reference, "ours": clip(ours, 200), "theirs": clip(theirs, 200), "difference": kind}


def _ours_words(outbound: Outbound) -> str:
    if outbound.state == Outbound.State.FAILED:
        return "push_failed"
    return outbound.order.status


def _status_differs(outbound: Outbound, remote: OutboundOrder) -> bool:
    status = outbound.order.status
    if outbound.state == Outbound.State.FAILED:
        return True  # the warehouse has it, and we think the push failed
    if status in OPEN:
        return remote.status in FINAL_STATUSES
    if status == OrderStatus.SHIPPED:
        return remote.status != S.SHIPPED
    if status == OrderStatus.PICKED_UP:
        return remote.status != S.PICKED_UP
    if status == OrderStatus.CANCELLED or outbound.state == Outbound.State.CANCELLED:
        return remote.status != S.CANCELLED
    return False


def _compare(outbound: Outbound, remote: OutboundOrder, recorded: dict[int, list[tuple[str, str]]]) -> list[dict]:
    found = []
    if _status_differs(outbound, remote):
        found.append(_difference(outbound.reference, STATUS, _ours_words(outbound), remote.status))
    ours = recorded.get(outbound.order_id, [])
    package_ids = {package_id for package_id, _number in ours}
    numbers = {number for _package_id, number in ours}
    for package in remote.shipments:
        if package.warehouse_id in package_ids or (package.tracking_number and package.tracking_number in numbers):
            continue
        found.append(
            _difference(
                outbound.reference,
                SHIPMENT,
                ", ".join(sorted(numbers)),
                f"{package.carrier} {package.tracking_number}".strip(),
            )
        )
    return found


def warehouse_reconcile(*, warehouse, http=None, days: int = 30, now=None) -> Reconciliation:
    """Compare our orders at `warehouse` with its own (see the module docstring)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    window = (
        Outbound.objects.filter(warehouse=warehouse, pushed_at__gte=since)
        .filter(Q(state__in=[Outbound.State.PUSHED, Outbound.State.CANCELLED]) | Q(order__status=OrderStatus.SHIPPED))
        .select_related("order")
        .order_by("pk")
    )
    ours = {outbound.reference: outbound for outbound in window}
    differences: list[dict] = []
    checked = 0
    error = ""
    try:
        backend = backend_for(warehouse, http=http)
        theirs: dict[str, OutboundOrder] = {}
        for page in backend.iter_changes(since):
            for remote in page.orders:
                held = theirs.get(remote.reference)
                if held is None or (remote.updated_at and held.updated_at and remote.updated_at >= held.updated_at):
                    theirs[remote.reference] = remote
        # Theirs we know though pushed before the window (changed since): compared too.
        earlier = Outbound.objects.filter(warehouse=warehouse, reference__in=[r for r in theirs if r not in ours])
        for outbound in earlier.select_related("order"):
            ours[outbound.reference] = outbound
        recorded: dict[int, list[tuple[str, str]]] = {}
        for order_id, package_id, number in Shipment.objects.filter(
            order_id__in=[outbound.order_id for outbound in ours.values()]
        ).values_list("order_id", "warehouse_shipment_id", "tracking_number"):
            recorded.setdefault(order_id, []).append((package_id, number))
        for reference, outbound in ours.items():
            remote = theirs.get(reference)
            if remote is None:
                remote = backend.find_outbound(reference)
            checked += 1
            if remote is None:
                differences.append(_difference(reference, MISSING, _ours_words(outbound), ""))
                continue
            differences += _compare(outbound, remote, recorded)
        strangers = [reference for reference in theirs if reference not in ours and ours_format(reference)]
        orders_here = dict(Order.objects.filter(number__in=strangers).values_list("number", "status"))
        for reference in strangers:
            differences.append(
                _difference(reference, UNKNOWN, orders_here.get(reference, ""), theirs[reference].status)
            )
    except (WarehouseError, BackendNotConfigured) as exc:
        error = clip(str(exc) or exc.__class__.__name__, 500)
        differences, checked = [], 0
    return Reconciliation.objects.create(warehouse=warehouse, checked=checked, differences=differences, error=error)


def warehouses_reconcile(*, days: int = 30) -> int:
    """Every active warehouse with a backend, one after the other; one failing never
    stops the rest. The number of reconciliations recorded."""
    done = 0
    for warehouse in Warehouse.objects.filter(backend__isnull=False, is_active=True).order_by("code"):
        try:
            warehouse_reconcile(warehouse=warehouse, days=days)
            done += 1
        except Exception:  # noqa: BLE001 (the next warehouse must still be compared)
            logger.exception("reconciliation of %s failed", warehouse.code)
    return done
