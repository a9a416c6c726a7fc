"""The low-balance alert: one e-mail to the owner and the finance members when a posting
takes the balance below their threshold, none again until it has been back above."""

from decimal import Decimal

import pytest

from distribution.models import Role
from finance import services
from finance.low_balance import low_balance_check
from finance.models import BalancePreference
from tests.distribution.factories import MembershipFactory, UserFactory, owner_of
from tests.finance.factories import TopUpFactory, credit, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    member = owner_of(email="owner@example.com")
    MembershipFactory(distributor=member.distributor, role=Role.FINANCE, user=UserFactory(email="money@example.com"))
    MembershipFactory(distributor=member.distributor, role=Role.OPERATOR, user=UserFactory(email="ops@example.com"))
    return member


def _threshold(owner, value: str):
    services.preference_update(actor=owner, auto_pay=False, low_balance_threshold=value)


def test_low_balance_mail_is_sent_once_when_crossing_and_again_only_after_recovering(
    owner, mailoutbox, django_capture_on_commit_callbacks
):
    distributor = owner.distributor
    staff = UserFactory(email="staff@example.com", is_staff=True)
    _threshold(owner, "100.00")
    with django_capture_on_commit_callbacks(execute=True):
        credit(distributor, "150.00", key="c1")
    assert mailoutbox == []

    # when a payment takes the balance below 100
    with django_capture_on_commit_callbacks(execute=True):
        pay(distributor, "60.00", reference="DO1", key="p1")

    # then the owner and the finance member get one e-mail, the operator none
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert sorted(mail.to) == ["money@example.com", "owner@example.com"]
    assert mail.subject == "[Distribution] Low balance: 90.00 USD"
    assert "below the alert threshold of 100.00 USD" in mail.body

    # a further payment, still below: no second e-mail
    with django_capture_on_commit_callbacks(execute=True):
        pay(distributor, "10.00", reference="DO2", key="p2")
    assert len(mailoutbox) == 1

    # a top-up brings it back above: the alert is re-armed, and says nothing
    top_up = TopUpFactory(distributor=distributor, amount=Decimal("50.00"))
    with django_capture_on_commit_callbacks(execute=True):
        services.topup_approve(actor=staff, top_up=top_up)
    assert len(mailoutbox) == 1
    assert BalancePreference.objects.get(distributor=distributor).low_balance_notified_at is None

    # the next fall below sends the next e-mail (a debit adjustment this time)
    with django_capture_on_commit_callbacks(execute=True):
        services.adjustment_post(
            actor=staff, distributor=distributor, amount=Decimal("-40.00"), reason="Fee", idempotency_key="a1"
        )
    assert len(mailoutbox) == 2 and mailoutbox[1].subject == "[Distribution] Low balance: 90.00 USD"


def test_low_balance_mail_waits_for_the_commit(owner, mailoutbox, django_capture_on_commit_callbacks):
    _threshold(owner, "100.00")
    credit(owner.distributor, "150.00", key="c1")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pay(owner.distributor, "60.00", reference="DO1", key="p1")
    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert len(mailoutbox) == 1


def test_low_balance_replayed_payment_sends_nothing_more(owner, mailoutbox, django_capture_on_commit_callbacks):
    _threshold(owner, "100.00")
    credit(owner.distributor, "150.00", key="c1")
    with django_capture_on_commit_callbacks(execute=True):
        pay(owner.distributor, "60.00", reference="DO1", key="p1")
    BalancePreference.objects.filter(distributor=owner.distributor).update(low_balance_notified_at=None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        pay(owner.distributor, "60.00", reference="DO1", key="p1")  # the same request again
    assert callbacks == [] and len(mailoutbox) == 1


def test_low_balance_off_by_default_and_at_zero(owner, mailoutbox, django_capture_on_commit_callbacks):
    credit(owner.distributor, "150.00", key="c1")
    with django_capture_on_commit_callbacks(execute=True):
        pay(owner.distributor, "149.00", reference="DO1", key="p1")
    _threshold(owner, "0")
    with django_capture_on_commit_callbacks(execute=True):
        pay(owner.distributor, "1.00", reference="DO2", key="p2")
    assert mailoutbox == []


def test_low_balance_a_credit_never_alerts(owner, mailoutbox):
    _threshold(owner, "1000.00")
    credit(owner.distributor, "10.00", key="c1")
    assert low_balance_check(distributor_id=owner.distributor.pk, may_notify=False) is False
    assert mailoutbox == []
    assert low_balance_check(distributor_id=owner.distributor.pk) is True
    assert low_balance_check(distributor_id=owner.distributor.pk) is False
    assert len(mailoutbox) == 1


def test_low_balance_a_new_threshold_rearms_the_alert(owner, mailoutbox):
    _threshold(owner, "100.00")
    credit(owner.distributor, "10.00", key="c1")
    assert low_balance_check(distributor_id=owner.distributor.pk) is True
    _threshold(owner, "50.00")
    assert BalancePreference.objects.get(distributor=owner.distributor).low_balance_notified_at is None
    _threshold(owner, "50.00")  # unchanged: stays armed, nothing else moves
    assert low_balance_check(distributor_id=owner.distributor.pk) is True
    assert len(mailoutbox) == 2


def test_low_balance_mail_failure_releases_the_latch(owner, monkeypatch):
    _threshold(owner, "100.00")
    credit(owner.distributor, "10.00", key="c1")

    def broken(**kwargs):
        raise ConnectionError("mail server down")

    monkeypatch.setattr("finance.low_balance.send_mail", broken)
    with pytest.raises(ConnectionError):
        low_balance_check(distributor_id=owner.distributor.pk)
    assert BalancePreference.objects.get(distributor=owner.distributor).low_balance_notified_at is None


def test_preference_update_is_refused_to_an_operator(owner):
    operator = owner.distributor.memberships.get(role=Role.OPERATOR)
    with pytest.raises(services.ApplicationError):
        services.preference_update(actor=operator, auto_pay=True, low_balance_threshold="10")
    assert not BalancePreference.objects.exists()


def test_low_balance_no_task_for_a_distributor_without_an_alert(owner, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("finance.tasks.low_balance_check_task.delay", lambda *args: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        credit(owner.distributor, "150.00", key="c1")
        pay(owner.distributor, "60.00", reference="DO1", key="p1")
    assert queued == []
    _threshold(owner, "100.00")
    with django_capture_on_commit_callbacks(execute=True):
        pay(owner.distributor, "60.00", reference="DO2", key="p2")
    assert queued == [(owner.distributor.pk, True)]
