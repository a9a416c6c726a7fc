"""Writes on the catalog: stock movements, items saved by staff, documents and images,
and rate cards (a new version, from the admin, an xlsx import or the demo).

Stock moves only here. Orders reserve at payment, release at cancel and consume at
shipment; each call locks the items it touches (in primary-key order, so two
orders over the same items cannot deadlock), refuses to go below zero, and records
a StockMovement whose `(item, kind, reference)` is unique, so a retried call with
the same reference moves stock once.

`item_id` arguments are primary keys (what an order line's `item_id` holds), not
the human Item ID string.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError

from .models import Document, Item, Product, ProductImage, RateCard, RateRow, RateZone, ShippingMethod, StockMovement
from .shipping import zone_overlaps

Kind = StockMovement.Kind


def _check_reference(reference: str) -> str:
    reference = (reference or "").strip()
    if not reference:
        raise ApplicationError(_("A stock movement needs a reference (the order or shipment it belongs to)."))
    if len(reference) > 120:
        raise ApplicationError(_("A stock reference is at most 120 characters."))
    return reference


def _check_quantities(quantities: Mapping[int, int]) -> dict[int, int]:
    if not quantities:
        raise ApplicationError(_("No items given."))
    checked = {}
    for pk, quantity in quantities.items():
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise ApplicationError(_("A quantity must be a whole number above zero, not %(q)s.") % {"q": quantity})
        checked[int(pk)] = quantity
    return checked


def _refusal(kind: str, item: Item, quantity: int) -> str | None:
    if kind == Kind.RESERVE and quantity > item.available:
        return _("Only %(available)d of %(item)s available; %(quantity)d requested.") % {
            "available": item.available,
            "item": item.item_id,
            "quantity": quantity,
        }
    if kind in (Kind.RELEASE, Kind.CONSUME) and quantity > item.reserved:
        params = {"quantity": quantity, "item": item.item_id, "reserved": item.reserved}
        if kind == Kind.RELEASE:
            return _("Cannot release %(quantity)d of %(item)s: only %(reserved)d reserved.") % params
        return _("Cannot ship %(quantity)d of %(item)s: only %(reserved)d reserved.") % params
    return None


@transaction.atomic
def _stock_move(kind: str, quantities: Mapping[int, int], reference: str) -> list[Item]:
    reference = _check_reference(reference)
    quantities = _check_quantities(quantities)
    locked = list(Item.objects.select_for_update().filter(pk__in=quantities).order_by("pk"))
    missing = set(quantities) - {item.pk for item in locked}
    if missing:
        raise ApplicationError(_("Unknown item: %(ids)s.") % {"ids": ", ".join(map(str, sorted(missing)))})

    done = dict(
        StockMovement.objects.filter(item_id__in=quantities, kind=kind, reference=reference).values_list(
            "item_id", "quantity"
        )
    )
    to_move = []
    for item in locked:
        quantity = quantities[item.pk]
        if item.pk in done:
            if done[item.pk] != quantity:
                raise ApplicationError(
                    _("%(item)s was already moved for %(reference)s with a different quantity (%(done)d).")
                    % {"item": item.item_id, "reference": reference, "done": done[item.pk]},
                    extra={"item_id": item.item_id},
                )
            continue  # a replay of a call that already took effect
        refusal = _refusal(kind, item, quantity)
        if refusal:
            raise ApplicationError(
                refusal, extra={"item_id": item.item_id, "available": item.available, "reserved": item.reserved}
            )
        to_move.append((item, quantity))

    movements = []
    for item, quantity in to_move:
        if kind == Kind.RESERVE:
            item.reserved += quantity
        elif kind == Kind.RELEASE:
            item.reserved -= quantity
        else:  # consume: the pieces leave the warehouse
            item.reserved -= quantity
            item.stock_on_hand -= quantity
        item.save(update_fields=["reserved", "stock_on_hand", "updated_at"])
        movements.append(
            StockMovement(
                item=item,
                kind=kind,
                quantity=quantity,
                reference=reference,
                stock_on_hand_after=item.stock_on_hand,
                reserved_after=item.reserved,
            )
        )
    StockMovement.objects.bulk_create(movements)
    return locked


def items_stock_reserve(*, quantities: Mapping[int, int], reference: str) -> list[Item]:
    """Reserve stock of several items at once (an order's lines), all or nothing."""
    return _stock_move(Kind.RESERVE, quantities, reference)


@transaction.atomic
def items_stock_reserve_many(*, requests: Mapping[str, Mapping[int, int]]) -> dict[str, str]:
    """Reserve stock for many references at once (a payment of many orders): {reference:
    {item id: quantity}}. Each reference is reserved whole or not at all; returns
    {reference: why not} for those refused (not enough available), reserving the rest.

    The items are locked once, in primary-key order; a reference reserved before (a
    replay) is left as it is. Cost: three queries and one UPDATE per item touched,
    whatever the number of references.
    """
    requests = {_check_reference(reference): _check_quantities(wanted) for reference, wanted in requests.items()}
    item_ids = sorted({item_id for wanted in requests.values() for item_id in wanted})
    locked = {item.pk: item for item in Item.objects.select_for_update().filter(pk__in=item_ids).order_by("pk")}
    missing = set(item_ids) - set(locked)
    if missing:
        raise ApplicationError(_("Unknown item: %(ids)s.") % {"ids": ", ".join(map(str, sorted(missing)))})
    done = set(
        StockMovement.objects.filter(item_id__in=item_ids, kind=Kind.RESERVE, reference__in=list(requests)).values_list(
            "reference", flat=True
        )
    )
    refused: dict[str, str] = {}
    movements = []
    touched = set()
    for reference, wanted in requests.items():
        if reference in done:
            continue
        problems = [_refusal(Kind.RESERVE, locked[item_id], quantity) for item_id, quantity in wanted.items()]
        problems = [problem for problem in problems if problem]
        if problems:
            refused[reference] = problems[0]
            continue
        for item_id, quantity in wanted.items():
            item = locked[item_id]
            item.reserved += quantity
            touched.add(item_id)
            movements.append(
                StockMovement(
                    item=item,
                    kind=Kind.RESERVE,
                    quantity=quantity,
                    reference=reference,
                    stock_on_hand_after=item.stock_on_hand,
                    reserved_after=item.reserved,
                )
            )
    for item_id in sorted(touched):
        locked[item_id].save(update_fields=["reserved", "updated_at"])
    StockMovement.objects.bulk_create(movements)
    return refused


def items_stock_release(*, quantities: Mapping[int, int], reference: str) -> list[Item]:
    return _stock_move(Kind.RELEASE, quantities, reference)


def items_stock_consume(*, quantities: Mapping[int, int], reference: str) -> list[Item]:
    return _stock_move(Kind.CONSUME, quantities, reference)


def item_stock_reserve(*, item_id: int, quantity: int, reference: str) -> Item:
    """At payment: claim `quantity` pieces so no other order can sell them."""
    return _stock_move(Kind.RESERVE, {item_id: quantity}, reference)[0]


def item_stock_release(*, item_id: int, quantity: int, reference: str) -> Item:
    """At cancel: give reserved pieces back."""
    return _stock_move(Kind.RELEASE, {item_id: quantity}, reference)[0]


def item_stock_consume(*, item_id: int, quantity: int, reference: str) -> Item:
    """At shipment: reserved pieces leave the warehouse."""
    return _stock_move(Kind.CONSUME, {item_id: quantity}, reference)[0]


def _adjust_movement(item: Item, delta: int, reference: str) -> None:
    if delta:
        StockMovement.objects.create(
            item=item,
            kind=Kind.ADJUST,
            quantity=delta,
            reference=reference[:120],
            stock_on_hand_after=item.stock_on_hand,
            reserved_after=item.reserved,
        )


@transaction.atomic
def item_stock_adjust(*, item_id: int, stock_on_hand: int, reference: str) -> Item:
    """Staff set the counted stock on hand (a delivery arrived, a stock-take)."""
    reference = _check_reference(reference)
    item = Item.objects.select_for_update().get(pk=item_id)
    if isinstance(stock_on_hand, bool) or not isinstance(stock_on_hand, int) or stock_on_hand < 0:
        raise ApplicationError(_("Stock on hand must be a whole number, zero or more."))
    if stock_on_hand < item.reserved:
        raise ApplicationError(
            _("Stock on hand of %(item)s cannot be below the %(reserved)d pieces reserved by paid orders.")
            % {"item": item.item_id, "reserved": item.reserved}
        )
    delta = stock_on_hand - item.stock_on_hand
    item.stock_on_hand = stock_on_hand
    item.save(update_fields=["stock_on_hand", "updated_at"])
    _adjust_movement(item, delta, reference)
    return item


@transaction.atomic
def item_save(*, item: Item, reference: str) -> Item:
    """Create or update an item from a staff edit or an import row.

    `reserved` is never taken from the caller: it is re-read under the row lock, so
    an edit that raced with a payment cannot undo the reservation. Raises
    ValidationError (with the field) when the row is not valid; nothing is saved then.
    """
    previous_on_hand = 0
    if item.pk:
        current = Item.objects.select_for_update().filter(pk=item.pk).first()
        if current is not None:
            item.reserved = current.reserved
            previous_on_hand = current.stock_on_hand
    else:
        item.reserved = 0
    item.full_clean()
    item.save()
    _adjust_movement(item, item.stock_on_hand - previous_on_hand, reference)
    return item


@transaction.atomic
def document_create(*, product: Product, doc_type: str, file, title: str = "", valid_until=None) -> Document:
    """Attach a qualification document; the file is checked by type, content and size."""
    document = Document(product=product, doc_type=doc_type, file=file, title=title.strip(), valid_until=valid_until)
    try:
        document.full_clean()
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), extra={"errors": exc.message_dict}) from None
    document.save()
    return document


