from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class FulfillmentConfig(DemoSeeding, AppConfig):
    name = "fulfillment"
    verbose_name = _("Fulfilment")

    def ready(self):
        from distribution.home import HomePanel, register
        from distribution.models import Section

        from . import receivers
        from .views import fulfilment_alerts

        receivers.connect()
        register(
            HomePanel(
                name="fulfillment.alerts",
                section=Section.ORDERS,
                template="fulfillment/home_alerts.html",
                context=fulfilment_alerts,
                order=20,
            )
        )
