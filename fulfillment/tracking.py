"""Tracking back to the stores: each shipment's carrier and tracking number sent on to
every store order its lines came from, each with a retry state of its own (TrackingSync).

1. Plan (`tracking_syncs_plan`, right after a Shipment and its lines are recorded): one
   TrackingSync per store order the shipment's lines belong to, a line's own store order
   (a merged order's lines keep theirs) or else its order's. A store with an API gets a
   pending sync, due now; a store without one gets FILE: its tracking goes out in the
   tracking file (`tracking_file_rows`, `tracking_file`). Planning twice changes nothing.
2. Send (`tracking_sync_one`): the attempt is claimed by one conditional UPDATE (pending
   and due -> counted and pushed CLAIM ahead), so two workers never send one sync at
   once and a worker that dies only delays it. Outside any transaction the store's
   client gets `push_tracking` with the carrier as that platform names it
   (fulfillment/carriers.py), the URL (the warehouse's, else the carrier's page), the
   store order's own lines of this shipment with their quantities, and whether every
   line of ours on that store order has now shipped (WooCommerce completes the order
   only then; the other platforms are sent just these lines, a partial fulfilment).
3. Record: taken -> SYNCED with the platform's id for it; a passing failure (rate limit,
   server error, timeout, credentials that need a refresh or a re-authorization) ->
   pending again after an exponential backoff with jitter (1 min, 2, 4 ... at most an
   hour, never sooner than the platform's Retry-After); a refusal, or the last of
   MAX_ATTEMPTS -> FAILED with the platform's answer. SYNCED and FAILED are written on the
   order's timeline. Staff or the distributor send failed ones again (`tracking_sync_retry`);
   beat's `tracking_sync_sweep` sends whatever is due, so a lost task loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution import spreadsheet
from distribution.errors import ApplicationError
from distribution.state import clip
from orders import events
from orders.models import OrderEvent, OrderLine, OrderStatus, PlatformOrder
from stores.models import Platform, Store
from stores.platforms.base import (
    PlatformAuthError,
    PlatformError,
    PlatformHttp,
    PlatformUnavailable,
    TrackingInfo,
    TrackingResult,
)
from stores.services import store_call

from .carriers import carrier_for, platform_carrier, tracking_url
from .models import Shipment, ShipmentLine, TrackingSync
from .retry import backoff as retry_backoff

logger = logging.getLogger(__name__)

S = TrackingSync.State
MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
# How long one attempt holds its claim: longer than the sync task's time limit (150 s),
# so a running attempt is never taken twice; a dead worker's sync is due again after it.
CLAIM = timedelta(minutes=3)
ANSWER_MAX = 500
# Orders whose lines no longer stand for what the store order wants shipped.
GONE = (OrderStatus.SUPERSEDED, OrderStatus.CANCELLED)


class Unsendable(ApplicationError):
    """What we hold cannot be sent to the platform as it is (no line ids): a refusal."""


def backoff(attempt: int, *, retry_after: float | None = None, rng=None) -> timedelta:
    """The wait after attempt `attempt`: 1 min, 2, 4 ... at most an hour, each ±25 % at
    random so syncs that failed together do not come back together; never shorter than
    the platform's Retry-After."""
    return retry_backoff(attempt, first=BACKOFF_FIRST, cap=BACKOFF_CAP, retry_after=retry_after, rng=rng)


def _store_order_q(platform_order_id: int, prefix: str = "") -> Q:
    """Order lines whose store order is this one: their own, or else their order's."""
    return Q(**{f"{prefix}platform_order_id": platform_order_id}) | Q(
        **{f"{prefix}platform_order__isnull": True, f"{prefix}order__platform_order_id": platform_order_id}
    )


# --- 1. plan ----------------------------------------------------------------------------


