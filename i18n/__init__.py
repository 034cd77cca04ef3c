"""OneMap's words, in gettext catalogues: ``i18n/<locale>/LC_MESSAGES/*.po``.

``onemap.po`` holds the shared words; a feature may keep its own file beside it (``console.po``,
``registry.po`` …); a locale's catalogue is all its files together, and a key may live in only one.

Simplified Chinese (``zh_CN``) is the default and English (``en``) is complete. The code asks for
dotted keys ("states.new"); ``words(lang)`` gives the nested dict the dashboard indexes
(``w["states"]["new"]``) and ``gettext(lang, key, **values)`` one string with its placeholders
filled. The .po files are read directly with Babel (no compile step). A bottom-layer package:
it imports nothing of OneMap.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

HERE = Path(__file__).resolve().parent
DOMAIN = "onemap"
LOCALES = {"zh": "zh_CN", "en": "en"}  # the UI's language code → the catalogue's locale
DEFAULT_LANG = "zh"


def normalize(lang: str | None) -> str:
    """The UI language for any spelling of it ('en', 'en-GB', 'zh_CN', None …): 'en' or 'zh'."""
    return "en" if (lang or "").strip().lower().replace("_", "-").split("-")[0] == "en" else DEFAULT_LANG


def po_path(lang: str) -> Path:
    """Where the shared catalogue for ``lang`` lives."""
    return HERE / LOCALES[normalize(lang)] / "LC_MESSAGES" / f"{DOMAIN}.po"


def po_paths(lang: str) -> list[Path]:
    """Every catalogue file of ``lang``: the shared one first, then each feature's, by name."""
    return sorted(po_path(lang).parent.glob("*.po"), key=lambda p: (p.name != f"{DOMAIN}.po", p.name))


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """msgid → translation for ``lang`` (untranslated entries are left out), from all its files."""
    merged: dict[str, str] = {}
    for path in po_paths(lang):
        with path.open("rb") as fh:
            cat = read_po(fh, locale=LOCALES[normalize(lang)], domain=DOMAIN)
        merged.update({str(m.id): str(m.string) for m in cat if m.id and m.string})
    return merged


def gettext(lang: str | None, key: str, **values: Any) -> str:
    """The words for ``key`` in ``lang`` (Chinese when missing there), placeholders filled from ``values``."""
    text = catalogue(normalize(lang)).get(key) or catalogue(DEFAULT_LANG).get(key) or key
    return text.format(**values) if values else text


def _key(part: str) -> str | int:
    return int(part) if part.isdigit() else part  # "levels.4" is indexed by the level number


@lru_cache(maxsize=None)
def words(lang: str | None) -> dict[str | int, Any]:
    """Every word of ``lang`` as a nested dict ("states.new" → ``w["states"]["new"]``); do not modify."""
    nested: dict[str | int, Any] = {}
    for key, text in {**catalogue(DEFAULT_LANG), **catalogue(normalize(lang))}.items():
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(_key(part), {})
        node[_key(leaf)] = text
    return nested
