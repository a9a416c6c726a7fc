from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class StoresConfig(DemoSeeding, AppConfig):
    name = "stores"
    verbose_name = _("Stores")

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)
