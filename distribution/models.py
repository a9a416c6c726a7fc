"""The tenant (Distributor), its members and invitations, and the worker heartbeat.

Every distributor-owned row elsewhere reaches a Distributor by a foreign key, and
portal views read rows only through `distribution.tenancy`, so another tenant's
id answers 404.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .money import CURRENCY_CHOICES, DEFAULT_CURRENCY
from .state import StateMachine


class Distributor(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        # A suspended distributor may log in and read, but every write is refused.
        SUSPENDED = "suspended", _("Suspended")

    company_name = models.CharField(_("company name"), max_length=200)
    contact_person = models.CharField(_("contact person"), max_length=120)
    phone = models.CharField(_("phone"), max_length=40)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO 3166-1 alpha-2 code, e.g. US."))
    settlement_currency = models.CharField(
        _("settlement currency"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    suspended_reason = models.CharField(_("suspension reason"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("distributor")
        verbose_name_plural = _("distributors")
        ordering = ["company_name", "id"]

    def __str__(self) -> str:
        return self.company_name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    OPERATOR = "operator", _("Operator")
    FINANCE = "finance", _("Finance")


class Section(models.TextChoices):
    """Areas of the portal; a role opens a fixed set of them (ROLE_SECTIONS)."""

    CATALOG = "catalog", _("Catalog")
    STORES = "stores", _("Stores")
    MAPPING = "mapping", _("Mapping")
    ORDERS = "orders", _("Orders")
    FINANCE = "finance", _("Finance")
    ACCOUNT = "account", _("Account")
    MEMBERS = "members", _("Members")


ROLE_SECTIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(Section.values),
    Role.ADMIN: frozenset(Section.values),
    # Operators run the store side and never see money.
    Role.OPERATOR: frozenset({Section.CATALOG, Section.STORES, Section.MAPPING, Section.ORDERS, Section.ACCOUNT}),
    # Finance members run the finance pages and read the orders (to see what was paid).
    Role.FINANCE: frozenset({Section.FINANCE, Section.ORDERS, Section.ACCOUNT}),
}

# Sections a role opens to read only: every write there (a POST to its pages, a service
# called with the member as actor) is refused. Finance members follow orders but do not
# cancel, pay, import or sync them.
ROLE_READ_ONLY: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(),
    Role.ADMIN: frozenset(),
    Role.OPERATOR: frozenset(),
    Role.FINANCE: frozenset({Section.ORDERS}),
}


class Membership(models.Model):
    """A user's seat in one distributor. A user belongs to at most one distributor."""

    distributor = models.ForeignKey(Distributor, on_delete=models.CASCADE, related_name="memberships")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        ordering = ["distributor", "created_at", "id"]
        constraints = [
            # Exactly one owner per distributor; ownership is not transferable by role edits.
            models.UniqueConstraint(
                fields=["distributor"], condition=Q(role="owner"), name="membership_one_owner_per_distributor"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.distributor})"

    def can_open(self, section: str) -> bool:
        return section in ROLE_SECTIONS[self.role]

    def may_change(self, section: str) -> bool:
        """Whether this member may change things in `section`, not only read it."""
        return self.can_open(section) and section not in ROLE_READ_ONLY[self.role]

    @property
    def sees_money(self) -> bool:
        """Prices, costs, totals and balances are shown to the roles that open the
        finance pages; operators see none of them, on any page or in any file."""
        return self.can_open(Section.FINANCE)

    @property
    def may_pay(self) -> bool:
        """Paying spends the balance: it takes changing orders and seeing money."""
        return self.may_change(Section.ORDERS) and self.may_change(Section.FINANCE)


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + timedelta(days=7)


class Invitation(models.Model):
    """An owner's or admin's invitation of a sub-account by e-mail, with a role."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")

    distributor = models.ForeignKey(Distributor, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=16, choices=[c for c in Role.choices if c[0] != Role.OWNER])
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("invited by")
    )
    created_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), default=_invitation_expiry)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["distributor", "email"], condition=Q(status="pending"), name="invitation_one_pending_per_email"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} -> {self.distributor}"

    @property
    def is_usable(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at > timezone.now()


# Staff suspend and re-activate a distributor; an invitation is used or revoked once.
_D, _V = Distributor.Status, Invitation.Status
DISTRIBUTOR_MACHINE = StateMachine(
    model=Distributor,
    transitions={_D.ACTIVE: frozenset({_D.SUSPENDED}), _D.SUSPENDED: frozenset({_D.ACTIVE})},
    initial=frozenset({_D.ACTIVE}),
    describe=lambda distributor: _("Distributor %(name)s") % {"name": distributor.company_name},
)
INVITATION_MACHINE = StateMachine(
    model=Invitation,
    transitions={_V.PENDING: frozenset({_V.ACCEPTED, _V.REVOKED}), _V.ACCEPTED: frozenset(), _V.REVOKED: frozenset()},
    initial=frozenset({_V.PENDING}),
    describe=lambda invitation: _("The invitation to %(email)s") % {"email": invitation.email},
)


class StatusEvent(models.Model):
    """A status move of a row whose model keeps no timeline of its own (imports, pull
    runs, invitations, distributors): written by `distribution.state` with every move."""

    # Staff read these in the admin; the rows they describe carry the tenant.
    tenant_path = None

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.PositiveBigIntegerField()
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    message = models.CharField(_("message"), max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"], name="distribution_statusevent_row")]

    def __str__(self) -> str:
        return f"{self.content_type_id}:{self.object_id} {self.from_status or '-'} -> {self.to_status}"


class Heartbeat(models.Model):
    """Last time a named periodic task ran on a worker; staff see it in the admin."""

    name = models.CharField(max_length=64, unique=True)
    last_seen_at = models.DateTimeField()
    hostname = models.CharField(max_length=255, blank=True)
    runs = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}"
