"""The one interface every warehouse backend implements, and what crosses it.

A backend hands outbound orders to one warehouse and reports back what the warehouse did
with them. It knows nothing of our orders: it is given an `OutboundRequest` (our order
number as the reference, the recipient, Item IDs and quantities, a service code or
self-pickup) and answers with `OutboundOrder`s whose status is one of the small set in
`OutboundStatus`, and with the `Shipment`s (carrier, tracking number, what is in the
package) the warehouse has sent off.

Rules every backend keeps:

- The reference is unique at the warehouse. Creating an order whose reference the
  warehouse already holds answers the order it holds: pushing twice is harmless.
- A create is never repeated blind. When the answer to a create goes missing (a timeout
  after the request left, a connection dropped, a 5xx that may have come after the order
  was stored) the backend raises `OutboundResponseLost`; the caller asks
  `find_outbound(reference)` before it tries again.
- Failures are classified: `WarehouseUnavailable` is transient (timeouts, connection
  trouble, 429 with its Retry-After, 5xx, after the bounded retries of the HTTP helper),
  `WarehouseRejected` is permanent (the warehouse refused the request, its message kept),
  `WarehouseAuthError` means the credentials stopped working.
- Webhooks are verified before anything in them is read; a replayed delivery parses to
  the same event id, so the caller dedupes on `WebhookEvent.id`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from distribution.errors import ApplicationError

# ---------------------------------------------------------------------------------------
# What crosses the boundary


class OutboundStatus(models.TextChoices):
    """Where an outbound order stands at the warehouse, whatever words the warehouse uses."""

    # Taken in; nobody has started on it yet.
    RECEIVED = "received", _("Received by the warehouse")
    # Being picked, packed and labelled.
    PROCESSING = "processing", _("Processing at the warehouse")
    # Some packages have left, others have not.
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    # Self-pickup: packed and waiting at the warehouse for the collector.
    READY_FOR_PICKUP = "ready_for_pickup", _("Ready for pickup")
    PICKED_UP = "picked_up", _("Picked up")
    CANCELLED = "cancelled", _("Cancelled at the warehouse")
    # The warehouse cannot go on without someone acting (out of stock, bad address, on
    # hold, or a status word we do not know); `OutboundOrder.message` says why.
    EXCEPTION = "exception", _("Warehouse exception")


# The statuses after which nothing more will happen at the warehouse.
FINAL_STATUSES = frozenset({OutboundStatus.SHIPPED, OutboundStatus.PICKED_UP, OutboundStatus.CANCELLED})


@dataclass(frozen=True)
class Recipient:
    name: str
    address1: str = ""
    address2: str = ""
    city: str = ""
    # State, prefecture, province.
    region: str = ""
    # Text, never a number: "02134" and "150-0002" keep their shape.
    postcode: str = ""
    # ISO 3166-1 alpha-2.
    country: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class OutboundLine:
    # Our Item ID (LS228800001-01-01): the warehouse knows its stock by it.
    item_id: str
    quantity: int
    # For the warehouse's pick list; the Item ID is what identifies the goods.
    name: str = ""


@dataclass(frozen=True)
class OutboundRequest:
    """One order for one warehouse. Dropshipped orders name the shipping method's service
    code at this warehouse; self-pickup orders name none and may carry a pickup code."""

    # Our order number; unique at the warehouse.
    reference: str
    recipient: Recipient
    lines: tuple[OutboundLine, ...]
    service_code: str = ""
    self_pickup: bool = False
    pickup_code: str = ""
    placed_at: datetime | None = None

    def __post_init__(self):
        if not self.reference.strip():
            raise ValueError("An outbound request needs our order number as its reference.")
        if not self.lines or any(line.quantity < 1 or not line.item_id.strip() for line in self.lines):
            raise ValueError("An outbound request needs lines, each an Item ID with a quantity of at least 1.")
        if self.self_pickup == bool(self.service_code):
            raise ValueError("An outbound request is either shipped by a service code or collected (self-pickup).")


@dataclass(frozen=True)
class ShipmentLine:
    item_id: str
    quantity: int


@dataclass(frozen=True)
class Shipment:
    """One package that left the warehouse."""

    # The warehouse's id for the package: the same package always has the same id, so a
    # shipment reported twice (a poll and a webhook) is recognised.
    warehouse_id: str
    carrier: str
    tracking_number: str
    service: str = ""
    tracking_url: str = ""
    shipped_at: datetime | None = None
    lines: tuple[ShipmentLine, ...] = ()


@dataclass(frozen=True)
class OutboundOrder:
    """An outbound order as the warehouse has it now."""

    # The warehouse's id for the order.
    warehouse_id: str
    reference: str
    status: OutboundStatus
    # The warehouse's own status words, for people diagnosing an order.
    warehouse_status: str = ""
    # Why, when the status is an exception (or a cancel the warehouse explains).
    message: str = ""
    shipments: tuple[Shipment, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class RejectedChange:
    """An order of a changes page that could not be read: set aside with the reason, so
    one malformed answer does not hide the rest of the page."""

    reference: str
    reason: str
    payload: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ChangesPage:
    """Orders whose status or shipments changed since a time, each as it stands now.

    The same order may come again on a later page or poll (changes are reported at least
    once, never exactly once): the caller applies them idempotently."""

    orders: tuple[OutboundOrder, ...]
    # Opaque: hand it back to `changes_since` for the next page; None on the last page.
    next_cursor: str | None = None
    rejected: tuple[RejectedChange, ...] = ()


@dataclass(frozen=True)
class WebhookEvent:
    # The sender's message id: a retried or replayed delivery has the same one.
    id: str
    type: str
    occurred_at: datetime
    payload: Mapping = field(compare=False, repr=False)
    # The order the event is about, as it stood when the event was sent, if it names one.
    order: OutboundOrder | None = None


@dataclass(frozen=True)
class BackendConnection:
    """What a backend needs to know about its warehouse, without knowing our models."""

    warehouse_code: str
    base_url: str = ""
    credentials: Mapping[str, str] = field(default_factory=dict, repr=False)
    webhook_secret: str = field(default="", repr=False)


# ---------------------------------------------------------------------------------------
# Errors


class WarehouseError(ApplicationError):
    """A warehouse call failed."""

    def __init__(self, message, extra: dict | None = None, *, status_code: int | None = None):
        super().__init__(message, extra)
        self.status_code = status_code


class WarehouseUnavailable(WarehouseError):
    """Transient: timeout, connection trouble, rate limit or server error, still failing
    after the in-process retries. Try again later; `retry_after` is the warehouse's wish
    (seconds) when it said one."""

    def __init__(self, message, extra=None, *, status_code=None, retry_after: float | None = None):
        super().__init__(message, extra, status_code=status_code)
        self.retry_after = retry_after


class OutboundResponseLost(WarehouseUnavailable):
    """A create was sent and its answer never arrived: the warehouse may or may not hold
    the order. Look it up by reference before creating it again."""


class WarehouseRejected(WarehouseError):
    """Permanent: the warehouse refused the request (validation, an unknown order); the
    message carries the warehouse's own words. Repeating it will not help."""


