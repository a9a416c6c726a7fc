"""Fulfilment in the staff console: how each warehouse is reached (secrets written, never
shown) and the queue of the warehouses whose staff work here."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from distribution.errors import ApplicationError

from .models import ManualOutbound, WarehouseBackend
from .services import manual_outbound_check, manual_outbound_move, warehouse_backend_set_secrets

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
