"""Writes on mappings, the unmapped-SKU queue and batch imports.

Every way a mapping is made (the [Add] form, map-in-place, accepted suggestions, the
batch import, the staff console) ends here, so the rules hold for all of them:
`(store, store SKU)` maps to one Item, the SKU is normalised by `skus.clean_sku`, and
the Item must be available in a warehouse that serves the store's site.

`actor` is the acting Membership in the portal (its role and the distributor's
suspension are checked by `ensure_can_act`), or a staff user in the admin.

The API the orders app uses (mapping never imports orders):

- `store_skus_seen(store=, skus={sku: title, ...})` after a pull or an order-file import:
  records each store SKU on its order lines (first and last seen, a sample title);
- `store_skus_waiting_set(store=, waiting={sku: n, ...}, replace=False)`: how many of the
  store's orders wait in "pending mapping" on each SKU (absolute numbers; `replace=True`
  sets every SKU not named to 0), shown on the unmapped-SKU queue;
- `selectors.mapping_resolve(store=, skus=[...]) -> {normalised sku: Item}`, one query;
- `signals.mappings_changed(store=, skus=(...))`, sent on commit whenever mappings are
  created or re-pointed, to re-evaluate the orders waiting on those SKUs.
"""

import io
import logging
import os
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Mapping as MappingType

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from catalog.models import Item
from distribution.deliveries import MAX_ATTEMPTS, delivery_end, delivery_start, given_up_message
from distribution.errors import ApplicationError, PermissionDeniedError
from distribution.kept import keep_beside, kept_beside
from distribution.models import Membership, Section
from distribution.tenancy import ensure_can_act
from stores.models import Store

from .importer import Catalog, RowInput, StoreResolver, plan_rows, rows_from_sheet, site_refusal, write_plan
from .models import IMPORT_TRANSITIONS, MAPPING_IMPORT_MACHINE, Mapping, MappingImport, SeenSku
from .signals import mappings_changed
from .skus import SKU_MAX_LENGTH, cell_text, clean_platform_id, clean_sku, normalise_item_id, normalise_sku
from .xlsx import FileRejected, SheetRow, check_upload, read_rows

logger = logging.getLogger(__name__)

# Files up to this many rows are checked and applied in the request; larger ones by a worker.
DEFAULT_INLINE_ROWS = 2_000
# "Accept all suggestions" works on at most this many unmapped SKUs per click.
ACCEPT_ALL_LIMIT = 5_000
# A file whose background run killed its worker this many times in a row is given up.
Status = MappingImport.Status


def inline_rows() -> int:
    return int(getattr(settings, "MAPPING_IMPORT_INLINE_ROWS", DEFAULT_INLINE_ROWS))


class ImportAlreadyApplied(ApplicationError):
    """A confirm of an import that was applied before: nothing happens again."""


# --- who may act ------------------------------------------------------------------------------------


def _acting_user(actor, store: Store | None = None):
    """The user behind `actor`, once it may change mappings (of `store`)."""
    if isinstance(actor, Membership):
        ensure_can_act(actor, Section.MAPPING)
        if store is not None and store.distributor_id != actor.distributor_id:
            raise PermissionDeniedError(_("This store belongs to another distributor."))
        return actor.user
    if getattr(actor, "is_staff", False) and getattr(actor, "is_active", False):
        return actor
    raise PermissionDeniedError(_("Only the distributor's members or platform staff may change mappings."))


def _announce(affected: MappingType[Store, Iterable[str]]) -> None:
    """Tell the orders app, once committed, which SKUs of which store now map to an Item."""
    for store, skus in affected.items():
        skus = tuple(sorted(set(skus)))
        if skus:
            transaction.on_commit(
                lambda store=store, skus=skus: mappings_changed.send(sender=Mapping, store=store, skus=skus)
            )


# --- one mapping ----------------------------------------------------------------------------------


