"""The bulletin as an XLSX workbook (openpyxl): one sheet per table, numbers stored as numbers,
a native line chart of the trend, and the cells' reports (the map's data)."""
from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font, PatternFill

from exports.bulletin import text as t
from exports.bulletin.content import INDICATORS, Bulletin

HEAD = PatternFill("solid", fgColor="F2E6E6")


def _sheet(wb: Workbook, title: str, head: list[str], rows: list[list], first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title[:31]
    ws.append(head)
    for c in ws[1]:
        c.font, c.fill = Font(bold=True), HEAD
    for r in rows:
        ws.append(r)
    ws.freeze_panes = "A2"
    for col in ws.columns:
        width = max(len(str(c.value or "")) for c in col)
        ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width * 1.6 + 2))
    return ws


def write(b: Bulletin, lang: str, out: Path) -> None:
    """Write the workbook to ``out``."""
    w = lambda key, **v: t.w(lang, key, **v)  # noqa: E731
    wb = Workbook()
    cur, prev, ly = (b.figures[k] for k in ("current", "previous", "last_year"))
    ws = _sheet(wb, w("sec.indicators"),
                [w("col.indicator"), w("col.key"), w("col.current"), w("col.previous"), w("col.last_year")],
                [[w(f"ind.{k}"), k, cur[k], prev[k], ly[k]] for k, _ in INDICATORS], first=True)
    ws.insert_rows(1, 3)
    ws["A1"], ws["A2"], ws["A3"] = t.title(b, lang), t.span(b, lang), w("generated", at=t.local(b.generated_at, b.tz))
    ws["A1"].font = Font(bold=True, size=14)
    ws.freeze_panes = "A5"
    _sheet(wb, w("sec.children"),
           [w("col.rank"), w("col.code"), w("col.unit"), w("col.population"), w("ind.reported"), w("ind.solved"),
            w("col.in_grid"), w("col.open"), w("col.overdue")],
           [[i, c["code"], t.name(lang, c), c["population"], c["reported"], c["solved"], c["solved_in_grid"],
             c["open"], c["overdue"]] for i, c in enumerate(b.children, 1)])
    _sheet(wb, w("sec.categories"),
           [w("col.rank"), w("col.code"), w("col.category"), w("ind.reported"), w("ind.solved"), w("col.in_grid"),
            w("col.late"), w("ind.mean_hours")],
           [[i, c["code"], t.name(lang, c), c["reported"], c["solved"], c["solved_in_grid"], c["late"],
             c["mean_hours"]] for i, c in enumerate(b.categories, 1)])
    _sheet(wb, w("sec.overdue", n=len(b.overdue)),
           [w("col.rank"), w("col.incident"), w("col.category"), w("col.cell"), w("col.level"), w("col.due"),
            w("col.hours_over")], [[int(r[0]), *r[1:6], int(r[6])] for r in t.overdue_rows(b, lang)])
    _trend(wb, b, lang)
    _sheet(wb, w("sec.map"), [w("col.code"), w("col.cell"), w("ind.reported")],
           [[c["code"], t.name(lang, c), c["reported"]] for c in b.cells])
    wb.save(out)


def _trend(wb: Workbook, b: Bulletin, lang: str) -> None:
    w = lambda key, **v: t.w(lang, key, **v)  # noqa: E731
    ws = _sheet(wb, w("sec.trend"), [w("col.day"), w("ind.reported"), w("ind.solved"), w("col.in_grid")],
                [[r["day"], r["reported"], r["solved"], r["solved_in_grid"]] for r in b.trend])
    for row in ws.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "yyyy-mm-dd"
    if not b.trend:
        return
    n = len(b.trend) + 1
    bars = BarChart()
    bars.title, bars.height, bars.width = w("sec.trend"), 8, 18
    bars.add_data(Reference(ws, min_col=2, min_row=1, max_row=n), titles_from_data=True)
    bars.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n))
    line = LineChart()
    line.add_data(Reference(ws, min_col=3, min_row=1, max_row=n), titles_from_data=True)
    bars += line
    ws.add_chart(bars, "F2")
