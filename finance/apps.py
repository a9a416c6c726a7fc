from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class FinanceConfig(DemoSeeding, AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self):
        from . import receivers  # noqa: F401  (connects the receivers)
