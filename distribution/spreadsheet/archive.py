"""The zip container of an xlsx, opened without trusting anything it says about itself.

- The central directory is sized from the end record before `zipfile` reads it (a
  directory of a million entries costs zipfile half a gigabyte).
- Every member is inflated in chunks and its real bytes counted: a member whose declared
  size lies fails its checksum in zipfile (BadZipFile), and a bomb is stopped by its ratio
  or by the size and total limits long before it is inflated in full.
- Names that differ only in case are refused (calamine looks parts up ignoring case and
  would take the first, zipfile the last), and so is data before the archive or between
  its directory and its end record, which zipfile skips and other readers may not: both
  readers then find every part at the same bytes.
"""

import struct
import zipfile
from collections.abc import Iterator

from django.utils.translation import gettext as _

from .limits import FileRejected, Limits
from .scan import damaged

CHUNK = 1 << 20
# Below this, a part may compress as well as it likes (a styles part of zeros harms no one).
RATIO_FREE_BYTES = 1 << 20
MAX_DIRECTORY_BYTES = 1 << 20
_END = b"PK\x05\x06"
_END64_LOCATOR = b"PK\x06\x07"
_END64 = b"PK\x06\x06"


def _mb(count: int) -> str:
    return f"{count / 2**20:,.0f}"


def _directory_size(handle) -> int:
    """The central directory's size, from the end record, which must sit right after it."""
    size = handle.seek(0, 2)
    tail_size = min(size, (1 << 16) + 22)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < 22:
        raise damaged(_("it is not a complete zip archive"))
    _sig, _disk, _start, _here, entries, directory, offset, _comment = struct.unpack("<4s4H2LH", tail[at : at + 22])
    end_at = size - tail_size + at
    if entries == 0xFFFF or directory == 0xFFFFFFFF or offset == 0xFFFFFFFF:
        locator = tail[at - 20 : at] if at >= 20 else b""
        if not locator.startswith(_END64_LOCATOR):
            raise damaged(_("it is not a complete zip archive"))
        (end_at,) = struct.unpack("<Q", locator[8:16])
        handle.seek(end_at)
        record = handle.read(56)
        if len(record) < 56 or not record.startswith(_END64):
            raise damaged(_("it is not a complete zip archive"))
        directory, offset = struct.unpack("<QQ", record[40:56])
    if offset + directory != end_at:
        raise damaged(_("its directory is not where its end record says"))
    return directory


class Archive:
    """An opened xlsx archive, with the limits every member is inflated under."""

    def __init__(self, handle, limits: Limits):
        self.limits = limits
        self.total = 0
        try:
            if _directory_size(handle) > MAX_DIRECTORY_BYTES:
                raise self._too_many_parts()
            handle.seek(0)
            self.zip = zipfile.ZipFile(handle)
        except FileRejected:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, struct.error, EOFError) as exc:
            raise damaged(str(exc)[:200]) from None
        self.members = self.zip.infolist()
        if len(self.members) > limits.max_parts:
            raise self._too_many_parts()
        self.by_name: dict[str, zipfile.ZipInfo] = {}
        for info in self.members:
            key = info.filename.lower()
            if key in self.by_name:
                raise damaged(_("it holds two parts named “%(name)s”") % {"name": info.filename[:80]})
            self.by_name[key] = info

    def _too_many_parts(self) -> FileRejected:
        return FileRejected(
            _("The file holds more than %(max)s parts; a spreadsheet holds a few dozen. It was not read.")
            % {"max": f"{self.limits.max_parts:,}"}
        )

    def find(self, name: str) -> zipfile.ZipInfo | None:
        """The member calamine would open for `name` (it ignores case)."""
        return self.by_name.get(name.lower())

    def chunks(self, info: zipfile.ZipInfo, *, tally: bool = True) -> Iterator[bytes]:
        """The member's bytes, inflated a chunk at a time under every limit; `tally=False`
        reads a member again without counting it twice towards the total."""
        limits = self.limits
        cap = limits.max_part_bytes
        allowed = max(limits.max_ratio * info.compress_size, RATIO_FREE_BYTES)
        produced = 0
        try:
            with self.zip.open(info) as member:
                while chunk := member.read(CHUNK):
                    produced += len(chunk)
                    if tally:
                        self.total += len(chunk)
                    if produced > cap:
                        raise FileRejected(
                            _(
                                "The file unpacks to more than %(max)s MB in one part (%(part)s); %(what)s may "
                                "unpack to at most %(max)s MB. Split it into smaller files."
                            )
                            % {"max": _mb(cap), "part": info.filename[:80], "what": limits.what}
                        )
                    if produced > allowed:
                        raise FileRejected(
                            _(
                                "Part %(part)s of the file unpacks to more than %(ratio)d times its packed size, "
                                "which no spreadsheet does; the file was not read."
                            )
                            % {"part": info.filename[:80], "ratio": limits.max_ratio}
                        )
                    if self.total > limits.max_total_bytes:
                        raise FileRejected(
                            _("The file unpacks to more than %(max)s MB; split it into smaller files.")
                            % {"max": _mb(limits.max_total_bytes)}
                        )
                    yield chunk
        except FileRejected:
            raise
        except zipfile.BadZipFile as exc:
            if "CRC" in str(exc):
                raise damaged(_("part %(part)s does not match its checksum") % {"part": info.filename[:80]}) from None
            raise damaged(str(exc)[:200]) from None
        except (RuntimeError, NotImplementedError) as exc:  # encrypted, or a method zipfile lacks
            raise damaged(str(exc)[:200]) from None
        except Exception as exc:  # zlib.error, EOFError, lzma/bz2 errors: a broken stream
            raise damaged(str(exc)[:200]) from None

    def read_small(self, info: zipfile.ZipInfo, cap: int) -> bytes:
        """A part read whole (the workbook and its relationships), refused beyond `cap` bytes."""
        parts = []
        size = 0
        for chunk in self.chunks(info, tally=False):
            size += len(chunk)
            if size > cap:
                raise damaged(_("part %(part)s is far larger than it can be") % {"part": info.filename[:80]})
            parts.append(chunk)
        return b"".join(parts)
