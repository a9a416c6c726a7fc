"""distribution.spreadsheet: every limit refused with its message before calamine reads a
byte of the sheet, CSV read as Excel writes it in the encodings distributors' Excel saves
in, headers found by name in English or Chinese, and no file the platform writes with a
cell that runs as a formula."""

import codecs
import csv
import io
import re
import struct
import time
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from catalog.pack import product_sheet
from catalog.selectors import product_detail_queryset
from distribution import spreadsheet
from distribution.spreadsheet import FileRejected, Limits
from mapping import selectors as mapping_selectors
from mapping import xlsx as mappingfile
from mapping.importer import RowInput, plan_rows
from mapping.models import Mapping
from orders import demo as orders_demo
from orders.imports import format as orderfile
from orders.imports.services import order_import_check, order_import_create
from tests.catalog.factories import ItemFactory, ProductFactory, WarehouseFactory
from tests.distribution import xlsx_files as files
from tests.distribution.factories import UserFactory, owner_of
from tests.mapping.factories import MappingFactory
from tests.orders.factories import OrderFactory, OrderLineFactory
from tests.stores.factories import StoreFactory

LIMITS = Limits(
    what="a test file",
    max_rows=1_000,
    max_cells=20_000,
    max_file_bytes=10 << 20,
    max_part_bytes=4 << 20,
    max_total_bytes=6 << 20,
)
# What Excel would run, in each of its spellings; every export must keep them text.
FORMULAS = ["=1+1", "@SUM(1,1)", "+CMD", "-2+3"]


def read(content: bytes, limits: Limits = LIMITS, **kwargs) -> list[tuple[int, list]]:
    return list(spreadsheet.read_xlsx(io.BytesIO(content), limits=limits, **kwargs).rows)


def refused(content: bytes, limits: Limits = LIMITS, **kwargs) -> str:
    with pytest.raises(FileRejected) as excinfo:
        read(content, limits, **kwargs)
    return str(excinfo.value)


def one_sheet(rows: bytes, **kwargs) -> bytes:
    return files.workbook({"Sheet1": files.sheet_xml(files.HEADER_ROW + rows, **kwargs)})


# --- reading xlsx: what a normal file gives ---------------------------------------------------


def test_read_xlsx_gives_rows_with_the_numbers_excel_shows():
    rows = files.row(3, files.text_cell("A3", "Acme") + b'<c r="B3"><v>12</v></c>')
    content = files.workbook({"Sheet1": files.sheet_xml(files.row(2, files.text_cell("A2", "Store")) + rows)})
    numbered = [(number, values) for number, values in read(content) if any(values)]
    assert numbered == [(2, ["Store", ""]), (3, ["Acme", 12.0])]


def test_read_xlsx_reads_the_named_sheet_calamine_reads_and_scans_that_one():
    hostile = files.sheet_xml(files.HEADER_ROW + files.row(9, b'<c r="XFD9"><v>1</v></c>'))
    mappings = files.sheet_xml(files.row(1, files.text_cell("A1", "Store SKU")))
    content = files.workbook({"Notes": hostile, "Mappings": mappings})
    assert read(content, sheet_name="Mappings") == [(1, ["Store SKU"])]
    assert "column XFD" in refused(content)  # without the name, the first sheet is read: refused


def test_read_xlsx_finds_the_sheet_by_its_relationship_not_its_file_name():
    content = files.workbook(
        {"Sheet1": files.sheet_xml(files.HEADER_ROW)},
        extra=[("xl/worksheets/Sheet1.xml.bak", b"<junk/>")],
    )
    assert read(content)[0] == (1, ["Store", "Order No"])


# --- reading xlsx: each limit, refused with its message ---------------------------------------


def test_read_xlsx_refuses_a_cell_beyond_the_widest_column():
    assert refused(files.far_cell()) == "The sheet reaches column XFD; a test file has at most 64 columns."


def test_read_xlsx_refuses_a_cell_beyond_the_last_row():
    message = refused(one_sheet(files.row(5000, b'<c r="A5000"><v>1</v></c>')))
    assert message.startswith("The sheet reaches row 5,000; a test file has at most 1,000 rows.")


