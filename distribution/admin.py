from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import services
from .errors import ApplicationError
from .models import Distributor, Heartbeat, Invitation, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]


@admin.register(Distributor)
class DistributorAdmin(admin.ModelAdmin):
    list_display = ["company_name", "contact_person", "country", "settlement_currency", "status", "created_at"]
    list_filter = ["status", "country", "settlement_currency"]
    search_fields = ["company_name", "contact_person", "phone", "memberships__user__email"]
    readonly_fields = ["status", "suspended_reason", "created_at", "updated_at"]
    inlines = [MembershipInline]
    actions = ["suspend", "reactivate"]

    def _set_status(self, request, queryset, status, reason=""):
        done = 0
        for distributor in queryset:
            try:
                services.distributor_set_status(
                    actor=request.user, distributor=distributor, status=status, reason=reason
                )
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{distributor}: {exc}", messages.ERROR)
        return done

    @admin.action(description=_("Suspend the selected distributors (read-only portal)"))
    def suspend(self, request, queryset):
        done = self._set_status(request, queryset, Distributor.Status.SUSPENDED, reason=_("Suspended by staff."))
        self.message_user(request, _("%(n)d distributor(s) suspended.") % {"n": done})

    @admin.action(description=_("Re-activate the selected distributors"))
    def reactivate(self, request, queryset):
        done = self._set_status(request, queryset, Distributor.Status.ACTIVE)
        self.message_user(request, _("%(n)d distributor(s) re-activated.") % {"n": done})


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "distributor", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "distributor__company_name"]
    list_select_related = ["user", "distributor"]
    autocomplete_fields = ["user", "distributor"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "distributor", "role", "status", "created_at", "expires_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "distributor__company_name"]
    list_select_related = ["distributor"]
    readonly_fields = ["token", "status", "accepted_at", "created_at", "invited_by"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_seen_at", "hostname", "runs"]
    readonly_fields = ["name", "last_seen_at", "hostname", "runs"]

    def has_add_permission(self, request):
        return False
