"""Fulfilment's rows: how each warehouse is reached, and the queue of the warehouses whose
staff work in the admin.

`WarehouseBackend` says which backend a catalog Warehouse uses (`fulfillment/warehouses/`)
and holds what it needs: the API's base URL, our credentials there and the secret its
webhooks are signed with. Both secrets are encrypted at rest exactly as store credentials
are (stores/crypto.py, rotatable Fernet keys; `manage.py rotate_warehouse_credentials`
re-encrypts them), and the admin only ever writes them.

`ManualOutbound` is an order handed to a `manual` warehouse: a row in the staff's queue.
Staff record what happened to it (shipped with carrier and tracking, ready for pickup,
picked up, cancelled); the manual backend reports those moves as its changes.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from distribution.state import StateMachine
from stores.crypto import decrypt_credentials, encrypt_credentials

from .warehouses.base import BackendConnection, OutboundStatus


class BackendKind(models.TextChoices):
    REST = "rest", _("REST API (ShipBob-style)")
    MANUAL = "manual", _("Manual: staff work the queue in the admin")


class WarehouseBackend(models.Model):
    """How one warehouse takes our outbound orders."""

    # Platform configuration, not a distributor's row.
    tenant_path = None

    warehouse = models.OneToOneField(
        "catalog.Warehouse", on_delete=models.CASCADE, related_name="backend", verbose_name=_("warehouse")
    )
    kind = models.CharField(_("backend"), max_length=16, choices=BackendKind.choices)
    base_url = models.URLField(
        _("API base URL"),
        max_length=300,
        blank=True,
        help_text=_("REST only: the API root with its version, e.g. https://api.warehouse.example/2026-01."),
    )
    # Secret: {"token": ...}, one encrypted JSON document (stores/crypto.py).
    credentials_encrypted = models.TextField(blank=True, editable=False)
    # Secret: {"webhook_secret": "whsec_..."}, encrypted the same way.
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("warehouse backend")
        verbose_name_plural = _("warehouse backends")
        ordering = ["warehouse__code"]

    def __str__(self) -> str:
        return f"{self.warehouse.code} · {self.get_kind_display()}"

    def clean(self):
        if self.kind == BackendKind.REST and not self.base_url:
            raise ValidationError({"base_url": _("A REST backend needs the API's base URL.")})

    @property
    def credentials(self) -> dict:
        return decrypt_credentials(self.credentials_encrypted)

    def set_credentials(self, credentials: dict) -> None:
        self.credentials_encrypted = encrypt_credentials(credentials)

    @property
    def webhook_secret(self) -> str:
        return decrypt_credentials(self.webhook_secret_encrypted).get("webhook_secret", "")

    def set_webhook_secret(self, secret: str) -> None:
        self.webhook_secret_encrypted = encrypt_credentials({"webhook_secret": secret} if secret else {})

    def connection(self) -> BackendConnection:
        """What the backend client needs, decrypted; the client never sees this row."""
        return BackendConnection(
            warehouse_code=self.warehouse.code,
            base_url=self.base_url,
            credentials=self.credentials,
            webhook_secret=self.webhook_secret,
        )


class ManualOutbound(models.Model):
    """An outbound order in the queue of a warehouse whose staff work in the admin.

    Created once per (warehouse, our order number): handing the same order over again
    finds this row. Only the moves of MANUAL_OUTBOUND_MACHINE change its status, and
    every move bumps `updated_at`, which is what the manual backend's changes are read by.
    """

    tenant_path = None

    class Status(models.TextChoices):
        # The same values as OutboundStatus: the backend reports them as they are.
        RECEIVED = OutboundStatus.RECEIVED.value, OutboundStatus.RECEIVED.label
        SHIPPED = OutboundStatus.SHIPPED.value, OutboundStatus.SHIPPED.label
        READY_FOR_PICKUP = OutboundStatus.READY_FOR_PICKUP.value, OutboundStatus.READY_FOR_PICKUP.label
        PICKED_UP = OutboundStatus.PICKED_UP.value, OutboundStatus.PICKED_UP.label
        CANCELLED = OutboundStatus.CANCELLED.value, OutboundStatus.CANCELLED.label

    warehouse = models.ForeignKey(
        "catalog.Warehouse",
        on_delete=models.PROTECT,
        related_name="manual_outbounds",
        verbose_name=_("warehouse"),
        db_index=False,  # the unique constraint and the changes index both start with it
    )
    reference = models.CharField(_("our order number"), max_length=64)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    self_pickup = models.BooleanField(_("self-pickup"), default=False)
    service_code = models.CharField(_("shipping service"), max_length=64, blank=True)
    pickup_code = models.CharField(_("pickup code"), max_length=16, blank=True)

    recipient_name = models.CharField(_("recipient"), max_length=200)
    recipient_company = models.CharField(_("company"), max_length=200, blank=True)
    recipient_phone = models.CharField(_("phone"), max_length=40, blank=True)
    recipient_email = models.CharField(_("e-mail"), max_length=254, blank=True)
    address1 = models.CharField(_("address 1"), max_length=255, blank=True)
    address2 = models.CharField(_("address 2"), max_length=255, blank=True)
    city = models.CharField(_("city"), max_length=120, blank=True)
    region = models.CharField(_("state/province"), max_length=120, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    # [{"item_id": "LS228800001-01-01", "quantity": 2, "name": "..."}], as handed over.
    lines = models.JSONField(_("lines"), default=list)

    carrier = models.CharField(_("carrier"), max_length=100, blank=True)
    service = models.CharField(_("carrier service"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    tracking_url = models.URLField(_("tracking URL"), max_length=500, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    # What staff said with their last move (why it was cancelled, who collected it).
    message = models.CharField(_("staff note"), max_length=500, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last handled by"),
    )
    created_at = models.DateTimeField(_("handed over at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("manual warehouse order")
        verbose_name_plural = _("manual warehouse orders")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "reference"], name="fulfillment_manual_reference_unique"),
        ]
        indexes = [models.Index(fields=["warehouse", "updated_at", "id"], name="fulfillment_manual_changes")]

    def __str__(self) -> str:
        return f"{self.reference} at {self.warehouse_id}"


# Dropshipped rows end in shipped, self-pickup rows in picked up; which row may take which
# move is the rule in fulfillment/services.py (manual_outbound_check).
MANUAL_OUTBOUND_MACHINE = StateMachine(
    model=ManualOutbound,
    transitions={
        ManualOutbound.Status.RECEIVED: frozenset(
            {ManualOutbound.Status.SHIPPED, ManualOutbound.Status.READY_FOR_PICKUP, ManualOutbound.Status.CANCELLED}
        ),
        ManualOutbound.Status.READY_FOR_PICKUP: frozenset(
            {ManualOutbound.Status.PICKED_UP, ManualOutbound.Status.CANCELLED}
        ),
        ManualOutbound.Status.SHIPPED: frozenset(),
        ManualOutbound.Status.PICKED_UP: frozenset(),
        ManualOutbound.Status.CANCELLED: frozenset(),
    },
    initial=frozenset({ManualOutbound.Status.RECEIVED}),
    describe=lambda row: str(_("Warehouse order %(reference)s") % {"reference": row.reference}),
)


# ---------------------------------------------------------------------------------------
# Orders handed to the warehouses, what came back, and the tracking sent on to the stores


# When an order at a warehouse counts as stale, for the staff console's queue and the
# distributor's home alerts alike: not shipped this long after it was paid or pushed, and
# no word from the warehouse (poll, webhook) for this long.
STALE_UNSHIPPED = timedelta(hours=48)
STALE_QUIET = timedelta(days=7)


class Outbound(models.Model):
    """One paid order handed (or being handed) to its warehouse: fulfilment's record of
    the push and of what the warehouse says about the order since.

    Created when fulfilment first takes the order; our order number is the reference the
    warehouse knows it by, so a second push finds the first. `lost_response` says that a
    create went out and its answer never came: the next attempt first looks the order up.
    """

    tenant_path = "order__distributor"

    class State(models.TextChoices):
        # Waiting for its (next) attempt at next_attempt_at.
        PENDING = "pending", _("Waiting to be pushed")
        PUSHED = "pushed", _("At the warehouse")
        # The last try failed, or the warehouse refused it: staff or the distributor retry.
        FAILED = "failed", _("Push failed")
        # Cancelled at the warehouse (or never reached it and the order was cancelled).
        CANCELLED = "cancelled", _("Cancelled")

    order = models.OneToOneField(
        "orders.Order", on_delete=models.PROTECT, related_name="outbound", verbose_name=_("order")
    )
    warehouse = models.ForeignKey(
        "catalog.Warehouse", on_delete=models.PROTECT, related_name="outbounds", verbose_name=_("warehouse")
    )
    reference = models.CharField(_("reference at the warehouse"), max_length=64)
    state = models.CharField(_("push"), max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    lost_response = models.BooleanField(_("answer lost"), default=False)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    warehouse_order_id = models.CharField(_("warehouse's order id"), max_length=100, blank=True)
    warehouse_status = models.CharField(
        _("status at the warehouse"), max_length=20, choices=OutboundStatus.choices, blank=True
    )
    # The warehouse's own words for its status, and why when it is an exception.
    warehouse_status_text = models.CharField(_("warehouse's status words"), max_length=100, blank=True)
    warehouse_message = models.CharField(_("warehouse's message"), max_length=500, blank=True)
    # A cancel request carried to the warehouse: "" (none), requested, refused.
    cancel_state = models.CharField(_("cancel at the warehouse"), max_length=12, blank=True)
    cancel_message = models.CharField(_("cancel answer"), max_length=500, blank=True)
    ready_for_pickup_at = models.DateTimeField(_("ready for pickup at"), null=True, blank=True)
    picked_up_at = models.DateTimeField(_("picked up at"), null=True, blank=True)
    pushed_at = models.DateTimeField(_("pushed at"), null=True, blank=True)
    # The last time the warehouse told us anything about it (poll or webhook).
    last_change_at = models.DateTimeField(_("last warehouse update"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("warehouse push")
        verbose_name_plural = _("warehouse pushes")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "reference"], name="fulfillment_outbound_reference_unique"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="fulfillment_outbound_due", condition=models.Q(state="pending")
            ),
            models.Index(fields=["state", "warehouse_status"], name="fulfillment_outbound_state"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} → {self.warehouse_id} ({self.state})"


class Shipment(models.Model):
    """One package that left the warehouse for an order: carrier and tracking number, and
    which of the order's lines (and how many of each) are in it. Known by the warehouse's
    own id for the package, so the same package reported by a poll and a webhook is one row."""

    tenant_path = "order__distributor"

    class Source(models.TextChoices):
        WAREHOUSE = "warehouse", _("Warehouse")
        STAFF = "staff", _("Entered by staff")
        IMPORT = "import", _("Tracking file")

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="shipments", verbose_name=_("order")
    )
    warehouse_shipment_id = models.CharField(_("warehouse's package id"), max_length=100)
    carrier = models.CharField(_("carrier"), max_length=100)
    service = models.CharField(_("carrier service"), max_length=100, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64)
    tracking_url = models.URLField(_("tracking URL"), max_length=500, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, default=Source.WAREHOUSE)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["order", "shipped_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "warehouse_shipment_id"], name="fulfillment_shipment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class ShipmentLine(models.Model):
    tenant_path = "shipment__order__distributor"

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="shipment_lines")
    quantity = models.PositiveIntegerField(_("quantity"))

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="fulfillment_shipmentline_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order_line_id} × {self.quantity}"


class TrackingSync(models.Model):
    """One shipment's tracking sent on to one store order (a merged order's shipment goes
    to each of its store orders), with its own retry state."""

    tenant_path = "shipment__order__distributor"

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SYNCED = "synced", _("Sent to the store")
        FAILED = "failed", _("Sending failed")
        # The store has no API: its tracking goes out in the tracking file instead.
        FILE = "file", _("In the tracking file")

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="syncs")
    platform_order = models.ForeignKey(
        "orders.PlatformOrder", on_delete=models.PROTECT, related_name="tracking_syncs", verbose_name=_("store order")
    )
    state = models.CharField(_("sync"), max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # What the platform answered: its fulfilment id when it took it, its error when not.
    platform_answer = models.CharField(_("platform's answer"), max_length=500, blank=True)
    synced_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("tracking sync")
        verbose_name_plural = _("tracking syncs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "platform_order"], name="fulfillment_sync_unique"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="fulfillment_sync_due", condition=models.Q(state="pending")),
        ]

    def __str__(self) -> str:
        return f"tracking {self.shipment_id} → {self.platform_order_id} ({self.state})"


class WarehouseEvent(models.Model):
    """A webhook delivery from a warehouse, stored as it came (after its signature was
    checked) before anything acts on it; one row per event id, so a replay is recognised."""

    tenant_path = None

    warehouse = models.ForeignKey(
        "catalog.Warehouse", on_delete=models.CASCADE, related_name="+", verbose_name=_("warehouse"), db_index=False
    )
    event_id = models.CharField(_("event id"), max_length=100)
    type = models.CharField(_("type"), max_length=60)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("warehouse webhook")
        verbose_name_plural = _("warehouse webhooks")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "event_id"], name="fulfillment_event_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class WarehousePollState(models.Model):
    """Where the poll of one warehouse's changes stands."""

    tenant_path = None

    warehouse = models.OneToOneField("catalog.Warehouse", on_delete=models.CASCADE, related_name="poll_state")
    # Changes are read from here (minus an overlap) next time; moved only after a poll that read to the end.
    changes_from = models.DateTimeField(_("changes read up to"), null=True, blank=True)
    last_polled_at = models.DateTimeField(_("last polled at"), null=True, blank=True)
    last_ok = models.BooleanField(_("last poll worked"), default=True)
    last_message = models.CharField(_("last poll"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("warehouse poll")
        verbose_name_plural = _("warehouse polls")

    def __str__(self) -> str:
        return f"poll of {self.warehouse_id}"


class Reconciliation(models.Model):
    """The daily comparison of our pushed orders with what the warehouse holds."""

    tenant_path = None

    warehouse = models.ForeignKey("catalog.Warehouse", on_delete=models.CASCADE, related_name="+")
    ran_at = models.DateTimeField(_("ran at"), auto_now_add=True)
    checked = models.PositiveIntegerField(_("orders compared"), default=0)
    # [{"reference", "ours", "theirs", "difference"}]: every order that does not agree.
    differences = models.JSONField(_("differences"), default=list, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"{self.warehouse_id} {self.ran_at:%Y-%m-%d}"
