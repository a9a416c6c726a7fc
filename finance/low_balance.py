"""The low-balance alert: one e-mail when a posting takes a balance below the
distributor's threshold, and no other until the balance has been back at or above it.

`BalancePreference.low_balance_notified_at` is the latch: it is claimed by one
conditional UPDATE before the e-mail goes (so two payments committing together send one
e-mail) and released when the balance is at or above the threshold again. Postings call
`watch(distributor_id)`; the check runs in a task once they have committed.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from distribution.money import DEFAULT_CURRENCY, quantize

from . import selectors
from .models import BalancePreference


def watch(distributor_id: int, *, may_notify: bool = True) -> None:
    """After a posting on the balance of `distributor_id`: check it once the transaction
    commits. A credit (`may_notify=False`) can only release the latch, never alert.
    Distributors without an alert (most) cost one indexed query and no task."""
    from .tasks import low_balance_check_task

    def check():
        armed = BalancePreference.objects.filter(distributor_id=distributor_id, low_balance_threshold__gt=0)
        if not may_notify:
            armed = armed.filter(low_balance_notified_at__isnull=False)
        if armed.exists():
            low_balance_check_task.delay(distributor_id, may_notify)

    transaction.on_commit(check)


def low_balance_check(*, distributor_id: int, may_notify: bool = True) -> bool:
    """Send the low-balance e-mail if the balance is below the threshold and none was sent
    since it last was above; release the latch when it is above. True if an e-mail went."""
    preference = BalancePreference.objects.filter(distributor_id=distributor_id).select_related("distributor").first()
    if preference is None or preference.low_balance_threshold <= 0:
        return False
    balance = selectors.balance_available(distributor=distributor_id)
    latch = BalancePreference.objects.filter(pk=preference.pk)
    if balance >= preference.low_balance_threshold:
        latch.filter(low_balance_notified_at__isnull=False).update(low_balance_notified_at=None)
        return False
    if not may_notify:
        return False
    if not latch.filter(low_balance_notified_at__isnull=True).update(low_balance_notified_at=timezone.now()):
        return False  # already told, or told by a posting that committed at the same time
    recipients = selectors.low_balance_recipients(distributor_id=distributor_id)
    if not recipients:
        return False
    context = {
        "distributor": preference.distributor,
        "balance": quantize(balance, DEFAULT_CURRENCY),
        "threshold": quantize(preference.low_balance_threshold, DEFAULT_CURRENCY),
        "currency": DEFAULT_CURRENCY,
    }
    # In the platform's language: members' language choices live in their browsers, not here.
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("finance/email/low_balance_subject.txt", context).strip()
        body = render_to_string("finance/email/low_balance.txt", context)
    try:
        send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients)
    except Exception:
        # Not sent: release the latch so that the task's retry (or the next posting) sends it.
        latch.update(low_balance_notified_at=None)
        raise
    return True