def tracking_syncs_plan(shipment: Shipment) -> list[TrackingSync]:
    """One TrackingSync per store order of the shipment's lines (made once: planning again
    returns the same rows). Four queries however many lines the shipment has."""
    pairs = ShipmentLine.objects.filter(shipment=shipment).values_list(
        "order_line__platform_order_id", "order_line__order__platform_order_id"
    )
    store_orders = list(dict.fromkeys(own or order for own, order in pairs if own or order))
    if not store_orders:
        return []
    platforms = dict(PlatformOrder.objects.filter(pk__in=store_orders).values_list("pk", "store__platform"))
    now = timezone.now()
    TrackingSync.objects.bulk_create(
        [
            TrackingSync(shipment=shipment, platform_order_id=pk, state=S.PENDING, next_attempt_at=now)
            if platforms[pk] != Platform.OTHER
            else TrackingSync(shipment=shipment, platform_order_id=pk, state=S.FILE)
            for pk in store_orders
            if pk in platforms
        ],
        ignore_conflicts=True,
    )
    return list(TrackingSync.objects.filter(shipment=shipment, platform_order_id__in=store_orders).order_by("pk"))


# --- 2. what is sent --------------------------------------------------------------------


def store_order_complete(platform_order_id: int) -> bool:
    """True when every line of ours on the store order (in orders still standing: not
    split, merged or cancelled away) has shipped in full, whichever shipments took it."""
    rows = (
        OrderLine.objects.filter(_store_order_q(platform_order_id))
        .exclude(order__status__in=GONE)
        .annotate(shipped=Coalesce(Sum("shipment_lines__quantity"), 0))
        .values_list("quantity", "shipped")
    )
    rows = list(rows)
    return bool(rows) and all(shipped >= quantity for quantity, shipped in rows)


def tracking_info(sync: TrackingSync) -> TrackingInfo:
    """The TrackingInfo this sync sends: this store order's lines of the shipment (by the
    platform's line ids, quantities added up), the carrier as the store's platform names
    it, the tracking URL, and whether the store order is now shipped in full."""
    shipment, store_order = sync.shipment, sync.platform_order
    store = store_order.store
    rows = (
        ShipmentLine.objects.filter(shipment=shipment)
        .filter(_store_order_q(store_order.pk, prefix="order_line__"))
        .order_by("pk")
        .values_list("order_line__platform_line_id", "order_line__store_sku", "quantity")
    )
    lines: dict[str, int] = {}
    for line_id, sku, quantity in rows:
        if not line_id:
            raise Unsendable(
                _("The line %(sku)s has no line id on the platform: enter this tracking at the store by hand.")
                % {"sku": sku}
            )
        lines[line_id] = lines.get(line_id, 0) + quantity
    if not lines:
        raise Unsendable(_("None of this shipment's lines belongs to this store order."))
    carrier = carrier_for(shipment.carrier)
    named = platform_carrier(carrier, store.platform, site=store.site)
    return TrackingInfo(
        number=shipment.tracking_number,
        carrier=named.name,
        carrier_code=named.code,
        url=tracking_url(carrier, shipment.tracking_number, shipment.tracking_url),
        lines=list(lines.items()),
        shipped_at=shipment.shipped_at or shipment.created_at,
        service=shipment.service,
        complete=store_order_complete(store_order.pk),
        notify_customer=store.notify_buyer,
    )


# --- 3. send and record -----------------------------------------------------------------


def _claim(sync_id: int, now: datetime) -> bool:
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    return (
        TrackingSync.objects.filter(due, pk=sync_id, state=S.PENDING).update(
            attempts=F("attempts") + 1, next_attempt_at=now + CLAIM, updated_at=now
        )
        == 1
    )


def _load(sync_id: int) -> TrackingSync:
    return TrackingSync.objects.select_related("shipment__order", "platform_order__store").get(pk=sync_id)


def tracking_sync_one(sync_id: int, *, http: PlatformHttp | None = None) -> TrackingSync:
    """One attempt at one sync (see the module docstring); a sync not pending, not yet
    due, or claimed by another worker is answered as it is, untouched."""
    now = timezone.now()
    claimed = _claim(sync_id, now)
    sync = _load(sync_id)
    if not claimed:
        return sync
    store = sync.platform_order.store
    try:
        info = tracking_info(sync)
        result = store_call(
            store=store,
            operation=lambda client: client.push_tracking(
                external_order_id=sync.platform_order.external_id, tracking=info
            ),
            http=http,
        )
    except (PlatformUnavailable, PlatformAuthError) as exc:
        # Try again later: the platform is busy or down, or the store's credentials need a
        # refresh or a re-authorization (the store list says which).
        return _retry_later(sync, str(exc), retry_after=(exc.extra or {}).get("retry_after"))
    except (PlatformError, Unsendable) as exc:
        return _fail(sync, str(exc))
    except ApplicationError as exc:
        # The store cannot be called now (disabled, expired ...); a removed one never will.
        if store.removed_at is not None:
            return _fail(sync, str(exc))
        return _retry_later(sync, str(exc))
    except Exception as exc:  # noqa: BLE001 (an unforeseen answer must not end the sync for good)
        logger.exception("tracking sync %s: unexpected error", sync_id)
        return _retry_later(sync, f"{type(exc).__name__}: {exc}")
    return _synced(sync, result)