def test_read_xlsx_refuses_a_used_area_beyond_the_cell_budget():
    wide = files.row(900, b'<c r="AX900"><v>1</v></c>')  # 900 rows x 50 columns = 45,000 cells
    message = refused(one_sheet(wide))
    assert "spans 900 rows and 50 columns (45,000 cells); a test file may span at most 20,000 cells" in message


def test_read_xlsx_refuses_a_declared_size_beyond_the_limits():
    content = one_sheet(b"", head=b'<dimension ref="A1:XFD1048576"/>')
    assert refused(content) == "The sheet reaches column XFD; a test file has at most 64 columns."
    content = one_sheet(b"", head=b'<dimension ref="A1:Z900"/>')
    assert "spans 900 rows and 26 columns" in refused(content)


def test_read_xlsx_refuses_a_part_larger_than_the_part_limit():
    limits = Limits(**{**LIMITS.__dict__, "max_ratio": 10**6})
    content = one_sheet(b"", head=(b"<!-- " + b"x" * 1000 + b" -->") * 5000)  # 5 MB of comments
    assert "unpacks to more than 4 MB in one part (xl/worksheets/sheet1.xml)" in refused(content, limits)


def test_read_xlsx_refuses_a_part_that_inflates_beyond_the_ratio():
    content = one_sheet(b"", head=b"<!--" + b" " * (3 << 20) + b"-->")
    message = refused(content)
    assert "unpacks to more than 100 times its packed size, which no spreadsheet does" in message


def test_read_xlsx_refuses_an_archive_that_unpacks_beyond_the_total():
    parts = [(f"xl/media/image{n}.bin", bytes(range(256)) * 8192) for n in range(4)]  # 4 x 2 MB
    content = files.workbook(extra=parts, compression=zipfile.ZIP_STORED)
    assert refused(content) == "The file unpacks to more than 6 MB; split it into smaller files."


def _lie_about_size(content: bytes, name: str, size: int) -> bytes:
    """The archive with `name`'s uncompressed size rewritten, in its local header and the directory."""
    data = bytearray(content)
    struct.pack_into("<L", data, zipfile.ZipFile(io.BytesIO(content)).getinfo(name).header_offset + 22, size)
    for entry in re.finditer(rb"PK\x01\x02", content):
        length = struct.unpack_from("<H", data, entry.start() + 28)[0]
        if content[entry.start() + 46 : entry.start() + 46 + length] == name.encode():
            struct.pack_into("<L", data, entry.start() + 24, size)
    return bytes(data)


def test_read_xlsx_refuses_a_part_whose_declared_size_lies():
    content = _lie_about_size(files.far_cell(), "xl/worksheets/sheet1.xml", 200)
    assert "part xl/worksheets/sheet1.xml does not match its checksum" in refused(content)


def test_read_xlsx_refuses_a_document_type_declaration():
    message = refused(files.billion_laughs())
    assert message.startswith("The file contains an XML document type declaration (in xl/worksheets/sheet1.xml)")


def test_read_xlsx_refuses_a_cell_longer_than_excel_allows():
    limits = Limits(**{**LIMITS.__dict__, "max_ratio": 10_000})
    content = one_sheet(files.row(2, files.text_cell("B2", "A" * (3 << 20))))
    assert "holds more than 32,767 characters, more than Excel allows" in refused(content, limits)


def test_read_xlsx_refuses_more_parts_than_a_spreadsheet_has():
    content = files.workbook(extra=[(f"xl/media/{n}.png", b"") for n in range(1_000)])
    assert "holds more than 1,000 parts" in refused(content)


def test_read_xlsx_refuses_two_parts_whose_names_differ_only_in_case():
    content = files.workbook(extra=[("XL/Worksheets/Sheet1.xml", files.sheet_xml(b""))])
    assert "two parts named" in refused(content)


def test_read_xlsx_refuses_data_before_the_archive():
    content = b"\0" * 512 + files.workbook()
    assert "could not be read as an Excel workbook" in refused(content)


def test_read_xlsx_refuses_xml_that_is_not_utf8():
    sheet = files.sheet_xml(files.HEADER_ROW).decode().encode("utf-16")
    assert "is not UTF-8 XML" in refused(files.workbook({"Sheet1": sheet}))


