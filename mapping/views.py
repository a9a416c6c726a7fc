"""[Platform Authorization] > [Product Mapping]: the list (mapped and unmapped store
SKUs), [Add], edit, delete, map in place, suggestions, [Batch Import] and export.

Views read through tenant-scoped selectors and write through services; another
distributor's ids answer 404.
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from distribution.errors import ApplicationError
from distribution.http import safe_next
from distribution.models import Section
from distribution.tenancy import PortalView
from stores.selectors import store_get, store_list

from . import selectors, services
from .forms import STATUS_NOT_SUPPLIED, STATUS_UNMAPPED, ImportUploadForm, MappingFilterForm, MappingForm
from .importer import StoreResolver
from .models import Mapping, MappingImport, SeenSku
from .skus import SKU_RULE
from .xlsx import MAX_ROWS, XLSX_CONTENT_TYPE, export_bytes, instructions, rejects_bytes, template_bytes

REJECTS_SHOWN = 100


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


class MappingView(PortalView):
    section = Section.MAPPING

    def stores(self):
        return store_list(distributor=self.distributor)

    def store_or_404(self, value):
        if value in (None, ""):
            raise Http404(_("Not found."))
        return store_get(distributor=self.distributor, store_id=value)

    def back(self, default: str = ""):
        """Where to go after a POST: the page it came from (same site only), else the list."""
        return redirect(
            safe_next(self.request, self.request.POST.get("next"), default or reverse("mapping:mapping_list"))
        )

    def waiting_note(self, store, sku: str) -> str:
        waiting = selectors.seen_sku_waiting(store=store, sku=sku)
        if not waiting:
            return ""
        return " " + ngettext(
            "%(n)d order waiting on this SKU is being checked again.",
            "%(n)d orders waiting on this SKU are being checked again.",
            waiting,
        ) % {"n": waiting}


class MappingListView(MappingView):
    def get(self, request):
        stores = list(self.stores())
        form = MappingFilterForm(request.GET or None, stores=stores)
        filters = form.filters()
        mapped = selectors.mapping_list(distributor=self.distributor, filters=filters)
        unmapped = selectors.unmapped_list(distributor=self.distributor, filters=filters)
        not_supplied = selectors.unmapped_list(distributor=self.distributor, filters=filters, not_supplied=True)
        lists = {"mapped": mapped, STATUS_UNMAPPED: unmapped, STATUS_NOT_SUPPLIED: not_supplied}
        shown = form.shown_status
        page = Paginator(lists[shown], settings.PORTAL_PAGE_SIZE).get_page(request.GET.get("page"))
        rows = list(page.object_list)
        showing_unmapped = shown == STATUS_UNMAPPED
        suggestions = selectors.suggestions_for(rows) if showing_unmapped else {}
        counts = {name: page.paginator.count if name == shown else rows_.count() for name, rows_ in lists.items()}
        return render(
            request,
            "mapping/mapping_list.html",
            {
                "form": form,
                "stores": stores,
                "page": page,
                "rows": [(seen, suggestions.get(seen.pk)) for seen in rows] if showing_unmapped else rows,
                "showing_unmapped": showing_unmapped,
                "showing_not_supplied": shown == STATUS_NOT_SUPPLIED,
                "counts": counts,
                "any_suggestion": bool(suggestions),
                "sku_rule": SKU_RULE,
            },
        )


class MappingAddView(MappingView):
    template_name = "mapping/mapping_form.html"

    def get(self, request):
        initial = {"store_sku": request.GET.get("sku", "")}
        if request.GET.get("store", "").isdigit():
            initial["store"] = int(request.GET["store"])
        return self._render(MappingForm(initial=initial, stores=self.stores()))

    def post(self, request):
        form = MappingForm(request.POST, stores=self.stores())
        if form.is_valid():
            data = form.cleaned_data
            try:
                mapping = services.mapping_create(
                    actor=self.membership,
                    store=data["store"],
                    store_sku=data["store_sku"],
                    item=data["item_id"],
                    platform_product_id=data["platform_product_id"],
                    platform_variant_id=data["platform_variant_id"],
                )
            except ApplicationError as exc:
                form.add_error(exc.extra.get("field"), str(exc))
            else:
                messages.success(
                    request,
                    _("%(sku)s of %(store)s now maps to %(item)s.")
                    % {"sku": mapping.store_sku, "store": mapping.store.name, "item": mapping.item.item_id}
                    + self.waiting_note(mapping.store, mapping.store_sku),
                )
                return redirect(f"{reverse('mapping:mapping_list')}?store={mapping.store_id}")
        return self._render(form, status=400)

    def _render(self, form, *, mapping=None, status=200):
        return render(
            self.request,
            self.template_name,
            {"form": form, "mapping": mapping, "has_stores": self.stores().exists(), "sku_rule": SKU_RULE},
            status=status,
        )


class MappingEditView(MappingAddView):
    def mapping(self, mapping_id: int) -> Mapping:
        return self.get_for_tenant_or_404(
            Mapping.objects.select_related("store", "item", "item__product", "item__warehouse"), pk=mapping_id
        )

    def get(self, request, mapping_id: int):
        mapping = self.mapping(mapping_id)
        form = MappingForm(
            initial={
                "store_sku": mapping.store_sku,
                "item_id": mapping.item.item_id,
                "platform_product_id": mapping.platform_product_id,
                "platform_variant_id": mapping.platform_variant_id,
            },
            stores=self.stores(),
            fixed_store=mapping.store,
        )
        return self._render(form, mapping=mapping)

    def post(self, request, mapping_id: int):
        mapping = self.mapping(mapping_id)
        form = MappingForm(request.POST, stores=self.stores(), fixed_store=mapping.store)
        if form.is_valid():
            data = form.cleaned_data
            try:
                mapping = services.mapping_update(
                    actor=self.membership,
                    mapping=mapping,
                    store_sku=data["store_sku"],
                    item=data["item_id"],
                    platform_product_id=data["platform_product_id"],
                    platform_variant_id=data["platform_variant_id"],
                )
            except ApplicationError as exc:
                form.add_error(exc.extra.get("field"), str(exc))
            else:
                messages.success(
                    request,
                    _("Saved: %(sku)s of %(store)s maps to %(item)s.")
                    % {"sku": mapping.store_sku, "store": mapping.store.name, "item": mapping.item.item_id},
                )
                return redirect(f"{reverse('mapping:mapping_list')}?store={mapping.store_id}")
        return self._render(form, mapping=mapping, status=400)


class MappingDeleteView(MappingView):
    def mapping(self, mapping_id: int) -> Mapping:
        return self.get_for_tenant_or_404(Mapping.objects.select_related("store", "item"), pk=mapping_id)

    def get(self, request, mapping_id: int):
        return render(request, "mapping/mapping_delete.html", {"mapping": self.mapping(mapping_id)})

    def post(self, request, mapping_id: int):
        mapping = self.mapping(mapping_id)
        try:
            services.mapping_delete(actor=self.membership, mapping=mapping)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("The mapping of %(sku)s (%(store)s) was deleted.")
                % {"sku": mapping.store_sku, "store": mapping.store.name},
            )
        return redirect(f"{reverse('mapping:mapping_list')}?store={mapping.store_id}")


# --- the unmapped-SKU queue -----------------------------------------------------------------------


def _unmapped_url() -> str:
    return f"{reverse('mapping:mapping_list')}?status={STATUS_UNMAPPED}"


def home_unmapped(membership) -> dict:
    """The home page's unmapped-SKU figure, linked to the queue (one query)."""
    return {**selectors.unmapped_summary(distributor=membership.distributor), "url": _unmapped_url()}