def _store_order_name(store_order: PlatformOrder) -> str:
    return store_order.display_number or store_order.external_id


def _words(sync: TrackingSync) -> dict:
    return {
        "number": sync.shipment.tracking_number,
        "carrier": sync.shipment.carrier,
        "store_order": _store_order_name(sync.platform_order),
        "store": sync.platform_order.store.name,
    }


def _data(sync: TrackingSync, **more) -> dict:
    return {
        "tracking_sync": sync.pk,
        "shipment": sync.shipment_id,
        "store_order": sync.platform_order.external_id,
        "tracking_number": sync.shipment.tracking_number,
        **more,
    }


def _write(sync: TrackingSync, **fields) -> TrackingSync:
    fields["updated_at"] = timezone.now()
    TrackingSync.objects.filter(pk=sync.pk).update(**fields)
    for name, value in fields.items():
        setattr(sync, name, value)
    return sync


@transaction.atomic
def _synced(sync: TrackingSync, result: TrackingResult) -> TrackingSync:
    now = timezone.now()
    answer = clip(result.external_id or _("accepted"), ANSWER_MAX)
    _write(sync, state=S.SYNCED, synced_at=now, next_attempt_at=None, platform_answer=answer)
    events.note(
        sync.shipment.order,
        _("Tracking %(number)s (%(carrier)s) sent to store order %(store_order)s on %(store)s.") % _words(sync),
        data=_data(sync, platform_id=result.external_id),
    )
    return sync


@transaction.atomic
def _fail(sync: TrackingSync, answer: str) -> TrackingSync:
    answer = clip(answer, ANSWER_MAX)
    _write(sync, state=S.FAILED, next_attempt_at=None, platform_answer=answer)
    events.note(
        sync.shipment.order,
        _("Tracking %(number)s could not be sent to store order %(store_order)s on %(store)s: %(answer)s")
        % {**_words(sync), "answer": answer},
        data=_data(sync, answer=answer),
    )
    return sync


def _retry_later(sync: TrackingSync, answer: str, *, retry_after: float | None = None) -> TrackingSync:
    if sync.attempts >= MAX_ATTEMPTS:
        return _fail(sync, answer)
    wait = backoff(sync.attempts, retry_after=retry_after)
    return _write(
        sync, state=S.PENDING, next_attempt_at=timezone.now() + wait, platform_answer=clip(answer, ANSWER_MAX)
    )


def tracking_sync_sweep(limit: int = 500) -> int:
    """Beat: queue one send of every pending sync whose attempt is due, oldest first (each
    its own task, with its own time limit and redelivery; the claim makes a duplicate
    harmless). The number queued."""
    from .tasks import sync_tracking

    now = timezone.now()
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    ids = list(
        TrackingSync.objects.filter(due, state=S.PENDING)
        .order_by(F("next_attempt_at").asc(nulls_first=True), "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for sync_id in ids:
        sync_tracking.delay(sync_id)
    return len(ids)


def _ids(syncs) -> list[int]:
    if isinstance(syncs, QuerySet):
        return list(syncs.values_list("pk", flat=True))
    return [sync.pk if isinstance(sync, TrackingSync) else int(sync) for sync in syncs]


@transaction.atomic
def tracking_sync_retry(syncs: Iterable[TrackingSync | int] | QuerySet, *, actor=None) -> int:
    """Send failed syncs again (staff, or the distributor from their order): each is
    pending and due now with its attempts counted from zero; the sweep (or a task the
    caller queues) sends it. Syncs that are not failed are left. The number retried."""
    rows = list(
        TrackingSync.objects.select_for_update(of=("self",))
        .filter(pk__in=_ids(syncs), state=S.FAILED)
        .select_related("shipment__order", "platform_order__store")
        .order_by("pk")
    )
    if not rows:
        return 0
    now = timezone.now()
    TrackingSync.objects.filter(pk__in=[row.pk for row in rows]).update(
        state=S.PENDING, attempts=0, next_attempt_at=now, updated_at=now
    )
    who = actor if getattr(actor, "pk", None) else None
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=row.shipment.order,
                message=clip(
                    _("Tracking %(number)s will be sent again to store order %(store_order)s on %(store)s.")
                    % _words(row)
                ),
                data=_data(row, retried=True),
                actor=who,
            )
            for row in rows
        ]
    )
    return len(rows)


