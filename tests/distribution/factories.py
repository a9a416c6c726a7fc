"""Factories for the core: users, distributors, members, invitations."""

import factory
from django.contrib.auth import get_user_model

from distribution.models import Distributor, Invitation, Membership, Role


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.django.Password("pass-word-2026")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class DistributorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Distributor

    company_name = factory.Sequence(lambda n: f"Company {n}")
    contact_person = "Contact Person"
    phone = "+1 212 555 0100"
    country = "US"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    distributor = factory.SubFactory(DistributorFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OPERATOR


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    distributor = factory.SubFactory(DistributorFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.OPERATOR


def owner_of(distributor: Distributor | None = None, **user_kwargs) -> Membership:
    distributor = distributor or DistributorFactory()
    return MembershipFactory(distributor=distributor, role=Role.OWNER, user=UserFactory(**user_kwargs))


FACTORIES = {Membership: MembershipFactory, Invitation: InvitationFactory, Distributor: DistributorFactory}
