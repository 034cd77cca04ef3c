"""Import real grid units from GIS files into PostGIS, all or nothing; check the stored grid.

A file (GeoPackage, GeoJSON or zipped Shapefile) holds the units of one level. It is read, moved
to EPSG:4326 (and out of GCJ-02 on request), checked with ``geo.gridcheck`` against the stored
parents and the stored siblings that stay, and written in one transaction — or refused with every
problem listed and nothing written. An import must tile each parent it touches: a file with only
some of a parent's children is refused for the gap unless the rest are already stored.
"""
from __future__ import annotations

import contextlib
import hashlib
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pandas as pd
import psycopg2
import pyogrio
import shapely
from psycopg2.extras import Json
from pyproj.exceptions import CRSError
from rich.markup import escape

from db.core import DatabaseError, sql, transaction
from geo.datum import gcj02_to_wgs84_geom
from geo.gridcheck import LEVELS, Problem, Unit, check_units

FORMATS = "GeoPackage (.gpkg), GeoJSON (.geojson) or zipped Shapefile (.zip)"


class ImportRefused(Exception):
    """An import that wrote nothing, with every problem found (``.problems``)."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = list(problems)
        super().__init__(self.text())

    def text(self) -> str:
        """The refusal as plain text: a header and one line per problem."""
        lines = [f"import of {self.source} refused: {len(self.problems)} problem(s), nothing written"]
        return "\n".join(lines + [f"  - {p}" for p in self.problems])

    def report(self) -> str:
        """The refusal in rich markup: every offending unit and what to fix, one per line."""
        head = (f"[bold red]Import of {escape(self.source)} refused[/]: {len(self.problems)} "
                "problem(s); nothing was written.")
        lines = [f"  [red]•[/] [bold]{escape(p.code)}[/] [dim]{escape(p.kind)}[/] {escape(p.message)}"
                 for p in self.problems]
        return "\n".join([head, *lines, "Fix these in the source file, then import it again."])


def _refuse(path: Path, kind: str, message: str) -> ImportRefused:
    return ImportRefused(path.name, [Problem(path.name, kind, message)])


class _Steps:
    """Progress shown on a rich console when there is one; silent otherwise."""

    def __init__(self, progress) -> None:
        self._progress = progress
        self._task = None

    def start(self, description: str, total: int | None = None) -> None:
        """Begin a step (a bar when ``total`` is known, a spinner otherwise)."""
        if self._progress is not None:
            if self._task is not None:
                self._progress.remove_task(self._task)  # one line at a time: the current step
            self._task = self._progress.add_task(description, total=total)

    def advance(self) -> None:
        """One more item of the current step done."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)


@contextlib.contextmanager
def _steps(console) -> Iterator[_Steps]:
    if console is None:
        yield _Steps(None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  MofNCompleteColumn(), console=console, transient=True) as progress:
        yield _Steps(progress)


