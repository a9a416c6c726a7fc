from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class OrdersConfig(DemoSeeding, AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from . import receivers

        receivers.connect()
