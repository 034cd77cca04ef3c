"""Exports: layers → one file in a chosen format and CRS, streamed, all-or-nothing, audited.

Rows come through a server-side cursor in chunks inside one REPEATABLE READ transaction (the
count shown first and the rows written agree); each chunk is reprojected by PostGIS (or moved to
GCJ-02 here), handed to a streaming writer and dropped. The file is written under a temporary name
next to the target and renamed at the end, so a failure leaves nothing behind. Every export is
limited to the actor's jurisdiction, masked for the actor's role, and written to the audit log.
"""
from __future__ import annotations

import contextlib
import csv
import gc
import io
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import psycopg2.extensions
import shapely

from data.audit import audit
from db.core import connect, sql
from exports.gpkg import GpkgWriter
from exports.prefetch import prefetched
from exports.writers import CsvWriter, GeoJsonWriter, KmlWriter, OgrWriter
from geo import crs as crses
from geo.datum import wgs84_to_gcj02_geom
from layers import registry
from layers.base import LayerError, Query, revealed

CHUNK = 20_000


@dataclass(frozen=True)
class Format:
    """An export format: its file extension, whether one file holds several layers, its writer."""

    key: str
    ext: str
    multi: bool
    make: Callable


FORMATS = {f.key: f for f in (
    Format("gpkg", "gpkg", True, GpkgWriter),
    Format("geojson", "geojson", False, GeoJsonWriter),
    Format("fgb", "fgb", False, lambda p, c: OgrWriter(p, c, "FlatGeobuf")),
    Format("shp", "shp", False, lambda p, c: OgrWriter(p, c, "ESRI Shapefile")),
    Format("kml", "kml", True, KmlWriter),
    Format("csv", "csv", False, CsvWriter),
)}
FORMAT_ALIASES = {"geopackage": "gpkg", "flatgeobuf": "fgb", "shapefile": "shp", "json": "geojson"}


class EmptyExport(LayerError):
    """Nothing to export: every chosen layer is empty for these filters."""

    status = 422


@dataclass(frozen=True)
class ExportRequest:
    """What to export: layer names, format key, CRS text, filters."""

    layers: tuple[str, ...]
    format: str = "gpkg"
    crs: str = "EPSG:4490"
    query: Query = field(default_factory=Query)

    def validated(self) -> "ExportRequest":
        """The same request with names checked and normalised; ``LayerError`` says what is wrong."""
        if not self.layers:
            raise LayerError("choose at least one layer")
        for name in self.layers:
            registry.get(name)
        if len(set(self.layers)) != len(self.layers):
            raise LayerError("a layer is listed twice")
        fmt = FORMAT_ALIASES.get(self.format.lower(), self.format.lower())
        if fmt not in FORMATS:
            raise LayerError(f"unknown format {self.format!r}; choose one of: {', '.join(FORMATS)}")
        try:
            crs = crses.get(self.crs)
        except crses.UnknownCrs as exc:
            raise LayerError(str(exc)) from None
        if fmt == "kml" and crs.projected:
            raise LayerError("KML is longitude/latitude only: choose EPSG:4326, EPSG:4490 or GCJ-02")
        for name in ("since", "until", "categories", "states"):
            if getattr(self.query, name) and not any(name in registry.get(n).filters for n in self.layers):
                raise LayerError(f"no chosen layer can be filtered by {name}")
        return ExportRequest(self.layers, fmt, crs.key, self.query)

    def query_for(self, name: str) -> Query:
        """The filters that apply to layer ``name``: each layer takes those it understands."""
        filters = registry.get(name).filters
        cleared: dict[str, Any] = {k: None for k in ("since", "until", "categories", "states") if k not in filters}
        return replace(self.query, **cleared)

    def filename(self) -> str:
        """A file name for the download: the layer names, the CRS, the extension (zip when several files)."""
        fmt = FORMATS[self.format]
        stem = "_".join(self.layers) + "_" + self.crs.replace(":", "").replace("-", "").lower()
        zipped = fmt.key == "shp" or (not fmt.multi and len(self.layers) > 1)
        return f"{stem}.{'zip' if zipped else fmt.ext}"


