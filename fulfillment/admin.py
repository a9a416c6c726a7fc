"""Fulfilment in the staff console: how each warehouse is reached (secrets written, never
shown), the queue of the warehouses whose staff work here, and the console of the orders
handed to the warehouses: queues (to push, push failed, awaiting tracking, cancel
requested, stale) with bulk actions that call the services, tracking entered by hand or
imported from a file, shipments, tracking syncs, webhooks and the daily reconciliation."""

import json
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from catalog.models import Warehouse
from distribution import spreadsheet
from distribution.errors import ApplicationError
from distribution.spreadsheet import excerpt
from orders.models import Logistics, Order, OrderStatus

from . import reconcile, tracking_import
from .models import (
    STALE_QUIET,
    STALE_UNSHIPPED,
    ManualOutbound,
    Outbound,
    Reconciliation,
    Shipment,
    ShipmentLine,
    TrackingSync,
    WarehouseBackend,
    WarehouseEvent,
    WarehousePollState,
)
from .services import manual_outbound_check, manual_outbound_move, warehouse_backend_set_secrets
from .warehouses.base import OutboundStatus

KEEP_HELP = _("Leave blank to keep what is stored.")


class WarehouseBackendForm(forms.ModelForm):
    base_url = forms.URLField(
        label=_("API base URL"),
        required=False,
        max_length=300,
        assume_scheme="https",
        help_text=WarehouseBackend._meta.get_field("base_url").help_text,
    )
    token = forms.CharField(
        label=_("API token"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=KEEP_HELP,
    )
    webhook_secret = forms.CharField(
        label=_("webhook signing secret"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("The whsec_… secret the warehouse signs its webhooks with. Leave blank to keep what is stored."),
    )

    class Meta:
        model = WarehouseBackend
        fields = ["warehouse", "kind", "base_url"]


@admin.register(WarehouseBackend)
class WarehouseBackendAdmin(admin.ModelAdmin):
    form = WarehouseBackendForm
    list_display = ["warehouse", "kind", "base_url", "has_credentials", "has_webhook_secret"]
    list_filter = ["kind"]
    search_fields = ["warehouse__code", "warehouse__name", "base_url"]
    autocomplete_fields = ["warehouse"]
    readonly_fields = ["created_at", "updated_at"]
    fields = ["warehouse", "kind", "base_url", "token", "webhook_secret", "created_at", "updated_at"]

    @admin.display(description=_("token stored"), boolean=True)
    def has_credentials(self, obj):
        return bool(obj.credentials_encrypted)

    @admin.display(description=_("webhook secret stored"), boolean=True)
    def has_webhook_secret(self, obj):
        return bool(obj.webhook_secret_encrypted)

    def save_model(self, request, obj, form, change):
        warehouse_backend_set_secrets(
            backend=obj,
            token=form.cleaned_data["token"] or None,
            webhook_secret=form.cleaned_data["webhook_secret"] or None,
        )


class ManualOutboundForm(forms.ModelForm):
    """What the warehouse staff record: the next step, and for a shipment its tracking."""

    next_status = forms.ChoiceField(
        label=_("what happened"),
        required=False,
        choices=[
            ("", _("Nothing yet")),
            (ManualOutbound.Status.SHIPPED, _("Shipped")),
            (ManualOutbound.Status.READY_FOR_PICKUP, _("Ready for pickup")),
            (ManualOutbound.Status.PICKED_UP, _("Picked up")),
            (ManualOutbound.Status.CANCELLED, _("Cancelled")),
        ],
    )
    new_carrier = forms.CharField(label=_("carrier"), max_length=100, required=False)
    new_service = forms.CharField(label=_("carrier service"), max_length=100, required=False)
    new_tracking_number = forms.CharField(label=_("tracking number"), max_length=64, required=False)
    new_tracking_url = forms.URLField(label=_("tracking URL"), max_length=500, required=False, assume_scheme="https")
    note = forms.CharField(label=_("note"), max_length=500, required=False)

    class Meta:
        model = ManualOutbound
        fields = []

    def clean(self):
        data = super().clean()
        if data.get("next_status"):
            try:
                manual_outbound_check(
                    outbound=self.instance,
                    to_status=data["next_status"],
                    carrier=data.get("new_carrier", ""),
                    tracking_number=data.get("new_tracking_number", ""),
                )
            except ApplicationError as exc:
                raise ValidationError(str(exc)) from None
        return data


@admin.register(ManualOutbound)
class ManualOutboundAdmin(admin.ModelAdmin):
    form = ManualOutboundForm
    list_display = ["reference", "warehouse", "status", "self_pickup", "tracking_number", "created_at", "updated_at"]
    list_filter = ["status", "warehouse", "self_pickup"]
    search_fields = ["=reference", "tracking_number", "recipient_name"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["reference", "warehouse", "status", "created_at", "updated_at"]}),
        (
            _("Recipient"),
            {
                "fields": [
                    "recipient_name",
                    "recipient_company",
                    "recipient_phone",
                    "recipient_email",
                    "address1",
                    "address2",
                    "city",
                    "region",
                    "postcode",
                    "country",
                ]
            },
        ),
        (_("Goods and logistics"), {"fields": ["lines", "self_pickup", "service_code", "pickup_code"]}),
        (
            _("Shipment"),
            {
                "fields": [
                    "carrier",
                    "service",
                    "tracking_number",
                    "tracking_url",
                    "shipped_at",
                    "message",
                    "handled_by",
                ]
            },
        ),
        (
            _("Record what happened"),
            {
                "fields": [
                    "next_status",
                    "new_carrier",
                    "new_service",
                    "new_tracking_number",
                    "new_tracking_url",
                    "note",
                ]
            },
        ),
    ]
    # Rows come from the backend and move only by the form's steps (the last section): every
    # other field shown is read-only.
    readonly_fields = [name for _title, options in fieldsets[:-1] for name in options["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not data.get("next_status"):
            return
        moved = manual_outbound_move(
            outbound=obj,
            to_status=data["next_status"],
            actor=request.user,
            carrier=data["new_carrier"],
            service=data["new_service"],
            tracking_number=data["new_tracking_number"],
            tracking_url=data["new_tracking_url"],
            message=data["note"],
        )
        self.message_user(
            request,
            _("%(reference)s is now %(status)s.")
            % {"reference": moved.reference, "status": moved.get_status_display()},
            messages.SUCCESS,
        )


# ---------------------------------------------------------------------------------------
# The staff console: orders handed to the warehouses, in queues, with bulk actions that
# call the services; shipments, tracking syncs, webhooks and reconciliations read-only.
#
# Every list shows its columns from one page query (list_select_related, annotations);
# tests/fulfillment/test_console.py pins the query counts.

# Stale: a paid order not shipped STALE_UNSHIPPED after its push (or its payment when it
# never went), a shipped one with no word from the warehouse for STALE_QUIET (models.py).
# Shipped orders are watched this long after shipping (no delivery event exists yet, so
# without a bound every old shipment would count as stale for ever).
SHIPPED_WATCHED = timedelta(days=30)
# Bulk actions that call a warehouse do it in the request: at most this many rows at once.
ACTION_LIMIT = 100
# Order numbers named in one message.
NAMES_SHOWN = 20
# Our order statuses that are still with the warehouse (not shipped, collected or cancelled).
UNSHIPPED = [OrderStatus.PAID, OrderStatus.PUSH_FAILED, OrderStatus.AT_WAREHOUSE, OrderStatus.CANCEL_REQUESTED]
# Orders the console offers "Enter tracking" for: still at the warehouse (tracking_enter
# also takes a shipped order's extra package, by its own page).
TRACKABLE = (OrderStatus.AT_WAREHOUSE, OrderStatus.CANCEL_REQUESTED)


def _names(names) -> str:
    names = list(names)
    shown = ", ".join(names[:NAMES_SHOWN])
    if len(names) > NAMES_SHOWN:
        shown += " " + _("and %(n)d more") % {"n": len(names) - NAMES_SHOWN}
    return shown


class Outcome:
    """What a bulk action did: the rows it did, and the rows it did not, grouped by why."""

    def __init__(self):
        self.done: list[str] = []
        self.not_done: dict[str, list[str]] = {}

    def ok(self, name: str) -> None:
        self.done.append(name)

    def fail(self, name: str, reason) -> None:
        self.not_done.setdefault(str(reason), []).append(name)

    def report(self, model_admin, request, done_message: str, *, level=messages.ERROR) -> None:
        if self.done or not self.not_done:
            model_admin.message_user(
                request, done_message % {"n": len(self.done), "names": _names(self.done)}, messages.SUCCESS
            )
        for reason, names in self.not_done.items():
            model_admin.message_user(
                request,
                _("%(n)d not done (%(names)s): %(reason)s")
                % {"n": len(names), "names": _names(names), "reason": reason},
                level,
            )


def _limited(model_admin, request, queryset, *, order_by=("pk",)):
    rows = list(queryset.order_by(*order_by)[: ACTION_LIMIT + 1])
    if len(rows) > ACTION_LIMIT:
        model_admin.message_user(
            request,
            _("Only the first %(n)d rows were taken (a warehouse is called for each); select the rest again.")
            % {"n": ACTION_LIMIT},
            messages.WARNING,
        )
    return rows[:ACTION_LIMIT]


class ReadOnlyMixin:
    """Rows that only the services write: viewed, never added, edited or deleted by hand.
    Change permission on the model still allows the bulk actions (which call services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


def _count_of(model, **filters):
    """How many `model` rows match, as a subquery: the list's count query stays a plain count."""
    rows = model.objects.filter(**filters).order_by().values(*filters).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def _order_link(order) -> str:
    return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order.pk]), order.number)


