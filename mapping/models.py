"""Product mapping: which Item ships when a store's order names a store SKU.

- A **Mapping** ties `(store, store SKU)` to one Item; the pair is unique, so an order
  line always resolves to at most one Item. The Item's warehouse must serve the store's
  site (products ship locally): a US-site store maps SNOWTOX CRYSTAL TREATMENT SERUM to
  LS228800001-01-01 (US warehouse), a JP-site store to LS228800001-01-03. The rule is
  checked in `services`, which the portal, the batch import and the admin all call.
- A **SeenSku** is a store SKU that arrived in a pulled or imported order. Those without
  a mapping are the unmapped-SKU queue; the orders app feeds it through
  `services.store_skus_seen` / `store_skus_waiting_set` (mapping never imports orders).
- A **MappingImport** is one uploaded xlsx on its way through preview and apply, with
  its progress, counts and rejected rows, so a page can show a progress bar that
  survives a reload.

Store SKUs are stored normalised by `skus.normalise_sku` (trimmed, case kept).

Tenancy: mappings and seen SKUs reach their Distributor through the store
(`tenant_path = "store__distributor"`). A second distributor column would be a copy
of the store's that could disagree with it; the list pages join the store anyway to
show its name, so the scope costs nothing extra. An import spans several stores of one
distributor and so carries the distributor itself.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Item
from distribution.models import Distributor
from distribution.state import StateMachine
from stores.models import Store

from .skus import PLATFORM_ID_MAX_LENGTH, SKU_MAX_LENGTH


class Mapping(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("Added by hand")
        IMPORT = "import", _("Batch import")
        SUGGESTION = "suggestion", _("Accepted suggestion")
        STAFF = "staff", _("Platform staff")

    tenant_path = "store__distributor"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="mappings", verbose_name=_("store"))
    store_sku = models.CharField(_("store SKU"), max_length=SKU_MAX_LENGTH)
    # PROTECT: an Item that orders may still route to is retired (is_active) rather than deleted.
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="mappings", verbose_name=_("item"))
    # Optional: the platform's own ids of the listing, for tracking sync and for people.
    platform_product_id = models.CharField(_("platform product ID"), max_length=PLATFORM_ID_MAX_LENGTH, blank=True)
    platform_variant_id = models.CharField(_("platform variant ID"), max_length=PLATFORM_ID_MAX_LENGTH, blank=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.MANUAL)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("mapping")
        verbose_name_plural = _("mappings")
        ordering = ["store_id", "store_sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "store_sku"],
                name="mapping_one_item_per_store_sku",
                violation_error_message=_("This store SKU is already mapped."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.store_sku} -> {self.item.item_id if self.item_id else '?'}"

    @property
    def site_ok(self) -> bool:
        """False when staff changed the warehouse's sites after the mapping was made."""
        return self.item.warehouse.serves(self.store.site)


