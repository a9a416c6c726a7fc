"""The Orders pages: the list (tabs, filters, search, bulk actions), the order page and
its operations (hold, split, merge, the recipient, logistics, cancel: guide step 7), the
order file import (guide step 6) and [Sync now] for API stores."""

import json
import re
import uuid
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import OuterRef, Prefetch, Subquery, prefetch_related_objects
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.functional import cached_property
from django.utils.html import format_html_join
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from catalog.models import Warehouse
from distribution import spreadsheet
from distribution.errors import ApplicationError
from distribution.http import safe_next
from distribution.models import Section
from distribution.tenancy import PortalView, membership_for
from finance.ledger import InsufficientFunds
from stores.selectors import store_get, store_list

from . import pull, selectors
from .actions import (
    order_recipient_edit,
    order_split,
    orders_cancel,
    orders_hold,
    orders_logistics_choose,
    orders_merge,
    orders_pay,
    orders_pay_quote,
    orders_release,
    pay_refusal,
    split_refusal,
)
from .actions.cancel import cancellable
from .actions.hold import holdable
from .actions.logistics import logistics_refusal
from .actions.merge import MAX_ORDERS as MERGE_MAX
from .actions.merge import merge_preview
from .actions.pay import PAY_LIMIT
from .actions.split import MAX_PARTS
from .forms import LogisticsChoiceForm, OrderFilterForm, OrderImportForm, RecipientForm, SyncNowForm
from .imports import format as orderfile
from .imports import services as imports
from .models import Logistics, Order, OrderImport, OrderStatus, PullRun

STATUS_BADGES = {
    OrderStatus.PENDING_MAPPING: "text-bg-warning",
    OrderStatus.AWAITING_PAYMENT: "text-bg-info",
    OrderStatus.AWAITING_FUNDS: "text-bg-warning",
    OrderStatus.OUTSIDE_AREA: "text-bg-warning",
    OrderStatus.PUSH_FAILED: "text-bg-danger",
    OrderStatus.CANCEL_REQUESTED: "text-bg-danger",
    OrderStatus.CANCELLED: "text-bg-secondary",
    OrderStatus.SUPERSEDED: "text-bg-secondary",
}
# The most orders one bulk action takes (one form post).
BULK_LIMIT = 500


def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "text-bg-success")


# The list's tabs: the selectors' order of an order's life, with "push failed" beside paid.
LIST_TABS = list(selectors.STATUS_TABS)
if OrderStatus.PUSH_FAILED not in LIST_TABS:
    LIST_TABS.insert(LIST_TABS.index(OrderStatus.PAID) + 1, OrderStatus.PUSH_FAILED)


# --- fulfilment, read through the order's reverse relations ----------------------------------
# Orders never import fulfilment (docs/design.md): its rows are reached from the order by
# the relations fulfilment declares (outbound, shipments, their lines and tracking syncs).


def web_link(url: str) -> str:
    """A URL a warehouse gave us, if it is a web page (never a javascript: or data: link)."""
    return url if (url or "").lower().startswith(("https://", "http://")) else ""


def _related_model(model, name: str):
    return model._meta.get_field(name).related_model


def _latest_tracking_url():
    """The tracking URL of the shipment whose number the order carries, as a subquery of
    the list's one query of orders (no query per row)."""
    shipment = _related_model(Order, "shipments")
    return Subquery(
        shipment.objects.filter(order=OuterRef("pk"), tracking_number=OuterRef("tracking_number"))
        .exclude(tracking_url="")
        .order_by("-shipped_at", "-id")
        .values("tracking_url")[:1]
    )


# Paid, so fulfilment has taken it (or is about to); a cancelled order only if it was paid.
FULFILMENT_STATUSES = frozenset(
    {
        OrderStatus.PAID,
        OrderStatus.PUSH_FAILED,
        OrderStatus.AT_WAREHOUSE,
        OrderStatus.CANCEL_REQUESTED,
        OrderStatus.SHIPPED,
        OrderStatus.PICKED_UP,
        OrderStatus.CANCELLED,
    }
)
SYNC_BADGES = {
    "pending": "text-bg-warning",
    "synced": "text-bg-success",
    "failed": "text-bg-danger",
    "file": "text-bg-secondary",
}


def _was_paid(order) -> bool:
    if order.status != OrderStatus.CANCELLED:
        return True
    return any(event.to_status == OrderStatus.PAID for event in order.events.all())  # prefetched


