"""The leaders' page from the production server (`onemap serve`, several processes) in Chromium.

The page may come from one process and its scripts from another. Dash registers the files it may
serve while rendering its first page, so a process that had not rendered one answered a signed-in
browser's script requests with 500 and the page stayed blank (seen with ``make demo``), until the
dashboard registered them when it is built (``dashboard.app.register_script_paths``).
"""
from __future__ import annotations

from conftest import chromium
from served import onemap_serve


def test_every_page_resource_loads_from_a_multi_process_server(demo_dsn, tmp_path):
    failures: list[str] = []
    errors: list[str] = []
    with onemap_serve(demo_dsn, tmp_path / "server.log", workers=2) as base, chromium() as browser:
        for _attempt in range(3):  # new browsers: each signs in and loads the page's scripts afresh
            page = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
            page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 500 else None)
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/login")
            page.fill("input[name=username]", "demo-leader")
            page.fill("input[name=password]", "onemap-leader")
            page.click("button[type=submit]")
            page.wait_for_selector(".leaflet-container", timeout=60_000)
            page.context.close()
        log = (tmp_path / "server.log").read_text(encoding="utf-8")
    assert failures == [] and errors == [], (failures, errors)
    assert "Traceback" not in log, log[-3000:]
