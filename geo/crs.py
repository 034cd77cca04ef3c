"""The coordinate systems an export may use, and how each is named to the writers.

EPSG:4545 (CGCS2000 / 3-degree Gauss–Krüger CM 108E) is the area-work projection for the demo
county: the banner spans about 106.5–108.5°E and the 3-degree zone on 108°E covers 106.5–109.5°E,
so the whole banner lies in one zone (its western tip, ~2 km past 106.5°E, has a scale error under
1:4,000, far below any area analysis' noise). The zone's "CM" code (4545, false easting 500 km)
is chosen over the zone-numbered twin (4524, false easting 36,500 km) because desktop tools and
area calculations expect plain metres. Other counties pick theirs by central meridian.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Crs:
    """An export CRS: the SRID PostGIS transforms to, the label for files, whether GCJ-02 follows."""

    key: str
    srid: int            # what PostGIS projects to (GCJ-02 starts from 4326)
    title: str
    gcj02: bool = False
    projected: bool = False

    def wkt(self) -> str:
        """The CRS as WKT for file headers; GCJ-02 gets a custom name so no tool mistakes it for WGS 84."""
        import pyproj

        if self.gcj02:
            return GCJ02_WKT
        return pyproj.CRS.from_epsg(self.srid).to_wkt("WKT1_GDAL")


# GCJ-02 has no EPSG code: it is WGS 84 with an obfuscating offset, so label it as its own datum.
GCJ02_WKT = ('GEOGCS["GCJ-02 (China obfuscated offset from WGS 84, not WGS 84)",'
             'DATUM["GCJ_02",SPHEROID["WGS 84",6378137,298.257223563]],'
             'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]')

CRSES = {c.key: c for c in (
    Crs("EPSG:4326", 4326, "WGS 84"),
    Crs("EPSG:4490", 4490, "CGCS2000"),
    Crs("EPSG:4545", 4545, "CGCS2000 / 3-degree Gauss-Kruger CM 108E", projected=True),
    Crs("GCJ-02", 4326, "GCJ-02 (AMap/Tencent offset)", gcj02=True),
)}
ALIASES = {"4326": "EPSG:4326", "WGS84": "EPSG:4326", "4490": "EPSG:4490", "CGCS2000": "EPSG:4490",
           "4545": "EPSG:4545", "GK108": "EPSG:4545", "GCJ02": "GCJ-02"}


class UnknownCrs(ValueError):
    """The CRS is not one an export offers."""


def get(text: str) -> Crs:
    """The export CRS for ``text`` (``EPSG:4490``, ``4490``, ``CGCS2000``, ``GCJ-02`` …)."""
    key = (text or "").strip().upper()
    key = ALIASES.get(key.replace("-", "").replace("EPSG:", "") if key not in CRSES else key, key)
    if key not in CRSES:
        raise UnknownCrs(f"unknown CRS {text!r}; choose one of: {', '.join(CRSES)}")
    return CRSES[key]
