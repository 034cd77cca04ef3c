"""Streaming writers, one per format, all with the same four calls:
``begin(layer, title, geometry_type, columns)``, ``write(fids, geoms, rows)``, ``end()``, ``close()``.

``columns`` are objects with ``key``, ``zh`` (Chinese name), ``alias`` (≤ 10 ASCII bytes) and
``type`` (str/int/float/bool/datetime); ``geoms`` a numpy array of shapely geometries already in
the output CRS. Text formats (GeoJSON, CSV, KML) are written by hand because that is simplest to
stream; GeoPackage is written with sqlite3 by hand (see ``gpkg``); FlatGeobuf and Shapefile go
through pyogrio's append, which GDAL does in constant memory for them.
"""
from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import shapely

from geo.crs import Crs


def iso(value) -> str | None:
    """A datetime as ISO 8601 in UTC with ``Z`` (GeoPackage's form); other values unchanged."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return value


def _plain(value):
    return iso(value) if isinstance(value, datetime) else value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what Excel and WPS read as a formula


def _cell(value):
    """A CSV cell that a spreadsheet shows as text: a string from data that starts like a formula
    (``=HYPERLINK(…)``, ``@SUM``, ``=cmd|…``) gets a leading apostrophe (OWASP's CSV injection rule)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class GeoJsonWriter:
    """A FeatureCollection written feature by feature (RFC 7946 for 4326; a legacy ``crs`` member
    otherwise, which GDAL and QGIS read)."""

    def __init__(self, path: Path, crs: Crs):
        self.fh = open(path, "w", encoding="utf-8")
        self.crs, self.first = crs, True

    def begin(self, layer, title, geometry_type, columns):
        self.columns = columns
        head = {"type": "FeatureCollection", "name": layer}
        if self.crs.gcj02:
            head["coordinate_system"] = "GCJ-02"
        elif self.crs.srid != 4326:
            head["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{self.crs.srid}"}}
        self.fh.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n')

    def write(self, fids, geoms, rows):
        names = [c.zh for c in self.columns]
        for fid, g, row in zip(fids, shapely.to_geojson(geoms), rows, strict=True):
            props = json.dumps(dict(zip(names, map(_plain, row), strict=True)), ensure_ascii=False)
            self.fh.write(("" if self.first else ",\n") + '{"type": "Feature", "id": '
                          + json.dumps(fid, ensure_ascii=False) + ', "properties": ' + props
                          + ', "geometry": ' + g + "}")
            self.first = False

    def end(self):
        self.fh.write("\n]}\n")

    def close(self):
        self.fh.close()


class CsvWriter:
    """CSV with a ``WKT`` geometry column and a UTF-8 BOM, so Chinese Excel opens it right."""

    def __init__(self, path: Path, crs: Crs):
        self.fh = open(path, "w", encoding="utf-8-sig", newline="")
        self.out = csv.writer(self.fh)
        self.precision = 3 if crs.projected else 7

    def begin(self, layer, title, geometry_type, columns):
        self.out.writerow([c.zh for c in columns] + ["WKT"])

    def write(self, fids, geoms, rows):
        wkts = shapely.to_wkt(geoms, rounding_precision=self.precision, trim=True)
        self.out.writerows([*(_cell(_plain(v)) for v in row), w] for row, w in zip(rows, wkts, strict=True))

    def end(self):
        pass

    def close(self):
        self.fh.close()


KML_TYPES = {"str": "string", "int": "int", "float": "double", "bool": "bool", "datetime": "string"}


def _kml_coords(coords) -> str:
    return " ".join(f"{x:.7f},{y:.7f}" for x, y in np.asarray(coords)[:, :2])


