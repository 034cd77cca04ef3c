"""The incident roll-up behind the dashboard's KPIs: reports append change rows (no shared row
is locked in a report's transaction); ``fold`` moves them into the roll-up's rows. Readers add the
unfolded rows (the ``incident_rollup`` view), so the numbers are exact whether or not a fold ran."""
from __future__ import annotations

from db.core import sql


def fold(conn) -> int:
    """Fold the pending change rows; how many were folded (0 while another session folds). Commits."""
    with conn.cursor() as cur:
        cur.execute(sql("incident_rollup_fold"))
        moved = cur.fetchone()[0]
    conn.commit()
    return moved
