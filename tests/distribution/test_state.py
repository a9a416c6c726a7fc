"""One state-machine helper (distribution/state.py) for every model with a status:
a table of moves, the row locked, an event row, a signal on commit, a refusal that names
both states, and no status written anywhere else in the code."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from distribution.models import Distributor, StatusEvent
from distribution.state import IllegalTransition, machines, status_changed
from orders.models import OrderEvent, OrderStatus, PullRun
from orders.state import ORDER_MACHINE, PULL_RUN_MACHINE, order_status_changed, order_transition
from tests.orders.factories import OrderFactory, PullRunFactory

ROOT = Path(__file__).resolve().parents[2]
OUR_APPS = ["distribution", "catalog", "stores", "mapping", "orders", "finance", "fulfillment"]
# Model names whose constructor or create() may set a status: only to a machine's first state.
WRITERS = {"update", "create", "get_or_create", "update_or_create"}


def status_models():
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS and any(field.name == "status" for field in model._meta.fields)
    ]


def test_every_model_with_a_status_has_one_machine():
    by_model = {}
    for machine in machines():
        assert machine.model not in by_model, f"two machines for {machine.model.__name__}"
        by_model[machine.model] = machine
    missing = [model.__name__ for model in status_models() if model not in by_model]
    assert missing == []


@pytest.mark.parametrize("machine", machines(), ids=lambda machine: machine.model.__name__)
def test_machine_table_names_every_state_and_only_states(machine):
    states = {value for value, _label in machine.model._meta.get_field(machine.status_field).flatchoices}
    assert set(machine.transitions) == states
    for targets in machine.transitions.values():
        assert targets <= states
    assert machine.initial and machine.initial <= states


@pytest.mark.parametrize("machine", machines(), ids=lambda machine: machine.model.__name__)
def test_machine_status_cannot_be_edited_in_the_admin(machine, rf: RequestFactory, admin_user):
    model_admin = admin.site._registry.get(machine.model)
    if model_admin is None:
        return
    request = rf.get("/admin/")
    request.user = admin_user
    if not model_admin.has_change_permission(request, None):
        return
    assert machine.status_field in model_admin.get_readonly_fields(request, machine.model())


@pytest.mark.django_db
def test_move_locks_writes_the_event_and_announces_on_commit(django_capture_on_commit_callbacks):
    order = OrderFactory(status=OrderStatus.AWAITING_PAYMENT)
    heard, heard_order = [], []
    status_changed.connect(lambda **kw: heard.append(kw), weak=False, dispatch_uid="t1")
    order_status_changed.connect(lambda **kw: heard_order.append(kw), weak=False, dispatch_uid="t2")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            order_transition(order=order, to_status=OrderStatus.CANCELLED, message="Buyer changed their mind")
            # nothing is announced before the commit
            assert heard == [] and heard_order == []
    finally:
        status_changed.disconnect(dispatch_uid="t1")
        order_status_changed.disconnect(dispatch_uid="t2")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    event = OrderEvent.objects.get(order=order, to_status=OrderStatus.CANCELLED)
    assert (event.from_status, event.message) == (OrderStatus.AWAITING_PAYMENT, "Buyer changed their mind")
    assert [(h["from_status"], h["to_status"]) for h in heard_order] == [("awaiting_payment", "cancelled")]
    assert heard[0]["sender"] is type(order) and heard[0]["instance"].pk == order.pk


@pytest.mark.django_db
def test_move_refused_names_both_states_and_changes_nothing(django_capture_on_commit_callbacks):
    order = OrderFactory(status=OrderStatus.SHIPPED)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(IllegalTransition) as refused:
        ORDER_MACHINE.move(order, OrderStatus.PAID)
    assert "from Shipped to Paid" in str(refused.value) and order.number in str(refused.value)
    assert refused.value.extra == {"from": "shipped", "to": "paid"}
    assert callbacks == []
    assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.django_db
def test_move_judges_the_status_in_the_database_not_the_stale_copy():
    run = PullRunFactory()
    stale = PullRun.objects.get(pk=run.pk)
    PULL_RUN_MACHINE.move(run, PullRun.Status.RUNNING)
    PULL_RUN_MACHINE.move(run, PullRun.Status.SUCCEEDED)
    with pytest.raises(IllegalTransition, match="from Succeeded to Running"):
        PULL_RUN_MACHINE.move(stale, PullRun.Status.RUNNING)


@pytest.mark.django_db
def test_models_without_a_timeline_get_status_events(admin_user):
    from distribution.services import distributor_set_status

    distributor = OrderFactory().distributor
    distributor_set_status(actor=admin_user, distributor=distributor, status="suspended", reason="Unpaid invoice")
    event = StatusEvent.objects.get(object_id=distributor.pk, content_type__model="distributor")
    assert (event.from_status, event.to_status, event.message, event.actor) == (
        "active",
        "suspended",
        "Unpaid invoice",
        admin_user,
    )
    assert Distributor.objects.get(pk=distributor.pk).suspended_reason == "Unpaid invoice"


def test_initial_status_refuses_a_state_a_row_cannot_start_in():
    assert ORDER_MACHINE.initial_status(OrderStatus.AWAITING_PAYMENT) == OrderStatus.AWAITING_PAYMENT
    with pytest.raises(IllegalTransition, match="cannot start as Shipped"):
        ORDER_MACHINE.initial_status(OrderStatus.SHIPPED)


# --- no status is written anywhere but through a machine -------------------------------------


def status_writes(source: str, model_names: set[str]) -> list[tuple[int, str]]:
    """Where `source` writes a status by hand: `x.status = ...`, `setattr(x, "status", ...)`,
    `.update(status=...)`, `save(update_fields=[... "status" ...])`, `bulk_update(..., ["status"])`,
    or a row created with `status=` that is not a machine's `initial_status(...)`."""

    def first_state(node) -> bool:
        return (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "initial_status"
        )

    def names_status(node) -> bool:
        return isinstance(node, ast.List | ast.Tuple | ast.Set) and any(
            isinstance(element, ast.Constant) and element.value == "status" for element in node.elts
        )

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                    if isinstance(element, ast.Attribute) and element.attr == "status":
                        found.append((node.lineno, "assigns .status"))
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "setattr" and len(node.args) > 1 and getattr(node.args[1], "value", None) == "status":
            found.append((node.lineno, "setattr(..., 'status')"))
        if name == "bulk_update" and any(names_status(arg) for arg in node.args[1:]):
            found.append((node.lineno, "bulk_update of status"))
        for keyword in node.keywords:
            if keyword.arg == "status" and name in WRITERS | model_names and not first_state(keyword.value):
                found.append((node.lineno, f"{name}(status=...)"))
            if keyword.arg == "update_fields" and names_status(keyword.value):
                found.append((node.lineno, "saves the status field"))
            if keyword.arg == "defaults" and isinstance(keyword.value, ast.Dict):
                keys = [getattr(key, "value", None) for key in keyword.value.keys]
                if "status" in keys:
                    found.append((node.lineno, "defaults with status"))
    return found


