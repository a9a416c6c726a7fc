"""Spreadsheets in and out, for every importer and every export of the platform.

Reading: `read_sheet` (xlsx or CSV) checks a file against an importer's `Limits` before
anything allocates in proportion to what the file claims, and yields its rows with the
row numbers a spreadsheet shows. xlsx files are checked part by part while they are
inflated (`archive`, `scan`) and only then read by python-calamine (`xlsx`); CSV files
are decoded in the encoding Excel saved them in and parsed in Excel's dialect
(`csvfile`). Columns are found by name with `Columns` (`headers`).

Writing: `XlsxBook` and `csv_bytes` (`writers`) write files whose cells never run as
formulas, with ids, phones and postcodes kept as text.

This module sits at the bottom of the platform: it knows no app, only Django, the
standard library, openpyxl and python-calamine.
"""

from django.utils.translation import gettext as _

from .csvfile import Encoding, detect_encoding, read_csv
from .headers import Columns, header_key
from .limits import EXCEL_CELL_CHARS, HEADER_ROOM, FileRejected, Limits, Sheet
from .writers import (
    CSV_CONTENT_TYPE,
    FORMULA_TRIGGERS,
    XLSX_CONTENT_TYPE,
    XlsxBook,
    XlsxSheet,
    as_text,
    csv_bytes,
    csv_cell,
    write_csv,
)
from .xlsx import check_xlsx, read_xlsx

XLSX, CSV = "xlsx", "csv"
_ZIP = b"PK\x03\x04"
# An encrypted (password-protected) xlsx, like an old .xls, is an OLE compound file.
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

__all__ = [
    "CSV",
    "CSV_CONTENT_TYPE",
    "EXCEL_CELL_CHARS",
    "FORMULA_TRIGGERS",
    "HEADER_ROOM",
    "XLSX",
    "XLSX_CONTENT_TYPE",
    "Columns",
    "Encoding",
    "FileRejected",
    "Limits",
    "Sheet",
    "XlsxBook",
    "XlsxSheet",
    "as_text",
    "check_xlsx",
    "csv_bytes",
    "csv_cell",
    "detect_encoding",
    "excerpt",
    "file_kind",
    "header_key",
    "is_compound_file",
    "read_csv",
    "read_sheet",
    "read_xlsx",
    "upload_kind",
    "cell_present",
    "write_csv",
]


def file_kind(name: str, head: bytes) -> str | None:
    """XLSX or CSV from the file's name and first bytes; None for anything else."""
    lowered = name.lower()
    if lowered.endswith(".xlsx") and head.startswith(_ZIP):
        return XLSX
    if lowered.endswith((".csv", ".txt", ".tsv")) and not head.startswith((_ZIP, _OLE)):
        return CSV
    return None


def is_compound_file(head: bytes) -> bool:
    """An old .xls, or an xlsx saved with a password."""
    return head.startswith(_OLE)


def upload_kind(name: str, head: bytes, *, refusal: str, kinds: tuple[str, ...] = (XLSX, CSV)) -> str:
    """The kind of an uploaded file, from its name and first bytes, if it is one of `kinds`;
    FileRejected otherwise: an old .xls (or a workbook with a password) is told how to save
    it, anything else gets `refusal` (a message with %(name)s, the file's name cut short)."""
    kind = file_kind(name, head)
    if kind in kinds:
        return kind
    if is_compound_file(head):
        raise FileRejected(
            _("“%(name)s” is an old .xls workbook or has a password: save it as .xlsx without a password.")
            % {"name": excerpt(name, 80)}
        )
    raise FileRejected(refusal % {"name": excerpt(name, 80)})


def cell_present(value) -> bool:
    """Whether a cell holds anything: not empty, not only spaces."""
    return value is not None and not (isinstance(value, str) and not value.strip())


def read_sheet(source, *, kind: str, limits: Limits, sheet_name: str | None = None) -> Sheet:
    """The rows of an xlsx (its first sheet, or `sheet_name` when it has one) or CSV file."""
    if kind == XLSX:
        return read_xlsx(source, limits=limits, sheet_name=sheet_name)
    return read_csv(source, limits=limits)


def excerpt(value, length: int = 100) -> str:
    """The start of a text to quote back to a person: never the whole of a huge cell."""
    text = as_text(value)
    return text if len(text) <= length else text[:length] + "…"
