"""Stored sentences shown in the reader's language.

The platform writes sentences into its records as it works: an order's timeline entries
("Paid 20.50 USD from the balance."), an import's summary, a ledger memo. They are written
in the language active at the time (English for the worker and beat, the member's own in a
request) and read later by anyone, in either language. `shown(text)` gives the text in the
active language: it recognises, sentence by sentence, the sentences of our own catalogue in
either language (each msgid and its translation cut into fixed pieces around its
placeholders, which capture their values) and writes each again from the catalogue's form in the active
language. A captured value that is itself one of our labels ("Order file import",
"Bank transfer") is translated too. What it does not recognise (a person's own words, a
platform's answer) stays as written.

Cost: the sentences are read from the compiled catalogue once per process and indexed by
the first characters of their fixed text, so a timeline entry costs a few dictionary
lookups and a few `str.find` calls.
"""

import gettext
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import translation

PLACEHOLDER = re.compile(r"%\((?P<name>[^)]+)\)(?P<kind>[sdif])|%(?P<bare>[sd])")
PREFIX_CHARS = 6  # fixed text a pattern is indexed by
MIN_FIXED = 4  # letters a pattern's fixed text needs, so that it says something
SENTENCE_ENDS = ".:!?)。：！？）"
SENTENCE_GAP = re.compile(r"[ \u3000]*")  # sentences are joined by a space (or none after 。)


# Placeholders that hold one of our labels (a source, a status, a payment method...): their
# value is translated too. Others (numbers, references, names) are data and stay as they are.
LABEL_PLACEHOLDERS = frozenset({"source", "method", "status", "platform", "state", "role", "label", "what"})
LONGEST_SHOWN = 4000  # longer texts are not ours: shown as written


@dataclass(frozen=True)
class Sentence:
    """A catalogue text as fixed pieces around its placeholders: pieces[0] P1 pieces[1] ... Pk pieces[k]."""

    pieces: tuple
    names: tuple  # (name, kind) of each placeholder, in order
    forms: dict  # language -> the catalogue's text in that language (with its placeholders)

    def match(self, text: str, position: int) -> tuple[list, int] | None:
        """The placeholders' values and where the sentence ends, or None.

        Linear: each fixed piece is found once with str.find after the previous one (a value
        is the shortest text before the next piece; the last, when nothing follows it, runs
        to the end), so no text, however long or hostile, makes it backtrack."""
        first = self.pieces[0]
        if not text.startswith(first, position):
            return None
        cursor, values = position + len(first), []
        for (_name, kind), following in zip(self.names, self.pieces[1:], strict=True):
            if following:
                found = text.find(following, cursor + 1)
                if found < 0:
                    return None
                value, cursor = text[cursor:found], found + len(following)
            else:
                value, cursor = text[cursor:], len(text)
            if not value or (kind == "d" and not NUMBER.fullmatch(value)):
                return None
            values.append(value)
        return values, cursor


NUMBER = re.compile(r"-?\d+")


def _catalogue_path(language: str) -> Path:
    return Path(settings.BASE_DIR) / "locale" / translation.to_locale(language) / "LC_MESSAGES" / "django.mo"


def _sentence(text: str, forms: dict) -> Sentence | None:
    """`text` cut into fixed pieces and placeholders; None when two placeholders touch
    (nothing would tell where one ends)."""
    pieces, names, position = [], [], 0
    for number, match in enumerate(PLACEHOLDER.finditer(text)):
        pieces.append(text[position : match.start()])
        names.append((match.group("name") or f"_{number}", match.group("kind") or match.group("bare")))
        position = match.end()
    pieces.append(text[position:])
    if any(not piece for piece in pieces[1:-1]):
        return None
    return Sentence(tuple(pieces), tuple(names), forms)


@cache
def _index(languages: tuple) -> tuple[dict, list, dict]:
    """(patterns by fixed prefix, patterns starting with a placeholder, labels)."""
    base, other = languages
    try:
        with _catalogue_path(other).open("rb") as handle:
            catalogue = gettext.GNUTranslations(handle)._catalog
    except OSError:
        return {}, [], {}
    by_prefix: dict[str, list[Sentence]] = {}
    leading: list[Sentence] = []
    labels: dict[str, dict] = {}
    for key, translated in catalogue.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if not msgid or not translated or (isinstance(key, tuple) and key[1] != 0):
            continue
        forms = {base: msgid, other: translated}
        if PLACEHOLDER.search(msgid) is None:
            if len(msgid) <= 80:
                labels[msgid] = forms
                labels[translated] = forms
            if not msgid.endswith((".", ":")) or len(msgid) < 12:
                continue  # a label, not a sentence a record would hold
        for text in (msgid, translated):
            if len(re.sub(r"\W", "", PLACEHOLDER.sub("", text))) < MIN_FIXED:
                continue  # "%(name)s." would read any text as its own
            sentence = _sentence(text, forms)
            if sentence is None:
                continue
            prefix = sentence.pieces[0][:PREFIX_CHARS]
            if prefix:
                by_prefix.setdefault(prefix, []).append(sentence)
            else:
                leading.append(sentence)
    # The longest fixed texts first: "Payment of %(n)d order(s)" before a shorter look-alike.
    for sentences in by_prefix.values():
        sentences.sort(key=lambda sentence: -sum(len(piece) for piece in sentence.pieces))
    return by_prefix, leading, labels


def _languages() -> tuple[str, str]:
    codes = [code for code, _name in settings.LANGUAGES]
    return codes[0], codes[1]


def _rewrite(sentence: Sentence, found: list, language: str, labels: dict) -> str | None:
    values = {}
    for (name, kind), value in zip(sentence.names, found, strict=True):
        if kind == "d":
            values[name] = int(value)
        elif name in LABEL_PLACEHOLDERS and value in labels:
            values[name] = labels[value].get(language, value)
        else:
            values[name] = value
    target = sentence.forms.get(language) or sentence.forms[_languages()[0]]
    try:
        if all(name.startswith("_") for name, _kind in sentence.names):
            return target % tuple(values.values())
        return target % values
    except (KeyError, TypeError, ValueError):
        return None


def shown(text: str | None) -> str:
    """`text` (a sentence or sentences our code wrote) in the active language."""
    if not text:
        return text or ""
    if len(text) > LONGEST_SHOWN:
        return text
    base, other = _languages()
    language = translation.get_language() or base
    language = other if language.lower() == other.lower() else base
    by_prefix, leading, labels = _index((base, other))
    out, position = [], 0
    while position < len(text):
        candidates = [
            sentence
            for length in range(PREFIX_CHARS, 0, -1)
            for sentence in by_prefix.get(text[position : position + length], ())
        ]
        for sentence in candidates + leading:
            matched = sentence.match(text, position)
            if matched is None:
                continue
            found, end = matched
            if end < len(text) and text[end - 1] not in SENTENCE_ENDS:
                continue  # a sentence ends where the text ends or with its stop
            written = _rewrite(sentence, found, language, labels)
            if written is None:
                continue
            gap = SENTENCE_GAP.match(text, end).end()
            if written.endswith(("。", "：", "）")):
                gap_text = ""  # no space after a Chinese stop
            elif gap == end and gap < len(text):
                gap_text = " "  # sentences that followed a Chinese stop need one in English
            else:
                gap_text = text[end:gap]
            out.append(written + gap_text)
            position = gap
            break
        else:
            out.append(text[position:])  # not ours: as written
            break
    return "".join(out)
