from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class StoresConfig(DemoSeeding, AppConfig):
    name = "stores"
    verbose_name = _("Stores")

    def ready(self):
        from distribution.home import StartStep, register_step
        from distribution.models import Section

        from . import checks  # noqa: F401 (registers the system checks)
        from .selectors import store_connected

        register_step(
            StartStep(
                name="stores.connect",
                section=Section.STORES,
                label=_("Connect a store"),
                hint=_(
                    "Authorize your shop on Shopify, WooCommerce, Amazon or TikTok Shop, or add one without an API."
                ),
                url_name="stores:store_list",
                done=store_connected,
                order=10,
            )
        )