def named_filters(conn, req: ExportRequest) -> ExportRequest:
    """``req`` with category names (Chinese or English) turned into codes; ``LayerError`` names
    every category or state value that matches nothing, instead of a silent empty export."""
    from layers.incidents import STATE_WORDS

    q = req.query
    if q.states:
        known = STATE_WORDS
        unknown = [s for s in q.states if s not in known]
        if unknown:
            raise LayerError(f"unknown state {', '.join(map(repr, unknown))}; states are: {', '.join(known)}")
    if not q.categories:
        return req
    with conn.cursor() as cur:
        cur.execute(sql("export_categories"))
        rows = cur.fetchall()
    lookup = {}
    for code, name, name_en in rows:
        lookup.update({code: code, name: code, name_en.casefold(): code})
    codes = [lookup.get(c) or lookup.get(c.casefold()) for c in q.categories]
    unknown = [c for c, code in zip(q.categories, codes, strict=True) if code is None]
    if unknown:
        raise LayerError(f"unknown category {', '.join(map(repr, unknown))}; categories (code or name): "
                         + ", ".join(f"{code} {name}" for code, name, _ in rows))
    return replace(req, query=replace(q, categories=tuple(dict.fromkeys(c for c in codes if c is not None))))


def _reader(dsn: str):
    conn = connect(dsn)
    conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
    with conn.cursor() as cur:
        cur.execute(sql("export_session"))  # the first statement of the read transaction
    return conn


def plan(dsn: str, actor, req: ExportRequest, now: datetime | None = None) -> dict[str, int]:
    """Features per layer that ``actor`` would export (the count the page shows before download)."""
    req = req.validated()
    conn = _reader(dsn)
    try:
        req = named_filters(conn, req)
        return {name: registry.count(conn, registry.get(name), actor, req.query_for(name), now)
                for name in req.layers}
    finally:
        conn.close()


def data_dictionary(layer_names) -> str:
    """CSV text mapping each Shapefile alias to its Chinese name (and key and type), per layer."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["layer", "alias", "中文名称", "key", "type", "note"])
    for name in layer_names:
        for f in registry.get(name).export_fields:
            note = "masked unless the role may see people" if f.personal else (
                "1-4 suppressed" if f.small_count else "")
            w.writerow([name, f.alias, f.zh, f.key, f.type, note])
    return "\ufeff" + out.getvalue()


def run(dsn: str, actor, req: ExportRequest, out: Path, progress: Callable[[str, int, int], None] | None = None,
        now: datetime | None = None, audit_dsn: str | None = None) -> dict[str, int]:
    """Write the export to ``out`` and audit it; returns features per layer written.

    ``progress(layer, done, total)`` is called after every chunk. Raises ``LayerError`` (bad input,
    ``EmptyExport``) before anything is written.
    """
    req = req.validated()
    fmt, crs = FORMATS[req.format], crses.get(req.crs)
    out = Path(out)
    check_target(req, out)
    conn = _reader(dsn)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=out.parent))
    try:
        req = named_filters(conn, req)
        counts = {name: registry.count(conn, registry.get(name), actor, req.query_for(name), now)
                for name in req.layers}
        if not any(counts.values()):
            raise EmptyExport("no features match: every chosen layer is empty for these filters "
                              "in your jurisdiction; nothing was written")
        written: dict[str, int] = {}
        writer = fmt.make(work / f"export.{fmt.ext}", crs) if fmt.multi else None
        with no_cycle_collection():
            _write_layers(conn, actor, req, fmt, crs, counts, written, writer, work, progress, now)
        if writer is not None:
            writer.close()
        conn.rollback()  # end the read transaction before the audit write
        _finish(work, out, req, fmt)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        conn.close()
    shutil.rmtree(work, ignore_errors=True)
    _audit(audit_dsn or dsn, actor, req, written, out)
    return written


@contextlib.contextmanager
def no_cycle_collection():
    """Python's cycle collector off while rows stream: the rows make no cycles (reference counting
    frees every chunk), yet millions of short-lived tuples trigger full collections that walk every
    live object, which cost ~40 % of a million-row GeoPackage export's CPU (bench/README.md)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _write_layers(conn, actor, req: ExportRequest, fmt: Format, crs, counts: dict[str, int],
                  written: dict[str, int], writer, work: Path, progress, now) -> None:
    """Stream every layer of ``req`` into its writer (``writer``, or one file per layer)."""
    for name in req.layers:
        layer = registry.get(name)
        if not counts[name]:
            written[name] = 0
            continue
        w = writer or fmt.make(work / f"{name}.{fmt.ext}", crs)
        w.begin(name, layer.title, layer.geometry, layer.export_fields)
        done = 0
        raw = getattr(w, "raw_points", False) and layer.geometry == "Point"
        for chunk in prefetched(registry.stream(conn, layer, actor, req.query_for(name), crs.srid, CHUNK, now,
                                                times="text" if raw else "native")):
            if raw:  # the writer takes the rows as they come (exports.gpkg.GpkgWriter.write_raw)
                w.write_raw(chunk, crs.gcj02)
            else:
                geoms = shapely.from_wkb([bytes(r[1]) for r in chunk])
                if crs.gcj02:
                    geoms = wgs84_to_gcj02_geom(geoms)
                w.write([r[0] for r in chunk], geoms, [r[2:] for r in chunk])
            done += len(chunk)
            if progress:
                progress(name, done, counts[name])
        w.end()
        if writer is None:
            w.close()
        written[name] = done