class SeenSkuMapView(MappingView):
    """Map one unmapped SKU in place, from its row in the list."""

    def post(self, request, seensku_id: int):
        seen = self.get_for_tenant_or_404(SeenSku.objects.select_related("store"), pk=seensku_id)
        try:
            mapping = services.mapping_create(
                actor=self.membership, store=seen.store, store_sku=seen.sku, item=request.POST.get("item_id", "")
            )
        except ApplicationError as exc:
            messages.error(request, _("%(sku)s was not mapped: %(reason)s") % {"sku": seen.sku, "reason": exc})
        else:
            messages.success(
                request,
                _("%(sku)s now maps to %(item)s.") % {"sku": mapping.store_sku, "item": mapping.item.item_id}
                + self.waiting_note(seen.store, seen.sku),
            )
        return self.back(_unmapped_url())


class SeenSkuAcceptView(MappingView):
    """Accept the suggestion shown for one unmapped SKU."""

    def post(self, request, seensku_id: int):
        seen = self.get_for_tenant_or_404(SeenSku.objects.select_related("store"), pk=seensku_id)
        try:
            mapping = services.mapping_suggestion_accept(actor=self.membership, seen_sku=seen)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("%(sku)s now maps to %(item)s.") % {"sku": mapping.store_sku, "item": mapping.item.item_id}
                + self.waiting_note(seen.store, seen.sku),
            )
        return self.back(_unmapped_url())


