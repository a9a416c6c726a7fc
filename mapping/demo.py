"""Demo mappings: the user guide's step 4 on the demo distributor's stores.

The guide's serum is mapped on each of the demo distributor's US-site and JP-site stores
(the stores app's demo adds a US Shopify and a JP Amazon sandbox store beside the JP
store without an API): to LS228800001-01-01 for a US store, to LS228800001-01-03 for a
JP store, through the mapping service, so the site rule holds. Two store SKUs are put in
the unmapped queue of one store (a US store with an API first, else any US, else JP),
one of them with a suggestion. Without such stores nothing is done. Idempotent.
"""

from catalog.models import Item, Warehouse
from distribution.demo import demo_distributor
from distribution.models import Distributor, Membership, Role
from stores.models import Store

from . import services
from .models import Mapping

GUIDE_SKU = "SNOWTOX-SERUM-30ML"
GUIDE_TITLE = "SNOWTOX Crystal Treatment Serum 30 ml"
GUIDE_ITEMS = {"US": "LS228800001-01-01", "JP": "LS228800001-01-03"}
OWN_SKU = ("MY-GIFT-BOX-01", "Holiday gift box (own bundle)", 1)


def _stores_for(distributor: Distributor) -> list[Store]:
    return list(Store.objects.present().filter(distributor=distributor, site__in=GUIDE_ITEMS).order_by("id"))


def _queue_store(stores: list[Store]) -> Store | None:
    ranked = sorted(stores, key=lambda store: (store.site != "US", not store.has_api, store.pk))
    return ranked[0] if ranked else None


def _unmapped_examples(store: Store) -> dict[str, tuple[str, int]]:
    """Two SKUs waiting on a mapping: the store's own bundle code, and an Item ID used
    as the SKU (the queue suggests that item)."""
    examples = {OWN_SKU[0]: OWN_SKU[1:]}
    serving = [w.pk for w in Warehouse.objects.filter(is_active=True) if w.serves(store.site)]
    item = (
        Item.objects.visible()
        .filter(warehouse_id__in=serving)
        .exclude(item_id__startswith="LS228800001-")
        .order_by("item_id")
        .select_related("product")
        .first()
    )
    if item is not None:
        examples[item.item_id] = (item.product.name.title(), 2)
    return examples


def seed(stdout) -> None:
    try:
        distributor = demo_distributor()
    except Distributor.DoesNotExist:
        return
    owner = Membership.objects.select_related("distributor", "user").get(distributor=distributor, role=Role.OWNER)
    stores = _stores_for(distributor)
    items = {item.item_id: item for item in Item.objects.filter(item_id__in=GUIDE_ITEMS.values())}
    mapped = []
    for store in stores:
        item = items.get(GUIDE_ITEMS[store.site])
        if item is None:
            continue
        if not Mapping.objects.filter(store=store, store_sku=GUIDE_SKU).exists():
            services.mapping_create(actor=owner, store=store, store_sku=GUIDE_SKU, item=item)
        services.store_sku_seen(store=store, sku=GUIDE_SKU, title=GUIDE_TITLE)
        mapped.append(f"{store.name} -> {item.item_id}")
    queue_store = _queue_store(stores)
    if queue_store is None:
        return
    examples = _unmapped_examples(queue_store)
    services.store_skus_seen(store=queue_store, skus={sku: title for sku, (title, _n) in examples.items()})
    services.store_skus_waiting_set(store=queue_store, waiting={sku: n for sku, (_t, n) in examples.items()})
    stdout.write(
        f"Product mapping: {GUIDE_SKU} mapped on {'; '.join(mapped) or 'no store'}; "
        f"{len(examples)} SKUs of {queue_store.name} wait in the unmapped queue."
    )