def check_target(req: ExportRequest, out: Path) -> None:
    """Refuse an output path that cannot be written or would mislabel the file: a missing folder,
    or a name whose extension is not what is written (several layers of a one-layer format, and
    Shapefiles, are a zip of one file per layer, so the name must end in .zip)."""
    if not out.parent.is_dir():
        raise LayerError(f"folder {out.parent} does not exist; create it (mkdir -p) or choose another output; "
                         "nothing was written")
    want = Path(req.filename()).suffix
    if out.suffix.lower() != want:
        fmt = FORMATS[req.format]
        why = (f"{len(req.layers)} layers in {fmt.key}, a one-layer format, are written as one file per layer "
               "in a zip" if want == ".zip" and fmt.key != "shp" else
               "a Shapefile export is a zip of its files" if fmt.key == "shp" else f"a {fmt.key} export is one "
               f".{fmt.ext} file")
        raise LayerError(f"{out.name}: {why}, so the name must end in {want} (e.g. {out.with_suffix(want).name}); "
                         "nothing was written")


def _finish(work: Path, out: Path, req: ExportRequest, fmt: Format) -> None:
    """Move the finished file (or a zip of the files) to ``out`` with one atomic rename."""
    files = sorted(p for p in work.iterdir() if p.is_file())
    if fmt.multi or (len(files) == 1 and fmt.key != "shp"):
        os.chmod(files[0], 0o600)  # personal data: the owner only, whatever the umask
        os.replace(files[0], out)
        return
    part = work / "bundle.zip"
    with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
        for p in files:
            z.write(p, p.name)
        if fmt.key == "shp":
            z.writestr("data_dictionary.csv", data_dictionary(req.layers))
    os.chmod(part, 0o600)
    os.replace(part, out)


def _audit(dsn: str, actor, req: ExportRequest, written: dict[str, int], out: Path) -> None:
    conn = connect(dsn)
    try:
        with conn:
            audit(conn, actor, "export", "layers", ",".join(req.layers),
                  {"format": req.format, "crs": req.crs, "filters": req.query.describe(), "counts": written,
                   "file": out.name, "role": actor.role, "unit": actor.unit_code,
                   # what the file holds unmasked (domain.policy): the reveal this export made
                   "revealed": {n: revealed(registry.get(n), actor) for n in req.layers}},
                  sum(written.values()))
    finally:
        conn.close()


def cli_actor(dsn: str, region_code: str, username: str | None, os_user: str):
    """Who a command-line export runs as: the named account (its role and jurisdiction), or else an
    analyst over the whole region (masked), recorded in the audit log as ``cli:<os user>``."""
    from data.users import Actor, _actor, normalize_username
    from db.core import dict_cursor, sql

    if username is None:
        return Actor(user_id=None, username=f"cli:{os_user}", role="analyst", unit_code=region_code,
                     region_code=region_code)
    conn = connect(dsn)
    try:
        with dict_cursor(conn) as cur:
            cur.execute(sql("user_by_username"), {"username": normalize_username(username)})
            row = cur.fetchone()
        conn.rollback()
    finally:
        conn.close()
    if row is None or row["disabled"]:
        raise LayerError(f"no active account {username!r}")
    return _actor(row)


