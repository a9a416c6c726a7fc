from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from distribution.apps import DemoSeeding


class OrdersConfig(DemoSeeding, AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self):
        from distribution.home import HomePanel, StartStep, register, register_step
        from distribution.models import Section

        from . import receivers
        from .selectors import order_placed
        from .views import home_orders, home_pull_failures

        receivers.connect()
        register(
            HomePanel(
                name="orders.by_status",
                section=Section.ORDERS,
                template="orders/home_orders.html",
                context=home_orders,
                order=1,
            )
        )
        # The stores' figure links to the store pages, so it follows their section.
        register(
            HomePanel(
                name="orders.pull_failures",
                section=Section.STORES,
                template="orders/home_pull_failures.html",
                context=home_pull_failures,
                order=6,
            )
        )
        register_step(
            StartStep(
                name="orders.first",
                section=Section.ORDERS,
                label=_("Get your first order"),
                hint=_("Orders of a store with an API come in by themselves; for one without, import an order file."),
                url_name="orders:import",
                done=order_placed,
                order=30,
            )
        )