class SeenSkuNotSuppliedView(MappingView):
    """Mark an unmapped SKU "not supplied by this platform", or take the mark back."""

    def post(self, request, seensku_id: int):
        seen = self.get_for_tenant_or_404(SeenSku.objects.select_related("store"), pk=seensku_id)
        marking = request.POST.get("not_supplied") != "0"
        waiting = seen.waiting_orders
        try:
            services.seen_sku_not_supplied_set(actor=self.membership, seen_sku=seen, not_supplied=marking)
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return self.back(_unmapped_url())
        if not marking:
            text = _("%(sku)s is back in the unmapped queue: new orders with it wait for a mapping.")
            messages.success(request, text % {"sku": seen.sku})
            return self.back(_unmapped_url())
        text = _("%(sku)s is marked not supplied by this platform: its lines are left out of orders.") % {
            "sku": seen.sku
        }
        if waiting:
            text += " " + ngettext(
                "%(n)d order waiting on it goes ahead without its lines.",
                "%(n)d orders waiting on it go ahead without its lines.",
                waiting,
            ) % {"n": waiting}
        messages.success(request, text)
        return self.back(_unmapped_url())


class SuggestionsAcceptAllView(MappingView):
    def post(self, request):
        store = self.store_or_404(request.POST["store"]) if request.POST.get("store") else None
        try:
            created = services.mapping_suggestions_accept_all(actor=self.membership, store=store)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                ngettext("%(n)d suggestion accepted.", "%(n)d suggestions accepted.", created) % {"n": created},
            )
        return self.back(_unmapped_url())


# --- searches for the [Add] form (JSON) -----------------------------------------------------------


class ItemSearchView(MappingView):
    """Items the chosen store may map to: only warehouses serving its site."""

    def get(self, request):
        store = self.store_or_404(request.GET.get("store"))
        items = selectors.item_search(store=store, q=request.GET.get("q", "")[:100])
        return JsonResponse(
            {
                "site": store.site,
                "items": [
                    {
                        "item_id": item.item_id,
                        "product": item.product.name,
                        "warehouse": item.warehouse.code,
                        "available": item.available,
                        "label": f"{item.product.name} · {item.warehouse.code} · "
                        + _("%(n)d available") % {"n": item.available},
                    }
                    for item in items
                ],
            }
        )


class SkuSearchView(MappingView):
    """Unmapped store SKUs seen in the chosen store's orders."""

    def get(self, request):
        store = self.store_or_404(request.GET.get("store"))
        seen = selectors.sku_search(store=store, q=request.GET.get("q", "")[:100])
        return JsonResponse(
            {
                "skus": [
                    {
                        "sku": row.sku,
                        "title": row.title,
                        "waiting": row.waiting_orders,
                        "label": " · ".join(
                            part
                            for part in (
                                row.title,
                                ngettext("%(n)d order waiting", "%(n)d orders waiting", row.waiting_orders)
                                % {"n": row.waiting_orders}
                                if row.waiting_orders
                                else "",
                            )
                            if part
                        ),
                    }
                    for row in seen
                ]
            }
        )


# --- export and batch import ----------------------------------------------------------------------


class MappingExportView(MappingView):
    def get(self, request):
        store_id = request.GET.get("store")
        store = self.store_or_404(store_id) if store_id else None
        rows = selectors.mapping_export_rows(distributor=self.distributor, store_id=store.pk if store else None)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return _xlsx_response(export_bytes(rows), f"mappings-{stamp}.xlsx")


