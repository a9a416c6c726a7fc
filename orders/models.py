"""Platform orders (as received) and distribution orders (what is paid for and shipped).

A PlatformOrder is kept exactly as its platform gave it (raw payload beside the
normalised fields); `(store, external_id)` is unique, so a poll, a webhook, an
import or a retry of any of them yields one row. Distribution orders are generated
from it through the mapping, one per warehouse; their lines snapshot the Item ID,
name, warehouse and price they were routed to, so later catalog edits do not rewrite
history.

Every status here moves only through the machines in `orders/state.py` (an order's
through `order_transition`, which checks ORDER_TRANSITIONS, locks the row, writes an
OrderEvent, the order's timeline, and announces the move on commit).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from distribution.models import Distributor
from distribution.money import CURRENCY_CHOICES, DEFAULT_CURRENCY


class LeftOutReason(models.TextChoices):
    """Why a platform order's line is not on the distribution order (orders/ingest/routing.py)."""

    NO_SHIPPING = "no_shipping", _("needs no shipping")
    NO_SKU = "no_sku", _("has no SKU")
    NOT_SUPPLIED = "not_supplied", _("not supplied by this platform")


class Disposition(models.TextChoices):
    # Not (yet) a distribution order: unpaid on the platform, for instance.
    WAITING = "waiting", _("Waiting")
    CONVERTED = "converted", _("Converted")
    # Never to become one: cancelled or already fulfilled before we saw it paid.
    SKIPPED = "skipped", _("Skipped")


