"""The orders app's only door into the mapping app.

Orders need three things from mapping: resolve store SKUs to Items
(`selectors.mapping_resolve`, and the SKUs marked not supplied by this platform,
`selectors.not_supplied_skus`), the one SKU normalisation rule (`skus.normalise_sku`),
and the unmapped-SKU queue (`services.store_skus_seen` / `store_skus_waiting_set`).
Mapping never imports orders; it tells us through its `signals.mappings_changed`, to
which orders/apps.py connects `orders.receivers.on_mappings_changed`.
"""

from collections.abc import Iterable, Mapping

from catalog.models import Item
from mapping.skus import normalise_sku

__all__ = ["NOT_SUPPLIED", "normalise_sku", "record_seen", "record_waiting", "resolve"]


class NotSupplied:
    """What `resolve` answers for a SKU the distributor marked "not supplied by this
    platform": its lines are left out of the order (there is one instance, NOT_SUPPLIED)."""

    def __repr__(self) -> str:
        return "NOT_SUPPLIED"


NOT_SUPPLIED = NotSupplied()


def resolve(*, store, skus: Iterable[str]) -> dict[str, Item | NotSupplied]:
    """{normalised SKU: Item (product and warehouse loaded)} for the SKUs that are mapped,
    and NOT_SUPPLIED for the unmapped ones marked not supplied by this platform.

    A mapping to an item that staff have since retired (the item, its product or its
    warehouse inactive) counts as no mapping: the order waits until the distributor maps
    the SKU to an item that can ship. One query, two when some SKUs are unmapped.
    """
    wanted = {sku for sku in skus if sku}
    if not wanted:
        return {}
    from mapping.selectors import mapping_resolve, not_supplied_skus

    resolved: dict[str, Item | NotSupplied] = {
        sku: item
        for sku, item in mapping_resolve(store=store, skus=wanted).items()
        if item.is_active and item.product.is_active and item.warehouse.is_active
    }
    unmapped = wanted - resolved.keys()
    if unmapped:
        resolved.update(dict.fromkeys(not_supplied_skus(store=store, skus=unmapped), NOT_SUPPLIED))
    return resolved


def record_seen(*, store, titles: Mapping[str, str]) -> None:
    """Tell mapping's unmapped-SKU queue which SKUs arrived in orders (with a title each)."""
    if titles:
        from mapping.services import store_skus_seen

        store_skus_seen(store=store, skus=dict(titles))


def record_waiting(*, store, waiting: Mapping[str, int]) -> None:
    """How many of the store's orders wait in pending mapping on each SKU; SKUs not named wait on none."""
    from mapping.services import store_skus_waiting_set

    store_skus_waiting_set(store=store, waiting=dict(waiting), replace=True)
