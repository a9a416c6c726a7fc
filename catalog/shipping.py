"""Freight quotes: which of a warehouse's shipping methods can carry a parcel to a
destination, and at what price.

One order ships as one parcel, and the parcel is billed as a whole:

1. Its actual weight is the sum of its pieces' weights (item weight × quantity); its
   volume is the sum of its pieces' volumes (length × width × height × quantity, the
   item's own dimensions or else its product's; a piece whose dimensions are unknown
   adds weight but no volume).
2. For each method, the volumetric weight is volume ÷ the method's divisor (cm³ per
   kg), in grams rounded up; the parcel is billed on the larger of the two.
3. The method must serve the destination's country and not exclude its region, and
   have a rate card in force at the moment of the quote (in the wanted currency, when
   one is asked for).
4. The card's most specific zone that holds the destination sets the rows: a
   postcode-prefix zone (the longest prefix) over a region zone over the whole country.
5. The first row whose upper weight reaches the billed weight prices it: up to the first
   weight the first price; above it each further step, or part of one, the step price
   (so the chargeable weight is the billed weight rounded up to the step). The result
   is raised to the row's minimum charge, the card's fuel surcharge is added on top, and
   the total is rounded half up to the currency's minor unit, once, at the end.

Everything is read once per call (methods, cards, zones, rows: four queries, five if
the items' products were not loaded), so quoting a thousand orders costs what quoting
one does; the rest is arithmetic in Python.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.money import Money

from . import selectors
from .models import Item, Product, RateCard, RateRow, RateZone, ShippingMethod
from .validators import postcode_key, region_code

GRAMS_PER_KG = 1000


@dataclass(frozen=True)
class Destination:
    """Where a parcel goes. `region` is the subdivision code (CA, HI; 13 or JP-13 for
    Tokyo), `postcode` as written (blanks and dashes do not matter)."""

    country: str
    region: str = ""
    postcode: str = ""

    def __post_init__(self):
        country = str(self.country or "").strip().upper()
        object.__setattr__(self, "country", country)
        object.__setattr__(self, "region", region_code(self.region, country))
        object.__setattr__(self, "postcode", postcode_key(self.postcode))

    def __str__(self) -> str:
        return " ".join(part for part in (self.country, self.region, self.postcode) if part)


@dataclass(frozen=True)
class Piece:
    item: Item
    quantity: int


@dataclass(frozen=True)
class Parcel:
    """One order's goods, leaving one warehouse for one destination."""

    warehouse_id: int
    destination: Destination
    pieces: Sequence[Piece]

    def __post_init__(self):
        if not self.pieces:
            raise ApplicationError(_("A parcel needs at least one piece."))
        for piece in self.pieces:
            if isinstance(piece.quantity, bool) or not isinstance(piece.quantity, int) or piece.quantity <= 0:
                raise ApplicationError(
                    _("A quantity must be a whole number above zero, not %(q)s.") % {"q": piece.quantity}
                )


@dataclass(frozen=True)
class ParcelWeight:
    actual_grams: int
    volumetric_grams: int

    @property
    def greater_grams(self) -> int:
        return max(self.actual_grams, self.volumetric_grams)


@dataclass(frozen=True)
class MethodQuote:
    """One method's answer for one parcel: a price, or the reason it cannot carry it."""

    method: ShippingMethod
    price: Money | None = None
    # The billed weight: the greater of actual and volumetric, rounded up to the row's step.
    chargeable_grams: int | None = None
    weight: ParcelWeight | None = None
    card: RateCard | None = None
    zone: RateZone | None = None
    refusal: str = ""

    @property
    def ok(self) -> bool:
        return self.price is not None

    @property
    def eta_min_days(self) -> int:
        return self.method.eta_min_days

    @property
    def eta_max_days(self) -> int:
        return self.method.eta_max_days


# --- weight ---------------------------------------------------------------------------------------


def actual_grams(pieces: Sequence[Piece]) -> int:
    return sum(piece.item.weight_grams * piece.quantity for piece in pieces)


def volume_cm3(pieces: Sequence[Piece]) -> Decimal:
    """The pieces' volumes added up; a piece of unknown dimensions adds none."""
    total = Decimal(0)
    for piece in pieces:
        dimensions = piece.item.dimensions_cm
        if dimensions is not None:
            length, width, height = dimensions
            total += length * width * height * piece.quantity
    return total


