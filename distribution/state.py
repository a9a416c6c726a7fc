"""The one way any status changes: an explicit table of allowed moves per model.

Every model with a status declares one `StateMachine` beside its model (the table of
allowed moves, how to name a state to a person, and where its event rows go) and
moves only through `machine.move(...)`, which

- locks the row (`select_for_update`) and judges the move against the status it finds
  there, so two racing moves are serialised and the second sees what the first left;
- refuses a move the table does not allow with `IllegalTransition`, naming both states;
- writes an event row in the same transaction: the model's own timeline (an order's
  OrderEvent, a store's StoreEvent) or, for models without one, a `StatusEvent`;
- sends the machine's signal once the transaction commits, so receivers (finance and
  fulfilment listening to orders) never act on a move that was rolled back.

Creating a row in its first state is not a move: `initial` names the states a row may
be created in, and `machine.initial_status(...)` checks a creation against it.
`tests/distribution/test_state.py` scans the code: no status is written anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ApplicationError

# Sent on commit after every move of every machine:
# sender=the model class, instance, from_status, to_status, actor, message, data.
status_changed = Signal()

MESSAGE_MAX = 500


class IllegalTransition(ApplicationError):
    """The table does not allow this move; the message names both states."""


def clip(text: Any, length: int = MESSAGE_MAX) -> str:
    value = "" if text is None else str(text)
    return value if len(value) <= length else value[: length - 1] + "…"


# (instance, from_status, to_status, actor, message, data) -> None: writes the event row.
Recorder = Callable[[models.Model, str, str, Any, str, dict], None]


def record_status_event(instance: models.Model, from_status: str, to_status: str, actor, message: str, data: dict):
    """The event row for models without a timeline of their own."""
    from django.contrib.contenttypes.models import ContentType

    from .models import StatusEvent

    StatusEvent.objects.create(
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=instance.pk,
        from_status=from_status,
        to_status=to_status,
        message=clip(message),
        data=data or {},
        actor=actor if getattr(actor, "pk", None) else None,
    )


@dataclass(frozen=True)
class StateMachine:
    model: type[models.Model]
    transitions: Mapping[str, frozenset[str]]
    # States a row may be created in.
    initial: frozenset[str]
    status_field: str = "status"
    record: Recorder = record_status_event
    # Extra signals sent on commit beside `status_changed` (orders' order_status_changed).
    signals: tuple[Signal, ...] = ()
    # How the refusal names the row, e.g. "Order DO2611...".
    describe: Callable[[models.Model], str] = str

    def __post_init__(self):
        _REGISTRY.append(self)

    def label(self, status: str) -> str:
        choices = dict(self.model._meta.get_field(self.status_field).flatchoices)
        return str(choices.get(status, status))

    def allowed(self, from_status: str, to_status: str) -> bool:
        return to_status in self.transitions.get(from_status, frozenset())

    def initial_status(self, status: str) -> str:
        """The status a new row is created in; refuses one the machine does not start in."""
        if status not in self.initial:
            raise IllegalTransition(
                _("A new %(what)s cannot start as %(to)s.")
                % {"what": self.model._meta.verbose_name, "to": self.label(status)},
                extra={"to": status},
            )
        return status

    def refusal(self, instance, from_status: str, to_status: str) -> IllegalTransition:
        return IllegalTransition(
            _("%(what)s cannot go from %(from)s to %(to)s.")
            % {"what": self.describe(instance), "from": self.label(from_status), "to": self.label(to_status)},
            extra={"from": from_status, "to": to_status},
        )

    @transaction.atomic
    def move(
        self,
        instance: models.Model,
        to_status: str,
        *,
        actor=None,
        message: str = "",
        data: dict | None = None,
        fields: Mapping[str, Any] | None = None,
        only_from: Iterable[str] | None = None,
        record: bool = True,
    ) -> models.Model:
        """Move `instance` to `to_status` (and set `fields` with it) under the row lock.

        `only_from` narrows the table for this call ("only if it is still queued"):
        a row found in another state is refused like a move the table forbids.
        `record=False` skips the event row for moves that happen many times a minute
        and say nothing (a lease's progress), never for a move a person should see.
        Returns the locked, updated row; `instance` is updated in place too.
        """
        locked = type(instance).objects.select_for_update().get(pk=instance.pk)
        from_status = getattr(locked, self.status_field)
        if not self.allowed(from_status, to_status) or (only_from is not None and from_status not in set(only_from)):
            raise self.refusal(locked, from_status, to_status)
        extra = dict(fields or {})
        setattr(locked, self.status_field, to_status)
        for name, value in extra.items():
            setattr(locked, name, value)
        update_fields = [self.status_field, *extra]
        if any(f.name == "updated_at" for f in locked._meta.concrete_fields):
            update_fields.append("updated_at")
        locked.save(update_fields=update_fields)
        if record:
            self.record(locked, from_status, to_status, actor, message, data or {})
        for name in update_fields:
            setattr(instance, name, getattr(locked, name))
        model = type(locked)
        payload = {
            "instance": locked,
            "from_status": from_status,
            "to_status": to_status,
            "actor": actor,
            "message": message,
            "data": data or {},
            "batch": (locked,),
        }

        def announce():
            status_changed.send(sender=model, **payload)
            for signal in self.signals:
                signal.send(sender=model, **payload)

        transaction.on_commit(announce)
        return locked

    @transaction.atomic
    def move_many(
        self,
        instances: Iterable[models.Model],
        to_status: str,
        *,
        actor=None,
        message: str | Callable[[models.Model], str] = "",
        data: dict | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> list[models.Model]:
        """`move` for many rows of one model at once (a payment of a thousand orders):
        the rows locked in primary-key order in one query, every move judged before any
        is written (one refused move refuses them all), one UPDATE, the event rows in one
        insert when the recorder offers `bulk`, one announcement per row on commit.
        `message` may be a function of the row."""
        rows = list(instances)
        if not rows:
            return []
        model = type(rows[0])
        locked = list(model.objects.select_for_update().filter(pk__in=[row.pk for row in rows]).order_by("pk"))
        for row in locked:
            from_status = getattr(row, self.status_field)
            if not self.allowed(from_status, to_status):
                raise self.refusal(row, from_status, to_status)
        extra = dict(fields or {})
        before = {row.pk: getattr(row, self.status_field) for row in locked}
        values = {self.status_field: to_status, **extra}
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            values["updated_at"] = timezone.now()
        model.objects.filter(pk__in=list(before)).update(**values)
        texts = {row.pk: message(row) if callable(message) else message for row in locked}
        bulk = getattr(self.record, "bulk", None)
        for row in locked:
            for name, value in values.items():
                setattr(row, name, value)
        if bulk is not None:
            bulk([(row, before[row.pk], to_status, actor, texts[row.pk], data or {}) for row in locked])
        else:
            for row in locked:
                self.record(row, before[row.pk], to_status, actor, texts[row.pk], data or {})
        by_pk = {row.pk: row for row in locked}
        for row in rows:
            for name, value in values.items():
                setattr(row, name, value)

        def announce():
            batch = tuple(by_pk[row.pk] for row in locked)
            for row in locked:
                payload = {
                    "instance": by_pk[row.pk],
                    "from_status": before[row.pk],
                    "to_status": to_status,
                    "actor": actor,
                    "message": texts[row.pk],
                    "data": data or {},
                    "batch": batch,
                }
                status_changed.send(sender=model, **payload)
                for signal in self.signals:
                    signal.send(sender=model, **payload)

        transaction.on_commit(announce)
        return locked


_REGISTRY: list[StateMachine] = []


def machines() -> list[StateMachine]:
    """Every machine of every installed app (an app declares its machines in models.py or state.py)."""
    from importlib import import_module

    from django.apps import apps

    for config in apps.get_app_configs():
        for name in ("models", "state"):
            try:
                import_module(f"{config.name}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.{name}":
                    raise
    return list(_REGISTRY)