def kml_geometry(g) -> str:
    """One shapely geometry as a KML geometry element."""
    kind = g.geom_type
    if kind == "Point":
        return f"<Point><coordinates>{g.x:.7f},{g.y:.7f}</coordinates></Point>"
    if kind == "LineString":
        return f"<LineString><coordinates>{_kml_coords(g.coords)}</coordinates></LineString>"
    if kind == "Polygon":
        inner = "".join(f"<innerBoundaryIs><LinearRing><coordinates>{_kml_coords(r.coords)}</coordinates>"
                        "</LinearRing></innerBoundaryIs>" for r in g.interiors)
        return (f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{_kml_coords(g.exterior.coords)}"
                f"</coordinates></LinearRing></outerBoundaryIs>{inner}</Polygon>")
    return "<MultiGeometry>" + "".join(kml_geometry(p) for p in g.geoms) + "</MultiGeometry>"


class KmlWriter:
    """KML 2.2, one Folder and Schema per layer (lon/lat only: KML has no other CRS)."""

    def __init__(self, path: Path, crs: Crs):
        if crs.projected:
            raise ValueError("KML is longitude/latitude only: choose EPSG:4326, EPSG:4490 or GCJ-02")
        self.fh = open(path, "w", encoding="utf-8")
        self.fh.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                      '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n')

    def begin(self, layer, title, geometry_type, columns):
        self.layer, self.columns = layer, columns
        fields = "".join(f"<SimpleField name={quoteattr(c.zh)} type=\"{KML_TYPES[c.type]}\"/>" for c in columns)
        self.fh.write(f'<Schema name="{layer}" id="{layer}">{fields}</Schema>\n'
                      f"<Folder><name>{escape(layer)}</name><description>{escape(title)}</description>\n")

    def write(self, fids, geoms, rows):
        for fid, g, row in zip(fids, geoms, rows, strict=True):
            data = "".join(f"<SimpleData name={quoteattr(c.zh)}>{escape(str(_plain(v)))}</SimpleData>"
                           for c, v in zip(self.columns, row, strict=True) if v is not None)
            self.fh.write(f"<Placemark><name>{escape(str(fid))}</name><ExtendedData>"
                          f'<SchemaData schemaUrl="#{self.layer}">{data}</SchemaData></ExtendedData>'
                          f"{kml_geometry(g)}</Placemark>\n")

    def end(self):
        self.fh.write("</Folder>\n")

    def close(self):
        self.fh.write("</Document></kml>\n")
        self.fh.close()


class OgrWriter:
    """FlatGeobuf or Shapefile through pyogrio, appending each chunk (GDAL streams both)."""

    def __init__(self, path: Path, crs: Crs, driver: str):
        self.path, self.crs, self.driver = path, crs, driver
        self.shapefile = driver == "ESRI Shapefile"

    def begin(self, layer, title, geometry_type, columns):
        self.layer, self.geometry_type, self.columns, self.appending = layer, geometry_type, columns, False

    def write(self, fids, geoms, rows):
        from pyogrio.raw import write

        data, masks = [], []
        for i, c in enumerate(self.columns):
            values = [row[i] for row in rows]
            mask = np.array([v is None for v in values])
            if c.type == "int":
                arr = np.array([0 if v is None else v for v in values], dtype=np.int64)
            elif c.type == "float":
                arr = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            elif c.type == "bool":
                arr = np.array([bool(v) for v in values], dtype=bool)
            else:  # text and times (ISO 8601, UTC): Shapefile has no time type at all
                arr = np.array([None if v is None else str(_plain(v)) for v in values], dtype=object)
            data.append(arr)
            masks.append(mask if mask.any() else None)
        names = [c.alias if self.shapefile else c.zh for c in self.columns]
        write(str(self.path), shapely.to_wkb(geoms), data, names, field_mask=masks, layer=self.layer,
              driver=self.driver, geometry_type=self.geometry_type, crs=self.crs.wkt(), encoding="UTF-8",
              promote_to_multi=False, append=self.appending)
        self.appending = True

    def end(self):
        pass

    def close(self):
        pass