def volumetric_grams(volume: Decimal, divisor: int) -> int:
    """volume (cm³) ÷ divisor (cm³ per kg), in grams, rounded up to the whole gram."""
    return int((volume * GRAMS_PER_KG / divisor).to_integral_value(rounding=ROUND_CEILING))


def parcel_weight(pieces: Sequence[Piece], divisor: int) -> ParcelWeight:
    return ParcelWeight(actual_grams(pieces), volumetric_grams(volume_cm3(pieces), divisor))


# --- where ----------------------------------------------------------------------------------------


def method_refusal(method: ShippingMethod, destination: Destination) -> str:
    """Why `method` does not go to `destination`, or "" when it does."""
    if destination.country not in method.country_codes:
        return _("%(method)s does not serve %(country)s.") % {
            "method": method.name,
            "country": destination.country or "?",
        }
    region = f"{destination.country}-{destination.region}"
    if destination.region and region in method.excluded_region_codes:
        return _("%(method)s does not serve %(region)s.") % {"method": method.name, "region": region}
    return ""


def _specificity(zone: RateZone, destination: Destination) -> tuple[int, int] | None:
    """How closely `zone` names the destination (higher is closer), or None if it does not hold it."""
    if zone.country != destination.country:
        return None
    if zone.prefixes:
        lengths = [len(prefix) for prefix in zone.prefixes if destination.postcode.startswith(prefix)]
        return (2, max(lengths)) if lengths else None
    if zone.region_codes:
        return (1, 0) if destination.region in zone.region_codes else None
    return (0, 0)


def zone_for(zones: Sequence[RateZone], destination: Destination) -> RateZone | None:
    """The most specific zone holding the destination: a postcode prefix (the longest)
    over a list of regions over the whole country."""
    holding = [(rank, zone) for zone in zones if (rank := _specificity(zone, destination)) is not None]
    if not holding:
        return None
    return max(holding, key=lambda pair: pair[0])[1]


def zone_overlaps(zones: Sequence[RateZone]) -> list[tuple[int, str]]:
    """Zones of one card that would claim the same destination equally (two whole-country
    zones, a region or an identical postcode prefix in both), as (the index of the later
    zone, why). Nested prefixes (27 and 27498) are fine: the longer one wins."""
    problems = []
    for index, later in enumerate(zones):
        for earlier in zones[:index]:
            shared = _shared_scope(earlier, later) if earlier.country == later.country else None
            if shared is not None:
                problems.append(
                    (
                        index,
                        _("The zones “%(a)s” and “%(b)s” both cover %(what)s.")
                        % {"a": earlier.name, "b": later.name, "what": shared},
                    )
                )
    return problems


def _shared_scope(first: RateZone, second: RateZone) -> str | None:
    if first.prefixes or second.prefixes:
        common = sorted(set(first.prefixes) & set(second.prefixes))
        return _("postcodes beginning %(prefixes)s") % {"prefixes": ", ".join(common)} if common else None
    if first.region_codes or second.region_codes:
        common = sorted(set(first.region_codes) & set(second.region_codes))
        return ", ".join(f"{first.country}-{code}" for code in common) if common else None
    return first.country


# --- price ----------------------------------------------------------------------------------------


def row_for(rows: Sequence[RateRow], grams: int) -> RateRow | None:
    """The lightest row whose upper weight reaches `grams` (`rows` sorted by weight)."""
    return next((row for row in rows if row.max_grams >= grams), None)