def _item(value: Item | str) -> Item:
    if isinstance(value, Item):
        return Item.objects.select_related("product", "warehouse").get(pk=value.pk)
    item_id = normalise_item_id(value)
    if not item_id:
        raise ApplicationError(_("Choose an Item ID."), extra={"field": "item_id"})
    item = Item.objects.select_related("product", "warehouse").filter(item_id=item_id).first()
    if item is None:
        raise ApplicationError(_("Unknown Item ID “%(item)s”.") % {"item": item_id}, extra={"field": "item_id"})
    return item


def _site_alternative(item: Item, site: str) -> str:
    catalog = Catalog()
    options = catalog.alternatives({item.product_id})[item.product_id]
    return catalog.alternative_for(item.item_id, site, options)


def mapping_validate(*, store: Store, store_sku: str, item: Item | str, exclude_pk: int | None = None):
    """Check one mapping against every rule; return (normalised SKU, Item) or raise ApplicationError.

    Read-only: the admin form calls it to show errors beside the fields.
    """
    sku = clean_sku(store_sku)
    if store.removed_at is not None:
        raise ApplicationError(_("The store “%(store)s” was removed; its mappings cannot change.") % {"store": store})
    item = _item(item)
    if not (item.is_active and item.product.is_active and item.warehouse.is_active):
        raise ApplicationError(
            _("Item %(item)s is no longer available.") % {"item": item.item_id}, extra={"field": "item_id"}
        )
    if not item.warehouse.serves(store.site):
        raise ApplicationError(
            site_refusal(
                item_id=item.item_id,
                warehouse_code=item.warehouse.code,
                site=store.site.upper(),
                alternative=_site_alternative(item, store.site),
            ),
            extra={"code": "site_mismatch", "field": "item_id"},
        )
    clash = Mapping.objects.filter(store=store, store_sku=sku).exclude(pk=exclude_pk).select_related("item").first()
    if clash is not None:
        raise ApplicationError(
            _("The store SKU “%(sku)s” of %(store)s is already mapped to %(item)s; edit that mapping instead.")
            % {"sku": sku, "store": store.name, "item": clash.item.item_id},
            extra={"code": "duplicate", "field": "store_sku", "mapping_id": clash.pk},
        )
    return sku, item


def _platform_ids(product_id: str, variant_id: str) -> tuple[str, str]:
    return (
        clean_platform_id(product_id, _("platform product ID")),
        clean_platform_id(variant_id, _("platform variant ID")),
    )


@transaction.atomic
def mapping_create(
    *,
    actor,
    store: Store,
    store_sku: str,
    item: Item | str,
    platform_product_id: str = "",
    platform_variant_id: str = "",
    source: str | None = None,
) -> Mapping:
    user = _acting_user(actor, store)
    sku, item = mapping_validate(store=store, store_sku=store_sku, item=item)
    product_id, variant_id = _platform_ids(platform_product_id, platform_variant_id)
    if source is None:
        source = Mapping.Source.MANUAL if isinstance(actor, Membership) else Mapping.Source.STAFF
    try:
        with transaction.atomic():
            mapping = Mapping.objects.create(
                store=store,
                store_sku=sku,
                item=item,
                platform_product_id=product_id,
                platform_variant_id=variant_id,
                source=source,
                created_by=user,
            )
    except IntegrityError:
        # Someone mapped the same SKU between our check and our insert.
        raise ApplicationError(
            _("The store SKU “%(sku)s” of %(store)s was mapped meanwhile; edit that mapping instead.")
            % {"sku": sku, "store": store.name}
        ) from None
    _announce({store: [sku]})
    return mapping


