"""The tracking file staff import in the admin: one row per order the warehouse shipped
without telling us, with its carrier and tracking number.

Read through `distribution.spreadsheet` (the file is checked against TRACKING_FILE_LIMITS
before it is read; order and tracking numbers stay text), then every row is checked and
shown in the preview as ok or with its error. Confirming applies the rows that were ok,
checked again (an order may have moved since the preview), each as `tracking_enter`
with the source "tracking file", so the order ships and its tracking goes on to the
stores exactly as when the warehouse reports it.

Columns are found by name in the first non-empty row, in any order, by their English
names or the other names in ALIASES; other columns are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from distribution import spreadsheet
from distribution.errors import ApplicationError
from distribution.spreadsheet import as_text, excerpt
from orders.models import Logistics, Order, OrderStatus

from .changes import tracking_enter
from .models import Outbound, Shipment

ORDER_NO = "Order No"
CARRIER = "Carrier"
TRACKING_NO = "Tracking No"
TRACKING_URL = "Tracking URL"
COLUMNS = [ORDER_NO, CARRIER, TRACKING_NO, TRACKING_URL]
REQUIRED = [ORDER_NO, CARRIER, TRACKING_NO]
ALIASES = {
    ORDER_NO: ["Order number", "Our order", "订单号", "订单编号"],
    CARRIER: ["Carrier name", "Courier", "物流商", "承运商", "快递公司"],
    TRACKING_NO: ["Tracking number", "Tracking", "运单号", "跟踪号", "物流单号"],
    TRACKING_URL: ["Tracking link", "跟踪链接", "查询链接"],
}
FILE_COLUMNS = spreadsheet.Columns(COLUMNS, ALIASES)
MAX_ROWS = 5_000
MAX_FILE_BYTES = 5 * 1024 * 1024
TRACKING_FILE_LIMITS = spreadsheet.Limits(
    what=gettext_lazy("a tracking file"),
    max_rows=MAX_ROWS,
    max_cells=100_000,
    max_file_bytes=MAX_FILE_BYTES,
    max_part_bytes=32 * 1024 * 1024,
    max_total_bytes=48 * 1024 * 1024,
    max_columns=32,
)
# The model's limits.
CARRIER_MAX, TRACKING_MAX, URL_MAX = 100, 64, 500
# Excel keeps 15 significant digits of a number: a longer tracking number typed into a
# cell not formatted as text has lost its last digits already.
EXACT_DIGITS = 10**15
# Orders that take tracking from the file: at the warehouse (a cancel request may still
# be refused because it shipped). tracking_enter also takes shipped orders (a second
# package); a file is for orders we have not heard of, so it does not.
OPEN_STATUSES = (OrderStatus.AT_WAREHOUSE, OrderStatus.CANCEL_REQUESTED)

_url = URLValidator(schemes=["http", "https"])


@dataclass
class TrackingRow:
    """One row of the file as the preview shows it: ok, or the reason it is not."""

    number: int  # the row number the spreadsheet shows
    order_number: str
    carrier: str
    tracking_number: str
    tracking_url: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def data(self) -> list:
        return [self.number, self.order_number, self.carrier, self.tracking_number, self.tracking_url]

    @classmethod
    def from_data(cls, data: list) -> TrackingRow:
        number, order_number, carrier, tracking_number, tracking_url = data
        return cls(int(number), str(order_number), str(carrier), str(tracking_number), str(tracking_url))


@dataclass
class ReadFile:
    rows: list[TrackingRow]

    @property
    def valid(self) -> list[TrackingRow]:
        return [row for row in self.rows if row.ok]

    @property
    def invalid(self) -> list[TrackingRow]:
        return [row for row in self.rows if not row.ok]


@dataclass
class Applied:
    """What the confirm step did: rows applied, and rows not applied with the reason."""

    applied: list[TrackingRow] = field(default_factory=list)
    refused: list[TrackingRow] = field(default_factory=list)


# --- reading --------------------------------------------------------------------------------


def check_upload(name: str, head: bytes) -> str:
    """The file's kind (xlsx or csv), or FileRejected for anything else."""
    return spreadsheet.upload_kind(name, head, refusal=_("“%(name)s” is not an Excel workbook (.xlsx) or a CSV file."))


def _header(row: list) -> dict[str, int]:
    positions = FILE_COLUMNS.find(row)
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise spreadsheet.FileRejected(
            _("Columns missing: %(missing)s. The first row must name the columns %(cols)s; download the template.")
            % {"missing": ", ".join(missing), "cols": ", ".join(COLUMNS)}
        )
    return positions


