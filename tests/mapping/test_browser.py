"""Product Mapping's own JavaScript in a real browser: the Item search offers only items of
warehouses serving the chosen store's site, and the import page's progress bar follows
the row and reloads when the work is done."""

import re

import pytest

from mapping.models import Mapping, MappingImport
from tests.mapping.factories import MappingImportFactory
from tests.mapping.test_world import world_fixture  # noqa: F401  (the `world` fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, live_server, membership):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", membership.user.email)
    page.fill("input[name=password]", "pass-word-2026")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def _options(page, datalist: str) -> list[str]:
    return page.eval_on_selector_all(f"#{datalist} option", "options => options.map(o => o.value)")


def test_mapping_add_item_search_follows_the_stores_site(page, live_server, world):
    _log_in(page, live_server, world.owner)
    page.goto("/mapping/")
    page.get_by_role("link", name="Add", exact=True).click()
    page.select_option("select[name=store]", str(world.jp_store.pk))
    page.fill("input[name=store_sku]", "SNOWTOX-SERUM")
    page.fill("input[name=item_id]", "LS2288")
    page.wait_for_function("document.querySelectorAll('#site-items option').length > 0")
    assert _options(page, "site-items") == ["LS228800001-01-03"]

    # another store, another site: the offer changes with it
    page.select_option("select[name=store]", str(world.us_store.pk))
    page.fill("input[name=item_id]", "LS22880")
    page.wait_for_function("document.querySelector('#site-items option')?.value === 'LS228800001-01-01'")
    assert _options(page, "site-items") == ["LS228800001-01-01"]

    page.fill("input[name=item_id]", "LS228800001-01-01")
    page.click("form[data-mapping-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/mapping/\?store="))
    assert "now maps to LS228800001-01-01" in page.content()
    assert Mapping.objects.get().item == world.serum_us


def test_import_progress_bar_follows_the_row_and_reloads_when_done(page, live_server, world):
    running = MappingImportFactory(
        distributor=world.distributor,
        status=MappingImport.Status.PREVIEWING,
        total_rows=10,
        processed_rows=3,
        new_count=0,
    )
    _log_in(page, live_server, world.owner)
    page.goto(f"/mapping/import/{running.pk}/")
    assert page.locator("[data-progress-bar]").inner_text() == "30%"

    # the worker moves on
    MappingImport.objects.filter(pk=running.pk).update(processed_rows=8)
    page.wait_for_function("document.querySelector('[data-progress-bar]').textContent === '80%'")

    # and finishes: the page reloads and shows the preview
    MappingImport.objects.filter(pk=running.pk).update(
        status=MappingImport.Status.PREVIEWED, processed_rows=10, new_count=9, rejected_count=1
    )
    page.wait_for_selector("[data-testid=import-confirm]")
    assert page.locator('[data-count="new"]').inner_text() == "9"
    assert page.locator("[data-progress-url]").count() == 0
