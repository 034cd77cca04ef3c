"""The scheduled run in its own (niced) process: ``python -m exports.bulletin.scheduled`` reads
``{"dsn": …, "region_code": …}`` on stdin and writes the bulletins of the ended week and month
that are not kept yet (``exports.bulletin.due``), as the system. The server starts it every
``ONEMAP_BULLETIN_EVERY_S`` seconds, so typesetting never holds up the server's requests."""
from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime

from data.stats import region_timezone
from data.users import Actor
from domain import clock
from exports import bulletin


def main() -> int:
    """Run once; the exit status says whether it worked."""
    task = json.loads(sys.stdin.read())
    os.nice(10)  # the server's requests first
    dsn, region = task["dsn"], task["region_code"]
    actor = Actor(user_id=None, username="system:bulletins", role="analyst", unit_code=region, region_code=region)
    today = clock.local_date(datetime.now(UTC), region_timezone(dsn, region))
    for row in bulletin.due(dsn, actor, today):
        print(f"wrote {row['file_name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
