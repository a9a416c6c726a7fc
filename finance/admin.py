"""The staff console for money: exchange rates, top-up approval, manual adjustments and
the ledger (accounts, transactions, entries, check results).

Every write goes through finance.services: a rate is published (never edited or
deleted), a top-up is approved or rejected (maker-checker above
FINANCE_SECOND_APPROVAL_USD), an adjustment is a posting with a reason. The ledger rows
themselves are read-only here: no add, no change, no delete, no bulk delete.

Who may do what, by Django permission: approving or rejecting a top-up needs
"change top-up"; posting an adjustment needs "add ledger transaction" (superusers have
both). The services check that the actor is staff, whoever calls them.
"""

import mimetypes
from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.validators import sniff_type
from distribution.errors import ApplicationError
from distribution.models import Distributor
from distribution.money import DEFAULT_CURRENCY, quantize

from . import services
from .forms import AdjustmentForm, RatePublishForm, TopUpApproveForm, TopUpRejectForm
from .models import Account, BalancePreference, Entry, ExchangeRate, LedgerCheck, TopUp, Transaction
from .templatetags.finance_money import money, rate

WAITING_LONG = timedelta(hours=24)
WAITING = [TopUp.Status.PENDING, TopUp.Status.FIRST_APPROVAL]
PROOF_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: shown, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _form_page(
    request, model_admin, *, title, form, submit_label, cancel_url, obj=None, notes=(), notes_level="info", details=()
):
    """One page for every intermediate staff form (publish, approve, reject, adjust)."""
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
        "notes_level": notes_level,
        "details": details,
    }
    return TemplateResponse(request, "admin/form_page.html", context)


# --- exchange rates -------------------------------------------------------------------------------


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """The published rates, newest first per currency. Adding one publishes it; nothing
    published is ever edited or deleted (the history shows what was in force when)."""

    list_display = ["currency", "rate_shown", "valid_from", "source", "published_by", "created_at"]
    list_filter = ["currency"]
    search_fields = ["source"]
    date_hierarchy = "valid_from"
    list_select_related = ["published_by"]
    ordering = ["-valid_from", "-id"]
    readonly_fields = ["currency", "usd_per_unit", "valid_from", "source", "published_by", "created_at"]

    @admin.display(description=gettext_lazy("USD per unit"), ordering="usd_per_unit")
    def rate_shown(self, obj):
        return rate(obj.usd_per_unit)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = RatePublishForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                published = services.rate_publish(
                    actor=request.user,
                    currency=data["currency"],
                    usd_per_unit=data["usd_per_unit"],
                    valid_from=data["valid_from"],
                    source=data["source"],
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, _("Published: %(rate)s.") % {"rate": published}, messages.SUCCESS)
                return redirect("admin:finance_exchangerate_changelist")
        return _form_page(
            request,
            self,
            title=_("Publish an exchange rate"),
            form=form,
            submit_label=_("Publish"),
            cancel_url=reverse("admin:finance_exchangerate_changelist"),
            notes=[_("Distributors see the rate on [Top Up Balance] from the moment it is valid.")],
        )


# --- top-ups ------------------------------------------------------------------------------------


class WaitingLongFilter(admin.SimpleListFilter):
    title = gettext_lazy("waiting")
    parameter_name = "waiting"

    def lookups(self, request, model_admin):
        return [("24h", gettext_lazy("more than 24 h"))]

    def queryset(self, request, queryset):
        if self.value() == "24h":
            return queryset.filter(status__in=WAITING, created_at__lt=timezone.now() - WAITING_LONG)
        return queryset


