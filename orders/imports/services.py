"""Step 6, the services: an order file uploaded, checked (the preview), then applied.

Applying is idempotent: every order goes through `platform_orders_ingest` by
`(store, Order No)`, so a second apply, or a second import of the same file, finds
every order unchanged and creates nothing.
"""

import hashlib
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.deliveries import MAX_ATTEMPTS, delivery_end, delivery_start, given_up_message
from distribution.errors import ApplicationError
from distribution.kept import keep_beside, kept_beside
from distribution.models import Membership, Section
from distribution.spreadsheet import excerpt
from distribution.state import clip
from distribution.tenancy import ensure_can_act
from orders.imports import format as orderfile
from orders.ingest.normalize import OrderExtras
from orders.ingest.service import IngestSummary, platform_orders_ingest
from orders.models import (
    OrderImport,
    PlatformOrder,
)
from orders.state import ORDER_IMPORT_MACHINE
from stores.platforms.base import (
    CancelStatus,
    FinancialStatus,
    FulfillmentStatus,
    NormalizedAddress,
    NormalizedBuyer,
    NormalizedLine,
    NormalizedOrder,
)

logger = logging.getLogger(__name__)


IMPORT_INLINE_BYTES = 256 * 1024
# Orders per ingestion batch when applying a file: a few hundred keep each transaction
# short (a second or less) and the progress bar moving; memory is one batch of orders.
IMPORT_BATCH = 1000
# Progress is written every this many rows while checking (one UPDATE each).
PROGRESS_EVERY = 2_000
# A running import whose row has not moved for this long lost its worker.
IMPORT_STALE_AFTER = timedelta(minutes=10)
# A left-out order is named with its first rows and the first few of its problems.
ROWS_SHOWN = 20
PROBLEMS_KEPT = 3
# A file whose background run killed its worker this many times in a row is given up.


def import_inline_bytes() -> int:
    return int(getattr(settings, "ORDER_IMPORT_INLINE_BYTES", IMPORT_INLINE_BYTES))


