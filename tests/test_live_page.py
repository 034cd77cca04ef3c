"""The page side of live streams, in Chromium: the EventSource in dashboard/assets/onemap.js
keeps its place and does not give up when a reconnect is refused (503 while the database is
away, 429), where the browser's own EventSource would stop for good."""
from __future__ import annotations

import time

from test_browser import browser, monkeypatch_module, server  # noqa: F401 (fixtures)


def test_a_refused_reconnect_is_retried_from_the_last_event(server, browser):  # noqa: F811
    calls: list[str] = []

    def handle(route, request):
        calls.append(request.url + " last-event-id:" + (request.headers.get("last-event-id") or ""))
        n = len(calls)
        if n == 1:  # a stream that delivers event 5 and ends: the browser reconnects by itself
            route.fulfill(status=200, headers={"Content-Type": "text/event-stream"},
                          body='retry: 200\n\nid: 5\ndata: {"n": 1}\n\n')
        elif n == 2:  # that reconnect is refused, as during an outage
            route.fulfill(status=503, headers={"Retry-After": "2", "Content-Type": "application/json"},
                          body='{"error": {"code": "database_unavailable"}}')
        else:  # the next attempt: a stream that says which id it was asked to resume from
            route.fulfill(status=200, headers={"Content-Type": "text/event-stream"},
                          body='retry: 60000\n\nid: 6\ndata: {"n": 2}\n\n')

    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.route("**/events/stream*", handle)
    page.goto(server + "/login")  # any page of the server's origin, then the live-stream script
    page.add_script_tag(url=server + "/assets/onemap.js")
    page.evaluate("""() => { window.got = []; const s = new EventSource('/events/stream');
                             s.onmessage = (e) => window.got.push([e.lastEventId, e.data]); }""")
    deadline = time.monotonic() + 30
    while len(calls) < 3:  # the browser's own EventSource stops for good after the 503
        assert time.monotonic() < deadline, calls
        page.wait_for_timeout(200)
    assert "last_event_id=5" in calls[2], calls  # ours after the refusal: from the last event seen
    page.wait_for_function("window.got.length === 2")
    assert page.evaluate("window.got") == [["5", '{"n": 1}'], ["6", '{"n": 2}']]
    context.close()
