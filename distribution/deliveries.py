"""Background tasks over a file that might kill their worker (an import of a hostile
spreadsheet): each delivery is counted on the row before it starts, and given up after
MAX_ATTEMPTS deliveries that never came back.

Tasks are acknowledged late and re-queued when their worker dies (IDEMPOTENT_TASK), so a
file that aborts the process would be redelivered for ever. `delivery_start` counts the
delivery in its own committed UPDATE (the count survives the worker's death) and says
whether to go on; `delivery_end` takes the count back when the delivery ended with its
worker alive, well or not, so only deliveries that died keep counting. The row's model
needs an `attempts` field.
"""

from django.db.models import F, Model
from django.utils.translation import gettext as _

MAX_ATTEMPTS = 3


def delivery_start(row: Model) -> bool:
    """Count this delivery; False when the row already stopped its worker MAX_ATTEMPTS times."""
    rows = type(row).objects.filter(pk=row.pk)
    rows.update(attempts=F("attempts") + 1)
    return rows.values_list("attempts", flat=True).get() <= MAX_ATTEMPTS


def delivery_end(row: Model) -> None:
    """The delivery ended with its worker alive: it does not count against the file."""
    type(row).objects.filter(pk=row.pk, attempts__gt=0).update(attempts=F("attempts") - 1)


def given_up_message() -> str:
    return _("This file stopped the importer %(n)d times; it was not imported. Check the file or contact staff.") % {
        "n": MAX_ATTEMPTS
    }