def import_grid_file(dsn: str, path, *, level: int, layer: str | None = None, gcj02: bool = False,
                     code_field: str = "code", name_field: str = "name",
                     parent_field: str = "parent_code", replace: bool = False, console=None) -> int:
    """Import the level-``level`` units of a GIS file in one transaction; return how many.

    Raises :class:`ImportRefused` (nothing written) for an unreadable file, a missing layer,
    CRS or field, and for every problem ``geo.gridcheck`` finds against the stored grid.
    """
    path = Path(path)
    if level not in LEVELS:
        raise _refuse(path, "level", f"level {level} does not exist; grid levels are "
                      + ", ".join(f"{k} {v}" for k, v in LEVELS.items()))
    with _steps(console) as steps:
        steps.start(f"reading {path.name}")
        frame, layer_name, crs_text = _read(path, layer, gcj02)
        units = _units(frame, path, level, code_field, name_field, parent_field, gcj02)
        _check_vertices(path, units)
        provenance = {"source": path.name, "layer": layer_name, "sha256": _sha256(path),
                      "crs": crs_text, "gcj02_converted": gcj02,
                      "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        current = None
        try:
            with transaction(dsn) as conn, conn.cursor() as cur:
                cur.execute(sql("grid_lock"))
                steps.start(f"checking {len(units)} level-{level} units")
                problems = _problems_against_db(cur, units, level, replace)
                if problems:
                    raise ImportRefused(path.name, problems)
                steps.start(f"writing {len(units)} level-{level} units", total=len(units))
                for unit in units:
                    current = unit
                    _write(cur, unit, provenance, replace)
                    steps.advance()
        except psycopg2.Error as exc:
            where = f"{current.label}: " if current is not None else ""
            raise ImportRefused(path.name, [Problem(current.code if current else path.name,
                                "database", f"{where}{str(exc).strip()} (rolled back)")]) from exc
        except DatabaseError as exc:
            raise _refuse(path, "database", str(exc)) from exc
    return len(units)


def _read(path: Path, layer: str | None, gcj02: bool):
    """(frame in EPSG:4326, layer name, original CRS text), or a refusal that says what to fix."""
    if not path.is_file():
        raise _refuse(path, "file", f"{path} does not exist or is not a file")
    _check_size(path)
    source = str(path.resolve())
    if path.suffix.lower() == ".zip":
        source, layer = _shapefile_in_zip(path, layer), None
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(source)]
    except (pyogrio.errors.DataSourceError, OSError, RuntimeError) as exc:
        raise _refuse(path, "file", f"cannot read {path.name} ({exc}); expected {FORMATS}") from exc
    if layer is None and len(layers) > 1:
        raise _refuse(path, "layer", f"{path.name} has {len(layers)} layers ({', '.join(layers)}); "
                      "choose one with --layer")
    if layer is not None and layer not in layers:
        raise _refuse(path, "layer", f"layer {layer!r} is not in {path.name}; its layers are: "
                      f"{', '.join(layers) or 'none'}")
    if not layers:
        raise _refuse(path, "file", f"{path.name} holds no layers; expected {FORMATS}")
    layer = layer or layers[0]
    frame = _read_layer(path, source, layer)
    if frame.crs is None:
        raise _refuse(path, "crs", f"{path.name} has no coordinate reference system; add the .prj "
                      "beside the .shp (or assign the CRS in QGIS, or `ogr2ogr -a_srs EPSG:4326`) "
                      "and import again")
    crs_text = frame.crs.to_string()
    if gcj02 and not frame.crs.is_geographic:
        # Web-map GCJ-02 files are lon/lat labelled as WGS84; projected coordinates are not GCJ-02.
        raise _refuse(path, "crs", f"--gcj02 expects lon/lat coordinates (GCJ-02 as published by "
                      f"AMap/Tencent), but {path.name} is in {crs_text}")
    try:
        frame = frame.to_crs(4326)
    except (CRSError, ValueError) as exc:
        raise _refuse(path, "crs", f"cannot reproject {path.name} from {crs_text} to EPSG:4326 "
                      f"({exc})") from exc
    return frame, layer, crs_text


def _read_layer(path: Path, source: str, layer: str):
    """The layer as a frame, within the feature cap (counted before reading when the driver
    knows), its text decoded even when GDAL cut a field name mid-character."""
    caps = _caps()
    try:
        features = int(pyogrio.read_info(source, layer=layer).get("features", -1))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, RuntimeError,
            UnicodeDecodeError):
        features = -1  # counted after reading instead
    if features > caps.import_max_features:
        raise _too_many(path, features, caps)
    try:
        frame = pyogrio.read_dataframe(source, layer=layer)
    except UnicodeDecodeError:
        frame = _read_undecodable(path, source, layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError,
            RuntimeError) as exc:
        raise _refuse(path, "file", f"cannot read layer {layer!r} of {path.name} ({exc})") from exc
    if len(frame) == 0:
        raise _refuse(path, "file", f"layer {layer!r} of {path.name} has no features")
    if len(frame) > caps.import_max_features:
        raise _too_many(path, len(frame), caps)
    return frame


def _caps():
    """The import limits (``ONEMAP_IMPORT_MAX_MB``, ``_FEATURES``, ``_VERTICES``)."""
    from config import Settings

    return Settings()


def _check_size(path: Path) -> None:
    """Refuse a file (or a zip whose contents) larger than the limit, before GDAL reads it."""
    limit = _caps().import_max_mb
    size = path.stat().st_size
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            size = max(size, sum(i.file_size for i in zf.infolist()))  # what it unpacks to
    if size > limit * 1e6:
        raise _refuse(path, "too_large", f"{path.name} is {size / 1e6:,.1f} MB (unpacked), more than the "
                      f"{limit:,.0f} MB a grid import reads (ONEMAP_IMPORT_MAX_MB); simplify the geometries "
                      "or split the file by level or town")


