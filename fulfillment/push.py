"""Step 9: hand each paid order to its warehouse, exactly once at the warehouse.

A paid order reaches here two ways: the receiver of `order_status_changed` queues a push
as soon as the payment has committed, and `push_sweep` (beat, every minute) takes every
paid order not yet at the warehouse, so a lost message or a killed worker never loses
an order. Either way one attempt is `order_push(order_id)`:

1. Claim: under the order's row lock the attempt is counted and the order's Outbound row
   is pushed ahead (`next_attempt_at` = now + CLAIM), so a second worker or the sweep
   leaves it alone while the attempt runs. A held order, or one no longer paid, is left.
2. Call the warehouse, outside any transaction. Any attempt after the first (a timeout,
   a lost answer, a worker killed mid-call) first looks the order up by its reference,
   and only creates it when the warehouse holds none; the warehouse also answers a
   second create with the order it holds. So a retry never makes a second order.
3. Record: accepted -> the order is at the warehouse (and whatever the warehouse already
   did with it is applied). Transient failure -> the next attempt after an exponential
   backoff with jitter (or the warehouse's Retry-After). A refusal, or the last of
   MAX_ATTEMPTS -> "push failed" with the reason, shown to the distributor and staff,
   who retry (`outbound_retry`). A warehouse staff have not yet given a backend keeps
   its orders paid and waiting (the staff console lists them), uncounted.

A paid order whose handover has started (an attempt claimed it) is no longer cancelled
or held on the spot: its cancel is a request carried to the warehouse
(fulfillment/cancels.py), and one cancelled before the warehouse had stored it is
cancelled there by the cancel sweep once the push's answer says it is there.
"""

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.state import clip
from orders.actions import warehouse as order_moves
from orders.models import Logistics, Order, OrderLine, OrderStatus

from .models import Outbound
from .retry import backoff as retry_backoff
from .warehouses import BackendNotConfigured, backend_for
from .warehouses.base import (
    OutboundLine,
    OutboundRequest,
    OutboundResponseLost,
    OutboundStatus,
    Recipient,
    WarehouseAuthError,
    WarehouseError,
    WarehouseRejected,
    WarehouseUnavailable,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=30)
# How long an attempt may run before the sweep takes the order again (its worker died);
# settings.PUSH_CLAIM_SECONDS shortens it for the test that kills a worker.
CLAIM = timedelta(minutes=3)


def claim_duration() -> timedelta:
    seconds = getattr(settings, "PUSH_CLAIM_SECONDS", None)
    return timedelta(seconds=float(seconds)) if seconds else CLAIM


# A warehouse with no backend yet is asked again this often.
NOT_CONFIGURED_WAIT = timedelta(minutes=10)
# Dropshipped orders whose warehouse has no priced methods go by its standard service.
DEFAULT_SERVICE = "STANDARD"
PICKUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def backoff(attempt: int, *, retry_after: float | None = None, rng=None) -> timedelta:
    """The wait before attempt `attempt + 1`: 30 s, 1 min, 2 min ... at most 30 min, each
    ±25 % at random so orders that failed together do not come back together; never
    shorter than what the warehouse asked for."""
    return retry_backoff(attempt, first=BACKOFF_FIRST, cap=BACKOFF_CAP, retry_after=retry_after, rng=rng)


def pickup_code_new() -> str:
    return "".join(secrets.choice(PICKUP_ALPHABET) for _ in range(8))


def outbound_request(order: Order, lines: list[OrderLine] | None = None) -> OutboundRequest:
    """What the warehouse is told: our order number, the recipient, Item IDs and
    quantities (one line per Item), the service code or self-pickup with its code."""
    lines = lines if lines is not None else list(order.lines.filter(item__isnull=False).order_by("pk"))
    quantities: dict[str, int] = {}
    names: dict[str, str] = {}
    for line in lines:
        quantities[line.item_code] = quantities.get(line.item_code, 0) + line.quantity
        names.setdefault(line.item_code, line.product_name)
    pickup = order.logistics == Logistics.SELF_PICKUP
    service = ""
    if not pickup:
        service = order.chosen_method.code if order.chosen_method_id else (order.shipping_method or DEFAULT_SERVICE)
    return OutboundRequest(
        reference=order.number,
        recipient=Recipient(
            name=order.recipient_name,
            address1=order.address1,
            address2=order.address2,
            city=order.city,
            region=order.province,
            postcode=order.postal_code,
            country=order.country,
            company=order.recipient_company,
            phone=order.recipient_phone,
            email=order.recipient_email,
        ),
        lines=tuple(OutboundLine(item_id=code, quantity=qty, name=names[code]) for code, qty in quantities.items()),
        service_code=service,
        self_pickup=pickup,
        pickup_code=order.pickup_code if pickup else "",
        placed_at=order.placed_at,
    )


