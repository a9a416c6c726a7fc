"""Writing xlsx and CSV files that can do no harm when they are opened.

No cell the platform writes runs as a formula: a value from outside (a buyer's name
"=HYPERLINK(...)", a store SKU "@SUM(1,1)") is written as a string cell in xlsx, and in
CSV, where Excel parses every cell, a value starting with =, +, -, @, tab or carriage
return gets a leading apostrophe (OWASP, CSV injection); our CSV reader takes it off
again. Postcodes, phones and ids are written as text (format "@", string cells), so
02134 keeps its zero and 8123456789012 does not become 8.12E+12.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .limits import EXCEL_CELL_CHARS

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
_PLAIN = (bool, int, float, Decimal, date, time, datetime)


def _clean(text: str) -> str:
    # openpyxl refuses control characters; Excel cannot hold more than 32,767 characters.
    if not text.isprintable():
        text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text if len(text) <= EXCEL_CELL_CHARS else text[: EXCEL_CELL_CHARS - 1] + "…"


def as_text(value) -> str:
    """A value as the text a person typed: 12345.0 from a spreadsheet is '12345'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def csv_cell(value) -> str:
    """One CSV cell, neutralised if Excel would run it."""
    text = as_text(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_TRIGGERS) else text


class XlsxSheet:
    def __init__(self, worksheet, text_columns: set[int]):
        self.worksheet = worksheet
        self.text_columns = text_columns

    def append(self, values: Iterable) -> None:
        self.worksheet.append([self._cell(index, value) for index, value in enumerate(values)])

    def extend(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.append(row)

    def add_list_validation(self, cells: str, formula: str) -> None:
        """A drop-down of the cells `formula` names (e.g. "=Stores!$B$2:$B$9") over `cells`."""
        validation = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=False)
        validation.add(cells)
        self.worksheet.data_validations.append(validation)

    def _cell(self, index: int, value):
        if value is None or value == "":
            return None  # an empty cell, not a text of nothing
        if index in self.text_columns:
            cell = WriteOnlyCell(self.worksheet, value=_clean(as_text(value)))
            cell.data_type, cell.number_format = "s", "@"
            return cell
        if isinstance(value, datetime) and value.tzinfo is not None:
            return timezone.localtime(value).replace(tzinfo=None)
        if isinstance(value, _PLAIN):
            return value
        text = _clean(str(value))
        if text.startswith(FORMULA_TRIGGERS) or text in ERROR_CODES:
            cell = WriteOnlyCell(self.worksheet, value=text)
            cell.data_type = "s"  # openpyxl would make "=..." a formula and "#N/A" an error
            return cell
        return text


class XlsxBook:
    """A write-only workbook (memory stays flat however many rows) of one or more sheets."""

    def __init__(self):
        self.workbook = Workbook(write_only=True)
        self._bold = Font(bold=True)

    def sheet(
        self,
        title: str,
        header: Sequence = (),
        *,
        widths: Sequence[float] = (),
        text_columns: Iterable[int] = (),
        freeze_header: bool = True,
    ) -> XlsxSheet:
        """A new sheet with a bold header row; `text_columns` (0-based) hold text, typed or written."""
        worksheet = self.workbook.create_sheet(str(title)[:31])
        text = set(text_columns)
        for index, width in enumerate(widths):
            if width:
                worksheet.column_dimensions[get_column_letter(index + 1)].width = width
        for index in text:
            # The column's own format, so what a person types there later stays text too.
            worksheet.column_dimensions[get_column_letter(index + 1)].number_format = "@"
        sheet = XlsxSheet(worksheet, text)
        if header:
            if freeze_header:
                worksheet.freeze_panes = "A2"
            cells = []
            for value in header:
                cell = WriteOnlyCell(worksheet, value=_clean(str(value)))
                cell.data_type = "s"
                cell.font = self._bold
                cells.append(cell)
            worksheet.append(cells)
        return sheet

    def bytes(self) -> bytes:
        out = io.BytesIO()
        self.workbook.save(out)
        return out.getvalue()

    def save(self, path) -> None:
        self.workbook.save(path)


def csv_bytes(header: Sequence, rows: Iterable[Iterable]) -> bytes:
    """A CSV file Excel opens as UTF-8 (byte-order mark), comma-separated, cells neutralised."""
    out = io.StringIO()
    write_csv(out, header, rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_csv(handle, header: Sequence, rows: Iterable[Iterable]) -> None:
    """Into a text file opened with newline="" (and encoding "utf-8-sig" for Excel)."""
    writer = csv.writer(handle)
    writer.writerow([csv_cell(str(value)) for value in header])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
