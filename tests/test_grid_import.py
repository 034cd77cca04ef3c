"""Grid import into a real PostGIS: formats, CRSs, GCJ-02, every refusal (nothing written), CLI check.

Imports commit (that is what they do), so every test gets its own region code, not used by
anyone else in the session database, and deletes the region (cascading to its units) at the end.
"""
from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Polygon, box

import app
from data.grid_import import ImportRefused, check_stored, import_grid_file
from db.core import connect
from geo.datum import wgs84_to_gcj02_geom

BANNER_BOX = box(107.0, 38.0, 107.2, 38.2)


@pytest.fixture
def region(empty_dsn):
    """A region code free in the session database; its rows are deleted after the test."""
    conn = connect(empty_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT region_code FROM region")
        taken = {r[0] for r in cur.fetchall()}
    code = next(f"1506{n:02d}" for n in range(50, 100) if f"1506{n:02d}" not in taken)
    yield code
    with conn.cursor() as cur:
        cur.execute("DELETE FROM region WHERE region_code = %s", (code,))
    conn.close()


def banner_rows(region: str) -> list[dict]:
    return [{"code": region, "name": "鄂托克前旗", "geometry": BANNER_BOX}]


def town_rows(region: str) -> list[dict]:
    """The banner cut 2×2 into four towns."""
    boxes = [box(107.0, 38.1, 107.1, 38.2), box(107.1, 38.1, 107.2, 38.2),
             box(107.0, 38.0, 107.1, 38.1), box(107.1, 38.0, 107.2, 38.1)]
    return [{"code": f"{region}{i:03d}", "name": f"镇{i}", "parent_code": region, "geometry": g}
            for i, g in enumerate(boxes, 1)]


def write(tmp_path: Path, filename: str, rows: list[dict], crs="EPSG:4326", layer=None) -> Path:
    """Write rows (WGS84 geometries) to a file, reprojected to ``crs``; .zip means zipped SHP."""
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    frame = frame.to_crs(crs) if crs else frame.set_crs(None, allow_override=True)
    path = tmp_path / filename
    if path.suffix == ".zip":
        shp_dir = tmp_path / f"{path.stem}_shp"
        shp_dir.mkdir()
        with warnings.catch_warnings():
            # field names cut to 10 bytes and a missing .prj are what these tests want
            warnings.simplefilter("ignore")
            frame.to_file(shp_dir / f"{path.stem}.shp", encoding="utf-8")
        with zipfile.ZipFile(path, "w") as zf:
            for part in shp_dir.iterdir():
                zf.write(part, part.name)
    else:
        frame.to_file(path, layer=layer)
    return path


def imported_banner(dsn: str, tmp_path: Path, region: str) -> None:
    import_grid_file(dsn, write(tmp_path, "banner.geojson", banner_rows(region)), level=1)


def total_rows(dsn: str) -> int:
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM grid_unit")
            return cur.fetchone()[0]
    finally:
        conn.close()


def stored(conn, region: str) -> dict[str, dict]:
    """code → row (level, name, parent, synthetic, provenance, geom) of the region's units."""
    with conn.cursor() as cur:
        cur.execute("SELECT code, level, name, parent_code, synthetic, provenance, "
                    "ST_AsBinary(geom), GeometryType(geom) FROM grid_unit WHERE region_code = %s",
                    (region,))
        return {r[0]: {"level": r[1], "name": r[2], "parent": r[3], "synthetic": r[4],
                       "provenance": r[5], "geom": shapely.from_wkb(bytes(r[6])), "type": r[7]}
                for r in cur.fetchall()}


def refused(dsn: str, *args, **kwargs) -> ImportRefused:
    """Run an import that must be refused; assert nothing was written; return the refusal."""
    before = total_rows(dsn)
    with pytest.raises(ImportRefused) as info:
        import_grid_file(dsn, *args, **kwargs)
    assert total_rows(dsn) == before
    return info.value


# ---- imports that succeed -------------------------------------------------------------------

def test_clean_import_of_levels_1_and_2_reads_back(empty_dsn, empty_conn, region, tmp_path):
    n1 = import_grid_file(empty_dsn, write(tmp_path, "banner.geojson", banner_rows(region)), level=1)
    towns_file = write(tmp_path, "towns.gpkg", town_rows(region))
    n2 = import_grid_file(empty_dsn, towns_file, level=2)
    assert (n1, n2) == (1, 4)
    rows = stored(empty_conn, region)
    assert sorted(rows) == [region] + [f"{region}00{i}" for i in range(1, 5)]
    town = rows[f"{region}002"]
    assert (town["level"], town["name"], town["parent"], town["synthetic"]) == (2, "镇2", region, False)
    assert town["type"] == "MULTIPOLYGON"
    assert town["geom"].equals(box(107.1, 38.1, 107.2, 38.2))
    prov = town["provenance"]
    assert prov["source"] == "towns.gpkg" and prov["crs"] == "EPSG:4326"
    assert prov["gcj02_converted"] is False and len(prov["sha256"]) == 64 and prov["imported_at"]
    with empty_conn.cursor() as cur:
        cur.execute("SELECT name FROM region WHERE region_code = %s", (region,))
        assert cur.fetchone()[0] == "鄂托克前旗"
    assert check_stored(empty_dsn, region) == []


@pytest.mark.parametrize("filename, crs", [("towns.zip", "EPSG:32648"), ("towns.gpkg", "EPSG:4547"),
                                           ("towns.geojson", "EPSG:32648")])
def test_projected_crs_is_reprojected(empty_dsn, empty_conn, region, tmp_path, filename, crs):
    imported_banner(empty_dsn, tmp_path, region)
    assert import_grid_file(empty_dsn, write(tmp_path, filename, town_rows(region), crs=crs),
                            level=2) == 4
    rows = stored(empty_conn, region)
    for row in town_rows(region):
        back = rows[row["code"]]
        # vertices went 4326 → projected → 4326: equal to ~1e-9° (0.1 mm)
        assert shapely.hausdorff_distance(back["geom"], row["geometry"]) < 1e-8
        assert back["provenance"]["crs"] == crs
    assert rows[f"{region}001"]["name"] == "镇1"  # UTF-8 names survive the shapefile too


def test_gcj02_input_is_converted_to_wgs84(empty_dsn, empty_conn, region, tmp_path):
    imported_banner(empty_dsn, tmp_path, region)
    gcj_rows = [{**r, "geometry": wgs84_to_gcj02_geom(r["geometry"])} for r in town_rows(region)]
    path = write(tmp_path, "towns_amap.geojson", gcj_rows)
    # read as if it were WGS84, the towns shift a few hundred metres north-east: all but the
    # south-west one stick out of the banner, and a strip along the south and west is left bare
    unconverted = refused(empty_dsn, path, level=2)
    outside = {p.code for p in unconverted.problems if p.kind == "outside_parent"}
    assert outside == {f"{region}001", f"{region}002", f"{region}004"}
    assert (region, "gap") in [(p.code, p.kind) for p in unconverted.problems]
    assert import_grid_file(empty_dsn, path, level=2, gcj02=True) == 4
    rows = stored(empty_conn, region)
    for row in town_rows(region):
        assert shapely.hausdorff_distance(rows[row["code"]]["geom"], row["geometry"]) < 1e-9
        assert rows[row["code"]]["provenance"]["gcj02_converted"] is True


def test_gcj02_refused_for_projected_coordinates(empty_dsn, region, tmp_path):
    imported_banner(empty_dsn, tmp_path, region)
    path = write(tmp_path, "towns.gpkg", town_rows(region), crs="EPSG:32648")
    exc = refused(empty_dsn, path, level=2, gcj02=True)
    assert exc.problems[0].kind == "crs" and "EPSG:32648" in str(exc)


def test_replace_updates_stored_units(empty_dsn, empty_conn, region, tmp_path):
    imported_banner(empty_dsn, tmp_path, region)
    import_grid_file(empty_dsn, write(tmp_path, "towns.gpkg", town_rows(region)), level=2)
    renamed = [{**r, "name": r["name"] + "（新）"} for r in town_rows(region)[:2]]
    path = write(tmp_path, "two_towns.geojson", renamed)
    dup = refused(empty_dsn, path, level=2)
    assert [(p.code, p.kind) for p in dup.problems] == [(f"{region}001", "duplicate"),
                                                         (f"{region}002", "duplicate")]
    assert import_grid_file(empty_dsn, path, level=2, replace=True) == 2
    rows = stored(empty_conn, region)
    assert rows[f"{region}001"]["name"] == "镇1（新）" and rows[f"{region}003"]["name"] == "镇3"
    assert rows[f"{region}001"]["provenance"]["source"] == "two_towns.geojson"


# ---- refusals: each names what is wrong, and nothing is written -----------------------------

def test_refused_without_crs(empty_dsn, region, tmp_path):
    imported_banner(empty_dsn, tmp_path, region)
    exc = refused(empty_dsn, write(tmp_path, "towns.zip", town_rows(region), crs=None), level=2)
    assert exc.problems[0].kind == "crs"
    assert "towns.zip" in str(exc) and ".prj" in str(exc)


def modified(region: str, index: int, **changes) -> list[dict]:
    rows = town_rows(region)
    rows[index] = {**rows[index], **changes}
    return rows


@pytest.mark.parametrize("case, change, kind, needle", [
    ("invalid", {"geometry": Polygon([(107.1, 38.1), (107.2, 38.2), (107.2, 38.1), (107.1, 38.2)])},
     "invalid", "Self-intersection"),
    ("empty", {"geometry": Polygon()}, "empty", "empty"),
    ("outside", {"geometry": box(107.1, 38.1, 107.21, 38.2)}, "outside_parent", "outside its parent"),
    ("overlap", {"geometry": box(107.0, 38.1, 107.15, 38.2)}, "overlap", "overlaps"),
    ("malformed", {"code": "15065X002"}, "code", "malformed"),
])
def test_refused_for_a_bad_unit(empty_dsn, region, tmp_path, case, change, kind, needle):
    imported_banner(empty_dsn, tmp_path, region)
    if "code" in change:
        change = {"code": region[:5] + "X002"}
    rows = modified(region, 1, **change)
    exc = refused(empty_dsn, write(tmp_path, f"{case}.gpkg", rows), level=2)
    bad = rows[1]["code"]
    # an overlap is reported once per pair, on the lower code, naming both units
    assert any(p.kind == kind and bad in f"{p.code} {p.message}" for p in exc.problems)
    assert needle in str(exc) and bad in str(exc) and bad in exc.report()


def test_refused_for_a_gap(empty_dsn, region, tmp_path):
    imported_banner(empty_dsn, tmp_path, region)
    exc = refused(empty_dsn, write(tmp_path, "three.geojson", town_rows(region)[:3]), level=2)
    assert [(p.code, p.kind) for p in exc.problems] == [(region, "gap")]
    assert "m²" in str(exc) and "鄂托克前旗" in str(exc)


def test_refused_for_duplicate_codes_in_the_file(empty_dsn, region, tmp_path):
    imported_banner(empty_dsn, tmp_path, region)
    rows = modified(region, 3, code=f"{region}003")
    exc = refused(empty_dsn, write(tmp_path, "dup.geojson", rows), level=2)
    assert (f"{region}003", "duplicate") in [(p.code, p.kind) for p in exc.problems]
    assert "镇4" in str(exc)


def test_refused_for_a_missing_parent(empty_dsn, region, tmp_path):
    imported_banner(empty_dsn, tmp_path, region)
    village = {"code": f"{region}005001", "name": "孤村", "parent_code": f"{region}005",
               "geometry": box(107.0, 38.0, 107.01, 38.01)}
    exc = refused(empty_dsn, write(tmp_path, "village.geojson", [village]), level=3)
    assert [(p.code, p.kind) for p in exc.problems] == [(f"{region}005001", "parent_missing")]
    assert f"{region}005 does not exist" in str(exc)


def test_refused_for_a_level_that_does_not_exist(empty_dsn, region, tmp_path):
    exc = refused(empty_dsn, write(tmp_path, "towns.geojson", town_rows(region)), level=5)
    assert "level 5 does not exist" in str(exc) and "towns.geojson" in str(exc)


def test_refused_for_missing_fields_listing_those_found(empty_dsn, region, tmp_path):
    imported_banner(empty_dsn, tmp_path, region)
    rows = [{"code": r["code"], "mc": r["name"], "geometry": r["geometry"]} for r in town_rows(region)]
    exc = refused(empty_dsn, write(tmp_path, "towns.geojson", rows), level=2)
    assert "lacks field(s) name, parent_code" in str(exc) and "fields found: code, mc" in str(exc)


def test_refused_for_an_unknown_layer_listing_the_layers(empty_dsn, region, tmp_path):
    imported_banner(empty_dsn, tmp_path, region)
    path = write(tmp_path, "county.gpkg", town_rows(region), layer="towns")
    write(tmp_path, "county.gpkg", banner_rows(region), layer="banner")
    exc = refused(empty_dsn, path, level=2, layer="cells")
    assert "'cells' is not in county.gpkg" in str(exc) and "banner" in str(exc) and "towns" in str(exc)
    # with two layers and none chosen, the refusal asks for --layer
    assert "--layer" in str(refused(empty_dsn, path, level=2))
    assert import_grid_file(empty_dsn, path, level=2, layer="towns") == 4


def test_refused_for_a_malformed_or_missing_file(empty_dsn, tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    exc = refused(empty_dsn, broken, level=2)
    assert exc.problems[0].kind == "file" and "broken.geojson" in str(exc)
    not_zip = tmp_path / "towns.zip"
    not_zip.write_bytes(b"not a zip")
    assert "not a valid zip" in str(refused(empty_dsn, not_zip, level=2))
    assert "does not exist" in str(refused(empty_dsn, tmp_path / "nowhere.gpkg", level=2))


# ---- the command line -----------------------------------------------------------------------

def test_cli_check_on_a_clean_and_a_broken_stored_grid(empty_dsn, region, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", empty_dsn)
    imported_banner(empty_dsn, tmp_path, region)
    import_grid_file(empty_dsn, write(tmp_path, "towns.gpkg", town_rows(region)), level=2)
    runner = CliRunner()
    ok = runner.invoke(app.cli, ["grids", "check", "--region", region])
    assert ok.exit_code == 0, ok.output
    assert "grid OK" in ok.output
    # break it behind the importer's back: town 1 grows into town 2 (valid, so the schema allows it)
    conn = connect(empty_dsn)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE grid_unit SET geom = ST_Multi(ST_MakeEnvelope(107.0, 38.1, 107.15, 38.2, 4326))"
                    " WHERE code = %s", (f"{region}001",))
        cur.execute("DELETE FROM grid_unit WHERE code = %s", (f"{region}004",))
    conn.close()
    bad = runner.invoke(app.cli, ["grids", "check", "--region", region])
    assert bad.exit_code == 1
    assert f"{region}001" in bad.output and "[overlap]" in bad.output
    assert f"{region} [gap]" in bad.output and "2 problem(s)" in bad.output


def test_cli_import_refusal_is_reported(empty_dsn, region, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", empty_dsn)
    imported_banner(empty_dsn, tmp_path, region)
    path = write(tmp_path, "overlap.geojson", modified(region, 0, geometry=box(107.0, 38.1, 107.15, 38.2)))
    result = CliRunner().invoke(app.cli, ["grids", "import", str(path), "--level", "2"])
    assert result.exit_code == 2
    assert "refused" in result.output and f"{region}001" in result.output


def test_check_stored_reports_missing_levels(empty_dsn, region, tmp_path):
    assert [p.kind for p in check_stored(empty_dsn, region)] == ["level_count"]
    imported_banner(empty_dsn, tmp_path, region)
    assert check_stored(empty_dsn, region) == []


# ---- hostile or damaged files: named refusals, or correct reads ----------------------------

def test_a_chinese_field_name_cut_mid_character_does_not_stop_the_import(empty_dsn, empty_conn, region, tmp_path):
    """GDAL cuts DBF field names at 10 bytes: '网格名称长字段' (21 bytes) becomes 9 bytes of 网格名 and
    one byte of 称. The other fields import; asking for the damaged one names what is there."""
    rows = [dict(r, 网格名称长字段="长名字段的值") for r in banner_rows(region)]
    path = write(tmp_path, "banner.zip", rows)
    assert import_grid_file(empty_dsn, path, level=1) == 1
    assert stored(empty_conn, region)[region]["name"] == "鄂托克前旗"  # Chinese values decoded right
    with empty_conn.cursor() as cur:
        cur.execute("DELETE FROM region WHERE region_code = %s", (region,))
    empty_conn.commit()
    problem = refused(empty_dsn, path, level=1, name_field="网格名称长字段")
    assert problem.problems[0].kind == "field" and "网格名\ufffd" in str(problem)


def test_caps_on_vertices_features_and_size_are_named_refusals(empty_dsn, region, tmp_path, monkeypatch):
    imported_banner(empty_dsn, tmp_path, region)
    towns = town_rows(region)
    # town 1's square traced with 2,001 vertices along its edges (a real-looking dense boundary)
    dense = shapely.segmentize(towns[0]["geometry"], 0.0002)
    assert shapely.get_num_coordinates(dense) > 2000
    towns[0] = dict(towns[0], geometry=dense)
    path = write(tmp_path, "dense.gpkg", towns)
    monkeypatch.setenv("ONEMAP_IMPORT_MAX_VERTICES", "2000")
    problem = refused(empty_dsn, path, level=2)
    assert [(p.code, p.kind) for p in problem.problems] == [(f"{region}001", "too_many_vertices")]
    assert "ONEMAP_IMPORT_MAX_VERTICES" in str(problem) and "simplify" in str(problem)
    monkeypatch.delenv("ONEMAP_IMPORT_MAX_VERTICES")
    monkeypatch.setenv("ONEMAP_IMPORT_MAX_FEATURES", "3")
    assert refused(empty_dsn, path, level=2).problems[0].kind == "too_many"
    monkeypatch.delenv("ONEMAP_IMPORT_MAX_FEATURES")
    monkeypatch.setenv("ONEMAP_IMPORT_MAX_MB", "0.01")
    assert refused(empty_dsn, path, level=2).problems[0].kind == "too_large"
    monkeypatch.setenv("DATABASE_URL", empty_dsn)  # and the command line says so, exit 2
    result = CliRunner().invoke(app.cli, ["grids", "import", str(path), "--level", "2"])
    assert result.exit_code == 2 and "ONEMAP_IMPORT_MAX_MB" in result.output
    monkeypatch.delenv("ONEMAP_IMPORT_MAX_MB")
    assert import_grid_file(empty_dsn, path, level=2) == 4  # within the default limits


def test_the_default_vertex_cap_refuses_the_four_million_vertex_polygon():
    from config import Settings

    assert Settings().import_max_vertices < 4_000_001
