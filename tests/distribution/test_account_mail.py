"""allauth speaks of people by their e-mail address, never a generated username, and its
mails name the platform by SITE_NAME, not by the host the request came to."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.distribution.factories import owner_of
from tests.distribution.test_settings import _manage

SIGNUP = {
    "email": "newbie@example.com",
    "password1": "a-long-Password-2026",
    "password2": "a-long-Password-2026",
    "company_name": "Newbie Trading",
    "contact_person": "New Bie",
    "phone": "+1 415 555 0123",
    "country": "US",
}

pytestmark = pytest.mark.django_db


def test_signup_makes_the_address_the_username(client, outbox):
    # when someone signs up
    client.post(reverse("account_signup"), SIGNUP)
    # then no username is made up from the address: it is the address
    user = get_user_model().objects.get(email="newbie@example.com")
    assert user.username == "newbie@example.com"


def test_a_second_account_whose_address_is_taken_as_a_username_gets_allauths_own(client, outbox):
    # given someone whose username happens to be the address about to sign up (staff, say)
    get_user_model().objects.create_user(username="newbie@example.com", email="staff@example.com")
    # when the address signs up
    client.post(reverse("account_signup"), SIGNUP)
    # then the new account still gets a unique username
    user = get_user_model().objects.get(email="newbie@example.com")
    assert user.username and user.username != "newbie@example.com"


def test_confirmation_mail_names_the_platform_and_the_address_not_a_username(client, outbox, settings):
    # given a platform called by its own name
    settings.SITE_NAME = "Harbor Supply"
    # when someone signs up
    client.post(reverse("account_signup"), SIGNUP)
    # then the mail greets without the host, names the platform and the address, no username
    [mail] = outbox
    body = mail.body
    assert body.startswith("Hello,")
    assert "Harbor Supply" in body and "newbie@example.com" in body
    assert "Hello from" not in body and "user newbie" not in body
    assert not re.search(r"\bnewbie\b(?!@)", body)
    assert re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+", body)
    # and the subject carries the platform's prefix
    assert mail.subject.startswith(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX)


def test_subject_prefix_defaults_to_the_site_name(settings):
    assert settings.SITE_NAME == "Distribution platform"
    assert settings.ACCOUNT_EMAIL_SUBJECT_PREFIX == "[Distribution platform] "


def test_site_name_comes_from_the_environment(tmp_path):
    # when the platform is deployed under its own name
    code = "from django.conf import settings as s; print(repr((s.SITE_NAME, s.ACCOUNT_EMAIL_SUBJECT_PREFIX)))"
    result = _manage("shell", "--no-imports", "-c", code, extra_env={"SITE_NAME": "Harbor Supply"}, tmp_path=tmp_path)
    # then the mails' name and subject prefix follow it
    assert result.stdout.strip() == repr(("Harbor Supply", "[Harbor Supply] ")), result.stderr


def test_signed_in_message_shows_the_address(client):
    # given a member whose username is not their address (made before usernames were addresses)
    me = owner_of(email="founder@example.com", username="founder")
    # when they sign in
    response = client.post(
        reverse("account_login"), {"login": "founder@example.com", "password": "pass-word-2026"}, follow=True
    )
    # then the message names their address, never the username
    page = response.content.decode()
    assert "Successfully signed in as founder@example.com." in page
    assert "signed in as founder." not in page
    assert me.user.username == "founder"


def test_password_reset_mail_names_the_platform_and_no_username(client, outbox, settings):
    # given a member whose username differs from the address
    settings.SITE_NAME = "Harbor Supply"
    owner_of(email="founder@example.com", username="founder")
    # when they ask for a new password
    client.post(reverse("account_reset_password"), {"email": "founder@example.com"})
    # then the mail names the platform and the account's address, not the username
    [mail] = outbox
    assert "Harbor Supply" in mail.body and "founder@example.com" in mail.body
    assert "username" not in mail.body and not re.search(r"\bfounder\b(?!@)", mail.body)
    assert "/accounts/password/reset/key/" in mail.body
