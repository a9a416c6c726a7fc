"""The visual check: every portal page, as the demo owner, in English and in Simplified
Chinese, on a laptop (1366x768) and on a phone (390x844), in headless Chromium.

Which pages. Every URL pattern of the portal (tests/portal_urls.py's resolver walk, so a
new page is covered without being listed here), its parameters filled with ids of the
demo data (tests/distribution/visual_data.py; a parameter it cannot fill fails the test,
naming it). Each URL is first asked for with the test client as the owner; what it
answers decides what it is, never a list of names:

- 405: an action that only takes a POST (the browser cannot open it): left out;
- 200 that is not text/html: a download or a JSON answer (exports, tracking files, the
  product pack, progress polls): left out;
- 200 text/html: a page, opened in the browser at each language and size;
- anything else fails, except for the two places a platform's consent page sends the
  browser back to (RETURN_ENDPOINTS), which answer with a redirect by design.

What fails, listed page by page at the end:

(a) the page scrolls sideways (document.scrollingElement.scrollWidth > innerWidth + 1),
    naming the elements that reach past the window; or a box inside it does (a
    .table-responsive whose table is wider than the page hides columns behind a scroll
    bar: the columns that matter least fold instead, see static/css/portal.css);
(b) in Chinese, the page shows an untranslated string. The page's text is its visible
    text nodes, plus the value of visible buttons and the placeholder, title, aria-label
    and alt of visible elements (text inside a closed dropdown, collapsed menu or modal
    counts as visible: one click shows it). Left out as not ours to translate: <code>,
    <pre>, <kbd>, <samp>, elements marked data-i18n="data", and elements whose lang
    attribute names another language (the language chooser names each language in
    itself). A text is untranslated when
      1. after whitespace normalisation it is a msgid of the Chinese catalogue whose
         translation differs from it (empty included): as it is, or with its placeholders
         filled in by anything (so a message written in English into a row, such as a
         timeline entry, is caught though the database holds it), or
      2. it holds a run of two or more English words of the portal's vocabulary (the
         words of the catalogue's msgids, less those its Chinese translations keep in
         Latin letters, such as Shopify, SKU or CSV), once the data is taken out. Data is
         what the database holds: every text a row of the demo stores (company, store,
         product and warehouse names, addresses, SKUs, reasons typed by people, a
         platform's error message) is cut out of the text before the words are read,
         so a product called "Hand Cream" or a hold reason typed in English is not
         taken for an untranslated label. Numbers, codes and e-mail addresses hold no
         vocabulary words and pass by themselves.

Screenshots: var/screenshots/<page>-<lang>-<width>.png, the whole page, for every page
at every language and size (the README shows four of them). One browser context per
language and size, logged in with the owner's session cookie; nothing is blocked.
"""

import re
import time
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse

from tests.browser import SCREENSHOTS
from tests.distribution import visual_data
from tests.distribution.test_catalogue import PO_PATH, parse_po
from tests.portal_urls import portal_urls

LANGUAGES = ["en", "zh-hans"]
SIZES = [(1366, 768), (390, 844)]
# Where a platform's consent page sends the browser back: each finishes (or refuses) an
# authorization and redirects to the store list with a message. They are no page.
RETURN_ENDPOINTS = {"stores:authorize_callback", "stores:woocommerce_return"}
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
PLACEHOLDER = re.compile(r"%\([^)]*\)[sdif]|%[sdif]|\{\{.*?\}\}|<[^>]+>|&[a-z]+;")

