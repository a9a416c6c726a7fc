"""What a file may hold, and the one error every refusal raises."""

from collections.abc import Iterator
from dataclasses import dataclass

from distribution.errors import ApplicationError

# Rows a sheet may hold above its header (a title, blank lines) beyond the data rows.
HEADER_ROOM = 10
# Excel's own ceiling for the text of one cell.
EXCEL_CELL_CHARS = 32_767


class FileRejected(ApplicationError):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class Limits:
    """One importer's ceilings, checked before any sheet reaches calamine.

    `what` names the file in messages ("an order file"): a lazy translatable string.
    `max_cells` bounds rows x columns of the sheet's used area, because calamine
    allocates that rectangle densely (32 bytes a cell) whatever the cells hold.
    """

    what: str
    max_rows: int
    max_cells: int
    max_file_bytes: int
    max_part_bytes: int
    max_total_bytes: int
    max_columns: int = 64
    max_ratio: int = 100
    max_parts: int = 1_000

    @property
    def row_limit(self) -> int:
        """The farthest row a sheet may reach: the data rows, a header and a little room above it."""
        return self.max_rows + 1 + HEADER_ROOM


@dataclass
class Sheet:
    """A sheet ready to read: its rows as (the row number a spreadsheet shows, the cell values)."""

    kind: str  # "xlsx" or "csv"
    rows: Iterator[tuple[int, list]]
    total_rows: int  # for a progress bar
    encoding: str = ""  # a CSV file's, as people know it
    name: str = ""  # an xlsx file's sheet
