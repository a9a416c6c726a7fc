from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class FinanceConfig(DemoSeeding, AppConfig):
    name = "finance"
    verbose_name = _("Finance")

    def ready(self):
        from distribution.home import HomePanel, StartStep, register, register_step
        from distribution.models import Section

        from . import receivers  # noqa: F401  (connects the receivers)
        from .selectors import home_panel, topup_approved, topup_waiting

        register(
            HomePanel(
                name="finance.balance",
                section=Section.FINANCE,
                template="finance/home_panel.html",
                context=home_panel,
                order=10,
            )
        )
        register_step(
            StartStep(
                name="finance.topup",
                section=Section.FINANCE,
                label=_("Top up your balance"),
                hint=_(
                    "Send a transfer and its proof with [Top Up Balance]; this ticks once platform staff approve it."
                ),
                url_name="finance:topup",
                done=topup_approved,
                waiting=topup_waiting,
                waiting_note=_("Your top-up waits for approval by platform staff."),
                order=40,
            )
        )
