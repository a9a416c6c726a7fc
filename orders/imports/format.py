"""The order file (guide step 6): its columns, reading it, checking each row, the template.

One row is one order line; rows with the same Order No (in the same store) form one
order. The columns are found by the header row (the first non-empty row), in any order,
case, spacing and punctuation ignored, under their English names (which the template
writes in every language) or the other names listed in ALIASES, the Chinese ones
among them. Reading and writing the file itself is `distribution.spreadsheet`'s:
ORDER_FILE_LIMITS is what an order file may hold.

Values are read as text wherever text is meant: a postcode 02134 or 100-0001 and a
phone +81 3-5555-0101 are never numbers. Postcodes are checked and written the way
their country writes them by `orders.postcodes` (which also gives back the zeros a
spreadsheet dropped when it took 02134 for a number); a row whose postcode cannot be
its country's is an error. Countries are ISO codes (JP, JPN) or English names.
Dates: a date cell, or text as 2026-01-31, 2026/01/31, 31.01.2026, Jan 31 2026,
31 Jan 2026, each optionally with a time; 01/02/2026 is only read when the day is
unambiguous (a number above 12 on one side), otherwise the row asks for YYYY-MM-DD.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from distribution import spreadsheet
from distribution.errors import ApplicationError
from distribution.spreadsheet import excerpt
from orders.countries import country_code as _country_code
from orders.postcodes import PostcodeError, postcode_normalise

STORE, ORDER_NO, ORDER_DATE, SKU, QUANTITY = "Store", "Order No", "Order Date", "SKU", "Quantity"
RECIPIENT, PHONE, EMAIL, COUNTRY, PROVINCE = "Recipient", "Phone", "Email", "Country", "State/Province"
CITY, ADDRESS1, ADDRESS2, POSTCODE, LOGISTICS, REMARK = (
    "City",
    "Address 1",
    "Address 2",
    "Postcode",
    "Logistics",
    "Remark",
)
COLUMNS = [
    STORE,
    ORDER_NO,
    ORDER_DATE,
    SKU,
    QUANTITY,
    RECIPIENT,
    PHONE,
    EMAIL,
    COUNTRY,
    PROVINCE,
    CITY,
    ADDRESS1,
    ADDRESS2,
    POSTCODE,
    LOGISTICS,
    REMARK,
]
REQUIRED = [ORDER_NO, SKU, QUANTITY, RECIPIENT, COUNTRY, CITY, ADDRESS1]
# Columns that describe the order rather than the line: rows of one order must agree on them.
ORDER_LEVEL = [RECIPIENT, PHONE, COUNTRY, PROVINCE, CITY, ADDRESS1, ADDRESS2, POSTCODE]
# The other names a column goes by in the files distributors make (the template's own
# names are matched too, ignoring case, spaces and punctuation).
ALIASES = {
    STORE: ["Store name", "Shop", "店铺", "店铺名称", "店铺名"],
    ORDER_NO: ["Order number", "订单号", "订单编号"],
    ORDER_DATE: ["Order time", "订单日期", "下单时间", "下单日期"],
    SKU: ["Store SKU", "Seller SKU", "店铺SKU", "商品SKU", "SKU编码"],
    QUANTITY: ["Qty", "数量", "购买数量"],
    RECIPIENT: ["Recipient name", "收件人", "收货人", "收件人姓名"],
    PHONE: ["Phone number", "Telephone", "Tel", "电话", "联系电话", "手机", "手机号"],
    EMAIL: ["E-mail", "Email address", "邮箱", "电子邮箱"],
    COUNTRY: ["Country code", "国家", "国家/地区"],
    PROVINCE: ["State", "Province", "Region", "省/州", "州/省", "省份", "州"],
    CITY: ["Town", "城市"],
    ADDRESS1: ["Address", "Address line 1", "Street", "地址", "地址1", "详细地址"],
    ADDRESS2: ["Address line 2", "地址2"],
    POSTCODE: ["Zip", "Zip code", "Postal code", "Post code", "邮编", "邮政编码"],
    LOGISTICS: ["Shipping method", "物流", "物流方式"],
    REMARK: ["Note", "Notes", "Comment", "备注"],
}
FILE_COLUMNS = spreadsheet.Columns(COLUMNS, ALIASES)
TEXT_COLUMNS = {COLUMNS.index(name) for name in (ORDER_NO, SKU, PHONE, POSTCODE)}
MAX_ROWS = 200_000
MAX_FILE_BYTES = 50 * 1024 * 1024
# 200,000 rows of the template's 16 columns, with room for a few more; calamine holds
# the sheet's whole rectangle at 32 bytes a cell, so this also bounds its memory.
ORDER_FILE_LIMITS = spreadsheet.Limits(
    what=gettext_lazy("an order file"),
    max_rows=MAX_ROWS,
    max_cells=3_500_000,
    max_file_bytes=MAX_FILE_BYTES,
    # openpyxl writes 200,000 such rows as 175 MB of sheet XML.
    max_part_bytes=256 * 1024 * 1024,
    max_total_bytes=320 * 1024 * 1024,
)
XLSX_CONTENT_TYPE = spreadsheet.XLSX_CONTENT_TYPE
LOGISTICS_WORDS = {
    "": "",
    "dropshipping": "dropshipping",
    "drop shipping": "dropshipping",
    "dropship": "dropshipping",
    "self-pickup": "self_pickup",
    "self pickup": "self_pickup",
    "self_pickup": "self_pickup",
    "selfpickup": "self_pickup",
    "pickup": "self_pickup",
}
LIMITS = {
    STORE: 120,
    ORDER_NO: 100,
    SKU: 100,
    RECIPIENT: 200,
    PHONE: 40,
    EMAIL: 254,
    PROVINCE: 120,
    CITY: 120,
    ADDRESS1: 255,
    ADDRESS2: 255,
    POSTCODE: 20,
    REMARK: 500,
}


@lru_cache(maxsize=1024)
def country_code(value) -> str | None:
    return _country_code(value)


# The file as a whole cannot be read (not xlsx/csv, beyond a limit, no header, columns missing).
FileRejected = spreadsheet.FileRejected


def text(value) -> str:
    """A cell as text, inner runs of blanks made one space: 12345.0 (a number typed in a cell) is '12345'."""
    if type(value) is str:
        stripped = value.strip()
        if "  " not in stripped and "\n" not in stripped and "\t" not in stripped and "\ufeff" not in stripped:
            return stripped  # the common case, without splitting and joining
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return " ".join(str(value).replace("\ufeff", "").split())


# --- reading ------------------------------------------------------------------------------


def kind_of(name: str, head: bytes) -> str:
    """'xlsx' or 'csv' from the name and the first bytes; FileRejected otherwise."""
    return spreadsheet.upload_kind(
        name, head, refusal=_("“%(name)s” is not an order file: upload the template filled in, as .xlsx or .csv.")
    )


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number a spreadsheet shows
    values: dict  # column name -> raw cell value


def open_rows(path: str, kind: str) -> tuple[int, Iterator[SheetRow]]:
    """(rows in the file, counting the header, for a progress bar; the data rows, streamed)."""
    sheet = spreadsheet.read_sheet(path, kind=kind, limits=ORDER_FILE_LIMITS)
    return sheet.total_rows, _data_rows(sheet.rows)


def file_encoding(path: str) -> str:
    """The text encoding a CSV order file is read in, as people know it ("" if it has none)."""
    try:
        with open(path, "rb") as handle:
            return str(spreadsheet.detect_encoding(handle))
    except (OSError, FileRejected):
        return ""


def _data_rows(rows) -> Iterator[SheetRow]:
    columns: dict[str, int] | None = None
    seen = 0
    try:
        for number, row in rows:
            if columns is None:
                if not any(text(cell) for cell in row):
                    continue
                columns = FILE_COLUMNS.find(row)
                missing = [name for name in REQUIRED if name not in columns]
                if missing:
                    raise FileRejected(
                        _("The file has no column %(columns)s. Use the template: its first row names the columns.")
                        % {"columns": ", ".join(f"“{name}”" for name in missing)}
                    )
                continue
            values = {name: row[index] if index < len(row) else None for name, index in columns.items()}
            if any(text(value) for value in values.values()):
                seen += 1
                if seen > MAX_ROWS:
                    raise FileRejected(_("The file has more than %(max)d rows; split it.") % {"max": MAX_ROWS})
                yield SheetRow(number, values)
    except FileRejected:
        raise
    except Exception as exc:  # calamine and csv raise their own kinds for a damaged file
        raise FileRejected(_("The file cannot be read: %(error)s") % {"error": excerpt(exc, 200)}) from exc
    if columns is None:
        raise FileRejected(_("The file is empty."))


# --- checking rows ------------------------------------------------------------------------

_DATE_FORMATS = [
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%d.%m.%Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%d-%b-%Y",
    "%d-%B-%Y",
    "%Y%m%d",
]
_TIME_FORMATS = ["", " %H:%M", " %H:%M:%S", "T%H:%M", "T%H:%M:%S"]
EXCEL_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)


def parse_date(value) -> datetime | None:
    """An Order Date cell as an aware datetime (UTC when the file gives no zone); None when blank."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20_000 < value < 80_000:  # an Excel serial day number (1954-2119)
            return EXCEL_EPOCH + timedelta(days=float(value))
        raise ValueError(_("“%(value)s” is not a date.") % {"value": excerpt(text(value))})
    raw = " ".join(str(value).replace(",", " ").split())
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    for date_format in _DATE_FORMATS:
        for time_format in _TIME_FORMATS:
            try:
                return datetime.strptime(raw, date_format + time_format).replace(tzinfo=UTC)
            except ValueError:
                continue
    day_first = _slashed(raw)
    if day_first is not None:
        return day_first
    raise ValueError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": excerpt(raw)})


