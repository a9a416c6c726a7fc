"""Writes on distributors, members and invitations."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import ApplicationError, PermissionDeniedError
from .models import (
    DISTRIBUTOR_MACHINE,
    INVITATION_MACHINE,
    Distributor,
    Heartbeat,
    Invitation,
    Membership,
    Role,
    Section,
)
from .tenancy import ensure_can_act

User = get_user_model()

PROFILE_FIELDS = ("company_name", "contact_person", "phone", "country")


def _normalise_country(country: str) -> str:
    code = (country or "").strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ApplicationError(_("Country must be a two-letter ISO code such as US, JP or DE."))
    return code


@transaction.atomic
def distributor_register(*, user, company_name: str, contact_person: str, phone: str, country: str) -> Distributor:
    """Sign-up: a new Distributor with `user` as its owner, settling in USD."""
    if Membership.objects.filter(user=user).exists():
        raise ApplicationError(_("This user already belongs to a distributor."))
    distributor = Distributor.objects.create(
        company_name=company_name.strip(),
        contact_person=contact_person.strip(),
        phone=phone.strip(),
        country=_normalise_country(country),
    )
    Membership.objects.create(distributor=distributor, user=user, role=Role.OWNER)
    return distributor


@transaction.atomic
def distributor_update_profile(*, actor: Membership, distributor: Distributor, **fields) -> Distributor:
    ensure_can_act(actor, Section.MEMBERS)
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ApplicationError(_("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    distributor = Distributor.objects.select_for_update().get(pk=distributor.pk)
    if "country" in fields:
        fields["country"] = _normalise_country(fields["country"])
    for name, value in fields.items():
        setattr(distributor, name, value.strip() if isinstance(value, str) else value)
    distributor.save(update_fields=[*fields, "updated_at"])
    return distributor


@transaction.atomic
def distributor_set_status(*, actor, distributor: Distributor, status: str, reason: str = "") -> Distributor:
    """Staff suspend or re-activate a distributor (from the admin)."""
    if not getattr(actor, "is_staff", False):
        raise PermissionDeniedError(_("Only platform staff may suspend or re-activate a distributor."))
    if status not in Distributor.Status.values:
        raise ApplicationError(_("Unknown status: %(s)s.") % {"s": status})
    if Distributor.objects.filter(pk=distributor.pk, status=status).exists():
        return distributor  # suspending a suspended distributor changes nothing
    return DISTRIBUTOR_MACHINE.move(
        distributor,
        status,
        actor=actor,
        message=reason,
        fields={"suspended_reason": reason if status == Distributor.Status.SUSPENDED else ""},
    )


def _send_invitation_email(invitation_id: int, base_url: str) -> None:
    invitation = Invitation.objects.select_related("distributor", "invited_by").get(pk=invitation_id)
    link = base_url.rstrip("/") + reverse("invitation_accept", kwargs={"token": invitation.token})
    context = {"invitation": invitation, "link": link}
    send_mail(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
        + _("You are invited to %(company)s") % {"company": invitation.distributor.company_name},
        message=render_to_string("distribution/email/invitation.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[invitation.email],
    )


@transaction.atomic
def member_invite(*, actor: Membership, email: str, role: str, base_url: str) -> Invitation:
    ensure_can_act(actor, Section.MEMBERS)
    distributor = actor.distributor
    email = User.objects.normalize_email(email.strip()).lower()
    if role not in (Role.ADMIN, Role.OPERATOR, Role.FINANCE):
        raise ApplicationError(_("Choose a role: admin, operator or finance."))
    if role == Role.ADMIN and actor.role != Role.OWNER:
        raise PermissionDeniedError(_("Only the owner can invite an admin."))
    existing = Membership.objects.filter(user__email__iexact=email).select_related("distributor").first()
    if existing is not None:
        if existing.distributor_id == distributor.id:
            raise ApplicationError(_("%(email)s is already a member.") % {"email": email})
        raise ApplicationError(_("%(email)s already belongs to another distributor.") % {"email": email})
    try:
        with transaction.atomic():
            invitation = Invitation.objects.create(
                distributor=distributor, email=email, role=role, invited_by=actor.user
            )
    except IntegrityError:
        raise ApplicationError(
            _("An invitation to %(email)s is already pending. Revoke it first to send a new one.") % {"email": email}
        ) from None
    transaction.on_commit(lambda: _send_invitation_email(invitation.pk, base_url))
    return invitation


@transaction.atomic
def invitation_revoke(*, actor: Membership, invitation: Invitation) -> Invitation:
    ensure_can_act(actor, Section.MEMBERS)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk, distributor=actor.distributor)
    if invitation.status != Invitation.Status.PENDING:
        raise ApplicationError(_("Only a pending invitation can be revoked."))
    return INVITATION_MACHINE.move(invitation, Invitation.Status.REVOKED, actor=actor.user)


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user) -> Membership:
    """Seat `user` in the inviting distributor. The invitation is used once."""
    invitation = Invitation.objects.select_for_update().select_related("distributor").get(pk=invitation.pk)
    if not invitation.is_usable:
        raise ApplicationError(_("This invitation has expired or was revoked. Ask for a new one."))
    if user.email.lower() != invitation.email.lower():
        raise ApplicationError(
            _("This invitation is for %(email)s. Log out and open the link again to accept it.")
            % {"email": invitation.email}
        )
    if Membership.objects.filter(user=user).exists():
        raise ApplicationError(_("Your account already belongs to a distributor."))
    membership = Membership.objects.create(distributor=invitation.distributor, user=user, role=invitation.role)
    INVITATION_MACHINE.move(invitation, Invitation.Status.ACCEPTED, actor=user, fields={"accepted_at": timezone.now()})
    return membership


@transaction.atomic
def invitation_sign_up(*, invitation: Invitation, password: str):
    """An invitee without an account: create the user and accept in one step.

    The invitation link reached them by e-mail, so the address counts as verified.
    """
    from allauth.account.models import EmailAddress
    from django.contrib.auth.password_validation import validate_password

    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ApplicationError(_("An account with this e-mail exists already. Log in to accept the invitation."))
    user = User(username=invitation.email[:150], email=invitation.email)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    EmailAddress.objects.create(user=user, email=invitation.email, verified=True, primary=True)
    invitation_accept(invitation=invitation, user=user)
    return user


@transaction.atomic
def member_change_role(*, actor: Membership, membership: Membership, role: str) -> Membership:
    ensure_can_act(actor, Section.MEMBERS)
    membership = Membership.objects.select_for_update().get(pk=membership.pk, distributor=actor.distributor)
    if membership.role == Role.OWNER:
        raise ApplicationError(_("The owner's role cannot be changed."))
    if role not in (Role.ADMIN, Role.OPERATOR, Role.FINANCE):
        raise ApplicationError(_("Choose a role: admin, operator or finance."))
    if Role.ADMIN in (role, membership.role) and actor.role != Role.OWNER:
        raise PermissionDeniedError(_("Only the owner can grant or take away the admin role."))
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def member_remove(*, actor: Membership, membership: Membership) -> None:
    ensure_can_act(actor, Section.MEMBERS)
    membership = Membership.objects.select_for_update().get(pk=membership.pk, distributor=actor.distributor)
    if membership.role == Role.OWNER:
        raise ApplicationError(_("The owner cannot be removed."))
    if membership.pk == actor.pk:
        raise ApplicationError(_("You cannot remove yourself."))
    if membership.role == Role.ADMIN and actor.role != Role.OWNER:
        raise PermissionDeniedError(_("Only the owner can remove an admin."))
    user = membership.user
    membership.delete()
    # A sub-account exists only for its distributor: without the seat it cannot log in.
    user.is_active = False
    user.save(update_fields=["is_active"])


def heartbeat_record(*, name: str, hostname: str) -> Heartbeat:
    from django.db.models import F

    now = timezone.now()
    updated = Heartbeat.objects.filter(name=name).update(last_seen_at=now, hostname=hostname, runs=F("runs") + 1)
    if not updated:
        try:
            with transaction.atomic():
                Heartbeat.objects.create(name=name, last_seen_at=now, hostname=hostname, runs=1)
        except IntegrityError:
            Heartbeat.objects.filter(name=name).update(last_seen_at=now, hostname=hostname, runs=F("runs") + 1)
    return Heartbeat.objects.get(name=name)
