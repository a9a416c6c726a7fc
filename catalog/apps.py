from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class CatalogConfig(DemoSeeding, AppConfig):
    name = "catalog"
    verbose_name = _("Catalog")
