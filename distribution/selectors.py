from django.db.models import QuerySet

from .models import Distributor, Invitation, Membership
from .tenancy import scope


def member_list(*, distributor: Distributor) -> QuerySet[Membership]:
    return scope(Membership.objects.select_related("user"), distributor).order_by("created_at", "id")


def invitation_pending_list(*, distributor: Distributor) -> QuerySet[Invitation]:
    return scope(Invitation.objects.select_related("invited_by"), distributor).filter(status=Invitation.Status.PENDING)