# --- warehouse pushes -------------------------------------------------------------------


class Queue:
    TO_PUSH = "to_push"
    PUSH_FAILED = "push_failed"
    AWAITING_TRACKING = "awaiting_tracking"
    CANCEL_REQUESTED = "cancel_requested"
    STALE = "stale"

    choices = [
        (TO_PUSH, gettext_lazy("To push")),
        (PUSH_FAILED, gettext_lazy("Push failed")),
        (AWAITING_TRACKING, gettext_lazy("Awaiting tracking")),
        (CANCEL_REQUESTED, gettext_lazy("Cancel requested")),
        (STALE, gettext_lazy("Stale")),
    ]


def outbound_queue(queryset, queue: str, *, now=None):
    """The Outbound rows of one staff queue (see Queue and OutboundQueueFilter)."""
    now = now or timezone.now()
    if queue == Queue.TO_PUSH:
        return queryset.filter(state=Outbound.State.PENDING)
    if queue == Queue.PUSH_FAILED:
        return queryset.filter(state=Outbound.State.FAILED)
    if queue == Queue.AWAITING_TRACKING:
        return queryset.filter(
            ~Exists(Shipment.objects.filter(order=OuterRef("order"))),
            order__status=OrderStatus.AT_WAREHOUSE,
            order__logistics=Logistics.DROPSHIPPING,
        )
    if queue == Queue.CANCEL_REQUESTED:
        return queryset.filter(order__status=OrderStatus.CANCEL_REQUESTED)
    if queue == Queue.STALE:
        return queryset.alias(
            stale_from=Coalesce("pushed_at", "created_at"),
            heard_at=Coalesce("last_change_at", "pushed_at", "created_at"),
        ).filter(
            Q(order__status__in=UNSHIPPED, stale_from__lt=now - STALE_UNSHIPPED)
            | Q(
                order__status=OrderStatus.SHIPPED,
                heard_at__lt=now - STALE_QUIET,
                heard_at__gte=now - SHIPPED_WATCHED,
            )
        )
    return queryset