def fulfilment_card(order, *, acts: bool) -> dict | None:
    """The order page's Fulfilment card: the push (waiting, at the warehouse, failed with
    its reason), what the warehouse says, a cancel request's answer, every shipment with
    its lines and the tracking sent to each store order, and for self-pickup the code and
    the place. Four queries however many shipments (the outbound; the shipments; their
    lines; their syncs with store orders and stores); None before payment (no query)."""
    if order.status not in FULFILMENT_STATUSES or not _was_paid(order):
        return None
    shipment_model = _related_model(Order, "shipments")
    line_model = _related_model(shipment_model, "lines")
    sync_model = _related_model(shipment_model, "syncs")
    syncs = sync_model.objects.select_related("platform_order__store").defer(
        "platform_order__raw", "platform_order__lines", "platform_order__shipping_address"
    )
    prefetch_related_objects(
        [order],
        "outbound",
        Prefetch(
            "shipments",
            queryset=shipment_model.objects.order_by("shipped_at", "id").prefetch_related(
                Prefetch("lines", queryset=line_model.objects.order_by("id")),
                Prefetch("syncs", queryset=syncs.order_by("id"), to_attr="sync_rows"),
            ),
            to_attr="shipment_rows",
        ),
    )
    try:
        outbound = order.outbound
    except ObjectDoesNotExist:
        outbound = None
    if order.status == OrderStatus.CANCELLED and outbound is None and not order.shipment_rows:
        return None  # cancelled (and refunded) before it was ever pushed: nothing to show
    lines = {line.pk: line for line in order.lines.all()}  # prefetched by order_detail
    for shipment in order.shipment_rows:
        shipment.tracking_link = web_link(shipment.tracking_url)
        shipment.rows = [(lines.get(row.order_line_id), row.quantity) for row in shipment.lines.all()]
        for sync in shipment.sync_rows:
            sync.badge = SYNC_BADGES.get(sync.state, "text-bg-secondary")
            sync.retryable = acts and sync.state == "failed"
    push = "waiting"
    if outbound is not None:
        push = {"pushed": "at_warehouse", "failed": "failed", "cancelled": "cancelled"}.get(outbound.state, "waiting")
    return {
        "outbound": outbound,
        "push": push,
        "shipments": order.shipment_rows,
        "pickup": order.logistics == Logistics.SELF_PICKUP,
        "warehouse": order.warehouse,
        "retry_push": acts and push == "failed" and order.status == OrderStatus.PUSH_FAILED,
        "exception": outbound is not None and outbound.warehouse_status == "exception",
    }


class OrdersView(PortalView):
    section = Section.ORDERS

    def role_context(self) -> dict:
        """What the member's role lets the page show and offer (distribution/models.py
        says which role may do what; the templates only ask these three)."""
        return {
            "may_change": self.membership.may_change(Section.ORDERS),
            "may_pay": self.membership.may_pay,
            "sees_money": self.membership.sees_money,
        }


