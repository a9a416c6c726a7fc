"""The rate card file: its columns, reading it for the admin's import preview, and writing
the export and the template, all through `distribution.spreadsheet` (which checks the
file against RATE_CARD_LIMITS before it is read, and writes no cell that can run).

One row per weight row. A zone is named on each of its rows; its country, regions and
postcode prefixes are read from its first row, and a later row may leave them blank
(the export repeats them). Columns are found by name in the first non-empty row, in any
order, by their English names or the Chinese ones in ALIASES; other columns are
ignored. The card's method, currency, fuel surcharge and dates are chosen on the import
page, not read from the file, so one file can serve several methods or versions.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from distribution import spreadsheet
from distribution.spreadsheet import as_text, excerpt

from .models import RateCard, RateZone
from .services import RowError, RowSpec, ZoneSpec, rate_card_check

ZONE = "Zone"
COUNTRY = "Country"
REGIONS = "Regions"
PREFIXES = "Postcode prefixes"
UP_TO = "Up to (g)"
FIRST = "First weight (g)"
FIRST_PRICE = "First price"
STEP = "Step (g)"
STEP_PRICE = "Step price"
MINIMUM = "Minimum charge"
COLUMNS = [ZONE, COUNTRY, REGIONS, PREFIXES, UP_TO, FIRST, FIRST_PRICE, STEP, STEP_PRICE, MINIMUM]
REQUIRED = [ZONE, COUNTRY, UP_TO, FIRST, FIRST_PRICE]
ALIASES = {
    ZONE: ["Zone name", "分区", "区域"],
    COUNTRY: ["Country code", "国家", "国家代码"],
    REGIONS: ["States", "Region codes", "州", "地区", "州/地区"],
    PREFIXES: ["Postcodes", "Postcode prefix", "Zip prefixes", "邮编前缀", "邮编"],
    UP_TO: ["Max weight", "Weight up to", "重量上限", "最大重量"],
    FIRST: ["First weight", "首重"],
    FIRST_PRICE: ["First weight price", "首重价格", "首重运费"],
    STEP: ["Additional weight", "Step weight", "续重"],
    STEP_PRICE: ["Additional price", "Price per step", "续重价格", "续重运费"],
    MINIMUM: ["Min charge", "Minimum", "最低收费", "最低运费"],
}
FILE_COLUMNS = spreadsheet.Columns(COLUMNS, ALIASES)
RATES_SHEET = "Rates"
MAX_ROWS = 5_000
MAX_FILE_BYTES = 5 * 1024 * 1024
# A card has tens of zones of tens of rows; 5,000 rows of ten columns is ample.
RATE_CARD_LIMITS = spreadsheet.Limits(
    what=gettext_lazy("a rate card file"),
    max_rows=MAX_ROWS,
    max_cells=200_000,
    max_file_bytes=MAX_FILE_BYTES,
    max_part_bytes=64 * 1024 * 1024,
    max_total_bytes=80 * 1024 * 1024,
)
# Zone, country, regions and postcode prefixes are text: a prefix 01 must keep its zero.
_TEXT_COLUMNS = range(4)
_ZONE_FIELDS = ((COUNTRY, "country"), (REGIONS, "regions"), (PREFIXES, "postcode_prefixes"))


@dataclass
class ReadCard:
    """What the import preview shows: the zones read, and every row error (row, reason)."""

    zones: list[ZoneSpec]
    errors: list[RowError]
    rows: int

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class _Zone:
    name: str
    number: int
    values: dict[str, str]
    rows: list[RowSpec] = field(default_factory=list)

    def spec(self) -> ZoneSpec:
        return ZoneSpec(name=self.name, number=self.number, rows=tuple(self.rows), **self.values)


class _CellError(ValueError):
    pass


def _text(value) -> str:
    return as_text(value).strip()


def _number_text(value, column: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise _CellError(_("%(column)s is not a number.") % {"column": column})
    return _text(value).replace(",", "").replace(" ", "")


def _grams(value, column: str, *, default: int | None = None) -> int:
    text = _number_text(value, column) if value not in (None, "") else ""
    if not text:
        if default is None:
            raise _CellError(_("%(column)s is missing.") % {"column": column})
        return default
    if not text.isdigit():
        raise _CellError(
            _("%(column)s: “%(value)s” is not a whole number of grams.")
            % {"column": column, "value": excerpt(text, 20)}
        )
    return int(text)


def _amount(value, column: str, *, default: Decimal | None = None) -> Decimal:
    text = _number_text(value, column) if value not in (None, "") else ""
    if not text:
        if default is None:
            raise _CellError(_("%(column)s is missing.") % {"column": column})
        return default
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise _CellError(
            _("%(column)s: “%(value)s” is not an amount.") % {"column": column, "value": excerpt(text, 20)}
        )
    return amount


def _row_spec(number: int, cells: dict) -> RowSpec:
    """One weight row from its cells; every problem of the row in one message."""
    problems, values = [], {}
    readers = (
        ("max_grams", lambda: _grams(cells.get(UP_TO), UP_TO)),
        ("first_grams", lambda: _grams(cells.get(FIRST), FIRST)),
        ("first_price", lambda: _amount(cells.get(FIRST_PRICE), FIRST_PRICE)),
        ("step_grams", lambda: _grams(cells.get(STEP), STEP, default=0)),
        ("step_price", lambda: _amount(cells.get(STEP_PRICE), STEP_PRICE, default=Decimal(0))),
        ("min_charge", lambda: _amount(cells.get(MINIMUM), MINIMUM, default=Decimal(0))),
    )
    for name, read in readers:
        try:
            values[name] = read()
        except _CellError as exc:
            problems.append(str(exc))
    if problems:
        raise _CellError(" ".join(problems))
    return RowSpec(number=number, **values)


def _zone_of(zones: dict[str, _Zone], number: int, cells: dict) -> _Zone:
    name = _text(cells.get(ZONE))
    if not name:
        raise _CellError(_("%(column)s is missing.") % {"column": ZONE})
    if len(name) > 80:
        raise _CellError(_("The zone name “%(name)s” is longer than 80 characters.") % {"name": excerpt(name, 40)})
    given = {attribute: _text(cells.get(column)) for column, attribute in _ZONE_FIELDS}
    zone = zones.get(name.casefold())
    if zone is None:
        if not given["country"]:
            raise _CellError(_("The first row of the zone “%(zone)s” needs its country.") % {"zone": name})
        zone = zones[name.casefold()] = _Zone(name, number, given)
        return zone
    for column, attribute in _ZONE_FIELDS:
        if given[attribute] and given[attribute].upper() != zone.values[attribute].upper():
            raise _CellError(
                _("%(column)s “%(value)s” differs from row %(first)s of the zone “%(zone)s” (“%(there)s”).")
                % {
                    "column": column,
                    "value": excerpt(given[attribute], 40),
                    "first": zone.number,
                    "zone": name,
                    "there": excerpt(zone.values[attribute], 40),
                }
            )
    return zone


def _header(row: list) -> dict[str, int]:
    positions = FILE_COLUMNS.find(row)
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise spreadsheet.FileRejected(
            _("Columns missing: %(missing)s. The first row must name the columns %(cols)s; download the template.")
            % {"missing": ", ".join(missing), "cols": ", ".join(COLUMNS)}
        )
    return positions


def check_upload(name: str, head: bytes) -> str:
    """The file's kind (xlsx or csv), or FileRejected for anything else."""
    return spreadsheet.upload_kind(name, head, refusal=_("“%(name)s” is not an Excel workbook (.xlsx) or a CSV file."))