def _too_many(path: Path, n: int, caps) -> ImportRefused:
    return _refuse(path, "too_many", f"{path.name} has {n:,} features, more than the {caps.import_max_features:,} "
                   "one grid import takes (ONEMAP_IMPORT_MAX_FEATURES); split the file by level or town")


def _check_vertices(path: Path, units: list[Unit]) -> None:
    """Refuse geometries with more vertices than the limit, naming each (before any check or write)."""
    limit = _caps().import_max_vertices
    counts = shapely.get_num_coordinates([u.geom for u in units])
    problems = [Problem(u.code, "too_many_vertices", f"{u.label} has {int(n):,} vertices, more than the "
                        f"{limit:,} one geometry may have (ONEMAP_IMPORT_MAX_VERTICES); simplify it "
                        "(e.g. QGIS Simplify, or ogr2ogr -simplify 0.5 in metres) and import again")
                for u, n in zip(units, counts, strict=True) if n > limit]
    if problems:
        raise ImportRefused(path.name, problems)


def _read_undecodable(path: Path, source: str, layer: str):
    """The layer read byte-for-byte when a name or value is not valid UTF-8 (GDAL cuts DBF field
    names at 10 bytes, often mid-character: '网格名称长字段' becomes '网格名\\xe7'); names and text
    are decoded with the damage shown as U+FFFD, so the other fields import and a damaged one is
    named if it is needed."""
    try:
        frame = pyogrio.read_dataframe(source, layer=layer, encoding="ISO-8859-1")  # every byte maps
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError, RuntimeError) as exc:
        raise _refuse(path, "encoding", f"cannot read layer {layer!r} of {path.name}: its text is not UTF-8 "
                      f"({exc}); save it as UTF-8 (a .cpg file saying UTF-8 beside the .shp)") from exc

    def fix(text: str) -> str:
        return text.encode("latin-1").decode("utf-8", errors="replace")

    geometry = frame.geometry.name
    frame = frame.rename(columns={c: fix(c) for c in frame.columns if c != geometry})
    for c in frame.columns:
        if c != geometry and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])):
            frame[c] = frame[c].map(lambda v: fix(v) if isinstance(v, str) else v)
    return frame


def _shapefile_in_zip(path: Path, layer: str | None) -> str:
    """The GDAL /vsizip/ path of the one (or the ``layer``-named) .shp inside a zip file."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except zipfile.BadZipFile as exc:
        raise _refuse(path, "file", f"{path.name} is not a valid zip file ({exc})") from exc
    shps = [n for n in names if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
    if layer is not None:
        chosen = [n for n in shps if Path(n).stem == layer]
        if not chosen:
            raise _refuse(path, "layer", f"layer {layer!r} is not in {path.name}; its layers are: "
                          f"{', '.join(Path(n).stem for n in shps) or 'none'}")
        shps = chosen
    if not shps:
        raise _refuse(path, "file", f"{path.name} holds no .shp (it has: {', '.join(names) or 'nothing'});"
                      f" expected {FORMATS}")
    if len(shps) > 1:
        raise _refuse(path, "layer", f"{path.name} holds {len(shps)} shapefiles "
                      f"({', '.join(Path(n).stem for n in shps)}); choose one with --layer")
    return f"/vsizip/{path.resolve()}/{shps[0]}"


def _text(value) -> str | None:
    """A field value as text: None for nulls, whole floats without '.0' (codes read as numbers)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _units(frame, path: Path, level: int, code_field: str, name_field: str, parent_field: str,
           gcj02: bool) -> list[Unit]:
    """The frame's rows as units (geometry 2D, WGS84), or a refusal naming the missing fields."""
    fields = [c for c in frame.columns if c != frame.geometry.name]
    if path.suffix.lower() == ".zip":
        # DBF caps field names at 10 bytes: 'parent_code' arrives as 'parent_cod'.
        code_field, name_field, parent_field = (
            f[:10] if f not in fields and f[:10] in fields else f
            for f in (code_field, name_field, parent_field))
    needed = [code_field, name_field] + ([parent_field] if level > 1 else [])
    missing = [f for f in needed if f not in fields]
    if missing:
        raise _refuse(path, "field", f"{path.name} lacks field(s) {', '.join(missing)}; fields found: "
                      f"{', '.join(fields) or 'none'}; name them with --code-field, --name-field, "
                      "--parent-field")
    # The column is 2D; a Z from a survey would make PostGIS refuse the whole batch.
    geoms = shapely.force_2d(frame.geometry.values.to_numpy())
    if gcj02:
        geoms = gcj02_to_wgs84_geom(geoms)
    parents = frame[parent_field] if parent_field in fields else [None] * len(frame)
    return [Unit(_text(code) or f"(feature {i + 1})", level, _text(name) or "", _text(parent), geom)
            for i, (code, name, parent, geom) in enumerate(zip(frame[code_field], frame[name_field],
                                                               parents, geoms, strict=True))]


