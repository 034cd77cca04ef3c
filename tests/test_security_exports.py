"""Text from data in export files stays text: CSV cells never become spreadsheet formulas, KML
values are well-formed escaped XML that GDAL reads back exactly."""
from __future__ import annotations

import csv
import subprocess
from dataclasses import dataclass
from xml.etree import ElementTree

import shapely

from exports.writers import CsvWriter, KmlWriter
from geo import crs

NAMES = ["=HYPERLINK(\"http://evil.example\",\"点击\")", "=cmd|' /C calc'!A0", "@SUM(A1)", "+1+1", "-2+3",
         "\t=1", "上海庙镇<img src=x onerror=alert(1)>", "]]></SimpleData><script>x</script>", "plain 名称"]


@dataclass(frozen=True)
class Col:
    zh: str
    type: str


COLUMNS = [Col("名称", "str"), Col("人口", "int")]


def _write(writer_cls, path):
    writer = writer_cls(path, crs.get("EPSG:4326"))
    writer.begin("cells", "网格 <b>cells</b>", "Point", COLUMNS)
    points = shapely.points([[107.4 + i / 100, 38.1] for i in range(len(NAMES))])
    writer.write(list(range(1, len(NAMES) + 1)), points, [[n, -5] for n in NAMES])
    writer.end()
    writer.close()


def test_csv_cells_never_start_a_formula(tmp_path):
    path = tmp_path / "cells.csv"
    _write(CsvWriter, path)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    for name, row in zip(NAMES, rows, strict=True):
        cell = row[0]
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert cell in (name, "'" + name)  # the text itself, at most behind an apostrophe
        assert row[1] == "-5"  # numbers stay numbers


def test_kml_values_are_text(tmp_path):
    path = tmp_path / "cells.kml"
    _write(KmlWriter, path)
    tree = ElementTree.parse(path)  # well-formed: nothing broke out of its element
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    values = [d.text for d in tree.iterfind(".//k:SimpleData[@name='名称']", ns)]
    assert values == NAMES
    assert tree.find(".//k:Folder/k:description", ns).text == "网格 <b>cells</b>"
    info = subprocess.run(["ogrinfo", "-ro", "-al", "-q", str(path)], capture_output=True, text=True, check=True).stdout
    assert "上海庙镇<img src=x onerror=alert(1)>" in info