def push_candidates(*, now=None, limit: int = 1000) -> list[int]:
    """Paid orders, not on hold, that no attempt is working on: never taken, or waiting
    for their next attempt whose time has come."""
    now = now or timezone.now()
    due = Q(outbound__isnull=True) | Q(outbound__state=Outbound.State.PENDING, outbound__next_attempt_at__lte=now)
    return list(
        Order.objects.filter(status=OrderStatus.PAID, held_at__isnull=True)
        .filter(due)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


@dataclass(frozen=True)
class Claim:
    outbound: Outbound
    order: Order
    request: OutboundRequest


def _claim(order_id: int, now) -> Claim | None:
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("warehouse", "chosen_method")
            .filter(pk=order_id)
            .first()
        )
        if order is None or order.status != OrderStatus.PAID or order.held_at is not None or not order.warehouse_id:
            return None
        outbound, _created = Outbound.objects.get_or_create(
            order=order, defaults={"warehouse": order.warehouse, "reference": order.number}
        )
        if outbound.state != Outbound.State.PENDING:
            if outbound.state == Outbound.State.PUSHED:
                # Accepted before, the move lost (a worker died between the two): finish it.
                order_moves.order_pushed(order=order, message=_pushed_message(order, outbound))
            return None
        if outbound.next_attempt_at is not None and outbound.next_attempt_at > now:
            return None  # another attempt is running, or the backoff has not passed
        outbound.attempts += 1
        outbound.next_attempt_at = now + claim_duration()
        outbound.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
        if order.logistics == Logistics.SELF_PICKUP and not order.pickup_code:
            order.pickup_code = pickup_code_new()
            Order.objects.filter(pk=order.pk).update(pickup_code=order.pickup_code)
        try:
            request = outbound_request(order)
        except ValueError as exc:
            _give_up(outbound, order, str(exc))
            return None
        return Claim(outbound=outbound, order=order, request=request)


def order_push(order_id: int, *, http=None, now=None) -> str:
    """One attempt to hand a paid order to its warehouse; returns what became of it:
    "pushed", "retry", "failed" or "skipped" (not paid, held, or being worked on)."""
    now = now or timezone.now()
    claim = _claim(order_id, now)
    if claim is None:
        return "skipped"
    outbound = claim.outbound
    try:
        backend = backend_for(claim.order.warehouse, http=http)
        remote = None
        if outbound.attempts > 1 or outbound.lost_response:
            remote = backend.find_outbound(outbound.reference)
        if remote is None:
            remote = backend.create_outbound(claim.request)
    except OutboundResponseLost as exc:
        return _retry_later(outbound, exc, lost=True)
    except WarehouseUnavailable as exc:
        return _retry_later(outbound, exc)
    except BackendNotConfigured as exc:
        # Not the order's fault: it waits (its attempts uncounted) until staff say how the
        # warehouse takes orders; the sweep then pushes it with no one retrying each order.
        Outbound.objects.filter(pk=outbound.pk).update(
            attempts=outbound.attempts - 1,
            next_attempt_at=timezone.now() + NOT_CONFIGURED_WAIT,
            last_error=clip(str(exc), 500),
            updated_at=timezone.now(),
        )
        return "retry"
    except (WarehouseRejected, WarehouseAuthError) as exc:
        return _fail(outbound, str(exc))
    except WarehouseError as exc:
        return _retry_later(outbound, exc)
    except Exception as exc:
        # Not a warehouse answer (a bug, a database error): the claim is let go with the
        # reason, so the order is tried again after its backoff and counted, then fails.
        _retry_later(outbound, WarehouseError(f"{exc.__class__.__name__}: {exc}"))
        raise
    return _accepted(outbound, remote)


def _pushed_message(order: Order, outbound: Outbound) -> str:
    return _("Pushed to warehouse %(warehouse)s (its order %(id)s).") % {
        "warehouse": order.warehouse.code if order.warehouse_id else outbound.warehouse_id,
        "id": outbound.warehouse_order_id or outbound.reference,
    }


