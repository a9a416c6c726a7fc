"""The batch-import file format: reading it (python-calamine, fast) and writing the
template, the rejected rows and the export (openpyxl, write-only mode).

The columns are named by the first non-empty row, in any order, case and spacing
ignored; other columns are ignored, so an export can be edited and imported back.
The column names are part of the file format and stay English in every language.
"""

import io
from collections.abc import Iterable
from typing import NamedTuple

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook

from distribution.errors import ApplicationError

STORE = "Store"
SKU = "Store SKU"
ITEM_ID = "Item ID"
PRODUCT_ID = "Platform product ID"
VARIANT_ID = "Platform variant ID"
COLUMNS = [STORE, SKU, ITEM_ID, PRODUCT_ID, VARIANT_ID]
REQUIRED = [STORE, SKU, ITEM_ID]
MAPPINGS_SHEET = "Mappings"
STORES_SHEET = "Stores"
MAX_ROWS = 100_000
MAX_FILE_BYTES = 20 * 1024 * 1024
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FileRejected(ApplicationError):
    """The file as a whole cannot be imported (not xlsx, columns missing, too many rows)."""


class SheetRow(NamedTuple):
    number: int  # the row number Excel shows (the header is usually row 1)
    store: object
    sku: object
    item_id: object
    product_id: object
    variant_id: object


def _header_key(value) -> str:
    text = str(value or "").strip().lower().replace("_", " ").rstrip("*").strip()
    for suffix in ("(optional)", "(required)"):
        text = text.removesuffix(suffix).strip()
    return " ".join(text.split())


_KNOWN = {_header_key(name): name for name in COLUMNS}