@transaction.atomic
def mapping_update(
    *,
    actor,
    mapping: Mapping,
    store_sku: str,
    item: Item | str,
    platform_product_id: str = "",
    platform_variant_id: str = "",
) -> Mapping:
    """Change a mapping's store SKU, Item or platform ids (its store stays)."""
    locked = Mapping.objects.select_for_update().select_related("store").get(pk=mapping.pk)
    _acting_user(actor, locked.store)
    sku, item = mapping_validate(store=locked.store, store_sku=store_sku, item=item, exclude_pk=locked.pk)
    product_id, variant_id = _platform_ids(platform_product_id, platform_variant_id)
    moved = (sku, item.pk) != (locked.store_sku, locked.item_id)
    locked.store_sku, locked.item = sku, item
    locked.platform_product_id, locked.platform_variant_id = product_id, variant_id
    try:
        with transaction.atomic():
            locked.save(update_fields=["store_sku", "item", "platform_product_id", "platform_variant_id", "updated_at"])
    except IntegrityError:
        raise ApplicationError(_("The store SKU “%(sku)s” was mapped meanwhile.") % {"sku": sku}) from None
    if moved:
        _announce({locked.store: [sku]})
    return locked


@transaction.atomic
def mapping_delete(*, actor, mapping: Mapping) -> None:
    """Remove a mapping; the SKU goes back to the unmapped queue if orders use it.
    Order lines routed earlier keep their snapshot of the Item."""
    locked = Mapping.objects.select_for_update().select_related("store").filter(pk=mapping.pk).first()
    if locked is None:
        return
    _acting_user(actor, locked.store)
    locked.delete()


# --- suggestions ----------------------------------------------------------------------------------


def _bulk_create_checked(rows: list[RowInput], *, user, source: str) -> int:
    """Create the valid rows that have no mapping yet (never overwriting one); the rest are skipped."""
    plan = plan_rows(rows, create_only=True)
    try:
        with transaction.atomic():
            write_plan(plan, created_by=user, source=source)
    except IntegrityError:
        raise ApplicationError(_("Some of these SKUs were mapped meanwhile; please try again.")) from None
    stores = {row.store.pk: row.store for row in rows}
    _announce({stores[store_id]: skus for store_id, skus in plan.affected.items()})
    return len(plan.new)


@transaction.atomic
def mapping_suggestion_accept(*, actor: Membership, seen_sku: SeenSku) -> Mapping:
    from .selectors import suggestions_for

    _acting_user(actor, seen_sku.store)
    suggestion = suggestions_for([seen_sku]).get(seen_sku.pk)
    if suggestion is None:
        raise ApplicationError(_("There is no suggestion for “%(sku)s” any more.") % {"sku": seen_sku.sku})
    return mapping_create(
        actor=actor, store=seen_sku.store, store_sku=seen_sku.sku, item=suggestion, source=Mapping.Source.SUGGESTION
    )


@transaction.atomic
def mapping_suggestions_accept_all(*, actor: Membership, store: Store | None = None) -> int:
    """Map every unmapped SKU of the distributor (or of `store`) that has a suggestion.

    Works on up to ACCEPT_ALL_LIMIT SKUs, those holding up most orders first; returns
    how many mappings were made."""
    from .selectors import MappingFilters, suggestions_for, unmapped_list

    user = _acting_user(actor, store)
    filters = MappingFilters(store_id=store.pk if store else None)
    seen = list(unmapped_list(distributor=actor.distributor, filters=filters)[:ACCEPT_ALL_LIMIT])
    suggestions = suggestions_for(seen)
    rows = [
        RowInput(number=n, store=s.store, store_text=s.store.name, sku=s.sku, item_id=suggestions[s.pk].item_id)
        for n, s in enumerate(seen, start=1)
        if s.pk in suggestions
    ]
    return _bulk_create_checked(rows, user=user, source=Mapping.Source.SUGGESTION) if rows else 0


# --- store SKUs the platform does not supply ----------------------------------------------------


