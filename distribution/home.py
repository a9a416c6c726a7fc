"""The portal's home page: panels and the "Start here" checklist, contributed by the apps.

The core cannot import the apps above it (the layering of docs/design.md), so each app
registers what it adds when it is ready:

- a panel: a template, a function giving its context for a member, and the section the
  member must be able to open to see it (operators never see the finance panel). The
  home page renders the panels in order; each panel's figures link to the page they
  count, which is why the panel's section is that page's section.
- a step of the "Start here" checklist (connect a store, map SKUs, the first order, a
  top-up): where it is done and an `Exists` that says whether the distributor's data
  shows it done. Nothing is stored: a step ticks itself because the store, the mapping,
  the order or the approved top-up is there. A step is listed only to members who may
  do it (`may_change` of its section), and every step's answer comes from one query.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Exists
from django.urls import reverse

from .models import Distributor, Membership


@dataclass(frozen=True)
class HomePanel:
    name: str
    section: str
    template: str
    context: Callable[[Membership], dict]
    order: int = 100


@dataclass(frozen=True)
class StartStep:
    """One item of the "Start here" checklist.

    `done(distributor)` and `waiting(distributor)` give an `Exists` over the app's own
    rows: done ticks the item; waiting (optional) means the distributor did their part
    and someone else's is due (a top-up sent, not yet approved), told by `waiting_note`.
    """

    name: str
    section: str
    label: str
    hint: str
    url_name: str
    done: Callable[[Distributor], Exists]
    waiting: Callable[[Distributor], Exists] | None = None
    waiting_note: str = ""
    order: int = 100


@dataclass(frozen=True)
class ChecklistItem:
    name: str
    label: str
    hint: str
    url: str
    done: bool
    note: str = ""


@dataclass(frozen=True)
class Checklist:
    items: list[ChecklistItem]

    @property
    def complete(self) -> bool:
        return all(item.done for item in self.items)

    @property
    def done_count(self) -> int:
        return sum(item.done for item in self.items)


_PANELS: dict[str, HomePanel] = {}
_STEPS: dict[str, StartStep] = {}


def register(panel: HomePanel) -> None:
    _PANELS[panel.name] = panel


def register_step(step: StartStep) -> None:
    _STEPS[step.name] = step


def panels_for(membership: Membership) -> list[tuple[str, dict]]:
    """(template, context) of each panel this member may see, in order."""
    return [
        (panel.template, panel.context(membership))
        for panel in sorted(_PANELS.values(), key=lambda panel: (panel.order, panel.name))
        if membership.can_open(panel.section)
    ]


def checklist_for(membership: Membership) -> Checklist | None:
    """The steps this member may do, each ticked or not from the data; None when the
    member may do none of them. One query for all the steps."""
    steps = [
        step
        for step in sorted(_STEPS.values(), key=lambda step: (step.order, step.name))
        if membership.may_change(step.section)
    ]
    if not steps:
        return None
    distributor = membership.distributor
    answers = {}
    for number, step in enumerate(steps):
        answers[f"done_{number}"] = step.done(distributor)
        if step.waiting is not None:
            answers[f"waiting_{number}"] = step.waiting(distributor)
    row = Distributor.objects.filter(pk=distributor.pk).values(**answers).get()
    items = []
    for number, step in enumerate(steps):
        done = bool(row[f"done_{number}"])
        waiting = not done and bool(row.get(f"waiting_{number}"))
        items.append(
            ChecklistItem(
                name=step.name,
                label=str(step.label),
                hint=str(step.hint),
                url=reverse(step.url_name),
                done=done,
                note=str(step.waiting_note) if waiting else "",
            )
        )
    return Checklist(items)
