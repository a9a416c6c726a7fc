from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoSeeding:
    """Mixed into the AppConfig of an app with demo data in its own `<app>/demo.py` (a
    `seed(stdout)` function); `manage.py seed_demo` runs each such app's seed in
    INSTALLED_APPS order. (A mixin, not an AppConfig: Django picks an app's config
    among the AppConfig subclasses its apps.py holds.)"""

    name: str

    def seed_demo(self, stdout) -> None:
        import_module(f"{self.name}.demo").seed(stdout=stdout)


class DistributionConfig(DemoSeeding, AppConfig):
    name = "distribution"
    verbose_name = _("Distributors")

    def ready(self):
        from . import lookups  # noqa: F401 (registers field__any_of)