def _lost_digits(value) -> bool:
    """A tracking number Excel stored as a number it could not hold exactly."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) >= EXACT_DIGITS or (isinstance(value, float) and not value.is_integer())


def _cell_problems(cells: dict) -> list[str]:
    """What is wrong with the cells themselves, before anything is looked up."""
    raw_tracking = cells.get(TRACKING_NO)
    if _lost_digits(raw_tracking):
        return [
            _(
                "Tracking No was saved as a number (%(value)s) and has lost digits: format the column "
                "as text and type it again."
            )
            % {"value": excerpt(raw_tracking, 30)}
        ]
    return []


def _row(number: int, cells: dict) -> TrackingRow:
    row = TrackingRow(
        number=number,
        order_number=as_text(cells.get(ORDER_NO)).strip().upper(),
        carrier=" ".join(as_text(cells.get(CARRIER)).split()),
        tracking_number="".join(as_text(cells.get(TRACKING_NO)).split()),
        tracking_url=as_text(cells.get(TRACKING_URL)).strip(),
    )
    problems = _cell_problems(cells)
    if problems:
        row.error = " ".join(problems)
    return row


def parse_tracking_file(fileobj, *, name: str) -> ReadFile:
    """Every row of a tracking file, each checked (see `rows_check`).

    Raises FileRejected when the file as a whole cannot be read: not a spreadsheet, over
    a limit, damaged, columns missing, no rows."""
    fileobj.seek(0)
    kind = check_upload(name, fileobj.read(8))
    sheet = spreadsheet.read_sheet(fileobj, kind=kind, limits=TRACKING_FILE_LIMITS, sheet_name=_("Tracking"))
    positions: dict[str, int] | None = None
    rows: list[TrackingRow] = []
    for number, values in sheet.rows:
        if not any(spreadsheet.cell_present(value) for value in values):
            continue
        if positions is None:
            positions = _header(values)
            continue
        if len(rows) >= MAX_ROWS:
            raise spreadsheet.FileRejected(
                _("The file has more than %(max)s rows; split it into smaller files.") % {"max": f"{MAX_ROWS:,}"}
            )
        cells = {column: values[index] if index < len(values) else None for column, index in positions.items()}
        rows.append(_row(number, cells))
    if positions is None:
        raise spreadsheet.FileRejected(
            _("The file is empty: the first row must name the columns %(cols)s.") % {"cols": ", ".join(COLUMNS)}
        )
    if not rows:
        raise spreadsheet.FileRejected(_("The file has the column names but no rows to import."))
    rows_check(rows)
    return ReadFile(rows=rows)


# --- checking -------------------------------------------------------------------------------


def _own_problems(row: TrackingRow) -> list[str]:
    problems = []
    if not row.order_number:
        problems.append(_("Order No is missing."))
    if not row.carrier:
        problems.append(_("Carrier is missing."))
    elif len(row.carrier) > CARRIER_MAX:
        problems.append(_("Carrier is longer than %(max)d characters.") % {"max": CARRIER_MAX})
    if not row.tracking_number:
        problems.append(_("Tracking No is missing."))
    elif len(row.tracking_number) > TRACKING_MAX:
        problems.append(_("Tracking No is longer than %(max)d characters.") % {"max": TRACKING_MAX})
    if row.tracking_url:
        try:
            if len(row.tracking_url) > URL_MAX:
                raise ValidationError("too long")
            _url(row.tracking_url)
        except ValidationError:
            problems.append(
                _("Tracking URL “%(url)s” is not a web address (http:// or https://, at most %(max)d characters).")
                % {"url": excerpt(row.tracking_url, 60), "max": URL_MAX}
            )
    return problems


def rows_check(rows: list[TrackingRow]) -> None:
    """Set each row's error (a row already in error keeps its own). Four queries however
    many rows: the orders, which of them were pushed, and the tracking numbers recorded."""
    numbers = {row.order_number for row in rows if row.order_number}
    orders = {
        order.number: order
        for order in Order.objects.filter(number__in=numbers).only("pk", "number", "status", "logistics")
    }
    pushed = set(Outbound.objects.filter(order__in=orders.values()).values_list("order_id", flat=True))
    tracking_numbers = {row.tracking_number for row in rows if row.tracking_number}
    recorded: dict[str, list[tuple[int, str]]] = {}
    for tracking_number, order_id, order_number in Shipment.objects.filter(
        tracking_number__in=tracking_numbers
    ).values_list("tracking_number", "order_id", "order__number"):
        recorded.setdefault(tracking_number, []).append((order_id, order_number))

    first_of_order: dict[str, TrackingRow] = {}
    first_of_tracking: dict[str, TrackingRow] = {}
    for row in rows:
        problems = [row.error] if row.error else []
        problems += _own_problems(row)
        earlier = first_of_order.get(row.order_number) if row.order_number else None
        earlier_tracking = first_of_tracking.get(row.tracking_number) if row.tracking_number else None
        if earlier is not None and earlier.tracking_number == row.tracking_number:
            problems.append(_("Duplicate row: the same as row %(row)d.") % {"row": earlier.number})
        elif earlier is not None:
            problems.append(
                _("Duplicate row: order %(order)s is already on row %(row)d (one tracking number per order).")
                % {"order": row.order_number, "row": earlier.number}
            )
        elif earlier_tracking is not None:
            problems.append(
                _("Duplicate row: tracking number %(tracking)s is already on row %(row)d (order %(order)s).")
                % {
                    "tracking": row.tracking_number,
                    "row": earlier_tracking.number,
                    "order": earlier_tracking.order_number,
                }
            )
        if row.order_number:
            first_of_order.setdefault(row.order_number, row)
        if row.tracking_number:
            first_of_tracking.setdefault(row.tracking_number, row)
        if row.order_number and not problems:
            problems += _order_problems(row, orders.get(row.order_number), pushed, recorded)
        row.error = " ".join(problems)


def _order_problems(row: TrackingRow, order: Order | None, pushed: set[int], recorded: dict) -> list[str]:
    if order is None:
        return [_("No order has the number %(order)s.") % {"order": excerpt(row.order_number, 40)}]
    if order.logistics == Logistics.SELF_PICKUP:
        return [
            _("Order %(order)s is collected at the warehouse (self-pickup), not shipped.") % {"order": order.number}
        ]
    for order_id, order_number in recorded.get(row.tracking_number, []):
        if order_id == order.pk:
            return [
                _("Tracking number %(tracking)s is already recorded for this order.")
                % {"tracking": row.tracking_number}
            ]
        return [
            _("Tracking number %(tracking)s is already recorded for order %(other)s.")
            % {"tracking": row.tracking_number, "other": order_number}
        ]
    if order.status not in OPEN_STATUSES:
        return [
            _("Order %(order)s is not at the warehouse: it is %(status)s.")
            % {"order": order.number, "status": order.get_status_display().lower()}
        ]
    if order.pk not in pushed:
        return [_("Order %(order)s was never pushed to a warehouse.") % {"order": order.number}]
    return []


# --- applying -------------------------------------------------------------------------------


def tracking_rows_apply(rows: list[TrackingRow], *, actor=None) -> Applied:
    """Apply the rows the preview showed as ok: each is checked again first (the order may
    have shipped or been cancelled since), then recorded as tracking_enter does it. One
    row failing never stops the others."""
    rows = [TrackingRow(*row.data()[:5]) for row in rows]  # fresh: no error carried in
    rows_check(rows)
    result = Applied()
    orders = {order.number: order for order in Order.objects.filter(number__in=[row.order_number for row in rows])}
    for row in rows:
        if not row.ok:
            result.refused.append(row)
            continue
        try:
            shipment = tracking_enter(
                order=orders[row.order_number],
                carrier=row.carrier,
                tracking_number=row.tracking_number,
                tracking_url=row.tracking_url,
                actor=actor,
                source=Shipment.Source.IMPORT,
            )
        except ApplicationError as exc:
            row.error = str(exc)
            result.refused.append(row)
            continue
        if shipment is None:
            row.error = _("Tracking number %(tracking)s is already recorded for this order.") % {
                "tracking": row.tracking_number
            }
            result.refused.append(row)
        else:
            result.applied.append(row)
    return result


# --- the template ---------------------------------------------------------------------------


def instructions() -> list[str]:
    return [
        _("One row per order the warehouse shipped; keep the first row (the column names) as it is."),
        _("Order No: our order number (DO…). Carrier: the carrier's name (USPS, UPS, FedEx, DHL …)."),
        _("Tracking No: the carrier's tracking number; keep the column formatted as text so no digit is lost."),
        _("Tracking URL (optional): the carrier's tracking page for this parcel."),
        _("Only orders at the warehouse, shipped (not self-pickup), take tracking; one tracking number per order."),
        _("Nothing is recorded until you confirm the preview; rows with an error are left out."),
        _("At most %(max)s rows per file (xlsx or CSV).") % {"max": f"{MAX_ROWS:,}"},
    ]


def template_bytes() -> bytes:
    """An empty Tracking sheet (order and tracking numbers as text) and the instructions."""
    book = spreadsheet.XlsxBook()
    book.sheet(_("Tracking"), COLUMNS, widths=(20, 18, 28, 60), text_columns=(0, 1, 2, 3))
    notes = book.sheet(_("Instructions"), widths=(120,))
    notes.extend([line] for line in instructions())
    return book.bytes()