def _slashed(raw: str) -> datetime | None:
    """01/31/2026 or 31/01/2026 (either order when the day is above 12); None if not that shape."""
    date_part, _sep, time_part = raw.partition(" ")
    parts = date_part.replace("-", "/").split("/")
    if len(parts) != 3 or not all(part.isdigit() for part in parts) or len(parts[2]) != 4:
        return None
    first, second, year = (int(part) for part in parts)
    if first > 12 and second <= 12:
        day, month = first, second
    elif second > 12 and first <= 12:
        month, day = first, second
    elif first == second:
        day = month = first
    else:
        raise ValueError(
            _("“%(value)s” could be day/month or month/day; write it as YYYY-MM-DD.") % {"value": date_part}
        )
    clock = time()
    if time_part:
        for time_format in ("%H:%M", "%H:%M:%S"):
            try:
                clock = datetime.strptime(time_part, time_format).time()
                break
            except ValueError:
                continue
        else:
            return None
    try:
        return datetime.combine(date(year, month, day), clock, tzinfo=UTC)
    except ValueError:
        raise ValueError(_("“%(value)s” is not a date.") % {"value": date_part}) from None


def parse_quantity(value) -> int:
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            raise ValueError(_("“%(value)s” is not a quantity.") % {"value": excerpt(value)}) from None
    if isinstance(number, bool) or not isinstance(number, int | float) or number != int(number):
        raise ValueError(_("The quantity must be a whole number."))
    if number < 1:
        raise ValueError(_("The quantity must be at least 1."))
    if number > 100_000:
        raise ValueError(_("The quantity is too large."))
    return int(number)


