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
