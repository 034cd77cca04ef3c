"""Excel (xlsx) templates, exports and imports of the registries, as grid offices keep them.

A sheet has one header row in Chinese and one record per row; columns with a fixed vocabulary
carry a drop-down (data validation) list. An import checks every row before anything is written
and then writes all rows in one transaction: any error — a bad value, a row outside the
jurisdiction, an unknown house — refuses the whole file, listing each error by row number and
column (``第3行 E列 公民身份号码: …``). Rows without a UUID get one derived from their content
(``uuid5``), so importing the same sheet twice stores each record once. Exported ID numbers and
phones are the masked forms; a masked value imported back means "unchanged".
"""
from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from data import registry, registry_other
from data.audit import audit
from data.incidents import Forbidden, IncidentError, Invalid
from db.core import dict_cursor, sql
from domain import policy
from domain import registry as vocab

KINDS = ("houses", "households", "people", "orgs", "staff", "places", "schools", "lines")
SHEET = {"houses": "实有房屋", "households": "户", "people": "实有人口", "orgs": "组织", "staff": "组织人员",
         "places": "治安重点场所", "schools": "学校及周边", "lines": "护路护线"}
PERSONAL_KINDS = ("people", "staff")  # sheets that name people: the people_export class
NAMESPACE = uuid.UUID("6f0e3a9c-15a0-4c1b-9e57-0e3a9c150623")  # for content-derived row UUIDs
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Column:
    """One column: the record's key, the Chinese header, a vocabulary (code → Chinese) if any."""

    key: str
    header: str
    choices: dict[str, str] | None = None
    text: bool = False          # stored as text in Excel (ID numbers and phones lose digits as numbers)
    export_only: bool = False   # written by exports, ignored by imports (decided by the database)
    optional: bool = False      # a sheet without this column still imports (older templates)


COLUMNS: dict[str, tuple[Column, ...]] = {
    "houses": (Column("uid", "房屋编号"), Column("address", "地址"),
               Column("use", "用途", vocab.HOUSE_USE_ZH), Column("floors", "层数"),
               Column("lon", "经度"), Column("lat", "纬度"), Column("cell_code", "所属网格", export_only=True),
               Column("footprint", "房屋轮廓(WKT)", optional=True)),
    "households": (Column("uid", "户编号"), Column("house", "房屋编号"),
                   Column("kind", "户类型", vocab.HOUSEHOLD_KIND_ZH), Column("moved_out_at", "迁出日期"),
                   Column("cell_code", "所属网格", export_only=True)),
    "people": (Column("uid", "人员编号"), Column("household", "户编号"), Column("cell_code", "所属网格", text=True),
               Column("name", "姓名"), Column("id_number", "公民身份号码", text=True),
               Column("sex", "性别", vocab.SEX_ZH), Column("birth_date", "出生日期"),
               Column("ethnicity", "民族", {e: e for e in vocab.ETHNICITIES}),
               Column("residence", "人口类型", vocab.RESIDENCE_ZH), Column("registered_address", "户籍地址"),
               Column("relation", "与户主关系"), Column("phone", "联系电话", text=True),
               Column("moved_out_at", "迁出日期")),
    "orgs": (Column("uid", "组织编号"), Column("kind", "组织类别", vocab.ORG_KIND_ZH), Column("name", "名称"),
             Column("credit_code", "统一社会信用代码", text=True), Column("address", "地址"),
             Column("staff_count", "从业人数"), Column("lon", "经度"), Column("lat", "纬度"),
             Column("cell_code", "所属网格", text=True)),
    "staff": (Column("uid", "人员编号"), Column("org", "组织编号"), Column("name", "姓名"), Column("post", "职务"),
              Column("phone", "联系电话", text=True)),
    "places": (Column("uid", "场所编号"), Column("kind", "场所类别", vocab.PLACE_KIND_ZH), Column("name", "名称"),
               Column("org", "组织编号"), Column("lon", "经度"), Column("lat", "纬度"),
               Column("cell_code", "所属网格", export_only=True)),
    "schools": (Column("uid", "学校编号"), Column("name", "学校名称"), Column("stage", "学段", vocab.SCHOOL_STAGE_ZH),
                Column("students", "在校学生数"), Column("surroundings", "周边治安情况"), Column("lon", "经度"),
                Column("lat", "纬度"), Column("cell_code", "所属网格", export_only=True)),
    "lines": (Column("uid", "线路编号"), Column("kind", "线路类别", vocab.LINE_KIND_ZH), Column("name", "名称"),
              Column("unit_code", "责任单位", text=True), Column("geometry", "线路走向(WKT)")),
}
EXPORT_SQL = {k: f"reg_export_{k}" for k in KINDS}
NUMBERS = {"lon": float, "lat": float, "floors": int, "staff_count": int, "students": int}