def parse_postcode(value, country: str | None) -> str:
    """A Postcode cell as its country writes it; PostcodeError (a ValueError) when it cannot be one."""
    return postcode_normalise(country, value)


@dataclass
class FileLine:
    row: int
    sku: str
    quantity: int


@dataclass
class FileOrder:
    """The rows of one Order No in one store, checked."""

    store_key: str  # the Store column as written ("" = the store chosen on the form)
    order_no: str
    first_row: int
    values: dict  # order-level fields, checked
    lines: list[FileLine] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    errors: bool = False
    # Why the order is left out, the first few of its row errors ("Row 3, Quantity: …").
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@lru_cache(maxsize=4096)
def _is_email(value: str) -> bool:
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def check_row(row: SheetRow, clean_sku) -> tuple[dict, list[RowError]]:
    """One row's values, checked and cleaned; the errors name the row and column."""
    raw = row.values
    errors: list[RowError] = []
    cleaned: dict = {}

    def fail(column: str, message: str) -> None:
        errors.append(RowError(row.number, column, str(message)))

    for column in (STORE, ORDER_NO, RECIPIENT, PHONE, EMAIL, PROVINCE, CITY, ADDRESS1, ADDRESS2, REMARK):
        value = text(raw.get(column))
        if column in REQUIRED and not value:
            fail(column, _("Required."))
        elif len(value) > LIMITS[column]:
            fail(
                column,
                _("Longer than %(max)d characters: “%(start)s”.") % {"max": LIMITS[column], "start": excerpt(value)},
            )
        cleaned[column] = value
    try:
        cleaned[SKU] = clean_sku(raw.get(SKU))
    except ApplicationError as exc:
        fail(SKU, exc.message)
    try:
        cleaned[QUANTITY] = parse_quantity(raw.get(QUANTITY))
    except ValueError as exc:
        fail(QUANTITY, str(exc) if text(raw.get(QUANTITY)) else _("Required."))
    country = country_code(raw.get(COUNTRY))
    if country is None:
        fail(
            COUNTRY,
            _("Required.")
            if not text(raw.get(COUNTRY))
            else _("“%(value)s” is not a country; use its ISO code (e.g. JP) or English name.")
            % {"value": excerpt(text(raw.get(COUNTRY)))},
        )
    cleaned[COUNTRY] = country or ""
    try:
        cleaned[POSTCODE] = parse_postcode(raw.get(POSTCODE), country)
    except PostcodeError as exc:
        fail(POSTCODE, exc.message)
        cleaned[POSTCODE] = text(raw.get(POSTCODE))[: LIMITS[POSTCODE]]
    if cleaned[EMAIL] and len(cleaned[EMAIL]) <= LIMITS[EMAIL] and not _is_email(cleaned[EMAIL]):
        fail(EMAIL, _("“%(value)s” is not an e-mail address.") % {"value": excerpt(cleaned[EMAIL])})
    try:
        cleaned[ORDER_DATE] = parse_date(raw.get(ORDER_DATE))
    except ValueError as exc:
        fail(ORDER_DATE, str(exc))
    logistics = text(raw.get(LOGISTICS)).lower()
    if logistics not in LOGISTICS_WORDS:
        fail(
            LOGISTICS,
            _("“%(value)s” is not a logistics choice: Dropshipping or Self-pickup.") % {"value": excerpt(logistics)},
        )
    cleaned[LOGISTICS] = LOGISTICS_WORDS.get(logistics, "")
    return cleaned, errors


