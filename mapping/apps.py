from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class MappingConfig(DemoSeeding, AppConfig):
    name = "mapping"
    verbose_name = _("Product mapping")