def _steps(row: RateRow, grams: int) -> int:
    if grams <= row.first_grams or not row.step_grams:
        return 0
    return -(-(grams - row.first_grams) // row.step_grams)


def billed_grams(row: RateRow, grams: int) -> int:
    """The weight the row bills: its first weight, plus whole steps up to `grams`."""
    return row.first_grams + _steps(row, grams) * row.step_grams


def freight(row: RateRow, grams: int, *, fuel_surcharge_percent: Decimal, currency: str) -> Money:
    """First price plus the steps, at least the minimum charge, plus the fuel surcharge;
    rounded half up once, at the end."""
    base = max(row.first_price + _steps(row, grams) * row.step_price, row.min_charge)
    return Money(base * (1 + fuel_surcharge_percent / 100), currency)


# --- quotes ---------------------------------------------------------------------------------------


def _load_products(parcels: Sequence[Parcel]) -> None:
    """Items whose product is not loaded get it from one query (the dimensions fall back to it)."""
    cached = Item._meta.get_field("product").is_cached
    pending = [piece.item for parcel in parcels for piece in parcel.pieces if not cached(piece.item)]
    if pending:
        products = Product.objects.in_bulk({item.product_id for item in pending})
        for item in pending:
            item.product = products[item.product_id]


def _quote(
    method: ShippingMethod,
    card: RateCard | None,
    parcel: Parcel,
    volume: Decimal,
    actual: int,
    currency: str | None,
) -> MethodQuote:
    refusal = method_refusal(method, parcel.destination)
    if refusal:
        return MethodQuote(method, refusal=refusal)
    if card is None:
        return MethodQuote(method, refusal=_("%(method)s has no rate card in force.") % {"method": method.name})
    if currency and card.currency != currency:
        return MethodQuote(
            method,
            card=card,
            refusal=_("The rate card of %(method)s is in %(card)s, not %(wanted)s.")
            % {"method": method.name, "card": card.currency, "wanted": currency},
        )
    zone = zone_for(card.zones.all(), parcel.destination)
    if zone is None:
        return MethodQuote(
            method,
            card=card,
            refusal=_("The rate card of %(method)s has no zone for %(destination)s.")
            % {"method": method.name, "destination": parcel.destination},
        )
    weight = ParcelWeight(actual, volumetric_grams(volume, method.volumetric_divisor))
    rows = zone.rows.all()
    row = row_for(rows, weight.greater_grams)
    if row is None:
        heaviest = rows[len(rows) - 1].max_grams if rows else 0
        return MethodQuote(
            method,
            weight=weight,
            card=card,
            zone=zone,
            refusal=_("%(grams)s g is over the heaviest weight row of %(method)s (%(max)s g).")
            % {"grams": f"{weight.greater_grams:,}", "method": method.name, "max": f"{heaviest:,}"},
        )
    price = freight(
        row, weight.greater_grams, fuel_surcharge_percent=card.fuel_surcharge_percent, currency=card.currency
    )
    return MethodQuote(
        method,
        price=price,
        chargeable_grams=billed_grams(row, weight.greater_grams),
        weight=weight,
        card=card,
        zone=zone,
    )


def _ordered(quotes: list[MethodQuote]) -> list[MethodQuote]:
    """Priced quotes cheapest first (then faster, then by name), the refusals after them.
    Prices in different currencies are not compared: each currency is its own group."""
    priced = sorted(
        (q for q in quotes if q.ok),
        key=lambda q: (q.price.currency, q.price.amount, q.eta_max_days, q.method.name, q.method.pk or 0),
    )
    refused = sorted((q for q in quotes if not q.ok), key=lambda q: (q.method.name, q.method.pk or 0))
    return priced + refused


def quote_parcels(
    parcels: Sequence[Parcel], *, at: datetime | None = None, currency: str | None = None
) -> list[list[MethodQuote]]:
    """For each parcel, in the order given, every active method of its warehouse: priced
    ones cheapest first, then the ones that cannot carry it with the reason why.

    `at` is the moment whose rate cards apply (now by default); with `currency`, a card
    in another currency is a refusal rather than a price the caller cannot add up.
    The queries are the same four however many parcels there are.
    """
    at = at or timezone.now()
    _load_products(parcels)
    methods = selectors.shipping_methods_by_warehouse(parcel.warehouse_id for parcel in parcels)
    cards = selectors.rate_cards_in_force((m.pk for group in methods.values() for m in group), at)
    answers = []
    for parcel in parcels:
        if not methods.get(parcel.warehouse_id):
            answers.append([])  # the warehouse has no active method: nothing to weigh
            continue
        volume, actual = volume_cm3(parcel.pieces), actual_grams(parcel.pieces)
        quotes = [
            _quote(method, cards.get(method.pk), parcel, volume, actual, currency)
            for method in methods.get(parcel.warehouse_id, [])
        ]
        answers.append(_ordered(quotes))
    return answers


def quote_parcel(parcel: Parcel, *, at: datetime | None = None, currency: str | None = None) -> list[MethodQuote]:
    """`quote_parcels` for one parcel."""
    return quote_parcels([parcel], at=at, currency=currency)[0]


def cheapest(quotes: Sequence[MethodQuote]) -> MethodQuote | None:
    """The cheapest priced quote of a parcel's list (as `quote_parcels` orders it), or None."""
    return next((quote for quote in quotes if quote.ok), None)


def quote_for(quotes: Sequence[MethodQuote], method_id: int) -> MethodQuote | None:
    """The quote of one method in a parcel's list (priced or refused); None if the
    method is not one of the warehouse's active methods."""
    return next((quote for quote in quotes if quote.method.pk == method_id), None)
