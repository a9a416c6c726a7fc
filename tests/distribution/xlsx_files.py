"""Workbooks written part by part, so a test can make one exactly as broken as it needs:
a cell at XFD1048576, a million rows in a megabyte, a 300 MB cell, a billion laughs.

No tests here; the hostile-file tests and the spreadsheet unit tests share these."""

import io
import zipfile
from collections.abc import Iterable

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
    b'+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>'
)
PACKAGE_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKSHEET_TYPE = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
STRINGS_TYPE = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def workbook_xml(names: Iterable[str]) -> bytes:
    sheets = b"".join(
        b'<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (name.encode(), n, n) for n, name in enumerate(names, 1)
    )
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        b'2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        + sheets
        + b"</sheets></workbook>"
    )


def workbook_rels(count: int, strings: bool = False) -> bytes:
    rels = b"".join(
        b'<Relationship Id="rId%d" Type="%s" Target="worksheets/sheet%d.xml"/>' % (n, WORKSHEET_TYPE, n)
        for n in range(1, count + 1)
    )
    if strings:
        rels += b'<Relationship Id="rId%d" Type="%s" Target="sharedStrings.xml"/>' % (count + 1, STRINGS_TYPE)
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        b'2006/relationships">' + rels + b"</Relationships>"
    )


def sheet_xml(rows: bytes, *, head: bytes = b"", prolog: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        + prolog
        + b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + head
        + b"<sheetData>"
        + rows
        + b"</sheetData></worksheet>"
    )


def text_cell(ref: str, text: str) -> bytes:
    return b'<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref.encode(), text.encode())


def row(number: int, cells: bytes) -> bytes:
    return b'<row r="%d">%s</row>' % (number, cells)


HEADER_ROW = row(1, text_cell("A1", "Store") + text_cell("B1", "Order No"))


def workbook(
    sheets: dict[str, bytes] | None = None,
    *,
    strings: bytes | None = None,
    extra: Iterable[tuple[str, bytes]] = (),
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """An xlsx of the given sheets (name -> sheet XML), in that order."""
    sheets = sheets if sheets is not None else {"Sheet1": sheet_xml(HEADER_ROW)}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", workbook_xml(sheets))
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels(len(sheets), strings is not None))
        for n, content in enumerate(sheets.values(), 1):
            archive.writestr(f"xl/worksheets/sheet{n}.xml", content)
        if strings is not None:
            archive.writestr("xl/sharedStrings.xml", strings)
        for name, content in extra:
            archive.writestr(name, content)
    return out.getvalue()


def far_cell() -> bytes:
    """Two kilobytes: a header and one cell at XFD1048576 (calamine would allocate 17 billion cells)."""
    return workbook({"Sheet1": sheet_xml(HEADER_ROW + row(1048576, b'<c r="XFD1048576"><v>1</v></c>'))})


def million_rows() -> bytes:
    """Under a megabyte: a million rows of one cell each. The cells carry no reference (calamine
    counts them along), every third row says its number, so zlib packs them 33 to 1."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", workbook_xml(["Sheet1"]))
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels(1))
        with archive.open("xl/worksheets/sheet1.xml", "w") as part:
            start, end = sheet_xml(b"").split(b"<sheetData>")
            part.write(start + b"<sheetData>" + HEADER_ROW)
            for first in range(2, 1_000_002, 10_000):
                part.write(
                    b"".join(
                        (b'<row r="%d">' % n if n % 3 == 0 else b"<row>") + b"<c><v>1</v></c></row>"
                        for n in range(first, first + 10_000)
                    )
                )
            part.write(b"</sheetData>" + end)
    return out.getvalue()


def huge_cell(megabytes: int = 300) -> bytes:
    """A few hundred kilobytes: one inline-string cell of `megabytes` MB of the letter A."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", workbook_xml(["Sheet1"]))
        archive.writestr("xl/_rels/workbook.xml.rels", workbook_rels(1))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            start, end = sheet_xml(b"").split(b"<sheetData>")
            part.write(start + b"<sheetData>" + HEADER_ROW + b'<row r="2"><c r="B2" t="inlineStr"><is><t>')
            block = b"A" * (1 << 20)
            for _ in range(megabytes):
                part.write(block)
            part.write(b"</t></is></c></row></sheetData>" + end)
    return out.getvalue()


BILLION_LAUGHS = (
    b'<!DOCTYPE worksheet [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (n, b"".join(b"&lol%s;" % (str(n - 1).encode() if n > 1 else b"") for _ in range(10)))
        for n in range(1, 10)
    )
    + b"]>"
)


def billion_laughs() -> bytes:
    """A sheet whose one cell would expand to a billion "lol"s in a parser that expands entities."""
    cells = HEADER_ROW + row(2, b'<c r="B2" t="inlineStr"><is><t>&lol9;</t></is></c>')
    return workbook({"Sheet1": sheet_xml(cells, prolog=BILLION_LAUGHS)})