class PlatformOrder(models.Model):
    class Source(models.TextChoices):
        PULL = "pull", _("Scheduled pull")
        WEBHOOK = "webhook", _("Webhook")
        IMPORT = "import", _("Order file import")

    tenant_path = "store__distributor"

    # No index of its own: the (store, external_id) unique index serves lookups by store.
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="platform_orders", db_index=False)
    external_id = models.CharField(_("platform order id"), max_length=100)
    display_number = models.CharField(_("platform order number"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    financial_status = models.CharField(_("financial status"), max_length=40, blank=True)
    fulfillment_status = models.CharField(_("fulfilment status"), max_length=40, blank=True)
    is_cancelled = models.BooleanField(_("cancelled on the platform"), default=False)
    buyer_name = models.CharField(_("buyer"), max_length=200, blank=True)
    buyer_email = models.CharField(_("buyer e-mail"), max_length=254, blank=True)
    shipping_address = models.JSONField(_("shipping address"), default=dict, blank=True)
    lines = models.JSONField(_("lines"), default=list, blank=True)
    requested_shipping = models.CharField(_("requested shipping method"), max_length=200, blank=True)
    # Import only: the file's Logistics and Remark columns, kept so a re-evaluation
    # (mapping added later) builds the same order again.
    requested_logistics = models.CharField(_("requested logistics"), max_length=16, blank=True)
    remark = models.CharField(_("remark"), max_length=500, blank=True)
    platform_status = models.CharField(_("status on the platform"), max_length=200, blank=True)
    total = models.DecimalField(_("total on the platform"), max_digits=14, decimal_places=4, null=True, blank=True)
    # What the ingestion decided, and why (the per-platform rule in orders/rules.py).
    disposition = models.CharField(
        _("disposition"), max_length=16, choices=Disposition.choices, default=Disposition.WAITING
    )
    disposition_reason = models.CharField(_("why"), max_length=300, blank=True)
    placed_at = models.DateTimeField(_("placed at"), null=True, blank=True)
    platform_updated_at = models.DateTimeField(_("updated on the platform at"), null=True, blank=True)
    # Fingerprint of the normalised content: an unchanged replay touches nothing.
    content_hash = models.CharField(max_length=64, blank=True)
    raw = models.JSONField(_("raw payload"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("platform order")
        verbose_name_plural = _("platform orders")
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "external_id"], name="orders_platformorder_unique_per_store"),
        ]
        # The order list searches by prefix: one pattern index (PostgreSQL's varchar_pattern_ops
        # serves LIKE 'x%' and equality alike; other databases ignore the operator class).
        indexes = [
            models.Index(fields=["display_number"], name="orders_po_number_prefix", opclasses=["varchar_pattern_ops"])
        ]

    def __str__(self) -> str:
        return self.display_number or self.external_id


class OrderStatus(models.TextChoices):
    # Some lines have no mapping yet; the missing store SKUs are named on the order.
    PENDING_MAPPING = "pending_mapping", _("Pending mapping")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    # Auto-pay is on but the balance does not cover it: paid when a top-up lands.
    AWAITING_FUNDS = "awaiting_funds", _("Awaiting funds")
    # Products ship locally: the ship-to country is not one its warehouse serves. Waits
    # until the address is corrected or a warehouse that serves it is chosen.
    OUTSIDE_AREA = "outside_area", _("Address outside service area")
    # Paid from the balance; stock reserved; waiting to be pushed to the warehouse.
    PAID = "paid", _("Paid")
    # Fulfilment's last try to hand it to the warehouse failed (the reason is on the
    # order's timeline); staff or the distributor try again, or it is cancelled.
    PUSH_FAILED = "push_failed", _("Push failed")
    # Accepted by the warehouse backend.
    AT_WAREHOUSE = "at_warehouse", _("At warehouse")
    SHIPPED = "shipped", _("Shipped")
    # Self-pickup orders end here instead of shipped.
    PICKED_UP = "picked_up", _("Picked up")
    # Pushed, and the distributor asked to cancel: fulfilment carries the request to the
    # warehouse; it ends cancelled and refunded, or back at the warehouse / shipped when
    # the warehouse could not stop it.
    CANCEL_REQUESTED = "cancel_requested", _("Cancel requested")
    CANCELLED = "cancelled", _("Cancelled")
    # Replaced by the orders a split or merge produced; kept for the timeline.
    SUPERSEDED = "superseded", _("Split or merged")


UNPAID_STATUSES = frozenset(
    {OrderStatus.PENDING_MAPPING, OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_FUNDS, OrderStatus.OUTSIDE_AREA}
)
# Orders that may be paid (if nothing else stands in the way: see orders/actions/pay.py).
PAYABLE_STATUSES = frozenset({OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_FUNDS})


class Logistics(models.TextChoices):
    DROPSHIPPING = "dropshipping", _("Dropshipping")
    SELF_PICKUP = "self_pickup", _("Self-pickup")


class Order(models.Model):
    """A distribution order: one warehouse, paid from the distributor's balance, shipped one piece at a time."""

    # Served by the composite indexes below (distributor, ...) and (store, status): no
    # single-column index each, which every insert would also have to write.
    distributor = models.ForeignKey(Distributor, on_delete=models.PROTECT, related_name="orders", db_index=False)
    store = models.ForeignKey("stores.Store", on_delete=models.PROTECT, related_name="orders", db_index=False)
    platform_order = models.ForeignKey(
        PlatformOrder, on_delete=models.PROTECT, related_name="orders", null=True, blank=True
    )
    # Unique by the constraint in Meta, whose one index also serves prefix search.
    number = models.CharField(_("order number"), max_length=32)
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.AWAITING_PAYMENT
    )
    # Null while lines are unmapped: the warehouse follows from the mapped items.
    warehouse = models.ForeignKey(
        "catalog.Warehouse", on_delete=models.PROTECT, related_name="orders", null=True, blank=True
    )
    missing_skus = models.JSONField(_("unmapped store SKUs"), default=list, blank=True)
    # The platform order's lines that are not ours ({sku, title, quantity, reason}, see
    # orders/ingest/routing.py): kept on the platform order, named here and on the timeline.
    left_out_lines = models.JSONField(_("lines left out"), default=list, blank=True)
    logistics = models.CharField(
        _("logistics"), max_length=16, choices=Logistics.choices, default=Logistics.DROPSHIPPING
    )
    shipping_method = models.CharField(_("shipping method"), max_length=100, blank=True)
    # The warehouse's method a dropshipping order ships by (orders/actions/logistics.py):
    # its freight is in shipping_amount, billed on chargeable_grams.
    chosen_method = models.ForeignKey(
        "catalog.ShippingMethod",
        on_delete=models.PROTECT,
        related_name="orders",
        null=True,
        blank=True,
        verbose_name=_("shipping method"),
        db_index=False,
    )
    chargeable_grams = models.PositiveIntegerField(_("chargeable weight (g)"), null=True, blank=True)
    pickup_code = models.CharField(_("pickup code"), max_length=16, blank=True)

    recipient_name = models.CharField(_("recipient"), max_length=200, blank=True)
    recipient_company = models.CharField(_("company"), max_length=200, blank=True)
    recipient_phone = models.CharField(_("phone"), max_length=40, blank=True)
    recipient_email = models.CharField(_("e-mail"), max_length=254, blank=True)
    address1 = models.CharField(_("address 1"), max_length=255, blank=True)
    address2 = models.CharField(_("address 2"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    province = models.CharField(_("state/province"), max_length=120, blank=True)
    # Text, never a number: 02134 and 100-0001 must survive.
    postal_code = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    # What is wrong with the address as the platform gave it (a postcode that is not one of
    # its country): shown on the order, and the order cannot be paid until it is fixed.
    address_problem = models.CharField(_("address problem"), max_length=300, blank=True)

    goods_amount = models.DecimalField(_("goods"), max_digits=12, decimal_places=2, default=0)
    shipping_amount = models.DecimalField(_("shipping"), max_digits=12, decimal_places=2, default=0)
    handling_amount = models.DecimalField(_("handling"), max_digits=12, decimal_places=2, default=0)
    total_amount = models.DecimalField(_("total"), max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY)
    # The quote that was paid, frozen at payment (orders/actions/pay.py, `pricing.paid_quote`):
    # goods, freight, handling and total, the method (or self-pickup), the chargeable weight,
    # the rate card and its version, and when. Null until paid; nothing prices the order again.
    paid_quote = models.JSONField(_("quote paid"), null=True, blank=True, editable=False)

    # Set when the platform changed the order after payment; the distributor decides.
    platform_change_flag = models.CharField(_("platform change after payment"), max_length=500, blank=True)
    remark = models.CharField(_("remark"), max_length=500, blank=True)
    # When the buyer placed it on the platform (or the file's Order Date).
    placed_at = models.DateTimeField(_("order date"), null=True, blank=True)
    # Copied from the latest shipment by fulfilment, so the list can search it.
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    # Indexed only where set (see Meta): most orders are no split's child.
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="children",
        null=True,
        blank=True,
        verbose_name=_("split from"),
        db_index=False,
    )
    # Set on each source of a merge: the order it became part of (indexed where set).
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        related_name="merged_from",
        null=True,
        blank=True,
        verbose_name=_("merged into"),
        db_index=False,
    )
    # On hold: neither paid nor pushed until released (orders/actions/hold.py).
    held_at = models.DateTimeField(_("on hold since"), null=True, blank=True)
    hold_reason = models.CharField(_("hold reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["distributor", "status", "-created_at"], name="orders_order_tenant_status"),
            models.Index(fields=["distributor", "-created_at"], name="orders_order_tenant_created"),
            models.Index(fields=["store", "status"], name="orders_order_store_status"),
            models.Index(fields=["parent"], condition=Q(parent__isnull=False), name="orders_order_parent"),
            models.Index(
                fields=["merged_into"], condition=Q(merged_into__isnull=False), name="orders_order_merged_into"
            ),
            models.Index(
                fields=["tracking_number"],
                name="orders_order_tracking_prefix",
                opclasses=["varchar_pattern_ops"],
                condition=~Q(tracking_number=""),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["number"], name="orders_order_number_unique", opclasses=["varchar_pattern_ops"]
            ),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="orders_order_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def left_out_shown(self) -> list[dict]:
        """The lines left out, each with its reason in words, for the order page."""
        labels = dict(LeftOutReason.choices)
        return [{**line, "reason_label": labels.get(line.get("reason"), "")} for line in self.left_out_lines or []]

    @property
    def is_unpaid(self) -> bool:
        return self.status in UNPAID_STATUSES

    @property
    def is_held(self) -> bool:
        return self.held_at is not None


class OrderLine(models.Model):
    tenant_path = "order__distributor"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    platform_line_id = models.CharField(_("platform line id"), max_length=100, blank=True)
    store_sku = models.CharField(_("store SKU"), max_length=100)
    title = models.CharField(_("title on the platform"), max_length=300, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    # Null until mapped; the snapshot below is filled when it is.
    item = models.ForeignKey(
        "catalog.Item", on_delete=models.PROTECT, related_name="order_lines", null=True, blank=True
    )
    item_code = models.CharField(_("Item ID"), max_length=48, blank=True)
    # The store order this line came from when it is not the order's own (a merged
    # order's lines from its other sources), so tracking reaches every store order.
    platform_order = models.ForeignKey(
        PlatformOrder, on_delete=models.PROTECT, related_name="+", null=True, blank=True, db_index=False
    )
    product_name = models.CharField(_("product"), max_length=200, blank=True)
    warehouse_code = models.CharField(_("warehouse"), max_length=16, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orders_orderline_quantity_positive"),
        ]
        indexes = [
            models.Index(
                fields=["item_code"],
                name="orders_line_item_code_prefix",
                opclasses=["varchar_pattern_ops"],
                condition=~Q(item_code=""),
            )
        ]

    def __str__(self) -> str:
        return f"{self.item_code or self.store_sku} × {self.quantity}"


class OrderEvent(models.Model):
    """One entry of an order's timeline: a status move, or a note (flag, platform change...)."""

    tenant_path = "order__distributor"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Indexed only where set: most events are the system's.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, db_index=False
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="orders_orderevent_actor")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status} -> {self.to_status} {self.message}"


class IngestionError(models.Model):
    """A platform order (or file row group) that could not be taken in, with the reason.

    Staff read these in the admin. The same failure seen again (the pull overlaps its
    previous window, a webhook is retried) bumps `occurrences` instead of adding a row.
    """

    tenant_path = "store__distributor"

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="ingestion_errors")
    source = models.CharField(_("source"), max_length=10, choices=PlatformOrder.Source.choices)
    external_id = models.CharField(_("platform order id"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=1000)
    fingerprint = models.CharField(max_length=64)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    occurrences = models.PositiveIntegerField(_("seen"), default=1)
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"), auto_now=True)

    class Meta:
        verbose_name = _("ingestion error")
        verbose_name_plural = _("ingestion errors")
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "fingerprint"], name="orders_ingestionerror_once"),
        ]

    def __str__(self) -> str:
        return f"{self.store_id}/{self.external_id or '?'}: {self.reason[:80]}"