@transaction.atomic
def product_image_add(*, product: Product, file, alt_text: str = "", position: int = 0) -> ProductImage:
    image = ProductImage(product=product, file=file, alt_text=alt_text.strip(), position=position)
    try:
        image.full_clean()
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), extra={"errors": exc.message_dict}) from None
    image.save()
    return image


# --- rate cards -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowSpec:
    """One weight row of a new card; `number` is the file's row, for messages (0: none)."""

    max_grams: int
    first_grams: int
    first_price: Decimal
    step_grams: int = 0
    step_price: Decimal = Decimal(0)
    min_charge: Decimal = Decimal(0)
    number: int = 0


@dataclass(frozen=True)
class ZoneSpec:
    name: str
    country: str
    regions: str = ""
    postcode_prefixes: str = ""
    rows: tuple[RowSpec, ...] = ()
    number: int = 0  # the zone's first row in the file


RowError = tuple[int, str]  # (the file's row number, what is wrong)


def _messages(exc: ValidationError, model) -> str:
    parts = []
    for name, messages in exc.message_dict.items():
        label = "" if name == "__all__" else f"{model._meta.get_field(name).verbose_name}: "
        parts.extend(f"{label}{message}" for message in messages)
    return " ".join(parts)


def _built(currency: str, zones: Sequence[ZoneSpec]) -> tuple[list[tuple[RateZone, list[RateRow]]], list[RowError]]:
    """Unsaved zones and rows, each validated like a form (prices rounded to the currency)."""
    card = RateCard(currency=currency)
    built, errors = [], []
    for spec in zones:
        zone = RateZone(
            card=card,
            name=spec.name.strip(),
            country=spec.country,
            regions=spec.regions,
            postcode_prefixes=spec.postcode_prefixes,
        )
        try:
            zone.full_clean(exclude=["card"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.append(
                (spec.number, _("Zone “%(zone)s”: %(why)s") % {"zone": spec.name, "why": _messages(exc, RateZone)})
            )
        rows = []
        for row_spec in spec.rows:
            row = RateRow(
                zone=zone,
                max_grams=row_spec.max_grams,
                first_grams=row_spec.first_grams,
                first_price=row_spec.first_price,
                step_grams=row_spec.step_grams,
                step_price=row_spec.step_price,
                min_charge=row_spec.min_charge,
            )
            try:
                row.full_clean(exclude=["zone"], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                errors.append((row_spec.number, _messages(exc, RateRow)))
            rows.append(row)
        built.append((zone, rows))
    return built, errors


def _card_rule_errors(zones: Sequence[ZoneSpec], built: list[tuple[RateZone, list[RateRow]]]) -> list[RowError]:
    """What no single row shows: a zone without rows, a name or a weight twice, overlapping zones."""
    errors: list[RowError] = []
    if not zones:
        errors.append((0, _("A rate card needs at least one zone with weight rows.")))
    seen_names: dict[str, int] = {}
    for spec in zones:
        key = spec.name.strip().casefold()
        if key in seen_names:
            errors.append((spec.number, _("The zone “%(zone)s” is given twice.") % {"zone": spec.name}))
        seen_names.setdefault(key, spec.number)
        if not spec.rows:
            errors.append((spec.number, _("The zone “%(zone)s” has no weight rows.") % {"zone": spec.name}))
        first_row: dict[int, int] = {}
        for row in spec.rows:
            if row.max_grams in first_row:
                errors.append(
                    (
                        row.number,
                        _("The zone “%(zone)s” has two rows up to %(grams)s g (rows %(first)s and %(second)s).")
                        % {
                            "zone": spec.name,
                            "grams": row.max_grams,
                            "first": first_row[row.max_grams],
                            "second": row.number,
                        },
                    )
                )
            first_row.setdefault(row.max_grams, row.number)
    for index, problem in zone_overlaps([zone for zone, _rows in built]):
        errors.append((zones[index].number, problem))
    return errors


def _validated(currency: str, zones: Sequence[ZoneSpec]) -> tuple[list[tuple[RateZone, list[RateRow]]], list[RowError]]:
    built, errors = _built(currency, zones)
    return built, sorted(errors + _card_rule_errors(zones, built), key=lambda error: error[0])


def rate_card_check(*, currency: str, zones: Sequence[ZoneSpec]) -> list[RowError]:
    """Every reason the zones and rows cannot make a card, by row number (0: the card as a whole)."""
    return _validated(currency, zones)[1]


@transaction.atomic
def rate_card_save(*, card: RateCard, actor=None) -> RateCard:
    """Save a card; a new one gets its method's next version number (the method's row is
    locked meanwhile, so two staff saving at once get two numbers)."""
    if card.pk is None:
        ShippingMethod.objects.select_for_update().filter(pk=card.method_id).first()
        latest = RateCard.objects.filter(method_id=card.method_id).aggregate(latest=Max("version"))["latest"]
        card.version = (latest or 0) + 1
        card.created_by = card.created_by or actor
    try:
        card.full_clean()
    except ValidationError as exc:
        raise ApplicationError(_messages(exc, RateCard), extra={"errors": exc.message_dict}) from None
    card.save()
    return card


@transaction.atomic
def rate_card_create(
    *,
    method: ShippingMethod,
    currency: str,
    effective_from: datetime,
    zones: Sequence[ZoneSpec],
    fuel_surcharge_percent: Decimal = Decimal(0),
    effective_to: datetime | None = None,
    note: str = "",
    actor=None,
) -> RateCard:
    """A new version of `method`'s prices with its zones and rows, whole or not at all.

    Raises ApplicationError listing every problem (`extra["errors"]`: (row, reason)).
    """
    built, errors = _validated(currency, zones)
    if errors:
        raise ApplicationError(" ".join(reason for _number, reason in errors[:5]), extra={"errors": errors})
    card = rate_card_save(
        card=RateCard(
            method=method,
            currency=currency,
            fuel_surcharge_percent=fuel_surcharge_percent,
            effective_from=effective_from,
            effective_to=effective_to,
            note=note.strip(),
        ),
        actor=actor,
    )
    for zone, _rows in built:
        zone.card = card
    RateZone.objects.bulk_create([zone for zone, _rows in built])
    rows = []
    for zone, zone_rows in built:
        for row in zone_rows:
            row.zone = zone
            rows.append(row)
    RateRow.objects.bulk_create(rows)
    return card