def read_rate_card(fileobj, *, name: str, currency: str) -> ReadCard:
    """The zones and rows of a rate card file, and every error by row number.

    The whole file is refused if any row is wrong (ReadCard.ok is False): a card
    missing some of its rows would price parcels wrongly, or not at all. Raises
    FileRejected when the file as a whole cannot be read (not a spreadsheet, over a
    limit, damaged, columns missing, no rows).
    """
    fileobj.seek(0)
    kind = check_upload(name, fileobj.read(8))
    sheet = spreadsheet.read_sheet(fileobj, kind=kind, limits=RATE_CARD_LIMITS, sheet_name=RATES_SHEET)
    positions: dict[str, int] | None = None
    zones: dict[str, _Zone] = {}
    errors: list[RowError] = []
    count = 0
    for number, row in sheet.rows:
        if not any(spreadsheet.cell_present(value) for value in row):
            continue
        if positions is None:
            positions = _header(row)
            continue
        count += 1
        if count > MAX_ROWS:
            raise spreadsheet.FileRejected(
                _("The file has more than %(max)s rows; a rate card has at most %(max)s.") % {"max": f"{MAX_ROWS:,}"}
            )
        cells = {column: row[index] if index < len(row) else None for column, index in positions.items()}
        try:
            zone = _zone_of(zones, number, cells)
            zone.rows.append(_row_spec(number, cells))
        except _CellError as exc:
            errors.append((number, str(exc)))
    if positions is None:
        raise spreadsheet.FileRejected(
            _("The file is empty: the first row must name the columns %(cols)s.") % {"cols": ", ".join(COLUMNS)}
        )
    if not count:
        raise spreadsheet.FileRejected(_("The file has the column names but no rows to import."))
    specs = [zone.spec() for zone in zones.values()]
    # A row already refused says so once: what the card check adds about it (its zone
    # left without rows, say) would only repeat the same mistake.
    refused = {number for number, _reason in errors}
    checked = [error for error in rate_card_check(currency=currency, zones=specs) if error[0] not in refused]
    errors = sorted(errors + checked, key=lambda error: error[0])
    return ReadCard(zones=specs, errors=errors, rows=count)


