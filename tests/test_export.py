"""Exports opened by GDAL (ogrinfo): counts, CRS, field names, BOM; privacy, jurisdiction, audit."""
from __future__ import annotations

import re
import subprocess
import zipfile
from datetime import datetime, timezone

import pyogrio
import pytest
from click.testing import CliRunner

from data.users import Actor
from db.core import connect
from exports.service import EmptyExport, ExportRequest, plan, run
from layers.base import LayerError, Query

from conftest import scalar as _scalar

TOWN = "150623002"
LEADER = Actor(user_id=None, username="test-town-leader", role="leader", unit_code=TOWN, region_code="150623")
ADMIN = Actor(user_id=None, username="test-admin", role="admin", unit_code="150623", region_code="150623")
ANALYST = Actor(user_id=None, username="test-analyst", role="analyst", unit_code="150623", region_code="150623")
WEEK = Query(since=datetime(2026, 6, 8, tzinfo=timezone.utc), until=datetime(2026, 6, 15, 10, 30, tzinfo=timezone.utc))




def _info(path: str) -> str:
    out = subprocess.run(["ogrinfo", "-ro", "-so", "-al", path], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _counts(info: str) -> dict[str, int]:
    return dict(zip(re.findall(r"Layer name: (\w+)", info), map(int, re.findall(r"Feature Count: (\d+)", info)),
                    strict=True))


@pytest.fixture(scope="module")
def town_incidents(demo_dsn):
    return _scalar(demo_dsn, "SELECT count(*) FROM incident WHERE cell_code LIKE %s", (TOWN + "%",))


def test_geopackage_holds_several_layers_with_chinese_fields_in_cgcs2000(demo_dsn, tmp_path, town_incidents):
    out = tmp_path / "town.gpkg"
    written = run(demo_dsn, LEADER, ExportRequest(("incidents", "villages", "facilities")), out)
    info = _info(str(out))
    assert _counts(info) == written == {"incidents": town_incidents, "villages": 18, "facilities": written["facilities"]}
    assert 'ID["EPSG",4490]' in info
    for name in ("编号", "类别", "上报时间", "人口", "网格内解决率"):
        assert f"{name}: " in info
    df = pyogrio.read_dataframe(out, layer="incidents")
    assert df["网格代码"].str.startswith(TOWN).all()  # the leader's town only
    assert df["描述"].isna().all()                    # free text masked for a leader
    assert str(df["上报时间"].dtype).startswith("datetime64")
    assert list(tmp_path.iterdir()) == [out]           # no temporary left behind


def test_gauss_kruger_flatgeobuf_and_zipped_shapefile_with_aliases(demo_dsn, tmp_path, town_incidents):
    fgb = tmp_path / "i.fgb"
    run(demo_dsn, LEADER, ExportRequest(("incidents",), "fgb", "EPSG:4545"), fgb)
    info = _info(str(fgb))
    assert _counts(info) == {"incidents": town_incidents} and 'ID["EPSG",4545]' in info
    assert "上报时间: " in info
    shp = tmp_path / "i.zip"
    run(demo_dsn, LEADER, ExportRequest(("incidents", "cells"), "shp", "EPSG:4490"), shp)
    names = zipfile.ZipFile(shp).namelist()
    assert {"incidents.cpg", "cells.cpg", "incidents.prj", "data_dictionary.csv"} <= set(names)
    info = _info(f"/vsizip/{shp}")
    assert _counts(info) == {"incidents": town_incidents, "cells": 83}
    fields = re.findall(r"^(\w+): (?:String|Integer|Real)", info, re.M)
    assert "cat_name" in fields and "received" in fields and all(len(f.encode()) <= 10 for f in fields)
    dictionary = zipfile.ZipFile(shp).read("data_dictionary.csv").decode("utf-8-sig")
    assert "cat_name,类别" in dictionary and "received,上报时间" in dictionary


def test_geojson_kml_and_csv(demo_dsn, tmp_path, town_incidents):
    gj = tmp_path / "f.geojson"
    run(demo_dsn, LEADER, ExportRequest(("incidents",), "geojson", "EPSG:4326"), gj)
    assert _counts(_info(str(gj))) == {"f": town_incidents} or f"Feature Count: {town_incidents}" in _info(str(gj))
    kml = tmp_path / "f.kml"
    run(demo_dsn, LEADER, ExportRequest(("incidents", "towns"), "kml", "GCJ-02"), kml)
    info = _info(str(kml))
    assert _counts(info) == {"incidents": town_incidents, "towns": 1}
    assert "类别: String" in info
    csv_path = tmp_path / "f.csv"
    run(demo_dsn, LEADER, ExportRequest(("incidents",), "csv", "EPSG:4545"), csv_path)
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Chinese Excel
    header = raw[3:].split(b"\r\n", 1)[0].decode()
    assert header.startswith("编号,类别代码") and header.endswith(",WKT")
    assert f"Feature Count: {town_incidents}" in _info(str(csv_path))


def test_gcj02_moves_points_by_hundreds_of_metres(demo_dsn, tmp_path):
    a, b = tmp_path / "w.gpkg", tmp_path / "g.gpkg"
    q = Query(unit=TOWN)
    run(demo_dsn, ADMIN, ExportRequest(("facilities",), "gpkg", "EPSG:4326", q), a)
    run(demo_dsn, ADMIN, ExportRequest(("facilities",), "gpkg", "GCJ-02", q), b)
    wgs, gcj = pyogrio.read_dataframe(a), pyogrio.read_dataframe(b)
    shift = ((wgs.geometry.x - gcj.geometry.x) ** 2 + (wgs.geometry.y - gcj.geometry.y) ** 2) ** 0.5
    assert ((shift > 0.001) & (shift < 0.01)).all()  # ~100–700 m in degrees
    assert "GCJ-02" in pyogrio.read_info(b)["crs"] or "GCJ" in str(pyogrio.read_info(b))


def test_worker_names_masked_unless_the_role_may_see_people_and_every_export_is_audited(demo_dsn, tmp_path):
    before = _scalar(demo_dsn, "SELECT count(*) FROM audit_log WHERE action = 'export'")
    req = ExportRequest(("worker_positions",), "gpkg", "EPSG:4490", WEEK)
    run(demo_dsn, ANALYST, req, tmp_path / "a.gpkg")
    run(demo_dsn, ADMIN, req, tmp_path / "b.gpkg")
    masked, plain = pyogrio.read_dataframe(tmp_path / "a.gpkg"), pyogrio.read_dataframe(tmp_path / "b.gpkg")
    assert len(masked) == len(plain) > 0
    assert masked["姓名"].str.contains(r"\*").all() and not plain["姓名"].str.contains(r"\*").any()
    assert masked["电话"].dropna().str.contains(r"\*\*\*\*").all()
    conn = connect(demo_dsn)
    with conn.cursor() as cur:
        cur.execute("SELECT username, object_id, count, detail->>'format', detail->'filters'->>'since' "
                    "FROM audit_log WHERE action = 'export' ORDER BY id DESC LIMIT 2")
        rows = cur.fetchall()
    conn.close()
    assert _scalar(demo_dsn, "SELECT count(*) FROM audit_log WHERE action = 'export'") == before + 2
    assert rows[0][:4] == ("test-admin", "worker_positions", len(plain), "gpkg") and rows[0][4].startswith("2026-06-08")


def test_small_counts_are_suppressed_in_aggregates(demo_dsn, tmp_path):
    run(demo_dsn, ANALYST, ExportRequest(("heat_cells",), "gpkg", "EPSG:4490", WEEK), tmp_path / "h.gpkg")
    df = pyogrio.read_dataframe(tmp_path / "h.gpkg")
    counts = df["事件数"].dropna()
    assert not counts.between(1, 4).any()
    assert df["事件数"].isna().any()  # some cells had 1–4 reports that week
    run(demo_dsn, ADMIN, ExportRequest(("heat_cells",), "gpkg", "EPSG:4490", WEEK), tmp_path / "a.gpkg")
    assert pyogrio.read_dataframe(tmp_path / "a.gpkg")["事件数"].between(1, 4).any()


def test_plan_counts_before_download_within_the_jurisdiction(demo_dsn, town_incidents):
    assert plan(demo_dsn, LEADER, ExportRequest(("incidents", "towns"))) == {"incidents": town_incidents, "towns": 1}
    with pytest.raises(LayerError, match="outside your jurisdiction"):
        plan(demo_dsn, LEADER, ExportRequest(("incidents",), query=Query(unit="150623001")))


@pytest.mark.parametrize("req, message", [
    (ExportRequest(("nope",)), "unknown layer"),
    (ExportRequest(("incidents",), "xlsx"), "unknown format"),
    (ExportRequest(("incidents",), "gpkg", "EPSG:3857"), "unknown CRS"),
    (ExportRequest(("incidents",), "kml", "EPSG:4545"), "longitude/latitude only"),
    (ExportRequest(("roads",), query=Query(states=("open",))), "no chosen layer can be filtered by states"),
    (ExportRequest(("incidents",), query=Query(props=(("nope", "1"),))), "no field"),
])
def test_bad_requests_write_nothing(demo_dsn, tmp_path, req, message):
    with pytest.raises(LayerError, match=message):
        run(demo_dsn, ANALYST, req, tmp_path / "x.gpkg")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_result_is_refused_and_leaves_no_file(demo_dsn, tmp_path):
    q = Query(since=datetime(2030, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(EmptyExport):
        run(demo_dsn, ANALYST, ExportRequest(("incidents",), "gpkg", "EPSG:4490", q), tmp_path / "x.gpkg")
    assert list(tmp_path.iterdir()) == []


def test_cli_export_and_its_messages(demo_dsn, tmp_path, monkeypatch):
    from app import cli

    monkeypatch.setenv("DATABASE_URL", demo_dsn)
    out = tmp_path / "o.gpkg"
    r = CliRunner().invoke(cli, ["export", "incidents", "towns", "--state", "closed", "--user",
                                 "demo-leader-shanghaimiao", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert set(_counts(_info(str(out)))) == {"incidents", "towns"}
    for args, message in [(["export", "nope"], "unknown layer"),
                          (["export", "incidents", "--format", "xls"], "unknown format"),
                          (["export", "incidents", "--crs", "EPSG:3857"], "unknown CRS"),
                          (["export", "incidents", "--bbox", "1,2,3"], "bbox"),
                          (["export", "incidents", "--since", "2030-01-01", "--out", str(tmp_path / "e.gpkg")],
                           "no features match"),
                          (["export", "incidents", "--out", str(tmp_path / "no" / "such" / "x.gpkg")],
                           "folder"),
                          (["export", "incidents", "towns", "--format", "geojson", "--out",
                            str(tmp_path / "two.geojson")], "must end in .zip"),
                          (["export", "incidents", "--format", "shp", "--out", str(tmp_path / "i.shp")],
                           "must end in .zip"),
                          (["export", "incidents", "--out", str(tmp_path / "i.geojson")], "must end in .gpkg"),
                          (["export", "incidents", "--category", "草原牧场", "--category", "nosuch",
                            "--out", str(tmp_path / "c.gpkg")], "unknown category '草原牧场', 'nosuch'"),
                          (["export", "incidents", "--state", "nosuch", "--out", str(tmp_path / "s.gpkg")],
                           "unknown state 'nosuch'"),
                          (["export", "incidents", "--out", str(out)], "exists")]:
        r = CliRunner().invoke(cli, args)
        assert r.exit_code == 2 and "refused" in r.output and message in r.output, (args, r.output)
        assert "Traceback" not in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.gpkg"]


def test_chinese_and_english_category_names_select_the_same_rows_as_the_code(demo_dsn, tmp_path):
    by_code = plan(demo_dsn, ANALYST, ExportRequest(("incidents",), query=Query(categories=("grassland_dispute",))))
    assert by_code["incidents"] > 0
    for names in (("草原牧场纠纷",), ("Grassland and pasture dispute",), ("草原牧场纠纷", "grassland_dispute")):
        assert plan(demo_dsn, ANALYST, ExportRequest(("incidents",), query=Query(categories=names))) == by_code
    both = plan(demo_dsn, ANALYST, ExportRequest(("incidents",), query=Query(categories=("草原牧场纠纷", "fire_hazard"))))
    assert both["incidents"] > by_code["incidents"]


def test_several_layers_of_a_one_layer_format_are_one_file_each_in_a_zip(demo_dsn, tmp_path, town_incidents):
    out = tmp_path / "two.zip"
    assert ExportRequest(("incidents", "towns"), "geojson").validated().filename().endswith(".zip")
    written = run(demo_dsn, LEADER, ExportRequest(("incidents", "towns"), "geojson", "EPSG:4326"), out)
    assert sorted(zipfile.ZipFile(out).namelist()) == ["incidents.geojson", "towns.geojson"]
    for name, n in written.items():  # each member opens in GDAL with its own count
        assert f"Feature Count: {n}" in _info(f"/vsizip/{out}/{name}.geojson")
