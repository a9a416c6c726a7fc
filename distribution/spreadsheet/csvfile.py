"""Reading a CSV (or tab-separated "Unicode text") file as Excel writes it, in any of the
encodings a distributor's Excel saves in.

The encoding is found deterministically from the first non-ASCII stretch of the file:
a byte-order mark first (UTF-8, UTF-16), then strict UTF-8, then UTF-16 without a mark
(every other byte zero), then the legacy code pages scored by how plausible the text
they decode to is. GB18030 decodes almost any byte string, so strictness alone cannot
tell GBK from Shift_JIS: Chinese text decodes, under the right code page, to common
GB2312 characters, Japanese to kana and JIS level-1 kanji, Western text to accented
letters beside plain ones; under the wrong one to rare characters, half-width katakana
or runs of symbols.

Quoting is the Excel dialect (doubled quotes; delimiters and line breaks inside quotes);
the delimiter is the most frequent of comma, semicolon and tab outside quotes on the
header line. Every record is bounded before the csv module builds it.
"""

import codecs
import csv
import io
import os
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .limits import EXCEL_CELL_CHARS, FileRejected, Limits, Sheet
from .writers import FORMULA_TRIGGERS

SAMPLE_BYTES = 1 << 20
# The part of the sample the plausibility score reads (it walks characters in Python).
SCORE_BYTES = 64 << 10
# The longest record: every column of a wide file at Excel's longest cell.
MAX_RECORD_CHARS = 1_000_000
DELIMITERS = (",", ";", "\t")


@dataclass(frozen=True)
class Encoding:
    codec: str
    name: str  # as people know it
    description: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({self.description})" if self.description else self.name


UTF8 = Encoding("utf-8", "UTF-8")
UTF8_BOM = Encoding("utf-8-sig", "UTF-8", gettext_lazy("with byte-order mark"))
UTF16_LE = Encoding("utf-16-le", "UTF-16 LE", gettext_lazy("Excel's Unicode text"))
UTF16_BE = Encoding("utf-16-be", "UTF-16 BE", gettext_lazy("Unicode text"))
UTF16_LE_BOM = Encoding("utf-16", "UTF-16 LE", gettext_lazy("Excel's Unicode text"))
UTF16_BE_BOM = Encoding("utf-16", "UTF-16 BE", gettext_lazy("Unicode text"))
GB18030 = Encoding("gb18030", "GB18030", gettext_lazy("Simplified Chinese, GBK"))
SHIFT_JIS = Encoding("cp932", "Shift_JIS", gettext_lazy("Japanese"))
WINDOWS_1252 = Encoding("cp1252", "Windows-1252", gettext_lazy("Western European"))
# In this order ties are broken.
LEGACY = (GB18030, SHIFT_JIS, WINDOWS_1252)


def _sample(handle) -> bytes:
    """SAMPLE_BYTES from the first chunk that is not plain ASCII (else the head)."""
    head = chunk = handle.read(SAMPLE_BYTES)
    while chunk.isascii() and len(chunk) == SAMPLE_BYTES:
        chunk = handle.read(SAMPLE_BYTES)
    if chunk is head or not chunk or chunk.isascii():
        return head
    # A chunk starts anywhere; a line starts on a character in every encoding sampled here.
    return chunk[chunk.find(b"\n") + 1 :]


def detect_encoding(handle) -> Encoding:
    """The encoding of a binary file, read from where it stands (the caller seeks back)."""
    start = handle.tell()
    head = handle.read(4096)
    handle.seek(start)
    if head.startswith(codecs.BOM_UTF8):
        return UTF8_BOM
    if head.startswith(codecs.BOM_UTF16_LE):
        return UTF16_LE_BOM
    if head.startswith(codecs.BOM_UTF16_BE):
        return UTF16_BE_BOM
    if _zeros_at(head, 1) > 0.3 and _zeros_at(head, 0) < 0.05:
        return UTF16_LE
    if _zeros_at(head, 0) > 0.3 and _zeros_at(head, 1) < 0.05:
        return UTF16_BE
    sample = _sample(handle)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return UTF8
    except UnicodeDecodeError:
        pass
    # Cut at a line end, which no legacy code page uses as a trail byte.
    cut = sample.rfind(b"\n", 0, SCORE_BYTES)
    piece = sample[: cut + 1] if cut > 0 else sample[:SCORE_BYTES]
    scored = []
    for encoding in LEGACY:
        try:
            text = piece.decode(encoding.codec)
        except UnicodeDecodeError:
            continue
        scored.append((_plausibility(text, encoding), -LEGACY.index(encoding), encoding))
    if not scored or max(scored)[0] < 0.5:
        raise FileRejected(_("The CSV file's text encoding could not be recognised; save it as “CSV UTF-8”."))
    return max(scored)[2]


def _zeros_at(sample: bytes, parity: int) -> float:
    part = sample[parity::2]
    return part.count(0) / len(part) if part else 0.0


def _plausibility(text: str, encoding: Encoding) -> float:
    """The share of the non-ASCII bytes that decoded to characters the language uses often."""
    good = total = 0
    for index, char in enumerate(text):
        if char < "\x80":
            continue
        size = len(char.encode(encoding.codec))
        total += size
        if encoding is GB18030:
            good += size if _common_chinese(char) else 0
        elif encoding is SHIFT_JIS:
            good += size if _common_japanese(char) else 0
        elif _latin_in_word(text, index):
            good += size
    return good / total if total else 0.0


