"""The balance history as a spreadsheet (xlsx or csv) that cannot run anything.

`spreadsheet_response` writes the file through the platform's safe writers
(`distribution.spreadsheet`): in xlsx every text is a string cell (never a formula), in
csv a text starting with = + - @, a tab or a carriage return gets a leading single
quote. Amounts stay numbers, negative ones included.
"""

import csv
import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from distribution.money import DEFAULT_CURRENCY, quantize
from distribution.spreadsheet import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, XlsxBook, csv_cell

FORMATS = ("xlsx", "csv")
# The reference and memo columns are text whatever they hold (an order number, a reason).
TEXT_COLUMNS = (2, 3)
WIDTHS = (18, 18, 24, 40, 14, 16)


class _Echo:
    def write(self, value):
        return value


def spreadsheet_response(*, fmt: str, filename: str, headers: Sequence[str], rows: Iterable[Sequence]):
    """`rows` (text, numbers, naive datetimes) as a download; csv is streamed, xlsx is
    written to a temporary file (write-only mode: memory stays flat)."""
    if fmt == "csv":

        def lines():
            writer = csv.writer(_Echo())
            yield "\ufeff"  # so that spreadsheet programs read the file as UTF-8
            yield writer.writerow([csv_cell(str(value)) for value in headers])
            for row in rows:
                yield writer.writerow(
                    [csv_cell(f"{value:%Y-%m-%d %H:%M:%S}" if isinstance(value, datetime) else value) for value in row]
                )

        response = StreamingHttpResponse(lines(), content_type=CSV_CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition_header(True, f"{filename}.csv")
        return response
    book = XlsxBook()
    book.sheet(filename, headers, widths=WIDTHS, text_columns=TEXT_COLUMNS).extend(rows)
    out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it once sent)
    book.save(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=f"{filename}.xlsx", content_type=XLSX_CONTENT_TYPE)


def history_headers() -> list[str]:
    return [_("Time"), _("Type"), _("Reference"), _("Memo"), _("Amount (USD)"), _("Balance after (USD)")]


def history_rows(entries) -> Iterable[list]:
    """One row per balance entry, newest first (the page's order), read in chunks."""
    for entry in entries.iterator(chunk_size=2000):
        posted = entry.transaction
        yield [
            timezone.localtime(posted.created_at).replace(tzinfo=None),
            posted.get_kind_display(),
            entry.reference or posted.reference,
            posted.memo,
            quantize(entry.amount, DEFAULT_CURRENCY),
            quantize(entry.balance_after, DEFAULT_CURRENCY) if entry.balance_after is not None else None,
        ]
