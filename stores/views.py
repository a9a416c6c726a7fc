"""[Platform Authorization] > [Platform Store Authorization]: the stores, [Authorize Now],
the platform's form, the consent round trip, re-authorize, disable and remove."""

import logging

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from distribution.errors import ApplicationError
from distribution.models import Section
from distribution.tenancy import PortalView

from . import selectors, services
from .authorization import (
    store_authorization_complete,
    store_authorization_receive_credentials,
    store_authorization_start,
)
from .forms import FORMS, PlatformChoiceForm
from .models import Platform

logger = logging.getLogger(__name__)

# Where a platform sends the seller's browser back (WooCommerce's key-issuing page adds
# `success` and `user_id`, our state, to a return URL of its own), and where a platform
# posts credentials server to server.
RETURN_URL_NAMES = {Platform.WOOCOMMERCE: "stores:woocommerce_return"}
SERVER_CALLBACK_URL_NAMES = {Platform.WOOCOMMERCE: "stores:woocommerce_keys_callback"}
# A key delivery is a few hundred bytes of JSON.
MAX_DELIVERY_BYTES = 16 * 1024
# The authorize page's heading, one whole sentence per platform so that each language
# gets its article right ("an Amazon store"); a platform without one reads the fallback.
AUTHORIZE_HEADINGS = {
    Platform.SHOPIFY: gettext_lazy("Authorize a Shopify store"),
    Platform.WOOCOMMERCE: gettext_lazy("Authorize a WooCommerce store"),
    Platform.AMAZON: gettext_lazy("Authorize an Amazon store"),
    Platform.TIKTOK: gettext_lazy("Authorize a TikTok Shop store"),
    Platform.OTHER: gettext_lazy("Add a store without an API"),
}


def _absolute(request, url_name: str) -> str:
    """A URL the platform can reach: STORE_CALLBACK_BASE_URL when set, else this request's origin."""
    path = reverse(url_name)
    base = settings.STORE_CALLBACK_BASE_URL
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def _platform_urls(request, platform: str) -> dict:
    server_callback = SERVER_CALLBACK_URL_NAMES.get(platform)
    return {
        "redirect_uri": _absolute(request, RETURN_URL_NAMES.get(platform, "stores:authorize_callback")),
        "server_callback_uri": _absolute(request, server_callback) if server_callback else "",
    }


def _callback_params(query: QueryDict) -> dict:
    """The callback's query as the platform signed it: repeated or `[]` keys stay lists."""
    params = {}
    for key, values in query.lists():
        params[key] = values if key.endswith("[]") or len(values) > 1 else values[-1]
    return params


def _split_secrets(form) -> tuple[dict, dict]:
    """The form's public fields (kept with the authorization) and its secrets (client only)."""
    secret_names = getattr(form, "secret_fields", ())
    public = {k: v for k, v in form.cleaned_data.items() if k not in secret_names}
    return public, {k: form.cleaned_data[k] for k in secret_names}


def _platform_or_404(platform: str) -> str:
    if platform not in FORMS:
        raise Http404(_("Not found."))
    return platform


class StoreListView(PortalView):
    section = Section.STORES

    def get(self, request):
        platforms = [(value, label) for value, label in selectors.authorizable_platforms() if value in FORMS]
        return render(
            request,
            "stores/store_list.html",
            {
                "stores": selectors.store_list(distributor=self.distributor),
                "platform_form": PlatformChoiceForm(platforms=platforms),
            },
        )


