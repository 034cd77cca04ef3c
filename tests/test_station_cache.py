"""The suggested new station, cached per region, jurisdiction, kind and minutes (0038): the map's
layer and the API read one answer; it is computed again when the road network version or the
kind's facilities or the residents per cell change, and a town's leader never gets the banner's answer."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from data.routing import reach, suggestion
from data.users import Actor
from db.core import connect

REGION, TOWN = "150623", "150623002"


def _leader(unit: str) -> Actor:
    return Actor(user_id=None, username=f"leader-{unit}", role="leader", unit_code=unit, region_code=REGION)


def test_the_suggestion_is_computed_once_and_recomputed_when_roads_stations_or_residents_change(quiet_dsn):
    conn = connect(quiet_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM coverage_suggestion")
        conn.commit()
        banner = _leader(REGION)
        first = suggestion.current(conn, banner)
        assert first["picks"], first  # the demo county has gaps: one site is suggested
        assert suggestion.cached(conn, banner) == first
        again = suggestion.current(conn, banner)
        assert again["computed_at"] == first["computed_at"]  # read, not computed
        fc = suggestion.features(first)
        props = fc["features"][0]["properties"]
        assert props["kind"] == "governance_centre" and props["gap_population_reached"] > 0
        assert props["share_after"] > props["share_before"]
        # a day old: computed again on the next read
        later = datetime.now(timezone.utc) + suggestion.MAX_AGE + timedelta(minutes=1)
        assert suggestion.cached(conn, banner, now=later) is None
        # a new station of the kind (inside this transaction only): the cached answer is stale
        with conn.cursor() as cur:
            cur.execute("INSERT INTO facility (region_code, kind, name, geom) SELECT region_code, kind, 'test', "
                        "ST_Translate(geom, 0.01, 0.01) FROM facility WHERE region_code = %s AND kind = "
                        "'governance_centre' LIMIT 1", (REGION,))
        assert suggestion.cached(conn, banner) is None
        conn.rollback()
        assert suggestion.cached(conn, banner) == first
        # the residents of a cell change (the people registry): the demand moved, the answer is stale
        with conn.cursor() as cur:
            cur.execute("UPDATE cell_population SET population = population + 1 WHERE cell_code = "
                        "(SELECT min(cell_code) FROM cell_population WHERE region_code = %s)", (REGION,))
        assert suggestion.cached(conn, banner) is None
        conn.rollback()
        assert suggestion.cached(conn, banner) == first
        # a road edited: the network's version moves on (0034), and the answer is stale
        with conn.cursor() as cur:
            cur.execute("UPDATE road_edge SET cost = cost WHERE id = (SELECT min(id) FROM road_edge "
                        "WHERE region_code = %s)", (REGION,))
        conn.commit()
        assert suggestion.cached(conn, banner) is None
        fresh = suggestion.current(conn, banner)
        assert fresh["computed_at"] != first["computed_at"] and fresh["picks"] == first["picks"]
        # a town's leader: their own answer, computed for their town, never the banner's
        town = _leader(TOWN)
        assert suggestion.cached(conn, town) is None
        mine = suggestion.current(conn, town)
        assert all(c.startswith(TOWN) for p in mine["picks"] for c in p["cells"])
        assert mine == reach.suggest(conn, town) | {"computed_at": mine["computed_at"]}
    finally:
        conn.rollback()
        conn.close()


def test_the_layer_label_says_the_numbers_as_text_and_blanks_small_counts_for_roles_that_do_not_see_them():
    from dashboard.station import layer_data

    answer = {"kind": "governance_centre", "kpi": {"share": 0.5}, "kpi_after": 0.5012, "demand_points": 7,
              "computed_at": "2026-11-29T00:00:00+00:00",
              "picks": [{"vertex_id": 9, "lon": 107.4, "lat": 38.1, "gap_population_reached": 3.2,
                         "cells": ["150623002001001", "150623002001002"]}]}
    leader, admin = _leader(REGION), Actor(None, "a", "admin", REGION, REGION)
    hidden = layer_data(answer, "zh", leader)["features"][0]["properties"]
    assert hidden["gap_population_reached"] is None and " 3 " not in hidden["label"] and "–" in hidden["label"]
    shown = layer_data(answer, "en", admin)["features"][0]["properties"]
    assert shown["label"] == ("Governance centre suggested here: about 3 more residents covered (2 cells), "
                              "coverage 50.0% → 50.1%, 7 demand points weighed"), shown["label"]