def test_read_xlsx_refuses_more_shared_texts_than_cells():
    strings = b"<sst>" + b"<si><t>x</t></si>" * 20_001 + b"</sst>"
    content = files.workbook(strings=strings)
    assert "table of texts holds more than 20,000 entries" in refused(content)


def test_read_xlsx_refuses_what_is_not_a_workbook():
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w") as archive:
        archive.writestr("content.xml", b"<office/>")
    assert "has no workbook inside" in refused(content.getvalue())


@pytest.mark.parametrize(
    "cell",
    [
        b'<c r="A2" r="XFD2"><v>1</v></c>',  # calamine takes a cell's last r
        b'<c r="A2"r="XFD2"><v>1</v></c>',
        b'<c r="A2"\tr="XFD2"><v>1</v></c>',
        b'<c r="A2" r = "XFD2"><v>1</v></c>',
        b"<c r='A2' r='XFD2'><v>1</v></c>",
        b'<c s="1" r="XFD2"><v>1</v></c>',
        b'<c t=">" r="XFD2"><v>1</v></c>',
        b'<c r="A2" t="a&lt;b" x="<" r="XFD2"><v>1</v></c>',
        b'<x:c r="XFD2"><x:v>1</x:v></x:c>',  # calamine ignores prefixes
        b'<:c r="XFD2"><v>1</v></:c>',
        b'<c r="xfd2"><v>1</v></c>',  # and case
    ],
)
def test_read_xlsx_sees_every_way_calamine_would_place_a_cell(cell):
    assert "reaches column XFD" in refused(one_sheet(files.row(2, cell)))


