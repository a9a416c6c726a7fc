"""Reads on stores, tenant-scoped by construction."""

from django.db.models import Exists, QuerySet

from distribution.models import Distributor
from distribution.tenancy import get_for_tenant_or_404

from .models import Platform, Store
from .platforms.base import client_class, registered_platforms


def store_list(*, distributor: Distributor) -> QuerySet[Store]:
    """The distributor's stores (removed ones are gone from the page; their orders stay),
    each with its pull state (the orders app's row, read by relation name only) for the
    list's last-pull column, in the same query."""
    return Store.objects.present().filter(distributor=distributor).select_related("pull_state").order_by("name", "id")


def store_connected(distributor: Distributor) -> Exists:
    """The "Start here" checklist's first step: the distributor has a store (not removed)."""
    return Exists(Store.objects.present().filter(distributor=distributor))


def store_get(*, distributor: Distributor, store_id: int) -> Store:
    """One of the distributor's present stores, or 404 (another tenant's id is simply not found)."""
    return get_for_tenant_or_404(Store.objects.present(), distributor, pk=store_id)


def authorizable_platforms() -> list[tuple[str, str]]:
    """Platforms a store can be authorized on today (a client, and our app there configured),
    in the guide's order."""
    available = {platform for platform in registered_platforms() if not client_class(platform).missing_settings()}
    return [(value, label) for value, label in Platform.choices if value in available]
