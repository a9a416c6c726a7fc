from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class FinanceConfig(DemoSeeding, AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self):
        from distribution.home import HomePanel, register
        from distribution.models import Section

        from . import receivers  # noqa: F401  (connects the receivers)
        from .selectors import home_panel

        register(
            HomePanel(
                name="finance.balance",
                section=Section.FINANCE,
                template="finance/home_panel.html",
                context=home_panel,
                order=10,
            )
        )
