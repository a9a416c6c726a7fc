"""The order file (guide step 6): its columns, reading it, checking each row, the template.

One row is one order line; rows with the same Order No (in the same store) form one
order. The columns are found by the header row (the first non-empty row), in any order,
case and spacing ignored; their names are part of the file format and stay English.

Values are read as text wherever text is meant: a postcode 02134 or 100-0001 and a
phone +81 3-5555-0101 are never numbers. When a spreadsheet did turn one into a
number (Excel drops the leading zero of 02134), a US postcode of fewer than five
digits gets its zeros back. Countries are ISO codes (JP, JPN) or English names.
Dates: a date cell, or text as 2026-01-31, 2026/01/31, 31.01.2026, Jan 31 2026,
31 Jan 2026, each optionally with a time; 01/02/2026 is only read when the day is
unambiguous (a number above 12 on one side), otherwise the row asks for YYYY-MM-DD.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from python_calamine import CalamineWorkbook

from distribution.errors import ApplicationError
from orders.countries import country_code as _country_code

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
MAX_ROWS = 200_000
MAX_FILE_BYTES = 50 * 1024 * 1024
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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


class FileRejected(ApplicationError):
    """The file as a whole cannot be read (not xlsx/csv, no header, columns missing, too big)."""


def _header_key(value) -> str:
    return " ".join(str(value or "").strip().lower().replace("_", " ").rstrip("*").split())


_KNOWN = {_header_key(name): name for name in COLUMNS}
_KNOWN.update({"order number": ORDER_NO, "order no.": ORDER_NO, "state": PROVINCE, "province": PROVINCE})
_KNOWN.update({"zip": POSTCODE, "postal code": POSTCODE, "address1": ADDRESS1, "address2": ADDRESS2, "qty": QUANTITY})


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
    lowered = name.lower()
    if lowered.endswith(".xlsx") and head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if lowered.endswith((".csv", ".txt")) and not head.startswith(b"PK\x03\x04"):
        return "csv"
    raise FileRejected(
        _("“%(name)s” is not an order file: upload the template filled in, as .xlsx or .csv.") % {"name": name}
    )


def _xlsx_rows(path: str) -> tuple[int, Iterator[list]]:
    workbook = CalamineWorkbook.from_path(path)
    sheet = workbook.get_sheet_by_index(0)

    def rows():
        try:
            yield from sheet.iter_rows()
        finally:
            workbook.close()

    return sheet.total_height, rows()


def _csv_rows(path: str) -> tuple[int, Iterator[list]]:
    with open(path, "rb") as handle:
        head = handle.read(65536)
        lines = head.count(b"\n")
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            lines += chunk.count(b"\n")
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the end of the sample
            raise FileRejected(_("The CSV file is not UTF-8 text: save it as “CSV UTF-8”.")) from None
    sample = head.decode("utf-8-sig", errors="ignore").splitlines()
    try:
        dialect = csv.Sniffer().sniff(sample[0] if sample else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel

    def rows():
        with open(path, encoding="utf-8-sig", newline="") as handle:
            try:
                yield from csv.reader(handle, dialect)
            except UnicodeDecodeError:
                raise FileRejected(_("The CSV file is not UTF-8 text: save it as “CSV UTF-8”.")) from None

    return lines + 1, rows()


@dataclass(frozen=True)
class SheetRow:
    number: int  # the row number a spreadsheet shows
    values: dict  # column name -> raw cell value


def open_rows(path: str, kind: str) -> tuple[int, Iterator[SheetRow]]:
    """(rows in the file, counting the header, for a progress bar; the data rows, streamed)."""
    try:
        total, rows = _xlsx_rows(path) if kind == "xlsx" else _csv_rows(path)
    except FileRejected:
        raise
    except Exception as exc:  # calamine raises its own kinds for a damaged file
        raise FileRejected(_("The file cannot be read: %(error)s") % {"error": exc}) from exc
    return total, _data_rows(rows)


def _data_rows(rows) -> Iterator[SheetRow]:
    columns: dict[int, str] | None = None
    try:
        for number, row in enumerate(rows, start=1):
            if columns is None:
                if not any(text(cell) for cell in row):
                    continue
                columns = {}
                for index, cell in enumerate(row):
                    name = _KNOWN.get(_header_key(cell))
                    if name and name not in columns.values():
                        columns[index] = name
                missing = [name for name in REQUIRED if name not in columns.values()]
                if missing:
                    raise FileRejected(
                        _("The file has no column %(columns)s. Use the template: its first row names the columns.")
                        % {"columns": ", ".join(f"“{name}”" for name in missing)}
                    )
                continue
            if number > MAX_ROWS + 1:
                raise FileRejected(_("The file has more than %(max)d rows; split it.") % {"max": MAX_ROWS})
            values = {name: row[index] if index < len(row) else None for index, name in columns.items()}
            if any(text(value) for value in values.values()):
                yield SheetRow(number, values)
    except FileRejected:
        raise
    except Exception as exc:  # calamine and csv raise their own kinds for a damaged file
        raise FileRejected(_("The file cannot be read: %(error)s") % {"error": exc}) from exc
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
        raise ValueError(_("“%(value)s” is not a date.") % {"value": text(value)})
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
    raise ValueError(_("“%(value)s” is not a date; write it as YYYY-MM-DD.") % {"value": raw})


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
            raise ValueError(_("“%(value)s” is not a quantity.") % {"value": value}) from None
    if isinstance(number, bool) or not isinstance(number, int | float) or number != int(number):
        raise ValueError(_("The quantity must be a whole number."))
    if number < 1:
        raise ValueError(_("The quantity must be at least 1."))
    if number > 100_000:
        raise ValueError(_("The quantity is too large."))
    return int(number)


def parse_postcode(value, country: str | None) -> str:
    code = text(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and country == "US" and code.isdigit():
        code = code.zfill(5)  # the spreadsheet took 02134 for a number and dropped the zero
    return code


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
            fail(column, _("Longer than %(max)d characters.") % {"max": LIMITS[column]})
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
            % {"value": text(raw.get(COUNTRY))},
        )
    cleaned[COUNTRY] = country or ""
    cleaned[POSTCODE] = parse_postcode(raw.get(POSTCODE), country)
    if len(cleaned[POSTCODE]) > LIMITS[POSTCODE]:
        fail(POSTCODE, _("Longer than %(max)d characters.") % {"max": LIMITS[POSTCODE]})
    if cleaned[EMAIL] and not _is_email(cleaned[EMAIL]):
        fail(EMAIL, _("“%(value)s” is not an e-mail address.") % {"value": cleaned[EMAIL]})
    try:
        cleaned[ORDER_DATE] = parse_date(raw.get(ORDER_DATE))
    except ValueError as exc:
        fail(ORDER_DATE, str(exc))
    logistics = text(raw.get(LOGISTICS)).lower()
    if logistics not in LOGISTICS_WORDS:
        fail(LOGISTICS, _("“%(value)s” is not a logistics choice: Dropshipping or Self-pickup.") % {"value": logistics})
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
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Orders"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    if example:
        for row in EXAMPLE_ROWS:
            sheet.append([store_name or "", *row[1:]])
    text_columns = {ORDER_NO, SKU, PHONE, POSTCODE}
    for index, name in enumerate(COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(name) + 4)
        if name in text_columns:
            # "@" = Text: Excel keeps 02134 and 100-0001 as typed.
            for row in range(2, 1001):
                sheet.cell(row=row, column=index).number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_csv(*, store_name: str = "", example: bool = True) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    if example:
        for row in EXAMPLE_ROWS:
            writer.writerow([store_name or "", *row[1:]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
