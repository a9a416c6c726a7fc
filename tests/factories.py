"""Every app's factories by model: the cross-tenant test finds a factory for each model
a portal URL names here, so a new tenant-owned model needs only a factory in its app's
tests/<app>/factories.py (and that module's FACTORIES) to be covered at once."""

from tests.catalog import factories as catalog
from tests.distribution import factories as distribution
from tests.finance import factories as finance
from tests.fulfillment import factories as fulfillment
from tests.mapping import factories as mapping
from tests.orders import factories as orders
from tests.stores import factories as stores

FACTORIES_BY_MODEL = {
    **distribution.FACTORIES,
    **stores.FACTORIES,
    **catalog.FACTORIES,
    **mapping.FACTORIES,
    **orders.FACTORIES,
    **finance.FACTORIES,
    **fulfillment.FACTORIES,
}
