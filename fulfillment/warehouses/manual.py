"""The `manual` backend: for warehouses whose staff work in our admin instead of an API.

Creating an order puts a `ManualOutbound` row in the warehouse's queue. Staff then record
what happened (shipped with carrier and tracking, ready for pickup, picked up, cancelled)
through the admin, and those moves are what `changes_since` reports. There is no other
side to call, so nothing here is transient: the database answers or the call fails.
Such a warehouse sends no webhooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from catalog.models import Warehouse
from distribution.state import IllegalTransition

from ..models import ManualOutbound
from ..services import manual_outbound_create, manual_outbound_move
from .base import (
    CancelRefused,
    ChangesPage,
    OutboundBackend,
    OutboundNotFound,
    OutboundOrder,
    OutboundRequest,
    OutboundStatus,
    Shipment,
    ShipmentLine,
    WebhookEvent,
    WebhookRejected,
)

KIND = "manual"


def outbound_order(row: ManualOutbound) -> OutboundOrder:
    """A queue row as the interface reports it: one package once staff marked it shipped."""
    shipments = ()
    if row.status == ManualOutbound.Status.SHIPPED:
        shipments = (
            Shipment(
                # One package per order: the row is the package.
                warehouse_id=f"manual-{row.pk}",
                carrier=row.carrier,
                service=row.service,
                tracking_number=row.tracking_number,
                tracking_url=row.tracking_url,
                shipped_at=row.shipped_at,
                lines=tuple(ShipmentLine(item_id=line["item_id"], quantity=line["quantity"]) for line in row.lines),
            ),
        )
    return OutboundOrder(
        warehouse_id=str(row.pk),
        reference=row.reference,
        status=OutboundStatus(row.status),
        warehouse_status=row.get_status_display(),
        message=row.message,
        shipments=shipments,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _cursor(row: ManualOutbound) -> str:
    return f"{row.updated_at.isoformat()}|{row.pk}"


def _after(cursor: str) -> Q:
    """Rows after the one the cursor names, in (updated_at, id) order."""
    moment, _sep, pk = cursor.rpartition("|")
    updated_at = parse_datetime(moment)
    if updated_at is None or not pk.isdigit():
        raise ValueError(f"Not a manual backend cursor: {cursor!r}")
    return Q(updated_at__gt=updated_at) | Q(updated_at=updated_at, pk__gt=int(pk))


class ManualBackend(OutboundBackend):
    kind = KIND
    page_size = 250

    def __init__(self, warehouse: Warehouse, *, page_size: int = 0):
        self.warehouse = warehouse
        if page_size:
            self.page_size = page_size

    def _row(self, reference: str) -> ManualOutbound | None:
        return ManualOutbound.objects.filter(warehouse=self.warehouse, reference=reference).first()

    def create_outbound(self, request: OutboundRequest) -> OutboundOrder:
        return outbound_order(manual_outbound_create(warehouse=self.warehouse, request=request))

    def find_outbound(self, reference: str) -> OutboundOrder | None:
        row = self._row(reference)
        return outbound_order(row) if row is not None else None

    def cancel_outbound(self, reference: str) -> OutboundOrder:
        row = self._row(reference)
        if row is None:
            raise OutboundNotFound(
                _("Warehouse %(code)s holds no order %(reference)s.")
                % {"code": self.warehouse.code, "reference": reference}
            )
        if row.status == ManualOutbound.Status.CANCELLED:
            return outbound_order(row)
        try:
            moved = manual_outbound_move(
                outbound=row, to_status=ManualOutbound.Status.CANCELLED, message=_("Cancelled by the platform.")
            )
        except IllegalTransition as exc:
            raise CancelRefused(
                _("Warehouse %(code)s will not cancel order %(reference)s: %(why)s")
                % {"code": self.warehouse.code, "reference": reference, "why": exc}
            ) from exc
        return outbound_order(moved)

    def changes_since(self, since: datetime, *, cursor: str | None = None) -> ChangesPage:
        """Queue rows moved (or handed over) at or after `since`, in (updated_at, id) order."""
        rows = ManualOutbound.objects.filter(warehouse=self.warehouse, updated_at__gte=since)
        if cursor:
            rows = rows.filter(_after(cursor))
        page = list(rows.order_by("updated_at", "pk")[: self.page_size + 1])
        more = len(page) > self.page_size
        page = page[: self.page_size]
        return ChangesPage(
            orders=tuple(outbound_order(row) for row in page),
            next_cursor=_cursor(page[-1]) if more else None,
        )

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise WebhookRejected(
            _("Warehouse %(code)s is worked by hand and sends no webhooks.") % {"code": self.warehouse.code}
        )