# --- the template -------------------------------------------------------------------------

EXAMPLE_ROWS = [
    ["", "A-1001", "2026-01-31", "SNOWTOX-SERUM-30ML", 2, "Ada Lovelace", "+1 212 555 0101", "ada@example.com",
     "US", "NY", "New York", "12 Analytical Ave", "Apt 3", "02134", "Dropshipping", ""],
    ["", "A-1001", "2026-01-31", "GLOW-MASK-5PK", 1, "Ada Lovelace", "+1 212 555 0101", "ada@example.com",
     "US", "NY", "New York", "12 Analytical Ave", "Apt 3", "02134", "Dropshipping", "Gift wrap"],
    ["", "A-1002", "2026-02-01", "SNOWTOX-SERUM-30ML", 1, "Yuki Tanaka", "+81 3-5555-0101", "",
     "Japan", "Tokyo", "Shibuya-ku", "1-2-3 Shibuya", "", "100-0001", "Self-pickup", ""],
]  # fmt: skip


def template_xlsx(*, store_name: str = "", example: bool = True) -> bytes:
    """The order file template: the columns, text-formatted where text is meant, two example orders."""
    book = spreadsheet.XlsxBook()
    # Text columns ("@"): Excel keeps 02134 and 100-0001 as typed.
    sheet = book.sheet(
        "Orders", COLUMNS, widths=[max(12, len(name) + 4) for name in COLUMNS], text_columns=TEXT_COLUMNS
    )
    if example:
        sheet.extend([store_name or "", *row[1:]] for row in EXAMPLE_ROWS)
    return book.bytes()


def template_csv(*, store_name: str = "", example: bool = True) -> bytes:
    rows = [[store_name or "", *row[1:]] for row in EXAMPLE_ROWS] if example else []
    return spreadsheet.csv_bytes(COLUMNS, rows)
