"""GeoPackage exports pass GDAL's own validator (validate_gpkg.py, from Debian's python3-gdal) in
every export CRS, strictly (extra checks on, warnings as errors)."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from data.users import Actor
from exports.service import ExportRequest, run
from geo.crs import CRSES

ADMIN = Actor(user_id=None, username="test-admin", role="admin", unit_code="150623", region_code="150623")
CANDIDATES = [Path("/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"),
              Path("/usr/share/doc/python3-gdal/examples/validate_gpkg.py")]


def validator() -> list[str]:
    """The command that runs GDAL's validate_gpkg.py (it needs the system Python's osgeo bindings)."""
    python = shutil.which("python3", path="/usr/bin:/bin") or "python3"
    for path in CANDIDATES:
        if path.is_file():
            return [python, str(path)]
    pytest.fail("GDAL's validate_gpkg.py is missing: install Debian's python3-gdal (scripts/system-deps.sh does)")


@pytest.mark.parametrize("crs", list(CRSES))
def test_geopackage_is_valid_in_every_crs(demo_dsn, tmp_path, crs):
    out = tmp_path / "all.gpkg"
    run(demo_dsn, ADMIN, ExportRequest(("incidents", "villages", "roads", "facilities"), "gpkg", crs), out)
    done = subprocess.run([*validator(), "-k", "--extra", "--warning-as-error", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    db = sqlite3.connect(out)
    srs = {row[0]: row[1] for row in db.execute("SELECT srs_id, organization FROM gpkg_spatial_ref_sys")}
    used = {row[0] for row in db.execute("SELECT srs_id FROM gpkg_geometry_columns")}
    db.close()
    assert {-1: "NONE", 0: "NONE", 4326: "EPSG"}.items() <= srs.items()  # the spec's three, always
    assert len(used) == 1 and used <= srs.keys()
    assert (srs[next(iter(used))] == "NONE") == (crs == "GCJ-02")  # GCJ-02 never claims to be EPSG


def test_the_validator_catches_what_we_fixed(demo_dsn, tmp_path):
    """The check is not vacuous: without the EPSG:4326 row (the old bug) the validator fails."""
    out = tmp_path / "broken.gpkg"
    run(demo_dsn, ADMIN, ExportRequest(("villages",), "gpkg", "EPSG:4490"), out)
    db = sqlite3.connect(out)
    db.execute("DELETE FROM gpkg_spatial_ref_sys WHERE srs_id = 4326")
    db.commit()
    db.close()
    done = subprocess.run([*validator(), str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "Req 11" in done.stdout + done.stderr