def _workbook_with(rels: bytes, sheet: bytes = b'name="Sheet1" sheetId="1" r:id="rId1"') -> bytes:
    """Two sheets' parts, safe.xml and evil.xml (a cell at XFD1), and a workbook that names one of them."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", files.CONTENT_TYPES)
        archive.writestr("_rels/.rels", files.PACKAGE_RELS)
        archive.writestr(
            "xl/workbook.xml", files.workbook_xml(["Sheet1"]).replace(b'name="Sheet1" sheetId="1" r:id="rId1"', sheet)
        )
        archive.writestr("xl/_rels/workbook.xml.rels", b"<Relationships>" + rels + b"</Relationships>")
        archive.writestr("xl/worksheets/safe.xml", files.sheet_xml(files.HEADER_ROW))
        archive.writestr("xl/worksheets/evil.xml", files.sheet_xml(files.row(1, b'<c r="XFD1"><v>1</v></c>')))
    return out.getvalue()


SAFE = b'<Relationship Id="rId1" Type="x/worksheet" Target="worksheets/safe.xml"/>'
EVIL = b'<Relationship Id="rId2" Type="x/worksheet" Target="worksheets/evil.xml"/>'


def test_read_xlsx_scans_the_sheet_the_workbook_names():
    assert read(_workbook_with(SAFE + EVIL))[0] == (1, ["Store", "Order No"])
    assert "reaches column XFD" in refused(_workbook_with(SAFE + EVIL, b'name="Sheet1" r:id="rId2"'))


@pytest.mark.parametrize(
    ("rels", "sheet"),
    [
        (SAFE + EVIL.replace(b"rId2", b"rId1"), None),  # calamine takes the later of one Id
        (SAFE.replace(b'Target="', b'Target="worksheets/evil.xml" Target="'), None),  # and the first Target
        (SAFE + EVIL, b'name="Sheet1" r:id="rId1" r:id="rId2"'),  # and a sheet's last r:id
        (SAFE + EVIL, b'name="Sheet1" r:id="rId9"'),
    ],
)
def test_read_xlsx_refuses_a_workbook_that_could_name_two_sheets(rels, sheet):
    content = _workbook_with(rels, sheet) if sheet else _workbook_with(rels)
    assert "could not be read as an Excel workbook" in refused(content)


def test_read_xlsx_places_cells_without_a_reference_as_calamine_does():
    cells = b"<c><v>1</v></c>" * 70  # side by side from A: the 65th lands in column BM
    assert "reaches column BM" in refused(one_sheet(files.row(2, cells)))
    rows = b'<row r="1010"></row>' + b"<row><c><v>1</v></c></row>" * 5  # numbered on from 1,010
    assert "reaches row 1,012" in refused(one_sheet(rows))


def test_read_xlsx_counts_exactly_before_refusing_a_wide_sheet():
    # 60 columns x 300 rows = 18,000 cells: within the budget, though a loose bound says more.
    cells = b"".join(b'<c r="%s300"><v>1</v></c>' % spreadsheet.scan.column_letters(n).encode() for n in (1, 60))
    assert len(read(one_sheet(files.row(300, cells)))) == 300


def test_read_xlsx_scan_costs_less_than_calamine_on_a_10000_row_order_file(tmp_path):
    path = tmp_path / "orders.xlsx"
    book = spreadsheet.XlsxBook()
    rows = book.sheet("Orders", orderfile.COLUMNS)
    for n in range(10_000):
        rows.append(["Offline", f"F-{n:07d}", "2026-01-31", "SKU-1", 1, f"Buyer {n}", "+1 212", "b@example.com"])
    book.save(path)

    def best(work) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        return min(times)

    scan = best(lambda: spreadsheet.check_xlsx(str(path), limits=orderfile.ORDER_FILE_LIMITS))
    calamine = best(lambda: sum(1 for _ in CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).iter_rows()))
    assert scan < 0.75 * calamine, (scan, calamine)


# --- reading CSV -------------------------------------------------------------------------------


def read_csv(content: bytes, limits: Limits = LIMITS) -> tuple[list[list], str]:
    sheet = spreadsheet.read_csv(io.BytesIO(content), limits=limits)
    return [values for _number, values in sheet.rows], sheet.encoding


def test_read_csv_reads_doubled_quotes_quoted_commas_and_line_breaks_exactly():
    content = (
        b"Order No,Recipient,Address 1,City\r\n"
        b'A-1,"Ada ""The Countess"" Lovelace","12 Analytical Ave, Apt 3\nLondon",NY\r\n'
    )
    rows, encoding = read_csv(content)
    assert rows == [
        ["Order No", "Recipient", "Address 1", "City"],
        ["A-1", 'Ada "The Countess" Lovelace', "12 Analytical Ave, Apt 3\nLondon", "NY"],
    ]
    assert encoding == "UTF-8"


def test_read_csv_chooses_the_delimiter_by_counting_outside_quotes():
    rows, _encoding = read_csv(b'"Order No, as sent";Recipient;City\nA-1;Ada;"New York; NY"\n')
    assert rows == [["Order No, as sent", "Recipient", "City"], ["A-1", "Ada", "New York; NY"]]


def test_read_csv_reads_utf8_with_a_byte_order_mark():
    rows, encoding = read_csv("Order No,Recipient\nA-1,Zoë\n".encode("utf-8-sig"))
    assert rows == [["Order No", "Recipient"], ["A-1", "Zoë"]]
    assert encoding == "UTF-8 (with byte-order mark)"


def test_read_csv_reads_gbk_from_a_chinese_excel():
    text = "订单号,收件人,城市,详细地址\nA-1,张三,上海市,浦东新区世纪大道100号\nA-2,李四,北京市,朝阳区建国路88号\n"
    rows, encoding = read_csv(text.encode("gbk"))
    assert rows[1] == ["A-1", "张三", "上海市", "浦东新区世纪大道100号"]
    assert rows[2][1] == "李四"
    assert encoding == "GB18030 (Simplified Chinese, GBK)"


def test_read_csv_reads_utf16_unicode_text_with_its_byte_order_mark_and_tabs():
    text = "Order No\tRecipient\tCity\nA-1\tAda, Countess\tNew York\nA-2\t王芳\t深圳\n"
    rows, encoding = read_csv(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert rows == [["Order No", "Recipient", "City"], ["A-1", "Ada, Countess", "New York"], ["A-2", "王芳", "深圳"]]
    assert encoding == "UTF-16 LE (Excel's Unicode text)"


def test_read_csv_reads_shift_jis_from_a_japanese_excel():
    text = "Order No,Recipient,City\nJ-1,田中 太郎,東京都渋谷区\nJ-2,さとう はなこ,大阪市北区\nJ-3,鈴木 一郎,横浜市\n"
    rows, encoding = read_csv(text.encode("shift_jis"))
    assert [row[1] for row in rows[1:]] == ["田中 太郎", "さとう はなこ", "鈴木 一郎"]
    assert rows[1][2] == "東京都渋谷区"
    assert encoding == "Shift_JIS (Japanese)"


def test_read_csv_reads_windows_1252_from_a_western_excel():
    text = "Order No,Recipient,City\nD-1,Jürgen Müller,Köln\nF-1,José Lefèvre,Besançon\n"
    rows, encoding = read_csv(text.encode("cp1252"))
    assert rows[1:] == [["D-1", "Jürgen Müller", "Köln"], ["F-1", "José Lefèvre", "Besançon"]]
    assert encoding == "Windows-1252 (Western European)"


def test_read_csv_detects_the_same_encoding_every_time():
    content = "Order No,Recipient\nA-1,张伟\n".encode("gbk")
    assert {read_csv(content)[1] for _ in range(5)} == {"GB18030 (Simplified Chinese, GBK)"}


def test_read_csv_refuses_a_row_that_never_ends():
    content = b'Order No,Recipient\nA-1,"' + b"x" * 1_200_000 + b"\n"
    with pytest.raises(FileRejected, match="Row 2 of the file is longer than 1,000,000 characters"):
        read_csv(content)


def test_read_csv_refuses_a_huge_cell_with_its_row():
    content = b"Order No,Recipient\nA-1," + b"x" * 200_000 + b"\n"
    with pytest.raises(FileRejected, match="A cell in row 2 holds more than 32,767 characters"):
        read_csv(content)


def test_read_csv_refuses_too_many_columns_and_rows():
    with pytest.raises(FileRejected, match="Row 1 of the file has 65 columns; a test file has at most 64 columns."):
        read_csv(b",".join([b"x"] * 65) + b"\n")
    with pytest.raises(FileRejected, match="more than 1,000 rows"):
        read_csv(b"Order No\n" + b"A\n" * 1_100)


def test_read_csv_refuses_text_in_no_encoding_it_knows():
    with pytest.raises(FileRejected, match="encoding could not be recognised"):
        read_csv(b"Order No,Recipient\nA-1," + bytes(range(0x80, 0xFF)) * 4 + b"\n")


def test_read_csv_reads_back_what_our_writer_guarded():
    content = spreadsheet.csv_bytes(["Store", "Phone"], [["=1+1", "+81 3-5555-0101"]])
    rows, _encoding = read_csv(content)
    assert rows == [["Store", "Phone"], ["=1+1", "+81 3-5555-0101"]]


# --- headers -----------------------------------------------------------------------------------


def test_columns_match_ignoring_case_spaces_punctuation_and_width():
    found = orderfile.FILE_COLUMNS.find(["ORDER NO.", "order_no", " sku ", "Ｑｔｙ", "State / Province", "zip code"])
    assert found == {"Order No": 0, "SKU": 2, "Quantity": 3, "State/Province": 4, "Postcode": 5}
    found = mappingfile.FILE_COLUMNS.find(["store", "Store SKU*", "item-id", "Platform product ID (optional)"])
    assert found == {"Store": 0, "Store SKU": 1, "Item ID": 2, "Platform product ID": 3}


def test_columns_accept_the_chinese_headers_of_the_templates():
    found = orderfile.FILE_COLUMNS.find(
        ["店铺", "订单号", "店铺SKU", "数量", "收件人", "国家", "城市", "详细地址", "邮编"]
    )
    assert list(found) == [
        "Store",
        "Order No",
        "SKU",
        "Quantity",
        "Recipient",
        "Country",
        "City",
        "Address 1",
        "Postcode",
    ]
    assert mappingfile.FILE_COLUMNS.find(["店铺", "店铺SKU", "商品编号"]) == {"Store": 0, "Store SKU": 1, "Item ID": 2}


def test_columns_refuse_a_name_given_to_two_columns():
    with pytest.raises(ValueError, match="names both"):
        spreadsheet.Columns(["Order No", "Store"], {"Store": ["order no"]})


def test_excerpt_quotes_the_first_hundred_characters():
    assert spreadsheet.excerpt("A" * 30_000) == "A" * 100 + "…"
    assert spreadsheet.excerpt("short") == "short"


# --- writing: no cell of any file the platform writes runs -----------------------------------


def assert_no_formula(content: bytes) -> None:
    """Neither a formula element in any sheet's XML nor a formula cell as openpyxl reads it."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<f[\s>]", archive.read(name)), name
    workbook = load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)


