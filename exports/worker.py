"""One export job in its own process: ``python -m exports.worker`` with the job on standard input.

``exports.queue`` starts one of these per claimed job. A process of its own keeps the export's
CPU and memory out of the server (a gevent worker would stall every open page while a chunk is
written), is niced, and ends with its memory returned. Input: one JSON object
``{"dsn": …, "job": {row of export_job}, "dir": folder or null}`` (on stdin, so the database
URL never shows in the process list).
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> int:
    """Read the job from stdin and run it; the job row records the outcome."""
    from exports.service import run_job

    task = json.loads(sys.stdin.read())
    try:
        os.nice(5)  # interactive requests first
    except OSError:
        pass
    run_job(task["dsn"], task["job"], Path(task["dir"]) if task.get("dir") else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
