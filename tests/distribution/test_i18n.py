"""Every user-facing string is marked for translation, so a Chinese catalogue can follow
without touching code. This scans our templates for visible text outside translation tags."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

TEMPLATE_ROOT = Path(settings.BASE_DIR) / "templates"
TEMPLATES = sorted(p for p in TEMPLATE_ROOT.rglob("*.html"))

STRIP = [
    re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S),
    re.compile(r"{%\s*blocktranslate\b.*?{%\s*endblocktranslate\s*%}", re.S),
    re.compile(r"{%\s*blocktrans\b.*?{%\s*endblocktrans\s*%}", re.S),
    re.compile(r"<script\b.*?</script>", re.S),
    re.compile(r"<style\b.*?</style>", re.S),
    re.compile(r"<!--.*?-->", re.S),
    re.compile(r"{%.*?%}", re.S),
    re.compile(r"{{.*?}}", re.S),
    re.compile(r"{#.*?#}", re.S),
]
TEXT_ATTRIBUTES = re.compile(r'\b(?:title|placeholder|aria-label|alt)="([^"]*)"')
ALLOWED_LITERALS = {"·", "×", "—", "&times;", "&middot;", "&nbsp;"}


def _visible_text(source: str) -> list[str]:
    for pattern in STRIP:
        source = pattern.sub(" ", source)
    text = re.sub(r"<[^>]+>", " ", source)
    words = [w for w in text.split() if w not in ALLOWED_LITERALS]
    return [w for w in words if re.search(r"[A-Za-z]", w)]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(TEMPLATE_ROOT)))
def test_template_text_is_marked_for_translation(path):
    source = path.read_text()
    assert _visible_text(source) == [], f"untranslated text in {path}"
    for value in TEXT_ATTRIBUTES.findall(re.sub(r"{%.*?%}|{{.*?}}", "", source)):
        assert not re.search(r"[A-Za-z]", value), f"untranslated attribute text {value!r} in {path}"


def test_scanner_catches_untranslated_text():
    assert _visible_text("<p>{% translate 'Fine' %}</p>") == []
    assert _visible_text("<p>Not marked</p>") == ["Not", "marked"]


def test_templates_were_found():
    assert len(TEMPLATES) >= 10


def test_chinese_is_an_available_language(client, db):
    # the switch exists; without a catalogue the English source shows through
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302
    with translation.override("zh-hans"):
        assert translation.get_language() == "zh-hans"


def test_menu_shows_in_chinese_when_chosen(client, db):
    from tests.distribution.factories import owner_of

    me = owner_of()
    client.force_login(me.user)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = client.get("/").content.decode()
    assert "商品映射" in html and "平台店铺授权" in html and "余额管理" in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Product Mapping" in client.get("/").content.decode()
