"""The deferred bulk load (db.bulk.defer/restore, demo.incidents.load_incidents(deferred=True)):
indexes, foreign keys and row-capturing triggers dropped for the COPY and rebuilt set-wise after,
and the roll-ups merged into with their keys deferred (0047), give the same rows and the same
roll-ups as the load that pays for them per COPY (onto the demo's own roll-up rows: the merge adds
to existing keys), leave every index, key and trigger in place afterwards, and still refuse a row
whose cell is wrong."""
from __future__ import annotations

import pytest

from db.core import connect
from demo.incidents import load_incidents

from conftest import DEMO_NOW

REGION = "150623"
CATALOG = """
SELECT 'index', c.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid
WHERE c.relname IN ('incident', 'incident_event', 'incident_rollup_folded', 'incident_rollup_unit')
UNION ALL
SELECT 'constraint', c.relname, k.conname || ' ' || pg_get_constraintdef(k.oid) || ' ' || k.convalidated
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
WHERE c.relname IN ('incident', 'incident_event', 'incident_rollup_folded', 'incident_rollup_unit')
UNION ALL
SELECT 'trigger', c.relname, pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relname IN ('incident', 'incident_event', 'incident_rollup_folded', 'incident_rollup_unit')
  AND NOT t.tgisinternal
ORDER BY 1, 2, 3
"""
MINE = "xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text"


def _all(cur, query):
    cur.execute(query)
    return cur.fetchall()


def _load(dsn, deferred: bool, n=3000):
    """Load n incidents in one transaction, read back what it made, roll it back."""
    conn = connect(dsn)
    try:
        with conn.cursor() as cur:
            before = _all(cur, CATALOG)
            assert load_incidents(conn, REGION, n, 91, DEMO_NOW, deferred=deferred) == n
            made = {
                "catalog": _all(cur, CATALOG),
                "incidents": _all(cur, f"SELECT * FROM incident WHERE {MINE} ORDER BY id"),
                "events": _all(cur, "SELECT incident_id, region_code, at, action, from_state, to_state, level, actor, "
                                    f"note, ST_AsEWKB(geom) FROM incident_event WHERE {MINE} "
                                    "ORDER BY incident_id, at, action"),
                "folded": _all(cur, "SELECT * FROM incident_rollup_folded ORDER BY cell_code, day, category_code"),
                "units": _all(cur, "SELECT * FROM incident_rollup_unit ORDER BY grain, level, unit_code, day, "
                                   "category_code"),
                "deltas": _all(cur, "SELECT count(*) FROM incident_rollup_delta"),
            }
            return before, made
    finally:
        conn.rollback()
        conn.close()


def test_deferred_load_equals_the_per_copy_load(demo_dsn):
    before, fast = _load(demo_dsn, deferred=True)
    _, slow = _load(demo_dsn, deferred=False)
    assert fast["catalog"] == before  # every index, key (validated) and trigger is back
    assert len(fast["incidents"]) == 3000 and len(fast["events"]) > 3000
    for key in ("incidents", "events", "folded", "units", "deltas"):
        assert fast[key] == slow[key], key


def test_a_wrong_cell_is_refused_after_a_deferred_load(demo_dsn, monkeypatch):
    import demo.incidents as gen

    real = gen.chunk_rows

    def one_wrong(*args, **kwargs):
        incidents, events = real(*args, **kwargs)
        lines = incidents.getvalue().split("\n")
        cols = lines[0].split(",")
        i = gen.INCIDENT_COLUMNS.index("cell_code")
        cols[i] = "150623001001001" if cols[i] != "150623001001001" else "150623001001002"
        lines[0] = ",".join(cols)
        import io
        return io.StringIO("\n".join(lines)), events

    monkeypatch.setattr(gen, "chunk_rows", one_wrong)
    conn = connect(demo_dsn)
    try:
        with pytest.raises(ValueError, match="claims cell"):
            load_incidents(conn, REGION, 50, 92, DEMO_NOW, deferred=True)
    finally:
        conn.rollback()
        conn.close()


def test_chunks_made_by_worker_processes_are_the_chunks_made_here(demo_dsn, monkeypatch):
    """A load of several chunks makes them in worker processes (demo.incidents.GENERATORS); what it
    COPYs is exactly each chunk as ``chunk_text`` makes it in this process, in order."""
    import io

    import demo.incidents as gen
    from db.bulk import TimeText
    from demo import timelines as tl

    monkeypatch.setattr(gen, "CHUNK", 700)
    conn = connect(demo_dsn)
    try:
        county = gen.read_county(conn, REGION)
        now_s = int(DEMO_NOW.timestamp())
        times = TimeText(now_s - 366 * tl.DAY, now_s + 20 * tl.DAY)
        here = [gen.chunk_text(county, REGION, 93, k, size, now_s, times) for k, size in enumerate((700, 700, 100))]
        expected = sorted(line.split(",")[0] for text, _ in here for line in io.StringIO(text.decode()) if line.strip())
        events = sum(text.count(b"\n") for _, text in here)
        with conn.cursor() as cur:
            assert load_incidents(conn, REGION, 1500, 93, DEMO_NOW, deferred=False) == 1500
            assert [r[0].replace("-", "") for r in _all(cur, f"SELECT id::text FROM incident WHERE {MINE} ORDER BY id")] \
                == expected
            assert _all(cur, f"SELECT count(*) FROM incident_event WHERE {MINE}")[0][0] == events
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.parametrize("client_encoding", ["GBK", "UTF8"])
def test_a_load_reads_the_same_under_any_client_encoding(demo_dsn, client_encoding):
    """Chunks reach COPY as bytes in the connection's client encoding: a county whose clients say
    GBK (PGCLIENTENCODING) loads the same Chinese descriptions and notes as a UTF8 one."""
    conn = connect(demo_dsn)
    try:
        conn.set_client_encoding(client_encoding)
        with conn.cursor() as cur:
            assert load_incidents(conn, REGION, 200, 94, DEMO_NOW, deferred=False) == 200
            cur.execute(f"SELECT convert_to(string_agg(description, '|' ORDER BY id), 'UTF8') FROM incident "
                        f"WHERE {MINE}")
            descriptions = bytes(cur.fetchone()[0]).decode()
            cur.execute(f"SELECT string_agg(note, '|' ORDER BY incident_id, at, action) FROM incident_event "
                        f"WHERE {MINE} AND note <> ''")
            notes = cur.fetchone()[0]
            cur.execute("SELECT array_agg(code) FROM incident_category")
            codes = set(cur.fetchone()[0])  # a category with no sample text is described by its code
    finally:
        conn.rollback()
        conn.close()
    from demo.incidents import DESCRIPTIONS, NOTES
    written = set(descriptions.split("|"))
    assert written <= {text for pair in DESCRIPTIONS.values() for text in pair} | codes, written
    assert any("\u4e00" <= c <= "\u9fff" for c in descriptions)  # Chinese text, not only codes
    assert set(notes.split("|")) <= set(NOTES.values()), notes[:200]
