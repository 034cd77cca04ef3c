/* Live updates in place: one EventSource per page (the resilient one of onemap.js), opened once
   and kept through re-renders, drill-downs and language switches. Each event updates the page's
   stores directly (dash_clientside.set_props): "<p>-tick" at once (the counts, the incidents'
   layer, the ticker), "<p>-flash" for a new report, "<p>-event" (the wall's jump), "<p>-alerts"
   once per incident and level (overdue or escalated), and "<p>-slow" a few seconds later, at most
   every SLOW_MIN ms (the charts and the theme). Nothing reopens the stream or reloads the page. */
(function () {
    const SLOW_DELAY = 3000, SLOW_MIN = 15000, ALERTS = 6;
    const live = {src: null, cfg: null, tick: 0, slow: 0, flash: [], seen: {}, alerts: [],
                  timer: null, lastSlow: 0, opened: 0};
    window.onemapLive = live;  // for the tests: how many streams this page opened

    function set(id, props) {
        const dc = window.dash_clientside;
        // only what this page has (cfg.ids: stores render no element to look for)
        if (dc && dc.set_props && live.cfg && (live.cfg.ids || []).indexOf(id) >= 0) { dc.set_props(id, props); }
    }
    function status(open) {
        const c = live.cfg;
        if (!c) { return; }
        set(c.prefix + "-live", {className: open ? "om-live" : "om-live off", children: open ? c.on : c.off});
    }
    function slowNow() {
        live.timer = null;
        live.lastSlow = Date.now();
        live.slow += 1;
        set(live.cfg.prefix + "-slow", {data: live.slow});
    }
    function slowSoon() {
        if (live.timer) { return; }
        const wait = Math.max(SLOW_DELAY, live.lastSlow + SLOW_MIN - Date.now());
        live.timer = setTimeout(slowNow, wait);
    }
    function onMessage(e) {
        let ev;
        try { ev = JSON.parse(e.data); } catch (err) { return; }
        if (!ev || typeof ev !== "object") { return; }
        const p = live.cfg.prefix;
        if (ev.ended) { status(false); return; }
        live.tick += 1;
        set(p + "-tick", {data: live.tick});
        if (ev.hello || ev.resync || ev.bulk) {  // (re)connected or too much at once: catch up
            if (live.timer) { clearTimeout(live.timer); }
            slowNow();
            return;
        }
        set(p + "-event", {data: ev});
        if (ev.action === "report" && ev.incident_id) {
            live.flash = [ev.incident_id].concat(live.flash).slice(0, 20);
            set(p + "-flash", {data: live.flash});
        }
        if ((ev.action === "escalate" || ev.overdue === true) && ev.incident_id) {
            const key = ev.incident_id + ":" + ev.level;
            if (!live.seen[key]) {
                live.seen[key] = true;
                live.alerts = [{incident_id: ev.incident_id, level: ev.level, cell_code: ev.cell_code,
                                at: ev.at, action: ev.action}].concat(live.alerts).slice(0, ALERTS);
                set(p + "-alerts", {data: live.alerts});
            }
        }
        slowSoon();
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        onemap_live: {
            /* cfg: {prefix, url, on, off, ids} from the page's layout; runs on each render of it */
            start: function (cfg) {
                if (!cfg) { return window.dash_clientside.no_update; }
                live.cfg = cfg;
                if (!live.src) {
                    live.opened += 1;
                    live.src = new window.EventSource(cfg.url);
                    live.src.onopen = function () { status(true); };
                    live.src.onmessage = onMessage;
                    live.src.onerror = function () { status(false); };
                } else {
                    setTimeout(function () { status(live.src.readyState === 1); }, 0);
                }
                return live.opened;
            }
        }
    });
})();