class OutboundQueueFilter(admin.SimpleListFilter):
    title = gettext_lazy("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            (Queue.TO_PUSH, _("To push (waiting for its next attempt)")),
            (Queue.PUSH_FAILED, _("Push failed")),
            (Queue.AWAITING_TRACKING, _("Awaiting tracking (at the warehouse, nothing shipped)")),
            (Queue.CANCEL_REQUESTED, _("Cancel requested")),
            (
                Queue.STALE,
                _("Stale (not shipped 48 h after payment or push; shipped, no warehouse update for 7 days)"),
            ),
        ]

    def queryset(self, request, queryset):
        if self.value():
            return outbound_queue(queryset, self.value())
        return queryset


class EnterTrackingForm(forms.Form):
    carrier = forms.CharField(label=_("Carrier"), max_length=100, help_text=_("USPS, UPS, FedEx, DHL …"))
    tracking_number = forms.CharField(label=_("Tracking number"), max_length=64)
    tracking_url = forms.URLField(
        label=_("Tracking URL"), max_length=500, required=False, assume_scheme="https", help_text=_("Optional.")
    )


class TrackingImportForm(forms.Form):
    file = forms.FileField(
        label=_("Tracking file"),
        help_text=_("xlsx or CSV with the columns Order No, Carrier, Tracking No (and optionally Tracking URL)."),
    )


TRACKING_IMPORT_SALT = "fulfillment.tracking.import"
TRACKING_IMPORT_MAX_AGE = 3600


