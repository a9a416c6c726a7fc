"""Orders waiting for a mapping: how many wait on each SKU (for mapping's unmapped-SKU
queue), and re-routing them when their mappings arrive."""

import logging
from collections import Counter
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from orders import mapping_port
from orders.ingest.changes import reroute
from orders.models import (
    Order,
    OrderStatus,
    PlatformOrder,
)

logger = logging.getLogger(__name__)


def waiting_refresh(*, store) -> dict[str, int]:
    """Tell mapping how many of the store's orders wait on each SKU (absolute numbers)."""
    counts: Counter = Counter()
    for missing in Order.objects.filter(store=store, status=OrderStatus.PENDING_MAPPING).values_list(
        "missing_skus", flat=True
    ):
        counts.update(missing)
    mapping_port.record_waiting(store=store, waiting=dict(counts))
    return dict(counts)


def orders_reevaluate_pending(*, store, skus: Iterable[str] | None = None, batch_size: int = 200) -> int:
    """Re-route the store's orders waiting in "pending mapping" (those waiting on `skus`,
    or all); returns how many platform orders left pending mapping.

    Walks the waiting orders in primary-key batches of `batch_size`, each platform order
    in its own short transaction under its row lock, so a crash leaves every order
    either re-routed or still waiting, and a re-run continues. Cost: two queries plus
    one SKU lookup per waiting platform order.
    """
    wanted = {mapping_port.normalise_sku(sku) for sku in skus} if skus is not None else None
    released = 0
    last_pk = 0
    while True:
        batch = list(
            Order.objects.filter(store=store, status=OrderStatus.PENDING_MAPPING, platform_order__isnull=False)
            .filter(platform_order_id__gt=last_pk)
            .order_by("platform_order_id")
            .values_list("platform_order_id", "missing_skus")[:batch_size]
        )
        if not batch:
            break
        last_pk = batch[-1][0]
        for po_id in sorted({po_id for po_id, missing in batch if wanted is None or wanted & set(missing)}):
            with transaction.atomic():
                po = PlatformOrder.objects.select_for_update().get(pk=po_id)
                orders = list(Order.objects.select_for_update().filter(platform_order=po).order_by("pk"))
                live = [o for o in orders if o.status not in (OrderStatus.SUPERSEDED, OrderStatus.CANCELLED)]
                if not any(o.status == OrderStatus.PENDING_MAPPING for o in live) or any(not o.is_unpaid for o in live):
                    continue
                resolved = mapping_port.resolve(store=store, skus=[line["sku"] for line in po.lines])
                reroute(po, store, live, resolved, _("Mapped: the order is routed to its warehouse."))
                if not Order.objects.filter(platform_order=po, status=OrderStatus.PENDING_MAPPING).exists():
                    released += 1
    waiting_refresh(store=store)
    return released


def reevaluation_sweep(*, limit: int = 200) -> int:
    """Beat's safety net for re-evaluations that were lost (the task failed, its worker
    died): for each store with orders waiting for a mapping, re-route the ones whose SKUs
    are mapped by now. Returns how many platform orders left pending mapping.

    Cost: one query for the stores, then per store one query for its waiting SKUs and one
    SKU lookup; stores with nothing newly mapped cost no more."""
    from stores.models import Store

    store_ids = list(
        Order.objects.filter(status=OrderStatus.PENDING_MAPPING)
        .order_by("store_id")
        .values_list("store_id", flat=True)
        .distinct()[:limit]
    )
    released = 0
    for store in Store.objects.filter(pk__in=store_ids).order_by("pk"):
        waiting = set()
        for missing in Order.objects.filter(store=store, status=OrderStatus.PENDING_MAPPING).values_list(
            "missing_skus", flat=True
        ):
            waiting.update(missing)
        mapped = mapping_port.resolve(store=store, skus=waiting)
        if mapped:
            released += orders_reevaluate_pending(store=store, skus=sorted(mapped))
    return released