def order_import_create(*, actor: Membership, store, upload) -> OrderImport:
    """Keep an uploaded order file (refusing what cannot be one) for checking."""
    ensure_can_act(actor, Section.ORDERS)
    if store is not None and (store.distributor_id != actor.distributor_id or store.removed_at is not None):
        raise ApplicationError(_("Not found."))
    if store is not None and store.has_api:
        raise ApplicationError(_api_store_refusal(store))
    name = os.path.basename(upload.name or "orders")
    if upload.size > orderfile.MAX_FILE_BYTES:
        raise orderfile.FileRejected(
            _("The file is larger than %(mb)d MB; split it.") % {"mb": orderfile.MAX_FILE_BYTES // (1024 * 1024)}
        )
    head = upload.read(8)
    upload.seek(0)
    orderfile.kind_of(name, head)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return OrderImport.objects.create(
        distributor=actor.distributor,
        store=store,
        uploaded_by=actor.user,
        file=File(upload, name=name),
        original_name=name[:255],
        sha256=digest.hexdigest(),
    )


@dataclass
class ParsedFile:
    total_rows: int = 0
    orders: dict = field(default_factory=dict)  # (store id, order no) -> FileOrder
    errors: list = field(default_factory=list)
    error_rows: set = field(default_factory=set)
    stores: dict = field(default_factory=dict)  # store id -> Store

    def valid_orders(self):
        return [order for order in self.orders.values() if not order.errors]


def _api_store_refusal(store) -> str:
    return _("“%(name)s” sends its orders through its platform's API; order files are for stores without an API.") % {
        "name": store.name
    }


def _store_resolver(order_import: OrderImport):
    from stores.models import Store

    stores = list(Store.objects.present().filter(distributor_id=order_import.distributor_id))
    by_name = {}
    for store in stores:
        by_name.setdefault(store.name.strip().lower(), store)
    chosen = order_import.store

    def resolve(name: str):
        if not name:
            if chosen is None:
                return None, _("Name the store, or choose the store before uploading.")
            return chosen, ""
        store = by_name.get(name.strip().lower())
        if store is None:
            return None, _("You have no store named “%(name)s”.") % {"name": excerpt(name)}
        if store.has_api:
            return None, _api_store_refusal(store)
        if chosen is not None and store.pk != chosen.pk:
            return None, _("This file is imported into “%(chosen)s”, but the row names “%(name)s”.") % {
                "chosen": chosen.name,
                "name": excerpt(name),
            }
        return store, ""

    return resolve


ORDER_VALUES = (*orderfile.ORDER_LEVEL, orderfile.EMAIL, orderfile.ORDER_DATE, orderfile.LOGISTICS, orderfile.REMARK)


def _parse_import(order_import: OrderImport, *, on_progress=None) -> ParsedFile:
    from mapping.skus import clean_sku as clean

    known_skus: dict = {}

    def clean_sku(value):
        # A file names a few hundred SKUs over many rows: clean each once.
        key = (type(value), value)
        if key not in known_skus:
            try:
                known_skus[key] = (clean(value), None)
            except ApplicationError as exc:
                known_skus[key] = (None, exc)
        sku, error = known_skus[key]
        if error is not None:
            raise error
        return sku

    parsed = ParsedFile()
    kind = orderfile.kind_of(order_import.original_name, _file_head(order_import))
    total, rows = orderfile.open_rows(order_import.file.path, kind)
    parsed.total_rows = max(total - 1, 0)
    resolve_store = _store_resolver(order_import)
    col = orderfile  # the column names read better qualified

    first_error: dict = {}  # order key -> the first of its errors kept, where its summary goes

    def fail(row: int, column: str, message, *, order_no: str, key) -> None:
        parsed.error_rows.add(row)
        message = clip(message, 500)
        order = parsed.orders.get(key)
        if order is not None:
            order.errors = True
            if len(order.problems) < PROBLEMS_KEPT:
                order.problems.append(
                    _("Row %(row)d, %(column)s: %(message)s") % {"row": row, "column": column, "message": message}
                )
        if len(parsed.errors) < OrderImport.ERRORS_KEPT:
            error = orderfile.RowError(row, column, message).as_dict()
            error["order"] = order_no
            parsed.errors.append(error)
            if order is not None:
                first_error.setdefault(key, error)

    seen = 0
    for row in rows:
        seen += 1
        if on_progress is not None and seen % PROGRESS_EVERY == 0:
            on_progress(seen, parsed.total_rows)
        cleaned, errors = orderfile.check_row(row, clean_sku)
        store, problem = resolve_store(cleaned[col.STORE])
        if problem:
            errors.append(orderfile.RowError(row.number, col.STORE, str(problem)))
        order_no = cleaned[col.ORDER_NO]
        if store is not None:
            parsed.stores[store.pk] = store
            key = (store.pk, order_no)
        else:
            # A row naming a store we cannot import into still holds an order of the file:
            # one with errors, counted and named like any other.
            key = (("?", cleaned[col.STORE].lower()), order_no)
        order = parsed.orders.get(key) if order_no else None
        if order is None and order_no:
            order = orderfile.FileOrder(
                store_key=cleaned[col.STORE],
                order_no=order_no,
                first_row=row.number,
                values={name: cleaned.get(name) for name in ORDER_VALUES},
            )
            parsed.orders[key] = order
        elif order is not None:
            for column in col.ORDER_LEVEL:
                if cleaned[column] and order.values[column] and cleaned[column] != order.values[column]:
                    errors.append(
                        orderfile.RowError(
                            row.number,
                            column,
                            _("Rows of order %(no)s disagree: row %(first)d says “%(was)s”.")
                            % {"no": excerpt(order_no), "first": order.first_row, "was": excerpt(order.values[column])},
                        )
                    )
                elif cleaned[column] and not order.values[column]:
                    order.values[column] = cleaned[column]
            if cleaned[col.REMARK] and cleaned[col.REMARK] not in order.values[col.REMARK]:
                order.values[col.REMARK] = "; ".join(v for v in (order.values[col.REMARK], cleaned[col.REMARK]) if v)
        for error in errors:
            fail(error.row, error.column, error.message, order_no=order_no, key=key)
        if order is None:
            continue  # no Order No: the row's errors say so, and it belongs to no order
        order.rows.append(row.number)
        if errors:
            continue
        for line in order.lines:
            if line.sku == cleaned[col.SKU]:
                line.quantity += cleaned[col.QUANTITY]
                break
        else:
            order.lines.append(orderfile.FileLine(row.number, cleaned[col.SKU], cleaned[col.QUANTITY]))
    # Rows are the data rows that hold something: blank rows, and the trailing newline a
    # CSV ends with, count in neither format, so one content gives one count.
    parsed.total_rows = seen
    for key, error in first_error.items():
        order = parsed.orders[key]
        error["left_out"] = {
            "rows": order.rows[:ROWS_SHOWN],
            "row_count": len(order.rows),
            "reason": clip("; ".join(order.problems), 500),
        }
    return parsed


def order_import_encoding(*, order_import: OrderImport) -> str:
    """The text encoding a CSV order file was read in, for the preview page ("" for xlsx).

    Found again from the file rather than stored: the detection reads only the file's
    first non-ASCII stretch and is deterministic, so it names what the check used."""
    try:
        if orderfile.kind_of(order_import.original_name, _file_head(order_import)) != "csv":
            return ""
        return orderfile.file_encoding(order_import.file.path)
    except (OSError, ValueError, orderfile.FileRejected):
        return ""


def _file_head(order_import: OrderImport) -> bytes:
    with order_import.file.open("rb") as handle:
        return handle.read(8)


def _file_order_normalized(order: "orderfile.FileOrder", store) -> tuple[NormalizedOrder, OrderExtras]:
    col = orderfile
    values = order.values
    address = NormalizedAddress(
        name=values[col.RECIPIENT],
        phone=values[col.PHONE],
        email=values[col.EMAIL],
        address1=values[col.ADDRESS1],
        address2=values[col.ADDRESS2],
        city=values[col.CITY],
        province=values[col.PROVINCE],
        postal_code=values[col.POSTCODE],
        country_code=values[col.COUNTRY],
    )
    normalized = NormalizedOrder(
        platform=store.platform,
        external_id=order.order_no,
        display_number=order.order_no,
        created_at=values[col.ORDER_DATE],
        updated_at=None,
        currency=store.currency,
        financial_status=FinancialStatus.PAID,
        fulfillment_status=FulfillmentStatus.UNFULFILLED,
        cancel_status=CancelStatus.NONE,
        platform_status="imported",
        buyer=NormalizedBuyer(name=values[col.RECIPIENT], email=values[col.EMAIL], phone=values[col.PHONE]),
        shipping_address=address,
        lines=tuple(
            NormalizedLine(external_line_id=line.sku, sku=line.sku, quantity=line.quantity, unit_price=None)
            for line in order.lines
        ),
        raw={"rows": order.rows},
    )
    return normalized, OrderExtras(logistics=values[col.LOGISTICS], remark=values[col.REMARK])


def _import_progress(order_import: OrderImport, done: int, total: int) -> None:
    OrderImport.objects.filter(pk=order_import.pk).update(
        processed_rows=done, total_rows=max(total, done), updated_at=timezone.now()
    )


def order_import_attempt(*, order_import: OrderImport) -> bool:
    """Count a delivery of the import's background task (distribution/deliveries.py);
    False, and the import failed with the reason, once the file stopped the importer
    MAX_ATTEMPTS times."""
    if delivery_start(order_import):
        return True
    logger.error("order import %s stopped its worker %d times; giving up", order_import.pk, MAX_ATTEMPTS)
    _import_fail(order_import, given_up_message())
    return False


def order_import_attempt_done(*, order_import: OrderImport) -> None:
    delivery_end(order_import)


def order_import_fail(*, order_import: OrderImport, message: str) -> OrderImport:
    """Record why an import stopped, where the distributor (and staff) can see it."""
    return _import_fail(order_import, message)


def _import_fail(order_import: OrderImport, message: str) -> OrderImport:
    current = OrderImport.objects.get(pk=order_import.pk)
    if not ORDER_IMPORT_MACHINE.allowed(current.status, OrderImport.Status.FAILED):
        return current  # finished meanwhile (a redelivered task): what it says stands
    return ORDER_IMPORT_MACHINE.move(
        order_import,
        OrderImport.Status.FAILED,
        message=message,
        fields={"message": clip(message, 500), "finished_at": timezone.now()},
    )


def order_import_check(*, order_import: OrderImport) -> OrderImport:
    """Read and check every row (nothing is written but the verdict): the preview.

    Counts every order the file holds (order_count), and of those to import how many
    are new and how many were imported before; the others are left out. Keeps the first
    errors with their row numbers, each naming its order ("order"); the first error of
    each left-out order also carries "left_out": its rows and why it is left out.
    """
    try:
        parsed = _parse_import(
            order_import, on_progress=lambda done, total: _import_progress(order_import, done, total)
        )
    except orderfile.FileRejected as exc:
        return _import_fail(order_import, exc.message)
    valid = parsed.valid_orders()
    existing = 0
    by_store: dict[int, list[str]] = {}
    for (store_id, order_no), order in parsed.orders.items():
        if not order.errors:
            by_store.setdefault(store_id, []).append(order_no)
    for store_id, numbers in by_store.items():
        for start in range(0, len(numbers), 1000):
            existing += PlatformOrder.objects.filter(
                store_id=store_id, external_id__in=numbers[start : start + 1000]
            ).count()
    left_out = len(parsed.orders) - len(valid)
    if parsed.orders:
        message = _(
            "Orders in the file: %(total)d — %(to_import)d to import (%(new)d new, %(existing)d already imported), "
            "%(left_out)d left out."
        ) % {
            "total": len(parsed.orders),
            "to_import": len(valid),
            "new": len(valid) - existing,
            "existing": existing,
            "left_out": left_out,
        }
    elif not parsed.errors:
        message = _("The file holds no order.")
    else:
        message = ""
    verdict = {
        "total_rows": parsed.total_rows,
        "processed_rows": parsed.total_rows,
        # Every order of the file, those left out included: to import = new + existing.
        "order_count": len(parsed.orders),
        "existing_count": existing,
        "new_count": len(valid) - existing,
        "error_count": len(parsed.error_rows),
        "errors": parsed.errors,
        "message": clip(message, 500),
    }
    if valid:
        verdict["checked_name"] = _save_checked(order_import, parsed)
    return ORDER_IMPORT_MACHINE.move(
        order_import, OrderImport.Status.READY if valid else OrderImport.Status.INVALID, fields=verdict
    )


def _save_checked(order_import: OrderImport, parsed: ParsedFile) -> str:
    """Keep the checked orders beside the file, so applying does not read and check every
    row again (half the work of a large file). The upload itself never changes."""
    orders = []
    for (store_id, _number), order in parsed.orders.items():
        if order.errors:
            continue
        values = dict(order.values)
        if values.get(orderfile.ORDER_DATE) is not None:
            values[orderfile.ORDER_DATE] = values[orderfile.ORDER_DATE].isoformat()
        orders.append(
            [store_id, order.order_no, order.first_row, order.rows, values, [[x.sku, x.quantity] for x in order.lines]]
        )
    data = {"sha256": order_import.sha256, "total_rows": parsed.total_rows, "orders": orders}
    return keep_beside(order_import.file, "checked", data)


def _load_checked(order_import: OrderImport) -> ParsedFile | None:
    from stores.models import Store

    data = kept_beside(order_import.file, order_import.checked_name)
    if data is None or data.get("sha256") != order_import.sha256:
        return None
    parsed = ParsedFile(total_rows=data["total_rows"])
    store_ids = {entry[0] for entry in data["orders"]}
    # A store removed since the check is no longer imported into.
    parsed.stores = Store.objects.present().filter(distributor_id=order_import.distributor_id).in_bulk(store_ids)
    for store_id, order_no, first_row, rows, values, lines in data["orders"]:
        if values.get(orderfile.ORDER_DATE):
            values[orderfile.ORDER_DATE] = datetime.fromisoformat(values[orderfile.ORDER_DATE])
        order = orderfile.FileOrder(
            store_key="",
            order_no=order_no,
            first_row=first_row,
            values=values,
            rows=rows,
            errors=store_id not in parsed.stores,
        )
        order.lines = [orderfile.FileLine(first_row, sku, quantity) for sku, quantity in lines]
        parsed.orders[(store_id, order_no)] = order
    return parsed


def order_import_start_apply(*, actor: Membership, order_import: OrderImport) -> OrderImport:
    """[Confirm]: mark the import as being applied; only one confirm wins."""
    ensure_can_act(actor, Section.ORDERS)
    with transaction.atomic():
        locked = OrderImport.objects.select_for_update().get(pk=order_import.pk)
        stale = locked.updated_at < timezone.now() - IMPORT_STALE_AFTER
        if locked.status == OrderImport.Status.READY or (locked.status == OrderImport.Status.APPLYING and stale):
            return ORDER_IMPORT_MACHINE.move(
                order_import,
                OrderImport.Status.APPLYING,
                actor=actor.user,
                fields={"processed_rows": 0, "message": "", "attempts": 0},
            )
    order_import.refresh_from_db()
    if order_import.status == OrderImport.Status.DONE:
        raise ApplicationError(_("This file was imported already."))
    if order_import.status == OrderImport.Status.APPLYING:
        raise ApplicationError(_("This file is being imported."))
    raise ApplicationError(
        _("This file cannot be imported: %(status)s.") % {"status": order_import.get_status_display()}
    )


def order_import_apply(*, order_import: OrderImport) -> OrderImport:
    """Create the file's orders (those without errors) in batches, idempotently.

    Applies the orders the check kept (or checks the file again if they are gone); each
    order goes through `platform_orders_ingest` by `(store, Order No)`, so a second
    apply, or a second import of the same file, finds every order unchanged and creates
    nothing.
    """
    try:
        parsed = _load_checked(order_import) or _parse_import(order_import)
    except orderfile.FileRejected as exc:
        return _import_fail(order_import, exc.message)
    summary = IngestSummary()
    done_rows = 0
    valid = parsed.valid_orders()
    by_store: dict[int, list] = {}
    for (store_id, _number), order in parsed.orders.items():
        if not order.errors:
            by_store.setdefault(store_id, []).append(order)
    for store_id, orders in by_store.items():
        store = parsed.stores[store_id]
        for start in range(0, len(orders), IMPORT_BATCH):
            batch = orders[start : start + IMPORT_BATCH]
            normalized, extras = [], {}
            for order in batch:
                order_normalized, order_extras = _file_order_normalized(order, store)
                normalized.append(order_normalized)
                extras[order.order_no] = order_extras
            summary.merge(
                platform_orders_ingest(
                    store=store, orders=normalized, source=PlatformOrder.Source.IMPORT, extras=extras
                )
            )
            done_rows += sum(len(order.rows) for order in batch)
            _import_progress(order_import, done_rows, parsed.total_rows)
    order_import.refresh_from_db()
    message = _(
        "%(created)d new order(s), %(orders)d distribution order(s) made, %(same)d already imported, %(failed)d failed."
    ) % {
        "created": summary.created,
        "orders": summary.orders_created,
        "same": summary.unchanged + summary.updated,
        "failed": summary.failed,
    }
    # order_count is the check's count of every order in the file; the rest were left out.
    left_out = max(order_import.order_count - len(valid), 0)
    if left_out:
        message += " " + _("%(n)d order(s) left out.") % {"n": left_out}
    message = clip(message, 500)
    return ORDER_IMPORT_MACHINE.move(
        order_import,
        OrderImport.Status.DONE,
        fields={
            "processed_rows": order_import.total_rows,
            "new_count": summary.created,
            "existing_count": summary.unchanged + summary.updated,
            "message": message,
            "finished_at": timezone.now(),
        },
    )
