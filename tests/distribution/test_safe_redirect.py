"""Every view that takes `next` follows it only within this site."""

import pytest
from django.urls import reverse

from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db

HOSTILE = ["//evil.example/", "https://evil.example/orders/", "/\\evil.example", "http:evil.example", " //evil.example"]


@pytest.mark.parametrize("target", HOSTILE)
def test_orders_bulk_action_never_redirects_off_site(client, owner, target):
    order = OrderFactory(distributor=owner.distributor)
    client.force_login(owner.user)
    response = client.post(reverse("orders:order_list"), {"order_ids": [order.pk], "action": "none", "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:order_list")


def test_orders_bulk_action_follows_a_path_on_this_site(client, owner):
    order = OrderFactory(distributor=owner.distributor)
    client.force_login(owner.user)
    back = reverse("orders:order_list") + "?status=paid"
    response = client.post(reverse("orders:order_list"), {"order_ids": [order.pk], "action": "none", "next": back})
    assert response["Location"] == back


@pytest.mark.parametrize("target", HOSTILE)
def test_mapping_actions_never_redirect_off_site(client, owner, target):
    client.force_login(owner.user)
    response = client.post(reverse("mapping:suggestions_accept_all"), {"next": target})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mapping:mapping_list"))
