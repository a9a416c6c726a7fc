"""[Financial Management] > [Balance Management]: the balance, the top-ups waiting for
staff, the history (filters, pages, xlsx/csv export), the 30-day chart, the balance
settings, and [Top Up Balance].

Owners, admins and finance members only (Section.FINANCE); every read goes through the
tenant-scoped selectors, every write through the services."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.models import Section
from distribution.money import CURRENCY_PRECISION, DEFAULT_CURRENCY, quantize
from distribution.tenancy import PortalView

from . import charts, exports, selectors, services
from .forms import HistoryFilterForm, PreferenceForm, TopUpForm

CHART_DAYS = 30


class FinanceView(PortalView):
    section = Section.FINANCE


class BalanceView(FinanceView):
    def get(self, request):
        form = HistoryFilterForm(request.GET or None)
        filters = form.filters()
        entries = selectors.balance_history(distributor=self.distributor, filters=filters)
        page = Paginator(entries, settings.PORTAL_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        for entry in rows:
            entry.shown_reference = entry.reference or entry.transaction.reference
        # One query for the whole page: which references are the distributor's orders.
        order_ids = {}
        if self.portal.can_open(Section.ORDERS):
            order_ids = selectors.order_ids_by_number(
                distributor=self.distributor, numbers={entry.shown_reference for entry in rows}
            )
        for entry in rows:
            entry.order_id = order_ids.get(entry.shown_reference)
        preference = selectors.balance_preference(distributor=self.distributor)
        series = selectors.balance_series(distributor=self.distributor, days=CHART_DAYS)
        return render(
            request,
            "finance/balance.html",
            {
                "balance": selectors.balance_available(distributor=self.distributor),
                "currency": DEFAULT_CURRENCY,
                "top_ups": selectors.topups_open(distributor=self.distributor),
                "form": form,
                "filtered": filters.active,
                "page": page,
                "entries": rows,
                "chart": charts.balance_chart(series, title=_("Balance (USD)")),
                "chart_days": CHART_DAYS,
                "preference_form": PreferenceForm(
                    initial={
                        "low_balance_threshold": preference.low_balance_threshold,
                        "auto_pay": preference.auto_pay,
                    }
                ),
                "preference": preference,
            },
        )


class BalanceExportView(FinanceView):
    """The history as filtered on the page, every page of it: ?format=xlsx or csv."""

    def get(self, request):
        fmt = request.GET.get("format", "xlsx")
        if fmt not in exports.FORMATS:
            fmt = "xlsx"
        filters = HistoryFilterForm(request.GET or None).filters()
        entries = selectors.balance_history(distributor=self.distributor, filters=filters)
        return exports.spreadsheet_response(
            fmt=fmt,
            filename=f"balance-history-{timezone.localdate():%Y%m%d}",
            headers=exports.history_headers(),
            rows=exports.history_rows(entries),
        )


class PreferenceView(FinanceView):
    def post(self, request):
        form = PreferenceForm(request.POST)
        if form.is_valid():
            try:
                services.preference_update(
                    actor=self.membership,
                    auto_pay=form.cleaned_data["auto_pay"],
                    low_balance_threshold=form.cleaned_data["low_balance_threshold"],
                )
            except ApplicationError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("Balance settings saved."))
        else:
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
        return redirect("finance:balance")


class TopUpView(FinanceView):
    """[Top Up Balance]: what was sent, how, and the proof; staff approve it later."""

    template_name = "finance/topup_form.html"

    def get(self, request):
        return self._render(TopUpForm(initial={"currency": "CNY"}))

    def post(self, request):
        # A body far beyond the proof's limit is refused before it is read and parsed.
        declared = request.META.get("CONTENT_LENGTH") or "0"
        if declared.isdigit() and int(declared) > services.PROOF_MAX_BYTES + 256 * 1024:
            messages.error(
                request,
                _("The proof is larger than %(mb)d MB; send a smaller image or PDF.")
                % {"mb": services.PROOF_MAX_BYTES // 2**20},
            )
            return self._render(TopUpForm(initial={"currency": "CNY"}), status=400)
        form = TopUpForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                top_up = services.topup_request(
                    actor=self.membership,
                    amount=data["amount"],
                    currency=data["currency"],
                    method=data["method"],
                    transfer_reference=data["transfer_reference"],
                    proof=data["proof"],
                )
            except ApplicationError as exc:
                form.add_error(exc.extra.get("field"), str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "Top-up %(ref)s of %(amount)s %(currency)s is waiting for approval by platform staff: "
                        "about %(usd)s USD at the published rate."
                    )
                    % {
                        "ref": top_up.reference,
                        "amount": quantize(top_up.amount, top_up.currency),
                        "currency": top_up.currency,
                        "usd": quantize(top_up.quoted_usd, DEFAULT_CURRENCY),
                    },
                )
                return redirect("finance:balance")
        return self._render(form, status=400)

    def _render(self, form, status=200):
        rates = selectors.rates_in_force()
        currencies = [code for code, _label in form.fields["currency"].choices]
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "rates": [(code, rates.get(code)) for code in currencies if code != DEFAULT_CURRENCY],
                "rate_values": {
                    DEFAULT_CURRENCY: "1",
                    **{code: f"{rate.usd_per_unit:f}" for code, rate in rates.items() if code in currencies},
                },
                "precisions": {code: CURRENCY_PRECISION[code] for code in currencies},
                "contact": {
                    "name": settings.FINANCE_CONTACT_NAME,
                    "email": settings.FINANCE_CONTACT_EMAIL,
                    "phone": settings.FINANCE_CONTACT_PHONE,
                },
                "usd_code": DEFAULT_CURRENCY,
            },
            status=status,
        )