class StoreAuthorizeView(PortalView):
    """The platform's form; saving it sends OAuth platforms to their consent page."""

    section = Section.STORES

    def get(self, request):
        platform = request.GET.get("platform", "")
        if platform not in FORMS:
            messages.error(request, _("Choose a platform."))
            return redirect("stores:store_list")
        initial = {"site": self.distributor.country, "currency": self.distributor.settlement_currency}
        return self._render(request, platform, FORMS[platform](initial=initial))

    def post(self, request):
        platform = _platform_or_404(request.GET.get("platform", ""))
        return self._start(request, platform, FORMS[platform](request.POST), saved=_("The store “%(name)s” is saved."))

    def _start(self, request, platform, form, *, saved, store=None):
        """Validate the platform's form and start its authorization: off to consent, or saved at once."""
        if form.is_valid():
            try:
                public, secrets = _split_secrets(form)
                outcome = store_authorization_start(
                    actor=self.membership,
                    platform=platform,
                    form=public,
                    secrets_form=secrets,
                    store=store,
                    **_platform_urls(request, platform),
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                if outcome.redirect_url:
                    return redirect(outcome.redirect_url)
                messages.success(request, saved % {"name": outcome.store.name})
                return redirect("stores:store_list")
        return self._render(request, platform, form, store=store, status=400)

    def _render(self, request, platform, form, *, store=None, status=200):
        return render(
            request,
            "stores/store_authorize.html",
            {
                "platform": platform,
                "platform_label": Platform(platform).label,
                "heading": AUTHORIZE_HEADINGS.get(platform, gettext_lazy("Authorize a store")),
                "form": form,
                "store": store,
            },
            status=status,
        )


class StoreAuthorizeCallbackView(PortalView):
    """Where the platform's consent page sends the person back."""

    section = Section.STORES

    def get(self, request):
        if "error" in request.GET and "code" not in request.GET:
            messages.error(request, _("The platform did not grant access: %(e)s") % {"e": request.GET["error"]})
            return redirect("stores:store_list")
        try:
            store = store_authorization_complete(actor=self.membership, params=_callback_params(request.GET))
        except ApplicationError as exc:
            messages.error(request, _("The store was not authorized: %(reason)s") % {"reason": exc})
        else:
            messages.success(request, _("The store “%(name)s” is authorized.") % {"name": store.name})
        return redirect("stores:store_list")


class WooCommerceReturnView(PortalView):
    """Where a WooCommerce shop's key-issuing page sends the seller back: `success` (1 or 0)
    and `user_id`, the state we gave it. By now the shop has posted the keys to
    WooCommerceKeysCallbackView; completing proves them with a live call and saves the store."""

    section = Section.STORES

    def get(self, request):
        params = _callback_params(request.GET)
        try:
            store = store_authorization_complete(
                actor=self.membership, params={**params, "state": params.get("user_id")}, platform=Platform.WOOCOMMERCE
            )
        except ApplicationError as exc:
            messages.error(request, _("The store was not authorized: %(reason)s") % {"reason": exc})
        else:
            messages.success(request, _("The store “%(name)s” is authorized.") % {"name": store.name})
        return redirect("stores:store_list")


@method_decorator(csrf_exempt, name="dispatch")
class WooCommerceKeysCallbackView(View):
    """Deliberately public: a WooCommerce shop posts the keys it made for us here, server to
    server, with no session and no CSRF token. The state nonce it echoes as `user_id` binds
    the keys to the authorization a distributor started; they wait there, encrypted, until
    that distributor's return proves them. Any answer but 200 makes WooCommerce delete the
    key and tell the seller the connection failed."""

    http_method_names = ["post"]

    def post(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_DELIVERY_BYTES or len(request.body) > MAX_DELIVERY_BYTES:
            return JsonResponse({"error": "The delivery is too large."}, status=413)
        try:
            store_authorization_receive_credentials(platform=Platform.WOOCOMMERCE, body=request.body)
        except ApplicationError as exc:
            # Never the body: it holds the keys.
            logger.warning("WooCommerce key delivery refused: %s", exc)
            return JsonResponse({"error": str(exc)}, status=400)
        return JsonResponse({"status": "received"})


class StoreReauthorizeView(StoreAuthorizeView):
    """Authorize an existing store again (expired, revoked, failed or disabled)."""

    def get(self, request, store_id: int):
        store = selectors.store_get(distributor=self.distributor, store_id=store_id)
        form = FORMS[store.platform](
            initial={"name": store.name, "site": store.site, "currency": store.currency}, store=store
        )
        return self._render(request, store.platform, form, store=store)

    def post(self, request, store_id: int):
        store = selectors.store_get(distributor=self.distributor, store_id=store_id)
        form = FORMS[store.platform](
            request.POST, initial={"name": store.name, "site": store.site, "currency": store.currency}, store=store
        )
        return self._start(request, store.platform, form, store=store, saved=_("The store “%(name)s” is authorized."))


class StoreDisableView(PortalView):
    section = Section.STORES

    def post(self, request, store_id: int):
        store = selectors.store_get(distributor=self.distributor, store_id=store_id)
        try:
            services.store_disable(actor=self.membership, store=store)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, _("The store “%(name)s” is disabled; it is no longer pulled.") % {"name": store.name}
            )
        return redirect("stores:store_list")


class StoreEnableView(PortalView):
    section = Section.STORES

    def post(self, request, store_id: int):
        store = selectors.store_get(distributor=self.distributor, store_id=store_id)
        try:
            services.store_enable(actor=self.membership, store=store)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The store “%(name)s” is enabled.") % {"name": store.name})
        return redirect("stores:store_list")


class StoreNotifyBuyerView(PortalView):
    """Turn the platform's tracking e-mail to the buyer on or off for one store."""

    section = Section.STORES

    def post(self, request, store_id: int):
        store = selectors.store_get(distributor=self.distributor, store_id=store_id)
        on = request.POST.get("notify_buyer") == "on"
        try:
            services.store_notify_buyer_set(actor=self.membership, store=store, on=on)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            said = (
                _("%(platform)s will e-mail the buyers of “%(name)s” their tracking.")
                if on
                else _(
                    "%(platform)s will not e-mail the buyers of “%(name)s” their tracking; your store sends its own."
                )
            )
            messages.success(request, said % {"platform": store.get_platform_display(), "name": store.name})
        return redirect("stores:store_list")


class StoreRemoveView(PortalView):
    section = Section.STORES

    def get(self, request, store_id: int):
        store = selectors.store_get(distributor=self.distributor, store_id=store_id)
        return render(request, "stores/store_remove.html", {"store": store})

    def post(self, request, store_id: int):
        store = selectors.store_get(distributor=self.distributor, store_id=store_id)
        try:
            services.store_remove(actor=self.membership, store=store)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The store “%(name)s” is removed; its orders are kept.") % {"name": store.name})
        return redirect("stores:store_list")