class ImportRefused(IncidentError):
    """The file was refused as a whole; ``fields['rows']`` is not used: ``extra['errors']`` lists
    each error with its row number, column letter, header and message."""

    status, code = 422, "import_refused"


def template(kind: str) -> bytes:
    """An empty sheet for ``kind``: the Chinese header row and the drop-down lists."""
    return _workbook(kind, [])


def _workbook(kind: str, rows: list[dict], cols: tuple[Column, ...] | None = None, title: str | None = None) -> bytes:
    cols = cols or COLUMNS[_kind(kind)]
    wb = Workbook()
    ws = wb.active
    ws.title = (title or SHEET[kind])[:31]
    ws.append([c.header for c in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    last = max(len(rows) + 1, 2000)
    for i, c in enumerate(cols, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(10, 2 * len(c.header) + 4)
        if c.choices:
            dv = DataValidation(type="list", formula1='"' + ",".join(c.choices.values()) + '"', allow_blank=True,
                                showErrorMessage=True, errorTitle=c.header, error="请从列表中选择")
            dv.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(dv)
    for r in rows:
        ws.append([_cell_out(c, r.get(c.key)) for c in cols])
    formatted = len(rows) + 1 if rows else last  # a template's empty rows are text too, an export's end
    for i, c in enumerate(cols, start=1):
        if c.text:
            for row in ws.iter_rows(min_row=2, max_row=formatted, min_col=i, max_col=i):
                row[0].number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _cell_out(col: Column, value: Any) -> Any:
    if value is None:
        return None
    if col.choices:
        return col.choices.get(str(value), str(value))
    return value


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise Invalid(f"unknown registry {kind!r}; one of {', '.join(KINDS)}", {"kind": ", ".join(KINDS)})
    return kind


def export(conn, actor, kind: str, unit: str | None = None) -> tuple[bytes, int]:
    """The ``kind`` registry of the caller's jurisdiction (or ``unit`` inside it) as xlsx, and its
    row count. People and organisations' staff need the ``people_export`` class; the others
    ``registry_edit``.
    ID numbers and phones are written masked. Audited (with the row count); no commit."""
    cls = policy.PEOPLE_EXPORT if _kind(kind) in PERSONAL_KINDS else policy.REGISTRY_EDIT
    if not policy.sees(actor, cls):
        raise Forbidden(f"role {actor.role} may not export the {kind} registry")
    scope = registry._scope(actor, unit)
    with dict_cursor(conn) as cur:
        cur.execute(sql(EXPORT_SQL[kind]), {"region_code": actor.region_code, "scope": scope})
        rows = [dict(r) for r in cur.fetchall()]
    registry.audit_export(conn, actor, kind, scope, len(rows))
    return _workbook(kind, rows), len(rows)


# -- import ---------------------------------------------------------------------------------

@dataclass
class _Error:
    row: int
    column: str
    header: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "header": self.header, "message": self.message}

    def __str__(self) -> str:
        where = f"第{self.row}行" + (f" {self.column}列 {self.header}" if self.column else "")
        return f"{where}: {self.message}"


def _cell_in(col: Column, value: Any, errors: list[str]) -> Any:
    """A cell's value as the record wants it (vocabulary words to codes, Excel dates to ISO)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if col.text and isinstance(value, (int, float)):
        errors.append("store this column as text (a number loses digits in Excel)")
        return None
    if isinstance(value, str):
        value = value.strip()
    if col.choices:
        back = {zh: code for code, zh in col.choices.items()}
        if value in back:
            return back[value]
        if value not in col.choices:
            errors.append(f"one of {'、'.join(col.choices.values())}")
            return None
    if col.key in ("house", "household", "org") and isinstance(value, str) and value.isdigit():
        return int(value)
    return value


def read(kind: str, source: str | Path | bytes | BinaryIO,
         cols: tuple[Column, ...] | None = None) -> tuple[list[tuple[int, dict]], list[_Error]]:
    """The rows of a sheet as (row number, record) and the errors found reading it."""
    cols = cols or COLUMNS[_kind(kind)]
    try:
        wb = load_workbook(io.BytesIO(source) if isinstance(source, bytes) else source, read_only=True,
                           data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
        raise ImportRefused(f"not an xlsx file: {exc}", errors=[_Error(1, "", "", "not an xlsx file").as_dict()]) \
            from None
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    position = {h: i for i, h in enumerate(header)}
    errors = [_Error(1, "", c.header, f"missing column {c.header}") for c in cols
              if c.header not in position and not c.export_only and not c.optional]
    if errors:
        return [], errors
    out = []
    for n, values in enumerate(rows, start=2):
        if n > MAX_ROWS + 1:
            errors.append(_Error(n, "", "", f"at most {MAX_ROWS} rows per file"))
            break
        if values is None or all(v is None or str(v).strip() == "" for v in values):
            continue
        record: dict[str, Any] = {}
        for c in cols:
            if c.export_only:
                continue
            i = position.get(c.header)
            if i is None:
                continue
            problems: list[str] = []
            record[c.key] = _cell_in(c, values[i] if i < len(values) else None, problems)
            errors += [_Error(n, get_column_letter(i + 1), c.header, p) for p in problems]
        out.append((n, record))
    wb.close()
    return out, errors


def _derived_uid(kind: str, record: dict) -> str:
    keys = {"houses": ("address", "lon", "lat"), "households": ("house",),
            "people": ("id_number", "name", "birth_date", "household", "cell_code"),
            "orgs": ("kind", "name", "credit_code", "cell_code"), "staff": ("org", "name", "post"),
            "places": ("kind", "name", "lon", "lat"), "schools": ("name", "lon", "lat"),
            "lines": ("kind", "name", "unit_code")}[kind]
    return str(uuid.uuid5(NAMESPACE, kind + "|" + "|".join(str(record.get(k) or "") for k in keys)))


def _where(kind: str, key: str, cols: tuple[Column, ...] | None = None) -> tuple[str, str]:
    for i, c in enumerate(cols or COLUMNS[kind], start=1):
        if c.key == key:
            return get_column_letter(i), c.header
    return "", key


OTHER = {"orgs": "org", "staff": "staff", "places": "place", "schools": "school", "lines": "line"}


def _save(conn, actor, kind: str, record: dict) -> None:
    if kind in OTHER:
        other = OTHER[kind]
        registry_other.SAVE[other](conn, actor, registry_other.VALIDATE[other](record))
    elif kind == "houses":
        registry.save_house(conn, actor, registry.validate_house(record))
    elif kind == "households":
        registry.save_household(conn, actor, registry.validate_household(record))
    else:
        registry.save_person(conn, actor, registry.validate_person(record))


def import_file(conn, actor, kind: str, source: str | Path | bytes | BinaryIO) -> int:
    """Import a sheet, all or nothing: the rows stored (commits), or ``ImportRefused`` listing every
    error by row and column with nothing written."""
    rows, errors = read(kind, source)
    for n, record in rows:
        for k, number in NUMBERS.items():
            if isinstance(record.get(k), str):
                try:
                    record[k] = number(record[k])
                except ValueError:
                    pass  # the validator names it
            elif k in ("floors", "staff_count", "students") and isinstance(record.get(k), float) \
                    and record[k].is_integer():
                record[k] = int(record[k])
        if not record.get("uid"):
            record["uid"] = _derived_uid(kind, record)
        try:
            _save(conn, actor, kind, record)
        except IncidentError as exc:
            errors += refusals(n, kind, exc)
    return finish(conn, actor, kind, len(rows), errors)


def refusals(n: int, kind: str, exc: IncidentError, cols: tuple[Column, ...] | None = None) -> list[_Error]:
    """Row ``n``'s refusal as errors by column (the field names of ``exc``), else one for the row."""
    if exc.fields:
        return [_Error(n, *_where(kind, k, cols), m) for k, m in exc.fields.items()]
    return [_Error(n, "", "", exc.message)]


def finish(conn, actor, kind: str, rows: int, errors: list[_Error]) -> int:
    """All or nothing: with errors roll back and refuse the file listing them, else audit and commit."""
    if errors:
        conn.rollback()
        errors.sort(key=lambda e: (e.row, e.column))
        shown = "; ".join(str(e) for e in errors[:20])
        raise ImportRefused(f"{len(errors)} error(s), nothing was imported: {shown}",
                            errors=[e.as_dict() for e in errors])
    audit(conn, actor, "registry_import", f"registry_{kind}", None, {"kind": kind}, rows)
    conn.commit()
    return rows