def texts_of(content: bytes) -> set:
    workbook = load_workbook(io.BytesIO(content))
    return {
        cell.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "s"
    }


@pytest.fixture
def owner(db):
    return owner_of()


def test_order_export_writes_formulas_and_ids_as_text(owner, client):
    store = StoreFactory(distributor=owner.distributor, name="=1+1")
    order = OrderFactory(
        distributor=owner.distributor,
        store=store,
        recipient_name="@SUM(1,1)",
        recipient_phone="+CMD",
        address1="-2+3",
        address2='=HYPERLINK("http://evil.example","click")',
        postal_code="02134",
    )
    OrderLineFactory(order=order, item_code="LS228800001-01-01", store_sku="=1+1", quantity=2)
    client.force_login(owner.user)
    response = client.post(reverse("orders:order_list"), {"action": "export", "order_ids": [order.pk]})
    assert response.status_code == 200
    assert_no_formula(response.content)
    assert {*FORMULAS, '=HYPERLINK("http://evil.example","click")', "02134"} <= texts_of(response.content)
    sheet = load_workbook(io.BytesIO(response.content)).active
    postcode = sheet.cell(row=2, column=[c.value for c in sheet[1]].index("Postcode") + 1)
    assert (postcode.value, postcode.data_type, postcode.number_format) == ("02134", "s", "@")