@transaction.atomic
def seen_sku_not_supplied_set(*, actor, seen_sku: SeenSku, not_supplied: bool = True) -> SeenSku:
    """Mark a store SKU "not supplied by this platform" (its order lines are left out and
    the orders go ahead with the lines we supply), or take the mark back.

    The orders waiting on it are re-evaluated on commit (`mappings_changed`). Taking the
    mark back changes no order already made: orders that arrive later wait for a mapping
    of the SKU again. A mapping of the SKU wins over the mark. Marking twice is a no-op.
    """
    user = _acting_user(actor, seen_sku.store)
    seen = SeenSku.objects.select_for_update().get(pk=seen_sku.pk)
    if seen.is_not_supplied == not_supplied:
        return seen
    seen.not_supplied_at = timezone.now() if not_supplied else None
    seen.not_supplied_by = user if not_supplied else None
    seen.save(update_fields=["not_supplied_at", "not_supplied_by"])
    _announce({seen_sku.store: [seen.sku]})
    return seen


# --- the unmapped-SKU queue, fed by the orders app -------------------------------------------------


def _chunks(values: list, size: int = 2_000):
    for start in range(0, len(values), size):
        yield values[start : start + size]


@transaction.atomic
def store_skus_seen(*, store: Store, skus: MappingType[str, str] | Iterable[str], seen_at=None) -> int:
    """Record store SKUs found on the store's order lines (pulled or imported).

    `skus` is {store SKU: product title on the line} or just SKUs. SKUs are normalised
    (skus.normalise_sku); a blank one is ignored, and so is one longer than the longest
    store SKU a mapping can hold (logged). Safe to repeat and to run concurrently.
    Returns how many distinct SKUs were recorded.
    """
    pairs = skus.items() if isinstance(skus, MappingType) else ((sku, "") for sku in skus)
    titles: dict[str, str] = {}
    for raw, title in pairs:
        sku = normalise_sku(raw)
        if not sku:
            continue
        if len(sku) > SKU_MAX_LENGTH:
            logger.warning("store %s: SKU longer than %d characters not recorded: %r", store.pk, SKU_MAX_LENGTH, sku)
            continue
        titles[sku] = titles.get(sku) or str(title or "").strip()[:255]
    if not titles:
        return 0
    now = seen_at or timezone.now()
    for chunk in _chunks(sorted(titles)):
        known = dict(SeenSku.objects.filter(store=store, sku__in=chunk).values_list("sku", "title"))
        SeenSku.objects.bulk_create(
            [
                SeenSku(store=store, sku=sku, title=titles[sku], first_seen_at=now, last_seen_at=now)
                for sku in chunk
                if sku not in known
            ],
            ignore_conflicts=True,
        )
        SeenSku.objects.filter(store=store, sku__in=[s for s in chunk if s in known], last_seen_at__lt=now).update(
            last_seen_at=now
        )
        for sku in chunk:
            if sku in known and not known[sku] and titles[sku]:
                SeenSku.objects.filter(store=store, sku=sku, title="").update(title=titles[sku])
    return len(titles)


def store_sku_seen(*, store: Store, sku: str, title: str = "", seen_at=None) -> SeenSku | None:
    """store_skus_seen for one SKU; returns its row (None for a blank SKU)."""
    if not store_skus_seen(store=store, skus={sku: title}, seen_at=seen_at):
        return None
    return SeenSku.objects.get(store=store, sku=normalise_sku(sku))


@transaction.atomic
def store_skus_waiting_set(*, store: Store, waiting: MappingType[str, int], replace: bool = False) -> None:
    """Set how many of the store's orders wait on each SKU (absolute numbers).

    With `replace`, every other SKU of the store is set to 0: the orders app can hand
    over the whole picture of a store after re-evaluating it.
    """
    counts: dict[str, int] = {}
    for raw, count in waiting.items():
        sku = normalise_sku(raw)
        if sku and len(sku) <= SKU_MAX_LENGTH:
            counts[sku] = max(0, int(count))
    if replace:
        SeenSku.objects.filter(store=store, waiting_orders__gt=0).exclude(sku__in=list(counts)).update(waiting_orders=0)
    if not counts:
        return
    now = timezone.now()
    by_count: dict[int, list[str]] = defaultdict(list)
    for sku, count in counts.items():
        by_count[count].append(sku)
    for chunk in _chunks(sorted(counts)):
        known = set(SeenSku.objects.filter(store=store, sku__in=chunk).values_list("sku", flat=True))
        SeenSku.objects.bulk_create(
            [
                SeenSku(store=store, sku=sku, first_seen_at=now, last_seen_at=now, waiting_orders=counts[sku])
                for sku in chunk
                if sku not in known
            ],
            ignore_conflicts=True,
        )
    for count, skus in by_count.items():
        for chunk in _chunks(skus):
            SeenSku.objects.filter(store=store, sku__in=chunk).exclude(waiting_orders=count).update(
                waiting_orders=count
            )


