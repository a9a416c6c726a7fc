"""The batch-import file format: its columns, reading it and writing the template, the
rejected rows and the export, through `distribution.spreadsheet` (which checks a file
against MAPPING_FILE_LIMITS before calamine reads it, and writes no cell that runs).

The columns are named by the first non-empty row, in any order, case, spacing and
punctuation ignored, by their English names or the others in ALIASES (the Chinese ones
among them); other columns are ignored, so an export can be edited and imported back.
The column names the platform writes are part of the file format and stay English.
"""

from collections.abc import Iterable
from typing import NamedTuple

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from distribution import spreadsheet

STORE = "Store"
SKU = "Store SKU"
ITEM_ID = "Item ID"
PRODUCT_ID = "Platform product ID"
VARIANT_ID = "Platform variant ID"
COLUMNS = [STORE, SKU, ITEM_ID, PRODUCT_ID, VARIANT_ID]
REQUIRED = [STORE, SKU, ITEM_ID]
# "SKU" alone stays unknown: in an order file it is the store SKU, here it would be a guess.
ALIASES = {
    STORE: ["Store name", "Shop", "店铺", "店铺名称"],
    SKU: ["Seller SKU", "店铺SKU", "店铺 SKU"],
    ITEM_ID: ["商品编号", "商品ID", "平台商品编号"],
    PRODUCT_ID: ["Product ID", "平台商品ID"],
    VARIANT_ID: ["Variant ID", "平台变体ID", "平台规格ID"],
}
FILE_COLUMNS = spreadsheet.Columns(COLUMNS, ALIASES)
MAPPINGS_SHEET = "Mappings"
STORES_SHEET = "Stores"
MAX_ROWS = 100_000
MAX_FILE_BYTES = 20 * 1024 * 1024
# 100,000 rows of the export's 9 columns with room for a few of the distributor's own;
# the cells bound calamine's memory (it holds the sheet's rectangle at 32 bytes a cell).
MAPPING_FILE_LIMITS = spreadsheet.Limits(
    what=gettext_lazy("a mapping file"),
    max_rows=MAX_ROWS,
    max_cells=1_500_000,
    max_file_bytes=MAX_FILE_BYTES,
    max_part_bytes=128 * 1024 * 1024,
    max_total_bytes=160 * 1024 * 1024,
)
XLSX_CONTENT_TYPE = spreadsheet.XLSX_CONTENT_TYPE
# Store, SKU, Item ID and the platform ids are text: an id 8123456789012 must not become 8.12E+12.
_TEXT_COLUMNS = range(len(COLUMNS))

# The file as a whole cannot be imported (not xlsx, beyond a limit, columns missing, too many rows).
FileRejected = spreadsheet.FileRejected


class SheetRow(NamedTuple):
    number: int  # the row number Excel shows (the header is usually row 1)
    store: object
    sku: object
    item_id: object
    product_id: object
    variant_id: object


def check_upload(name: str, head: bytes, size: int) -> None:
    """Refuse, before storing it, a file that cannot be an xlsx workbook."""
    spreadsheet.upload_kind(
        name,
        head,
        kinds=(spreadsheet.XLSX,),
        refusal=_("“%(name)s” is not an Excel workbook (.xlsx). Save the file as .xlsx, e.g. from the template."),
    )
    if size > MAX_FILE_BYTES:
        raise FileRejected(
            _("The file is larger than %(mb)d MB; split it into smaller files.") % {"mb": MAX_FILE_BYTES // 2**20}
        )


def read_rows(fileobj) -> tuple[list[str], list[SheetRow]]:
    """The data rows of the first sheet (or the sheet named "Mappings"): which of our
    columns are present, and each non-blank row with its Excel row number.

    Raises FileRejected for an unreadable or oversized workbook, missing columns or too many rows.
    """
    sheet = spreadsheet.read_xlsx(fileobj, limits=MAPPING_FILE_LIMITS, sheet_name=MAPPINGS_SHEET)
    positions: dict[str, int] | None = None
    rows = []
    for number, row in sheet.rows:
        if positions is None:
            if not any(spreadsheet.cell_present(v) for v in row):
                continue
            positions = FILE_COLUMNS.find(row)
            missing = [name for name in REQUIRED if name not in positions]
            if missing:
                raise FileRejected(
                    _(
                        "Columns missing: %(missing)s. The first row must name the columns %(cols)s; "
                        "download the template."
                    )
                    % {"missing": ", ".join(missing), **_cols()}
                )
            picks = [positions.get(name) for name in COLUMNS]
            continue
        if not any(spreadsheet.cell_present(v) for v in row):
            continue
        if len(rows) >= MAX_ROWS:
            raise FileRejected(
                _("The file has more than %(max)s rows; import at most %(max)s rows at a time.")
                % {"max": f"{MAX_ROWS:,}"}
            )
        rows.append(SheetRow(number, *(row[i] if i is not None and i < len(row) else None for i in picks)))
    if positions is None:
        raise FileRejected(_("The file is empty: the first row must name the columns %(cols)s.") % _cols())
    if not rows:
        raise FileRejected(_("The file has the column names but no rows to import."))
    return [name for name in COLUMNS if name in positions], rows


def _cols() -> dict:
    return {"cols": ", ".join(REQUIRED) + " " + _("(and optionally %(opt)s)") % {"opt": f"{PRODUCT_ID}, {VARIANT_ID}"}}


# --- writing ------------------------------------------------------------------------------------


def template_bytes(stores: list[tuple[int, str, str, str]]) -> bytes:
    """The import template: an empty Mappings sheet (the Store column offers the
    distributor's stores), the Stores sheet and a sheet of instructions.

    `stores` are (id, name to use in the Store column, platform label, site).
    """
    book = spreadsheet.XlsxBook()
    sheet = book.sheet(MAPPINGS_SHEET, COLUMNS, widths=(28, 28, 24, 22, 22), text_columns=_TEXT_COLUMNS)
    if stores:
        sheet.add_list_validation(f"A2:A{MAX_ROWS + 1}", f"={STORES_SHEET}!$B$2:$B${len(stores) + 1}")
    listing = book.sheet(STORES_SHEET, [_("Store number"), STORE, _("Platform"), _("Site")], widths=(None, 32))
    listing.extend(list(store) for store in stores)
    notes = book.sheet(_("Instructions"), widths=(120,))
    notes.extend([line] for line in instructions())
    return book.bytes()


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
    """The rejected rows as the user wrote them (cut to what was kept), with the row number and the reason."""
    book = spreadsheet.XlsxBook()
    sheet = book.sheet(_("Rejected rows"), [_("Row"), *COLUMNS, _("Reason")], text_columns=range(1, 6))
    sheet.extend(rejected_rows)
    return book.bytes()


def export_bytes(rows: Iterable[tuple]) -> bytes:
    """All mappings, in the import columns first (so the file can be edited and imported
    back), then columns for people that the import ignores."""
    book = spreadsheet.XlsxBook()
    header = [*COLUMNS, _("Product"), _("Warehouse"), _("Site"), _("Updated at")]
    book.sheet(MAPPINGS_SHEET, header, text_columns=_TEXT_COLUMNS).extend(rows)
    return book.bytes()
