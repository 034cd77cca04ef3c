"""The production migrations build the schema on a real PostGIS with pgRouting."""
from db.core import applied, migrations, upgrade


def test_extensions_present(empty_conn):
    with empty_conn.cursor() as cur:
        cur.execute("SELECT extname FROM pg_extension")
        names = {r[0] for r in cur.fetchall()}
    assert {"postgis", "pgrouting"} <= names


def test_all_migrations_applied_and_idempotent(empty_conn):
    assert applied(empty_conn) == [v for v, _ in migrations()]
    assert upgrade(empty_conn) == []


def test_every_table_has_region_code(empty_conn):
    """Except national reference data (categories, the state machine and its phases), the roll-up, whose
    cell code carries the region in its first six digits, and the login throttle's records, which are
    per address and exist before any account (so any region) is known."""
    with empty_conn.cursor() as cur:
        cur.execute("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND c.relname NOT IN ('schema_migration', 'spatial_ref_sys', 'incident_category',
                                    'incident_transition', 'incident_state', 'incident_rollup',
                                    'login_failure', 'login_known')
              AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                              AND a.attname = 'region_code' AND NOT a.attisdropped)""")
        assert cur.fetchall() == []