# --- batch import ---------------------------------------------------------------------------------


def _import_transition(mapping_import: MappingImport, to_status: str, **fields) -> MappingImport:
    """An import's status moves through MAPPING_IMPORT_MACHINE (row lock, table, event)."""
    return MAPPING_IMPORT_MACHINE.move(
        mapping_import, to_status, fields=fields, message=fields.get("error_message", "")
    )


def _own_import(actor: Membership, mapping_import: MappingImport) -> MappingImport:
    _acting_user(actor)
    if not isinstance(actor, Membership) or mapping_import.distributor_id != actor.distributor_id:
        raise PermissionDeniedError(_("This import belongs to another distributor."))
    return MappingImport.objects.get(pk=mapping_import.pk)


def _read_import_file(mapping_import: MappingImport):
    try:
        with mapping_import.file.open("rb") as handle:
            content = handle.read()
    except (OSError, ValueError):
        raise FileRejected(_("The uploaded file is missing; please upload it again.")) from None
    return read_rows(io.BytesIO(content))[1]


def _keep_rows(mapping_import: MappingImport, sheet_rows) -> str:
    """Keep the rows the preview read beside the file (each cell as the text every rule
    reads it as: `cell_text`), for apply; the name they are kept under ("" when they could
    not be kept: apply then reads the workbook again)."""
    rows = [[row.number, *(cell_text(value) for value in row[1:])] for row in sheet_rows]
    try:
        return keep_beside(mapping_import.file, "rows", rows)
    except OSError:
        logger.warning("the rows of mapping import %s could not be kept; apply reads the file", mapping_import.pk)
        return ""


def _kept_rows(mapping_import: MappingImport):
    """The rows the preview kept, or None when they are gone (apply then reads the file)."""
    try:
        rows = kept_beside(mapping_import.file, mapping_import.rows_name)
        return None if rows is None else [SheetRow(*row) for row in rows]
    except (OSError, ValueError, TypeError):
        return None


def mapping_import_upload(*, actor: Membership, file) -> MappingImport:
    """Store an uploaded file and check it: in this request up to `inline_rows()` rows,
    else by a worker (the page then polls the progress).

    A file that is not an xlsx workbook, lacks a required column, has no rows or more
    than 100,000 is refused at once (FileRejected) and nothing is stored.
    """
    if not isinstance(actor, Membership):
        raise PermissionDeniedError(_("Batch imports are made by the distributor's members."))
    _acting_user(actor)
    name = os.path.basename(getattr(file, "name", "") or "") or "mappings.xlsx"
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    check_upload(name, head, getattr(file, "size", 0) or 0)
    _columns, sheet_rows = read_rows(file)
    file.seek(0)
    background = len(sheet_rows) > inline_rows()
    with transaction.atomic():
        mapping_import = MappingImport.objects.create(
            distributor=actor.distributor,
            created_by=actor.user,
            original_name=name[:255],
            language=translation.get_language() or "",
            total_rows=len(sheet_rows),
            status=MAPPING_IMPORT_MACHINE.initial_status(Status.PREVIEWING if background else Status.UPLOADED),
            file=File(file, name=name),
        )
        if background:
            _enqueue_preview(mapping_import)
    if not background:
        try:
            return mapping_import_preview(mapping_import=mapping_import, sheet_rows=sheet_rows)
        except Exception:
            mapping_import_fail(
                mapping_import=mapping_import,
                message=_("An unexpected error stopped this import. Please upload the file again or contact staff."),
            )
            raise
    return mapping_import


