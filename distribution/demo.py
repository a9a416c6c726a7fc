"""The core's demo rows: one staff user and one distributor with an owner and sub-accounts."""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from .models import Distributor, Membership, Role

STAFF = ("staff@example.com", "staff-demo-2026")
OWNER = ("demo@example.com", "demo-pass-2026")
SUB_ACCOUNTS = [
    ("operator@example.com", Role.OPERATOR),
    ("finance@example.com", Role.FINANCE),
]
DEMO_COMPANY = "Demo Trading Co."


def _user(email: str, password: str, **extra):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=email, defaults={"email": email, **extra})
    if created:
        user.set_password(password)
        user.save()
    EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    return user


def demo_distributor() -> Distributor:
    return Distributor.objects.get(memberships__user__username=OWNER[0], memberships__role=Role.OWNER)


def seed(stdout) -> None:
    _user(*STAFF, is_staff=True, is_superuser=True)
    owner = _user(*OWNER)
    membership = Membership.objects.filter(user=owner).select_related("distributor").first()
    if membership is None:
        distributor = Distributor.objects.create(
            company_name=DEMO_COMPANY, contact_person="Demo Owner", phone="+1 415 555 0100", country="US"
        )
        Membership.objects.create(distributor=distributor, user=owner, role=Role.OWNER)
    else:
        distributor = membership.distributor
    for email, role in SUB_ACCOUNTS:
        user = _user(email, OWNER[1])
        Membership.objects.get_or_create(user=user, defaults={"distributor": distributor, "role": role})
    stdout.write(f"Staff (admin at /admin/):     {STAFF[0]} / {STAFF[1]}")
    stdout.write(f"Distributor owner (portal):   {OWNER[0]} / {OWNER[1]}  ({distributor.company_name})")
    for email, role in SUB_ACCOUNTS:
        stdout.write(f"Distributor {role:<8} (portal): {email} / {OWNER[1]}")
