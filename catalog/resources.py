"""django-import-export resources: staff import and export products and items as xlsx.

Each row is validated like a form (`full_clean`: Item ID rule, non-negative price and
stock, known product and warehouse); one bad row reports its error and the whole
import is rolled back, so a file is saved entirely or not at all. Items are saved
through `services.item_save`, which never writes the `reserved` column from a file.
"""

import io
import json

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.formats.base_formats import XLSX

from distribution import spreadsheet

from . import services
from .models import Category, Item, Product, Warehouse

# The staff's product and item files: tens of thousands of rows of a dozen columns.
STAFF_FILE_LIMITS = spreadsheet.Limits(
    what=gettext_lazy("a catalog file"),
    max_rows=100_000,
    max_cells=2_000_000,
    max_file_bytes=20 * 1024 * 1024,
    max_part_bytes=128 * 1024 * 1024,
    max_total_bytes=160 * 1024 * 1024,
)


class CheckedXLSX(XLSX):
    """The admin's xlsx import, checked like every other upload before openpyxl reads it
    (openpyxl pads every row to the width a sheet declares; a file can declare 16,384)."""

    def create_dataset(self, in_stream):
        spreadsheet.check_xlsx(io.BytesIO(in_stream), limits=STAFF_FILE_LIMITS, all_sheets=True)
        return super().create_dataset(in_stream)


class JSONWidget(widgets.Widget):
    """A JSON object in one cell: {"size": "30 ml"}; blank is {}."""

    def clean(self, value, row=None, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return {}
        if isinstance(value, dict):
            return value
        try:
            parsed = json.loads(value)
        except (TypeError, ValueError):
            parsed = None
        if not isinstance(parsed, dict):
            raise ValueError(_('Not a JSON object: %(value)s. Write it like {"size": "30 ml"}.') % {"value": value})
        return parsed

    def render(self, value, obj=None, **kwargs):
        return json.dumps(value or {}, ensure_ascii=False, sort_keys=True)


class CategoryWidget(widgets.ForeignKeyWidget):
    """A category by name, created on first use (staff type names, not ids)."""

    def __init__(self):
        super().__init__(Category, "name")

    def clean(self, value, row=None, **kwargs):
        name = (value or "").strip() if isinstance(value, str) else value
        if not name:
            return None
        category, _created = Category.objects.get_or_create(name=name)
        return category


class CodeWidget(widgets.ForeignKeyWidget):
    """A foreign key by its code, with an error that names the unknown code."""

    def clean(self, value, row=None, **kwargs):
        code = str(value or "").strip().upper()
        if not code:
            return None
        try:
            return self.model.objects.get(**{self.field: code})
        except self.model.DoesNotExist:
            raise ValueError(
                _("Unknown %(model)s: %(code)s.") % {"model": self.model._meta.verbose_name, "code": code}
            ) from None


class UpperCharWidget(widgets.CharWidget):
    def clean(self, value, row=None, **kwargs):
        value = super().clean(value, row, **kwargs)
        return value.strip().upper() if isinstance(value, str) else value


class ProductResource(resources.ModelResource):
    code = fields.Field(attribute="code", column_name="code", widget=UpperCharWidget())
    category = fields.Field(attribute="category", column_name="category", widget=CategoryWidget())
    attributes = fields.Field(attribute="attributes", column_name="attributes", widget=JSONWidget())
    # A TextField gets no text widget by default, so an empty cell would become NULL.
    description = fields.Field(attribute="description", column_name="description", widget=widgets.CharWidget())

    class Meta:
        model = Product
        import_id_fields = ["code"]
        fields = [
            "code",
            "name",
            "brand",
            "category",
            "description",
            "attributes",
            "hs_code",
            "declared_value",
            "declared_value_currency",
            "weight_grams",
            "length_cm",
            "width_cm",
            "height_cm",
            "cloud_drive_url",
            "cloud_drive_access_code",
            "is_active",
        ]
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        _refuse_duplicates(dataset, "code", gettext_lazy("product code"))


class ItemResource(resources.ModelResource):
    item_id = fields.Field(attribute="item_id", column_name="item_id", widget=UpperCharWidget())
    product = fields.Field(attribute="product", column_name="product", widget=CodeWidget(Product, "code"))
    warehouse = fields.Field(attribute="warehouse", column_name="warehouse", widget=CodeWidget(Warehouse, "code"))
    variant_attributes = fields.Field(
        attribute="variant_attributes", column_name="variant_attributes", widget=JSONWidget()
    )
    # Exported for reading; never imported (only orders move reserved stock).
    reserved = fields.Field(attribute="reserved", column_name="reserved", readonly=True)
    available = fields.Field(attribute="available", column_name="available", readonly=True)

    class Meta:
        model = Item
        import_id_fields = ["item_id"]
        fields = [
            "item_id",
            "product",
            "warehouse",
            "variant_attributes",
            "barcode",
            "price",
            "currency",
            "weight_grams",
            "length_cm",
            "width_cm",
            "height_cm",
            "stock_on_hand",
            "reserved",
            "available",
            "is_active",
        ]
        export_order = fields
        clean_model_instances = True
        skip_unchanged = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        self._reference = _("import by %(user)s") % {"user": kwargs.get("user") or _("staff")}
        _refuse_duplicates(dataset, "item_id", gettext_lazy("Item ID"))

    def get_queryset(self):
        return super().get_queryset().select_related("product", "warehouse")

    def do_instance_save(self, instance, is_create):
        services.item_save(item=instance, reference=getattr(self, "_reference", "import"))


def _refuse_duplicates(dataset, column: str, label) -> None:
    """Two rows with one key would silently overwrite each other: refuse the file instead."""
    if column not in (dataset.headers or []):
        raise ValueError(_("The file has no “%(column)s” column.") % {"column": column})
    seen: dict[str, int] = {}
    duplicates = []
    for number, value in enumerate(dataset[column], start=2):  # row 1 is the header
        key = str(value or "").strip().upper()
        if not key:
            continue
        if key in seen:
            duplicates.append(
                _("%(label)s %(key)s appears twice (rows %(first)d and %(second)d).")
                % {"label": label, "key": key, "first": seen[key], "second": number}
            )
        else:
            seen[key] = number
    if duplicates:
        raise ValueError(" ".join(duplicates))