@admin.register(TopUp)
class TopUpAdmin(admin.ModelAdmin):
    """The approval queue: open a top-up, check the proof, then [Approve] or [Reject]."""

    change_form_template = "finance/admin/topup_change_form.html"
    list_display = [
        "reference",
        "distributor",
        "amount_shown",
        "method",
        "transfer_reference",
        "status_shown",
        "quoted_usd_shown",
        "credited_usd_shown",
        "created_at",
        "waiting_long",
    ]
    list_filter = ["status", WaitingLongFilter, "currency", "method"]
    search_fields = ["distributor__company_name", "transfer_reference"]
    list_select_related = ["distributor", "first_approved_by"]
    ordering = ["-created_at", "-id"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "reference",
                    "distributor",
                    "status",
                    "amount",
                    "currency",
                    "method",
                    "transfer_reference",
                    "proof_link",
                    "requested_by",
                    "created_at",
                ]
            },
        ),
        (gettext_lazy("At the published rate"), {"fields": ["quoted_rate", "quoted_usd"]}),
        (
            gettext_lazy("Approval"),
            {
                "fields": [
                    "approved_amount",
                    "approved_rate",
                    "credited_usd",
                    "first_approved_by",
                    "first_approved_at",
                    "approved_by",
                    "approved_at",
                    "rejection_reason",
                    "transaction",
                    "updated_at",
                ]
            },
        ),
    ]
    # Everything on a top-up is read-only: it changes only through approve and reject.
    readonly_fields = [name for _title, options in fieldsets for name in options["fields"]]

    def has_add_permission(self, request):
        return False  # top-ups come from the distributors' [Top Up Balance]

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("amount"), ordering="amount")
    def amount_shown(self, obj):
        return f"{money(obj.amount, obj.currency)} {obj.currency}"

    @admin.display(description=gettext_lazy("USD at the published rate"), ordering="quoted_usd")
    def quoted_usd_shown(self, obj):
        return money(obj.quoted_usd)

    @admin.display(description=gettext_lazy("USD credited"), ordering="credited_usd")
    def credited_usd_shown(self, obj):
        return money(obj.credited_usd) or "—"

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_shown(self, obj):
        if obj.status == TopUp.Status.FIRST_APPROVAL:
            return format_html(
                "{}<br><small>{}</small>",
                obj.get_status_display(),
                _("first approved by %(who)s") % {"who": obj.first_approved_by},
            )
        return obj.get_status_display()

    @admin.display(description=gettext_lazy("waiting > 24 h"), boolean=True)
    def waiting_long(self, obj):
        return obj.status in WAITING and obj.created_at < timezone.now() - WAITING_LONG

    @admin.display(description=gettext_lazy("proof of payment"))
    def proof_link(self, obj):
        if not obj.pk or not obj.proof:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("admin:finance_topup_proof", args=[obj.pk]),
            obj.proof_name or _("proof"),
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/proof/", wrap(self.proof_view), name="finance_topup_proof"),
            path("<int:object_id>/approve/", wrap(self.approve_view), name="finance_topup_approve"),
            path("<int:object_id>/reject/", wrap(self.reject_view), name="finance_topup_reject"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        context = {
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
            "can_decide": bool(obj and obj.status in WAITING and self.has_change_permission(request, obj)),
            "approval_state": _approval_state(obj) if obj else "",
            "needs_two": bool(obj and obj.status in WAITING and _needs_two(obj)),
        }
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def _decidable(self, request, object_id) -> TopUp:
        top_up = get_object_or_404(TopUp.objects.select_related("distributor", "first_approved_by"), pk=object_id)
        if not self.has_change_permission(request, top_up):
            raise PermissionDenied
        return top_up

    def proof_view(self, request, object_id):
        top_up = get_object_or_404(TopUp, pk=object_id)
        if not self.has_view_permission(request, top_up):
            raise PermissionDenied
        if not top_up.proof:
            raise Http404
        handle = top_up.proof.open("rb")
        kind = sniff_type(handle)
        name = top_up.proof_name or f"{top_up.reference}.{kind or 'bin'}"
        content_type = PROOF_TYPES.get(kind) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        # Shown in the browser (an image or a PDF), but as a sandboxed document that runs nothing.
        response = FileResponse(handle, content_type=content_type, filename=name, as_attachment=kind is None)
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
        response["Cache-Control"] = "private, no-store"
        return response

    def approve_view(self, request, object_id):
        top_up = self._decidable(request, object_id)
        change_url = reverse("admin:finance_topup_change", args=[top_up.pk])
        if top_up.status not in WAITING:
            self.message_user(
                request,
                _("Top-up %(ref)s is %(status)s already; nothing was done.")
                % {"ref": top_up.reference, "status": top_up.get_status_display().lower()},
                messages.WARNING,
            )
            return redirect(change_url)
        amount = top_up.approved_amount if top_up.approved_amount is not None else top_up.amount
        applied = top_up.approved_rate if top_up.approved_rate is not None else top_up.quoted_rate
        initial = {"amount": quantize(amount, top_up.currency), "rate": rate(applied)}
        form = TopUpApproveForm(request.POST if request.method == "POST" else None, initial=initial, top_up=top_up)
        if request.method == "POST" and form.is_valid():
            amount = None if form.fields["amount"].disabled else form.cleaned_data["amount"]
            applied = None if form.fields["rate"].disabled else form.cleaned_data["rate"]
            try:
                done = services.topup_approve(actor=request.user, top_up=top_up, amount=amount, rate=applied)
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                if done.status == TopUp.Status.APPROVED:
                    text = _("Top-up %(ref)s approved: %(usd)s USD credited to %(who)s.") % {
                        "ref": done.reference,
                        "usd": money(done.credited_usd),
                        "who": done.distributor,
                    }
                else:
                    text = _(
                        "First approval of top-up %(ref)s recorded (%(usd)s USD). "
                        "Another staff member must approve it before the balance is credited."
                    ) % {"ref": done.reference, "usd": money(done.credited_usd)}
                self.message_user(request, text, messages.SUCCESS)
                return redirect(change_url)
        return _form_page(
            request,
            self,
            title=_("Approve top-up %(ref)s") % {"ref": top_up.reference},
            form=form,
            submit_label=_("Approve"),
            cancel_url=change_url,
            obj=top_up,
            notes=[_approval_state(top_up)],
            notes_level="warning" if _needs_two(top_up) else "info",
            details=_topup_details(top_up),
        )

    def reject_view(self, request, object_id):
        top_up = self._decidable(request, object_id)
        change_url = reverse("admin:finance_topup_change", args=[top_up.pk])
        form = TopUpRejectForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                done = services.topup_reject(actor=request.user, top_up=top_up, reason=form.cleaned_data["reason"])
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    _("Top-up %(ref)s rejected; the distributor sees the reason.") % {"ref": done.reference},
                    messages.SUCCESS,
                )
                return redirect(change_url)
        return _form_page(
            request,
            self,
            title=_("Reject top-up %(ref)s") % {"ref": top_up.reference},
            form=form,
            submit_label=_("Reject"),
            cancel_url=change_url,
            obj=top_up,
            details=_topup_details(top_up),
        )


