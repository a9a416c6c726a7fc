"""Reading an xlsx: every check first, then calamine.

The sheet to read is found the way calamine finds it (xl/workbook.xml, then the
relationship its r:id names; part names compared ignoring case), so the part scanned is
the part calamine will read; `archive` refuses what could make zipfile and calamine's
zip reader see different bytes (two names for one part, data before the archive).
Every member is inflated under the limits; the parts calamine reads (workbook,
relationships, styles, shared strings, the sheet) are also scanned (`scan`).
"""

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

from .archive import Archive
from .limits import FileRejected, Limits, Sheet
from .scan import ATTRS, ExactSheetScan, NeedsExactScan, PartScan, SheetScan, StringsScan, attributes, damaged

WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
SHARED_STRINGS = "xl/sharedStrings.xml"
# The workbook and its relationships are a few kilobytes; more is not a spreadsheet's.
META_BYTES = 8 << 20

_SHEET_TAG = re.compile(rb"<(?:[^\s/>:\"'<=]*:)?sheet(?=[\s/>])(" + ATTRS + rb")>")
_RELATIONSHIP_TAG = re.compile(rb"<(?:[^\s/>:\"'<=]*:)?Relationship(?=[\s/>])(" + ATTRS + rb")>")
_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _unescape(raw: bytes) -> str:
    def one(match):
        entity = match.group(1)
        if entity.startswith("#x"):
            return chr(int(entity[2:], 16))
        if entity.startswith("#"):
            return chr(int(entity[1:]))
        return _NAMED[entity]

    try:
        return _ENTITY.sub(one, raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, OverflowError):
        raise damaged(_("the workbook's list of sheets cannot be read")) from None


@dataclass(frozen=True)
class _Target:
    name: str
    path: str  # as calamine resolves it


def _part_path(target: str) -> str:
    """Where calamine looks for a relationship's target (checked against python-calamine 0.9)."""
    return target[1:] if target.startswith("/") else f"xl/{target}"


def _sheets(archive: Archive) -> tuple[list[_Target], dict[str, set[str]]]:
    """The workbook's sheets in order, and the relationship targets by type (styles, strings)."""
    workbook = archive.find(WORKBOOK)
    rels = archive.find(WORKBOOK_RELS)
    if workbook is None or rels is None:
        raise FileRejected(_("The file is not an Excel workbook (.xlsx): it has no workbook inside."))
    relationships: dict[bytes, bytes] = {}
    by_type: dict[str, set[str]] = {}
    content = archive.read_small(rels, META_BYTES)
    _check_whole(WORKBOOK_RELS, content)
    for tag in _RELATIONSHIP_TAG.finditer(content):
        values = _unique_attributes(tag.group(1))
        rid, target = values.get(b"Id", b""), values.get(b"Target", b"")
        if rid in relationships:
            raise damaged(_("two of its relationships share the name “%(id)s”") % {"id": rid[:40].decode("latin-1")})
        relationships[rid] = target
        kind = values.get(b"Type", b"").rsplit(b"/", 1)[-1].decode("latin-1")
        by_type.setdefault(kind, set()).add(_part_path(target.decode("utf-8", "replace")))
    content = archive.read_small(workbook, META_BYTES)
    _check_whole(WORKBOOK, content)
    targets = []
    for tag in _SHEET_TAG.finditer(content):
        values = _unique_attributes(tag.group(1))
        name = _unescape(values.get(b"name", b""))
        ids = [values[key] for key in (b"r:id", b"relationships:id") if key in values]
        if len(ids) != 1 or ids[0] not in relationships:
            raise damaged(_("the sheet “%(name)s” points nowhere") % {"name": name[:80]})
        targets.append(_Target(name, _part_path(relationships[ids[0]].decode("utf-8", "replace"))))
    if not targets:
        raise FileRejected(_("The workbook has no sheet."))
    return targets, by_type


def _unique_attributes(raw: bytes) -> dict[bytes, bytes]:
    """A tag's attributes; one given twice is refused, since which of the two calamine takes
    differs from attribute to attribute (and between its versions)."""
    values: dict[bytes, bytes] = {}
    for key, value in attributes(raw):
        if key in values:
            raise damaged(_("an attribute “%(name)s” is given twice") % {"name": key[:40].decode("latin-1")})
        values[key] = value
    return values


def _check_whole(part: str, content: bytes) -> None:
    scan = PartScan(part)
    scan.feed(content)
    scan.finish()


