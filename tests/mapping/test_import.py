"""[Batch Import] through the services: preview counts, each bad input with its reason,
nothing applied before confirm, apply in one transaction and only once, the background
path with its progress, and the xlsx files (template, rejected rows, export)."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from distribution.errors import ApplicationError
from mapping import selectors, services, xlsx
from mapping.models import Mapping, MappingImport
from mapping.signals import mappings_changed
from tests.distribution.factories import owner_of
from tests.mapping.factories import MappingFactory
from tests.mapping.test_world import upload, world_fixture, xlsx_bytes  # noqa: F401  (the `world` fixture)
from tests.stores.factories import StoreFactory

Status = MappingImport.Status


def _reasons(mapping_import) -> dict[int, str]:
    return {row[0]: row[6] for row in mapping_import.rejected_rows}


def _preview(world, rows, **kwargs) -> MappingImport:
    return MappingImport.objects.get(
        pk=services.mapping_import_upload(actor=world.owner, file=upload(rows, **kwargs)).pk
    )


# --- preview ------------------------------------------------------------------------------------


def test_import_preview_counts_new_changed_unchanged_rejected_and_writes_nothing(world):
    MappingFactory(store=world.us_store, store_sku="KEEP", item=world.serum_us)
    MappingFactory(store=world.us_store, store_sku="MOVE", item=world.serum_us)
    mapping_import = _preview(
        world,
        [
            ["Acme US", "NEW-1", "LS228800001-01-01", "8123", "4567"],
            ["acme jp", " NEW-2 ", "ls228800001-01-03"],  # store name in any case; SKU trimmed; Item ID upper-cased
            ["Acme US", "KEEP", "LS228800001-01-01"],
            ["Acme US", "MOVE", "VD100-01-01"],
            ["Acme US", "BAD", "LS228800001-01-03"],
        ],
    )
    assert mapping_import.status == Status.PREVIEWED
    counts = (mapping_import.new_count, mapping_import.changed_count, mapping_import.unchanged_count)
    assert counts == (2, 1, 1)
    assert mapping_import.rejected_count == 1 and set(_reasons(mapping_import)) == {6}
    assert mapping_import.changes_sample == [[5, "Acme US", "MOVE", "LS228800001-01-01", "VD100-01-01"]]
    assert mapping_import.processed_rows == mapping_import.total_rows == 5
    # nothing applied until confirmed
    assert set(Mapping.objects.values_list("store_sku", "item__item_id")) == {
        ("KEEP", "LS228800001-01-01"),
        ("MOVE", "LS228800001-01-01"),
    }


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["Nowhere Shop", "A", "LS228800001-01-01"], "Unknown store “Nowhere Shop”"),
        (["", "A", "LS228800001-01-01"], "The store is empty."),
        (["Acme US", "A", "LS999-01-01"], "Unknown Item ID “LS999-01-01”"),
        (["Acme US", "A", ""], "The Item ID is empty."),
        (["Acme US", "A", "LS228800001-01-03"], "does not serve the store's site (US). Map it to LS228800001-01-01"),
        (["Acme JP", "A", "LS228800001-01-01"], "does not serve the store's site (JP). Map it to LS228800001-01-03"),
        (["Acme US", "   ", "LS228800001-01-01"], "The store SKU is empty."),
        (["Acme US", "A" * 101, "LS228800001-01-01"], "longer than 100 characters"),
        (["Acme US", "A", "LS228800001-01-01", "9" * 65], "platform product ID is longer than 64"),
    ],
)
def test_import_preview_rejects_a_bad_row_with_its_reason(world, row, reason):
    mapping_import = _preview(world, [["Acme US", "GOOD", "VD100-01-01"], row])
    assert mapping_import.new_count == 1
    assert list(_reasons(mapping_import)) == [3]  # the Excel row number: the header is row 1
    assert reason in _reasons(mapping_import)[3]


def test_import_preview_rejects_another_distributors_store_as_unknown(world):
    StoreFactory(distributor=owner_of().distributor, name="Their Shop")
    mapping_import = _preview(world, [["Their Shop", "A", "LS228800001-01-01"]])
    assert "Unknown store" in _reasons(mapping_import)[2]


def test_import_preview_accepts_the_store_number_and_explains_an_ambiguous_name(world):
    twin = StoreFactory(distributor=world.distributor, name="Acme US", site="US")
    mapping_import = _preview(
        world,
        [
            ["Acme US", "A", "LS228800001-01-01"],
            [str(twin.pk), "B", "LS228800001-01-01"],
            [float(twin.pk), "C", "VD100-01-01"],
        ],
    )
    assert "Several of your stores are called “Acme US”" in _reasons(mapping_import)[2]
    assert mapping_import.new_count == 2


def test_import_preview_reports_both_rows_of_a_sku_given_twice(world):
    mapping_import = _preview(
        world,
        [
            ["Acme US", "TWICE", "LS228800001-01-01"],
            ["Acme JP", "TWICE", "LS228800001-01-03"],  # another store: fine
            ["Acme US", " TWICE", "VD100-01-01"],  # the same SKU once trimmed
        ],
    )
    reasons = _reasons(mapping_import)
    assert set(reasons) == {2, 4}
    assert all("appears more than once" in reason and "rows 2, 4" in reason for reason in reasons.values())
    assert mapping_import.new_count == 1


def test_import_preview_reads_numbers_typed_into_cells_as_text(world):
    mapping_import = _preview(world, [["Acme US", 12345, "LS228800001-01-01", 8123456789012, 42.0]])
    services.mapping_import_confirm(actor=world.owner, mapping_import=mapping_import)
    mapping = Mapping.objects.get()
    assert (mapping.store_sku, mapping.platform_product_id, mapping.platform_variant_id) == (
        "12345",
        "8123456789012",
        "42",
    )


def test_import_preview_finds_columns_by_name_in_any_order_and_skips_blank_rows(world):
    headers = ["Item ID", "notes", "STORE SKU ", "store"]
    rows = [["LS228800001-01-01", "x", "A", "Acme US"], [None, None, None, None], ["VD100-01-01", "", "B", "Acme US"]]
    mapping_import = _preview(world, rows, headers=headers)
    assert (mapping_import.total_rows, mapping_import.new_count, mapping_import.rejected_count) == (2, 2, 0)


# --- bad files: refused as a whole, nothing stored ----------------------------------------------


def _upload_refused(world, file) -> str:
    with pytest.raises(xlsx.FileRejected) as excinfo:
        services.mapping_import_upload(actor=world.owner, file=file)
    assert not MappingImport.objects.exists()
    return str(excinfo.value)


def test_import_upload_refuses_a_file_that_is_not_xlsx(world):
    message = _upload_refused(world, SimpleUploadedFile("mappings.csv", b"Store,Store SKU,Item ID\n"))
    assert "is not an Excel workbook (.xlsx)" in message
    renamed = SimpleUploadedFile("mappings.xlsx", b"Store,Store SKU,Item ID\nAcme US,A,LS228800001-01-01\n")
    assert "is not an Excel workbook" in _upload_refused(world, renamed)
    broken_zip = SimpleUploadedFile("mappings.xlsx", b"PK\x03\x04 this is no workbook")
    assert "could not be read" in _upload_refused(world, broken_zip)


def test_import_upload_refuses_missing_columns(world):
    message = _upload_refused(world, upload([["Acme US", "A"]], headers=["Store", "SKU"]))
    assert "Columns missing: Store SKU, Item ID" in message


def test_import_upload_refuses_an_empty_file(world):
    assert "no rows" in _upload_refused(world, upload([], headers=xlsx.COLUMNS))
    assert "empty" in _upload_refused(world, upload([], headers=None))


def test_import_upload_refuses_more_than_100000_rows(world):
    rows = (["Acme US", f"SKU-{n}", "LS228800001-01-01"] for n in range(100_001))
    message = _upload_refused(world, upload(rows, headers=["Store", "Store SKU", "Item ID"]))
    assert "more than 100,000 rows" in message


# --- apply --------------------------------------------------------------------------------------


def test_import_confirm_applies_in_one_go_and_a_second_confirm_changes_nothing(
    world, django_capture_on_commit_callbacks
):
    MappingFactory(store=world.us_store, store_sku="MOVE", item=world.serum_us, platform_product_id="OLD")
    received = []

    def receiver(sender, store, skus, **kwargs):
        received.append((store.name, skus))

    mapping_import = _preview(
        world,
        [
            ["Acme US", "NEW", "LS228800001-01-01", "P1", "V1"],
            ["Acme US", "MOVE", "VD100-01-01"],  # blank platform ids keep the saved ones
            ["Acme JP", "NEW", "LS228800001-01-01"],  # rejected: wrong site
        ],
    )
    mappings_changed.connect(receiver, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            applied = services.mapping_import_confirm(actor=world.operator, mapping_import=mapping_import)
    finally:
        mappings_changed.disconnect(receiver)
    assert applied.status == Status.APPLIED
    assert (applied.new_count, applied.changed_count, applied.rejected_count) == (1, 1, 1)
    assert applied.applied_by == world.operator.user
    rows = set(
        Mapping.objects.values_list("store__name", "store_sku", "item__item_id", "platform_product_id", "source")
    )
    assert rows == {
        ("Acme US", "NEW", "LS228800001-01-01", "P1", "import"),
        ("Acme US", "MOVE", "VD100-01-01", "OLD", "manual"),
    }
    assert received == [("Acme US", ("MOVE", "NEW"))]
    new = Mapping.objects.get(store_sku="NEW")
    moved = Mapping.objects.get(store_sku="MOVE")
    assert new.created_by == world.operator.user and new.created_at and new.updated_at
    assert moved.updated_at > moved.created_at
    # confirm again: answered clearly, nothing written
    with pytest.raises(services.ImportAlreadyApplied, match="already applied"):
        services.mapping_import_confirm(actor=world.operator, mapping_import=applied)
    assert services.mapping_import_apply(actor=world.operator, mapping_import=applied).status == Status.APPLIED
    assert Mapping.objects.count() == 2


def test_import_apply_checks_rows_again_against_the_database(world):
    mapping_import = _preview(world, [["Acme US", "A", "LS228800001-01-01"], ["Acme US", "B", "VD100-01-01"]])
    world.board_us.is_active = False  # retired between preview and confirm
    world.board_us.save()
    applied = services.mapping_import_confirm(actor=world.owner, mapping_import=mapping_import)
    assert (applied.new_count, applied.rejected_count) == (1, 1)
    assert "no longer available" in _reasons(applied)[3]
    assert list(Mapping.objects.values_list("store_sku", flat=True)) == ["A"]


def test_import_apply_reads_the_rows_the_preview_kept_and_the_file_when_they_are_gone(world, monkeypatch):
    rows = [
        ["Acme US", 12345, "LS228800001-01-01", 8123456789012, ""],  # numbers typed into cells
        ["Acme US", " B ", "vd100-01-01", "", "V-9"],
        ["Acme US", "C", "NOPE-01-01"],
    ]
    kept = _preview(world, rows)
    assert kept.rows_name and kept.file.storage.exists(kept.rows_name)
    again = _preview(world, rows)
    again.file.storage.delete(again.rows_name)
    reads = []
    monkeypatch.setattr(services, "read_rows", lambda file: reads.append(file) or xlsx.read_rows(file))
    applied = services.mapping_import_confirm(actor=world.owner, mapping_import=kept)
    assert reads == []  # the kept rows, not the workbook
    assert (applied.new_count, applied.rejected_count) == (2, 1)
    assert set(
        Mapping.objects.values_list("store_sku", "item__item_id", "platform_product_id", "platform_variant_id")
    ) == {
        ("12345", "LS228800001-01-01", "8123456789012", ""),
        ("B", "VD100-01-01", "", "V-9"),
    }
    assert applied.rejected_rows == kept.rejected_rows
    Mapping.objects.all().delete()
    applied = services.mapping_import_confirm(actor=world.owner, mapping_import=again)
    assert len(reads) == 1  # the kept rows were gone: the workbook was read again, to the same verdict
    assert (applied.new_count, applied.rejected_count) == (2, 1)
    assert Mapping.objects.count() == 2


def test_rows_that_cannot_be_kept_leave_the_preview_as_it_is_and_apply_reads_the_file(world, monkeypatch):
    from django.core.files.storage import FileSystemStorage

    save = FileSystemStorage.save

    def full_disk(self, name, content, **kwargs):
        if name.endswith(".rows.json"):
            raise OSError("No space left on device")
        return save(self, name, content, **kwargs)

    monkeypatch.setattr(FileSystemStorage, "save", full_disk)
    previewed = _preview(world, [["Acme US", "A", "LS228800001-01-01"]])
    assert (previewed.status, previewed.new_count, previewed.rows_name) == (Status.PREVIEWED, 1, "")
    applied = services.mapping_import_confirm(actor=world.owner, mapping_import=previewed)
    assert applied.status == Status.APPLIED and Mapping.objects.get().store_sku == "A"


def test_import_apply_writes_all_or_nothing(world, monkeypatch):
    mapping_import = _preview(world, [["Acme US", "A", "LS228800001-01-01"], ["Acme US", "B", "VD100-01-01"]])

    def fail_after_writing(affected):
        assert Mapping.objects.count() == 2  # written, in the transaction
        raise ApplicationError("disk full")

    monkeypatch.setattr(services, "_announce", fail_after_writing)
    with pytest.raises(ApplicationError, match="disk full"):
        services.mapping_import_confirm(actor=world.owner, mapping_import=mapping_import)
    assert not Mapping.objects.exists()
    mapping_import.refresh_from_db()
    assert (mapping_import.status, mapping_import.error_message) == (Status.PREVIEWED, "disk full")


def test_import_apply_refuses_a_sku_mapped_meanwhile_and_can_be_confirmed_again(world, monkeypatch):
    mapping_import = _preview(world, [["Acme US", "A", "LS228800001-01-01"], ["Acme US", "B", "VD100-01-01"]])
    from mapping import importer

    real_plan = importer.plan_rows

    def plan_then_race(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        Mapping.objects.create(store=world.us_store, store_sku="B", item=world.board_us)  # someone else, meanwhile
        return plan

    monkeypatch.setattr(services, "plan_rows", plan_then_race)
    with pytest.raises(ApplicationError, match="mapped by someone else meanwhile"):
        services.mapping_import_confirm(actor=world.owner, mapping_import=mapping_import)
    assert not Mapping.objects.exists()
    mapping_import.refresh_from_db()
    assert mapping_import.status == Status.PREVIEWED
    monkeypatch.setattr(services, "plan_rows", real_plan)
    assert services.mapping_import_confirm(actor=world.owner, mapping_import=mapping_import).new_count == 2


def test_import_confirm_with_nothing_to_apply_is_refused(world):
    mapping_import = _preview(world, [["Acme US", "A", "LS228800001-01-03"]])
    with pytest.raises(ApplicationError, match="Nothing to apply"):
        services.mapping_import_confirm(actor=world.owner, mapping_import=mapping_import)


def test_import_confirm_refused_to_another_distributor_and_when_suspended(world):
    mapping_import = _preview(world, [["Acme US", "A", "LS228800001-01-01"]])
    with pytest.raises(ApplicationError, match="another distributor"):
        services.mapping_import_confirm(actor=owner_of(), mapping_import=mapping_import)
    world.distributor.status = world.distributor.Status.SUSPENDED
    world.distributor.save()
    world.owner.distributor.refresh_from_db()
    with pytest.raises(ApplicationError, match="suspended"):
        services.mapping_import_confirm(actor=world.owner, mapping_import=mapping_import)
    assert not Mapping.objects.exists()


# --- large files: a worker does it, with progress on the row ------------------------------------


def test_import_large_file_previews_and_applies_in_tasks_with_progress(
    world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.MAPPING_IMPORT_INLINE_ROWS = 5
    from mapping import importer, tasks

    monkeypatch.setattr(importer, "CHUNK", 4)
    progress = []
    real_writer = services._progress_writer

    def spy(mapping_import):
        write = real_writer(mapping_import)

        def record(done):
            write(done)
            progress.append(MappingImport.objects.get(pk=mapping_import.pk).processed_rows)

        return record

    monkeypatch.setattr(services, "_progress_writer", spy)
    ran = []
    for task in (tasks.mapping_import_preview_task, tasks.mapping_import_apply_task):
        monkeypatch.setattr(task, "run", lambda *a, _run=task.run, _name=task.name: (ran.append(_name), _run(*a))[1])
    rows = [["Acme US", f"SKU-{n}", "LS228800001-01-01"] for n in range(10)]

    # when the file is uploaded, it is queued rather than checked in the request
    with django_capture_on_commit_callbacks(execute=False) as queued:
        mapping_import = services.mapping_import_upload(actor=world.owner, file=upload(rows))
    assert MappingImport.objects.get(pk=mapping_import.pk).status == Status.PREVIEWING
    assert len(queued) == 1 and ran == []
    queued[0]()  # the commit: the (eager) task runs
    mapping_import.refresh_from_db()
    assert ran == ["mapping.tasks.mapping_import_preview_task"]
    assert mapping_import.status == Status.PREVIEWED and mapping_import.new_count == 10
    assert progress == [4, 8, 10]

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = services.mapping_import_confirm(actor=world.owner, mapping_import=mapping_import)
    assert confirmed.status == Status.APPLYING  # answered at once; the worker applies
    mapping_import.refresh_from_db()
    assert ran[-1] == "mapping.tasks.mapping_import_apply_task"
    assert mapping_import.status == Status.APPLIED
    assert Mapping.objects.count() == 10


def test_import_task_runs_again_without_doing_anything_twice(world, settings, django_capture_on_commit_callbacks):
    from mapping import tasks

    settings.MAPPING_IMPORT_INLINE_ROWS = 1
    with django_capture_on_commit_callbacks(execute=True):
        mapping_import = services.mapping_import_upload(
            actor=world.owner, file=upload([["Acme US", "A", "LS228800001-01-01"], ["Acme US", "B", "VD100-01-01"]])
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.mapping_import_confirm(actor=world.owner, mapping_import=mapping_import)
    # a redelivered message (worker lost after finishing) runs each task again
    tasks.mapping_import_preview_task.apply(args=[mapping_import.pk])
    tasks.mapping_import_apply_task.apply(args=[mapping_import.pk, world.owner.pk])
    mapping_import.refresh_from_db()
    assert mapping_import.status == Status.APPLIED and Mapping.objects.count() == 2


def test_import_task_records_a_failure_on_the_row(world, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.MAPPING_IMPORT_INLINE_ROWS = 1
    monkeypatch.setattr(services, "plan_rows", lambda *a, **k: 1 / 0)
    with django_capture_on_commit_callbacks(execute=True):
        mapping_import = services.mapping_import_upload(
            actor=world.owner, file=upload([["Acme US", "A", "LS228800001-01-01"], ["Acme US", "B", "VD100-01-01"]])
        )
    mapping_import.refresh_from_db()
    assert mapping_import.status == Status.FAILED
    assert "unexpected error" in mapping_import.error_message


def test_import_resume_restarts_only_a_stale_import(world, settings, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    settings.MAPPING_IMPORT_INLINE_ROWS = 1
    with django_capture_on_commit_callbacks(execute=False):
        mapping_import = services.mapping_import_upload(
            actor=world.owner, file=upload([["Acme US", "A", "LS228800001-01-01"], ["Acme US", "B", "VD100-01-01"]])
        )  # the task is lost: never run
    with pytest.raises(ApplicationError, match="not stuck"):
        services.mapping_import_resume(actor=world.owner, mapping_import=mapping_import)
    MappingImport.objects.filter(pk=mapping_import.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        services.mapping_import_resume(actor=world.owner, mapping_import=mapping_import)
    mapping_import.refresh_from_db()
    assert mapping_import.status == Status.PREVIEWED and mapping_import.new_count == 2


# --- files ----------------------------------------------------------------------------------------


def test_import_template_has_the_columns_and_the_stores(world):
    stores = [(world.jp_store.pk, "Acme JP", "Amazon", "JP"), (world.us_store.pk, "Acme US", "Shopify", "US")]
    workbook = load_workbook(io.BytesIO(xlsx.template_bytes(stores)))
    assert workbook.sheetnames[:2] == ["Mappings", "Stores"]
    assert [c.value for c in workbook["Mappings"][1]] == xlsx.COLUMNS
    assert workbook["Mappings"].max_row == 1  # no example row that would be imported by mistake
    assert [c.value for c in workbook["Stores"][3]] == [world.us_store.pk, "Acme US", "Shopify", "US"]


def test_import_rejected_rows_file_has_a_reason_column(world):
    mapping_import = _preview(world, [["Acme US", "A", "LS228800001-01-03"], ["Nowhere", "B", "X-01-01"]])
    sheet = load_workbook(io.BytesIO(xlsx.rejects_bytes(mapping_import.rejected_rows))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Row", *xlsx.COLUMNS, "Reason")
    assert [row[:4] for row in rows[1:]] == [(2, "Acme US", "A", "LS228800001-01-03"), (3, "Nowhere", "B", "X-01-01")]
    assert "JP-TYO" in rows[1][-1] and "Unknown store" in rows[2][-1]


def test_import_export_can_be_imported_back_unchanged(world):
    MappingFactory(store=world.us_store, store_sku="A", item=world.serum_us, platform_product_id="P")
    MappingFactory(store=world.jp_store, store_sku="A", item=world.serum_jp)
    content = xlsx.export_bytes(selectors.mapping_export_rows(distributor=world.distributor))
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == tuple(xlsx.COLUMNS)
    assert {row[:4] for row in rows[1:]} == {
        ("Acme US", "A", "LS228800001-01-01", "P"),
        ("Acme JP", "A", "LS228800001-01-03", None),
    }
    again = services.mapping_import_upload(actor=world.owner, file=SimpleUploadedFile("export.xlsx", content))
    again.refresh_from_db()
    assert (again.unchanged_count, again.new_count, again.changed_count, again.rejected_count) == (2, 0, 0, 0)


def test_import_files_keep_a_sku_that_looks_like_a_formula_as_text(world):
    MappingFactory(store=world.us_store, store_sku="=1+2", item=world.serum_us)
    content = xlsx.export_bytes(selectors.mapping_export_rows(distributor=world.distributor))
    sheet = load_workbook(io.BytesIO(content)).active
    assert (sheet["B2"].value, sheet["B2"].data_type) == ("=1+2", "s")
    _columns, rows = xlsx.read_rows(io.BytesIO(content))
    assert rows[0].sku == "=1+2"
