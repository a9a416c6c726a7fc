"""Step 5, the services: take in platform orders (poll, webhook, import), never twice.

A platform order is upserted by `(store, external_id)` under a row lock (an
IntegrityError from a concurrent insert means "someone else created it": re-read it);
an unchanged content hash is a no-op. A new platform order that the rule in
`orders.rules` accepts becomes distribution orders (routing.py); a later change goes
through changes.py.
"""

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import InvalidOperation
from enum import StrEnum

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import get_language

from distribution.bulk import JSONText, blueprint, bulk_insert
from distribution.errors import ApplicationError
from distribution.state import clip
from orders import mapping_port, rules
from orders.ingest.changes import apply_change, snapshot
from orders.ingest.normalize import OrderExtras, content_hash, platform_fields, raw_payload, validate
from orders.ingest.reevaluate import waiting_refresh
from orders.ingest.routing import build_orders, save_built, verdict_for_lines
from orders.models import (
    Disposition,
    IngestionError,
    Order,
    OrderStatus,
    PlatformOrder,
)
from stores.platforms.base import (
    NormalizedOrder,
    PayloadError,
)

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass
class IngestSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    orders_created: int = 0
    # The largest platform update time among the orders taken in (for the pull cursor).
    latest_update: object = None
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome, *, orders_created: int = 0) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)
        self.orders_created += orders_created

    def merge(self, other: "IngestSummary") -> None:
        for name in ("created", "updated", "unchanged", "failed", "orders_created"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        if other.latest_update and (self.latest_update is None or other.latest_update > self.latest_update):
            self.latest_update = other.latest_update

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged + self.failed


def ingestion_error_record(*, store, source: str, external_id: str = "", reason: str, payload=None) -> IngestionError:
    """Keep a rejected order for staff; the same failure again only counts up."""
    reason = clip(reason, 1000)
    fingerprint = hashlib.sha256(f"{external_id}\x00{reason}".encode()).hexdigest()
    try:
        json.dumps(payload)
    except (TypeError, ValueError):
        payload = {"unreadable": repr(payload)[:2000]}
    existing = IngestionError.objects.filter(store=store, fingerprint=fingerprint)
    if existing.update(occurrences=F("occurrences") + 1, last_seen_at=timezone.now()):
        return existing.get()
    try:
        with transaction.atomic():
            return IngestionError.objects.create(
                store=store,
                source=source,
                external_id=clip(external_id, 100),
                reason=reason,
                fingerprint=fingerprint,
                payload=payload if payload is not None else {},
            )
    except IntegrityError:
        existing.update(occurrences=F("occurrences") + 1, last_seen_at=timezone.now())
        return existing.get()


def _ingest_one(*, store, order: NormalizedOrder, source: str, extras: OrderExtras, resolved) -> tuple[Outcome, int]:
    digest = content_hash(order, extras)
    fields = platform_fields(order, source=source, extras=extras, digest=digest)
    # FOR NO KEY UPDATE: the platform order's key never changes, so rows that only point at
    # it (fulfilment's tracking syncs) are not blocked by, and never deadlock with, this lock.
    po = PlatformOrder.objects.select_for_update(no_key=True).filter(store=store, external_id=order.external_id).first()
    created = False
    if po is None:
        try:
            with transaction.atomic():
                po = PlatformOrder.objects.create(store=store, external_id=order.external_id, **fields)
                created = True
        except IntegrityError:
            # Created meanwhile by another worker (a webhook beside a pull): take theirs.
            po = PlatformOrder.objects.select_for_update().get(store=store, external_id=order.external_id)
    if not created and po.content_hash == digest:
        return Outcome.UNCHANGED, 0
    before = snapshot(po) if not created else None
    if not created:
        fields.pop("source")  # where we first saw it stays on the row
        for name, value in fields.items():
            setattr(po, name, value)
    if resolved is None:
        resolved = mapping_port.resolve(store=store, skus=[line["sku"] for line in po.lines])
    verdict = verdict_for_lines(rules.verdict(order, platform=store.platform), po, resolved)
    po.disposition, po.disposition_reason = verdict.disposition, clip(verdict.reason, 300)
    if created:
        po.save(update_fields=["disposition", "disposition_reason"])
        made = len(save_built(build_orders(po, store, resolved))) if verdict.convert else 0
        return Outcome.CREATED, made
    po.save()
    made = apply_change(po, store, before, verdict, order, resolved)
    if made or po.orders.exclude(status__in=[OrderStatus.SUPERSEDED, OrderStatus.CANCELLED]).exists():
        PlatformOrder.objects.filter(pk=po.pk).update(disposition=Disposition.CONVERTED)
    return Outcome.UPDATED, made


@dataclass(frozen=True)
class IngestResult:
    outcome: Outcome
    orders_created: int = 0
    error: str = ""


def platform_order_ingest(
    *,
    store,
    order: NormalizedOrder,
    source: str,
    extras: OrderExtras | None = None,
    resolved=None,
    update_queue: bool = True,
) -> IngestResult:
    """Take in one platform order (poll, webhook, import): upsert, convert or update, never twice.

    A malformed order is recorded as an IngestionError and reported, never raised, so
    the caller's other orders proceed.
    """
    extras = extras or OrderExtras()
    try:
        validate(order)
        with transaction.atomic():
            outcome, made = _ingest_one(store=store, order=order, source=source, extras=extras, resolved=resolved)
    except (ApplicationError, DatabaseError, InvalidOperation, ValueError, TypeError, KeyError) as exc:
        logger.info("order %s of store %s rejected: %s", order.external_id, store.pk, exc)
        ingestion_error_record(
            store=store,
            source=source,
            external_id=order.external_id or "",
            reason=str(exc),
            payload=raw_payload(order),
        )
        return IngestResult(Outcome.FAILED, error=str(exc))
    if update_queue and outcome != Outcome.UNCHANGED:
        _feed_queue(store, [order])
    return IngestResult(outcome, made)


def platform_orders_ingest(
    *,
    store,
    orders: Sequence[NormalizedOrder],
    source: str,
    extras: Mapping[str, OrderExtras] | None = None,
    update_queue: bool = True,
) -> IngestSummary:
    """Take in a page of platform orders at once: the same rules as `platform_order_ingest`.

    New orders are written with a few bulk inserts (one SKU lookup, one insert each of
    platform orders, orders, lines and events per call) so a pull or a large import
    runs at thousands of orders a second; changed ones and any batch that meets a
    conflict (a concurrent webhook or worker) take the one-by-one path, which handles it.
    Cost: memory for one page of orders; callers pass pages of a few hundred.
    """
    extras = extras or {}
    summary = IngestSummary()
    valid: dict[str, NormalizedOrder] = {}
    for order in orders:
        try:
            validate(order)
        except PayloadError as exc:
            ingestion_error_record(
                store=store,
                source=source,
                external_id=order.external_id or "",
                reason=str(exc),
                payload=raw_payload(order),
            )
            summary.add(Outcome.FAILED)
            summary.errors.append(f"{order.external_id or '?'}: {exc}")
            continue
        valid[order.external_id] = order  # the last copy of a repeated order wins
        if order.updated_at and (summary.latest_update is None or order.updated_at > summary.latest_update):
            summary.latest_update = order.updated_at
    if not valid:
        return summary
    digests = {eid: content_hash(order, extras.get(eid, OrderExtras())) for eid, order in valid.items()}
    one_by_one: list[str] = []
    with transaction.atomic():
        known = dict(
            PlatformOrder.objects.filter(store=store, external_id__any_of=list(valid)).values_list(
                "external_id", "content_hash"
            )
        )
        fresh = [eid for eid in valid if eid not in known]
        one_by_one = [eid for eid in valid if eid in known and known[eid] != digests[eid]]
        summary.unchanged += sum(1 for eid in valid if known.get(eid) == digests[eid])
        skus = {mapping_port.normalise_sku(line.sku) for eid in fresh + one_by_one for line in valid[eid].lines}
        resolved = mapping_port.resolve(store=store, skus=skus)
        if fresh:
            try:
                with transaction.atomic():
                    made = _bulk_create(store, [valid[eid] for eid in fresh], source, extras, digests, resolved)
                summary.created += len(fresh)
                summary.orders_created += made
            except (IntegrityError, DatabaseError, ApplicationError, InvalidOperation, ValueError) as exc:
                logger.info("bulk ingest of %d orders fell back to one by one: %s", len(fresh), exc)
                one_by_one = fresh + one_by_one
    for eid in one_by_one:
        result = platform_order_ingest(
            store=store, order=valid[eid], source=source, extras=extras.get(eid), resolved=resolved, update_queue=False
        )
        summary.add(result.outcome, orders_created=result.orders_created)
        if result.error:
            summary.errors.append(f"{eid}: {result.error}")
    if update_queue:
        _feed_queue(store, valid.values())
    return summary


def _feed_queue(store, orders: Iterable[NormalizedOrder]) -> None:
    """Tell mapping's unmapped-SKU queue what arrived, and how many orders now wait on what."""
    skus = {}
    for order in orders:
        for line in order.lines:
            sku = mapping_port.normalise_sku(line.sku)
            if sku and line.requires_shipping:
                skus.setdefault(sku, clip(line.title, 255))
    mapping_port.record_seen(store=store, titles=skus)
    if Order.objects.filter(store=store, status=OrderStatus.PENDING_MAPPING).exists() or skus:
        waiting_refresh(store=store)


def _bulk_create(store, orders: list[NormalizedOrder], source: str, extras, digests, resolved) -> int:
    platform_orders = []
    for order in orders:
        fields = platform_fields(
            order,
            source=source,
            extras=extras.get(order.external_id, OrderExtras()),
            digest=digests[order.external_id],
            raw_as_text=True,
        )
        po = blueprint(PlatformOrder).new(store_id=store.pk, external_id=order.external_id, **fields)
        verdict = verdict_for_lines(rules.verdict(order, platform=store.platform), po, resolved)
        po.disposition, po.disposition_reason = verdict.disposition, clip(verdict.reason, 300)
        platform_orders.append(po)
    bulk_insert(PlatformOrder, platform_orders)
    for po, order in zip(platform_orders, orders, strict=True):
        if type(po.raw) is JSONText:
            po.raw = order.raw  # the instance holds the payload, as one read back would
    built = []
    language = get_language() or ""
    for po in platform_orders:
        if po.disposition == Disposition.CONVERTED:
            built.extend(build_orders(po, store, resolved, language=language))
    if built:
        save_built(built)
    return len(built)