@admin.register(Outbound)
class OutboundAdmin(ReadOnlyMixin, admin.ModelAdmin):
    show_full_result_count = False  # one count query, not two, on a table that only grows
    list_display = [
        "reference",
        "order_link",
        "distributor",
        "warehouse",
        "state",
        "order_status",
        "warehouse_status",
        "attempts",
        "shipments",
        "error",
        "pushed_at",
        "last_change_at",
    ]
    list_filter = [OutboundQueueFilter, "warehouse", "state"]
    search_fields = ["^reference", "^order__number", "=warehouse_order_id"]
    list_select_related = ["order__distributor", "warehouse"]
    actions = ["push_now", "retry_push", "carry_cancel_request", "poll_warehouse"]
    fieldsets = [
        (None, {"fields": ["order", "warehouse", "reference", "state", "attempts", "next_attempt_at"]}),
        (_("Push"), {"fields": ["lost_response", "last_error", "pushed_at", "created_at", "updated_at"]}),
        (
            _("At the warehouse"),
            {
                "fields": [
                    "warehouse_order_id",
                    "warehouse_status",
                    "warehouse_status_text",
                    "warehouse_message",
                    "last_change_at",
                    "ready_for_pickup_at",
                    "picked_up_at",
                    "cancel_state",
                    "cancel_message",
                    "shipments_list",
                ]
            },
        ),
    ]
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(shipment_count=_count_of(Shipment, order=OuterRef("order")))

    @admin.display(description=_("order"), ordering="order__number")
    def order_link(self, obj):
        return _order_link(obj.order)

    @admin.display(description=_("distributor"), ordering="order__distributor__company_name")
    def distributor(self, obj):
        return obj.order.distributor

    @admin.display(description=_("order status"), ordering="order__status")
    def order_status(self, obj):
        return obj.order.get_status_display()

    @admin.display(description=_("shipments"), ordering="shipment_count")
    def shipments(self, obj):
        if obj.shipment_count or not self._trackable(obj.order):
            return obj.shipment_count
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:fulfillment_outbound_tracking", args=[obj.pk]), _("enter tracking")
        )

    @admin.display(description=_("last error"))
    def error(self, obj):
        return excerpt(obj.last_error, 80)

    @admin.display(description=_("shipments"))
    def shipments_list(self, obj):
        rows = [
            (shipment.carrier, shipment.tracking_number, shipment.get_source_display(), shipment.shipped_at)
            for shipment in Shipment.objects.filter(order_id=obj.order_id).order_by("shipped_at", "pk")
        ]
        if not rows:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            "{} {} ({}, {})",
            ((c, n, s, date_format(t, "SHORT_DATETIME_FORMAT")) for c, n, s, t in rows),
        )

    @staticmethod
    def _trackable(order) -> bool:
        return order.status in TRACKABLE and order.logistics == Logistics.DROPSHIPPING

    def change_view(self, request, object_id, form_url="", extra_context=None):
        outbound = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_enter_tracking": outbound is not None
            and self._trackable(outbound.order)
            and self.has_change_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import_tracking": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/tracking/", wrap(self.tracking_view), name="fulfillment_outbound_tracking"),
            path("tracking-import/", wrap(self.tracking_import_view), name="fulfillment_outbound_tracking_import"),
            path(
                "tracking-import/template/",
                wrap(self.tracking_template_view),
                name="fulfillment_outbound_tracking_template",
            ),
            *super().get_urls(),
        ]

    # -- bulk actions -----------------------------------------------------------------

    @admin.action(description=_("Push now"), permissions=["change"])
    def push_now(self, request, queryset):
        from .push import order_push

        outcome = Outcome()
        for outbound in _limited(self, request, queryset.select_related(None)):
            if outbound.state != Outbound.State.PENDING:
                outcome.fail(outbound.reference, _not_pending(outbound))
                continue
            # Now, whatever backoff it was waiting out: a second attempt beside one running is
            # harmless (the warehouse holds one order per reference; the attempt looks it up).
            now = timezone.now()
            Outbound.objects.filter(pk=outbound.pk, state=Outbound.State.PENDING, next_attempt_at__gt=now).update(
                next_attempt_at=now
            )
            try:
                result = order_push(outbound.order_id)
            except ApplicationError as exc:
                outcome.fail(outbound.reference, exc)
                continue
            outbound.refresh_from_db()
            if result == "pushed":
                outcome.ok(outbound.reference)
            elif result == "retry":
                outcome.fail(
                    outbound.reference, _("not taken yet, tried again later: %(why)s") % {"why": outbound.last_error}
                )
            elif result == "failed":
                outcome.fail(outbound.reference, _("push failed: %(why)s") % {"why": outbound.last_error})
            else:
                outcome.fail(outbound.reference, _skipped(outbound))
        outcome.report(self, request, _("%(n)d pushed to the warehouse: %(names)s."))

    @admin.action(description=_("Retry the failed push"), permissions=["change"])
    def retry_push(self, request, queryset):
        from .push import outbound_retry

        outcome = Outcome()
        rows = list(queryset.select_related("order").order_by("pk"))
        failed = [row for row in rows if row.state == Outbound.State.FAILED]
        for row in rows:
            if row.state != Outbound.State.FAILED:
                outcome.fail(
                    row.reference,
                    _("only a failed push is retried (this one is %(state)s)")
                    % {"state": row.get_state_display().lower()},
                )
        retried = set(outbound_retry(orders=[row.order for row in failed], actor=request.user)) if failed else set()
        for row in failed:
            if row.order.number in retried:
                outcome.ok(row.reference)
            else:
                outcome.fail(row.reference, _("the order is no longer marked push failed"))
        outcome.report(self, request, _("%(n)d push(es) retried; they go to the warehouse within a minute: %(names)s."))

    @admin.action(description=_("Carry the cancel request to the warehouse"), permissions=["change"])
    def carry_cancel_request(self, request, queryset):
        from .cancels import cancel_request_carry

        outcome = Outcome()
        for outbound in _limited(self, request, queryset.select_related("order")):
            if outbound.order.status != OrderStatus.CANCEL_REQUESTED:
                outcome.fail(
                    outbound.reference,
                    _("no cancel request is open (the order is %(status)s)")
                    % {"status": outbound.order.get_status_display().lower()},
                )
                continue
            try:
                result = cancel_request_carry(outbound.order_id)
            except ApplicationError as exc:
                outcome.fail(outbound.reference, exc)
                continue
            outbound.refresh_from_db()
            if result == "cancelled":
                outcome.ok(outbound.reference)
            elif result == "too late":
                outcome.fail(outbound.reference, _("too late: the warehouse had already shipped or handed it over"))
            elif result == "refused":
                outcome.fail(outbound.reference, _("the warehouse refused: %(why)s") % {"why": outbound.cancel_message})
            elif result == "later":
                outcome.fail(
                    outbound.reference,
                    _("the warehouse could not be reached (tried again within a minute): %(why)s")
                    % {"why": outbound.cancel_message},
                )
            else:
                outcome.fail(outbound.reference, _("no cancel request is open any more"))
        outcome.report(self, request, _("%(n)d cancelled at the warehouse and refunded: %(names)s."))

    @admin.action(description=_("Poll the warehouse now"), permissions=["change"])
    def poll_warehouse(self, request, queryset):
        from .changes import warehouse_poll

        warehouse_ids = set(queryset.values_list("warehouse_id", flat=True).distinct())
        outcome = Outcome()
        for warehouse in Warehouse.objects.filter(pk__in=warehouse_ids).order_by("code"):
            try:
                applied, strangers = warehouse_poll(warehouse=warehouse)
            except ApplicationError as exc:
                outcome.fail(warehouse.code, exc)
                continue
            state = WarehousePollState.objects.filter(warehouse=warehouse).first()
            if state is not None and not state.last_ok:
                outcome.fail(warehouse.code, state.last_message)
            else:
                outcome.ok(
                    _("%(code)s (%(applied)d orders updated, %(strangers)d not ours)")
                    % {"code": warehouse.code, "applied": applied, "strangers": strangers}
                )
        outcome.report(self, request, _("%(n)d warehouse(s) polled: %(names)s."))

    # -- enter tracking ---------------------------------------------------------------

    def tracking_view(self, request, object_id):
        from .changes import tracking_enter

        outbound = get_object_or_404(
            Outbound.objects.select_related("order", "warehouse", "order__distributor"), pk=object_id
        )
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = outbound.order
        change_url = reverse("admin:fulfillment_outbound_change", args=[outbound.pk])
        form = EnterTrackingForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                shipment = tracking_enter(
                    order=order,
                    carrier=data["carrier"],
                    tracking_number=data["tracking_number"],
                    tracking_url=data["tracking_url"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                if shipment is None:
                    form.add_error(None, _("This tracking number is already recorded for this order."))
                else:
                    order.refresh_from_db()
                    self.message_user(
                        request,
                        _("Tracking %(number)s (%(carrier)s) recorded for %(order)s; the order is %(status)s.")
                        % {
                            "number": shipment.tracking_number,
                            "carrier": shipment.carrier,
                            "order": order.number,
                            "status": order.get_status_display().lower(),
                        },
                        messages.SUCCESS,
                    )
                    return redirect(change_url)
        recorded = ", ".join(
            f"{carrier} {number}"
            for carrier, number in Shipment.objects.filter(order=order).values_list("carrier", "tracking_number")
        )
        return _form_page(
            request,
            self,
            title=_("Enter tracking for %(order)s") % {"order": order.number},
            form=form,
            submit_label=_("Record the tracking"),
            cancel_url=change_url,
            obj=outbound,
            notes=[
                _(
                    "For an order the warehouse shipped without telling us: one package with everything not yet "
                    "shipped. The order ships and its tracking is sent on to the store."
                )
            ],
            details=[
                (_("order"), order.number),
                (_("status"), order.get_status_display()),
                (_("warehouse"), outbound.warehouse),
                (_("recipient"), f"{order.recipient_name}, {order.city} {order.country}".strip(", ")),
                (_("logistics"), order.get_logistics_display()),
                (_("tracking recorded"), recorded or "—"),
            ],
        )

    # -- tracking file import ---------------------------------------------------------

    def tracking_template_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        response = HttpResponse(tracking_import.template_bytes(), content_type=spreadsheet.XLSX_CONTENT_TYPE)
        response["Content-Disposition"] = 'attachment; filename="tracking-template.xlsx"'
        return response

    def tracking_import_view(self, request):
        """Upload, preview (every row ok or with its error), confirm (the ok rows, signed
        into the page, so nothing is stored between the two steps)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "payload" in request.POST:
            return self._tracking_import_confirm(request)
        read = None
        if request.method == "POST":
            form = TrackingImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    read = tracking_import.parse_tracking_file(upload, name=upload.name)
                except ApplicationError as exc:  # spreadsheet.FileRejected among them
                    form.add_error("file", str(exc))
        else:
            form = TrackingImportForm()
        payload = ""
        if read is not None and read.valid:
            payload = signing.dumps(
                {"rows": [row.data() for row in read.valid]}, salt=TRACKING_IMPORT_SALT, compress=True
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import a tracking file"),
            "form": form,
            "media": self.media + form.media,
            "read": read,
            "payload": payload,
            "instructions": tracking_import.instructions(),
        }
        return TemplateResponse(request, "admin/fulfillment/tracking_import.html", context)

    def _tracking_import_confirm(self, request):
        try:
            data = signing.loads(request.POST["payload"], salt=TRACKING_IMPORT_SALT, max_age=TRACKING_IMPORT_MAX_AGE)
            rows = [tracking_import.TrackingRow.from_data(row) for row in data["rows"]]
        except (signing.BadSignature, KeyError, TypeError, ValueError):  # expired ones included
            self.message_user(request, _("The preview has expired; upload the file again."), messages.ERROR)
            return redirect("admin:fulfillment_outbound_tracking_import")
        result = tracking_import.tracking_rows_apply(rows, actor=request.user)
        self.message_user(
            request,
            _("Tracking recorded for %(n)d order(s).") % {"n": len(result.applied)},
            messages.SUCCESS if result.applied else messages.WARNING,
        )
        for row in result.refused[:NAMES_SHOWN]:
            self.message_user(
                request,
                _("Row %(row)d (%(order)s) not recorded: %(why)s")
                % {"row": row.number, "order": row.order_number, "why": row.error},
                messages.ERROR,
            )
        if len(result.refused) > NAMES_SHOWN:
            self.message_user(
                request,
                _("And %(n)d more rows not recorded.") % {"n": len(result.refused) - NAMES_SHOWN},
                messages.ERROR,
            )
        return redirect("admin:fulfillment_outbound_changelist")


def _not_pending(outbound: Outbound) -> str:
    if outbound.state == Outbound.State.FAILED:
        return _("its push failed: use “Retry the failed push”")
    return _("it is not waiting to be pushed (%(state)s)") % {"state": outbound.get_state_display().lower()}


def _skipped(outbound: Outbound) -> str:
    order = Order.objects.only("status", "held_at").get(pk=outbound.order_id)
    if order.held_at is not None:
        return _("the order is on hold")
    if order.status != OrderStatus.PAID:
        return _("the order is %(status)s") % {"status": order.get_status_display().lower()}
    return _("another attempt is under way")


def _form_page(request, model_admin, *, title, form, submit_label, cancel_url, obj=None, notes=(), details=()):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "form": form,
        "media": model_admin.media + form.media,
        "submit_label": submit_label,
        "cancel_url": cancel_url,
        "original": obj,
        "notes": notes,
        "details": details,
    }
    return TemplateResponse(request, "admin/form_page.html", context)


# --- shipments and tracking syncs ---------------------------------------------------------


class ShipmentLineInline(admin.TabularInline):
    model = ShipmentLine
    extra = 0
    can_delete = False
    fields = ["item_code", "product", "quantity"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    @admin.display(description=_("Item ID"))
    def item_code(self, obj):
        return obj.order_line.item_code

    @admin.display(description=_("product"))
    def product(self, obj):
        return obj.order_line.product_name

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TrackingSyncInline(admin.TabularInline):
    model = TrackingSync
    extra = 0
    can_delete = False
    fields = ["platform_order", "state", "attempts", "next_attempt_at", "platform_answer", "synced_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("platform_order")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    show_full_result_count = False  # one count query, not two, on a table that only grows
    list_display = ["tracking_number", "carrier", "service", "order_link", "source", "line_count", "shipped_at"]
    list_filter = ["source", "order__warehouse"]
    search_fields = ["=tracking_number", "^order__number"]
    list_select_related = ["order"]
    fields = [
        "order",
        "warehouse_shipment_id",
        "carrier",
        "service",
        "tracking_number",
        "tracking_url",
        "shipped_at",
        "source",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [ShipmentLineInline, TrackingSyncInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_count=_count_of(ShipmentLine, shipment=OuterRef("pk")))

    @admin.display(description=_("order"), ordering="order__number")
    def order_link(self, obj):
        return _order_link(obj.order)

    @admin.display(description=_("lines"), ordering="line_count")
    def line_count(self, obj):
        return obj.line_count


class SyncQueueFilter(admin.SimpleListFilter):
    title = gettext_lazy("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            (TrackingSync.State.FAILED, _("Sync failed")),
            (TrackingSync.State.PENDING, _("Pending")),
            (TrackingSync.State.FILE, _("In the tracking file")),
        ]

    def queryset(self, request, queryset):
        if self.value() in TrackingSync.State.values:
            return queryset.filter(state=self.value())
        return queryset


@admin.register(TrackingSync)
class TrackingSyncAdmin(ReadOnlyMixin, admin.ModelAdmin):
    show_full_result_count = False  # one count query, not two, on a table that only grows
    list_display = [
        "tracking_number",
        "order_link",
        "store_order",
        "store",
        "state",
        "attempts",
        "next_attempt_at",
        "answer",
        "synced_at",
    ]
    list_filter = [SyncQueueFilter, "platform_order__store__platform"]
    search_fields = ["=shipment__tracking_number", "^shipment__order__number", "=platform_order__external_id"]
    list_select_related = ["shipment__order", "platform_order__store"]
    actions = ["retry"]
    fields = [
        "shipment",
        "platform_order",
        "state",
        "attempts",
        "next_attempt_at",
        "platform_answer",
        "synced_at",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("tracking number"), ordering="shipment__tracking_number")
    def tracking_number(self, obj):
        return f"{obj.shipment.carrier} {obj.shipment.tracking_number}"

    @admin.display(description=_("order"), ordering="shipment__order__number")
    def order_link(self, obj):
        return _order_link(obj.shipment.order)

    @admin.display(description=_("store order"))
    def store_order(self, obj):
        return obj.platform_order.display_number or obj.platform_order.external_id

    @admin.display(description=_("store"))
    def store(self, obj):
        return obj.platform_order.store.name

    @admin.display(description=_("platform's answer"))
    def answer(self, obj):
        return excerpt(obj.platform_answer, 80)

    @admin.action(description=_("Retry sending the tracking"), permissions=["change"])
    def retry(self, request, queryset):
        from .tracking import tracking_sync_retry

        rows = list(queryset.values_list("pk", "state", "shipment__tracking_number"))
        failed = [pk for pk, state, _number in rows if state == TrackingSync.State.FAILED]
        others = [number for _pk, state, number in rows if state != TrackingSync.State.FAILED]
        retried = tracking_sync_retry(failed, actor=request.user) if failed else 0
        self.message_user(
            request,
            _("%(n)d tracking sync(s) to be sent again; they go out within a minute.") % {"n": retried},
            messages.SUCCESS if retried else messages.WARNING,
        )
        if others:
            self.message_user(
                request,
                _("%(n)d not retried (%(names)s): only a failed sync is sent again.")
                % {"n": len(others), "names": _names(others)},
                messages.WARNING,
            )


# --- webhooks ------------------------------------------------------------------------------


class EventStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("processed")
    parameter_name = "processed"

    def lookups(self, request, model_admin):
        return [("no", _("Not yet applied")), ("ok", _("Applied")), ("error", _("With an error"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(processed_at__isnull=True)
        if self.value() == "ok":
            return queryset.filter(processed_at__isnull=False, error="")
        if self.value() == "error":
            return queryset.exclude(error="")
        return queryset


@admin.register(WarehouseEvent)
class WarehouseEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    show_full_result_count = False  # one count query, not two, on a table that only grows
    list_display = ["event_id", "type", "warehouse", "received_at", "processed_at", "short_error"]
    list_filter = [EventStatusFilter, "warehouse", "type"]
    search_fields = ["=event_id", "type"]
    list_select_related = ["warehouse"]
    actions = ["apply_again"]
    fields = ["warehouse", "event_id", "type", "received_at", "processed_at", "error", "payload_shown"]
    readonly_fields = fields

    @admin.display(description=_("error"))
    def short_error(self, obj):
        return excerpt(obj.error, 80)

    @admin.display(description=_("payload"))
    def payload_shown(self, obj):
        return format_html(
            '<pre style="white-space: pre-wrap; margin: 0">{}</pre>',
            json.dumps(obj.payload, indent=2, ensure_ascii=False, sort_keys=True),
        )

    @admin.action(description=_("Apply again (events with an error, or never applied)"), permissions=["change"])
    def apply_again(self, request, queryset):
        from .changes import warehouse_event_apply

        outcome = Outcome()
        for event in _limited(self, request, queryset):
            name = event.event_id
            if event.processed_at is not None and not event.error:
                outcome.fail(name, _("it was applied without an error; left alone"))
                continue
            WarehouseEvent.objects.filter(pk=event.pk).update(processed_at=None)
            try:
                row = warehouse_event_apply(event_id=event.pk)
            except ApplicationError as exc:
                outcome.fail(name, exc)
                continue
            if row is None:
                outcome.fail(name, _("another worker applied it meanwhile"))
            elif row.error:
                outcome.fail(name, row.error)
            else:
                outcome.ok(name)
        outcome.report(self, request, _("%(n)d event(s) applied: %(names)s."))


# --- reconciliations -----------------------------------------------------------------------


DIFFERENCE_LABELS = {
    reconcile.MISSING: gettext_lazy("We pushed it; the warehouse has no such order"),
    reconcile.UNKNOWN: gettext_lazy("The warehouse has it; we never pushed it there"),
    reconcile.STATUS: gettext_lazy("Status differs"),
    reconcile.SHIPMENT: gettext_lazy("A shipment we have not recorded"),
}
_STATUS_WORDS = {
    **dict(OutboundStatus.choices),
    **dict(OrderStatus.choices),
    "push_failed": gettext_lazy("Push failed"),
}


class ReconcileForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        label=_("Warehouse"),
        queryset=Warehouse.objects.filter(backend__isnull=False).order_by("code"),
        required=False,
        empty_label=_("Every warehouse with a backend"),
    )


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["warehouse", "ran_at", "checked", "difference_count", "short_error"]
    list_filter = ["warehouse"]
    list_select_related = ["warehouse"]
    date_hierarchy = "ran_at"
    actions = ["run_now"]
    fields = ["warehouse", "ran_at", "checked", "error", "differences_table"]
    readonly_fields = fields

    @admin.display(description=_("differences"))
    def difference_count(self, obj):
        return len(obj.differences or [])

    @admin.display(description=_("error"))
    def short_error(self, obj):
        return excerpt(obj.error, 80)

    @admin.display(description=_("differences"))
    def differences_table(self, obj):
        if not obj.differences:
            return _("None: every order agrees.") if not obj.error else "—"
        numbers = [row.get("reference", "") for row in obj.differences]
        orders = dict(Order.objects.filter(number__in=numbers).values_list("number", "pk"))
        rows = []
        for row in obj.differences:
            reference = row.get("reference", "")
            link = (
                format_html(
                    '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[orders[reference]]), reference
                )
                if reference in orders
                else reference
            )
            rows.append(
                (
                    link,
                    DIFFERENCE_LABELS.get(row.get("difference"), row.get("difference", "")),
                    _STATUS_WORDS.get(row.get("ours"), row.get("ours")) or "—",
                    _STATUS_WORDS.get(row.get("theirs"), row.get("theirs")) or "—",
                )
            )
        return format_html(
            '<table data-testid="differences"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            _("order"),
            _("difference"),
            _("ours"),
            _("the warehouse's"),
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("run/", wrap(self.run_view), name="fulfillment_reconciliation_run"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_run": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context)

    def _run(self, request, warehouses) -> None:
        outcome = Outcome()
        for warehouse in warehouses:
            result = reconcile.warehouse_reconcile(warehouse=warehouse)
            if result.error:
                outcome.fail(warehouse.code, result.error)
            else:
                outcome.ok(
                    _("%(code)s (%(checked)d compared, %(differences)d differences)")
                    % {"code": warehouse.code, "checked": result.checked, "differences": len(result.differences)}
                )
        outcome.report(self, request, _("%(n)d warehouse(s) reconciled: %(names)s."))

    @admin.action(description=_("Run now for the selected rows' warehouses"), permissions=["change"])
    def run_now(self, request, queryset):
        ids = set(queryset.values_list("warehouse_id", flat=True))
        self._run(request, Warehouse.objects.filter(pk__in=ids).order_by("code"))

    def run_view(self, request):
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = ReconcileForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            chosen = form.cleaned_data["warehouse"]
            self._run(request, [chosen] if chosen else list(form.fields["warehouse"].queryset))
            return redirect("admin:fulfillment_reconciliation_changelist")
        return _form_page(
            request,
            self,
            title=_("Reconcile now"),
            form=form,
            submit_label=_("Run the reconciliation"),
            cancel_url=reverse("admin:fulfillment_reconciliation_changelist"),
            notes=[
                _(
                    "Compares our orders pushed in the last 30 days with the warehouse's own list and records every "
                    "difference. Nothing is changed. It also runs every night."
                )
            ],
        )
