from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class MappingConfig(DemoSeeding, AppConfig):
    name = "mapping"
    verbose_name = _("Product mapping")

    def ready(self):
        from distribution.home import HomePanel, StartStep, register, register_step
        from distribution.models import Section

        from .selectors import mapping_made
        from .views import home_unmapped

        register(
            HomePanel(
                name="mapping.unmapped",
                section=Section.MAPPING,
                template="mapping/home_unmapped.html",
                context=home_unmapped,
                order=5,
            )
        )
        register_step(
            StartStep(
                name="mapping.map",
                section=Section.MAPPING,
                label=_("Map your SKUs"),
                hint=_("Say which of our items each store SKU stands for: one by one with [Add], or by batch import."),
                url_name="mapping:mapping_list",
                done=mapping_made,
                order=20,
            )
        )
