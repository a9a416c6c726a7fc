import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from distribution import services
from distribution.errors import ApplicationError, PermissionDeniedError
from distribution.models import Invitation, Membership, Role
from tests.distribution.factories import MembershipFactory, UserFactory, owner_of


@pytest.fixture
def invite(client, django_capture_on_commit_callbacks):
    """POST the invite form; the e-mail goes out when the transaction commits."""

    def post(email="new.member@example.com", role="operator"):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("portal:member_list"), {"email": email, "role": role})

    return post


@pytest.mark.django_db
def test_owner_invites_and_invitee_signs_up_through_the_link(client, outbox, invite):
    # given
    me = owner_of()
    client.force_login(me.user)
    # when
    response = invite(role="finance")
    # then
    assert response.status_code == 302
    invitation = Invitation.objects.get(email="new.member@example.com")
    assert invitation.role == Role.FINANCE and invitation.distributor == me.distributor
    link = re.search(r"https?://testserver(/invitations/[^\s]+/)", outbox[-1].body).group(1)
    client.logout()
    page = client.get(link)
    assert page.status_code == 200 and "finance" in page.content.decode().lower()
    response = client.post(link, {"password1": "Invitee-pass-2026", "password2": "Invitee-pass-2026"})
    assert response.status_code == 302
    member = Membership.objects.get(user__email="new.member@example.com")
    assert member.distributor == me.distributor and member.role == Role.FINANCE
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    # the link is spent
    client.logout()
    again = client.post(link, {"password1": "Invitee-pass-2026", "password2": "Invitee-pass-2026"}, follow=True)
    assert "expired or was revoked" in again.content.decode()
    assert Membership.objects.filter(user__email="new.member@example.com").count() == 1


@pytest.mark.django_db
def test_invitee_with_a_weak_password_is_told_and_nothing_is_created(client, outbox, invite):
    me = owner_of()
    client.force_login(me.user)
    invite()
    link = re.search(r"https?://testserver(/invitations/[^\s]+/)", outbox[-1].body).group(1)
    client.logout()
    response = client.post(link, {"password1": "123", "password2": "123"})
    assert response.status_code == 400
    assert not get_user_model().objects.filter(email="new.member@example.com").exists()


@pytest.mark.django_db
def test_logged_in_user_without_seat_accepts(client):
    me = owner_of()
    invitation = services.member_invite(actor=me, email="Solo@Example.com", role=Role.OPERATOR, base_url="http://x/")
    user = UserFactory(email="solo@example.com")
    client.force_login(user)
    client.post(reverse("invitation_accept", kwargs={"token": invitation.token}))
    assert Membership.objects.get(user=user).role == Role.OPERATOR


@pytest.mark.django_db
def test_invitation_for_someone_else_is_refused():
    me = owner_of()
    invitation = services.member_invite(actor=me, email="a@example.com", role=Role.OPERATOR, base_url="http://x/")
    stranger = UserFactory(email="b@example.com")
    with pytest.raises(ApplicationError, match="is for a@example.com"):
        services.invitation_accept(invitation=invitation, user=stranger)
    assert not Membership.objects.filter(user=stranger).exists()


@pytest.mark.django_db
def test_invite_rules():
    me = owner_of()
    admin = MembershipFactory(distributor=me.distributor, role=Role.ADMIN)
    operator = MembershipFactory(distributor=me.distributor, role=Role.OPERATOR)
    other = owner_of()
    with pytest.raises(PermissionDeniedError):
        services.member_invite(actor=operator, email="x@example.com", role=Role.OPERATOR, base_url="http://x/")
    with pytest.raises(PermissionDeniedError, match="Only the owner"):
        services.member_invite(actor=admin, email="x@example.com", role=Role.ADMIN, base_url="http://x/")
    with pytest.raises(ApplicationError, match="another distributor"):
        services.member_invite(actor=me, email=other.user.email, role=Role.OPERATOR, base_url="http://x/")
    services.member_invite(actor=admin, email="x@example.com", role=Role.OPERATOR, base_url="http://x/")
    with pytest.raises(ApplicationError, match="already pending"):
        services.member_invite(actor=me, email="X@example.com", role=Role.FINANCE, base_url="http://x/")
    assert Invitation.objects.filter(email="x@example.com").count() == 1


@pytest.mark.django_db
def test_revoked_invitation_cannot_be_used(client):
    me = owner_of()
    invitation = services.member_invite(actor=me, email="r@example.com", role=Role.OPERATOR, base_url="http://x/")
    client.force_login(me.user)
    client.post(reverse("portal:invitation_revoke", kwargs={"invitation_id": invitation.pk}))
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    with pytest.raises(ApplicationError, match="expired or was revoked"):
        services.invitation_sign_up(invitation=invitation, password="Strong-pass-2026")


@pytest.mark.django_db
def test_owner_changes_role_and_removes_member(client):
    me = owner_of()
    member = MembershipFactory(distributor=me.distributor, role=Role.OPERATOR)
    client.force_login(me.user)
    client.post(reverse("portal:member_role", kwargs={"membership_id": member.pk}), {"role": "finance"})
    member.refresh_from_db()
    assert member.role == Role.FINANCE
    client.post(reverse("portal:member_remove", kwargs={"membership_id": member.pk}))
    assert not Membership.objects.filter(pk=member.pk).exists()
    member.user.refresh_from_db()
    assert member.user.is_active is False


@pytest.mark.django_db
def test_owner_cannot_be_demoted_or_removed_and_admin_cannot_touch_admins():
    me = owner_of()
    admin = MembershipFactory(distributor=me.distributor, role=Role.ADMIN)
    admin2 = MembershipFactory(distributor=me.distributor, role=Role.ADMIN)
    with pytest.raises(ApplicationError):
        services.member_change_role(actor=admin, membership=me, role=Role.OPERATOR)
    with pytest.raises(ApplicationError):
        services.member_remove(actor=admin, membership=me)
    with pytest.raises(PermissionDeniedError):
        services.member_remove(actor=admin, membership=admin2)
    with pytest.raises(ApplicationError, match="yourself"):
        services.member_remove(actor=admin, membership=admin)
    assert Membership.objects.filter(distributor=me.distributor).count() == 3


@pytest.mark.django_db
def test_profile_edit_by_owner_and_read_only_for_operator(client):
    me = owner_of()
    client.force_login(me.user)
    response = client.post(
        reverse("portal:profile"),
        {"company_name": "Renamed Ltd", "contact_person": "New Person", "phone": "+81 3 0000 0000", "country": "jp"},
    )
    assert response.status_code == 302
    me.distributor.refresh_from_db()
    assert (me.distributor.company_name, me.distributor.country) == ("Renamed Ltd", "JP")
    operator = MembershipFactory(distributor=me.distributor, role=Role.OPERATOR)
    client.force_login(operator.user)
    assert client.get(reverse("portal:profile")).status_code == 200
    response = client.post(
        reverse("portal:profile"), {"company_name": "Hijack", "contact_person": "x", "phone": "1", "country": "US"}
    )
    assert response.status_code == 400
    me.distributor.refresh_from_db()
    assert me.distributor.company_name == "Renamed Ltd"


@pytest.mark.django_db
def test_member_list_query_count_does_not_grow_with_members(client, django_assert_max_num_queries):
    me = owner_of()
    for _ in range(3):
        MembershipFactory(distributor=me.distributor)
    client.force_login(me.user)
    client.get(reverse("portal:member_list"))
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("portal:member_list"))
    for _ in range(20):
        MembershipFactory(distributor=me.distributor)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("portal:member_list"))
    assert response.content.decode().count("Change role") == 23