class CountedPaginator(Paginator):
    """A paginator told its count (the status tabs' aggregate has it), so no second COUNT runs."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self):
        return self._known_count


def _list_rows(orders) -> None:
    """What each row of the list shows, worked out here once: a template's variable
    lookups, filters and conditions cost several microseconds each, dozens per row."""
    labels = dict(OrderStatus.choices)
    self_pickup = _("Self-pickup")
    # One reverse for the page: the detail URL with the id swapped in.
    detail_url = reverse("orders:order_detail", args=[0]).removesuffix("0/")
    for order in orders:
        order.badge = status_badge(order.status)
        order.status_label = labels.get(order.status, order.status)
        order.mapping_wait = selectors.mapping_wait(order)
        order.merge_with, order.merge_group = 0, None
        order.tracking_link = web_link(order.tracking_url)
        order.detail_url = f"{detail_url}{order.pk}/"
        order.created_label = date_format(timezone.localtime(order.created_at), "Y-m-d H:i")
        platform = order.platform_order
        order.platform_label = (platform.display_number or platform.external_id) if platform else ""
        order.total_label = f"{number_format(order.total_amount)} {order.currency}"
        order.logistics_label = self_pickup if order.logistics == Logistics.SELF_PICKUP else order.shipping_method
        order.items_html = format_html_join(
            "",
            '<div class="text-nowrap"><span class="font-monospace">{}</span> × {}</div>',
            ((line.item_code or line.store_sku, line.quantity) for line in order.lines.all()),
        )


class OrderListView(OrdersView):
    def writes(self, request) -> bool:
        # [Export selected] is posted with the bulk form but only reads the orders.
        return super().writes(request) and request.POST.get("action") != "export"

    def get(self, request):
        stores = list(store_list(distributor=self.distributor))
        warehouses = list(Warehouse.objects.filter(is_active=True).order_by("code"))
        form = OrderFilterForm(request.GET or None, stores=stores, warehouses=warehouses)
        filters = form.filters()
        listing = selectors.order_listing(distributor=self.distributor, filters=filters)
        counts = listing.counts
        orders = listing.orders.annotate(tracking_url=_latest_tracking_url())
        page = CountedPaginator(orders, settings.PORTAL_PAGE_SIZE, count=listing.total).get_page(
            request.GET.get("page")
        )
        _list_rows(page.object_list)
        roles = self.role_context()
        if roles["may_change"]:
            # "Can be merged with N": the page's own rows, grouped in Python (no query per row).
            for number, group in enumerate(selectors.merge_groups(page.object_list), start=1):
                for order in group:
                    order.merge_with, order.merge_group = len(group) - 1, number
        tabs = [(status, OrderStatus(status).label, counts.get(status, 0)) for status in LIST_TABS]
        return render(
            request,
            "orders/order_list.html",
            {
                "form": form,
                "filters": filters,
                "page": page,
                "orders": page.object_list,
                "tabs": tabs,
                "all_count": sum(counts.values()),
                "capped": listing.capped,
                "count_cap": selectors.SEARCH_COUNT_CAP,
                "has_stores": bool(stores),
                "merge_max": MERGE_MAX,
                **roles,
            },
        )

    def post(self, request):
        ids = [int(value) for value in request.POST.getlist("order_ids") if value.isdigit()][:BULK_LIMIT]
        action = request.POST.get("action", "")
        back = safe_next(request, request.POST.get("next"), reverse("orders:order_list"))
        if not ids:
            messages.error(request, _("Select at least one order."))
            return redirect(back)
        orders = list(selectors.orders_for_ids(distributor=self.distributor, ids=ids).order_by("-created_at", "-id"))
        if action == "export":
            return _export_xlsx(orders, with_money=self.membership.sees_money)
        if action == "pay":
            if not self.membership.may_pay:
                raise PermissionDenied(_("Your role does not allow paying orders."))
            return redirect(f"{reverse('orders:pay')}?ids={','.join(str(order.pk) for order in orders[:PAY_LIMIT])}")
        if action not in ORDER_ACTIONS:
            messages.error(request, _("Choose an action."))
            return redirect(back)
        if not orders:
            # Only ids of other distributors' orders (or of none): nothing of theirs is touched.
            messages.error(request, _("Select at least one order."))
            return redirect(back)
        if action == "merge":
            # Merging is confirmed on its own page, which shows what the merge would make first.
            ids = ",".join(str(pk) for pk in sorted(order.pk for order in orders))
            return redirect(f"{reverse('orders:merge')}?ids={ids}")
        _act(request, self.membership, action, orders)
        return redirect(back)


EXPORT_COLUMNS = [
    "Order No",
    "Platform order No",
    "Store",
    "Status",
    "Warehouse",
    "Logistics",
    "Item ID",
    "SKU",
    "Quantity",
    "Recipient",
    "Phone",
    "Country",
    "State/Province",
    "City",
    "Address 1",
    "Address 2",
    "Postcode",
    "Total",
    "Currency",
    "Tracking number",
    "Created",
]


# Left out of the file of a member who sees no money (Membership.sees_money).
EXPORT_MONEY_COLUMNS = frozenset({"Total", "Currency"})
# Ids, phones and postcodes stay text: 02134 keeps its zero, a long order number its digits.
EXPORT_TEXT_NAMES = ("Order No", "Platform order No", "Item ID", "SKU", "Phone", "Postcode", "Tracking number")


def _export_xlsx(orders, *, with_money: bool) -> HttpResponse:
    """The selected orders, one row per line, as an xlsx workbook; no cell runs as a formula."""
    kept = [n for n, name in enumerate(EXPORT_COLUMNS) if with_money or name not in EXPORT_MONEY_COLUMNS]
    columns = [EXPORT_COLUMNS[n] for n in kept]
    book = spreadsheet.XlsxBook()
    sheet = book.sheet("Orders", columns, text_columns={columns.index(name) for name in EXPORT_TEXT_NAMES})
    for order in orders:
        for line in order.lines.all():
            row = [
                order.number,
                order.platform_order.display_number if order.platform_order_id else "",
                order.store.name,
                order.get_status_display(),
                order.warehouse.code if order.warehouse_id else "",
                order.get_logistics_display(),
                line.item_code,
                line.store_sku,
                line.quantity,
                order.recipient_name,
                order.recipient_phone,
                order.country,
                order.province,
                order.city,
                order.address1,
                order.address2,
                order.postal_code,
                str(order.total_amount),
                order.currency,
                order.tracking_number,
                timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
            sheet.append([row[n] for n in kept])
    response = HttpResponse(book.bytes(), content_type=spreadsheet.XLSX_CONTENT_TYPE)
    name = f"orders-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


def _cancel_messages(request, result) -> None:
    if result.done:
        messages.success(request, _("Cancelled: %(numbers)s.") % {"numbers": ", ".join(result.done)})
    if result.refunded:
        messages.info(
            request,
            _("Refunded to the balance what was paid for: %(numbers)s.") % {"numbers": ", ".join(result.refunded)},
        )
    for number, why in result.reasons:
        messages.warning(request, _("%(number)s was not cancelled: %(why)s.") % {"number": number, "why": why})


def _report(request, result, *, done: str, refused: str) -> None:
    """A BulkResult as messages: what was done, then each refused order with its reason."""
    if result.done:
        messages.success(request, done % {"numbers": ", ".join(result.done)})
    for number, why in result.reasons:
        messages.warning(request, refused % {"number": number, "why": why})


def _logistics_messages(request, membership, result) -> None:
    """What each order was given (its method, and the freight to those who see money), then
    each order left as it was with the reason."""
    if result.done:
        said = []
        for order in selectors.orders_logistics_chosen(distributor=membership.distributor, numbers=result.done):
            if order.logistics == Logistics.SELF_PICKUP:
                said.append(
                    _("%(number)s: self-pickup at %(warehouse)s")
                    % {"number": order.number, "warehouse": order.warehouse.code if order.warehouse_id else "?"}
                )
            elif membership.sees_money:
                said.append(
                    _("%(number)s: %(method)s, freight %(amount)s %(currency)s")
                    % {
                        "number": order.number,
                        "method": order.shipping_method,
                        "amount": order.shipping_amount,
                        "currency": order.currency,
                    }
                )
            else:
                said.append(_("%(number)s: %(method)s") % {"number": order.number, "method": order.shipping_method})
        messages.success(request, _("Logistics chosen: %(orders)s.") % {"orders": "; ".join(said)})
    for number, why in result.reasons:
        messages.warning(
            request,
            _("%(number)s kept its logistics: %(why)s.") % {"number": number, "why": str(why).rstrip(".")},
        )


def _choose_logistics(request, membership, orders) -> None:
    form = LogisticsChoiceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a shipping method or self-pickup."))
        return
    logistics, method_id = form.choice
    result = orders_logistics_choose(actor=membership, orders=orders, logistics=logistics, method_id=method_id)
    _logistics_messages(request, membership, result)


# The operations the list's bulk form posts as `action` (merge goes on to its confirmation
# page, OrderMergeView); the order page posts all but merge.
ORDER_ACTIONS = ("cancel", "hold", "release", "merge", "logistics")
ORDER_PAGE_ACTIONS = ("cancel", "hold", "release", "logistics")


def _act(request, membership, action: str, orders) -> None:
    """Run one operation on `orders` (already the member's own) and say what it did."""
    try:
        if action == "cancel":
            result = orders_cancel(actor=membership, orders=orders, reason=request.POST.get("reason", ""))
            _cancel_messages(request, result)
        elif action == "hold":
            result = orders_hold(actor=membership, orders=orders, reason=request.POST.get("hold_reason", ""))
            _report(
                request,
                result,
                done=_("Put on hold: %(numbers)s."),
                refused=_("%(number)s was not put on hold: %(why)s."),
            )
        elif action == "release":
            result = orders_release(actor=membership, orders=orders)
            _report(
                request,
                result,
                done=_("Released from hold: %(numbers)s."),
                refused=_("%(number)s was not released: %(why)s."),
            )
        elif action == "logistics":
            _choose_logistics(request, membership, orders)
    except ApplicationError as exc:
        messages.error(request, str(exc))


def paid_quote_shown(order) -> dict | None:
    """The costs card's "Paid: …" line: the quote kept on the order at payment
    (`Order.paid_quote`), read back (amounts as Decimal, the moments as datetimes). None
    before payment, and for orders paid before quotes were kept."""
    quote = order.paid_quote
    if not isinstance(quote, dict):
        return None
    try:
        method = quote.get("method") or None
        card = quote.get("rate_card") or None
        return {
            **{name: Decimal(quote[name]) for name in ("goods", "freight", "handling", "total")},
            "currency": quote["currency"],
            "self_pickup": bool(quote.get("self_pickup")),
            "warehouse": quote.get("warehouse") or "",
            "method": (method.get("name") or f"{method['carrier']} {method['service']}".strip()) if method else "",
            "grams": quote.get("chargeable_grams"),
            "card": (
                {"version": card["version"], "since": datetime.fromisoformat(card["effective_from"])} if card else None
            ),
            "paid_at": datetime.fromisoformat(quote["paid_at"]),
        }
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None


class OrderDetailView(OrdersView):
    """The order page: lines, recipient, costs, logistics, timeline, the orders it was split
    from or merged with, and the operations its state allows (each calls its service)."""

    def get(self, request, order_id: int):
        order = selectors.order_detail(distributor=self.distributor, order_id=order_id)
        return self._render(request, order)

    def _render(self, request, order, *, recipient_form=None, status=200):
        raw = None
        if request.user.is_staff and order.platform_order_id:
            raw = json.dumps(order.platform_order.raw, indent=2, ensure_ascii=False, sort_keys=True)
        roles = self.role_context()
        acts = roles["may_change"]
        recipient_editable = acts and order.is_unpaid
        # The Logistics card: the choices (one freight quote) for an unpaid, mapped order of a
        # member who changes orders; else what the order has, and for the member who could
        # choose later, why not yet.
        logistics_wait = logistics_refusal(order) if acts and order.is_unpaid else ""
        choosable = acts and not logistics_refusal(order)
        context = {
            "order": order,
            "badge": status_badge(order.status),
            "raw": raw,
            "payable": roles["may_pay"] and not pay_refusal(order),
            "cancellable": acts and cancellable(order),
            "holdable": acts and not order.is_held and holdable(order),
            "releasable": acts and order.is_held,
            "splittable": acts and split_refusal(order) is None,
            "recipient_form": (recipient_form or RecipientForm.for_order(order)) if recipient_editable else None,
            "recipient_open": recipient_form is not None,
            "mapping_wait": selectors.mapping_wait(order),
            "logistics": selectors.order_logistics_choices(order) if choosable else None,
            "logistics_wait": logistics_wait,
            "fulfilment": fulfilment_card(order, acts=acts),
            "paid_quote": paid_quote_shown(order),
            **roles,
        }
        return render(request, "orders/order_detail.html", context, status=status)

    def post(self, request, order_id: int):
        order = selectors.order_detail(distributor=self.distributor, order_id=order_id)
        action = request.POST.get("action", "")
        if action == "recipient":
            return self._edit_recipient(request, order)
        if action in ORDER_PAGE_ACTIONS:
            _act(request, self.membership, action, [order])
        else:
            messages.error(request, _("Choose an action."))
        return redirect("orders:order_detail", order_id=order.pk)

    def _edit_recipient(self, request, order):
        form = RecipientForm(request.POST)
        if form.is_valid():
            try:
                edited = order_recipient_edit(actor=self.membership, order=order, data=form.cleaned_data)
            except ApplicationError as exc:
                if not order.is_unpaid:
                    # No form is offered for this order any more: the reason alone, on its page.
                    messages.error(request, str(exc))
                    return redirect("orders:order_detail", order_id=order.pk)
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("The recipient of %(number)s was saved.") % {"number": edited.number})
                if edited.status == OrderStatus.OUTSIDE_AREA:
                    messages.warning(
                        request,
                        _("%(number)s cannot be paid now: %(why)s.")
                        % {"number": edited.number, "why": pay_refusal(edited)},
                    )
                return redirect("orders:order_detail", order_id=order.pk)
        # Refused: the page again, the form open with what was typed and the reason above it.
        return self._render(request, order, recipient_form=form, status=400)


