import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse

from distribution.errors import ApplicationError
from distribution.models import Distributor, Membership, Role
from distribution.services import distributor_register

SIGNUP = {
    "email": "founder@example.com",
    "password1": "a-long-Password-2026",
    "password2": "a-long-Password-2026",
    "company_name": "Blue Harbor Trading",
    "contact_person": "Mei Chen",
    "phone": "+1 415 555 0199",
    "country": "us",
}


def _confirm_link(message) -> str:
    match = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+", message.body)
    assert match, message.body
    return match.group(0)


@pytest.mark.django_db
def test_signup_creates_distributor_with_owner_and_sends_confirmation(client, outbox):
    # when
    response = client.post(reverse("account_signup"), SIGNUP)
    # then
    assert response.status_code == 302
    user = get_user_model().objects.get(email="founder@example.com")
    membership = Membership.objects.select_related("distributor").get(user=user)
    assert membership.role == Role.OWNER
    distributor = membership.distributor
    assert (distributor.company_name, distributor.contact_person, distributor.country) == (
        "Blue Harbor Trading",
        "Mei Chen",
        "US",
    )
    assert distributor.settlement_currency == "USD"
    assert distributor.status == Distributor.Status.ACTIVE
    assert len(outbox) == 1 and "founder@example.com" in outbox[0].to
    assert not EmailAddress.objects.get(user=user).verified


@pytest.mark.django_db
def test_email_confirmation_then_login_reaches_the_portal(client, outbox):
    client.post(reverse("account_signup"), SIGNUP)
    client.logout()
    # login before confirming is held back
    response = client.post(reverse("account_login"), {"login": SIGNUP["email"], "password": SIGNUP["password1"]})
    assert reverse("account_email_verification_sent") in response["Location"]
    link = _confirm_link(outbox[-1])
    client.post(link.split("testserver", 1)[-1])
    assert EmailAddress.objects.get(email=SIGNUP["email"]).verified
    response = client.post(reverse("account_login"), {"login": SIGNUP["email"], "password": SIGNUP["password1"]})
    assert response.status_code == 302 and response["Location"] == reverse("portal:home")
    home = client.get(reverse("portal:home"))
    assert "Blue Harbor Trading" in home.content.decode()


@pytest.mark.django_db
def test_signup_with_a_bad_country_creates_nothing(client):
    response = client.post(reverse("account_signup"), {**SIGNUP, "country": "1A"})
    assert response.status_code == 200
    assert "two-letter ISO code" in response.content.decode()
    assert not get_user_model().objects.filter(email=SIGNUP["email"]).exists()
    assert not Distributor.objects.exists()


@pytest.mark.django_db
def test_logout_ends_the_session(client):
    from tests.distribution.factories import owner_of

    me = owner_of()
    client.force_login(me.user)
    client.post(reverse("account_logout"))
    assert client.get(reverse("portal:home")).status_code == 302


@pytest.mark.django_db
def test_password_reset_sends_a_working_link(client, outbox):
    from tests.distribution.factories import owner_of

    me = owner_of(email="reset@example.com")
    client.post(reverse("account_reset_password"), {"email": "reset@example.com"})
    assert len(outbox) == 1
    link = re.search(r"https?://testserver(/accounts/password/reset/key/[^\s]+)", outbox[0].body).group(1)
    page = client.get(link, follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    response = client.post(form_url, {"password1": "Brand-new-pass-77", "password2": "Brand-new-pass-77"})
    assert response.status_code == 302
    me.user.refresh_from_db()
    assert me.user.check_password("Brand-new-pass-77")


@pytest.mark.django_db
def test_distributor_register_refuses_a_user_with_a_seat():
    from tests.distribution.factories import owner_of

    me = owner_of()
    with pytest.raises(ApplicationError):
        distributor_register(user=me.user, company_name="X", contact_person="Y", phone="1", country="US")
    assert Distributor.objects.count() == 1