def _accepted(outbound: Outbound, remote) -> str:
    from .changes import outbound_apply

    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).select_related("warehouse").get(pk=outbound.order_id)
        now = timezone.now()
        # Just taken in (the usual answer): its status is recorded here, nothing else to apply.
        fresh = not remote.shipments and remote.status in (OutboundStatus.RECEIVED, OutboundStatus.PROCESSING)
        fields = {
            "state": Outbound.State.PUSHED,
            "warehouse_order_id": clip(remote.warehouse_id, 100),
            "lost_response": False,
            "last_error": "",
            "next_attempt_at": None,
            "pushed_at": now,
            "updated_at": now,
        }
        if fresh:
            fields.update(
                warehouse_status=remote.status,
                warehouse_status_text=clip(remote.warehouse_status, 100),
                last_change_at=remote.updated_at or now,
            )
        Outbound.objects.filter(pk=outbound.pk).update(**fields)
        for name, value in fields.items():
            setattr(outbound, name, value)
        order_moves.order_pushed(order=order, message=_pushed_message(order, outbound))
    if not fresh:
        outbound_apply(outbound=outbound, remote=remote)
    # Cancelled meanwhile (a cancel request carried before the warehouse had stored it):
    # beat's cancel sweep now finds it cancelled here and held there, and cancels it there.
    return "pushed"


def _retry_later(outbound: Outbound, exc: WarehouseError, *, lost: bool = False) -> str:
    if outbound.attempts >= MAX_ATTEMPTS:
        return _fail(outbound, str(exc))
    wait = backoff(outbound.attempts, retry_after=getattr(exc, "retry_after", None))
    fields = {
        "next_attempt_at": timezone.now() + wait,
        "last_error": clip(str(exc), 500),
        "updated_at": timezone.now(),
    }
    if lost:
        fields["lost_response"] = True
    Outbound.objects.filter(pk=outbound.pk, state=Outbound.State.PENDING).update(**fields)
    logger.info("push of %s: %s; next attempt in %s", outbound.reference, exc, wait)
    return "retry"


def _fail(outbound: Outbound, reason: str) -> str:
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).get(pk=outbound.order_id)
        _give_up(outbound, order, reason)
    return "failed"


def _give_up(outbound: Outbound, order: Order, reason: str) -> None:
    # Only a push still waiting fails: one accepted meanwhile (a worker that outlived its
    # claim, staff's "push now") stays accepted.
    if not Outbound.objects.filter(pk=outbound.pk, state=Outbound.State.PENDING).exists():
        return
    Outbound.objects.filter(pk=outbound.pk).update(
        state=Outbound.State.FAILED, last_error=clip(reason, 500), next_attempt_at=None, updated_at=timezone.now()
    )
    order_moves.order_push_failed(
        order=order,
        message=_("Push to the warehouse failed after %(attempts)d attempt(s): %(reason)s")
        % {"attempts": outbound.attempts, "reason": reason},
    )


# Orders per queued message when many are pushed at once: few enough that the workers
# share a large payment's orders, many enough that queueing a thousand costs tens of
# messages, not a thousand.
PUSH_CHUNK = 20


def push_enqueue(order_ids: list[int]) -> None:
    """Queue a push of each order: one task for one order, chunks for many."""
    from .tasks import push_order, push_orders

    if len(order_ids) == 1:
        push_order.delay(order_ids[0])
        return
    for start in range(0, len(order_ids), PUSH_CHUNK):
        push_orders.delay(order_ids[start : start + PUSH_CHUNK])


def push_sweep(*, limit: int = 1000) -> int:
    """Beat, every minute: queue a push of every paid order no attempt is working on."""
    ids = push_candidates(limit=limit)
    if ids:
        push_enqueue(list(ids))
    return len(ids)


def outbound_retry(*, orders, actor=None) -> list[str]:
    """Staff or the distributor try again the orders whose push failed; returns their numbers.

    Each goes back to paid with its attempts counted afresh; its next attempt first asks
    the warehouse whether it arrived after all (the last one may have lost its answer)."""
    retried = []
    for order in orders:
        with transaction.atomic():
            locked = Order.objects.select_for_update(of=("self",)).get(pk=order.pk)
            outbound = Outbound.objects.filter(order=locked).first()
            if outbound is None or outbound.state != Outbound.State.FAILED or locked.status != OrderStatus.PUSH_FAILED:
                continue
            Outbound.objects.filter(pk=outbound.pk).update(
                state=Outbound.State.PENDING,
                attempts=1,  # > 0: the next attempt looks the order up first
                lost_response=True,
                next_attempt_at=timezone.now(),
                updated_at=timezone.now(),
            )
            if order_moves.order_push_retry(
                order=locked,
                actor=actor,
                message=_("Push retried; the last error was: %(error)s") % {"error": outbound.last_error},
            ):
                retried.append(locked.number)
    return retried