# --- splitting (guide step 7) ------------------------------------------------------------------

# One quantity field per part and line: part<part number>_<line id>.
PART_FIELD = re.compile(r"part([0-9]{1,2})_([0-9]{1,12})")
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,9}")


def _posted_parts(post) -> tuple[int, dict[tuple[int, int], str]]:
    """How many parts were posted, and {(part, line id): the text typed}."""
    typed = {}
    for name, value in post.items():
        match = PART_FIELD.fullmatch(name)
        if match:
            typed[(int(match[1]), int(match[2]))] = value.strip()[:12]
    return max((part for part, _line in typed), default=0), typed


def _quantity(text: str):
    # Empty is none of this line; anything but a whole number is passed on as typed, and
    # order_split refuses it, naming the part.
    if not text:
        return 0
    return int(text) if WHOLE_NUMBER.fullmatch(text) else text


class OrderSplitView(OrdersView):
    """[Split]: the order's lines with one quantity column per part (two to start, up to
    MAX_PARTS); order_split checks that the parts add up line by line and makes them."""

    def dispatch(self, request, *args, **kwargs):
        membership = membership_for(request.user)
        if membership is not None and not membership.may_change(Section.ORDERS):
            # A form page for acting only: finance members read orders but change none.
            raise PermissionDenied(_("Your role may read orders but not change them."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, order_id: int):
        order = selectors.order_detail(distributor=self.distributor, order_id=order_id)
        refusal = split_refusal(order)
        if refusal:
            messages.error(
                request, _("Order %(number)s cannot be split: %(why)s.") % {"number": order.number, "why": refusal}
            )
            return redirect("orders:order_detail", order_id=order.pk)
        # Everything starts in the first part; the person moves quantities to the others.
        typed = {(1, line.pk): str(line.quantity) for line in order.lines.all()}
        return self._render(request, order, parts=2, typed=typed)

    def post(self, request, order_id: int):
        order = selectors.order_detail(distributor=self.distributor, order_id=order_id)
        count, typed = _posted_parts(request.POST)
        lines = list(order.lines.all())
        parts = [{line.pk: _quantity(typed.get((n, line.pk), "")) for line in lines} for n in range(1, count + 1)]
        try:
            children = order_split(actor=self.membership, order=order, parts=parts)
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return self._render(request, order, parts=count, typed=typed, status=400)
        messages.success(
            request,
            _("Order %(number)s was split into %(numbers)s.")
            % {"number": order.number, "numbers": ", ".join(child.number for child in children)},
        )
        return redirect("orders:order_detail", order_id=order.pk)

    def _render(self, request, order, *, parts: int, typed: dict, status=200):
        parts = min(max(parts, 2), MAX_PARTS)
        rows = [
            (line, [typed.get((n, line.pk), "0") or "0" for n in range(1, parts + 1)]) for line in order.lines.all()
        ]
        return render(
            request,
            "orders/split.html",
            {
                "order": order,
                "rows": rows,
                "parts": range(1, parts + 1),
                "max_parts": MAX_PARTS,
                **self.role_context(),
            },
            status=status,
        )


# --- merging (guide step 7) --------------------------------------------------------------------

# An id as the merge page takes it: digits, no more than a database id has.
ORDER_ID = re.compile(r"[0-9]{1,18}")


class OrderMergeView(OrdersView):
    """[Merge selected] asks first: the page lists the selected orders and the rule check
    (when a rule fails, which rule and for which orders, and no confirm button), then the
    merged order's recipient, its lines and its cost beside the sources' costs added up,
    priced by the merge's own code and saved nowhere (`merge_preview`). [Confirm merge]
    posts the same ids to `orders_merge`, which checks everything again under the orders'
    row locks. Ids are the member's own orders: any other is 404."""

    def dispatch(self, request, *args, **kwargs):
        membership = membership_for(request.user)
        if membership is not None and not membership.may_change(Section.ORDERS):
            # A page for acting only: finance members read orders but change none.
            raise PermissionDenied(_("Your role may read orders but not change them."))
        return super().dispatch(request, *args, **kwargs)

    def _orders(self, raw: str) -> list[Order]:
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        if any(not ORDER_ID.fullmatch(part) for part in parts):
            raise Http404(_("Not found."))
        ids = sorted({int(part) for part in parts})[:BULK_LIMIT]
        orders = list(
            Order.objects.filter(distributor=self.distributor, pk__in=ids)
            .select_related("store", "warehouse")
            .order_by("pk")
        )
        if len(orders) != len(ids):
            # Another distributor's order (or none by that id) among them: nothing is shown.
            raise Http404(_("Not found."))
        return orders

    def get(self, request):
        orders = self._orders(request.GET.get("ids", ""))
        if not orders:
            messages.error(request, _("Select the orders to merge."))
            return redirect("orders:order_list")
        return self._render(request, orders)

    def post(self, request):
        orders = self._orders(request.POST.get("ids", ""))
        if not orders:
            messages.error(request, _("Select the orders to merge."))
            return redirect("orders:order_list")
        try:
            merged = orders_merge(actor=self.membership, orders=orders)
        except ApplicationError as exc:
            messages.error(request, str(exc))
            # The page again, as the orders are now (a merge that won a race shows as such).
            return self._render(request, self._orders(request.POST.get("ids", "")), status=400)
        messages.success(
            request,
            _("Merged %(numbers)s into %(number)s.")
            % {"numbers": ", ".join(sorted(o.number for o in orders)), "number": merged.number},
        )
        return redirect("orders:order_detail", order_id=merged.pk)

    def _render(self, request, orders, *, status=200):
        preview = merge_preview(actor=self.membership, orders=orders)
        labels = dict(OrderStatus.choices)
        for order in preview.sources:
            order.badge = status_badge(order.status)
            order.status_label = labels.get(order.status, order.status)
            order.fails_rule = order.number in preview.failed
        return render(
            request,
            "orders/merge.html",
            {
                "preview": preview,
                "merged": preview.merged,
                "ids": ",".join(str(order.pk) for order in preview.sources),
                "merge_max": MERGE_MAX,
                **self.role_context(),
            },
            status=status,
        )


# --- paying (guide step 9) ---------------------------------------------------------------------


class OrderPayView(OrdersView):
    """The pay page: each order's cost, the total, the balance before and after; [Confirm
    payment] posts one payment with the page's idempotency key, so a double submit or a
    retried request charges once."""

    def _orders(self, raw_ids: str):
        ids = [int(part) for part in raw_ids.split(",") if part.strip().isdigit()][:PAY_LIMIT]
        return list(
            selectors.orders_for_ids(distributor=self.distributor, ids=ids)
            .select_related("warehouse", "store")
            .order_by("placed_at", "created_at", "id")
        )

    def dispatch(self, request, *args, **kwargs):
        membership = membership_for(request.user)
        if membership is not None and not membership.may_pay:
            # Paying spends money: operators never see money, finance members only read orders.
            raise PermissionDenied(_("Your role does not allow paying orders."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        orders = self._orders(request.GET.get("ids", ""))
        if not orders:
            messages.error(request, _("Select at least one order to pay."))
            return redirect("orders:order_list")
        quote = orders_pay_quote(actor=self.membership, orders=orders)
        # What the total is made of, so goods, freight and handling are seen before paying
        # (payable orders are all in USD: pay_refusal).
        parts = {
            name: sum((getattr(order, f"{name}_amount") for order in quote.payable), Decimal("0.00"))
            for name in ("goods", "shipping", "handling")
        }
        return render(
            request,
            "orders/pay.html",
            {
                "quote": quote,
                "parts": parts,
                "ids": ",".join(str(o.pk) for o in quote.payable),
                "key": uuid.uuid4().hex,
                "currency": "USD",
            },
        )

    def post(self, request):
        orders = self._orders(request.POST.get("ids", ""))
        key = request.POST.get("idempotency_key", "")
        if not orders or not key.isalnum() or len(key) > 64:
            messages.error(request, _("Select at least one order to pay."))
            return redirect("orders:order_list")
        try:
            result = orders_pay(actor=self.membership, orders=orders, idempotency_key=f"pay:{key}")
        except InsufficientFunds as exc:
            messages.error(request, _("Nothing was charged: %(reason)s Top up your balance first.") % {"reason": exc})
            return redirect(f"{reverse('orders:pay')}?ids={request.POST.get('ids', '')}")
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect("orders:order_list")
        if result.paid:
            messages.success(
                request,
                _("Paid %(amount)s USD for %(n)d order(s): %(numbers)s.")
                % {"amount": result.charged, "n": len(result.paid), "numbers": ", ".join(result.paid)},
            )
        for number, why in result.refused:
            messages.warning(request, _("%(number)s was not paid: %(why)s.") % {"number": number, "why": why})
        return redirect(f"{reverse('orders:order_list')}?status={OrderStatus.PAID}")


# --- order file import ------------------------------------------------------------------------


class OrderImportView(OrdersView):
    def _stores(self):
        return list(store_list(distributor=self.distributor))

    def get(self, request):
        return self._render(request, OrderImportForm(stores=self._stores()))

    def _render(self, request, form, status=200):
        recent = selectors.order_import_recent(distributor=self.distributor)
        return render(request, "orders/import.html", {"form": form, "imports": recent}, status=status)

    def post(self, request):
        form = OrderImportForm(request.POST, request.FILES, stores=self._stores())
        if not form.is_valid():
            return self._render(request, form, status=400)
        upload = form.cleaned_data["file"]
        try:
            with transaction.atomic():
                order_import = imports.order_import_create(
                    actor=self.membership, store=form.cleaned_data["store"], upload=upload
                )
                if upload.size > imports.import_inline_bytes():
                    from .tasks import check_order_import

                    transaction.on_commit(lambda: check_order_import.delay(order_import.pk))
        except ApplicationError as exc:
            form.add_error("file", str(exc))
            return self._render(request, form, status=400)
        if upload.size <= imports.import_inline_bytes():
            imports.order_import_check(order_import=order_import)
        return redirect("orders:import_detail", orderimport_id=order_import.pk)


class OrderImportTemplateView(OrdersView):
    def get(self, request):
        store = None
        store_id = request.GET.get("store", "")
        if store_id.isdigit():
            store = store_get(distributor=self.distributor, store_id=int(store_id))
        name = store.name if store else ""
        if request.GET.get("format") == "csv":
            response = HttpResponse(orderfile.template_csv(store_name=name), content_type=spreadsheet.CSV_CONTENT_TYPE)
            filename = "order-import-template.csv"
        else:
            response = HttpResponse(orderfile.template_xlsx(store_name=name), content_type=orderfile.XLSX_CONTENT_TYPE)
            filename = "order-import-template.xlsx"
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response


def _import_state(order_import: OrderImport) -> dict:
    return {
        "status": order_import.status,
        "status_label": str(order_import.get_status_display()),
        "busy": order_import.is_busy,
        "percent": order_import.progress_percent,
        "processed_rows": order_import.processed_rows,
        "total_rows": order_import.total_rows,
    }


class OrderImportDetailView(OrdersView):
    def get(self, request, orderimport_id: int):
        order_import = self.get_for_tenant_or_404(OrderImport.objects.select_related("store"), pk=orderimport_id)
        return render(
            request,
            "orders/import_detail.html",
            {"imp": order_import, "encoding": imports.order_import_encoding(order_import=order_import)},
        )


class OrderImportStatusView(OrdersView):
    def get(self, request, orderimport_id: int):
        order_import = self.get_for_tenant_or_404(OrderImport.objects.all(), pk=orderimport_id)
        return JsonResponse(_import_state(order_import))


class OrderImportConfirmView(OrdersView):
    def post(self, request, orderimport_id: int):
        order_import = self.get_for_tenant_or_404(OrderImport.objects.all(), pk=orderimport_id)
        try:
            with transaction.atomic():
                order_import = imports.order_import_start_apply(actor=self.membership, order_import=order_import)
                inline = order_import.file.size <= imports.import_inline_bytes()
                if not inline:
                    from .tasks import apply_order_import

                    transaction.on_commit(lambda: apply_order_import.delay(order_import.pk))
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect("orders:import_detail", orderimport_id=order_import.pk)
        if inline:
            imports.order_import_apply(order_import=order_import)
            messages.success(request, order_import.message)
        return redirect("orders:import_detail", orderimport_id=order_import.pk)


# --- [Sync now] -------------------------------------------------------------------------------


class StoreSyncView(OrdersView):
    """The API stores with their last pull, [Sync now] with an optional date range, and recent runs."""

    def get(self, request):
        return _sync_page(request, self.distributor)


def _sync_page(request, distributor, *, form=None, form_store=None, status=200):
    stores = [store for store in store_list(distributor=distributor) if store.has_api]
    for store in stores:
        # The row just posted shows what was typed; every other row gets an empty form.
        posted = form is not None and form_store is not None and form_store.pk == store.pk
        store.sync_form = form if posted else SyncNowForm.for_store(store.pk)
    runs = selectors.pull_runs_recent(distributor=distributor)
    return render(
        request,
        "orders/sync.html",
        {
            "stores": stores,
            "runs": runs,
            "form": form or SyncNowForm(),
            "form_store": form_store,
            "busy": any(not run.is_finished for run in runs),
            "errors": selectors.ingestion_errors_recent(distributor=distributor, limit=10),
        },
        status=status,
    )


class StoreSyncNowView(OrdersView):
    def post(self, request, store_id: int):
        store = store_get(distributor=self.distributor, store_id=store_id)
        form = SyncNowForm.for_store(store.pk, request.POST)
        if not form.is_valid():
            return _sync_page(request, self.distributor, form=form, form_store=store, status=400)
        try:
            run = pull.pull_request(
                actor=self.membership,
                store=store,
                date_from=form.cleaned_data.get("date_from"),
                date_to=form.cleaned_data.get("date_to"),
            )
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.info(
                request, _("Syncing “%(name)s” in the background (run %(run)s).") % {"name": store.name, "run": run.pk}
            )
        return redirect("orders:sync")


class PullRunStatusView(OrdersView):
    def get(self, request, pullrun_id: int):
        run = self.get_for_tenant_or_404(PullRun.objects.all(), pk=pullrun_id)
        return JsonResponse(
            {
                "status": run.status,
                "status_label": str(run.get_status_display()),
                "finished": run.is_finished,
                "message": run.message,
                "fetched": run.fetched,
                "created": run.created,
            }
        )


# --- the home page's figures (registered in orders/apps.py) ------------------------------------


def home_orders(membership) -> dict:
    """Orders by status, each linked to the list's tab (one grouped query)."""
    counts = selectors.order_status_counts(distributor=membership.distributor, filters=selectors.OrderFilters())
    list_url = reverse("orders:order_list")
    rows = [
        {
            "status": status,
            "label": OrderStatus(status).label,
            "count": counts[status],
            "url": f"{list_url}?status={status}",
            "badge": status_badge(status),
        }
        for status in LIST_TABS
        if counts.get(status)
    ]
    return {
        "rows": rows,
        "total": sum(counts.values()),
        "url": list_url,
        "may_import": membership.may_change(Section.ORDERS),
    }


def home_pull_failures(membership) -> dict:
    """Stores whose orders are not coming in, each linked to where it is put right:
    [Re-authorize] for a lapsed authorization, the store sync page for a failed pull."""
    stores, total = selectors.stores_failing_to_pull(distributor=membership.distributor)
    rows = []
    for store in stores:
        if store.needs_reauthorization:
            problem, reason = store.get_status_display(), store.status_reason
            url, action = reverse("stores:reauthorize", args=[store.pk]), _("Re-authorize")
        else:
            pull_state = getattr(store, "pull_state", None)
            problem, reason = _("Last pull failed"), pull_state.last_message if pull_state else ""
            url, action = reverse("orders:sync"), _("Store sync")
        rows.append({"label": store.label, "problem": problem, "reason": reason, "url": url, "action": action})
    return {"rows": rows, "total": total, "more": total - len(rows), "url": reverse("stores:store_list")}