def _common_chinese(char: str) -> bool:
    if not ("\u4e00" <= char <= "\u9fff" or "\u3000" <= char <= "\u303f" or "\uff01" <= char <= "\uff5e"):
        return False
    try:
        return len(char.encode("gb2312")) == 2  # the 6,763 characters of everyday Chinese
    except UnicodeEncodeError:
        return False


def _common_japanese(char: str) -> bool:
    if "\u3041" <= char <= "\u30ff" or "\u3000" <= char <= "\u303f" or "\uff01" <= char <= "\uff5e":
        return True  # kana, Japanese punctuation, full-width letters
    if "\u4e00" <= char <= "\u9fff":
        lead = char.encode("cp932")[0]
        return 0x88 <= lead <= 0x98  # JIS level 1: the common kanji
    return False


def _latin_in_word(text: str, index: int) -> bool:
    char = text[index]
    if not (char.isalpha() or char in "“”‘’–—…€£°"):
        return False
    before = text[index - 1] if index else " "
    after = text[index + 1] if index + 1 < len(text) else " "
    return before < "\x80" or after < "\x80"


def _delimiter(text: str) -> str:
    """The delimiter counted outside quotes on the first non-blank line (comma on a tie)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = started = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            if started:
                break
        elif not quoted and char in counts:
            counts[char] += 1
        if not char.isspace():
            started = True
    return max(DELIMITERS, key=lambda d: (counts[d], -DELIMITERS.index(d)))


class _Records:
    """Lines for csv.reader, each bounded, so a record cannot grow past MAX_RECORD_CHARS."""

    def __init__(self, text, encoding: Encoding):
        self.text = text
        self.encoding = encoding
        self.size = 0
        self.records = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            line = self.text.readline(MAX_RECORD_CHARS + 1)
        except UnicodeDecodeError:
            raise FileRejected(
                _("Row %(row)s of the file cannot be read as %(encoding)s text; save the whole file as “CSV UTF-8”.")
                % {"row": f"{self.records + 1:,}", "encoding": self.encoding.name}
            ) from None
        if not line:
            raise StopIteration
        self.size += len(line)
        if self.size > MAX_RECORD_CHARS:
            raise FileRejected(
                _("Row %(row)s of the file is longer than %(max)s characters; it cannot be a row of %(what)s.")
                % {"row": f"{self.records + 1:,}", "max": f"{MAX_RECORD_CHARS:,}", "what": _("a spreadsheet")}
            )
        return line


def read_csv(source, *, limits: Limits) -> Sheet:
    """The records of a CSV file as rows numbered from 1, with the encoding it was read in."""
    owned = isinstance(source, str | os.PathLike)
    handle = open(source, "rb") if owned else source  # noqa: SIM115 (closed with the rows)
    try:
        size = handle.seek(0, 2)
        handle.seek(0)
        if size > limits.max_file_bytes:
            raise FileRejected(
                _("The file is larger than %(mb)d MB; split it into smaller files.")
                % {"mb": limits.max_file_bytes // 2**20}
            )
        encoding = detect_encoding(handle)
        handle.seek(0)
        lines = 1
        while chunk := handle.read(SAMPLE_BYTES):
            lines += chunk.count(b"\n")
        handle.seek(0)
        text = io.TextIOWrapper(handle, encoding=encoding.codec, errors="strict", newline="")
        try:
            delimiter = _delimiter(text.read(64 << 10).removeprefix("\ufeff"))
        except UnicodeDecodeError:
            delimiter = ","  # the row that cannot be decoded is named when it is read
        text.seek(0)
    except BaseException:
        if owned:
            handle.close()
        raise
    rows = _rows(text, encoding, delimiter, limits, owned)
    return Sheet(kind="csv", rows=rows, total_rows=lines, encoding=str(encoding))


def _rows(text, encoding: Encoding, delimiter: str, limits: Limits, owned: bool):
    records = _Records(text, encoding)
    reader = csv.reader(records, dialect=csv.excel, delimiter=delimiter)
    try:
        for number, record in enumerate(reader, start=1):
            records.size, records.records = 0, number
            if number > limits.row_limit:
                raise FileRejected(
                    _(
                        "The file has more than %(max)s rows; %(what)s has at most that many. "
                        "Split it into smaller files."
                    )
                    % {"max": f"{limits.max_rows:,}", "what": limits.what}
                )
            while record and not record[-1]:
                record.pop()
            if len(record) > limits.max_columns:
                raise FileRejected(
                    _("Row %(row)s of the file has %(count)d columns; %(what)s has at most %(max)d columns.")
                    % {"row": f"{number:,}", "count": len(record), "what": limits.what, "max": limits.max_columns}
                )
            if number == 1 and record:
                record[0] = record[0].removeprefix("\ufeff")
            yield number, [_unescaped(value) for value in record]
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise FileRejected(
                _("A cell in row %(row)s holds more than %(max)s characters, more than a spreadsheet cell can.")
                % {"row": f"{records.records + 1:,}", "max": f"{EXCEL_CELL_CHARS:,}"}
            ) from None
        raise FileRejected(
            _("Row %(row)s of the file cannot be read as CSV (%(error)s).")
            % {"row": f"{records.records + 1:,}", "error": str(exc)[:100]}
        ) from None
    finally:
        if owned:
            text.close()
        else:
            text.detach()


def _unescaped(value: str) -> str:
    """A cell our own writers guarded against formula injection ('=1+1) reads as it was written."""
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_TRIGGERS:
        return value[1:]
    return value
