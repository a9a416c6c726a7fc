from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class FulfillmentConfig(DemoSeeding, AppConfig):
    name = "fulfillment"
    verbose_name = _("Fulfilment")
