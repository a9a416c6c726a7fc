"""The platform's catalog: warehouses, products, their items (the Item ID) and documents.

Catalog rows are shared by every distributor (`tenant_path = None`): there is one
catalog, which staff keep in the admin and distributors read in the portal.

An **Item** is a product in one warehouse and is what ships; its Item ID is
`<product code>-<variant>-<warehouse number>` (LS228800001-01-01). Stock lives on
the item: `stock_on_hand` is what the warehouse holds, `reserved` what paid orders
have claimed and not yet shipped; `available = stock_on_hand - reserved`. Only the
services in `catalog.services` move stock (under a row lock), and the database
refuses any row that would break 0 <= reserved <= stock_on_hand.

Logistics: a warehouse offers **shipping methods**; each method is priced by its
**rate cards**, versioned with effective dates, made of **zones** (where) and **weight
rows** (how heavy). `catalog.shipping` turns them into quotes; docs/logistics.md has
the rules with a worked example.
"""

import os
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from distribution.money import CURRENCY_CHOICES, DEFAULT_CURRENCY, quantize

from .validators import (
    ITEM_ID_RULE,
    normalise_countries,
    normalise_postcode_prefixes,
    normalise_regions,
    normalise_sites,
    normalise_subdivisions,
    validate_document_file,
    validate_hs_code,
    validate_image_file,
    validate_item_id,
    validate_product_code,
    validate_service_code,
    validate_warehouse_code,
)

EXPIRY_WARNING_DAYS = 30


class UpperCaseCharField(models.CharField):
    """A code stored upper-case and without surrounding blanks, however it was typed.

    Normalising in `to_python` means validators see the normalised value (so
    'ls228800001-01-01' is accepted as LS228800001-01-01), and in `get_prep_value`
    that exact lookups match regardless of case.
    """

    @staticmethod
    def _normalise(value):
        return value.strip().upper() if isinstance(value, str) else value

    def to_python(self, value):
        return self._normalise(super().to_python(value))

    def get_prep_value(self, value):
        return self._normalise(super().get_prep_value(value))

    def pre_save(self, model_instance, add):
        value = self._normalise(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value


def _non_negative(name: str, message) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{name}__gte": 0}),
        name=f"%(app_label)s_%(class)s_{name}_not_negative",
        violation_error_message=message,
    )


Dimensions = tuple[Decimal, Decimal, Decimal]


def complete_dimensions(length, width, height) -> Dimensions | None:
    """Length, width and height in cm when all three are known; one missing makes no volume."""
    if length is None or width is None or height is None:
        return None
    return (Decimal(length), Decimal(width), Decimal(height))


def _dimension_field(label) -> models.DecimalField:
    return models.DecimalField(
        label,
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("Packed, one piece. Leave all three blank to use the product's."),
    )