# Runs in the page: the text a person sees, each with where it was found.
COLLECT_TEXT = """() => {
  const SHOWN_ON_CLICK = '.dropdown-menu, .collapse, .modal, .offcanvas, .tab-pane';
  const SKIPPED = 'script, style, noscript, template, code, pre, kbd, samp, [data-i18n="data"]';
  const shown = (element) => {
    for (let el = element; el && el.nodeType === 1; el = el.parentElement) {
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' && !el.closest(SHOWN_ON_CLICK)) return false;
      if (style.display === 'none' && !el.matches(SHOWN_ON_CLICK) && el.tagName !== 'OPTION') return false;
    }
    return true;
  };
  const foreign = (el) => {
    const tagged = el.closest('[lang]');
    return tagged && !tagged.getAttribute('lang').toLowerCase().startsWith('zh');
  };
  const where = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1 && parts.length < 3; e = e.parentElement) {
      parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
        (e.classList.length ? '.' + [...e.classList].slice(0, 2).join('.') : ''));
    }
    return parts.join(' > ');
  };
  const found = [];
  const take = (text, el) => {
    const normal = (text || '').replace(/\\s+/g, ' ').trim();
    if (normal && !el.closest(SKIPPED) && !foreign(el) && shown(el)) found.push([normal, where(el)]);
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) take(node.nodeValue, node.parentElement);
  for (const el of document.body.querySelectorAll('[placeholder], [title], [aria-label], [alt]')) {
    for (const name of ['placeholder', 'title', 'aria-label', 'alt']) take(el.getAttribute(name), el);
  }
  for (const el of document.body.querySelectorAll('input[type=submit], input[type=button], input[type=reset]')) {
    take(el.value, el);
  }
  return found;
}"""
# Runs in the page: how wide the page is against the window, and what is too wide: the
# outermost elements reaching past the window's right edge, and any box that scrolls
# sideways inside the page (a table wrapper hiding columns behind a scroll bar).
SIDEWAYS = """() => {
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.classList.length ? '.' + [...el.classList].slice(0, 3).join('.') : '') +
    (el.dataset.testid ? '[data-testid=' + el.dataset.testid + ']' : '');
  const limit = window.innerWidth + 1;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.getBoundingClientRect().right > limit && !(el.parentElement.getBoundingClientRect().right > limit)) {
      wide.push(name(el) + ' in ' + name(el.parentElement));
    }
  }
  const scrolling = [];
  for (const el of document.body.querySelectorAll('*')) {
    const overflow = getComputedStyle(el).overflowX;
    if ((overflow === 'auto' || overflow === 'scroll') && el.tagName !== 'TEXTAREA' && el.tagName !== 'PRE'
        && el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
      scrolling.push(name(el.firstElementChild || el) + ' (' + el.scrollWidth + 'px in ' + el.clientWidth + 'px)');
    }
  }
  return [document.scrollingElement.scrollWidth, window.innerWidth, wide.slice(0, 3), scrolling];
}"""


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    variant: str = ""

    @property
    def slug(self) -> str:
        return "-".join(part for part in (self.name.replace(":", "-"), self.variant) if part)


# --- the catalogue -----------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.split())


@dataclass
class Catalogue:
    """What the Chinese catalogue says an English text on a page means."""

    exact: set[str]  # msgids without placeholders whose translation differs from them
    patterns: dict[str, list[tuple[re.Pattern, str]]]  # the others, by the start of their text
    vocabulary: set[str]

    def untranslated(self, text: str) -> str | None:
        """The msgid `text` is, untranslated: as it is, or with its placeholders filled in."""
        if text in self.exact:
            return text
        for pattern, msgid in self.patterns.get(text[:PREFIX].lower(), []) + self.patterns.get("", []):
            if pattern.fullmatch(text):
                return msgid
        return None


PREFIX = 4
PYTHON_FORMAT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*\d*(?:\.\d+)?[sdif]")


def _pattern(msgid: str) -> re.Pattern:
    literals = [re.escape(part.replace("%%", "%")) for part in PYTHON_FORMAT.split(msgid)]
    return re.compile("(?:.+?)".join(re.sub(r"(?:\\\s)+", r"\\s+", part) for part in literals), re.S)