def _enqueue_preview(mapping_import: MappingImport) -> None:
    from .tasks import mapping_import_preview_task

    transaction.on_commit(lambda pk=mapping_import.pk: mapping_import_preview_task.delay(pk))


def _enqueue_apply(mapping_import: MappingImport, actor: Membership) -> None:
    from .tasks import mapping_import_apply_task

    transaction.on_commit(lambda pk=mapping_import.pk, member=actor.pk: mapping_import_apply_task.delay(pk, member))


def _progress_writer(mapping_import: MappingImport):
    def write(done: int) -> None:
        # Outside any transaction, so the page polling the row sees it at once.
        MappingImport.objects.filter(pk=mapping_import.pk).update(
            processed_rows=min(done, mapping_import.total_rows), updated_at=timezone.now()
        )

    return write


def mapping_import_preview(*, mapping_import: MappingImport, sheet_rows=None) -> MappingImport:
    """Check every row and store the verdict (new, changed, unchanged, rejected with
    reasons); write no mapping. Safe to run again: a previewed import is left as it is."""
    current = MappingImport.objects.select_related("distributor").get(pk=mapping_import.pk)
    if current.status == Status.PREVIEWED:
        return current
    _import_transition(current, Status.PREVIEWING, processed_rows=0, error_message="")
    with translation.override(current.language or settings.LANGUAGE_CODE):
        try:
            if sheet_rows is None:
                sheet_rows = _read_import_file(current)
        except FileRejected as exc:
            return _import_transition(current, Status.FAILED, error_message=str(exc))
        rows = rows_from_sheet(sheet_rows, StoreResolver(current.distributor))
        plan = plan_rows(rows, progress=_progress_writer(current))
        rows_name = _keep_rows(current, sheet_rows)
    with transaction.atomic():
        locked = MappingImport.objects.select_for_update().get(pk=current.pk)
        if locked.status == Status.PREVIEWED:  # another run of the same task finished first
            return locked
        return _import_transition(
            locked,
            Status.PREVIEWED,
            total_rows=plan.total,
            processed_rows=plan.total,
            new_count=len(plan.new),
            changed_count=len(plan.changed),
            unchanged_count=plan.unchanged,
            rejected_count=len(plan.rejected),
            rejected_rows=plan.rejected,
            changes_sample=plan.changes_sample,
            previewed_at=timezone.now(),
            rows_name=rows_name,
        )


def mapping_import_confirm(*, actor: Membership, mapping_import: MappingImport) -> MappingImport:
    """[Confirm]: apply a previewed import, in this request or (large files) by a worker."""
    current = _own_import(actor, mapping_import)
    if current.status == Status.APPLIED:
        raise ImportAlreadyApplied(
            _("This file was already applied on %(date)s; nothing was changed now.")
            % {"date": timezone.localtime(current.applied_at).strftime("%Y-%m-%d %H:%M")}
        )
    if current.status == Status.APPLYING and not current.is_stale:
        raise ApplicationError(_("This file is being applied; the page shows when it is done."))
    if current.status not in (Status.PREVIEWED, Status.APPLYING):
        raise ApplicationError(
            _("This file cannot be applied: it is %(status)s.") % {"status": current.get_status_display()}
        )
    if current.to_apply == 0:
        raise ApplicationError(_("Nothing to apply: the file has no new or changed mappings."))
    if current.total_rows > inline_rows():
        with transaction.atomic():
            current = _import_transition(current, Status.APPLYING, error_message="", attempts=0)
            _enqueue_apply(current, actor)
        return current
    return mapping_import_apply(actor=actor, mapping_import=current)


