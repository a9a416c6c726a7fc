"""Stored sentences shown in the reader's language.

The platform writes sentences into its records as it works: an order's timeline entries
("Paid 20.50 USD from the balance."), an import's summary, a ledger memo. They are written
in the language active at the time (English for the worker and beat, the member's own in a
request) and read later by anyone, in either language. `shown(text)` gives the text in the
active language: it recognises, sentence by sentence, the sentences of our own catalogue in
either language (each msgid and its translation compiled into a pattern whose placeholders
capture their values) and writes each again from the catalogue's form in the active
language. A captured value that is itself one of our labels ("Order file import",
"Bank transfer") is translated too. What it does not recognise (a person's own words, a
platform's answer) stays as written.

Cost: the patterns are compiled once per process (about 2,000 of them) and indexed by the
first words of their fixed text, so a timeline entry costs a few dictionary lookups and a
few regex matches.
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


@dataclass(frozen=True)
class Sentence:
    pattern: re.Pattern
    forms: dict  # language -> the catalogue's text in that language (with its placeholders)
    names: tuple  # placeholder names in the pattern's group order


def _catalogue_path(language: str) -> Path:
    return Path(settings.BASE_DIR) / "locale" / translation.to_locale(language) / "LC_MESSAGES" / "django.mo"


def _pattern(text: str) -> tuple[str, tuple]:
    """The regex for a catalogue text: its fixed text literally, each placeholder a group
    (a number for %d; for %s the shortest text, or the rest of the text when it ends it)."""
    names, parts, position = [], [], 0
    matches = list(PLACEHOLDER.finditer(text))
    for number, match in enumerate(matches):
        parts.append(re.escape(text[position : match.start()]))
        name = match.group("name") or f"_{number}"
        kind = match.group("kind") or match.group("bare")
        group = f"g{len(names)}"
        last = match.end() == len(text)
        parts.append(rf"(?P<{group}>-?\d+)" if kind == "d" else rf"(?P<{group}>.+{'' if last else '?'})")
        names.append((name, kind))
        position = match.end()
    parts.append(re.escape(text[position:]))
    return "".join(parts), tuple(names)


def _fixed_prefix(text: str) -> str:
    match = PLACEHOLDER.search(text)
    return (text[: match.start()] if match else text)[:PREFIX_CHARS]


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
            source, names = _pattern(text)
            sentence = Sentence(re.compile(source, re.DOTALL), forms, names)
            prefix = _fixed_prefix(text)
            if prefix:
                by_prefix.setdefault(prefix, []).append(sentence)
            else:
                leading.append(sentence)
    # The longest fixed texts first: "Payment of %(n)d order(s)" before a shorter look-alike.
    for sentences in by_prefix.values():
        sentences.sort(key=lambda sentence: -len(sentence.pattern.pattern))
    return by_prefix, leading, labels


def _languages() -> tuple[str, str]:
    codes = [code for code, _name in settings.LANGUAGES]
    return codes[0], codes[1]


def _rewrite(sentence: Sentence, match: re.Match, language: str, labels: dict) -> str:
    values = {}
    for number, (name, kind) in enumerate(sentence.names):
        value = match.group(f"g{number}")
        if kind == "d":
            values[name] = int(value)
        else:
            label = labels.get(value)
            values[name] = label.get(language, value) if label else value
    target = sentence.forms.get(language) or sentence.forms[_languages()[0]]
    try:
        if all(name.startswith("_") for name, _kind in sentence.names):
            return target % tuple(values.values())
        return target % values
    except (KeyError, TypeError, ValueError):
        return match.group(0)


def shown(text: str | None) -> str:
    """`text` (a sentence or sentences our code wrote) in the active language."""
    if not text:
        return text or ""
    base, other = _languages()
    language = translation.get_language() or base
    language = other if language.lower() == other.lower() else base
    by_prefix, leading, labels = _index((base, other))
    if not labels and not by_prefix:
        return text
    whole = labels.get(text.strip())
    if whole:
        return whole.get(language, text)
    out, position = [], 0
    while position < len(text):
        candidates = [
            sentence
            for length in range(PREFIX_CHARS, 0, -1)
            for sentence in by_prefix.get(text[position : position + length], ())
        ]
        for sentence in candidates + leading:
            match = sentence.pattern.match(text, position)
            if match is None:
                continue
            end = match.end()
            if end < len(text) and text[end - 1] not in SENTENCE_ENDS:
                continue  # a sentence ends where the text ends or with its stop
            out.append(_rewrite(sentence, match, language, labels))
            gap = SENTENCE_GAP.match(text, end)
            if not out[-1].endswith(("。", "：", "）")):
                out.append(text[end : gap.end()])  # 。 needs no space after it
            position = gap.end()
            break
        else:
            out.append(text[position:])  # not ours: as written
            break
    return "".join(out)
