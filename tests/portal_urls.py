"""Walk the URL resolver and list the portal's URL patterns.

Everything outside the excluded namespaces and modules is portal: it must be a
PortalView (tenant-scoped, role-checked) unless it is named in PUBLIC_URL_NAMES.
"""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# Not the distributor portal: the staff console, the emulated outside world,
# allauth's own account pages and Django's language switch.
EXCLUDED_NAMESPACES = {"admin", "sandbox"}
EXCLUDED_MODULE_PREFIXES = ("allauth", "django.conf.urls.i18n", "django.views.i18n")
# Portal URLs that are deliberately reachable without a distributor seat.
PUBLIC_URL_NAMES = {
    "invitation_accept",
    "healthz",
    # A WooCommerce shop posts the keys it made for us here, server to server (no session).
    "stores:woocommerce_keys_callback",
    # Platforms post order webhooks here; each is verified by its signature.
    "webhooks:shopify_orders",
    # Warehouses post shipment events here; each is verified by its Standard Webhooks signature.
    "warehouse_webhooks:events",
}


@dataclass
class PortalURL:
    name: str
    params: list[str]
    view_class: type | None


def _walk(patterns, namespaces):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            module = getattr(entry.urlconf_module, "__name__", "") or ""
            if entry.namespace in EXCLUDED_NAMESPACES or module.startswith(EXCLUDED_MODULE_PREFIXES):
                continue
            yield from _walk(entry.url_patterns, namespaces + ([entry.namespace] if entry.namespace else []))
        elif isinstance(entry, URLPattern):
            if entry.callback.__module__.startswith(EXCLUDED_MODULE_PREFIXES):
                continue
            name = ":".join([*namespaces, entry.name]) if entry.name else None
            params = list(getattr(entry.pattern, "converters", {}).keys())
            yield PortalURL(name=name, params=params, view_class=getattr(entry.callback, "view_class", None))


def portal_urls() -> list[PortalURL]:
    return list(_walk(get_resolver().url_patterns, []))