class WebhookDelivery(models.Model):
    """One webhook delivery we accepted; the platform's delivery id is unique, so a
    redelivery (Shopify retries for 48 hours) is answered 200 and ignored."""

    tenant_path = "store__distributor"

    platform = models.CharField(max_length=16)
    webhook_id = models.CharField(max_length=100)
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, null=True, related_name="+")
    topic = models.CharField(max_length=64)
    external_id = models.CharField(max_length=100, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "webhook_id"], name="orders_webhook_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.topic} {self.webhook_id}"


class OrderStatusCount(models.Model):
    """Changes to the number of a distributor's orders in a status: +n arrived, -n left.

    Written only by database triggers on orders_order (migration 0013, PostgreSQL): one
    row per (distributor, status) and statement, never updated, so writers of one
    distributor never wait on each other. The count is the sum of a distributor's rows
    (orders/counts.py); beat folds each distributor's rows into one per status.
    """

    # No constraint: a row per statement would otherwise lock the distributor's row too.
    distributor = models.ForeignKey(
        Distributor, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    # Not "status": a row is a change to a count, not a thing with a state.
    order_status = models.CharField(max_length=20)
    n = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["distributor", "order_status"], include=["n"], name="orders_statuscount_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.order_status} {self.n:+d}"


class StorePullState(models.Model):
    """Everything about pulling one store, in one row (orders/pull/ is its only writer):
    the schedule, the cursor, the lease, and the last result the store pages show.

    - Schedule: the store is due `pull_interval` after `last_pull_at` (never pulled: due).
    - Cursor: where the next pull starts; advanced only after the orders are committed.
    - Lease: at most one worker pulls a store at a time. A worker takes the lease with
      one conditional UPDATE (free or expired -> mine), so two workers or two beats
      racing for a store cannot both win; it renews the lease after every page and gives
      it back at the end. A crashed worker's lease simply expires. `enqueued_at` keeps
      the sweep from queueing a store again while its task is still waiting in the queue.
    The runs themselves (PullRun) are the history, one row per pull.
    """

    class Result(models.TextChoices):
        NEVER = "", _("Never pulled")
        OK = "ok", _("OK")
        FAILED = "failed", _("Failed")

    tenant_path = "store__distributor"

    store = models.OneToOneField("stores.Store", on_delete=models.CASCADE, primary_key=True, related_name="pull_state")
    pull_interval = models.DurationField(_("pull interval"), default=timedelta(minutes=10))
    cursor = models.JSONField(_("cursor"), default=dict, blank=True)
    last_pull_at = models.DateTimeField(_("last pull at"), null=True, blank=True)
    last_result = models.CharField(
        _("last pull result"), max_length=8, choices=Result.choices, default=Result.NEVER, blank=True
    )
    last_message = models.CharField(_("last pull message"), max_length=500, blank=True)
    last_order_count = models.PositiveIntegerField(_("orders in last pull"), default=0)
    lease_owner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("store pull state")
        verbose_name_plural = _("store pull states")
        indexes = [models.Index(fields=["last_pull_at"], name="orders_pullstate_due")]

    def __str__(self) -> str:
        return f"pull lease of store {self.store_id}"


class PullRun(models.Model):
    """One pull of one store: scheduled, or [Sync now] with an optional date range."""

    tenant_path = "store__distributor"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Scheduled")
        MANUAL = "manual", _("Sync now")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        # Another worker held the store's lease: this run did nothing.
        SKIPPED = "skipped", _("Skipped (already being pulled)")

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="pull_runs")
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("to"), null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    fetched = models.PositiveIntegerField(_("orders read"), default=0)
    created = models.PositiveIntegerField(_("new"), default=0)
    updated = models.PositiveIntegerField(_("changed"), default=0)
    failed = models.PositiveIntegerField(_("errors"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pull run")
        verbose_name_plural = _("pull runs")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"pull of store {self.store_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.SKIPPED}


def _import_upload_path(instance, filename: str) -> str:
    return f"orders/imports/{instance.distributor_id}/{uuid.uuid4().hex[:12]}-{filename[-80:]}"


class OrderImport(models.Model):
    """One order file (guide step 6): uploaded, checked (preview), then applied on confirm.

    Progress is kept on the row (rows done of rows total), so the page's progress bar
    survives a reload, and a worker that dies mid-way leaves a row that says where.
    Applying is idempotent: every order goes through `(store, Order No)`, so a second
    import of the same file creates nothing.
    """

    class Status(models.TextChoices):
        CHECKING = "checking", _("Checking")
        READY = "ready", _("Ready to import")
        INVALID = "invalid", _("Has errors")
        APPLYING = "applying", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    distributor = models.ForeignKey(Distributor, on_delete=models.CASCADE, related_name="order_imports")
    # The store chosen on the form; rows may name a store themselves when this is empty.
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    file = models.FileField(_("file"), upload_to=_import_upload_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    # The checked orders (JSON beside the file), so applying need not check every row again.
    checked_name = models.CharField(max_length=300, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CHECKING)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows done"), default=0)
    order_count = models.PositiveIntegerField(_("orders in the file"), default=0)
    new_count = models.PositiveIntegerField(_("new orders"), default=0)
    existing_count = models.PositiveIntegerField(_("already imported"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    # [{"row": 7, "column": "Quantity", "message": "..."}], the first ERRORS_KEPT of them.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    # Deliveries of the background task for the current step: a file that kills its worker
    # is redelivered (acks_late), and gives up after MAX_ATTEMPTS instead of looping.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    ERRORS_KEPT = 1000

    class Meta:
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status in {self.Status.READY, self.Status.DONE, self.Status.INVALID} else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))

    @property
    def is_busy(self) -> bool:
        return self.status in {self.Status.CHECKING, self.Status.APPLYING}
