"""Demo mappings: the user guide's step 4 on the demo distributor's stores.

If the demo distributor has a US-site and a JP-site store (the stores app's demo adds
sandbox stores), the guide's serum is mapped to LS228800001-01-01 for the US store and
to LS228800001-01-03 for the JP store, and two store SKUs are put in the unmapped queue
(of the US store, else the JP one), one of them with a suggestion. Without such stores
nothing is done. Idempotent.
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


def _store_for(distributor: Distributor, site: str) -> Store | None:
    return Store.objects.present().filter(distributor=distributor, site__iexact=site).order_by("id").first()


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
    stores = {site: _store_for(distributor, site) for site in GUIDE_ITEMS}
    mapped = []
    for site, item_id in GUIDE_ITEMS.items():
        store = stores[site]
        item = Item.objects.filter(item_id=item_id).first()
        if store is None or item is None:
            continue
        if not Mapping.objects.filter(store=store, store_sku=GUIDE_SKU).exists():
            services.mapping_create(actor=owner, store=store, store_sku=GUIDE_SKU, item=item)
        services.store_sku_seen(store=store, sku=GUIDE_SKU, title=GUIDE_TITLE)
        mapped.append(f"{store.name} -> {item_id}")
    queue_store = stores["US"] or stores["JP"]
    if queue_store is None:
        return
    examples = _unmapped_examples(queue_store)
    services.store_skus_seen(store=queue_store, skus={sku: title for sku, (title, _n) in examples.items()})
    services.store_skus_waiting_set(store=queue_store, waiting={sku: n for sku, (_t, n) in examples.items()})
    stdout.write(
        f"Product mapping: {GUIDE_SKU} mapped on {'; '.join(mapped) or 'no store'}; "
        f"{len(examples)} SKUs of {queue_store.name} wait in the unmapped queue."
    )
