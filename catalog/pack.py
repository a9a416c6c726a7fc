"""The product pack: one zip with an xlsx product sheet, the images and the documents.

The zip is produced while it is sent: `zipfile` writes into a sink that the
generator empties after every chunk, so a pack of many megabytes never sits in
memory or on disk as a whole, and the first bytes leave at once.
"""

import io
import os
import zipfile
from collections.abc import Iterator

from django.utils.translation import gettext as _

from distribution import spreadsheet

from .models import Product

CHUNK_BYTES = 64 * 1024


class _Sink(io.RawIOBase):
    """A write-only, unseekable stream; zipfile then writes data descriptors."""

    def __init__(self):
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def product_sheet(product: Product, *, with_prices: bool = True) -> bytes:
    """The product, its items and its documents as an xlsx workbook (three sheets); staff
    type the names and descriptions, so no cell of it runs as a formula. Without prices
    (a member who sees no money) the items sheet has no price or currency column."""
    book = spreadsheet.XlsxBook()
    sheet = book.sheet(_("Product"), [_("Field"), _("Value")], widths=(28, 60))
    size = " × ".join(str(v) for v in (product.length_cm, product.width_cm, product.height_cm) if v is not None)
    rows = [
        (_("Product code"), product.code),
        (_("Name"), product.name),
        (_("Brand"), product.brand),
        (_("Category"), str(product.category) if product.category else ""),
        (_("Description"), product.description),
        (_("HS code"), product.hs_code),
        (_("Declared value"), product.declared_value),
        (_("Declared value currency"), product.declared_value_currency),
        (_("Weight (g)"), product.weight_grams),
        (_("Size (cm)"), size),
        (_("Cloud-drive link"), product.cloud_drive_url),
        (_("Cloud-drive access code"), product.cloud_drive_access_code),
    ]
    rows += [(str(key), str(value)) for key, value in (product.attributes or {}).items()]
    sheet.extend(rows)

    price_columns = [_("Distribution price"), _("Currency")] if with_prices else []
    items_sheet = book.sheet(
        _("Items"),
        [
            _("Item ID"),
            _("Warehouse"),
            _("Warehouse name"),
            _("Sites served"),
            _("Variant"),
            _("Barcode"),
            *price_columns,
            _("Weight (g)"),
            _("Available stock"),
        ],
        widths=(22,),
        text_columns=(0, 5),  # Item ID, barcode
    )
    for item in product.visible_items:
        prices = [item.price, item.currency] if with_prices else []
        items_sheet.append(
            [
                item.item_id,
                item.warehouse.code,
                item.warehouse.name,
                item.warehouse.sites,
                ", ".join(f"{k}: {v}" for k, v in (item.variant_attributes or {}).items()),
                item.barcode,
                *prices,
                item.weight_grams,
                max(item.available, 0),
            ]
        )

    documents_sheet = book.sheet(_("Documents"), [_("Type"), _("Title"), _("Valid until"), _("File in this pack")])
    for document, path in _document_paths(product):
        documents_sheet.append(
            [str(document.get_doc_type_display()), document.display_title, document.valid_until, path]
        )
    return book.bytes()


def _unique(path: str, taken: set[str]) -> str:
    stem, ext = os.path.splitext(path)
    candidate, n = path, 2
    while candidate in taken:
        candidate = f"{stem}-{n}{ext}"
        n += 1
    taken.add(candidate)
    return candidate


def _document_paths(product: Product) -> list[tuple]:
    taken: set[str] = set()
    return [
        (document, _unique(f"documents/{document.doc_type}-{document.filename}", taken))
        for document in product.document_list
    ]


def _image_paths(product: Product) -> list[tuple]:
    taken: set[str] = set()
    return [
        (image, _unique(f"images/{n:02d}-{image.filename}", taken)) for n, image in enumerate(product.image_list, 1)
    ]


def pack_filename(product: Product) -> str:
    return f"{product.code}-product-pack.zip"


def product_pack_stream(product: Product, *, with_prices: bool = True) -> Iterator[bytes]:
    """Yield the zip's bytes. `product` comes from selectors.product_detail_queryset()."""
    sink = _Sink()
    folder = product.code
    files = [(image.file, path) for image, path in _image_paths(product)]
    files += [(document.file, path) for document, path in _document_paths(product)]
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/{product.code}-product-sheet.xlsx", product_sheet(product, with_prices=with_prices))
        yield sink.drain()
        for field_file, path in files:
            with field_file.open("rb") as source, archive.open(f"{folder}/{path}", mode="w") as target:
                while chunk := source.read(CHUNK_BYTES):
                    target.write(chunk)
                    yield sink.drain()
            yield sink.drain()
    yield sink.drain()