class SeenSku(models.Model):
    """A store SKU seen in the store's orders; unmapped ones are the queue to work through.

    `waiting_orders` is set by the orders app: how many of the store's orders are parked
    in "pending mapping" because of this SKU. It is an absolute number (not a running
    delta), so a repeated or lost update is corrected by the next one.
    """

    tenant_path = "store__distributor"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="seen_skus", verbose_name=_("store"))
    sku = models.CharField(_("store SKU"), max_length=SKU_MAX_LENGTH)
    # The product title of an order line with this SKU, so a person recognises it.
    title = models.CharField(_("title in the order"), max_length=255, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"))
    last_seen_at = models.DateTimeField(_("last seen"))
    waiting_orders = models.PositiveIntegerField(_("orders waiting"), default=0)
    # Marked by the distributor: the platform does not supply this SKU (their own bundle,
    # a service, a gift card), so its order lines are left out and the order goes ahead.
    # A mapping of the SKU, should one be made later, wins over the mark.
    not_supplied_at = models.DateTimeField(_("marked not supplied at"), null=True, blank=True)
    not_supplied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked not supplied by"),
    )

    class Meta:
        verbose_name = _("store SKU seen in orders")
        verbose_name_plural = _("store SKUs seen in orders")
        ordering = ["-waiting_orders", "-last_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "sku"], name="mapping_seensku_one_per_store_sku"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} ({self.store})"

    @property
    def is_not_supplied(self) -> bool:
        return self.not_supplied_at is not None


# A running import whose row has not moved for this long lost its worker (the task's hard
# time limit is 6 minutes, and a running import writes progress every few seconds).
STALE_AFTER = timedelta(minutes=10)


def import_upload_path(instance, filename: str) -> str:
    return f"mapping/imports/{instance.distributor_id}/{uuid.uuid4().hex}.xlsx"


class MappingImport(models.Model):
    """One [Batch Import] file: uploaded, previewed (nothing written), then applied on confirm.

    The preview's verdict (counts and rejected rows) is stored here; apply checks every
    row again against the database as it is then, inside one transaction, and stores
    what it actually wrote. `processed_rows` / `total_rows` drive the progress bar.
    """

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        PREVIEWING = "previewing", _("Checking rows")
        PREVIEWED = "previewed", _("Ready to confirm")
        APPLYING = "applying", _("Applying")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")

    RUNNING = frozenset({Status.UPLOADED, Status.PREVIEWING, Status.APPLYING})

    distributor = models.ForeignKey(
        Distributor, on_delete=models.CASCADE, related_name="mapping_imports", verbose_name=_("distributor")
    )
    file = models.FileField(_("file"), upload_to=import_upload_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    # The file's rows as the preview read them (as text, in JSON beside the file), so apply
    # checks them again without reading the workbook again; "" when not kept.
    rows_name = models.CharField(max_length=300, blank=True)
    # The uploader's language, so reasons written by a background worker read in it.
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    new_count = models.PositiveIntegerField(_("new"), default=0)
    changed_count = models.PositiveIntegerField(_("changed"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected_count = models.PositiveIntegerField(_("rejected"), default=0)
    # [[row number, store, store SKU, Item ID, platform product ID, platform variant ID, reason], ...]
    rejected_rows = models.JSONField(default=list, blank=True)
    # The first changes, to show what "changed" means: [[row, store, SKU, old Item ID, new Item ID], ...]
    changes_sample = models.JSONField(default=list, blank=True)
    error_message = models.TextField(_("error"), blank=True)
    # Deliveries of the background task for the current step: a file that kills its worker
    # is redelivered (acks_late), and gives up after MAX_ATTEMPTS instead of looping.
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    # Bumped with every progress write: a running import whose row stopped moving is stale.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    previewed_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mapping import")
        verbose_name_plural = _("mapping imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["distributor", "-created_at"], name="mapping_import_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=models.F("total_rows")) | Q(total_rows=0),
                name="mapping_import_progress_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def is_stale(self) -> bool:
        return self.is_running and self.updated_at < timezone.now() - STALE_AFTER

    @property
    def percent(self) -> int:
        if self.status in (self.Status.PREVIEWED, self.Status.APPLIED):
            return 100
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)

    @property
    def to_apply(self) -> int:
        return self.new_count + self.changed_count


# Which import status may follow which (one transition function in services checks it).
_I = MappingImport.Status
IMPORT_TRANSITIONS: dict[str, frozenset[str]] = {
    _I.UPLOADED: frozenset({_I.PREVIEWING, _I.PREVIEWED, _I.FAILED}),
    # A re-delivered task may find the preview still marked as running: it starts again.
    _I.PREVIEWING: frozenset({_I.PREVIEWING, _I.PREVIEWED, _I.FAILED}),
    # An apply refused as a whole (the data moved under it, rights were lost) returns to
    # (or stays in) "ready to confirm" with the reason; nothing of it was written.
    _I.PREVIEWED: frozenset({_I.APPLYING, _I.APPLIED, _I.PREVIEWED}),
    _I.APPLYING: frozenset({_I.APPLYING, _I.APPLIED, _I.PREVIEWED, _I.FAILED}),
    _I.APPLIED: frozenset(),
    _I.FAILED: frozenset(),
}
MAPPING_IMPORT_MACHINE = StateMachine(
    model=MappingImport,
    transitions=IMPORT_TRANSITIONS,
    initial=frozenset({_I.UPLOADED, _I.PREVIEWING}),
    describe=lambda mapping_import: _("The import of %(name)s") % {"name": mapping_import.original_name},
)