def test_status_writes_detects_each_way_of_writing_a_status_by_hand():
    names = {"Order"}
    assert status_writes("order.status = 'paid'", names) == [(1, "assigns .status")]
    assert status_writes("Order.objects.filter(pk=1).update(status='paid')", names) == [(1, "update(status=...)")]
    assert status_writes("order.save(update_fields=['status'])", names) == [(1, "saves the status field")]
    assert status_writes("setattr(order, 'status', 'paid')", names) == [(1, "setattr(..., 'status')")]
    assert status_writes("Order(status='paid')", names) == [(1, "Order(status=...)")]
    assert status_writes("Order.objects.bulk_update(rows, ['status'])", names) == [(1, "bulk_update of status")]
    # reading a status and creating a row in a machine's first state are not writes
    assert status_writes("Order.objects.filter(status='paid')", names) == []
    assert status_writes("Order(status=ORDER_MACHINE.initial_status('awaiting_payment'))", names) == []


def test_no_status_is_written_outside_the_machines():
    model_names = {machine.model.__name__ for machine in machines()}
    offenders = []
    for app in OUR_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative == "distribution/state.py":
                continue
            offenders += [f"{relative}:{line}: {what}" for line, what in status_writes(path.read_text(), model_names)]
    assert offenders == [], "statuses move only through a StateMachine:\n" + "\n".join(offenders)


@pytest.mark.django_db
def test_move_by_an_actor_without_a_row_records_no_actor():
    # An AnonymousUser or a system task moves a status; the event names nobody.
    order = OrderFactory(status=OrderStatus.AWAITING_PAYMENT)
    order_transition(order=order, to_status=OrderStatus.CANCELLED, actor=AnonymousUser())
    assert OrderEvent.objects.get(order=order, to_status=OrderStatus.CANCELLED).actor is None