def _needs_two(top_up: TopUp) -> bool:
    """Whether two staff members approve this top-up (maker-checker)."""
    usd = top_up.credited_usd if top_up.credited_usd is not None else top_up.quoted_usd
    return top_up.status == TopUp.Status.FIRST_APPROVAL or (usd is not None and usd >= services.second_approval_usd())


def _approval_state(top_up: TopUp) -> str:
    """What the top-up waits for, in one sentence (maker-checker made visible)."""
    threshold = services.second_approval_usd()
    if top_up.status == TopUp.Status.FIRST_APPROVAL:
        return _(
            "Awaiting second approval: first approved by %(who)s on %(when)s for %(amount)s %(currency)s at "
            "%(rate)s = %(usd)s USD. A different staff member must approve it."
        ) % {
            "who": top_up.first_approved_by,
            "when": timezone.localtime(top_up.first_approved_at).strftime("%Y-%m-%d %H:%M"),
            "amount": money(top_up.approved_amount, top_up.currency),
            "currency": top_up.currency,
            "rate": rate(top_up.approved_rate),
            "usd": money(top_up.credited_usd),
        }
    if top_up.status == TopUp.Status.PENDING:
        if _needs_two(top_up):
            return _(
                "Pending. From %(threshold)s USD two staff members approve: the first approval confirms the "
                "amount and rate, a second staff member's approval credits the balance."
            ) % {"threshold": money(threshold)}
        return _("Pending: check the proof and the transfer, then approve or reject.")
    if top_up.status == TopUp.Status.APPROVED:
        return _("Approved and credited.")
    return _("Rejected: %(reason)s") % {"reason": top_up.rejection_reason}


def _topup_details(top_up: TopUp) -> list[tuple[str, str]]:
    return [
        (_("Distributor"), str(top_up.distributor)),
        (_("Amount"), f"{money(top_up.amount, top_up.currency)} {top_up.currency}"),
        (_("Payment method"), top_up.get_method_display()),
        (_("Transfer reference"), top_up.transfer_reference),
        (
            _("At the published rate"),
            f"{rate(top_up.quoted_rate)} = {money(top_up.quoted_usd)} {DEFAULT_CURRENCY}",
        ),
        (_("Requested at"), timezone.localtime(top_up.created_at).strftime("%Y-%m-%d %H:%M")),
    ]


