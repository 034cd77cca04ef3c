"""The bulletin as an A4 PDF: HTML typeset by WeasyPrint with the Noto CJK fonts (Debian
fonts-noto-cjk, found through fontconfig and embedded as subsets), tables that break across
pages with their header row repeated, the map and the trend as vector SVG."""
from __future__ import annotations

from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from PIL import ImageFile

from exports.bulletin import charts
from exports.bulletin import text as t
from exports.bulletin.content import Bulletin


@lru_cache(maxsize=1)
def _weasyprint() -> Any:
    """WeasyPrint, imported on the first bulletin (0.6 s and its memory are not every worker's
    start-up cost). Its import sets Pillow's process-wide LOAD_TRUNCATED_IMAGES, which would let
    the photo upload check (data/photos.py) accept truncated files; bulletins embed no raster
    image, so the flag goes back in the same call, before anything else runs."""
    import weasyprint
    import weasyprint.urls

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return weasyprint

CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 8pt; color: #666; } }
body { font-family: "Noto Sans CJK SC", "Noto Sans CJK", sans-serif; font-size: 9.5pt; color: #111; }
h1 { font-size: 17pt; margin: 0 0 4pt 0; }
h2 { font-size: 12pt; margin: 14pt 0 5pt 0; border-bottom: 1.2pt solid #b22; padding-bottom: 2pt;
     break-after: avoid; }
p.meta { margin: 1pt 0; color: #444; font-size: 8.5pt; }
table { border-collapse: collapse; width: 100%; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
th { background: #f2e6e6; font-weight: bold; }
th, td { border: 0.5pt solid #999; padding: 2.5pt 4pt; text-align: right; }
th.l, td.l { text-align: left; }
figure { margin: 4pt 0; break-inside: avoid; }
figcaption { font-size: 8.5pt; color: #444; }
"""


def _table(head: list[str], rows: list[list[str]], left: tuple[int, ...] = (0,)) -> str:
    cells = "".join(f'<th class="l">{escape(h)}</th>' if i in left else f"<th>{escape(h)}</th>"
                    for i, h in enumerate(head))
    body = "".join("<tr>" + "".join(f'<td class="l">{escape(v)}</td>' if i in left else f"<td>{escape(v)}</td>"
                                    for i, v in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def html(b: Bulletin, lang: str) -> str:
    """The bulletin as one HTML document (every value escaped)."""
    w = lambda key, **v: t.w(lang, key, **v)  # noqa: E731
    none = f"<p>{escape(w('none'))}</p>"
    parts = [f"<!doctype html><html lang=\"{'en' if lang == 'en' else 'zh-CN'}\"><head><meta charset=\"utf-8\">"
             f"<title>{escape(t.title(b, lang))}</title><style>{CSS}</style></head><body>",
             f"<h1>{escape(t.title(b, lang))}</h1>",
             f'<p class="meta">{escape(t.span(b, lang))}</p>',
             f'<p class="meta">{escape(w("generated", at=t.local(b.generated_at, b.tz)))}</p>',
             f"<h2>{escape(w('sec.indicators'))}</h2>",
             _table([w("col.indicator"), w("col.current"), w("col.previous"), w("col.mom"), w("col.last_year"),
                     w("col.yoy")], t.indicator_rows(b, lang)),
             f'<p class="meta">{escape(w("note.definitions"))}</p>',
             f"<h2>{escape(w('sec.map'))}</h2><figure>",
             charts.map_svg(b.cells, w("map.legend"), w("none")),
             f"<figcaption>{escape(w('map.caption'))}</figcaption></figure>",
             f"<h2>{escape(w('sec.trend'))}</h2><figure>",
             charts.trend_svg(b.trend, {"reported": w("ind.reported"), "solved": w("ind.solved")}),
             "</figure>",
             f"<h2>{escape(w('sec.children'))}</h2>",
             _table([w("col.rank"), w("col.unit"), w("col.population"), w("ind.reported"), w("ind.solved"),
                     w("col.in_grid"), w("col.open"), w("col.overdue")], t.children_rows(b, lang), (1,))
             if b.children else none,
             f"<h2>{escape(w('sec.categories'))}</h2>",
             _table([w("col.rank"), w("col.category"), w("ind.reported"), w("ind.solved"), w("col.in_grid"),
                     w("col.late"), w("ind.mean_hours")], t.category_rows(b, lang), (1,))
             if b.categories else none,
             f"<h2>{escape(w('sec.overdue', n=len(b.overdue)))}</h2>",
             _table([w("col.rank"), w("col.incident"), w("col.category"), w("col.cell"), w("col.level"),
                     w("col.due"), w("col.hours_over")], t.overdue_rows(b, lang), (1, 2, 3, 4))
             if b.overdue else none,
             "</body></html>"]
    return "".join(parts)


def fetcher() -> Any:
    """WeasyPrint's fetcher for this document, allowed no protocol: the bulletin is self-contained
    (inline CSS and SVG, fonts from fontconfig), so a URL in it could only come from data, and it is
    never read, neither from the network nor from the server's files."""
    return _weasyprint().urls.URLFetcher(allowed_protocols=frozenset())


def write(b: Bulletin, lang: str, out: Path) -> None:
    """Typeset the bulletin into ``out``."""
    _weasyprint().HTML(string=html(b, lang), url_fetcher=fetcher()).write_pdf(str(out))