def start(dsn: str, actor, req: ExportRequest, directory: Path | None = None) -> str:
    """Count and queue an export; returns the job id to poll. A bounded pool of worker processes
    runs it when the limits allow (``exports.queue``). Bad input, an empty result, a read-only
    caller and a full queue are refused here, before anything is queued."""
    from exports import jobs, queue

    if getattr(actor, "read_only", False):  # every path (API, Dash callback, code) comes here
        raise jobs.ReadOnlyActor("a read-only session (a kiosk) cannot start exports; log in with your own account")
    req = req.validated()
    counts = plan(dsn, actor, req)
    if not any(counts.values()):
        raise EmptyExport("no features match: every chosen layer is empty for these filters in your jurisdiction")
    job_id = jobs.create(dsn, actor, req.layers, req.format, req.crs, req.query.describe(), sum(counts.values()))
    queue.ensure(dsn, directory).wake()
    return job_id


def query_from(filters: dict) -> Query:
    """The ``Query`` a job row's ``filters`` (``Query.describe()``) stands for."""
    when = {k: datetime.fromisoformat(filters[k]) if filters.get(k) else None for k in ("since", "until")}
    tup = lambda v: tuple(v) if v else None  # noqa: E731
    return Query(since=when["since"], until=when["until"], categories=tup(filters.get("categories")),
                 states=tup(filters.get("states")), unit=filters.get("unit"), bbox=tup(filters.get("bbox")),
                 props=tuple((filters.get("props") or {}).items()), fid=filters.get("fid"))


def run_job(dsn: str, job: dict, base: Path | None = None) -> None:
    """Run one claimed job (a row of ``export_job``) to its end: the file in the job's private
    folder, the row ``done`` or ``failed`` with the reason. Progress moves the heartbeat."""
    import threading
    import time

    from data.users import Actor, actor_by_id
    from exports import jobs

    job_id = job["id"]
    try:
        if job["user_id"] is not None:
            conn = connect(dsn)
            try:
                found = actor_by_id(conn, job["user_id"])
            finally:
                conn.close()
            if found is None:
                raise LayerError(f"account {job['username']} is disabled or gone; the export was not run")
            actor = found[0]
        else:
            actor = Actor(**job["actor"])
        req = ExportRequest(tuple(job["layers"]), job["format"], job["crs"], query_from(job["filters"]))
        folder = jobs.job_folder(job_id, base)
        last, done_by = [0.0], {}
        stop = threading.Event()

        def beat() -> None:  # a long chunk must not look like a dead worker
            while not stop.wait(5):
                try:
                    jobs.heartbeat(dsn, job_id)
                except Exception:  # noqa: BLE001 - the database is away; the export itself will say so
                    pass

        def progress(name: str, done: int, total: int) -> None:
            done_by[name] = done  # features written across all layers
            if time.monotonic() - last[0] > 1:  # a row update a second is plenty for a progress bar
                last[0] = time.monotonic()
                jobs.update(dsn, job_id, "running", sum(done_by.values()))

        beater = threading.Thread(target=beat, name=f"export-beat-{job_id}", daemon=True)
        beater.start()
        try:
            written = run(dsn, actor, req, folder / req.filename(), progress)
        finally:
            stop.set()
        jobs.update(dsn, job_id, "done", sum(written.values()), req.filename())
    except Exception as exc:  # the job row carries the failure to the page; nothing half-written stays
        try:
            jobs.update(dsn, job_id, "failed", error=str(exc)[:500] or type(exc).__name__)
        except Exception as again:  # noqa: BLE001 - the database is gone: the reaper fails the job later
            raise SystemExit(f"export {job_id} failed ({exc}) and could not be recorded ({again})") from None


def job_file(dsn: str, actor, job_id: str, directory: Path | None = None) -> Path | None:
    """The finished file of ``actor``'s job, or None."""
    from exports import jobs

    job = jobs.get(dsn, actor, job_id)
    if not job or job["state"] != "done" or not job["file_name"]:
        return None
    path = Path(directory or jobs.directory()) / job["id"] / job["file_name"]
    return path if path.is_file() else None