def _pick(targets: list[_Target], prefer: str | None) -> _Target:
    """The sheet calamine returns for get_sheet_by_name(prefer), else get_sheet_by_index(0)."""
    return next((t for t in targets if prefer and t.name == prefer), targets[0])


def _scan_all(archive: Archive, chosen: list[_Target], by_type: dict[str, set[str]]) -> None:
    """Inflate every member under the limits; scan the XML parts, the chosen sheets the closest."""
    limits = archive.limits
    sheets = {}
    for target in chosen:
        info = archive.find(target.path)
        if info is None:
            raise FileRejected(
                _("The workbook's sheet “%(name)s” is missing from the file.") % {"name": target.name[:80]}
            )
        sheets[info.filename] = target
    strings = {archive.find(p) for p in {SHARED_STRINGS, *by_type.get("sharedStrings", ())}} - {None}
    for info in archive.members:
        if info.is_dir():
            continue
        name = info.filename
        if name in sheets:
            scan = SheetScan(name, limits)
        elif info in strings:
            scan = StringsScan(name, limits)
        elif name.lower().endswith((".xml", ".rels", ".vml")):
            scan = PartScan(name)
        else:
            scan = None
        exact = False
        for chunk in archive.chunks(info):
            if scan is not None and not exact:
                try:
                    scan.feed(chunk)
                except NeedsExactScan:
                    exact = True  # inflating goes on under the limits; the exact tier reads the part again
        if scan is not None and not exact:
            try:
                scan.finish()
            except NeedsExactScan:
                exact = True
        if exact:
            scan = ExactSheetScan(name, limits)
            for chunk in archive.chunks(info, tally=False):
                scan.feed(chunk)
            scan.finish()


def check_xlsx(source, *, limits: Limits, all_sheets: bool = False, sheet_name: str | None = None) -> None:
    """Every check `read_xlsx` makes, without reading: for files another library reads
    (the admin's import reads the active sheet, so `all_sheets` checks each one)."""
    with _opened(source) as handle:
        _check_size(handle, limits)
        archive = Archive(handle, limits)
        targets, by_type = _sheets(archive)
        _scan_all(archive, targets if all_sheets else [_pick(targets, sheet_name)], by_type)


def read_xlsx(source, *, limits: Limits, sheet_name: str | None = None) -> Sheet:
    """The first sheet (or the one named `sheet_name`, when the workbook has it), checked, then read."""
    with _opened(source) as handle:
        _check_size(handle, limits)
        archive = Archive(handle, limits)
        targets, by_type = _sheets(archive)
        target = _pick(targets, sheet_name)
        _scan_all(archive, [target], by_type)
        handle.seek(0)
        sheet = _calamine(source if isinstance(source, str | os.PathLike) else handle, target.name)
    return Sheet(kind="xlsx", rows=_numbered(sheet), total_rows=sheet.height, name=target.name)


def _calamine(source, name: str):
    try:
        if isinstance(source, str | os.PathLike):
            workbook = CalamineWorkbook.from_path(str(source))
        else:
            workbook = CalamineWorkbook.from_filelike(source)
        try:
            sheet = workbook.get_sheet_by_name(name)
        finally:
            workbook.close()
    except Exception as exc:  # calamine raises its own kinds for what it cannot parse
        raise damaged(str(exc)[:200]) from None
    return sheet


def _numbered(sheet) -> Iterator[tuple[int, list]]:
    # python-calamine (0.9) yields rows from row 1, the empty ones above the data included;
    # test_read_xlsx_gives_rows_with_the_numbers_excel_shows pins it.
    for index, row in enumerate(sheet.iter_rows()):
        yield index + 1, row


def _check_size(handle, limits: Limits) -> None:
    size = handle.seek(0, 2)
    handle.seek(0)
    if size > limits.max_file_bytes:
        raise FileRejected(
            _("The file is larger than %(mb)d MB; split it into smaller files.")
            % {"mb": limits.max_file_bytes // 2**20}
        )


class _opened:  # noqa: N801 (used as a context manager, like open)
    """A path is opened (and closed); a file object is used as it is."""

    def __init__(self, source):
        self.source = source
        self.handle = None

    def __enter__(self):
        if isinstance(self.source, str | os.PathLike):
            self.handle = open(self.source, "rb")  # noqa: SIM115 (closed in __exit__)
            return self.handle
        self.source.seek(0)
        return self.source

    def __exit__(self, *exc):
        if self.handle is not None:
            self.handle.close()
        return False