def check_upload(name: str, head: bytes, size: int) -> None:
    """Refuse, before storing it, a file that cannot be an xlsx workbook."""
    if not name.lower().endswith(".xlsx") or not head.startswith(b"PK\x03\x04"):
        raise FileRejected(
            _("“%(name)s” is not an Excel workbook (.xlsx). Save the file as .xlsx, e.g. from the template.")
            % {"name": name}
        )
    if size > MAX_FILE_BYTES:
        raise FileRejected(
            _("The file is larger than %(mb)d MB; split it into smaller files.") % {"mb": MAX_FILE_BYTES // 2**20}
        )


def read_rows(fileobj) -> tuple[list[str], list[SheetRow]]:
    """The data rows of the first sheet (or the sheet named "Mappings"): which of our
    columns are present, and each non-blank row with its Excel row number.

    Raises FileRejected for an unreadable workbook, missing columns or too many rows.
    """
    try:
        workbook = CalamineWorkbook.from_filelike(fileobj)
        if MAPPINGS_SHEET in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(MAPPINGS_SHEET)
        else:
            sheet = workbook.get_sheet_by_index(0)
        # From row 1 (not from the first filled cell), so list index + 1 is the row Excel shows.
        values = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own errors and ValueError/OSError for a broken zip
        raise FileRejected(_("The file could not be read as an Excel workbook (.xlsx): %(e)s") % {"e": exc}) from None

    header_index = next((i for i, row in enumerate(values) if any(_cell_present(v) for v in row)), None)
    if header_index is None:
        raise FileRejected(_("The file is empty: the first row must name the columns %(cols)s.") % _cols())
    header = values[header_index]
    positions: dict[str, int] = {}
    for position, value in enumerate(header):
        name = _KNOWN.get(_header_key(value))
        if name and name not in positions:
            positions[name] = position
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise FileRejected(
            _("Columns missing: %(missing)s. The first row must name the columns %(cols)s; download the template.")
            % {"missing": ", ".join(missing), **_cols()}
        )

    # calamine gives every row the sheet's full width; an absent optional column reads as
    # the padding cell appended here.
    width = len(header)
    picks = [positions.get(name, width) for name in COLUMNS]
    rows = []
    for index in range(header_index + 1, len(values)):
        row = values[index]
        if not any(_cell_present(v) for v in row):
            continue
        padded = [*row, None] if len(row) == width else [*row[:width], *[None] * (width + 1 - min(len(row), width))]
        rows.append(SheetRow(index + 1, *(padded[i] for i in picks)))
    if len(rows) > MAX_ROWS:
        raise FileRejected(
            _("The file has more than %(max)s rows; import at most %(max)s rows at a time.") % {"max": f"{MAX_ROWS:,}"}
        )
    if not rows:
        raise FileRejected(_("The file has the column names but no rows to import."))
    return [name for name in COLUMNS if name in positions], rows


def _cell_present(value) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _cols() -> dict:
    return {"cols": ", ".join(REQUIRED) + " " + _("(and optionally %(opt)s)") % {"opt": f"{PRODUCT_ID}, {VARIANT_ID}"}}


# --- writing ------------------------------------------------------------------------------------


def _bold_row(sheet, values: Iterable[str]) -> list:
    cells = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def _text_cells(sheet, values: Iterable) -> list:
    """A row whose text is never read as a formula: a store SKU such as "=A1+1" (or a
    crafted "=HYPERLINK(...)") stays the text it is when the file is opened."""
    cells = []
    for value in values:
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cells.append(cell)
        else:
            cells.append(value)
    return cells


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_bytes(stores: list[tuple[int, str, str, str]]) -> bytes:
    """The import template: an empty Mappings sheet (the Store column offers the
    distributor's stores), the Stores sheet and a sheet of instructions.

    `stores` are (id, name to use in the Store column, platform label, site).
    """
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = MAPPINGS_SHEET
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDE", (28, 28, 24, 22, 22), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    if stores:
        validation = DataValidation(
            type="list", formula1=f"={STORES_SHEET}!$B$2:$B${len(stores) + 1}", allow_blank=True, showErrorMessage=False
        )
        sheet.add_data_validation(validation)
        validation.add(f"A2:A{MAX_ROWS + 1}")

    listing = workbook.create_sheet(STORES_SHEET)
    listing.append([_("Store number"), STORE, _("Platform"), _("Site")])
    for cell in listing[1]:
        cell.font = Font(bold=True)
    for store in stores:
        listing.append(list(store))
    listing.column_dimensions["B"].width = 32

    notes = workbook.create_sheet(_("Instructions"))
    for line in instructions():
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    return _save(workbook)


def instructions() -> list[str]:
    from .skus import SKU_RULE

    return [
        _("One row per store SKU, on the Mappings sheet. Keep the first row (the column names) as it is."),
        _("Store: the store's name as on the Stores sheet (or its store number)."),
        _("Store SKU: the SKU in your store. %(rule)s") % {"rule": SKU_RULE},
        _("Item ID: the platform's Item ID, e.g. LS228800001-01-01. Its warehouse must serve the store's site."),
        _("Platform product ID, Platform variant ID: optional; left blank, the ones already saved are kept."),
        _("A store SKU that is already mapped is changed to the new Item ID; the same store SKU twice is refused."),
        _("At most %(max)s rows per file. Nothing is saved until you confirm the preview.") % {"max": f"{MAX_ROWS:,}"},
    ]


def rejects_bytes(rejected_rows: list[list]) -> bytes:
    """The rejected rows as the user wrote them, with the row number and the reason."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Rejected rows"))
    sheet.append(_bold_row(sheet, [_("Row"), *COLUMNS, _("Reason")]))
    for row in rejected_rows:
        sheet.append(_text_cells(sheet, row))
    return _save(workbook)


def export_bytes(rows: Iterable[tuple]) -> bytes:
    """All mappings, in the import columns first (so the file can be edited and imported
    back), then columns for people that the import ignores."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(MAPPINGS_SHEET)
    sheet.append(_bold_row(sheet, [*COLUMNS, _("Product"), _("Warehouse"), _("Site"), _("Updated at")]))
    for row in rows:
        sheet.append(_text_cells(sheet, row))
    return _save(workbook)