# --- the tracking file of a store without an API -----------------------------------------


@dataclass(frozen=True)
class TrackingFileRow:
    sync_id: int
    store_order: str
    order_number: str
    carrier: str
    tracking_number: str
    tracking_url: str
    shipped_at: datetime | None
    # Not in any tracking file downloaded before.
    new: bool


def tracking_file_header() -> list[str]:
    return [
        _("Store order"),
        _("Our order"),
        _("Carrier"),
        _("Tracking number"),
        _("Tracking URL"),
        _("Shipped at"),
        _("New"),
    ]


def tracking_file_rows(store: Store, *, only_new: bool = False) -> list[TrackingFileRow]:
    """The shipments of a store without an API, one row per store order and package: what
    a person pastes into their platform. One query."""
    syncs = (
        TrackingSync.objects.filter(platform_order__store=store, state=S.FILE)
        .select_related("shipment__order", "platform_order")
        .order_by(F("shipment__shipped_at").asc(nulls_last=True), "pk")
    )
    if only_new:
        syncs = syncs.filter(synced_at__isnull=True)
    rows = []
    for sync in syncs:
        shipment = sync.shipment
        carrier = carrier_for(shipment.carrier)
        rows.append(
            TrackingFileRow(
                sync_id=sync.pk,
                store_order=_store_order_name(sync.platform_order),
                order_number=shipment.order.number,
                carrier=carrier.name,
                tracking_number=shipment.tracking_number,
                tracking_url=tracking_url(carrier, shipment.tracking_number, shipment.tracking_url),
                shipped_at=shipment.shipped_at,
                new=sync.synced_at is None,
            )
        )
    return rows


def tracking_file_mark(rows: Iterable[TrackingFileRow]) -> int:
    """The rows went out in a file: from now on they are not new (`synced_at` is when a
    FILE sync was first handed over in a file)."""
    ids = [row.sync_id for row in rows if row.new]
    if not ids:
        return 0
    now = timezone.now()
    return TrackingSync.objects.filter(pk__in=ids, state=S.FILE, synced_at__isnull=True).update(
        synced_at=now, updated_at=now
    )


def tracking_file(store: Store, *, kind: str = spreadsheet.XLSX, only_new: bool = False, mark: bool = True) -> bytes:
    """The tracking file of a store without an API, as xlsx or CSV (distribution/spreadsheet:
    nothing in it runs as a formula, order and tracking numbers stay text). With `mark`, the
    rows count as handed over, so the next file shows only later ones as new."""
    rows = tracking_file_rows(store, only_new=only_new)
    yes, no = _("yes"), ""
    header = tracking_file_header()
    if kind == spreadsheet.CSV:
        content = spreadsheet.csv_bytes(
            header,
            (
                [
                    row.store_order,
                    row.order_number,
                    row.carrier,
                    row.tracking_number,
                    row.tracking_url,
                    timezone.localtime(row.shipped_at).strftime("%Y-%m-%d %H:%M") if row.shipped_at else "",
                    yes if row.new else no,
                ]
                for row in rows
            ),
        )
    else:
        book = spreadsheet.XlsxBook()
        sheet = book.sheet(_("Tracking"), header, widths=(18, 18, 18, 26, 60, 18, 6), text_columns=(0, 1, 3))
        sheet.extend(
            [
                row.store_order,
                row.order_number,
                row.carrier,
                row.tracking_number,
                row.tracking_url,
                row.shipped_at,
                yes if row.new else no,
            ]
            for row in rows
        )
        content = book.bytes()
    if mark:
        tracking_file_mark(rows)
    return content
