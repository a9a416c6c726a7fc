"""The portal menu: the user guide's own labels, in its order, filtered by role.

Each entry names the URL and the section whose roles may open it; the browser test
walks this same list, so a menu item that breaks is caught.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Section


@dataclass
class NavItem:
    label: str
    url_name: str | None = None
    section: str | None = None
    children: list["NavItem"] = field(default_factory=list)
    url: str = ""
    active: bool = False


MENU = [
    NavItem(_("Catalog"), "catalog:product_list", Section.CATALOG),
    NavItem(
        _("Platform Authorization"),
        children=[
            NavItem(_("Platform Store Authorization"), "stores:store_list", Section.STORES),
            NavItem(_("Product Mapping"), "mapping:mapping_list", Section.MAPPING),
        ],
    ),
    NavItem(_("Orders"), "orders:order_list", Section.ORDERS),
    NavItem(
        _("Financial Management"),
        children=[NavItem(_("Balance Management"), "finance:balance", Section.FINANCE)],
    ),
    NavItem(
        _("Account"),
        children=[
            NavItem(_("Profile"), "portal:profile", Section.ACCOUNT),
            NavItem(_("Members"), "portal:member_list", Section.MEMBERS),
        ],
    ),
]


def _resolve(item: NavItem, request, context) -> NavItem | None:
    if item.children:
        children = [c for c in (_resolve(child, request, context) for child in item.children) if c]
        if not children:
            return None
        return NavItem(item.label, children=children, active=any(c.active for c in children))
    if context is None or not context.can_open(item.section):
        return None
    url = reverse(item.url_name)
    path = getattr(request, "path", "")
    return NavItem(item.label, item.url_name, item.section, url=url, active=path.startswith(url))


def navigation_for(request, context) -> list[NavItem]:
    if context is None:
        return []
    return [entry for entry in (_resolve(item, request, context) for item in MENU) if entry]
