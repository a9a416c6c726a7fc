"""Warehouse backends: one interface (`base.OutboundBackend`), one module per backend
(`rest`, `manual`), and `backend_for(warehouse)`, the only way the rest of fulfilment
gets one. The modules are imported on first use: `fulfillment.models` imports `base`."""

from django.utils.translation import gettext as _

from distribution.errors import ApplicationError


class BackendNotConfigured(ApplicationError):
    """The warehouse has no backend row: staff have not said how it takes orders."""


def backend_for(warehouse, *, http=None):
    """The backend of a catalog Warehouse, built from its `WarehouseBackend` row.

    `http` (a stores.platforms.base.PlatformHttp) replaces the REST backend's HTTP helper,
    for its timeouts and retry policy; the manual backend makes no HTTP calls."""
    from ..models import BackendKind, WarehouseBackend
    from .manual import ManualBackend
    from .rest import RestBackend

    row = WarehouseBackend.objects.filter(warehouse=warehouse).first()
    if row is None:
        raise BackendNotConfigured(
            _("Warehouse %(code)s has no backend yet: add one under Fulfilment > Warehouse backends.")
            % {"code": warehouse.code}
        )
    if row.kind == BackendKind.REST:
        return RestBackend(row.connection(), http=http)
    return ManualBackend(warehouse)
