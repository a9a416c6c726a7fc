"""The home page shows the balance (and the low-balance warning) to the roles that see money."""

from decimal import Decimal

import pytest
from django.urls import reverse

from distribution.models import Role
from finance.models import BalancePreference
from tests.finance.factories import credit

pytestmark = pytest.mark.django_db


def home(client, member) -> str:
    client.force_login(member.user)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_home_shows_the_balance_to_owner_and_finance_not_to_operators(client, owner, member_factory):
    credit(owner.distributor, "42.50", key="home-credit")
    assert "42.50 USD" in home(client, owner) and 'data-testid="home-balance"' in home(client, owner)
    finance = member_factory(owner.distributor, role=Role.FINANCE)
    assert "42.50 USD" in home(client, finance)
    operator = member_factory(owner.distributor, role=Role.OPERATOR)
    html = home(client, operator)
    assert 'data-testid="home-balance"' not in html and "42.50" not in html


def test_home_warns_when_the_balance_is_below_the_alert_level(client, owner):
    credit(owner.distributor, "20.00", key="home-low")
    BalancePreference.objects.create(distributor=owner.distributor, low_balance_threshold=Decimal("50.00"))
    html = home(client, owner)
    assert 'data-testid="low-balance"' in html and "alert level of 50.00 USD" in html
    BalancePreference.objects.filter(distributor=owner.distributor).update(low_balance_threshold=Decimal("10.00"))
    assert 'data-testid="low-balance"' not in home(client, owner)
