"""[Platform Authorization] > [Product Mapping] through the pages: the list with its
filters and pinned query counts, [Add] with the site-aware item search, edit, delete,
the unmapped queue (map in place, suggestions), [Batch Import] and the files."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse, reverse_lazy
from openpyxl import load_workbook

from distribution.models import Distributor, Role
from mapping.models import Mapping, MappingImport, SeenSku
from tests.catalog.factories import ItemFactory
from tests.distribution.factories import MembershipFactory
from tests.mapping.factories import MappingFactory, SeenSkuFactory
from tests.mapping.test_world import upload, world_fixture, xlsx_bytes  # noqa: F401  (the `world` fixture)
from tests.stores.factories import StoreFactory

LIST_URL = reverse_lazy("mapping:mapping_list")
ADD_URL = reverse_lazy("mapping:mapping_add")
IMPORT_URL = reverse_lazy("mapping:import")
# Pinned: session, user, membership, stores, page count, page, the other tab's count.
LIST_QUERIES = 8
# Pinned: as above, plus the suggestions: items by Item ID or barcode, products by code,
# active warehouses, candidate items.
UNMAPPED_QUERIES = 12


@pytest.fixture
def client_of(client):
    def login(membership):
        client.force_login(membership.user)
        return client

    return login


@pytest.fixture
def operator(world, client_of):
    return client_of(world.operator)


# --- the list ---------------------------------------------------------------------------------


def test_mapping_list_page_has_the_guides_labels(operator):
    response = operator.get(LIST_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Product Mapping" in html and ">Add</a>" in html and ">Batch Import</a>" in html
    assert "spaces before and after a SKU are ignored" in html  # the SKU rule is stated on the page


def test_mapping_list_shows_own_mappings_filtered_by_store_and_searched(world, operator):
    MappingFactory(store=world.us_store, store_sku="SNOWTOX-SERUM", item=world.serum_us)
    MappingFactory(store=world.jp_store, store_sku="SNOWTOX-SERUM", item=world.serum_jp)
    MappingFactory(store=world.us_store, store_sku="BOARD-1", item=world.board_us)
    MappingFactory(store_sku="FOREIGN-SKU")  # another distributor's

    def shown(**params):
        rows = operator.get(LIST_URL, params).context["rows"]
        return sorted((m.store.name, m.store_sku, m.item.item_id) for m in rows)

    assert len(shown()) == 3
    assert shown(store=world.jp_store.pk) == [("Acme JP", "SNOWTOX-SERUM", "LS228800001-01-03")]
    assert [r[1] for r in shown(q="board")] == ["BOARD-1"]  # store SKU
    assert [r[2] for r in shown(q="-01-03")] == ["LS228800001-01-03"]  # Item ID
    assert len(shown(q="crystal treatment")) == 2  # product name
    assert "FOREIGN-SKU" not in operator.get(LIST_URL).content.decode()


def test_mapping_list_paginates(world, operator, settings):
    settings.PORTAL_PAGE_SIZE = 2
    for n in range(5):
        MappingFactory(store=world.us_store, store_sku=f"SKU-{n}", item=world.serum_us)
    first = operator.get(LIST_URL)
    assert len(first.context["rows"]) == 2 and first.context["page"].paginator.num_pages == 3
    last = operator.get(LIST_URL, {"page": 3})
    assert [m.store_sku for m in last.context["rows"]] == ["SKU-4"]


def test_mapping_list_query_count_does_not_grow_with_rows(world, operator, django_assert_num_queries):
    for n in range(3):
        MappingFactory(store=world.us_store, store_sku=f"SKU-{n}", item=world.serum_us)
    with django_assert_num_queries(LIST_QUERIES):
        operator.get(LIST_URL)
    for n in range(3, 30):
        other = ItemFactory(warehouse=world.us)
        MappingFactory(store=world.jp_store if n % 2 else world.us_store, store_sku=f"SKU-{n}", item=other)
    with django_assert_num_queries(LIST_QUERIES):
        response = operator.get(LIST_URL)
    assert len(response.context["rows"]) == 30


def test_unmapped_list_query_count_does_not_grow_with_rows(world, operator, django_assert_num_queries):
    SeenSkuFactory(store=world.us_store, sku="LS228800001-01-01")
    with django_assert_num_queries(UNMAPPED_QUERIES):
        operator.get(LIST_URL, {"status": "unmapped"})
    for n in range(20):
        SeenSkuFactory(store=world.jp_store if n % 2 else world.us_store, sku=f"SEEN-{n}")
        SeenSkuFactory(store=world.us_store, sku=ItemFactory(warehouse=world.us).item_id)
    with django_assert_num_queries(UNMAPPED_QUERIES):
        response = operator.get(LIST_URL, {"status": "unmapped"})
    assert len(response.context["rows"]) == 41


def test_mapping_list_tabs_count_mapped_and_unmapped(world, operator):
    MappingFactory(store=world.us_store, store_sku="SERUM", item=world.serum_us)
    SeenSkuFactory(store=world.us_store, sku="SERUM")  # seen and mapped: not in the queue
    SeenSkuFactory(store=world.us_store, sku="GIFT-BOX", waiting_orders=3, title="Holiday gift box")
    response = operator.get(LIST_URL, {"status": "unmapped"})
    assert response.context["counts"] == {"mapped": 1, "unmapped": 1, "not_supplied": 0}
    html = response.content.decode()
    assert "GIFT-BOX" in html and "Holiday gift box" in html and ">3</span>" in html


# --- [Add] ------------------------------------------------------------------------------------


def test_mapping_add_saves_and_reports_waiting_orders(world, operator, django_capture_on_commit_callbacks):
    SeenSkuFactory(store=world.us_store, sku="SNOWTOX-SERUM", waiting_orders=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(
            ADD_URL,
            {"store": world.us_store.pk, "store_sku": " SNOWTOX-SERUM ", "item_id": "ls228800001-01-01"},
            follow=True,
        )
    assert response.status_code == 200
    mapping = Mapping.objects.get()
    assert (mapping.store, mapping.store_sku, mapping.item) == (world.us_store, "SNOWTOX-SERUM", world.serum_us)
    html = response.content.decode()
    assert "now maps to LS228800001-01-01" in html and "2 orders waiting on this SKU" in html


def test_mapping_add_refuses_the_wrong_site_beside_the_item_field(world, operator):
    response = operator.post(
        ADD_URL, {"store": world.us_store.pk, "store_sku": "SNOWTOX-SERUM", "item_id": "LS228800001-01-03"}
    )
    assert response.status_code == 400
    assert "does not serve the store" in " ".join(response.context["form"].errors["item_id"])
    assert not Mapping.objects.exists()


def test_mapping_add_refuses_an_empty_sku_and_a_duplicate(world, operator):
    response = operator.post(ADD_URL, {"store": world.us_store.pk, "store_sku": "   ", "item_id": "VD100-01-01"})
    assert response.status_code == 400 and "store_sku" in response.context["form"].errors
    MappingFactory(store=world.us_store, store_sku="A", item=world.serum_us)
    response = operator.post(ADD_URL, {"store": world.us_store.pk, "store_sku": "A", "item_id": "VD100-01-01"})
    assert "already mapped" in " ".join(response.context["form"].errors["store_sku"])


def test_mapping_add_cannot_use_another_distributors_store(world, operator):
    foreign = StoreFactory(site="US")
    response = operator.post(ADD_URL, {"store": foreign.pk, "store_sku": "A", "item_id": "LS228800001-01-01"})
    assert response.status_code == 400 and "store" in response.context["form"].errors
    assert not Mapping.objects.exists()


def test_mapping_add_prefills_store_and_sku_from_the_link(world, operator):
    response = operator.get(ADD_URL, {"store": world.jp_store.pk, "sku": "GIFT"})
    form = response.context["form"]
    assert form.initial == {"store": world.jp_store.pk, "store_sku": "GIFT"}


def test_item_search_offers_only_items_whose_warehouse_serves_the_site(world, operator):
    url = reverse("mapping:item_search")
    us = operator.get(url, {"store": world.us_store.pk, "q": "snowtox"}).json()
    jp = operator.get(url, {"store": world.jp_store.pk, "q": "snowtox"}).json()
    assert [i["item_id"] for i in us["items"]] == ["LS228800001-01-01"]
    assert [i["item_id"] for i in jp["items"]] == ["LS228800001-01-03"]
    assert us["site"] == "US"
    everything = operator.get(url, {"store": world.us_store.pk}).json()
    assert {i["item_id"] for i in everything["items"]} == {"LS228800001-01-01", "VD100-01-01"}
    by_barcode = operator.get(url, {"store": world.us_store.pk, "q": "6900000000017"}).json()
    assert [i["item_id"] for i in by_barcode["items"]] == ["VD100-01-01"]


def test_item_and_sku_search_answer_404_for_another_tenants_store(world, operator):
    foreign = StoreFactory()
    assert operator.get(reverse("mapping:item_search"), {"store": foreign.pk}).status_code == 404
    assert operator.get(reverse("mapping:sku_search"), {"store": foreign.pk}).status_code == 404
    assert operator.get(reverse("mapping:item_search")).status_code == 404


def test_sku_search_offers_unmapped_skus_seen_in_the_stores_orders(world, operator):
    SeenSkuFactory(store=world.us_store, sku="SEEN-A", waiting_orders=2, title="Serum")
    SeenSkuFactory(store=world.us_store, sku="SEEN-B", waiting_orders=0)
    SeenSkuFactory(store=world.us_store, sku="MAPPED")
    MappingFactory(store=world.us_store, store_sku="MAPPED", item=world.serum_us)
    SeenSkuFactory(store=world.jp_store, sku="SEEN-JP")
    skus = operator.get(reverse("mapping:sku_search"), {"store": world.us_store.pk}).json()["skus"]
    assert [s["sku"] for s in skus] == ["SEEN-A", "SEEN-B"]
    assert skus[0]["label"] == "Serum · 2 orders waiting"


# --- edit and delete ---------------------------------------------------------------------------


def test_mapping_edit_changes_the_item_within_the_site_rule(world, operator):
    mapping = MappingFactory(store=world.us_store, store_sku="A", item=world.serum_us)
    url = reverse("mapping:mapping_edit", args=[mapping.pk])
    assert operator.get(url).context["form"].initial["item_id"] == "LS228800001-01-01"
    refused = operator.post(url, {"store_sku": "A", "item_id": "VD100-01-02"})
    assert refused.status_code == 400 and "DE-FRA" in refused.content.decode()
    response = operator.post(url, {"store_sku": "A", "item_id": "VD100-01-01", "platform_variant_id": "99"})
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert (mapping.item, mapping.platform_variant_id, mapping.store) == (world.board_us, "99", world.us_store)


def test_mapping_edit_ignores_a_posted_store(world, operator):
    mapping = MappingFactory(store=world.us_store, store_sku="A", item=world.serum_us)
    operator.post(
        reverse("mapping:mapping_edit", args=[mapping.pk]),
        {"store": world.jp_store.pk, "store_sku": "A", "item_id": "LS228800001-01-01"},
    )
    mapping.refresh_from_db()
    assert mapping.store == world.us_store


def test_mapping_delete_asks_then_deletes(world, operator):
    mapping = MappingFactory(store=world.us_store, store_sku="A", item=world.serum_us)
    url = reverse("mapping:mapping_delete", args=[mapping.pk])
    assert "Delete the mapping of A" in operator.get(url).content.decode()
    assert operator.post(url).status_code == 302
    assert not Mapping.objects.exists()


# --- who may do what ---------------------------------------------------------------------------


def test_suspended_distributor_reads_mappings_but_cannot_change_them(world, operator):
    mapping = MappingFactory(store=world.us_store, store_sku="A", item=world.serum_us)
    Distributor.objects.filter(pk=world.distributor.pk).update(status=Distributor.Status.SUSPENDED)
    assert operator.get(LIST_URL).status_code == 200
    assert (
        operator.post(ADD_URL, {"store": world.us_store.pk, "store_sku": "B", "item_id": "VD100-01-01"}).status_code
        == 403
    )
    assert operator.post(reverse("mapping:mapping_delete", args=[mapping.pk])).status_code == 403
    assert operator.post(IMPORT_URL, {"file": upload([["Acme US", "B", "VD100-01-01"]])}).status_code == 403
    assert list(Mapping.objects.values_list("store_sku", flat=True)) == ["A"]


def test_finance_members_cannot_open_the_mapping_pages(world, client_of):
    finance = client_of(MembershipFactory(distributor=world.distributor, role=Role.FINANCE))
    assert finance.get(LIST_URL).status_code == 403
    assert finance.get(IMPORT_URL).status_code == 403


# --- the unmapped queue --------------------------------------------------------------------------


def test_unmapped_sku_is_mapped_in_place(world, operator, django_capture_on_commit_callbacks):
    seen = SeenSkuFactory(store=world.jp_store, sku="SERUM-JP", waiting_orders=5)
    next_url = f"{LIST_URL}?status=unmapped&store={world.jp_store.pk}"
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(
            reverse("mapping:seensku_map", args=[seen.pk]), {"item_id": "LS228800001-01-03", "next": next_url}
        )
    assert response.status_code == 302 and response["Location"] == next_url
    assert Mapping.objects.get().item == world.serum_jp
    page = operator.get(next_url)
    assert page.context["counts"]["unmapped"] == 0
    assert "5 orders waiting on this SKU are being checked again" in page.content.decode()


def test_unmapped_sku_map_in_place_refuses_the_wrong_site(world, operator):
    seen = SeenSkuFactory(store=world.jp_store, sku="SERUM-JP")
    response = operator.post(
        reverse("mapping:seensku_map", args=[seen.pk]), {"item_id": "LS228800001-01-01"}, follow=True
    )
    assert "SERUM-JP was not mapped" in response.content.decode()
    assert not Mapping.objects.exists()


def test_unmapped_list_offers_a_suggestion_and_accepts_it(world, operator):
    seen = SeenSkuFactory(store=world.us_store, sku="LS228800001-01-03")
    html = operator.get(LIST_URL, {"status": "unmapped"}).content.decode()
    assert "Suggested:" in html and "LS228800001-01-01" in html and "Accept all suggestions" in html
    operator.post(reverse("mapping:seensku_accept", args=[seen.pk]))
    mapping = Mapping.objects.get()
    assert (mapping.store_sku, mapping.item, mapping.source) == ("LS228800001-01-03", world.serum_us, "suggestion")


def test_unmapped_list_accept_all_suggestions(world, operator):
    SeenSkuFactory(store=world.us_store, sku="VD100")
    SeenSkuFactory(store=world.jp_store, sku="LS228800001-01-01")
    SeenSkuFactory(store=world.us_store, sku="OWN-SKU")
    response = operator.post(reverse("mapping:suggestions_accept_all"), follow=True)
    assert "2 suggestions accepted" in response.content.decode()
    assert Mapping.objects.count() == 2
    assert SeenSku.objects.count() == 3


def test_unmapped_accept_all_refuses_another_tenants_store(world, operator):
    SeenSkuFactory(store=world.us_store, sku="VD100")
    response = operator.post(reverse("mapping:suggestions_accept_all"), {"store": StoreFactory().pk})
    assert response.status_code == 404
    assert not Mapping.objects.exists()


# --- [Batch Import] --------------------------------------------------------------------------------


def test_batch_import_upload_shows_the_preview_then_confirm_applies(world, operator):
    MappingFactory(store=world.us_store, store_sku="MOVE", item=world.serum_us)
    rows = [
        ["Acme US", "NEW", "LS228800001-01-01"],
        ["Acme US", "MOVE", "VD100-01-01"],
        ["Acme US", "WRONG-SITE", "LS228800001-01-03"],
        ["Acme US", "", "LS228800001-01-01"],
        ["Nowhere Shop", "X", "LS228800001-01-01"],
        ["Acme US", "Y", "LS000000000-01-01"],
        ["Acme JP", "TWICE", "LS228800001-01-03"],
        ["Acme JP", "TWICE", "LS228800001-01-03"],
    ]
    response = operator.post(IMPORT_URL, {"file": upload(rows)})
    mapping_import = MappingImport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("mapping:import_detail", args=[mapping_import.pk])
    page = operator.get(response["Location"])
    html = page.content.decode()
    assert 'data-count="new">1<' in html and 'data-count="changed">1<' in html and 'data-count="rejected">6<' in html
    assert "does not serve the store" in html and "The store SKU is empty." in html
    assert "Unknown store “Nowhere Shop”" in html and "Unknown Item ID “LS000000000-01-01”" in html
    assert html.count("appears more than once for this store in the file (rows 8, 9)") == 2
    assert Mapping.objects.get().item == world.serum_us  # nothing applied yet

    confirmed = operator.post(reverse("mapping:import_confirm", args=[mapping_import.pk]), follow=True)
    assert "Applied: 1 new and 1 changed mappings." in confirmed.content.decode()
    assert set(Mapping.objects.values_list("store_sku", "item__item_id")) == {
        ("NEW", "LS228800001-01-01"),
        ("MOVE", "VD100-01-01"),
    }
    again = operator.post(reverse("mapping:import_confirm", args=[mapping_import.pk]), follow=True)
    assert "already applied" in again.content.decode()
    assert Mapping.objects.count() == 2


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (SimpleUploadedFile("mappings.xls", b"\xd0\xcf\x11\xe0 old excel"), "is not an Excel workbook (.xlsx)"),
        (
            SimpleUploadedFile("mappings.xlsx", xlsx_bytes([["Acme US", "A"]], headers=["Store", "SKU"])),
            "Columns missing",
        ),
    ],
)
def test_batch_import_refuses_a_bad_file_on_the_form(world, operator, file, message):
    response = operator.post(IMPORT_URL, {"file": file})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors["file"])
    assert not MappingImport.objects.exists()


def test_batch_import_refuses_a_file_over_the_row_limit_on_the_form(world, operator, monkeypatch):
    from mapping import xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)  # the real 100,000 is pinned in test_mapping_import
    response = operator.post(IMPORT_URL, {"file": upload([["Acme US", f"S{n}", "VD100-01-01"] for n in range(4)])})
    assert "more than 3 rows" in " ".join(response.context["form"].errors["file"])
    assert not MappingImport.objects.exists()


def test_batch_import_large_file_shows_a_progress_bar_that_survives_a_reload(
    world, operator, settings, django_capture_on_commit_callbacks
):
    settings.MAPPING_IMPORT_INLINE_ROWS = 2
    rows = [["Acme US", f"SKU-{n}", "LS228800001-01-01"] for n in range(5)]
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = operator.post(IMPORT_URL, {"file": upload(rows)})
    mapping_import = MappingImport.objects.get()
    detail = operator.get(response["Location"])
    html = detail.content.decode()
    assert "data-progress-url" in html and "Checking rows" in html
    progress_url = reverse("mapping:import_progress", args=[mapping_import.pk])
    assert operator.get(progress_url).json()["running"] is True
    for callback in queued:  # the commit: the task runs (eagerly)
        callback()
    state = operator.get(progress_url).json()
    assert (state["status"], state["running"], state["percent"], state["counts"]["new"]) == ("previewed", False, 100, 5)
    assert "data-progress-url" not in operator.get(response["Location"]).content.decode()


def test_batch_import_rejected_rows_download(world, operator):
    operator.post(
        IMPORT_URL, {"file": upload([["Acme US", "A", "LS228800001-01-03"], ["Acme US", "B", "VD100-01-01"]])}
    )
    mapping_import = MappingImport.objects.get()
    response = operator.get(reverse("mapping:import_rejects", args=[mapping_import.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "mappings-rejected-rows.xlsx" in response["Content-Disposition"]
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][-1] == "Reason" and len(rows) == 2 and rows[1][0] == 2


def test_batch_import_template_and_export_downloads(world, operator):
    MappingFactory(store=world.us_store, store_sku="A", item=world.serum_us)
    template = operator.get(reverse("mapping:import_template"))
    stores = load_workbook(io.BytesIO(template.content))["Stores"]
    assert {row[1] for row in stores.iter_rows(min_row=2, values_only=True)} == {"Acme US", "Acme JP"}
    export = operator.get(reverse("mapping:mapping_export"))
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("Acme US", "A", "LS228800001-01-01")
    assert operator.get(reverse("mapping:mapping_export"), {"store": StoreFactory().pk}).status_code == 404


def test_batch_import_page_lists_only_own_imports(world, operator):
    from tests.mapping.factories import MappingImportFactory

    MappingImportFactory(distributor=world.distributor, original_name="mine.xlsx")
    MappingImportFactory(original_name="theirs.xlsx")
    html = operator.get(IMPORT_URL).content.decode()
    assert "mine.xlsx" in html and "theirs.xlsx" not in html
