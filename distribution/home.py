"""Panels on the portal's home page, contributed by the apps above the core.

The core cannot import those apps (the layering of docs/design.md), so each app
registers its panels when it is ready: a template, a function giving its context for a
member, and the section the member must be able to open to see it (operators never see
the finance panel). The home page renders them in order.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .models import Membership


@dataclass(frozen=True)
class HomePanel:
    name: str
    section: str
    template: str
    context: Callable[[Membership], dict]
    order: int = 100


_PANELS: dict[str, HomePanel] = {}


def register(panel: HomePanel) -> None:
    _PANELS[panel.name] = panel


def panels_for(membership: Membership) -> list[tuple[str, dict]]:
    """(template, context) of each panel this member may see, in order."""
    return [
        (panel.template, panel.context(membership))
        for panel in sorted(_PANELS.values(), key=lambda panel: (panel.order, panel.name))
        if membership.can_open(panel.section)
    ]
