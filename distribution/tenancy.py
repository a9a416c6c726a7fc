"""Tenancy: the one way portal code finds the current distributor and scopes rows.

Every portal view is a `PortalView` (or uses `portal_context`), names the section
it belongs to, and reads rows through `scope()` / `get_for_tenant_or_404()`, so a
row of another distributor is never found: its id answers 404, not 403, so ids of
other tenants cannot even be probed.

A model says how it reaches its Distributor with a `tenant_path` class attribute
(default "distributor"), e.g. an order line sets `tenant_path = "order__distributor"`.
Rows shared by every distributor (the platform's catalog) set `tenant_path = None`.
"""

from dataclasses import dataclass

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View

from .errors import PermissionDeniedError
from .models import Distributor, Membership, Section

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class PortalContext:
    membership: Membership

    @property
    def distributor(self) -> Distributor:
        return self.membership.distributor

    @property
    def role(self) -> str:
        return self.membership.role

    def can_open(self, section: str) -> bool:
        return self.membership.can_open(section)

    def may_change(self, section: str) -> bool:
        return self.membership.may_change(section)

    @property
    def sees_money(self) -> bool:
        return self.membership.sees_money

    @property
    def may_pay(self) -> bool:
        return self.membership.may_pay


def membership_for(user) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    cached = getattr(user, "_portal_membership", False)
    if cached is not False:
        return cached
    membership = Membership.objects.select_related("distributor").filter(user=user).first()
    user._portal_membership = membership
    return membership


def portal_context(request) -> PortalContext | None:
    membership = membership_for(request.user)
    return PortalContext(membership) if membership else None


def ensure_can_act(membership: Membership | None, section: str) -> None:
    """Raise PermissionDeniedError unless this member may change things in `section`."""
    if membership is None:
        raise PermissionDeniedError(_("This account does not belong to a distributor."))
    if not membership.may_change(section):
        raise PermissionDeniedError(_("Your role does not allow this."))
    if not membership.distributor.is_active:
        raise PermissionDeniedError(
            _("Your distributor account is suspended, so nothing can be changed. Please contact platform staff.")
        )


def tenant_path(model: type[Model]) -> str | None:
    return getattr(model, "tenant_path", "distributor")


def scope(queryset: QuerySet, distributor: Distributor) -> QuerySet:
    path = tenant_path(queryset.model)
    if path is None:
        return queryset  # shared by all distributors
    return queryset.filter(**{path: distributor})


def get_for_tenant_or_404(queryset: QuerySet, distributor: Distributor, **lookup):
    try:
        return scope(queryset, distributor).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(_("Not found.")) from None


class PortalView(LoginRequiredMixin, View):
    """Base of every portal view.

    `section` decides which roles may open the view (403 otherwise). Writes
    (POST and friends, see `writes`) by a role that only reads the section, or by a
    suspended distributor, are refused with 403 and a reason.
    """

    section: str = Section.ACCOUNT
    portal: PortalContext

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        context = portal_context(request)
        if context is None:
            # Staff and other users without a distributor seat have no portal.
            if request.user.is_staff:
                return redirect("admin:index")
            raise PermissionDenied(_("This account does not belong to a distributor."))
        if not context.can_open(self.section):
            raise PermissionDenied(_("Your role does not give access to this page."))
        writes = self.writes(request)
        if writes and not context.may_change(self.section):
            raise PermissionDenied(_("Your role may read this page but not change anything on it."))
        if writes and not context.distributor.is_active:
            raise PermissionDenied(
                _("Your distributor account is suspended, so nothing can be changed. Please contact platform staff.")
            )
        self.portal = context
        request.portal = context
        return super().dispatch(request, *args, **kwargs)

    def writes(self, request) -> bool:
        """Whether this request may change something; a view whose form posts a read
        (an export of the selected rows) says so by overriding this."""
        return request.method not in SAFE_METHODS

    @property
    def distributor(self) -> Distributor:
        return self.portal.distributor

    @property
    def membership(self) -> Membership:
        return self.portal.membership

    def scope(self, queryset: QuerySet) -> QuerySet:
        return scope(queryset, self.distributor)

    def get_for_tenant_or_404(self, queryset: QuerySet, **lookup):
        return get_for_tenant_or_404(queryset, self.distributor, **lookup)
