"""Finding an importer's columns by the names in a file's header row.

Names match ignoring case, spaces, punctuation and full-width forms ("Order No.",
"order_no", "ＯＲＤＥＲ ＮＯ" are one name), and a trailing note in brackets
("Platform product ID (optional)"). Each importer lists its columns with their other
names (the Chinese of its template among them) beside its column list.
"""

import re
import unicodedata
from collections.abc import Iterable, Mapping

_BRACKETED = re.compile(r"\([^()]*\)")


def header_key(value) -> str:
    text = unicodedata.normalize("NFKC", str(value or "")).casefold()
    text = _BRACKETED.sub("", text)
    return "".join(char for char in text if char.isalnum())


class Columns:
    """An importer's columns: each canonical name with the other names it may go by."""

    def __init__(self, names: Iterable[str], aliases: Mapping[str, Iterable[str]] | None = None):
        self.names = list(names)
        self.by_key: dict[str, str] = {}
        for name in self.names:
            for spelling in (name, *(aliases or {}).get(name, ())):
                key = header_key(spelling)
                if self.by_key.setdefault(key, name) != name:
                    raise ValueError(f"{spelling!r} names both {self.by_key[key]!r} and {name!r}")

    def find(self, header: Iterable) -> dict[str, int]:
        """Column name -> its position in `header`; the first of two columns of one name wins."""
        positions: dict[str, int] = {}
        for position, value in enumerate(header):
            name = self.by_key.get(header_key(value))
            if name is not None and name not in positions:
                positions[name] = position
        return positions