class CancelRefused(WarehouseRejected):
    """The warehouse will not cancel: the order (or part of it) has already left."""


class OutboundNotFound(WarehouseRejected):
    """The warehouse holds no order with this reference."""


class WarehouseAuthError(WarehouseError):
    """Our credentials no longer work at the warehouse; staff must enter new ones."""


class WebhookRejected(WarehouseError):
    """A webhook that is not provably from the warehouse (signature, timestamp) or cannot
    be read; nothing in it was used."""


# ---------------------------------------------------------------------------------------
# The interface


class OutboundBackend(ABC):
    """One warehouse. Subclasses set `kind` (the value stored on the warehouse's backend row)."""

    kind: ClassVar[str]

    @abstractmethod
    def create_outbound(self, request: OutboundRequest) -> OutboundOrder:
        """Hand an order to the warehouse; the order it already holds if the reference is known.

        Raises OutboundResponseLost when the answer went missing, WarehouseRejected when
        the warehouse refused it, WarehouseUnavailable when it could not be reached."""

    @abstractmethod
    def find_outbound(self, reference: str) -> OutboundOrder | None:
        """The order the warehouse holds under our reference, or None if it holds none."""

    @abstractmethod
    def cancel_outbound(self, reference: str) -> OutboundOrder:
        """Cancel the order at the warehouse. Cancelling a cancelled order answers it again;
        CancelRefused once it has (partly) shipped or been collected; OutboundNotFound if
        the warehouse never got it."""

    @abstractmethod
    def changes_since(self, since: datetime, *, cursor: str | None = None) -> ChangesPage:
        """One page of orders whose status or shipments changed at or after `since`."""

    def iter_changes(self, since: datetime) -> Iterator[ChangesPage]:
        cursor = None
        while True:
            page = self.changes_since(since, cursor=cursor)
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    @abstractmethod
    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Verify a webhook delivery (signature first, then its age) and read it.
        Raises WebhookRejected for anything not provably from the warehouse."""

    def event_order(self, payload: Mapping) -> OutboundOrder | None:
        """The order in a webhook event's stored payload (as `parse_webhook` read it, for
        applying it later); None for events that name no order or backends without webhooks."""
        return None
