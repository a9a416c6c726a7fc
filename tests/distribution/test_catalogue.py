"""The Simplified Chinese catalogue is complete, keeps every placeholder and tag of its
English source, and the committed .mo is the .po compiled.

House rule: a change that adds a page string translates it in the same change, so any
untranslated or fuzzy entry fails here. Refresh and compile with `make messages`.
No database: the .po is read by the small parser below and the .mo by `gettext`.
"""

import gettext
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# The guide's menu items and buttons (docs/user-guide.md), as the portal shows them in Chinese.
GUIDE_LABELS = {
    "Platform Authorization": "平台授权",
    "Platform Store Authorization": "平台店铺授权",
    "Authorize Now": "立即授权",
    "Product Mapping": "商品映射",
    "Add": "添加",
    "Batch Import": "批量导入",
    "Financial Management": "财务管理",
    "Balance Management": "余额管理",
    "Top Up Balance": "充值",
    "Sync now": "立即同步",
    "Catalog": "商品目录",
    "Orders": "订单",
    "Pay selected": "支付所选",
    "Pay order": "支付订单",
    "Download product pack": "下载产品资料包",
}

# Python-format placeholders (%(name)s, %s, %d, %.2f, ...; not the escaped %%) and template variables.
PYTHON_FORMAT = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[sdifrxXeEgGcouaAb]")
TEMPLATE_VARIABLE = re.compile(r"{{\s*(.*?)\s*}}")
TAG = re.compile(r"</?[A-Za-z][^>]*>")


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        return f"django.po:{self.line} {self.msgid[:70]!r}"

    def translations(self) -> list[str]:
        return [self.msgstr[i] for i in sorted(self.msgstr)]


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(token: str, line: int) -> str:
    token = token.strip()
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise ValueError(f"django.po:{line}: not a quoted string: {token!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), token[1:-1])


def parse_po(text: str) -> list[Entry]:
    """Entries in file order, the header (msgid "") first; obsolete (#~) entries are skipped."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None

    def finish():
        nonlocal entry, target
        if entry is not None:
            entries.append(entry)
        entry, target = None, None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is not None and target is not None and target[0] == "msgstr":
                finish()  # comments start the next entry
            entry = entry or Entry(line=number)
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(",") if flag.strip())
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            if entry is None or target is None:
                raise ValueError(f"django.po:{number}: a string outside an entry")
            value = _unquote(line, number)
            if target[0] == "msgstr":
                entry.msgstr[target[1]] += value
            else:
                setattr(entry, target[0], getattr(entry, target[0]) + value)
            continue
        if keyword in ("msgctxt", "msgid") and entry is not None and target is not None and target[0] == "msgstr":
            finish()
        entry = entry or Entry(line=number)
        value = _unquote(rest, number)
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(entry, keyword, value)
            target = (keyword, 0)
        elif keyword == "msgstr":
            entry.msgstr[0] = value
            target = ("msgstr", 0)
        elif re.fullmatch(r"msgstr\[\d+\]", keyword):
            index = int(keyword[7:-1])
            entry.msgstr[index] = value
            target = ("msgstr", index)
        else:
            raise ValueError(f"django.po:{number}: unknown keyword {keyword!r}")
    finish()
    return entries


CATALOGUE = parse_po(PO_PATH.read_text(encoding="utf-8"))
HEADER = CATALOGUE[0]
MESSAGES = CATALOGUE[1:]


def _nplurals() -> int:
    match = re.search(r"nplurals\s*=\s*(\d+)", HEADER.msgstr.get(0, ""))
    assert match, "the header has no Plural-Forms"
    return int(match.group(1))


def _placeholders(text: str, python_format: bool) -> set[str]:
    found = {f"{{{{ {name} }}}}" for name in TEMPLATE_VARIABLE.findall(text)}
    if python_format:
        found |= {m.group(0) for m in PYTHON_FORMAT.finditer(text.replace("%%", ""))}
    return found


def _mo_key(entry: Entry, index: int | None = None):
    msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
    return msgid if index is None else (msgid, index)


def _po_catalogue() -> dict:
    """The .po's messages keyed as `gettext.GNUTranslations` keys its catalogue."""
    catalogue = {}
    for entry in MESSAGES:
        if entry.msgid_plural is None:
            catalogue[_mo_key(entry)] = entry.msgstr.get(0, "")
        else:
            for index, text in entry.msgstr.items():
                catalogue[_mo_key(entry, index)] = text
    return catalogue


def _mo_catalogue(path: Path) -> dict:
    with path.open("rb") as handle:
        catalogue = dict(gettext.GNUTranslations(handle)._catalog)
    catalogue.pop("", None)  # the header
    return catalogue


def test_parse_po_reads_plurals_context_flags_and_continued_strings():
    sample = (
        'msgid ""\nmsgstr ""\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        '#: a.py:1\n#, fuzzy, python-format\n#| msgid "old"\nmsgctxt "menu"\nmsgid "Say \\"%(n)s\\""\n'
        'msgstr ""\n"说“%(n)s”"\n"\\n"\n\n'
        'msgid "%(n)d order"\nmsgid_plural "%(n)d orders"\nmsgstr[0] "%(n)d 个订单"\n\n'
        '#~ msgid "gone"\n#~ msgstr "旧"\n'
    )
    header, first, second = parse_po(sample)
    assert "nplurals=1" in header.msgstr[0]
    assert (first.msgctxt, first.msgid, first.msgstr) == ("menu", 'Say "%(n)s"', {0: "说“%(n)s”\n"})
    assert first.flags == {"fuzzy", "python-format"}
    assert (second.msgid_plural, second.msgstr) == ("%(n)d orders", {0: "%(n)d 个订单"})


def test_placeholders_finds_named_bare_and_template_ones_but_not_percent_signs():
    assert _placeholders("%(name)s has %d of %s, %.2f%% {{ who }}", python_format=True) == {
        "%(name)s",
        "%d",
        "%s",
        "%.2f",
        "{{ who }}",
    }
    assert _placeholders("100% natural", python_format=False) == set()


def test_catalogue_every_message_is_translated():
    untranslated = [e.label for e in MESSAGES if not e.msgstr or any(not text for text in e.translations())]
    assert untranslated == [], f"{len(untranslated)} untranslated entries: {untranslated[:20]}"


def test_catalogue_no_message_is_fuzzy():
    fuzzy = [e.label for e in MESSAGES if "fuzzy" in e.flags]
    assert fuzzy == [], f"fuzzy entries (check the translation, then remove the flag): {fuzzy}"
    assert "fuzzy" not in HEADER.flags


def test_catalogue_plural_messages_have_one_form_per_plural():
    nplurals = _nplurals()
    assert nplurals == 1, "Chinese has a single plural form"
    wrong = [e.label for e in MESSAGES if e.msgid_plural is not None and sorted(e.msgstr) != list(range(nplurals))]
    assert wrong == []
    assert any(e.msgid_plural is not None for e in MESSAGES)


def test_catalogue_placeholders_match_the_english():
    wrong = []
    for entry in MESSAGES:
        python_format = "python-format" in entry.flags
        expected = _placeholders(entry.msgid, python_format)
        if entry.msgid_plural is not None:
            # a singular may name the count as "one"; the translation follows the plural
            expected |= _placeholders(entry.msgid_plural, python_format)
        for text in entry.translations():
            if text and _placeholders(text, python_format) != expected:
                wrong.append((entry.label, sorted(expected), sorted(_placeholders(text, python_format))))
    assert wrong == []


def test_catalogue_markup_and_surrounding_whitespace_match_the_english():
    wrong = []
    for entry in MESSAGES:
        for text in entry.translations():
            if not text:
                continue
            if Counter(TAG.findall(text)) != Counter(TAG.findall(entry.msgid)):
                wrong.append((entry.label, "tags"))
            lead = entry.msgid[: len(entry.msgid) - len(entry.msgid.lstrip())]
            trail = entry.msgid[len(entry.msgid.rstrip()) :]
            if not (text.startswith(lead) and text.endswith(trail)) or text != lead + text.strip() + trail:
                wrong.append((entry.label, "leading or trailing whitespace"))
    assert wrong == []


def test_catalogue_guide_labels_are_translated_as_the_menu_shows_them():
    by_msgid = {e.msgid: e.msgstr.get(0) for e in MESSAGES if e.msgctxt is None}
    assert {label: by_msgid.get(label) for label in GUIDE_LABELS} == GUIDE_LABELS


def test_catalogue_guide_labels_quoted_in_sentences_keep_their_chinese():
    """A sentence that names a menu item or button uses the label's own translation, so the
    distributor finds on the page what the text tells them to click."""
    wrong = []
    for entry in MESSAGES:
        text = entry.msgstr.get(0, "")
        for label, chinese in GUIDE_LABELS.items():
            if entry.msgid == label:
                continue
            bracketed = f"[{label}]" in entry.msgid and f"[{chinese}]" not in text
            named = " " in label and re.search(rf"\b{re.escape(label)}\b", entry.msgid) and chinese not in text
            if bracketed or named:
                wrong.append((entry.label, label, chinese))
    assert wrong == []


def test_mo_matches_every_message_of_the_po():
    """The committed .mo is the .po compiled: same messages, same translations."""
    po, mo = _po_catalogue(), _mo_catalogue(MO_PATH)
    stale = sorted(str(key) for key in po if mo.get(key) != po[key])
    extra = sorted(str(key) for key in mo if key not in po)
    assert stale == [], f"recompile the .mo (make messages): {len(stale)} differ, e.g. {stale[:5]}"
    assert extra == [], f"the .mo has messages the .po no longer has: {extra[:5]}"


def test_mo_translates_the_guide_labels_through_django():
    with translation.override("zh-hans"):
        assert {label: translation.gettext(label) for label in GUIDE_LABELS} == GUIDE_LABELS
        assert translation.ngettext("%(n)s order", "%(n)s orders", 3) % {"n": 3} == "3 个订单"
    with translation.override("en"):
        assert translation.gettext("Top Up Balance") == "Top Up Balance"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
def test_po_compiles_cleanly_with_msgfmt_to_the_committed_mo(tmp_path):
    compiled = tmp_path / "django.mo"
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(compiled), str(PO_PATH)], capture_output=True, text=True, timeout=60
    )
    errors = [line for line in result.stderr.splitlines() if "warning" not in line]
    assert result.returncode == 0 and errors == [], result.stderr
    assert _mo_catalogue(compiled) == _mo_catalogue(MO_PATH)
