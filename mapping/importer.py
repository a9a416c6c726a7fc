"""Set-based checking and writing of many mappings at once: the batch import and
"accept all suggestions" use it, so they obey the same rules as one mapping added by
hand (`services.mapping_validate`): a known store of the distributor, a valid store SKU
(`skus.clean_sku`), a known and available Item whose warehouse serves the store's
site, and no store SKU twice.

The rows are worked through in chunks of CHUNK rows. Each chunk costs two or three
queries (its Item IDs, its existing mappings, and alternatives for items in the wrong
warehouse), whatever the number of rows in it; the stores and warehouses are read once.
After each chunk `progress(rows done)` is called, so a background run can show how far
it is. 5,000 rows keep a chunk's `IN (...)` lists well below SQLite's 32,766 parameters
and cost a few tens of milliseconds on PostgreSQL.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Item, Warehouse
from distribution.bulk import copy_tuples
from distribution.errors import ApplicationError
from distribution.models import Distributor
from distribution.spreadsheet import excerpt
from distribution.state import clip
from stores.models import Store
from stores.selectors import store_list

from .models import Mapping
from .skus import cell_text, clean_platform_id, clean_sku, normalise_item_id
from .xlsx import SheetRow

CHUNK = 5_000
WRITE_BATCH = 1_000
CHANGES_SAMPLE = 100


class RowInput(NamedTuple):
    number: int
    store: Store | None
    store_text: str
    sku: object
    item_id: object
    product_id: object = None
    variant_id: object = None
    # Set when the store reference could not be resolved.
    store_problem: str = ""


class NewMapping(NamedTuple):
    store_id: int
    store_sku: str
    item_id: int  # the Item's primary key
    platform_product_id: str
    platform_variant_id: str


class ChangedMapping(NamedTuple):
    pk: int
    store_id: int
    store_sku: str
    item_id: int
    platform_product_id: str
    platform_variant_id: str


# A NewMapping's fields, then who made it and when.
NEW_COLUMNS = (*NewMapping._fields, "source", "created_by_id", "created_at", "updated_at")


@dataclass
class Plan:
    """What a set of rows comes to. Plain tuples rather than model instances: building
    50,000 Mapping objects only to preview them costs a second and a half."""

    total: int = 0
    new: list[NewMapping] = field(default_factory=list)
    changed: list[ChangedMapping] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[list] = field(default_factory=list)
    changes_sample: list[list] = field(default_factory=list)

    @property
    def affected(self) -> dict[int, list[str]]:
        """Store id -> the SKUs that now map to a (new or other) Item."""
        result: dict[int, list[str]] = defaultdict(list)
        for mapping in [*self.new, *self.changed]:
            result[mapping.store_id].append(mapping.store_sku)
        return dict(result)


# --- stores -------------------------------------------------------------------------------------


class StoreResolver:
    """Finds the distributor's store by the text in the Store column: its name (any
    case) when that is unique, else its store number."""

    def __init__(self, distributor: Distributor):
        self.stores = list(store_list(distributor=distributor))
        self.by_id = {store.pk: store for store in self.stores}
        self.by_name: dict[str, list[Store]] = defaultdict(list)
        for store in self.stores:
            self.by_name[store.name.strip().casefold()].append(store)
        self._cache: dict[str, tuple[Store | None, str]] = {}

    def reference(self, store: Store) -> str:
        """What to write in the Store column for this store (export, template)."""
        return store.name if len(self.by_name[store.name.strip().casefold()]) == 1 else str(store.pk)

    def resolve(self, text: str) -> tuple[Store | None, str]:
        if text not in self._cache:
            self._cache[text] = self._resolve(text)
        return self._cache[text]

    def _resolve(self, text: str) -> tuple[Store | None, str]:
        if not text:
            return None, _("The store is empty.")
        named = self.by_name.get(text.casefold(), [])
        if len(named) == 1:
            return named[0], ""
        number = text.removeprefix("#")
        if number.isdigit() and int(number) in self.by_id:
            return self.by_id[int(number)], ""
        if named:
            return None, _("Several of your stores are called “%(name)s”; give the store number instead (%(ids)s).") % {
                "name": excerpt(text),
                "ids": ", ".join(str(store.pk) for store in named),
            }
        return None, _("Unknown store “%(name)s”: none of your stores has this name or number.") % {
            "name": excerpt(text)
        }


def rows_from_sheet(sheet_rows: list[SheetRow], resolver: StoreResolver) -> list[RowInput]:
    rows = []
    for row in sheet_rows:
        text = cell_text(row.store).strip()
        store, problem = resolver.resolve(text)
        rows.append(
            RowInput(
                number=row.number,
                store=store,
                store_text=text,
                sku=row.sku,
                item_id=row.item_id,
                product_id=row.product_id,
                variant_id=row.variant_id,
                store_problem=problem,
            )
        )
    return rows


# --- catalog facts ------------------------------------------------------------------------------


class ItemFacts(NamedTuple):
    pk: int
    item_id: str
    warehouse_id: int
    product_id: int
    available: bool  # item and product active (the warehouse's activity is checked apart)


_NO_WAREHOUSE = ("", frozenset(), False)  # what an unknown warehouse id answers


class Catalog:
    """What the rules need to know about items and warehouses, fetched a chunk at a time."""

    def __init__(self):
        self.warehouses = {
            w.pk: (w.code, frozenset(w.site_codes), w.is_active)
            for w in Warehouse.objects.only("pk", "code", "sites", "is_active")
        }
        self.items: dict[str, ItemFacts | None] = {}

    def load(self, item_ids: Iterable[str]) -> None:
        wanted = {item_id for item_id in item_ids if item_id and item_id not in self.items}
        if not wanted:
            return
        for row in Item.objects.filter(item_id__any_of=wanted).values_list(
            "pk", "item_id", "warehouse_id", "product_id", "is_active", "product__is_active"
        ):
            pk, item_id, warehouse_id, product_id, active, product_active = row
            self.items[item_id] = ItemFacts(pk, item_id, warehouse_id, product_id, active and product_active)
        for item_id in wanted:
            self.items.setdefault(item_id, None)

    def serves(self, warehouse_id: int, site: str) -> bool:
        _code, sites, _active = self.warehouses.get(warehouse_id, _NO_WAREHOUSE)
        return site.upper() in sites

    def warehouse_code(self, warehouse_id: int) -> str:
        return self.warehouses.get(warehouse_id, ("?",))[0]

    def warehouse_active(self, warehouse_id: int) -> bool:
        return self.warehouses.get(warehouse_id, _NO_WAREHOUSE)[2]

    def alternatives(self, product_ids: set[int]) -> dict[int, list[tuple[str, int]]]:
        """Visible items of these products: product id -> [(Item ID, warehouse id)]."""
        result: dict[int, list[tuple[str, int]]] = defaultdict(list)
        if product_ids:
            for item_id, product_id, warehouse_id in (
                Item.objects.visible()
                .filter(product_id__in=product_ids)
                .order_by("item_id")
                .values_list("item_id", "product_id", "warehouse_id")
            ):
                result[product_id].append((item_id, warehouse_id))
        return result

    def alternative_for(self, item_id: str, site: str, options: list[tuple[str, int]]) -> str:
        """The same product (same variant if there is one) in a warehouse serving `site`."""
        serving = [option for option, warehouse_id in options if self.serves(warehouse_id, site)]
        variant = item_id.rsplit("-", 1)[0] + "-"
        same_variant = [option for option in serving if option.startswith(variant)]
        return (same_variant or serving or [""])[0]


def site_refusal(*, item_id: str, warehouse_code: str, site: str, alternative: str) -> str:
    message = _(
        "Item %(item)s ships from the %(warehouse)s warehouse, which does not serve the store's site (%(site)s)."
    ) % {"item": item_id, "warehouse": warehouse_code, "site": site}
    if alternative:
        return message + " " + _("Map it to %(alternative)s instead.") % {"alternative": alternative}
    return message + " " + _("This product has no item in a warehouse serving %(site)s.") % {"site": site}


# --- planning -----------------------------------------------------------------------------------


def _text(value) -> str:
    return cell_text(value).strip()


def plan_rows(
    rows: list[RowInput],
    *,
    create_only: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Plan:
    """Sort rows into new, changed, unchanged and rejected (with reasons), writing nothing.

    `create_only`: an existing mapping is left as it is (counted unchanged), as for
    accepted suggestions, which must never overwrite a mapping made meanwhile.
    """
    plan = Plan(total=len(rows))
    catalog = Catalog()
    product_label, variant_label = _("platform product ID"), _("platform variant ID")

    # Pass 1, in memory: the store SKU and the file's duplicates (both rows are refused).
    reasons: list[list[str]] = []
    skus: list[str] = []
    seen_at: dict[tuple[int, str], list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        problems = [row.store_problem] if row.store_problem else []
        try:
            sku = clean_sku(row.sku)
        except ApplicationError as exc:
            sku = ""
            problems.append(str(exc))
        if row.store is not None and sku:
            seen_at[(row.store.pk, sku)].append(index)
        reasons.append(problems)
        skus.append(sku)
    for (_store_id, sku), indexes in seen_at.items():
        if len(indexes) > 1:
            numbers = ", ".join(str(rows[i].number) for i in indexes)
            for i in indexes:
                reasons[i].append(
                    _("The store SKU “%(sku)s” appears more than once for this store in the file (rows %(rows)s).")
                    % {"sku": sku, "rows": numbers}
                )

    # Pass 2, a chunk at a time: items, existing mappings, verdicts.
    for start in range(0, len(rows), CHUNK):
        indexes = range(start, min(start + CHUNK, len(rows)))
        item_ids = {i: normalise_item_id(rows[i].item_id) for i in indexes}
        catalog.load(item_ids.values())
        wrong_site_products = set()
        for i in indexes:
            facts = catalog.items.get(item_ids[i])
            if facts and rows[i].store is not None and not catalog.serves(facts.warehouse_id, rows[i].store.site):
                wrong_site_products.add(facts.product_id)
        alternatives = catalog.alternatives(wrong_site_products)

        candidates: dict[int, tuple[ItemFacts, str, str]] = {}
        for i in indexes:
            row, problems, item_id = rows[i], reasons[i], item_ids[i]
            facts = catalog.items.get(item_id) if item_id else None
            if not item_id:
                problems.append(_("The Item ID is empty."))
            elif facts is None:
                problems.append(_("Unknown Item ID “%(item)s”.") % {"item": excerpt(item_id)})
            elif not facts.available or not catalog.warehouse_active(facts.warehouse_id):
                problems.append(_("Item %(item)s is no longer available.") % {"item": item_id})
            elif row.store is not None and not catalog.serves(facts.warehouse_id, row.store.site):
                problems.append(
                    site_refusal(
                        item_id=item_id,
                        warehouse_code=catalog.warehouse_code(facts.warehouse_id),
                        site=row.store.site.upper(),
                        alternative=catalog.alternative_for(item_id, row.store.site, alternatives[facts.product_id]),
                    )
                )
            try:
                product_id = clean_platform_id(row.product_id, product_label)
                variant_id = clean_platform_id(row.variant_id, variant_label)
            except ApplicationError as exc:
                problems.append(str(exc))
            if problems:
                # What the page and the rejected-rows file show: never the whole of a huge cell.
                plan.rejected.append(
                    [
                        row.number,
                        excerpt(row.store_text),
                        excerpt(_text(row.sku)),
                        excerpt(_text(row.item_id)),
                        excerpt(_text(row.product_id)),
                        excerpt(_text(row.variant_id)),
                        clip(" ".join(problems), 2_000),
                    ]
                )
            else:
                candidates[i] = (facts, product_id, variant_id)

        existing = _existing_mappings({(rows[i].store.pk, skus[i]) for i in candidates})
        for i, (facts, product_id, variant_id) in candidates.items():
            row, sku = rows[i], skus[i]
            current = existing.get((row.store.pk, sku))
            if current is None:
                plan.new.append(NewMapping(row.store.pk, sku, facts.pk, product_id, variant_id))
                continue
            pk, item_pk, old_product_id, old_variant_id, old_item_id = current
            product_id = product_id or old_product_id
            variant_id = variant_id or old_variant_id
            if create_only or (item_pk, product_id, variant_id) == (facts.pk, old_product_id, old_variant_id):
                plan.unchanged += 1
                continue
            plan.changed.append(ChangedMapping(pk, row.store.pk, sku, facts.pk, product_id, variant_id))
            if len(plan.changes_sample) < CHANGES_SAMPLE:
                plan.changes_sample.append([row.number, excerpt(row.store_text), sku, old_item_id, facts.item_id])
        if progress is not None:
            progress(indexes.stop)
    plan.rejected.sort(key=lambda rejected: rejected[0])
    return plan


def _existing_mappings(keys: set[tuple[int, str]]) -> dict[tuple[int, str], tuple]:
    if not keys:
        return {}
    store_ids = {store_id for store_id, _sku in keys}
    skus = {sku for _store_id, sku in keys}
    found = {}
    rows = Mapping.objects.filter(store_id__in=store_ids, store_sku__any_of=skus).values_list(
        "pk", "store_id", "store_sku", "item_id", "platform_product_id", "platform_variant_id", "item__item_id"
    )
    for pk, store_id, sku, item_pk, product_id, variant_id, item_id in rows:
        if (store_id, sku) in keys:
            found[(store_id, sku)] = (pk, item_pk, product_id, variant_id, item_id)
    return found


def write_plan(plan: Plan, *, created_by=None, source: str = Mapping.Source.IMPORT) -> None:
    """Create and update what the plan says; the caller holds the transaction.

    On PostgreSQL the new mappings are one COPY of tuples (`copy_tuples`: no instance,
    no per-value preparation; four times the rows a second of a multi-row INSERT) and
    the changed ones one `UPDATE ... FROM (VALUES ...)` per WRITE_BATCH rows, written
    here: bulk_update builds a CASE WHEN per field and row (about 1 ms a row). Other
    databases (SQLite in development) use bulk_create and bulk_update.
    """
    now = timezone.now()
    created_by_id = getattr(created_by, "pk", None)
    copy_tuples(Mapping, NEW_COLUMNS, [(*row, source, created_by_id, now, now) for row in plan.new])
    for start in range(0, len(plan.changed), WRITE_BATCH):
        batch = plan.changed[start : start + WRITE_BATCH]
        if connection.vendor == "postgresql":
            _update_batch(batch, now=now)
        else:
            Mapping.objects.bulk_update(
                [Mapping(**row._asdict(), updated_at=now) for row in batch],
                ["item", "platform_product_id", "platform_variant_id", "updated_at"],
            )


def _table() -> str:
    return connection.ops.quote_name(Mapping._meta.db_table)


def _update_batch(batch: list[ChangedMapping], *, now) -> None:
    params = []
    for row in batch:
        params += [row.pk, row.item_id, row.platform_product_id, row.platform_variant_id]
    values = ", ".join(["(%s, %s, %s, %s)"] * len(batch))
    sql = (
        f"UPDATE {_table()} AS m SET item_id = v.item_id, platform_product_id = v.product_id, "  # noqa: S608
        "platform_variant_id = v.variant_id, updated_at = %s "
        f"FROM (VALUES {values}) AS v(id, item_id, product_id, variant_id) WHERE m.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])