def catalogue_rules() -> Catalogue:
    """The msgids shown untranslated if seen, and the portal's English vocabulary."""
    entries = [entry for entry in parse_po(PO_PATH.read_text(encoding="utf-8"))[1:] if "fuzzy" not in entry.flags]
    untranslated, words, kept = set(), set(), set()
    for entry in entries:
        for msgstr in entry.translations():
            kept.update(word.lower() for word in WORD.findall(PLACEHOLDER.sub(" ", msgstr)))
        translated = {_normal(msgstr) for msgstr in entry.translations() if msgstr}
        for source in [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else []):
            words.update(word.lower() for word in WORD.findall(PLACEHOLDER.sub(" ", source)))
            if _normal(source) not in translated:
                untranslated.add(_normal(source))
    exact, patterns = set(), {}
    for msgid in untranslated:
        if not PYTHON_FORMAT.search(msgid):
            exact.add(msgid)
            continue
        literal_words = WORD.findall(PYTHON_FORMAT.sub(" ", msgid))
        # A message that is mostly placeholders ("%(n)s g") would match any text.
        if "<" in msgid or len(literal_words) < 2 or not any(len(word) > 2 for word in literal_words):
            continue
        start = PYTHON_FORMAT.split(msgid)[0]
        key = start[:PREFIX].lower() if len(start) >= PREFIX else ""
        patterns.setdefault(key, []).append((_pattern(msgid), msgid))
    # Single letters ("a", "I") make no run on their own.
    return Catalogue(exact, patterns, {word for word in words - kept if len(word) > 1})


def database_texts() -> list[str]:
    """Every text the database holds (the demo's data), longest first, lower-cased."""
    texts = set()
    for model in apps.get_models():
        # A field with choices holds codes ("awaiting_payment"); the page shows their labels.
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField) and not f.choices
        ]
        jsons = [f.name for f in model._meta.concrete_fields if isinstance(f, models.JSONField)]
        if not fields and not jsons:
            continue
        for row in model._default_manager.values_list(*fields, *jsons):
            for value in row:
                texts.update(_strings(value))
    return sorted({_normal(t).lower() for t in texts if t and len(t.strip()) > 2}, key=len, reverse=True)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _strings(inner)
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _strings(inner)


def english_run(text: str, vocabulary: set[str], data: list[str]) -> str | None:
    """The first run of two or more vocabulary words in `text` once the data is cut out."""
    rest = text.lower()
    for value in data:
        if value in rest:
            rest = rest.replace(value, " | ")
    # A run is words separated by blanks only: punctuation and data end it.
    for chunk in re.split(r"[^a-z'’ ]+", rest):
        run = []
        for word in chunk.split():
            if word in vocabulary:
                run.append(word)
                if len(run) >= 2 and any(len(w) > 2 for w in run):
                    return " ".join(run)
            else:
                run = []
    return None


# --- the pages ---------------------------------------------------------------------------


def classify(client, data: visual_data.VisualData) -> tuple[list[Page], list[str], list[str]]:
    """The HTML pages to open, what was left out (and why), and what failed already."""
    pages, left_out, failures = [], [], []
    for url in portal_urls():
        if url.name is None:
            continue
        kwargs, missing = data.kwargs_for(url.name, url.params)
        if missing:
            failures.append(f"{url.name}: no demo row for {', '.join(missing)} (tests/distribution/visual_data.py)")
            continue
        base = reverse(url.name, kwargs=kwargs)
        for variant, query in data.queries.get(url.name, {"": ""}).items():
            path = f"{base}?{query}" if query else base
            label = f"{url.name} {variant}".strip()
            response = client.get(path)
            kind = response.headers.get("Content-Type", "").split(";")[0]
            if response.status_code == 405:
                left_out.append(f"{label} (POST only)")
            elif response.status_code == 200 and kind != "text/html":
                left_out.append(f"{label} ({kind or 'no content type'})")
            elif response.status_code == 200:
                pages.append(Page(url.name, path, variant))
            elif url.name in RETURN_ENDPOINTS and response.status_code == 302:
                left_out.append(f"{label} (return endpoint, redirects to {response.headers['Location']})")
            else:
                failures.append(f"{label} {path}: answered {response.status_code}")
            if hasattr(response, "close"):
                response.close()
    return pages, left_out, failures