class ImportTemplateView(MappingView):
    def get(self, request):
        resolver = StoreResolver(self.distributor)
        stores = [(s.pk, resolver.reference(s), s.get_platform_display(), s.site) for s in resolver.stores]
        return _xlsx_response(template_bytes(stores), "mapping-import-template.xlsx")


class ImportView(MappingView):
    """[Batch Import]: the template, the upload, and the recent imports."""

    def get(self, request, form=None, status=200):
        return render(
            request,
            "mapping/import.html",
            {
                "form": form or ImportUploadForm(),
                "imports": selectors.mapping_import_recent(distributor=self.distributor),
                "instructions": instructions(),
                "max_rows": MAX_ROWS,
            },
            status=status,
        )

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                mapping_import = services.mapping_import_upload(actor=self.membership, file=form.cleaned_data["file"])
            except ApplicationError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("mapping:import_detail", mappingimport_id=mapping_import.pk)
        return self.get(request, form=form, status=400)


class ImportMixin(MappingView):
    def mapping_import(self, mappingimport_id: int, *, light: bool = False) -> MappingImport:
        queryset = MappingImport.objects.all()
        if light:
            queryset = queryset.defer("rejected_rows", "changes_sample")
        return self.get_for_tenant_or_404(queryset, pk=mappingimport_id)


class ImportDetailView(ImportMixin):
    """The preview (counts, rejected rows, [Confirm]) or the progress of a running import."""

    def get(self, request, mappingimport_id: int):
        mapping_import = self.mapping_import(mappingimport_id)
        rejected = [
            {"row": r[0], "store": r[1], "sku": r[2], "item_id": r[3], "reason": r[6]}
            for r in mapping_import.rejected_rows[:REJECTS_SHOWN]
        ]
        changes = [
            {"row": c[0], "store": c[1], "sku": c[2], "old": c[3], "new": c[4]} for c in mapping_import.changes_sample
        ]
        return render(
            request,
            "mapping/import_detail.html",
            {
                "import": mapping_import,
                "rejected": rejected,
                "rejects_shown": REJECTS_SHOWN,
                "changes": changes,
            },
        )


class ImportProgressView(ImportMixin):
    """JSON for the progress bar; the page polls it while the import runs."""

    def get(self, request, mappingimport_id: int):
        mapping_import = self.mapping_import(mappingimport_id, light=True)
        return JsonResponse(
            {
                "status": mapping_import.status,
                "status_label": str(mapping_import.get_status_display()),
                "running": mapping_import.is_running,
                "processed": mapping_import.processed_rows,
                "total": mapping_import.total_rows,
                "percent": mapping_import.percent,
                "counts": {
                    "new": mapping_import.new_count,
                    "changed": mapping_import.changed_count,
                    "unchanged": mapping_import.unchanged_count,
                    "rejected": mapping_import.rejected_count,
                },
                "error": mapping_import.error_message,
            }
        )


class ImportConfirmView(ImportMixin):
    def post(self, request, mappingimport_id: int):
        mapping_import = self.mapping_import(mappingimport_id, light=True)
        try:
            mapping_import = services.mapping_import_confirm(actor=self.membership, mapping_import=mapping_import)
        except services.ImportAlreadyApplied as exc:
            messages.info(request, str(exc))
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            if mapping_import.status == MappingImport.Status.APPLIED:
                messages.success(
                    request,
                    _("Applied: %(new)d new and %(changed)d changed mappings.")
                    % {"new": mapping_import.new_count, "changed": mapping_import.changed_count},
                )
        return redirect("mapping:import_detail", mappingimport_id=mappingimport_id)


class ImportResumeView(ImportMixin):
    def post(self, request, mappingimport_id: int):
        mapping_import = self.mapping_import(mappingimport_id, light=True)
        try:
            services.mapping_import_resume(actor=self.membership, mapping_import=mapping_import)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        return redirect("mapping:import_detail", mappingimport_id=mappingimport_id)


class ImportRejectsView(ImportMixin):
    def get(self, request, mappingimport_id: int):
        mapping_import = self.mapping_import(mappingimport_id)
        stem = mapping_import.original_name.rsplit(".", 1)[0] or "mappings"
        return _xlsx_response(rejects_bytes(mapping_import.rejected_rows), f"{stem}-rejected-rows.xlsx")