def test_mapping_export_rejects_and_template_write_formulas_as_text(owner):
    warehouse = WarehouseFactory(code="US-CA", sites="US")
    store = StoreFactory(distributor=owner.distributor, name="-2+3", site="US")
    for sku in FORMULAS:
        MappingFactory(store=store, store_sku=sku, item=ItemFactory(warehouse=warehouse), platform_product_id="+CMD")
    exported = mappingfile.export_bytes(mapping_selectors.mapping_export_rows(distributor=owner.distributor))
    rejected = [[n, "=1+1", sku, "@SUM(1,1)", "+CMD", "-2+3", "why"] for n, sku in enumerate(FORMULAS, start=2)]
    rejects = mappingfile.rejects_bytes(rejected)
    template = mappingfile.template_bytes([(store.pk, "=1+1", "@SUM(1,1)", "-2+3")])
    for content in (exported, rejects, template):
        assert_no_formula(content)
    assert set(FORMULAS) <= texts_of(exported)
    assert set(FORMULAS) <= texts_of(rejects)
    assert {"=1+1", "@SUM(1,1)", "-2+3"} <= texts_of(template)


def test_order_templates_write_formulas_as_text():
    for store_name in FORMULAS:
        content = orderfile.template_xlsx(store_name=store_name)
        assert_no_formula(content)
        assert store_name in texts_of(content)
        rows = list(csv.reader(io.StringIO(orderfile.template_csv(store_name=store_name).decode("utf-8-sig"))))
        assert rows[1][0] == "'" + store_name  # Excel shows the text, runs nothing
        assert rows[1][6] == "'+1 212 555 0101"  # a phone starting with + is guarded too


def test_order_template_keeps_postcodes_and_phones_as_text():
    sheet = load_workbook(io.BytesIO(orderfile.template_xlsx())).active
    postcode = orderfile.COLUMNS.index("Postcode") + 1
    assert sheet.cell(row=2, column=postcode).value == "02134"
    assert sheet.cell(row=2, column=postcode).number_format == "@"
    assert sheet.column_dimensions["N"].number_format == "@"  # what is typed there later stays text


def test_product_pack_sheet_writes_formulas_as_text(db):
    product = ProductFactory(code="LS228800001", name="=1+1", brand="@SUM(1,1)", description="+CMD")
    product.attributes = {"size": "-2+3"}
    product.save()
    ItemFactory(product=product, warehouse=WarehouseFactory(code="US-CA"), barcode="0880012288000")
    content = product_sheet(product_detail_queryset().get(pk=product.pk))
    assert_no_formula(content)
    assert {*FORMULAS, "0880012288000"} <= texts_of(content)


