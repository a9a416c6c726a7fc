from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from . import selectors, services
from .errors import ApplicationError
from .forms import DistributorProfileForm, InvitationSignupForm, InviteForm, RoleForm
from .home import checklist_for, panels_for
from .models import Invitation, Membership, Section
from .tenancy import PortalView, membership_for


class HomeView(PortalView):
    """Dashboard: the "Start here" checklist while the distributor is setting up, then
    what needs them: the apps' panels (distribution/home.py), each for the roles that may
    open the pages it links to."""

    section = Section.ACCOUNT

    def get(self, request):
        context = {
            "distributor": self.distributor,
            "checklist": checklist_for(self.membership),
            "panels": panels_for(self.membership),
        }
        return render(request, "distribution/home.html", context)


class ProfileView(PortalView):
    section = Section.ACCOUNT

    def get(self, request):
        form = DistributorProfileForm(instance=self.distributor)
        return self._render(request, form)

    def post(self, request):
        form = DistributorProfileForm(request.POST, instance=self.distributor)
        if form.is_valid():
            try:
                services.distributor_update_profile(
                    actor=self.membership, distributor=self.distributor, **form.cleaned_data
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Company profile saved."))
                return redirect("portal:profile")
        return self._render(request, form, status=400)

    def _render(self, request, form, status=200):
        can_edit = self.membership.can_open(Section.MEMBERS)
        if not can_edit:
            for field in form.fields.values():
                field.disabled = True
        return render(
            request,
            "distribution/profile.html",
            {"form": form, "can_edit": can_edit, "distributor": self.distributor},
            status=status,
        )


class MemberListView(PortalView):
    section = Section.MEMBERS

    def get(self, request, form=None, status=200):
        return render(
            request,
            "distribution/member_list.html",
            {
                "members": selectors.member_list(distributor=self.distributor),
                "invitations": selectors.invitation_pending_list(distributor=self.distributor),
                "invite_form": form or InviteForm(),
                "role_form": RoleForm(),
            },
            status=status,
        )

    def post(self, request):
        form = InviteForm(request.POST)
        if form.is_valid():
            try:
                invitation = services.member_invite(
                    actor=self.membership,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    base_url=request.build_absolute_uri("/"),
                )
            except ApplicationError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
                return redirect("portal:member_list")
        return self.get(request, form=form, status=400)


class MemberRoleView(PortalView):
    section = Section.MEMBERS

    def post(self, request, membership_id: int):
        membership = self.get_for_tenant_or_404(Membership.objects.all(), pk=membership_id)
        form = RoleForm(request.POST)
        try:
            if not form.is_valid():
                raise ApplicationError(_("Choose a role: admin, operator or finance."))
            services.member_change_role(actor=self.membership, membership=membership, role=form.cleaned_data["role"])
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Role changed."))
        return redirect("portal:member_list")


class MemberRemoveView(PortalView):
    section = Section.MEMBERS

    def post(self, request, membership_id: int):
        membership = self.get_for_tenant_or_404(Membership.objects.select_related("user"), pk=membership_id)
        try:
            services.member_remove(actor=self.membership, membership=membership)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(email)s was removed.") % {"email": membership.user.email})
        return redirect("portal:member_list")


class InvitationRevokeView(PortalView):
    section = Section.MEMBERS

    def post(self, request, invitation_id: int):
        invitation = self.get_for_tenant_or_404(Invitation.objects.all(), pk=invitation_id)
        try:
            services.invitation_revoke(actor=self.membership, invitation=invitation)
        except ApplicationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Invitation to %(email)s revoked.") % {"email": invitation.email})
        return redirect("portal:member_list")


class InvitationAcceptView(View):
    """Public: the link in the invitation e-mail. The token is the credential."""

    def _invitation(self, token):
        return get_object_or_404(Invitation.objects.select_related("distributor"), token=token)

    def get(self, request, token, form=None, status=200):
        invitation = self._invitation(token)
        return render(
            request,
            "distribution/invitation_accept.html",
            {
                "invitation": invitation,
                "form": form or InvitationSignupForm(),
                "already_member": membership_for(request.user) is not None,
            },
            status=status,
        )

    def post(self, request, token):
        invitation = self._invitation(token)
        try:
            if request.user.is_authenticated:
                services.invitation_accept(invitation=invitation, user=request.user)
            else:
                form = InvitationSignupForm(request.POST)
                if not form.is_valid():
                    return self.get(request, token, form=form, status=400)
                user = services.invitation_sign_up(invitation=invitation, password=form.cleaned_data["password1"])
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return redirect("invitation_accept", token=token)
        except ValidationError as exc:  # the password validators' verdict
            form = InvitationSignupForm(request.POST)
            form.is_valid()
            form.add_error("password1", exc)
            return self.get(request, token, form=form, status=400)
        messages.success(request, _("Welcome to %(company)s.") % {"company": invitation.distributor.company_name})
        return redirect("portal:home")


def healthz(request):
    """Liveness for the load balancer and docker-compose: the database answers."""
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
