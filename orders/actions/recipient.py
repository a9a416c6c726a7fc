"""Step 7: correct the recipient of an unpaid order.

The new address is checked as a pulled one is: the postcode by its country
(orders/postcodes.py; a bad one is refused, naming the rule), then the warehouse's
service area, which moves the order into or out of "address outside service area".
A fixed address clears the order's address problem; the freight is quoted again for
the new address (the same method if it still serves it, else the cheapest that does).
"""

from django.db import transaction
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.state import clip
from orders import events
from orders.ingest.changes import area_recheck
from orders.models import Order
from orders.postcodes import PostcodeError, postcode_normalise
from orders.pricing import logistics_reprice

from .common import acting, own_locked

# field -> longest value kept (the Order columns' lengths)
RECIPIENT_LIMITS = {
    "recipient_name": 200,
    "recipient_company": 200,
    "recipient_phone": 40,
    "recipient_email": 254,
    "address1": 255,
    "address2": 255,
    "city": 120,
    "province": 120,
    "postal_code": 20,
    "country": 2,
}
REQUIRED = ("recipient_name", "address1", "city", "country")


def _cleaned(data: dict) -> dict:
    values = {
        name: clip(" ".join(str(data.get(name) or "").split()), limit) for name, limit in RECIPIENT_LIMITS.items()
    }
    values["country"] = values["country"].upper()
    missing = [Order._meta.get_field(name).verbose_name for name in REQUIRED if not values[name]]
    if missing:
        raise ApplicationError(_("Please fill in: %(fields)s.") % {"fields": ", ".join(str(m) for m in missing)})
    if len(values["country"]) != 2 or not values["country"].isalpha():
        raise ApplicationError(_("The country is a two-letter ISO code, e.g. US or JP."))
    try:
        values["postal_code"] = postcode_normalise(values["country"], values["postal_code"])
    except PostcodeError as exc:
        raise ApplicationError(str(exc)) from None
    return values


@transaction.atomic
def order_recipient_edit(*, actor, order: Order, data: dict) -> Order:
    """Set the recipient of an unpaid order from `data` (the RECIPIENT_LIMITS fields)."""
    acting(actor)
    [locked] = own_locked(actor, [order])
    if not locked.is_unpaid:
        raise ApplicationError(
            _("Order %(number)s is %(status)s: the recipient is changed only before payment.")
            % {"number": locked.number, "status": locked.get_status_display().lower()}
        )
    values = _cleaned(data)
    changed = [name for name, value in values.items() if getattr(locked, name) != value]
    if not changed and not locked.address_problem:
        return locked
    for name, value in values.items():
        setattr(locked, name, value)
    locked.address_problem = ""
    lines = list(locked.lines.select_related("item__product"))
    logistics_reprice(locked, lines)  # the freight follows the address
    locked.save()
    events.note(locked, _("Recipient corrected in the portal."), actor=actor.user, data={"changed": changed})
    area_recheck(locked, actor=actor.user)
    locked.refresh_from_db()
    return locked