class Warehouse(models.Model):
    """An overseas warehouse of the platform; it serves the store sites listed in `sites`."""

    tenant_path = None

    code = UpperCaseCharField(
        _("code"), max_length=16, unique=True, validators=[validate_warehouse_code], help_text=_("E.g. US-CA, JP-TYO.")
    )
    name = models.CharField(_("name"), max_length=120)
    country = UpperCaseCharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code, e.g. US."))
    # Comma-separated country codes: a handful per warehouse, read far more often
    # than written, and the mapping rule "the warehouse serves the store's site" is
    # answered in Python from the few active warehouses.
    sites = models.CharField(
        _("sites served"),
        max_length=200,
        help_text=_("Country codes of the store sites this warehouse ships to, comma-separated, e.g. DE,FR,IT."),
    )
    address = models.TextField(_("address"), blank=True, help_text=_("Shown to distributors for self-pickup."))
    opening_hours = models.CharField(
        _("opening hours"), max_length=200, blank=True, help_text=_("For self-pickup, e.g. Mon–Fri 09:00–17:00.")
    )
    handling_fee = models.DecimalField(
        _("handling fee"),
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Charged per order this warehouse ships or hands over."),
    )
    handling_fee_currency = models.CharField(
        _("handling fee currency"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY
    )
    handling_fee_per_extra_piece = models.DecimalField(
        _("handling fee per extra piece"),
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Added to the handling fee for each piece of an order after the first (pieces: the lines' "
            "quantities added up), shipped or picked up; in the handling fee's currency."
        ),
    )
    self_pickup_fee = models.DecimalField(
        _("self-pickup handling fee"),
        max_digits=10,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Charged per order fetched from this warehouse instead of shipped (no freight then)."),
    )
    self_pickup_fee_currency = models.CharField(
        _("self-pickup fee currency"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")
        ordering = ["code"]
        constraints = [
            _non_negative("handling_fee", _("The handling fee cannot be negative.")),
            _non_negative("handling_fee_per_extra_piece", _("The handling fee per extra piece cannot be negative.")),
            _non_negative("self_pickup_fee", _("The self-pickup fee cannot be negative.")),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def clean(self):
        try:
            self.sites = normalise_sites(self.sites)
        except ValidationError as exc:
            raise ValidationError({"sites": exc}) from None
        if not self.sites:
            raise ValidationError({"sites": _("List at least one site this warehouse serves.")})
        if self.handling_fee is not None and self.handling_fee_currency:
            self.handling_fee = quantize(self.handling_fee, self.handling_fee_currency)
        if self.handling_fee_per_extra_piece is not None and self.handling_fee_currency:
            self.handling_fee_per_extra_piece = quantize(self.handling_fee_per_extra_piece, self.handling_fee_currency)
        if self.self_pickup_fee is not None and self.self_pickup_fee_currency:
            self.self_pickup_fee = quantize(self.self_pickup_fee, self.self_pickup_fee_currency)

    @property
    def site_codes(self) -> list[str]:
        return [code for code in self.sites.split(",") if code]

    def serves(self, site: str) -> bool:
        return (site or "").strip().upper() in self.site_codes


class Category(models.Model):
    tenant_path = None

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """What a brand sells, as distributors list it in their stores."""

    tenant_path = None

    code = UpperCaseCharField(
        _("product code"),
        max_length=32,
        unique=True,
        validators=[validate_product_code],
        help_text=_("E.g. LS228800001."),
    )
    name = models.CharField(_("name"), max_length=200, db_index=True)
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("category"),
    )
    description = models.TextField(_("description"), blank=True)
    attributes = models.JSONField(
        _("attributes"), default=dict, blank=True, help_text=_('Key and value pairs, e.g. {"volume": "30 ml"}.')
    )
    hs_code = models.CharField(_("HS code"), max_length=16, blank=True, validators=[validate_hs_code])
    declared_value = models.DecimalField(
        _("declared value"),
        max_digits=12,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Customs value of one piece."),
    )
    declared_value_currency = models.CharField(
        _("declared value currency"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY
    )
    weight_grams = models.PositiveIntegerField(_("weight (g)"), null=True, blank=True)
    length_cm = models.DecimalField(_("length (cm)"), max_digits=7, decimal_places=1, null=True, blank=True)
    width_cm = models.DecimalField(_("width (cm)"), max_digits=7, decimal_places=1, null=True, blank=True)
    height_cm = models.DecimalField(_("height (cm)"), max_digits=7, decimal_places=1, null=True, blank=True)
    cloud_drive_url = models.URLField(
        _("cloud-drive link"),
        max_length=500,
        blank=True,
        help_text=_("A shared folder with more material; given to distributors beside or instead of files."),
    )
    cloud_drive_access_code = models.CharField(_("cloud-drive access code"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Inactive products are hidden."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "id"]
        constraints = [_non_negative("declared_value", _("The declared value cannot be negative."))]
        indexes = [models.Index(fields=["is_active", "name", "id"], name="catalog_product_active_name")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def dimensions_cm(self) -> Dimensions | None:
        return complete_dimensions(self.length_cm, self.width_cm, self.height_cm)

    def clean(self):
        if self.cloud_drive_access_code and not self.cloud_drive_url:
            raise ValidationError({"cloud_drive_url": _("An access code needs the cloud-drive link it opens.")})
        if self.declared_value is not None and self.declared_value_currency:
            self.declared_value = quantize(self.declared_value, self.declared_value_currency)


def _upload_path(instance, filename: str, kind: str) -> str:
    stem, ext = os.path.splitext(os.path.basename(filename))
    code = instance.product.code if instance.product_id else "unassigned"
    return f"catalog/{code}/{kind}/{uuid.uuid4().hex[:12]}-{stem[:80]}{ext.lower()}"


def original_name(stored_name: str) -> str:
    """The uploaded file's own name, without the folder and the random prefix added on upload."""
    base = os.path.basename(stored_name)
    prefix, sep, rest = base.partition("-")
    if sep and rest and len(prefix) == 12 and all(c in "0123456789abcdef" for c in prefix):
        return rest
    return base


def image_upload_path(instance, filename: str) -> str:
    return _upload_path(instance, filename, "images")


def document_upload_path(instance, filename: str) -> str:
    return _upload_path(instance, filename, "documents")


class ProductImage(models.Model):
    tenant_path = None

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("product"))
    file = models.FileField(
        _("image"),
        upload_to=image_upload_path,
        max_length=255,
        validators=[validate_image_file],
        help_text=_("JPG, PNG or WebP."),
    )
    alt_text = models.CharField(_("description"), max_length=200, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("product image")
        verbose_name_plural = _("product images")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return original_name(self.file.name)

    @property
    def filename(self) -> str:
        return original_name(self.file.name)


class Document(models.Model):
    """A qualification document of a product (certificate, test report, MSDS ...)."""

    tenant_path = None

    class Type(models.TextChoices):
        CERTIFICATE = "certificate", _("Certificate")
        TEST_REPORT = "test_report", _("Test report")
        MSDS = "msds", _("MSDS (safety data sheet)")
        FDA = "fda", _("FDA registration")
        PSE = "pse", _("PSE registration")
        CE = "ce", _("CE declaration")
        MANUAL = "manual", _("Manual")
        OTHER = "other", _("Other")

    class Expiry(models.TextChoices):
        EXPIRED = "expired", _("Expired")
        EXPIRING = "expiring", _("Expires within 30 days")
        VALID = "valid", _("Valid")
        UNLIMITED = "unlimited", _("No expiry date")

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="documents", verbose_name=_("product"))
    doc_type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    title = models.CharField(_("title"), max_length=200, blank=True)
    file = models.FileField(
        _("file"),
        upload_to=document_upload_path,
        max_length=255,
        validators=[validate_document_file],
        help_text=_("PDF, JPG, PNG, WebP, DOCX or XLSX, up to 20 MB."),
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("qualification document")
        verbose_name_plural = _("qualification documents")
        ordering = ["doc_type", "id"]
        indexes = [models.Index(fields=["valid_until"], name="catalog_document_valid_until")]

    def __str__(self) -> str:
        return self.display_title

    @property
    def display_title(self) -> str:
        return self.title or str(self.get_doc_type_display())

    @property
    def filename(self) -> str:
        return original_name(self.file.name)

    @property
    def expiry(self) -> str:
        return expiry_of(self.valid_until)


def expiry_of(valid_until: date | None, today: date | None = None) -> str:
    if valid_until is None:
        return Document.Expiry.UNLIMITED
    today = today or timezone.localdate()
    if valid_until < today:
        return Document.Expiry.EXPIRED
    if valid_until <= today + timedelta(days=EXPIRY_WARNING_DAYS):
        return Document.Expiry.EXPIRING
    return Document.Expiry.VALID


class ItemQuerySet(models.QuerySet):
    def visible(self):
        """What distributors may see: active items of active products in active warehouses."""
        return self.filter(is_active=True, product__is_active=True, warehouse__is_active=True)

    def in_stock(self):
        return self.filter(stock_on_hand__gt=F("reserved"))


class Item(models.Model):
    """A product in one warehouse, named by its Item ID; what a mapping points at and what ships."""

    tenant_path = None

    item_id = UpperCaseCharField(
        _("Item ID"), max_length=48, unique=True, validators=[validate_item_id], help_text=ITEM_ID_RULE
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="items", verbose_name=_("product"))
    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="items", verbose_name=_("warehouse")
    )
    variant_attributes = models.JSONField(
        _("variant attributes"), default=dict, blank=True, help_text=_('E.g. {"size": "30 ml"}.')
    )
    barcode = models.CharField(_("barcode"), max_length=64, blank=True, db_index=True)
    price = models.DecimalField(
        _("distribution price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY)
    weight_grams = models.PositiveIntegerField(_("weight (g)"), help_text=_("Shipping weight of one piece."))
    # Null falls back to the product's dimensions (see `dimensions_cm`).
    length_cm = _dimension_field(_("length (cm)"))
    width_cm = _dimension_field(_("width (cm)"))
    height_cm = _dimension_field(_("height (cm)"))
    stock_on_hand = models.IntegerField(_("stock on hand"), default=0, validators=[MinValueValidator(0)])
    reserved = models.IntegerField(
        _("reserved"), default=0, validators=[MinValueValidator(0)], help_text=_("Claimed by paid, unshipped orders.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["item_id"]
        constraints = [
            _non_negative("price", _("The price cannot be negative.")),
            _non_negative("stock_on_hand", _("Stock on hand cannot be negative.")),
            _non_negative("reserved", _("Reserved stock cannot be negative.")),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("stock_on_hand")),
                name="catalog_item_reserved_within_stock",
                violation_error_message=_("Reserved stock cannot exceed stock on hand."),
            ),
        ]

    def __str__(self) -> str:
        return self.item_id

    def clean(self):
        errors = {}
        try:
            # Also set (unsaved) when the product and its items are added on one admin page.
            code = self.product.code
        except Product.DoesNotExist:
            code = ""
        if code and self.item_id and not self.item_id.startswith(f"{code.strip().upper()}-"):
            errors["item_id"] = _("The Item ID must start with its product code: %(code)s-…") % {"code": code}
        if self.price is not None and self.currency:
            self.price = quantize(self.price, self.currency)
        if not isinstance(self.variant_attributes, dict):
            errors["variant_attributes"] = _('Variant attributes are key and value pairs, e.g. {"size": "30 ml"}.')
        given = [value is not None for value in (self.length_cm, self.width_cm, self.height_cm)]
        if any(given) and not all(given):
            errors["length_cm"] = _("Give the length, width and height, or leave all three blank to use the product's.")
        if errors:
            raise ValidationError(errors)

    @property
    def available(self) -> int:
        return self.stock_on_hand - self.reserved

    @property
    def dimensions_cm(self) -> Dimensions | None:
        """One piece's length, width and height: the item's own when all three are given,
        else its product's when all three are given there, else unknown (no volume)."""
        own = complete_dimensions(self.length_cm, self.width_cm, self.height_cm)
        return own or self.product.dimensions_cm


class StockMovement(models.Model):
    """One change of an item's stock, with the reference of what caused it.

    `(item, kind, reference)` is unique for reserve, release and consume, so a
    retried call (a repeated payment webhook, a re-run task) moves stock once.
    """

    tenant_path = None

    class Kind(models.TextChoices):
        RESERVE = "reserve", _("Reserve")
        RELEASE = "release", _("Release")
        CONSUME = "consume", _("Consume (shipped)")
        ADJUST = "adjust", _("Adjust stock on hand")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="movements", verbose_name=_("item"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # Signed change of stock on hand for an adjustment; the quantity moved otherwise.
    quantity = models.IntegerField(_("quantity"))
    reference = models.CharField(_("reference"), max_length=120)
    stock_on_hand_after = models.IntegerField(_("stock on hand after"))
    reserved_after = models.IntegerField(_("reserved after"))
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "kind", "reference"],
                condition=~Q(kind="adjust"),
                name="catalog_stockmovement_once_per_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.kind} {self.quantity} ({self.reference})"


# --- logistics ------------------------------------------------------------------------------------


def _positive(name: str, message) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{name}__gt": 0}),
        name=f"%(app_label)s_%(class)s_{name}_positive",
        violation_error_message=message,
    )


class ShippingMethod(models.Model):
    """One way a warehouse sends parcels: a carrier's service, where it goes, how long it takes.

    It serves the countries in `countries` except the regions in `excluded_regions`
    (UPS Ground: US, less US-AK and US-HI). Its freight comes from its rate card in force;
    `volumetric_divisor` turns a parcel's volume into a weight (cm³ per kg: 5000 means
    a 50 × 40 × 30 cm box weighs at least 12 kg).
    """

    tenant_path = None

    warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="shipping_methods", verbose_name=_("warehouse")
    )
    carrier = models.CharField(_("carrier"), max_length=60, help_text=_("E.g. UPS, Yamato Transport, DHL."))
    service = models.CharField(_("service"), max_length=100, help_text=_("E.g. Ground, TA-Q-BIN, Paket."))
    code = UpperCaseCharField(
        _("service code"),
        max_length=40,
        validators=[validate_service_code],
        help_text=_("The code the warehouse's system knows the service by, e.g. UPS_GROUND."),
    )
    countries = models.CharField(
        _("countries served"), max_length=200, help_text=_("Country codes, comma-separated, e.g. US or DE,AT.")
    )
    excluded_regions = models.CharField(
        _("regions not served"),
        max_length=300,
        blank=True,
        help_text=_("Regions of those countries it does not reach, as country-region codes, e.g. US-AK,US-HI."),
    )
    eta_min_days = models.PositiveSmallIntegerField(_("delivery from (business days)"))
    eta_max_days = models.PositiveSmallIntegerField(_("delivery up to (business days)"))
    volumetric_divisor = models.PositiveIntegerField(
        _("volumetric divisor"),
        default=5000,
        validators=[MinValueValidator(1)],
        help_text=_("cm³ per kg: volumetric weight = length × width × height ÷ this. Usually 5000 or 6000."),
    )
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Inactive methods are never quoted."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shipping method")
        verbose_name_plural = _("shipping methods")
        ordering = ["warehouse__code", "carrier", "service", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["warehouse", "code"],
                name="catalog_shippingmethod_code_per_warehouse",
                violation_error_message=_("This warehouse already has a method with this service code."),
            ),
            models.CheckConstraint(
                condition=Q(eta_min_days__lte=F("eta_max_days")),
                name="catalog_shippingmethod_eta_in_order",
                violation_error_message=_("The delivery time cannot start after it ends."),
            ),
            _positive("volumetric_divisor", _("The volumetric divisor must be above zero.")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.warehouse.code})" if self.warehouse_id else self.name

    @property
    def name(self) -> str:
        return f"{self.carrier} {self.service}".strip()

    @property
    def country_codes(self) -> list[str]:
        return [code for code in self.countries.split(",") if code]

    @property
    def excluded_region_codes(self) -> list[str]:
        return [code for code in self.excluded_regions.split(",") if code]

    def clean(self):
        errors = {}
        for field, normalise in (("countries", normalise_countries), ("excluded_regions", normalise_regions)):
            try:
                setattr(self, field, normalise(getattr(self, field)))
            except ValidationError as exc:
                errors[field] = exc
        if "countries" not in errors and not self.countries:
            errors["countries"] = _("List at least one country this method serves.")
        if not errors:
            strays = [code for code in self.excluded_region_codes if code[:2] not in self.country_codes]
            if strays:
                errors["excluded_regions"] = _("%(codes)s: not in a country this method serves.") % {
                    "codes": ", ".join(strays)
                }
        if errors:
            raise ValidationError(errors)


class RateCardQuerySet(models.QuerySet):
    def in_force(self, at: datetime):
        """Cards whose period holds `at` (from inclusive, to exclusive). Where two of a
        method's cards both hold it, the later start wins: `selectors.rate_cards_in_force`."""
        return self.filter(effective_from__lte=at).filter(Q(effective_to__isnull=True) | Q(effective_to__gt=at))


class RateCard(models.Model):
    """One version of a method's prices, in force from `effective_from` until `effective_to`
    (open-ended when blank) or until a later version starts. Cards are kept as history:
    a new price list is a new version, and once a card has started the admin shows it
    read-only (only its end may still be set)."""

    tenant_path = None

    method = models.ForeignKey(
        ShippingMethod, on_delete=models.PROTECT, related_name="rate_cards", verbose_name=_("shipping method")
    )
    version = models.PositiveIntegerField(_("version"), editable=False)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY)
    fuel_surcharge_percent = models.DecimalField(
        _("fuel surcharge (%)"),
        max_digits=5,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("Added to the freight (after the minimum charge), e.g. 15.5."),
    )
    effective_from = models.DateTimeField(_("effective from"))
    effective_to = models.DateTimeField(
        _("effective until"), null=True, blank=True, help_text=_("Blank: until a later version starts.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RateCardQuerySet.as_manager()

    class Meta:
        verbose_name = _("rate card")
        verbose_name_plural = _("rate cards")
        ordering = ["method", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["method", "version"], name="catalog_ratecard_version_per_method"),
            models.UniqueConstraint(
                fields=["method", "effective_from"],
                name="catalog_ratecard_start_per_method",
                violation_error_message=_("Another version of this method starts at the same moment."),
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
                name="catalog_ratecard_period_in_order",
                violation_error_message=_("A rate card must end after it starts."),
            ),
            models.CheckConstraint(
                condition=Q(fuel_surcharge_percent__gte=0, fuel_surcharge_percent__lte=100),
                name="catalog_ratecard_fuel_surcharge_range",
                violation_error_message=_("The fuel surcharge is a percentage from 0 to 100."),
            ),
        ]

    def __str__(self) -> str:
        method = self.method if self.method_id else "—"
        return _("%(method)s, version %(version)s") % {"method": method, "version": self.version or "—"}

    def has_started(self, at: datetime | None = None) -> bool:
        return self.effective_from is not None and self.effective_from <= (at or timezone.now())

    def has_ended(self, at: datetime | None = None) -> bool:
        return self.effective_to is not None and self.effective_to <= (at or timezone.now())


class RateZone(models.Model):
    """Where a card's prices apply: a country, narrowed to some of its regions (state codes)
    or to postcodes beginning with one of `postcode_prefixes` (never both). A destination
    takes the most specific zone that holds it: postcode (the longest prefix) over region
    over the whole country (`catalog.shipping.zone_for`)."""

    tenant_path = None

    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="zones", verbose_name=_("rate card"))
    name = models.CharField(_("zone"), max_length=80, help_text=_("E.g. Zone 1–4, Okinawa, Islands."))
    country = UpperCaseCharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code, e.g. US."))
    regions = models.CharField(
        _("regions"), max_length=300, blank=True, help_text=_("Region codes of the country, e.g. CA,NV,AZ. Blank: all.")
    )
    postcode_prefixes = models.CharField(
        _("postcode prefixes"),
        max_length=500,
        blank=True,
        help_text=_("Postcodes beginning with these, e.g. 90 or 27498. Blank: all."),
    )

    class Meta:
        verbose_name = _("rate zone")
        verbose_name_plural = _("rate zones")
        ordering = ["card", "country", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "name"],
                name="catalog_ratezone_name_per_card",
                violation_error_message=_("This rate card already has a zone of this name."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})"

    @property
    def region_codes(self) -> list[str]:
        return [code for code in self.regions.split(",") if code]

    @property
    def prefixes(self) -> list[str]:
        return [code for code in self.postcode_prefixes.split(",") if code]

    def clean(self):
        errors = {}
        try:
            self.country = normalise_countries(self.country)
        except ValidationError as exc:
            errors["country"] = exc
        if "country" not in errors and ("," in self.country or not self.country):
            errors["country"] = _("A zone is in exactly one country.")
        try:
            self.regions = normalise_subdivisions(self.regions, self.country)
        except ValidationError as exc:
            errors["regions"] = exc
        try:
            self.postcode_prefixes = normalise_postcode_prefixes(self.postcode_prefixes)
        except ValidationError as exc:
            errors["postcode_prefixes"] = exc
        if not errors and self.regions and self.postcode_prefixes:
            errors["postcode_prefixes"] = _("Narrow a zone by regions or by postcodes, not both: make two zones.")
        if errors:
            raise ValidationError(errors)


class RateRow(models.Model):
    """One weight band of a zone, for chargeable weights up to `max_grams` (above the
    previous row's): the first `first_grams` cost `first_price`, each further
    `step_grams` or part of it `step_price`; never less than `min_charge`. A row with no
    step (0) is one flat price, so its first weight is its upper weight."""

    tenant_path = None

    zone = models.ForeignKey(RateZone, on_delete=models.CASCADE, related_name="rows", verbose_name=_("zone"))
    max_grams = models.PositiveIntegerField(_("up to (g)"), validators=[MinValueValidator(1)])
    first_grams = models.PositiveIntegerField(_("first weight (g)"), validators=[MinValueValidator(1)])
    first_price = models.DecimalField(
        _("first weight price"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    step_grams = models.PositiveIntegerField(
        _("additional step (g)"), default=0, help_text=_("0: no additional weight, one flat price.")
    )
    step_price = models.DecimalField(
        _("price per step"), max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    min_charge = models.DecimalField(
        _("minimum charge"), max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("weight row")
        verbose_name_plural = _("weight rows")
        ordering = ["zone", "max_grams"]
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "max_grams"],
                name="catalog_raterow_weight_per_zone",
                violation_error_message=_("This zone already has a row for this weight."),
            ),
            _non_negative("first_price", _("A price cannot be negative.")),
            _non_negative("step_price", _("A price cannot be negative.")),
            _non_negative("min_charge", _("A price cannot be negative.")),
            models.CheckConstraint(
                condition=Q(first_grams__lte=F("max_grams")),
                name="catalog_raterow_first_within_row",
                violation_error_message=_("The first weight cannot be above the row's upper weight."),
            ),
        ]

    def __str__(self) -> str:
        return _("up to %(grams)s g") % {"grams": self.max_grams}

    def clean(self):
        errors = {}
        if None in (self.max_grams, self.first_grams, self.step_grams):
            return  # the field errors say what is missing
        if self.first_grams > self.max_grams:
            errors["first_grams"] = _("The first weight cannot be above the row's upper weight.")
        elif self.step_grams == 0 and self.first_grams != self.max_grams:
            errors["step_grams"] = _("Without an additional step the first weight must be the row's upper weight.")
        elif self.step_grams and (self.max_grams - self.first_grams) % self.step_grams:
            errors["step_grams"] = _(
                "The steps must end at the row's upper weight: %(extra)s g after the first weight is not a "
                "whole number of %(step)s g steps."
            ) % {"extra": self.max_grams - self.first_grams, "step": self.step_grams}
        if errors:
            raise ValidationError(errors)
        self._quantize_prices()

    def _quantize_prices(self) -> None:
        """Prices to the card currency's minor unit, half up (JPY has none)."""
        try:
            currency = self.zone.card.currency
        except (RateZone.DoesNotExist, RateCard.DoesNotExist):
            return
        for field in ("first_price", "step_price", "min_charge"):
            value = getattr(self, field)
            if value is not None:
                setattr(self, field, quantize(value, currency))
