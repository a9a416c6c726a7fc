"""Which platform orders become distribution orders, per platform, stated in one place.

A platform order is converted when it is paid, not cancelled (nor asked to be), and
nothing of it has shipped yet. "Paid" is what each platform means by it:

- Shopify: financial_status `paid` or `partially_refunded` (a partial refund leaves
  lines to ship; the refunded quantities are already gone from `current_quantity`).
  `authorized` (payment held, not captured) and `pending` wait.
- WooCommerce: an order with a paid date (`processing`, or `completed` before we saw
  it — then it is already fulfilled and skipped); `pending`, `on-hold`, `failed` wait.
- Amazon: `Unshipped` (Amazon only releases the address and prices once paid);
  `Pending` / `PendingAvailability` wait.
- TikTok Shop: `AWAITING_SHIPMENT` (paid); `UNPAID` and `ON_HOLD` wait.
- Order files: the distributor imports what is to be shipped, so every row is paid.

The clients map their statuses onto NormalizedOrder's financial/fulfilment/cancel
statuses (stores/platforms/*.py), so the rule below reads those; PAID_STATUSES says
which financial statuses count as paid for each platform.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from stores.platforms.base import CancelStatus, FinancialStatus, FulfillmentStatus, NormalizedOrder

from .models import Disposition

PAID_STATUSES: dict[str, frozenset[str]] = {
    "shopify": frozenset({FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED}),
    "woocommerce": frozenset({FinancialStatus.PAID, FinancialStatus.PARTIALLY_REFUNDED}),
    "amazon": frozenset({FinancialStatus.PAID}),
    "tiktok": frozenset({FinancialStatus.PAID}),
}
DEFAULT_PAID = frozenset({FinancialStatus.PAID})
# Money went back to the buyer: the order will not be shipped.
REVERSED = frozenset({FinancialStatus.REFUNDED, FinancialStatus.VOIDED})


@dataclass(frozen=True)
class Verdict:
    disposition: str
    reason: str = ""

    @property
    def convert(self) -> bool:
        return self.disposition == Disposition.CONVERTED


def verdict(order: NormalizedOrder, *, platform: str) -> Verdict:
    if order.cancel_status == CancelStatus.CANCELLED:
        return Verdict(Disposition.SKIPPED, str(_("Cancelled on the platform.")))
    if order.financial_status in REVERSED:
        return Verdict(Disposition.SKIPPED, str(_("Refunded or voided on the platform.")))
    if order.fulfillment_status == FulfillmentStatus.FULFILLED:
        return Verdict(Disposition.SKIPPED, str(_("Already fulfilled on the platform.")))
    if order.fulfillment_status == FulfillmentStatus.PARTIAL:
        return Verdict(Disposition.SKIPPED, str(_("Partly fulfilled on the platform.")))
    if order.cancel_status == CancelStatus.REQUESTED:
        return Verdict(Disposition.WAITING, str(_("The buyer asked to cancel; waiting for the seller.")))
    if order.financial_status not in PAID_STATUSES.get(platform, DEFAULT_PAID):
        return Verdict(
            Disposition.WAITING,
            str(_("Not paid on the platform yet (%(status)s).") % {"status": order.financial_status}),
        )
    if not any(line.quantity > 0 for line in order.lines):
        return Verdict(Disposition.SKIPPED, str(_("No line left to ship.")))
    return Verdict(Disposition.CONVERTED)
