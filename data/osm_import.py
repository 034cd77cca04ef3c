"""Import a road network from OpenStreetMap XML into road_edge/road_vertex for one region.

Streaming parse (``iterparse``; elements are cleared as they go), highway ways only, split at
every node shared by two ways (and at a way's own repeated nodes), one edge per stretch between
junctions. Speeds: ``maxspeed`` when it is a number (km/h, or mph converted), else the default of
the way's highway tag (``DEFAULT_KMH``); the report says which defaults were used and how often.
One-way: ``oneway=yes|true|1`` forward, ``-1|reverse`` backward, and ``junction=roundabout`` or
``highway=motorway`` imply it unless ``oneway=no``. Edges that do not touch the region's level-1
boundary are dropped. All or nothing: the region's network is replaced in one transaction, and
any refusal leaves the previous network untouched.

PBF: converted with ``osmium cat`` (Debian ``osmium-tool``) when that program is installed.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from psycopg2.extras import execute_values
from pyproj import Geod

from db.core import sql

GEOD = Geod(ellps="WGS84")
# highway tag -> (OneMap road class, default km/h). Classes follow the demo's (and the map's
# styles); the speeds are what a vehicle keeps on rural Chinese roads of that kind, not limits.
HIGHWAYS = {
    "motorway": ("national", 100), "motorway_link": ("national", 60),
    "trunk": ("national", 80), "trunk_link": ("national", 50),
    "primary": ("provincial", 70), "primary_link": ("provincial", 50),
    "secondary": ("county", 60), "secondary_link": ("county", 40),
    "tertiary": ("township", 40), "tertiary_link": ("township", 30),
    "unclassified": ("township", 40), "road": ("township", 40),
    "residential": ("urban", 30), "living_street": ("urban", 10), "service": ("urban", 20),
    "track": ("track", 25),
}
DEFAULT_KMH = {tag: kmh for tag, (_cls, kmh) in HIGHWAYS.items()}
ONEWAY_YES, ONEWAY_REVERSE = {"yes", "true", "1"}, {"-1", "reverse"}


class ImportRefused(Exception):
    """The file cannot be used; nothing was written. The message says why and what to do."""


@dataclass
class Report:
    """What an import read, kept and assumed."""

    ways_read: int = 0
    highway_ways: int = 0
    ignored_tags: Counter = field(default_factory=Counter)
    defaults_used: Counter = field(default_factory=Counter)
    maxspeed_used: int = 0
    oneway_edges: int = 0
    missing_nodes: int = 0
    outside_edges: int = 0
    edges: int = 0
    vertices: int = 0
    length_km: float = 0.0

    def lines(self) -> list[str]:
        """The report as lines for the command line."""
        out = [f"{self.highway_ways} highway ways of {self.ways_read} ways → {self.edges} edges, "
               f"{self.vertices} junctions, {self.length_km:.1f} km ({self.oneway_edges} one-way edges)",
               f"speeds: maxspeed on {self.maxspeed_used} edges; class defaults on "
               f"{sum(self.defaults_used.values())} edges"]
        for tag, n in sorted(self.defaults_used.items()):
            out.append(f"  default {DEFAULT_KMH[tag]} km/h for highway={tag} ({n} edges)")
        if self.ignored_tags:
            out.append("ignored (not for vehicles): " + ", ".join(f"highway={t} ×{n}" for t, n in
                                                                  self.ignored_tags.most_common()))
        if self.missing_nodes:
            out.append(f"{self.missing_nodes} node references not in the file were skipped (clipped extract)")
        if self.outside_edges:
            out.append(f"{self.outside_edges} edges outside the region were dropped")
        return out


def parse_speed(value: str | None) -> float | None:
    """km/h from an OSM maxspeed value ('60', '60 km/h', '40 mph'); None when not a number."""
    if not value:
        return None
    v = value.strip().lower()
    factor = 1.609344 if v.endswith("mph") else 1.0
    v = v.removesuffix("mph").removesuffix("km/h").removesuffix("kmh").strip()
    try:
        kmh = float(v) * factor
    except ValueError:
        return None  # 'none', 'signals', 'CN:rural' …: use the class default
    return kmh if 0 < kmh < 200 else None


def read_osm(path: Path, report: Report) -> tuple[dict[int, tuple[float, float]], list[tuple[list[int], dict]]]:
    """Node coordinates and highway ways (node ids, tags) from an OSM XML file, streamed."""
    nodes: dict[int, tuple[float, float]] = {}
    ways: list[tuple[list[int], dict]] = []
    try:
        for _event, el in ET.iterparse(path, events=("end",)):
            if el.tag == "node":
                try:
                    nodes[int(el.get("id"))] = (float(el.get("lon")), float(el.get("lat")))
                except (TypeError, ValueError):
                    raise ImportRefused(f"node {el.get('id')!r} has no valid id/lon/lat") from None
                el.clear()
            elif el.tag == "way":
                report.ways_read += 1
                tags = {t.get("k"): t.get("v") for t in el.iter("tag")}
                hw = tags.get("highway")
                if hw in HIGHWAYS:
                    ways.append(([int(n.get("ref")) for n in el.iter("nd")], tags))
                elif hw:
                    report.ignored_tags[hw] += 1
                el.clear()
            elif el.tag == "relation":
                el.clear()
    except ET.ParseError as exc:
        raise ImportRefused(f"{path.name} is not well-formed OSM XML ({exc}); nothing was imported") from None
    report.highway_ways = len(ways)
    return nodes, ways


def build_edges(nodes, ways, report: Report) -> list[dict]:
    """Edges between junctions: ways split at shared nodes, with class, speed and direction."""
    use: Counter[int] = Counter()
    clean = []
    for refs, tags in ways:
        present = [r for r in refs if r in nodes]
        report.missing_nodes += len(refs) - len(present)
        dedup = [r for i, r in enumerate(present) if i == 0 or r != present[i - 1]]
        if len(dedup) < 2:
            continue
        clean.append((dedup, tags))
        use.update(dedup)
        use[dedup[0]] += 1  # way ends are always junctions
        use[dedup[-1]] += 1
    edges = []
    for refs, tags in clean:
        hw = tags["highway"]
        cls, default = HIGHWAYS[hw]
        kmh = parse_speed(tags.get("maxspeed"))
        oneway = tags.get("oneway", "").lower()
        implied = tags.get("junction") == "roundabout" or hw == "motorway"
        forward_only = oneway in ONEWAY_YES or (implied and oneway != "no")
        if oneway in ONEWAY_REVERSE:
            refs, forward_only = refs[::-1], True
        start = 0
        for i in range(1, len(refs)):
            if use[refs[i]] > 1 or i == len(refs) - 1:
                part = refs[start:i + 1]
                start = i
                if part[0] == part[-1] and len(part) <= 2:
                    continue
                edges.append({"nodes": part, "road_class": cls, "name": tags.get("name") or tags.get("ref"),
                              "speed_kmh": kmh or default, "default": None if kmh else hw,
                              "oneway": forward_only})
    return edges


def edge_lines(nodes, edges):
    """One LineString per edge through all its nodes, bends included (edges differ in length)."""
    if not edges:
        return np.empty(0, dtype=object)
    coords = np.array([nodes[n] for e in edges for n in e["nodes"]], dtype=np.float64)
    index = np.repeat(np.arange(len(edges)), [len(e["nodes"]) for e in edges])
    return shapely.linestrings(coords, indices=index)


def _check_size(path: Path) -> None:
    """Refuse a file larger than ``ONEMAP_IMPORT_MAX_MB`` before parsing it (every node is kept
    in memory while the ways are read)."""
    from config import Settings

    limit = Settings().import_max_mb
    size = path.stat().st_size
    if size > limit * 1e6:
        raise ImportRefused(f"{path.name} is {size / 1e6:,.1f} MB, more than the {limit:,.0f} MB an import reads "
                            "(ONEMAP_IMPORT_MAX_MB); cut the extract to the county (osmium extract -p boundary) "
                            "or raise the limit; nothing was imported")


def import_osm(conn, path: Path, region: str) -> Report:
    """Replace the region's road network with the highways of an OSM file; commits, or refuses."""
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"no such file: {path}")
    _check_size(path)
    if path.suffix.lower() == ".pbf":
        return _import_pbf(conn, path, region)
    report = Report()
    nodes, ways = read_osm(path, report)
    if not ways:
        raise ImportRefused(f"{path.name} has no highway ways a vehicle can use "
                            f"(read {report.ways_read} ways); nothing was imported")
    edges = build_edges(nodes, ways, report)
    with conn.cursor() as cur:
        cur.execute("SELECT ST_AsBinary(ST_Union(geom)) FROM grid_unit WHERE region_code = %s AND level = 1",
                    (region,))
        row = cur.fetchone()
    if row is None or row[0] is None:
        raise ImportRefused(f"region {region} has no level-1 boundary to clip to; import its grid first")
    boundary = shapely.from_wkb(bytes(row[0]))
    shapely.prepare(boundary)
    lines = edge_lines(nodes, edges)
    inside = boundary.intersects(lines) if len(lines) else []
    keep = [e for e, ok in zip(edges, inside, strict=True) if ok]
    kept_lines = [g for g, ok in zip(lines, inside, strict=True) if ok]
    report.outside_edges = len(edges) - len(keep)
    if not keep:
        raise ImportRefused(f"none of the {len(edges)} road edges in {path.name} lies inside region {region}; "
                            "is the extract for another area?")
    vid: dict[int, int] = {}
    for e in keep:
        for n in (e["nodes"][0], e["nodes"][-1]):
            vid.setdefault(n, int(region) * 10 ** 7 + len(vid) + 1)  # the demo's id scheme
    rows = []
    for e, g in zip(keep, kept_lines, strict=True):
        length = max(0.1, float(GEOD.geometry_length(g)))  # pgRouting wants a positive length
        cost = length / (e["speed_kmh"] / 3.6)
        rows.append((region, vid[e["nodes"][0]], vid[e["nodes"][-1]], cost, -1.0 if e["oneway"] else cost,
                     length, e["road_class"], e["name"], e["speed_kmh"],
                     shapely.to_wkb(g, hex=True, include_srid=False)))
        report.length_km += length / 1000
        report.oneway_edges += e["oneway"]
        if e["default"]:
            report.defaults_used[e["default"]] += 1
        else:
            report.maxspeed_used += 1
    report.edges, report.vertices = len(rows), len(vid)
    try:
        with conn.cursor() as cur:
            cur.execute(sql("route_import_clear"), {"region": region})
            execute_values(cur, sql("route_import_vertex"),
                           [(v, region, nodes[n][0], nodes[n][1]) for n, v in vid.items()],
                           template="(%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))", page_size=5000)
            execute_values(cur, sql("route_import_edge"), rows,
                           template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, "
                                    "ST_SetSRID(ST_GeomFromWKB(decode(%s, 'hex')), 4326))",
                           page_size=5000)
        conn.commit()
    except Exception:
        conn.rollback()
        raise
    return report


def _import_pbf(conn, path: Path, region: str) -> Report:
    osmium = shutil.which("osmium")
    if osmium is None:
        raise ImportRefused(f"{path.name} is PBF: install Debian's osmium-tool (apt-get install osmium-tool) "
                            "to convert it, or give an .osm XML file")
    fd, tmp = tempfile.mkstemp(suffix=".osm")
    os.close(fd)
    try:
        done = subprocess.run([osmium, "cat", "--overwrite", str(path), "-o", tmp], capture_output=True, text=True)
        if done.returncode != 0:
            raise ImportRefused(f"osmium could not read {path.name}: {done.stderr.strip()}")
        return import_osm(conn, Path(tmp), region)
    finally:
        os.unlink(tmp)