def mapping_import_apply(*, actor: Membership, mapping_import: MappingImport) -> MappingImport:
    """Check every row again against the database as it is now and write the new and
    changed mappings, all in one transaction; running it again changes nothing.

    If anything refuses the whole (rights lost, a SKU mapped by someone else meanwhile),
    nothing is written and the import returns to "ready to confirm" with the reason.
    """
    try:
        with transaction.atomic():
            locked = MappingImport.objects.select_for_update().select_related("distributor").get(pk=mapping_import.pk)
            if locked.status == Status.APPLIED:
                return locked
            if locked.status not in (Status.PREVIEWED, Status.APPLYING):
                raise ApplicationError(
                    _("This file cannot be applied: it is %(status)s.") % {"status": locked.get_status_display()}
                )
            user = _acting_user(actor)
            if actor.distributor_id != locked.distributor_id:
                raise PermissionDeniedError(_("This import belongs to another distributor."))
            with translation.override(locked.language or settings.LANGUAGE_CODE):
                resolver = StoreResolver(locked.distributor)
                rows = rows_from_sheet(_kept_rows(locked) or _read_import_file(locked), resolver)
                plan = plan_rows(rows)
                try:
                    with transaction.atomic():
                        write_plan(plan, created_by=user, source=Mapping.Source.IMPORT)
                except IntegrityError:
                    raise ApplicationError(
                        _("Some store SKUs in the file were mapped by someone else meanwhile. Nothing was applied.")
                    ) from None
            locked = _import_transition(
                locked,
                Status.APPLIED,
                processed_rows=plan.total,
                new_count=len(plan.new),
                changed_count=len(plan.changed),
                unchanged_count=plan.unchanged,
                rejected_count=len(plan.rejected),
                rejected_rows=plan.rejected,
                changes_sample=plan.changes_sample,
                error_message="",
                applied_at=timezone.now(),
                applied_by=user,
            )
            _announce({resolver.by_id[store_id]: skus for store_id, skus in plan.affected.items()})
            return locked
    except FileRejected as exc:
        mapping_import_fail(mapping_import=mapping_import, message=str(exc))
        raise
    except ApplicationError as exc:
        current = MappingImport.objects.get(pk=mapping_import.pk)
        if current.status in (Status.PREVIEWED, Status.APPLYING):
            _import_transition(current, Status.PREVIEWED, error_message=str(exc))
        raise


def mapping_import_resume(*, actor: Membership, mapping_import: MappingImport) -> MappingImport:
    """Start again an import whose worker was lost (its progress stopped moving)."""
    current = _own_import(actor, mapping_import)
    if not current.is_stale:
        raise ApplicationError(_("This import is not stuck; nothing to start again."))
    if current.status == Status.APPLYING:
        with transaction.atomic():
            current = _import_transition(current, Status.APPLYING, attempts=0)
            _enqueue_apply(current, actor)
        return current
    with transaction.atomic():
        current = _import_transition(current, Status.PREVIEWING, processed_rows=0, attempts=0)
        _enqueue_preview(current)
    return current


def mapping_import_attempt(*, mapping_import: MappingImport) -> bool:
    """Count a delivery of the import's background task (distribution/deliveries.py);
    False, and the import failed with the reason, once the file stopped the importer
    MAX_ATTEMPTS times."""
    if delivery_start(mapping_import):
        return True
    logger.error("mapping import %s stopped its worker %d times; giving up", mapping_import.pk, MAX_ATTEMPTS)
    mapping_import_fail(mapping_import=mapping_import, message=given_up_message())
    return False


def mapping_import_attempt_done(*, mapping_import: MappingImport) -> None:
    delivery_end(mapping_import)


def mapping_import_fail(*, mapping_import: MappingImport, message: str) -> MappingImport:
    """Record why a background run gave up, for the page and for staff."""
    current = MappingImport.objects.get(pk=mapping_import.pk)
    if Status.FAILED not in IMPORT_TRANSITIONS[current.status]:
        return current
    return _import_transition(current, Status.FAILED, error_message=str(message)[:2000])
