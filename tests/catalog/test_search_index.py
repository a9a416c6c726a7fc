"""The catalog search uses trigram indexes on PostgreSQL (catalog/migrations/0002)."""

import pytest
from django.db import connection

from catalog.models import Product
from catalog.selectors import ProductFilters, product_list
from tests.conftest import using_postgres


@pytest.mark.skipif(not using_postgres(), reason="trigram indexes exist on PostgreSQL only")
@pytest.mark.django_db
def test_catalog_search_columns_have_trigram_indexes_on_the_searched_expression():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE %s", ["catalog_%_trgm"])
        indexes = dict(cursor.fetchall())
    assert set(indexes) == {
        "catalog_product_name_trgm",
        "catalog_product_code_trgm",
        "catalog_product_brand_trgm",
        "catalog_item_item_id_trgm",
    }
    # icontains compiles to UPPER(col::text) LIKE UPPER(...): the index must be on that expression
    assert "upper((name)::text) gin_trgm_ops" in indexes["catalog_product_name_trgm"]
    sql, _ = product_list(filters=ProductFilters(q="crystal")).query.sql_with_params()
    assert 'UPPER("catalog_product"."name"::text) LIKE' in sql


@pytest.mark.django_db
def test_catalog_search_finds_by_part_of_the_name_either_way():
    from tests.catalog.factories import ItemFactory

    item = ItemFactory(product__name="SNOWTOX CRYSTAL TREATMENT SERUM")
    assert list(product_list(filters=ProductFilters(q="crystal treat"))) == [item.product]
    assert Product.objects.count() == 1