# --- the preview's carry-over: what the confirm step saves, signed into the page -----------------


def zones_to_data(zones: list[ZoneSpec]) -> list[dict]:
    return [
        {
            "name": zone.name,
            "country": zone.country,
            "regions": zone.regions,
            "postcode_prefixes": zone.postcode_prefixes,
            "number": zone.number,
            "rows": [
                [row.number, row.max_grams, row.first_grams, str(row.first_price), row.step_grams]
                + [str(row.step_price), str(row.min_charge)]
                for row in zone.rows
            ],
        }
        for zone in zones
    ]


def zones_from_data(data: list[dict]) -> list[ZoneSpec]:
    return [
        ZoneSpec(
            name=zone["name"],
            country=zone["country"],
            regions=zone["regions"],
            postcode_prefixes=zone["postcode_prefixes"],
            number=zone["number"],
            rows=tuple(
                RowSpec(
                    number=number,
                    max_grams=max_grams,
                    first_grams=first_grams,
                    first_price=Decimal(first_price),
                    step_grams=step_grams,
                    step_price=Decimal(step_price),
                    min_charge=Decimal(min_charge),
                )
                for number, max_grams, first_grams, first_price, step_grams, step_price, min_charge in zone["rows"]
            ),
        )
        for zone in data
    ]


# --- writing --------------------------------------------------------------------------------------


def _zone_rows(zone: RateZone):
    for row in zone.rows.all():
        yield [
            zone.name,
            zone.country,
            zone.regions,
            zone.postcode_prefixes,
            row.max_grams,
            row.first_grams,
            row.first_price,
            row.step_grams,
            row.step_price,
            row.min_charge,
        ]


def _book(rows) -> spreadsheet.XlsxBook:
    book = spreadsheet.XlsxBook()
    sheet = book.sheet(
        RATES_SHEET, COLUMNS, widths=(24, 10, 22, 26, 12, 16, 12, 10, 12, 16), text_columns=_TEXT_COLUMNS
    )
    sheet.extend(rows)
    return book


def rate_card_bytes(card: RateCard) -> bytes:
    """The card as the import reads it (Rates), with its details on a sheet for people (Card)."""
    zones = card.zones.order_by("id").prefetch_related("rows")
    book = _book(row for zone in zones for row in _zone_rows(zone))
    details = book.sheet(_("Card"), widths=(28, 60))
    details.extend(
        [
            [_("Shipping method"), card.method.name],
            [_("Service code"), card.method.code],
            [_("Warehouse"), card.method.warehouse.code],
            [_("Version"), card.version],
            [_("Currency"), card.currency],
            [_("Fuel surcharge (%)"), card.fuel_surcharge_percent],
            [_("Effective from"), card.effective_from],
            [_("Effective until"), card.effective_to or ""],
            [_("Note"), card.note],
        ]
    )
    _instructions(book)
    return book.bytes()


def template_bytes() -> bytes:
    """An empty Rates sheet and the instructions."""
    book = _book([])
    _instructions(book)
    return book.bytes()


def _instructions(book: spreadsheet.XlsxBook) -> None:
    notes = book.sheet(_("Instructions"), widths=(120,))
    notes.extend([line] for line in instructions())


def instructions() -> list[str]:
    return [
        _("One row per weight row, on the Rates sheet. Keep the first row (the column names) as it is."),
        _("Zone: its name, on each of its rows. Country: ISO code (US, JP), on the zone's first row at least."),
        _("Regions: state or prefecture codes of that country (CA,NV or 47), or Postcode prefixes (90, 27498)."),
        _("A destination takes its most specific zone: postcode prefix (longest), then region, then country."),
        _("Up to (g): the heaviest chargeable weight of the row; a zone's rows run from light to heavy."),
        _("First weight (g) and First price; Step (g) and Step price for each further step or part of one."),
        _("A row without a step (0) is one flat price: its first weight is then its upper weight."),
        _("Minimum charge: the least the row costs. The fuel surcharge is set on the import page."),
        _("Prices are in the currency chosen on the import page; weights in whole grams."),
        _("A file with any wrong row is refused whole; nothing is saved until you confirm the preview."),
        _("At most %(max)s rows per file.") % {"max": f"{MAX_ROWS:,}"},
    ]
