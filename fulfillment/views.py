"""The distributor's fulfilment actions on the order page, and the home page's fulfilment
alerts.

- [Retry push] on an order whose push failed: `push.outbound_retry`, the order back to
  paid and its next attempt due now (the push after payment and the sweep take it).
- [Retry] on a tracking sync that failed: `tracking.tracking_sync_retry`, pending and due
  now; beat's tracking sweep sends it within a minute.
- [Tracking file] of a store without an API (on the store list): every shipment of its
  orders with carrier, tracking number and link, as xlsx or CSV, to paste into the
  platform by hand; rows not in an earlier file are marked new.

Both are POST only (CSRF-checked as every form), for the members who change orders
(finance members read them: 403), tenant-scoped (another distributor's id is 404 on GET
and POST alike), say what happened in a message and go back to the order page. The order
page's Fulfilment card itself is drawn by the orders app from the order's reverse
relations (orders never imports fulfilment).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DateTimeField, Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution import spreadsheet
from distribution.errors import PermissionDeniedError
from distribution.models import Membership, Section
from distribution.tenancy import PortalView, ensure_can_act
from orders.models import Logistics, Order, OrderEvent, OrderStatus
from stores.models import Store

from .models import STALE_QUIET, STALE_UNSHIPPED, TrackingSync
from .push import outbound_retry
from .tracking import tracking_file, tracking_sync_retry


class FulfilmentActionView(PortalView):
    """One button of the Fulfilment card: POST acts; GET only finds the row (404 for
    another distributor's id, so ids cannot be probed) and answers 405."""

    section = Section.ORDERS
    http_method_names = ["get", "post", "options"]

    def target(self, **kwargs):
        raise NotImplementedError

    def get(self, request, **kwargs):
        self.target(**kwargs)
        return HttpResponseNotAllowed(["POST"])

    def act(self):
        # PortalView already refuses a write by a read-only role or a suspended
        # distributor; the service layer's check is repeated here for the same answer.
        try:
            ensure_can_act(self.membership, Section.ORDERS)
        except PermissionDeniedError as exc:
            raise PermissionDenied(str(exc)) from None


class PushRetryView(FulfilmentActionView):
    """[Retry push]: the order's failed push is tried again."""

    def target(self, *, order_id: int) -> Order:
        return self.get_for_tenant_or_404(Order.objects.all(), pk=order_id)

    def post(self, request, order_id: int):
        order = self.target(order_id=order_id)
        self.act()
        if outbound_retry(orders=[order], actor=request.user):
            messages.success(
                request,
                _("The push of %(number)s is tried again: it goes to the warehouse in a moment.")
                % {"number": order.number},
            )
        else:
            order.refresh_from_db(fields=["status"])
            messages.warning(
                request,
                _("%(number)s was not retried: its push has not failed (it is %(status)s).")
                % {"number": order.number, "status": order.get_status_display().lower()},
            )
        return redirect("orders:order_detail", order_id=order.pk)


class TrackingSyncRetryView(FulfilmentActionView):
    """[Retry] on one store order's tracking that could not be sent."""

    def target(self, *, trackingsync_id: int) -> TrackingSync:
        return self.get_for_tenant_or_404(
            TrackingSync.objects.select_related("shipment__order", "platform_order"), pk=trackingsync_id
        )

    def post(self, request, trackingsync_id: int):
        sync = self.target(trackingsync_id=trackingsync_id)
        self.act()
        words = {
            "number": sync.shipment.tracking_number,
            "store_order": sync.platform_order.display_number or sync.platform_order.external_id,
        }
        if tracking_sync_retry([sync], actor=request.user):
            messages.success(
                request,
                _("Tracking %(number)s will be sent again to store order %(store_order)s within a minute.") % words,
            )
        else:
            messages.warning(
                request,
                _("Tracking %(number)s to store order %(store_order)s was not retried: its sending has not failed.")
                % words,
            )
        return redirect("orders:order_detail", order_id=sync.shipment.order_id)


class TrackingFileView(PortalView):
    """The tracking file of one of the distributor's stores without an API."""

    section = Section.ORDERS

    def get(self, request, store_id: int):
        store = self.get_for_tenant_or_404(Store.objects.present(), pk=store_id)
        if store.has_api:
            raise Http404(_("A store with an API gets its tracking from us directly."))
        kind = spreadsheet.CSV if request.GET.get("format") == "csv" else spreadsheet.XLSX
        content = tracking_file(store, kind=kind, only_new=request.GET.get("new") == "1")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        name = f"tracking-{store.pk}-{stamp}.{kind}"
        content_type = (
            "text/csv; charset=utf-8"
            if kind == spreadsheet.CSV
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


# --- the home page's fulfilment alerts ------------------------------------------------------

# Stuck: paid STALE_UNSHIPPED ago and still not shipped (nor ready for pickup), or at the
# warehouse with not a word from it for STALE_QUIET (fulfillment/models.py).
# How many stuck orders (or orders whose tracking failed) the panel names one by one.
ALERT_EXAMPLES = 5
_O = OrderStatus


def _stuck_filters(now) -> tuple[Q, Q]:
    """(paid 48 hours ago and not shipped, at the warehouse with no word for 7 days), apart:
    an order is in one of them at most. Over `_active` (which gives `last_word`)."""
    paid_long_ago = Exists(
        OrderEvent.objects.filter(order=OuterRef("pk"), to_status=_O.PAID, created_at__lt=now - STALE_UNSHIPPED)
    )
    # Ready for pickup is the collector's turn, not a stuck order (its own alert).
    not_ready = Q(outbound__ready_for_pickup_at__isnull=True)
    quiet = Q(status=_O.AT_WAREHOUSE, last_word__lt=now - STALE_QUIET) & not_ready
    stale_paid = (
        Q(status__in=(_O.PAID, _O.AT_WAREHOUSE), last_word__gte=now - STALE_QUIET) & not_ready & Q(paid_long_ago)
    )
    return stale_paid, quiet


def _active(distributor, now):
    """The orders fulfilment is working on (the (distributor, status) index finds them),
    each with `last_word`: the last time the warehouse said anything about it (else when
    it was pushed or first taken; now for an order never taken, which is never quiet)."""
    return Order.objects.filter(
        distributor=distributor, status__in=(_O.PAID, _O.PUSH_FAILED, _O.AT_WAREHOUSE, _O.CANCEL_REQUESTED)
    ).annotate(
        last_word=Coalesce(
            "outbound__last_change_at",
            "outbound__pushed_at",
            "outbound__created_at",
            Value(now, output_field=DateTimeField()),
        )
    )


def fulfilment_alerts(membership: Membership, *, now=None) -> dict:
    """What needs the distributor in fulfilment, for the home page: orders whose push
    failed, whose tracking could not be sent to the store, whose cancel request waits for
    the warehouse, stuck orders (paid 48 hours ago and not shipped; at the warehouse with
    no word from it for 7 days), and orders ready for pickup. Four queries whatever the
    number of orders: one aggregate, the first few stuck orders, the first few orders
    with a failed tracking sync, and how many orders have one."""
    now = now or timezone.now()
    distributor = membership.distributor
    stale_paid, quiet = _stuck_filters(now)
    active = _active(distributor, now)
    counts = active.aggregate(
        push_failed=Count("pk", filter=Q(status=_O.PUSH_FAILED)),
        cancel_requested=Count("pk", filter=Q(status=_O.CANCEL_REQUESTED)),
        stale_paid=Count("pk", filter=stale_paid),
        quiet=Count("pk", filter=quiet),
        ready=Count(
            "pk",
            filter=Q(
                status=_O.AT_WAREHOUSE,
                logistics=Logistics.SELF_PICKUP,
                outbound__ready_for_pickup_at__isnull=False,
                outbound__picked_up_at__isnull=True,
            ),
        ),
    )
    stuck = counts["stale_paid"] + counts["quiet"]
    stuck_orders = list(
        active.filter(stale_paid | quiet).order_by("created_at", "id").values("id", "number")[:ALERT_EXAMPLES]
    )
    failed_syncs = TrackingSync.objects.filter(
        state=TrackingSync.State.FAILED, shipment__order__distributor=distributor
    )
    sync_orders = list(
        failed_syncs.values("shipment__order_id", "shipment__order__number")
        .annotate(n=Count("pk"))
        .order_by("shipment__order_id")[:ALERT_EXAMPLES]
    )
    sync_failed = failed_syncs.values("shipment__order_id").distinct().count()
    list_url = reverse("orders:order_list")
    return {
        "push_failed": counts["push_failed"],
        "push_failed_url": f"{list_url}?status={_O.PUSH_FAILED}",
        "cancel_requested": counts["cancel_requested"],
        "cancel_requested_url": f"{list_url}?status={_O.CANCEL_REQUESTED}",
        "stale_paid": counts["stale_paid"],
        "quiet": counts["quiet"],
        "stuck": stuck,
        "stuck_orders": [
            {"url": reverse("orders:order_detail", args=[row["id"]]) + "#fulfilment", "number": row["number"]}
            for row in stuck_orders
        ],
        "stuck_more": max(stuck - len(stuck_orders), 0),
        "sync_failed": sync_failed,
        "sync_orders": [
            {
                "url": reverse("orders:order_detail", args=[row["shipment__order_id"]]) + "#fulfilment",
                "number": row["shipment__order__number"],
            }
            for row in sync_orders
        ],
        "sync_more": max(sync_failed - ALERT_EXAMPLES, 0),
        "ready": counts["ready"],
        "ready_url": f"{list_url}?status={_O.AT_WAREHOUSE}&logistics={Logistics.SELF_PICKUP}",
        "any": bool(counts["push_failed"] or counts["cancel_requested"] or stuck or sync_failed or counts["ready"]),
        "stale_paid_hours": int(STALE_UNSHIPPED.total_seconds() // 3600),
        "quiet_days": STALE_QUIET.days,
    }