def test_order_demo_files_write_formulas_as_text(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    xlsx_path, csv_path = orders_demo.write_example_files("=1+1")
    assert_no_formula(xlsx_path.read_bytes())
    assert next(csv.reader(io.StringIO(csv_path.read_text("utf-8-sig").splitlines()[1])))[0] == "'=1+1"


def test_xlsx_writer_drops_control_characters_and_keeps_numbers():
    book = spreadsheet.XlsxBook()
    book.sheet("S", ["a", "b", "c"]).append(["bell\x07", Decimal("4.50"), 3])
    sheet = load_workbook(io.BytesIO(book.bytes())).active
    assert [c.value for c in sheet[2]] == ["bell", 4.5, 3]


def test_csv_writer_guards_every_formula_trigger():
    assert [spreadsheet.csv_cell(v) for v in [*FORMULAS, "\tx", "\rx", "plain", -5]] == [
        "'=1+1",
        "'@SUM(1,1)",
        "'+CMD",
        "'-2+3",
        "'\tx",
        "'\rx",
        "plain",
        "-5",
    ]


# --- the importers: a long cell is quoted, never kept whole ----------------------------------


def test_order_import_quotes_the_start_of_an_overlong_cell(owner):
    store = StoreFactory(distributor=owner.distributor, platform="other", name="Offline Shop", site="US")
    Mapping.objects.create(store=store, store_sku="SERUM", item=ItemFactory(warehouse=WarehouseFactory(sites="US")))
    huge = "R" * 30_000
    rows = [orderfile.COLUMNS, ["", "A-1", "2026-01-31", "SERUM", 1, huge, "", "", "US", "NY", "NYC", "1 Main"]]
    content = spreadsheet.csv_bytes(rows[0], rows[1:])
    order_import = order_import_create(actor=owner, store=store, upload=SimpleUploadedFile("o.csv", content))
    order_import = order_import_check(order_import=order_import)
    [error] = order_import.errors
    assert error["column"] == "Recipient"
    assert error["message"] == "Longer than 200 characters: “" + "R" * 100 + "…”."
    assert huge not in str(order_import.errors)


@pytest.mark.django_db
def test_mapping_import_keeps_only_the_start_of_an_overlong_cell():
    plan = plan_rows([RowInput(number=2, store=None, store_text="S" * 30_000, sku="K" * 30_000, item_id="I" * 30_000)])
    [rejected] = plan.rejected
    assert rejected[1:4] == ["S" * 100 + "…", "K" * 100 + "…", "I" * 100 + "…"]
    assert "longer than 100 characters: “" + "K" * 100 + "…”" in rejected[6]
    assert len(str(rejected)) < 2_000


def test_order_import_page_names_the_encoding_it_read_the_file_in(owner, client):
    store = StoreFactory(distributor=owner.distributor, platform="other", name="Offline Shop", site="US")
    text = "订单号,店铺SKU,数量,收件人,国家,城市,详细地址\nA-1,SERUM,1,张三,CN,上海市,浦东新区世纪大道100号\n"
    client.force_login(owner.user)
    upload = SimpleUploadedFile("orders.csv", text.encode("gbk"))
    response = client.post(reverse("orders:import"), {"store": store.pk, "file": upload})
    page = client.get(response["Location"]).content.decode()
    assert "Read as" in page and "GB18030 (Simplified Chinese, GBK)" in page


# --- the admin's xlsx import and export --------------------------------------------------------


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_import_checks_the_file_like_every_upload(staff_client):
    upload = SimpleUploadedFile("items.xlsx", files.far_cell())
    response = staff_client.post(
        reverse("admin:catalog_item_import"), {"import_file": upload, "format": "0", "resource": "0"}
    )
    assert response.status_code == 200
    assert "The sheet reaches column XFD; a catalog file has at most 64 columns." in response.content.decode()


def test_admin_export_writes_a_formula_as_text(staff_client):
    ProductFactory(code="LS228800001", name="=1+1")
    response = staff_client.post(
        reverse("admin:catalog_product_export"),
        {"format": "0", "resource": "0", "productresource_code": "on", "productresource_name": "on"},
    )
    assert response.status_code == 200
    assert_no_formula(response.content)
