"""Byte-level checks of an xlsx's XML parts, fed chunk by chunk as they are inflated.

calamine aborts the process (not an exception) when a sheet's used area is too big to
allocate: one cell at XFD1048576 beside a header in A1 asks for 17 billion cells. So
before calamine sees a sheet, every cell reference calamine would honour is bounded
here. A per-element XML parser would cost more than calamine itself, so the checks are
regular expressions over the raw bytes, in two tiers:

- the fast tier (`SheetScan`) relies on what every spreadsheet program writes: each
  `<c>` starts with its own ` r="A1"`. One regex flags any cell tag that is not of that
  form or whose reference lies beyond the widest column and longest row number seen so
  far; flagged tags are parsed one by one, so the bounds grow with the sheet and most
  cells are never looked at from Python. Anything that would let calamine place a cell
  somewhere the fast tier cannot see (a cell without `r`, a second `r` attribute, which
  calamine honours last, a namespace prefix, which calamine ignores) sends the part to
- the exact tier (`ExactSheetScan`), which walks every row and cell tag the way
  calamine's reader does (quotes, comments and CDATA included) and counts rows.

Every XML part also gets `PartScan`: no DOCTYPE/ENTITY declaration (billion laughs), an
ASCII-compatible encoding (the regexes read bytes), and no text run longer than any cell
Excel can hold. A chunk's unfinished tail (from its last "<") is carried over to the next.
"""

import re
from functools import lru_cache

from django.utils.translation import gettext as _

from .limits import EXCEL_CELL_CHARS, FileRejected, Limits

# The longest stretch of a part without a "<". A cell holds at most 32,767 characters,
# ten bytes each at worst as character references, so a longer stretch is never a cell.
MAX_RUN = 1 << 20

_DOCTYPE = re.compile(rb"!(?i:doctype|entity)")
_DECLARED_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_ASCII_COMPATIBLE = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}

