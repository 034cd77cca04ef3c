"""Assign many points to grid cells at once: a label raster over the cells' extent answers most
points with one array lookup; only points in pixels a cell boundary crosses are tested exactly.

The rule is the database's (``grid_cell_at``): a point belongs to a cell it intersects (the
boundary included); on a shared boundary the smallest code wins; a point in no cell gets none.
A pixel (its closed box) is labelled with a cell when it lies within that cell and intersects no
other cell, so every point in it has exactly that answer; pixels that touch no cell are outside;
the rest are exact: an STRtree query of those points with ``intersects``, smallest code kept.
"""
from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray

OUTSIDE, EXACT = -1, -2


class CellIndex:
    """Cells (codes and polygons, lon/lat) ready to take points in bulk."""

    def __init__(self, codes: list[str], polygons: list[shapely.Geometry], pixels: int = 512) -> None:
        order = np.argsort(np.array(codes, dtype=object), kind="stable")  # index order = code order
        self.codes: NDArray[np.object_] = np.array(codes, dtype=object)[order]
        self.polygons: NDArray[np.object_] = np.array(polygons, dtype=object)[order]
        self.tree = shapely.STRtree(self.polygons)
        xmin, ymin, xmax, ymax = shapely.total_bounds(self.polygons)
        self.x0, self.y0 = float(xmin), float(ymin)
        span = max(float(xmax - xmin), float(ymax - ymin))
        self.d = span / pixels if span > 0 else 1.0
        self.nx = int(np.ceil((xmax - xmin) / self.d)) + 1
        self.ny = int(np.ceil((ymax - ymin) / self.d)) + 1
        self.labels = self._labels()

    def _labels(self) -> NDArray[np.int32]:
        """Per pixel: the one cell holding it, OUTSIDE, or EXACT (a boundary crosses it)."""
        iy, ix = np.divmod(np.arange(self.nx * self.ny), self.nx)
        boxes = shapely.box(self.x0 + ix * self.d, self.y0 + iy * self.d,
                            self.x0 + (ix + 1) * self.d, self.y0 + (iy + 1) * self.d)
        hit_box, hit_cell = self.tree.query(boxes, predicate="intersects")
        count = np.bincount(hit_box, minlength=len(boxes))
        labels = np.full(len(boxes), EXACT, dtype=np.int32)
        labels[count == 0] = OUTSIDE
        single = count[hit_box] == 1
        one_box, one_cell = hit_box[single], hit_cell[single]
        inside = shapely.within(boxes[one_box], self.polygons[one_cell])
        labels[one_box[inside]] = one_cell[inside]
        return labels.reshape(self.ny, self.nx)

    def assign_index(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.int32]:
        """Per point: the index of its cell in ``codes`` (code order), or -1 when it is in none."""
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        ix = np.floor((lon - self.x0) / self.d)
        iy = np.floor((lat - self.y0) / self.d)
        ok = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        out = np.full(len(lon), OUTSIDE, dtype=np.int32)
        out[ok] = self.labels[iy[ok].astype(np.intp), ix[ok].astype(np.intp)]
        exact = np.nonzero(out == EXACT)[0]
        if len(exact):
            out[exact] = OUTSIDE
            pts = shapely.points(lon[exact], lat[exact])
            hit_pt, hit_cell = self.tree.query(pts, predicate="intersects")
            best = np.full(len(exact), np.iinfo(np.int32).max, dtype=np.int64)
            np.minimum.at(best, hit_pt, hit_cell)  # the smallest code on a shared boundary
            found = best != np.iinfo(np.int32).max
            out[exact[found]] = best[found]
        return out

    def assign(self, lon: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.object_]:
        """Per point: its cell code, or None when it is in no cell."""
        idx = self.assign_index(lon, lat)
        codes: NDArray[np.object_] = np.empty(len(self.codes) + 1, dtype=object)
        codes[:-1] = self.codes
        out: NDArray[np.object_] = codes[np.where(idx >= 0, idx, len(self.codes))]
        return out
