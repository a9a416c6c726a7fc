"""The warehouse's handling fee per extra piece (issue 14): a non-negative amount in the
handling fee's currency, 0 by default, rounded to the currency on save, kept by staff in
the warehouse admin beside the other fees, and seeded for the demo warehouses."""

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from catalog import demo
from catalog.models import Warehouse
from tests.catalog.factories import WarehouseFactory
from tests.distribution.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_fee_per_extra_piece_defaults_to_nothing():
    assert WarehouseFactory(code="US-CA").handling_fee_per_extra_piece == Decimal("0")


def test_the_fee_per_extra_piece_is_rounded_to_the_handling_fee_currency():
    warehouse = Warehouse(
        code="JP-TYO",
        name="Tokyo",
        country="JP",
        sites="JP",
        handling_fee=Decimal("150"),
        handling_fee_currency="JPY",
        handling_fee_per_extra_piece=Decimal("30.5"),
    )
    warehouse.full_clean()
    assert warehouse.handling_fee_per_extra_piece == Decimal("31")  # half up, no cents in yen


def test_a_negative_fee_per_extra_piece_is_refused_by_validation_and_by_the_database():
    with pytest.raises(ValidationError) as refused:
        Warehouse(
            code="US-CA", name="LA", country="US", sites="US", handling_fee_per_extra_piece=Decimal("-0.30")
        ).full_clean()
    assert "handling_fee_per_extra_piece" in refused.value.message_dict
    warehouse = WarehouseFactory(code="US-CA")
    with pytest.raises(IntegrityError), transaction.atomic():
        Warehouse.objects.filter(pk=warehouse.pk).update(handling_fee_per_extra_piece=Decimal("-1"))


def test_staff_set_the_fee_per_extra_piece_in_the_warehouse_admin(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    warehouse = WarehouseFactory(code="US-CA", handling_fee=Decimal("1.20"))
    url = reverse("admin:catalog_warehouse_change", args=[warehouse.pk])
    html = client.get(url).content.decode()
    assert 'name="handling_fee_per_extra_piece"' in html and "after the first" in html

    form = {
        "code": "US-CA",
        "name": "Los Angeles warehouse",
        "country": "US",
        "sites": "US",
        "is_active": "on",
        "handling_fee": "1.20",
        "handling_fee_currency": "USD",
        "handling_fee_per_extra_piece": "0.30",
        "self_pickup_fee": "2.00",
        "self_pickup_fee_currency": "USD",
        "address": "",
        "opening_hours": "",
        "shipping_methods-TOTAL_FORMS": "0",
        "shipping_methods-INITIAL_FORMS": "0",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    warehouse.refresh_from_db()
    assert warehouse.handling_fee_per_extra_piece == Decimal("0.30")
    listing = client.get(reverse("admin:catalog_warehouse_changelist")).content.decode()
    assert "0.30" in listing


def test_the_demo_warehouses_charge_per_extra_piece_once_seeded():
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())

    fees = dict(Warehouse.objects.values_list("code", "handling_fee_per_extra_piece"))
    assert fees == {"US-CA": Decimal("0.30"), "DE-FRA": Decimal("0.40"), "JP-TYO": Decimal("0.35")}