# A name as quick-xml reads it, optionally prefixed; attributes with quoted values, in
# which ">" and "<" may appear.
_NAME = rb"""(?:[^\s/>:"'<=]*:)?[^\s/>"'<=]*"""
ATTRS = rb"""[^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*"""
_TAG_AT = re.compile(rb"<(" + _NAME + rb")(" + ATTRS + rb")>")
# quick-xml needs no blank between a quoted value and the next name.
_ATTR = re.compile(rb"""(?:^|(?<=[\s"']))([^\s="']+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_DIMENSION = re.compile(rb"<(?:[^\s/>:\"'<=]*:)?dimension(?=[\s/>])(" + ATTRS + rb")>")
# What the fast tier cannot follow: a prefixed cell tag, a second attribute named r.
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_SECOND_R = re.compile(rb'"\s*r\s*=')
_SECOND_R_SINGLE = re.compile(rb"'\s*r\s*=")
_REF = re.compile(rb"([A-Za-z]*)(\d+)")


def column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _rows_message(row: int, limits: Limits) -> FileRejected:
    return FileRejected(
        _("The sheet reaches row %(row)s; %(what)s has at most %(max)s rows. Split it into smaller files.")
        % {"row": f"{row:,}", "what": limits.what, "max": f"{limits.max_rows:,}"}
    )


def _columns_message(column: str, limits: Limits) -> FileRejected:
    return FileRejected(
        _("The sheet reaches column %(column)s; %(what)s has at most %(max)d columns.")
        % {"column": column, "what": limits.what, "max": limits.max_columns}
    )


def _cells_message(rows: int, columns: int, limits: Limits) -> FileRejected:
    return FileRejected(
        _(
            "The sheet spans %(rows)s rows and %(columns)s columns (%(cells)s cells); %(what)s may span at "
            "most %(max)s cells. Delete the unused rows and columns, or split the file."
        )
        % {
            "rows": f"{rows:,}",
            "columns": f"{columns:,}",
            "cells": f"{rows * columns:,}",
            "what": limits.what,
            "max": f"{limits.max_cells:,}",
        }
    )


def damaged(detail: str) -> FileRejected:
    return FileRejected(
        _("The file could not be read as an Excel workbook (%(detail)s). Open it in Excel and save it again as .xlsx.")
        % {"detail": detail}
    )


def long_cell() -> FileRejected:
    return FileRejected(
        _("A cell in the file holds more than %(max)s characters, more than Excel allows; the file was not read.")
        % {"max": f"{EXCEL_CELL_CHARS:,}"}
    )


def parse_ref(ref: bytes) -> tuple[int, int]:
    """(row, column), both from 1, of a reference as calamine reads it; column 0 when absent."""
    match = _REF.fullmatch(ref)
    if match is None or int(match.group(2)) == 0:
        raise damaged(_("a cell reference “%(ref)s” is not valid") % {"ref": ref[:20].decode("latin-1")})
    column = 0
    for letter in match.group(1).upper():
        column = column * 26 + letter - 64
    return int(match.group(2)), column


def attributes(raw: bytes) -> list[tuple[bytes, bytes]]:
    return [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3)) for m in _ATTR.finditer(raw)]


class PartScan:
    """The checks of any XML part. Subclasses look at each complete region too."""

    def __init__(self, part: str):
        self.part = part
        self._tail = b""
        self._started = False

    def feed(self, chunk: bytes) -> None:
        buf = self._tail + chunk if self._tail else chunk
        if not self._started:
            self._check_head(buf)
        cut = buf.rfind(b"<")
        if cut <= 0:
            if len(buf) > MAX_RUN:
                raise long_cell()
            self._tail = buf
            return
        self.region(buf, cut)
        self._tail = buf[cut:]

    def finish(self) -> None:
        if not self._started:
            self._check_head(self._tail)
        if len(self._tail) > MAX_RUN:
            raise long_cell()
        if self._tail:
            self.region(self._tail, len(self._tail))
        self._tail = b""

    def region(self, buf: bytes, end: int) -> None:
        """Check buf[:end], which ends just before a "<" (or at the end of the part)."""
        if buf.find(b"!", 0, end) >= 0 and _DOCTYPE.search(buf, 0, end):
            raise FileRejected(
                _(
                    "The file contains an XML document type declaration (in %(part)s), which spreadsheets never "
                    "contain; it was not read."
                )
                % {"part": self.part[:80]}
            )

    def _check_head(self, head: bytes) -> None:
        self._started = True
        start = head[:1024]
        if start.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in start:
            raise damaged(_("%(part)s is not UTF-8 XML") % {"part": self.part[:80]})
        declared = _DECLARED_ENCODING.match(start.removeprefix(b"\xef\xbb\xbf"))
        if declared and declared.group(1).strip().lower() not in _ASCII_COMPATIBLE:
            raise damaged(_("%(part)s is not UTF-8 XML") % {"part": self.part[:80]})


class StringsScan(PartScan):
    """The shared-string table: calamine keeps every entry, so their number is bounded too."""

    def __init__(self, part: str, limits: Limits):
        super().__init__(part)
        self.limits = limits
        self.count = 0

    def region(self, buf: bytes, end: int) -> None:
        super().region(buf, end)
        # ":si" counts prefixed entries (and, harmlessly, a few look-alikes).
        self.count += buf.count(b"<si", 0, end) + buf.count(b":si", 0, end)
        if self.count > self.limits.max_cells:
            raise FileRejected(
                _("The file's table of texts holds more than %(max)s entries; %(what)s may hold at most that many.")
                % {"max": f"{self.limits.max_cells:,}", "what": self.limits.what}
            )


def _up_to(number: int) -> bytes:
    """A regex for the decimal numbers up to `number`, written with at most as many digits."""
    digits = str(number)
    options = [b"\\d{1,%d}" % (len(digits) - 1)] if len(digits) > 1 else []
    for index, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - index - 1
            options.append(f"{digits[:index]}[0-{int(digit) - 1}]".encode() + (b"\\d{%d}" % rest if rest else b""))
    options.append(digits.encode())
    return b"(?:" + b"|".join(options) + b")"


def _columns_up_to(number: int) -> bytes:
    """A regex for the column letters A.. up to the number-th column (at most two letters)."""
    options = [b"[A-%c]" % (64 + min(number, 26))]
    rest, first = number - 26, 0
    while rest > 0:
        options.append(b"%c[A-%c]" % (65 + first, 64 + min(rest, 26)))
        rest, first = rest - 26, first + 1
    return b"(?:" + b"|".join(options) + b")"


@lru_cache(maxsize=512)
def _cell_pattern(columns: int, digits: int, row_limit: int) -> re.Pattern:
    """Cell tags the fast tier must look at: not `<c r="..."` first, or beyond the bounds."""
    if columns == 0 or digits == 0:
        return re.compile(rb"<c(?=[\s/>])")
    rows = rb"\d{1,%d}" % digits if digits < len(str(row_limit)) else _up_to(row_limit)
    return re.compile(rb'<c(?=[\s/>])(?! r="' + _columns_up_to(columns) + rows + rb'")')


class NeedsExactScan(Exception):  # noqa: N818 (a signal between the tiers, never shown)
    """The fast tier cannot vouch for this sheet; the exact tier must read it."""


class SheetScan(PartScan):
    """The fast tier for the sheet calamine will read (see the module docstring)."""

    def __init__(self, part: str, limits: Limits):
        super().__init__(part)
        self.limits = limits
        self.columns = 0  # the widest column seen, from 1
        self.digits = 0  # the longest row number seen, in digits
        self._longest = len(str(limits.row_limit))
        self._cells = _cell_pattern(0, 0, limits.row_limit)
        self._before_data = True

    def region(self, buf: bytes, end: int) -> None:
        super().region(buf, end)
        if self._before_data:
            self._dimensions(buf, end)
        if (
            _PREFIXED_CELL.search(buf, 0, end)
            or _SECOND_R.search(buf, 0, end)
            or (buf.find(b"'", 0, end) >= 0 and _SECOND_R_SINGLE.search(buf, 0, end))
        ):
            raise NeedsExactScan
        pos = 0
        while match := self._cells.search(buf, pos, end):
            self._flagged(buf, match.start())
            pos = match.end()

    def finish(self) -> None:
        super().finish()
        if self.digits >= self._longest:
            rows = self.limits.row_limit
        else:
            rows = min(10**self.digits - 1, self.limits.row_limit)
        if rows * self.columns > self.limits.max_cells:
            raise NeedsExactScan  # the bound is loose; count exactly before refusing

    def _flagged(self, buf: bytes, start: int) -> None:
        tag = _TAG_AT.match(buf, start)
        if tag is None:
            raise NeedsExactScan
        refs = [value for key, value in attributes(tag.group(2)) if key == b"r"]
        if not refs:
            raise NeedsExactScan  # a cell placed by its neighbours
        ref = refs[-1]
        row, column = parse_ref(ref)
        if column == 0:
            raise damaged(_("a cell reference “%(ref)s” is not valid") % {"ref": ref[:20].decode("latin-1")})
        if column > self.limits.max_columns:
            raise _columns_message(_letters_of(ref), self.limits)
        if row > self.limits.row_limit:
            raise _rows_message(row, self.limits)
        digits = min(len(_REF.fullmatch(ref).group(2)), self._longest)
        if column > self.columns or digits > self.digits:
            self.columns, self.digits = max(column, self.columns), max(digits, self.digits)
            self._cells = _cell_pattern(self.columns, self.digits, self.limits.row_limit)

    def _dimensions(self, buf: bytes, end: int) -> None:
        data = buf.find(b"sheetData", 0, end)
        stop = end if data < 0 else data
        matches = _DIMENSION.finditer(buf, 0, stop) if buf.find(b"dimension", 0, stop) >= 0 else ()
        for match in matches:
            refs = [value for key, value in attributes(match.group(1)) if key == b"ref"]
            if refs:
                check_dimension(refs[0], self.limits)
        if data >= 0:
            self._before_data = False


def _letters_of(ref: bytes) -> str:
    return _REF.fullmatch(ref).group(1).decode("ascii").upper()[:10]


def check_dimension(ref: bytes, limits: Limits) -> None:
    """The size a sheet declares for itself (`<dimension ref="A1:P10001"/>`)."""
    corners = [parse_ref(part) for part in ref.split(b":")]
    if len(corners) > 2 or any(column == 0 for _row, column in corners):
        raise damaged(_("the sheet's declared size “%(ref)s” is not valid") % {"ref": ref[:40].decode("latin-1")})
    (top, left), (bottom, right) = corners[0], corners[-1]
    if bottom < top or right < left:
        raise damaged(_("the sheet's declared size “%(ref)s” is not valid") % {"ref": ref[:40].decode("latin-1")})
    if right > limits.max_columns:
        raise _columns_message(column_letters(right), limits)
    if bottom > limits.row_limit:
        raise _rows_message(bottom, limits)
    if bottom * right > limits.max_cells:
        raise _cells_message(bottom, right, limits)


# The exact tier's tokens: row and cell start tags and row end tags, each with its
# attributes; everything else (text, other markup, comments, CDATA) is skipped in runs.
_PREFIX = rb"(?:[^\s/>:\"'<=]*:)?"
_INTERESTING = rb"(?:/" + _PREFIX + rb"row(?=[\s>])|" + _PREFIX + rb"(?:row|c)(?=[\s/>]))"
_OTHER_MARKUP = rb"(?:!--.*?-->|!\[CDATA\[.*?\]\]>|\?.*?\?>|" + ATTRS + rb">)"
_TOKEN = re.compile(
    rb"(?:[^<]+|<(?!" + _INTERESTING + rb")" + _OTHER_MARKUP + rb")+"
    rb"|<(/?)" + _PREFIX + rb"(row|c)(?=[\s/>])(" + ATTRS + rb")>",
    re.S,
)


class ExactSheetScan(PartScan):
    """The exact tier: places every cell as calamine does, including cells without `r`."""

    def __init__(self, part: str, limits: Limits):
        super().__init__(part)
        self.limits = limits
        self.rows = 0
        self.row_index = 0  # calamine's, from 0
        self.column_index = 0
        self.last_row = 0  # the farthest cell, from 1
        self.last_column = 0
        self._run = 0

    def feed(self, chunk: bytes) -> None:
        buf = self._tail + chunk if self._tail else chunk
        if not self._started:
            self._check_head(buf)
        last = buf.rfind(b"<")
        self._run = self._run + len(chunk) if last < 0 else len(buf) - last
        if self._run > MAX_RUN:
            raise long_cell()
        done = self._tokens(buf)
        PartScan.region(self, buf, done)
        self._tail = buf[done:]
        if len(self._tail) > MAX_RUN:
            raise damaged(_("a tag in %(part)s never ends") % {"part": self.part[:80]})

    def finish(self) -> None:
        if not self._started:
            self._check_head(self._tail)
        if self._tail:
            done = self._tokens(self._tail)
            if done < len(self._tail):
                raise damaged(_("a tag in %(part)s never ends") % {"part": self.part[:80]})
            PartScan.region(self, self._tail, done)
        self._tail = b""

    def _tokens(self, buf: bytes) -> int:
        """Handle the tokens of buf up to the first one that is not complete; returns where that is."""
        done = 0
        for token in _TOKEN.finditer(buf):
            if token.start() != done:
                break  # an unfinished (or broken) tag starts at `done`
            done = token.end()
            name = token.group(2)
            if name == b"row":
                self._row(token.group(1), token.group(3))
            elif name == b"c":
                self._cell(token.group(3))
        return done

    def _row(self, closing: bytes, raw: bytes) -> None:
        if closing:
            self.row_index, self.column_index = self.row_index + 1, 0
            return
        self.rows += 1
        if self.rows > self.limits.row_limit:
            raise FileRejected(
                _("The sheet has more than %(max)s rows; %(what)s has at most that many. Split it into smaller files.")
                % {"max": f"{self.limits.max_rows:,}", "what": self.limits.what}
            )
        refs = [value for key, value in attributes(raw) if key == b"r"]
        if refs:  # calamine takes a row's first r
            self.row_index = parse_ref(refs[0])[0] - 1
        if raw.rstrip().endswith(b"/"):  # an empty row element is opened and closed at once
            self.row_index, self.column_index = self.row_index + 1, 0

    def _cell(self, raw: bytes) -> None:
        refs = [value for key, value in attributes(raw) if key == b"r"]
        if refs:  # and a cell's last
            row, column = parse_ref(refs[-1])
            if column == 0:
                raise damaged(_("a cell reference “%(ref)s” is not valid") % {"ref": refs[-1][:20].decode("latin-1")})
            self.column_index = column - 1
        else:
            row, column = self.row_index + 1, self.column_index + 1
        self.column_index += 1
        if column > self.limits.max_columns:
            raise _columns_message(column_letters(column) if column < 10**6 else "?", self.limits)
        if row > self.limits.row_limit:
            raise _rows_message(row, self.limits)
        self.last_row, self.last_column = max(self.last_row, row), max(self.last_column, column)
        if self.last_row * self.last_column > self.limits.max_cells:
            raise _cells_message(self.last_row, self.last_column, self.limits)