def check_page(browser_page, page: Page, language: str, width: int, catalogue: Catalogue, data_texts) -> list[str]:
    """Open one page, save its screenshot, and say what is wrong with it."""
    where = f"{page.slug} [{language} {width}px]"
    response = browser_page.goto(page.path, wait_until="load")
    if response is None or response.status != 200:
        return [f"{where}: answered {response.status if response else 'nothing'} in the browser"]
    browser_page.screenshot(path=str(SCREENSHOTS / f"{page.slug}-{language}-{width}.png"), full_page=True)
    problems = []
    scroll_width, inner_width, wide, scrolling = browser_page.evaluate(SIDEWAYS)
    if scroll_width > inner_width + 1:
        problems.append(f"{where}: scrolls sideways ({scroll_width}px in {inner_width}px: {', '.join(wide)})")
    problems += [f"{where}: {box} scrolls sideways inside the page" for box in scrolling]
    if language == "en":
        return problems
    seen = set()
    for text, element in browser_page.evaluate(COLLECT_TEXT):
        if text in seen:
            continue
        seen.add(text)
        if msgid := catalogue.untranslated(text):
            shown = text if msgid == text else f"{text[:90]}, from {msgid[:60]!r}"
            problems.append(f"{where}: untranslated {shown!r} in {element}")
        elif run := english_run(text, catalogue.vocabulary, data_texts):
            problems.append(f"{where}: English {run!r} in {text[:90]!r} ({element})")
    return problems


def _grouped(failures: list[str]) -> list[str]:
    """One line per page and problem, naming every language and size it was seen at."""
    seen: dict[str, list[str]] = {}
    for failure in failures:
        match = re.match(r"(\S+) \[([^\]]+)\]: (.*)", failure)
        key, where = (f"{match[1]}: {match[3]}", match[2]) if match else (failure, "")
        seen.setdefault(key, []).append(where)
    return [f"{key} [{', '.join(w for w in wheres if w)}]" if any(wheres) else key for key, wheres in seen.items()]


def test_the_untranslated_rules_catch_english_labels_and_leave_data_alone():
    # given a catalogue of three messages and a database holding a product and a reason
    catalogue = Catalogue(exact={"Pay selected"}, patterns={}, vocabulary={"pay", "selected", "order", "the", "hand"})
    catalogue.patterns["paid"] = [(_pattern("Paid %(amount)s USD from the balance."), "Paid …")]
    data = sorted(["hand cream", "the buyer asked"], key=len, reverse=True)
    # then a label shown as its msgid, or filled in, is untranslated
    assert catalogue.untranslated("Pay selected") == "Pay selected"
    assert catalogue.untranslated("Paid 20.50 USD from the balance.") == "Paid …"
    assert catalogue.untranslated("支付所选") is None
    # and a run of vocabulary words is English, unless the database holds it
    assert english_run("请 pay the order", catalogue.vocabulary, data) == "pay the"
    assert english_run("Hand Cream", catalogue.vocabulary, data) is None
    assert english_run("暂停：The buyer asked", catalogue.vocabulary, data) is None
    assert english_run("LS228800001-01-01 × 2", catalogue.vocabulary, data) is None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_portal_page_fits_both_sizes_and_is_translated(
    _playwright_browser, live_server, client, settings, tmp_path
):
    started = time.monotonic()
    # given the demo data, the owner's session and the catalogue's rules
    settings.VAR_DIR = tmp_path
    data = visual_data.seed()
    client.force_login(data.owner.user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    catalogue = catalogue_rules()
    data_texts = database_texts()
    # when every URL of the portal is asked for
    pages, left_out, failures = classify(client, data)
    assert len(pages) >= 25, f"only {len(pages)} pages found: {[p.name for p in pages]}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    host = live_server.url.split("//", 1)[1].split(":")[0]

    # then each page opens, fits and (in Chinese) is translated, in every language and size
    for language in LANGUAGES:
        for width, height in SIZES:
            # the browser's own locale too, as a Chinese distributor's browser has it
            context = _playwright_browser.new_context(
                base_url=live_server.url,
                viewport={"width": width, "height": height},
                locale="zh-CN" if language.startswith("zh") else "en-US",
            )
            context.set_default_timeout(15_000)
            context.add_cookies(
                [
                    {"name": settings.SESSION_COOKIE_NAME, "value": session, "domain": host, "path": "/"},
                    {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "domain": host, "path": "/"},
                ]
            )
            browser_page = context.new_page()
            for page in pages:
                failures += check_page(browser_page, page, language, width, catalogue, data_texts)
            context.close()
    elapsed = time.monotonic() - started
    print(f"\nvisual check: {len(pages)} pages x {len(LANGUAGES) * len(SIZES)} in {elapsed:.0f} s")
    print("left out: " + "; ".join(left_out))
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(_grouped(failures))