def _sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes, so provenance names exactly what was imported."""
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _fetch_units(cur, query: str, params: dict) -> list[Unit]:
    """Units from one of the grid_* queries (code, level, name, parent_code, wkb)."""
    cur.execute(sql(query), params)
    return [Unit(code, level, name, parent, shapely.from_wkb(bytes(wkb)))
            for code, level, name, parent, wkb in cur.fetchall()]


def _problems_against_db(cur, units: list[Unit], level: int, replace: bool) -> list[Problem]:
    """gridcheck against stored parents and siblings, plus codes stored under other parents."""
    codes = sorted({u.code for u in units})
    parent_codes = sorted({u.parent_code for u in units if u.parent_code})
    parents = _fetch_units(cur, "grid_units_by_code", {"codes": parent_codes})
    siblings = _fetch_units(cur, "grid_children_of", {"level": level, "parents": parent_codes})
    # Replaced units leave; with replace=False they stay and gridcheck reports them as duplicates.
    existing = [u for u in siblings if u.code not in codes] if replace else siblings
    problems = check_units(units, parents=parents, existing_children=existing)
    if not replace:
        seen = {u.code for u in siblings}
        for u in _fetch_units(cur, "grid_units_by_code", {"codes": codes}):
            if u.code not in seen:
                problems.append(Problem(u.code, "duplicate", f"{u.label} is already stored (under "
                                        f"parent {u.parent_code or '-'}); use --replace to update it"))
    return problems


def _write(cur, unit: Unit, provenance: dict, replace: bool) -> None:
    """Insert (or upsert) one checked unit as a MultiPolygon."""
    if unit.geom is None:  # check_units refuses a unit without geometry before anything is written
        raise ValueError(f"{unit.label} has no geometry")
    geom = unit.geom if unit.geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([unit.geom])
    region_code = unit.code[:6]
    if unit.level == 1:
        cur.execute(sql("grid_region_ensure"), {"region_code": region_code, "name": unit.name})
    cur.execute(sql("grid_upsert" if replace else "grid_insert"), {
        "code": unit.code, "region_code": region_code, "level": unit.level,
        "parent_code": unit.parent_code, "name": unit.name,
        "wkb": psycopg2.Binary(shapely.to_wkb(geom)), "provenance": Json(provenance)})


def check_stored(dsn: str, region_code: str, console=None) -> list[Problem]:
    """Every problem of the stored grid of a region (all four levels), sorted by code."""
    with _steps(console) as steps:
        steps.start(f"loading the grid of {region_code}")
        with transaction(dsn) as conn, conn.cursor() as cur:
            units = _fetch_units(cur, "grid_region_units", {"region_code": region_code})
        if not units:
            return [Problem(region_code, "level_count", f"region {region_code} has no grid units; "
                            "import them with `onemap grids import FILE --level 1` (then 2, 3, 4)")]
        steps.start(f"checking {len(units)} units")
        problems = check_units(units, region_code=region_code)
    counts = Counter(u.level for u in units)
    for level in LEVELS:
        below = {lv: n for lv, n in counts.items() if lv > level}
        if counts[level] == 0 and below:
            found = ", ".join(f"{n} at level {lv}" for lv, n in sorted(below.items()))
            problems.append(Problem(region_code, "level_count", f"region {region_code} has no "
                                    f"level-{level} units but {found}; import level {level}"))
    return problems