# --- the ledger (read-only) ---------------------------------------------------------------------


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    change_list_template = "finance/admin/account_change_list.html"
    change_form_template = "finance/admin/account_change_form.html"
    list_display = ["code", "kind", "currency", "distributor", "balance_shown", "created_at"]
    list_filter = ["kind", "currency"]
    search_fields = ["code", "distributor__company_name"]
    list_select_related = ["distributor"]
    fields = ["code", "kind", "currency", "distributor", "balance_shown", "created_at"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("balance"))
    def balance_shown(self, obj):
        if obj.kind == Account.Kind.BALANCE:
            return money(obj.balance, obj.currency)
        # Platform accounts keep no cache: their balance is the sum of their entries (one query, detail only).
        return "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from .ledger import balance_of

        obj = self.get_object(request, object_id)
        context = {"can_adjust": self._can_adjust(request)}
        if obj is not None:
            context["account_balance"] = f"{money(balance_of(obj), obj.currency)} {obj.currency}"
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"can_adjust": self._can_adjust(request), **(extra_context or {})})

    def _can_adjust(self, request) -> bool:
        return request.user.has_perm("finance.add_transaction")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("adjust/", wrap(self.adjust_view), name="finance_account_adjust"), *super().get_urls()]

    def adjust_view(self, request):
        """A manual credit or debit with a reason. The form carries an idempotency key made
        when it was shown, so a double submit (or a retried request) posts once."""
        if not self._can_adjust(request):
            raise PermissionDenied
        initial = {}
        if request.GET.get("distributor", "").isdigit():
            initial["distributor"] = Distributor.objects.filter(pk=request.GET["distributor"]).first()
        form = AdjustmentForm(request.POST if request.method == "POST" else None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                posted = services.adjustment_post(
                    actor=request.user,
                    distributor=data["distributor"],
                    amount=form.signed_amount(),
                    reason=data["reason"],
                    idempotency_key=f"adjustment:{data['key']}",
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                if posted.replayed:
                    self.message_user(
                        request,
                        _("This adjustment was posted already (the form was sent twice); nothing more was posted."),
                        messages.WARNING,
                    )
                else:
                    self.message_user(
                        request,
                        _("Adjustment of %(amount)s USD posted for %(who)s.")
                        % {"amount": money(form.signed_amount()), "who": data["distributor"]},
                        messages.SUCCESS,
                    )
                return redirect("admin:finance_transaction_change", posted.pk)
        return _form_page(
            request,
            self,
            title=_("Post a manual adjustment"),
            form=form,
            submit_label=_("Post adjustment"),
            cancel_url=reverse("admin:finance_account_changelist"),
            notes=[
                _(
                    "An adjustment is a ledger transaction like any other: it is never edited afterwards; a "
                    "mistake is corrected by an adjustment the other way. The distributor sees the reason."
                )
            ],
        )


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    fields = ["account", "currency", "amount", "reference", "balance_after"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "distributor", "reference", "memo", "created_by"]
    list_filter = ["kind", "created_at"]
    search_fields = ["reference", "idempotency_key", "memo", "distributor__company_name"]
    list_select_related = ["distributor", "created_by"]
    show_full_result_count = False
    fields = [
        "kind",
        "distributor",
        "reference",
        "memo",
        "reverses",
        "fx_rate",
        "fx_source_amount",
        "fx_source_currency",
        "idempotency_key",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    inlines = [EntryInline]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "transaction", "account", "currency", "amount", "reference", "balance_after"]
    list_filter = ["currency", "account__kind", "transaction__kind"]
    search_fields = ["reference", "account__code", "transaction__reference"]
    list_select_related = ["transaction", "account"]
    show_full_result_count = False
    fields = ["transaction", "account", "currency", "amount", "reference", "balance_after"]
    readonly_fields = fields


@admin.register(LedgerCheck)
class LedgerCheckAdmin(ReadOnlyAdmin):
    """The nightly check_ledger results; the latest one is shown above the list."""

    change_list_template = "finance/admin/ledgercheck_change_list.html"
    list_display = ["started_at", "ok", "problem_count", "transactions", "entries", "finished_at"]
    list_filter = ["ok"]
    fields = ["ok", "started_at", "finished_at", "transactions", "entries", "problem_list"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("problems"))
    def problem_count(self, obj):
        return len(obj.problems or [])

    @admin.display(description=gettext_lazy("problems"))
    def problem_list(self, obj):
        if not obj.problems:
            return "—"
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((p,) for p in obj.problems)))

    def changelist_view(self, request, extra_context=None):
        latest = LedgerCheck.objects.order_by("-started_at", "-id").first()
        return super().changelist_view(request, {"latest": latest, **(extra_context or {})})


@admin.register(BalancePreference)
class BalancePreferenceAdmin(ReadOnlyAdmin):
    """The distributors' own balance settings (they change them on [Balance Management])."""

    list_display = ["distributor", "auto_pay", "threshold_shown", "low_balance_notified_at", "updated_at"]
    list_filter = ["auto_pay"]
    search_fields = ["distributor__company_name"]
    list_select_related = ["distributor"]
    fields = ["distributor", "auto_pay", "low_balance_threshold", "low_balance_notified_at", "updated_by", "updated_at"]
    readonly_fields = fields

    @admin.display(description=gettext_lazy("low-balance alert below (USD)"), ordering="low_balance_threshold")
    def threshold_shown(self, obj):
        return money(obj.low_balance_threshold) if obj.low_balance_threshold else _("off")
